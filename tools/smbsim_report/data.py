"""What the report reads: the summary `smbsim summarize --json` computes (every interval
and paired difference on the page comes from there), the per-month series the file stores
(survival with its band, quantile fans), and, for the few per-plan and per-rule figures
the summary does not hold, outcome columns read in chunks, so memory does not grow with
the number of runs."""
import json
import math
import subprocess
from pathlib import Path

import h5py
import numpy as np
import yaml

from .entry import one_line
from .words import printable

FORMAT_MAJOR = "1"
CHUNK = 1 << 16          # runs read at a time from an outcome column
HELD = 1 << 18           # values held at once when finding an exact quantile
SUMMARIZE_SECONDS = 600  # `smbsim summarize` reads every column once: minutes at 10^8 runs
Z95 = 1.959963984540054
FANS = ("cash", "revenue", "alignment", "profit", "customer_value", "friction", "project_alignment")


# Files before format 1.6 store no role with an outcome column: the firm's columns had
# these roles then (engine/summary.cpp holds the same frozen list).
ROLES_BEFORE_1_6 = {"survived": "survival", "failure_month": "failure_month", "final_cash": "end_value",
                    "cumulative_profit": "profit", "start_buffer_days": "input", "market_fit": "input"}


class BadInput(Exception):
    """The user's input is wrong: one line, exit 2."""


# What h5py raises for a file it cannot read (whatever it still lets through, or a crash
# in libhdf5, the report's reading child turns into the same line: cli.py).
READ_ERRORS = (OSError, KeyError, ValueError, TypeError, IndexError, AttributeError, RuntimeError)


def summarize(smbsim, path):
    """`smbsim summarize --json`, run as a child with a time limit: the findings as it
    words them and every statistic it computes (survival, shares with Wilson intervals,
    causes, paired differences), which the report uses rather than recomputing."""
    try:
        p = subprocess.run([smbsim, "summarize", str(path), "--json"], capture_output=True, text=True,
                           timeout=SUMMARIZE_SECONDS)
    except FileNotFoundError:
        raise BadInput(f"--smbsim: expected the smbsim program, found no file {smbsim} (build it, or pass --smbsim PATH)")
    except PermissionError:
        raise BadInput(f"--smbsim: expected the smbsim program, found {smbsim}, which cannot be run")
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{smbsim} summarize {path} took over {SUMMARIZE_SECONDS} s")
    if p.returncode == 2:  # the file is not a sound result file: its one line says why
        raise BadInput(p.stderr.strip())
    if p.returncode != 0:
        raise RuntimeError(f"{smbsim} summarize {path} failed: {p.stderr.strip()}")
    return json.loads(p.stdout)


def text(value, what):
    """A string of the file as str: bytes that are not UTF-8, or h5py's surrogates for
    them, are damage (ValueError, which load() words), never text passed on to fail later."""
    try:
        s = value.decode("utf-8") if isinstance(value, bytes) else str(value)
        s.encode("utf-8")
        return s
    except UnicodeError:
        raise ValueError(f"{what} is not UTF-8 text") from None


def text_attr(obj, name):
    return text(obj.attrs[name], f"the attribute {name}")


def check_path(path):
    if not Path(path).exists():
        raise BadInput(f"{printable(path)}: no such file")
    if not Path(path).is_file():  # a FIFO would block h5py for ever
        raise BadInput(f"{printable(path)}: expected a result file, found {'a directory' if Path(path).is_dir() else 'a special file'}")


def load(path):
    """The file's attributes and, per variant, its monthly series and outcome column names
    (the columns themselves stay in the file). The file is untrusted: `smbsim summarize`
    has checked it (and survived reading it) before this runs, and whatever h5py still
    refuses is damage too: exit 2 and one line, as `summarize` would."""
    try:
        return read(path)
    except BadInput:
        raise
    except READ_ERRORS as e:
        raise damaged(path, e) from None


def damaged(path, error):
    """The line for a file h5py cannot read although `smbsim summarize` accepted it."""
    return BadInput(f"{printable(path)}: expected a readable smbsim result file, found damage ({printable(one_line(error))})")


def column_roles(outcomes, legacy):
    """{role: (column, units)} of a variant's outcome columns, from their role attributes
    (by name for a file before format 1.6); the first column with a role has it."""
    roles = {}
    for name, d in outcomes.items():
        if name == "run":
            continue
        role = ROLES_BEFORE_1_6.get(name) if legacy else (text_attr(d, "role") if "role" in d.attrs else None)
        if role and role not in roles:
            roles[role] = (name, text_attr(d, "units") if "units" in d.attrs else "")
    return roles


def orderly_causes(monthly, legacy):
    """The causes that are an orderly end, not an insolvency (before format 1.6: `closed`)."""
    if legacy:
        return {"closed"}
    names = [text(c, "a cause's name") for c in monthly["cause"][()]]
    return {c for c, flag in zip(names, monthly["cause_orderly"][()]) if flag == 1}


