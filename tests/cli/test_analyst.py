"""The result file as an analyst reads it (issue 27, item 26), run by ctest.

Snippets: every Python block of the docs runs verbatim against a freshly written file,
and every group of the file opens with xarray (h5netcdf) on its own, with the values and
number types h5py reads (no column decoded as a time).
PairedDeltas: `summarize --json` compares only numeric columns that vary.

Usage: test_analyst.py SMBSIM_BINARY SOURCE_DIR [unittest args]
"""
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

os.environ["MPLBACKEND"] = "Agg"  # the snippets plot; no display here
import h5py
import numpy as np

SMBSIM = None
SOURCE = None

# A small file with every group the docs describe: uncertain inputs (inputs/), a plan and
# a rule (their outcome columns), a shock (a cause of its own) and paths.
SCENARIO = """\
simulation: {runs: 300, months: 24}
firm: {cash_buffer_days: {dist: uniform, low: 10, high: 60}}
market: {fit: {dist: triangular, low: 0.6, mode: 0.9, high: 1.1}}
shocks:
  - {name: slump, type: demand, rate: 0.05, severity: 0.3, duration: 3}
"""


def run(args, cwd, check=0):
    p = subprocess.run([SMBSIM] + args, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert p.returncode == check, f"exit {p.returncode} for {args}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p


def python_blocks():
    """(doc, block) for every ```python block of README.md and docs/*.md."""
    blocks = []
    for doc in [SOURCE / "README.md"] + sorted((SOURCE / "docs").glob("*.md")):
        for m in re.finditer(r"^```python\n(.*?)^```", doc.read_text(), re.S | re.M):
            blocks.append((doc.name, m.group(1)))
    return blocks


def groups(f):
    """The paths of the file's groups, the root first."""
    found = ["/"]
    f.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Group) else None)
    return found


class Scratch(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="smbsim-analyst-"))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Snippets(Scratch):
    def setUp(self):
        super().setUp()
        (self.dir / "s.yaml").write_text(SCENARIO)
        run(["run", "s.yaml", "--paths", "5", "-q", "-o", "default.h5"], self.dir)
        self.file = self.dir / "default.h5"

    def test_documented_snippets_run_verbatim(self):
        blocks = python_blocks()
        self.assertGreaterEqual(len(blocks), 4, "the docs show how to read the file")
        spaces = []
        with contextlib.chdir(self.dir):
            for doc, code in blocks:
                with self.subTest(doc=doc, code=code.splitlines()[1]):
                    ns = {}
                    exec(compile(code, f"{doc} snippet", "exec"), ns)
                    spaces.append(ns)
        self.check_tables_are_numbers(spaces)

    def check_tables_are_numbers(self, spaces):
        """Every table a snippet builds holds numbers where the file does, equal to h5py's."""
        import pandas as pd
        import xarray as xr
        tables = [v for ns in spaces for v in ns.values() if isinstance(v, (xr.Dataset, pd.DataFrame))]
        self.assertGreaterEqual(len(tables), 4)
        columns = 0
        with h5py.File(self.file) as f:
            days = [name for g in groups(f) for name, d in f[g].items()
                    if isinstance(d, h5py.Dataset) and "buffer_days" in name]
            self.assertGreaterEqual(len(days), 5, "the days columns are in the file")
            for t in tables:
                for name in t.columns if isinstance(t, pd.DataFrame) else t.data_vars:
                    dtype = t[name].dtype
                    self.assertNotIn(dtype.kind, "mM", f"{name} decoded as a time: {dtype}")
                    if "buffer_days" in name:
                        self.assertEqual(dtype, np.float64, name)
                        columns += 1
        self.assertGreaterEqual(columns, 2, "the snippets' tables include days columns")

    def test_every_group_opens_with_xarray_alone(self):
        import xarray as xr
        with h5py.File(self.file) as f:
            paths = groups(f)
            for needed in ("variants/base/outcomes", "variants/base/inputs", "variants/base/monthly",
                           "variants/base/paths"):
                self.assertIn(needed, paths)
            for g in paths:
                with self.subTest(group=g):
                    ds = xr.open_dataset(self.file, group=g, engine="h5netcdf")
                    for name, d in f[g].items():
                        if isinstance(d, h5py.Dataset):
                            self.assert_same(ds[name], d, f"{g}/{name}")
                    ds.close()

    def assert_same(self, seen, stored, where):
        """xarray's values and type are h5py's (strings compared as text)."""
        want = stored[()]
        if stored.dtype.kind == "O" or h5py.check_string_dtype(stored.dtype):
            self.assertEqual([str(x) for x in seen.values], [x.decode() if isinstance(x, bytes) else str(x) for x in want], where)
            return
        self.assertEqual(seen.dtype, stored.dtype, f"{where} ({stored.attrs.get('units')!r})")
        np.testing.assert_array_equal(seen.values, want, err_msg=where)

    def test_days_columns_are_plain_numbers(self):
        import xarray as xr
        with h5py.File(self.file) as f:
            version = f.attrs["format_version"]
            self.assertNotEqual(version, "1.7", "the days units changed on disk: a new minor version")
            outcomes = xr.open_dataset(self.file, group="variants/base/outcomes", engine="h5netcdf")
            inputs = xr.open_dataset(self.file, group="variants/base/inputs", engine="h5netcdf")
            monthly = xr.open_dataset(self.file, group="variants/base/monthly", engine="h5netcdf")
            for seen, stored in [(outcomes.start_buffer_days, f["variants/base/outcomes/start_buffer_days"]),
                                 (inputs["firm.cash_buffer_days"], f["variants/base/inputs/firm.cash_buffer_days"]),
                                 (monthly.buffer_days_mean, f["variants/base/monthly/buffer_days_mean"]),
                                 (monthly.buffer_days_quantiles, f["variants/base/monthly/buffer_days_quantiles"])]:
                self.assertEqual(seen.dtype, np.float64, seen.name)
                np.testing.assert_array_equal(seen.values, stored[()])
                self.assertEqual(seen.attrs["units"], stored.attrs["units"])
            # Row i of an input and of an outcome is run i, in xarray too.
            both = xr.merge([outcomes, inputs])
            np.testing.assert_array_equal(both.run.values, np.arange(300))