def read(path):
    check_path(path)
    if not h5py.is_hdf5(path):
        raise BadInput(f"{printable(path)}: expected an smbsim HDF5 result file, found a file that is not HDF5")
    with h5py.File(path, "r") as f:
        if "format" not in f.attrs or text_attr(f, "format") != "smbsim":
            raise BadInput(f"{printable(path)}: expected an smbsim result file, found an HDF5 file without format=\"smbsim\"")
        version = text_attr(f, "format_version")
        if version.split(".")[0] != FORMAT_MAJOR:
            raise BadInput(f"{printable(path)}: expected result format version {FORMAT_MAJOR}.x, found {printable(version)}")
        if int(f.attrs["complete"]) != 1:
            raise BadInput(f"{printable(path)}: expected a complete result file, found one marked incomplete")
        _, _, minor = version.partition(".")
        legacy = not minor.isdigit() or int(minor) < 6
        meta = {k: (text_attr(f, k) if isinstance(f.attrs[k], (str, bytes)) else f.attrs[k].item()) for k in f.attrs}
        variants = []
        for name, g in f["variants"].items():
            name = text(name, "a variant's name")
            m = g["monthly"]
            v = {"name": name, "overrides": text_attr(g, "overrides"), "runs": int(g.attrs["runs"]),
                 "month": m["month"][()], "survival": m["survival"][()],
                 "survival_lo": m["survival_lo"][()], "survival_hi": m["survival_hi"][()],
                 "columns": [k for k in g["outcomes"] if k != "run"],
                 "roles": column_roles(g["outcomes"], legacy),
                 "orderly": orderly_causes(m, legacy)}
            for q in FANS:
                if f"{q}_quantiles" in m:
                    v[q] = m[f"{q}_quantiles"][()]
                    # The median's own 95% interval, month by month.
                    v[q + "_median_ci"] = (m[f"{q}_quantiles_lo"][:, 2], m[f"{q}_quantiles_hi"][:, 2])
            variants.append(v)
    if not variants:
        raise BadInput(f"{printable(path)}: expected at least one variant, found none")
    return meta, variants


class Columns:
    """Outcome columns of one file, read CHUNK runs at a time."""

    def __init__(self, path):
        self.path = path

    def values(self, variant, column, where=None):
        """A function yielding the defined (non-NaN) values of a column chunk by chunk,
        only in runs where the 0/1 column `where` is 1."""
        def read():
            try:
                yield from self.chunks(variant, column, where)
            except READ_ERRORS as e:
                raise damaged(self.path, e) from None
        return read

    def chunks(self, variant, column, where):
        with h5py.File(self.path, "r") as f:
            o = f["variants"][variant]["outcomes"]
            x, mask = o[column], (o[where] if where else None)
            for s in range(0, x.shape[0], CHUNK):
                part = x[s:s + CHUNK].astype(float)
                if mask is not None:
                    part = part[mask[s:s + CHUNK].astype(bool)]
                yield part[~np.isnan(part)]

    def count(self, variant, column, test, where=None):
        """Runs (with `where` = 1) whose value passes test, and how many there were."""
        k = n = 0
        for part in self.values(variant, column, where)():
            k += int(test(part).sum())
            n += part.size
        return k, n


def quantiles(read, qs):
    """Exact quantiles (NumPy's linear interpolation between order statistics) of the
    values `read()` yields, holding at most HELD of them at once."""
    n = sum(part.size for part in read())
    out = []
    for q in qs:
        if n == 0:
            out.append(math.nan)
            continue
        h = (n - 1) * q
        k = math.floor(h)
        a = order_statistic(read, k)
        b = a if h == k else order_statistic(read, min(k + 1, n - 1))
        out.append(a + (h - k) * (b - a))
    return out


def order_statistic(read, k):
    """The k-th smallest value (from 0): narrows a range holding it by 1024-bin histograms,
    one pass each, until the range's values fit in memory."""
    lo, hi, closed = -math.inf, math.inf, True

    def inside(x):
        return x[(x >= lo) & ((x < hi) | (closed & (x <= hi)))]

    below = 0  # values under lo
    for _ in range(64):
        count, vmin, vmax = 0, math.inf, -math.inf
        for part in read():
            x = inside(part)
            if x.size:
                count, vmin, vmax = count + x.size, min(vmin, x.min()), max(vmax, x.max())
        if count <= HELD or vmin == vmax:
            break
        edges = np.linspace(vmin, vmax, 1025)
        hist = np.zeros(1024, dtype=np.int64)
        for part in read():
            x = inside(part)
            hist += np.bincount(np.minimum(np.searchsorted(edges, x, side="right") - 1, 1023), minlength=1024)
        cum = np.cumsum(hist)
        i = int(np.searchsorted(cum, k - below, side="right"))
        below += int(cum[i - 1]) if i else 0
        lo, hi, closed = edges[i], edges[i + 1], i == 1023
    if vmin == vmax:
        return float(vmin)
    held = np.sort(np.concatenate([inside(part) for part in read()]))
    return float(held[k - below])


def scenario_tree(meta):
    """The resolved scenario as a tree (the file stores it as YAML text), or {} if the text
    is not YAML: the report then goes without what it describes. PyYAML is required: a
    machine without it is told so (entry.py), never given a page without the plans."""
    try:
        # libyaml's loader where there is one: a sweep's resolved scenario may be megabytes.
        tree = yaml.load(meta.get("scenario_resolved", ""), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return tree if isinstance(tree, dict) else {}
    except yaml.YAMLError:
        return {}


def sweep_axes(variants):
    """For a two-parameter sweep ("a=1,b=2" names), the two axes and their values."""
    parsed = []
    for v in variants:
        parts = v["name"].split(",")
        if len(parts) != 2 or not all("=" in p for p in parts):
            return None
        parsed.append([tuple(p.split("=", 1)) for p in parts])
    keys = [p[0] for p in parsed[0]]
    if any([p[0] for p in row] != keys for row in parsed):
        return None
    values = [list(dict.fromkeys(row[i][1] for row in parsed)) for i in range(2)]
    if len(values[0]) * len(values[1]) != len(variants):
        return None
    return keys, values