def summarize(path):
    return json.loads(run(["summarize", str(path), "--json"], path.parent).stdout)


class PairedDeltas(Scratch):
    """Only numeric columns that vary in at least one arm get a paired difference."""

    def setUp(self):
        super().setUp()
        (self.dir / "v.yaml").write_text(
            "simulation: {runs: 400, months: 36}\n"
            "market: {fit: {dist: uniform, low: 0.7, high: 1.1}}\n"
            "variants:\n  lean: {}\n  padded: {firm: {cash_buffer_days: 90}}\n")
        run(["run", "v.yaml", "-q", "-o", "v.h5"], self.dir)
        self.file = self.dir / "v.h5"

    def constant_in_both(self, f, column):
        """No spread in either variant: one value in every run where defined, or never defined
        (months_to_realign without a disruption)."""
        arms = [f[f"variants/{v}/outcomes/{column}"][()].astype(np.float64) for v in ("lean", "padded")]
        defined = [a[~np.isnan(a)] for a in arms]
        return all(d.size == 0 or d.min() == d.max() for d in defined)

    def test_categorical_and_constant_columns_have_no_delta(self):
        deltas = summarize(self.file)["variants"]["padded"]["paired_deltas"]
        with h5py.File(self.file) as f:
            outcomes = f["variants/padded/outcomes"]
            self.assertIn("flag_values", outcomes["failure_cause"].attrs)
            constant = [c for c in outcomes if c != "run" and self.constant_in_both(f, c)]
            # failure_month (role failure_month) is 0 for survivors: no mean difference of it
            only_failed = [c for c in outcomes if outcomes[c].attrs.get("role") in ("failure_month", b"failure_month")]
            varying = [c for c in outcomes if c != "run" and c not in constant + only_failed and "flag_values" not in outcomes[c].attrs]
        self.assertEqual(only_failed, ["failure_month"])
        self.assertNotIn("failure_month", deltas)
        self.assertIn("start_buffer_days", constant)  # 30 days against 90, in every run
        self.assertNotIn("failure_cause", deltas)
        for c in constant:
            self.assertNotIn(c, deltas)
        self.assertEqual(sorted(deltas), sorted(varying))
        self.assertIn("survived", deltas)
        self.assertIn("market_fit", deltas)  # varies in both arms, equal run by run: a delta of exactly 0
        self.assertEqual(deltas["market_fit"]["mean"], 0)

    def test_categorical_by_attribute_not_by_name(self):
        with h5py.File(self.file, "r+") as f:
            for v in ("lean", "padded"):
                f.move(f"variants/{v}/outcomes/failure_cause", f"variants/{v}/outcomes/cause_code")
        deltas = summarize(self.file)["variants"]["padded"]["paired_deltas"]
        self.assertNotIn("cause_code", deltas)

    def test_files_before_format_1_8_know_failure_cause(self):
        with h5py.File(self.file, "r+") as f:
            f.attrs["format_version"] = "1.7"
            for v in ("lean", "padded"):
                for a in ("flag_values", "flag_meanings"):
                    del f[f"variants/{v}/outcomes/failure_cause"].attrs[a]
        deltas = summarize(self.file)["variants"]["padded"]["paired_deltas"]
        self.assertNotIn("failure_cause", deltas)
        self.assertIn("survived", deltas)


if __name__ == "__main__":
    SMBSIM = os.path.abspath(sys.argv[1])
    SOURCE = Path(sys.argv[2]).resolve()
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=1)
