"""smbsim-report's command line: where smbsim is, the output directory written whole or
not at all, exit codes."""
import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from . import analysis, charts, page
from .data import BadInput, Columns, check_path, load, summarize, sweep_axes
from .entry import EXIT_RUNTIME, one_line, stdout_lost

USAGE = """Charts and a self-contained HTML report from an smbsim result file.

Writes PNG charts and report.html (charts embedded) into DIR (default: FILE's name with
"-report"), a page for a client: the scenario's description, plain-language findings
(worded by `smbsim summarize --json`, the same as the terminal summary, which also gives
every interval on the page), how the firms ended (still trading, insolvent, closed in
good order), what the owner's rules did and how the plans turned out, survival curves
with 95% bands, fan charts of cash, revenue and alignment (one panel per variant), when
firms end and of what, paired differences between variants, a heat map for a
two-parameter sweep, and the scenario with provenance. With --analysis, the charts of
`smbsim sensitivity --json` (tornado, Sobol' indices over time), `smbsim discover --json`
(PRIM trade-off and first box) and `smbsim stress --json` (the stress curve) saved to
files. Labels are plain words with units; the file's column names appear only in the
scenario text at the end.
Exit codes: 0 success, 2 bad input (one line saying what), 1 runtime failure.
"""


def default_smbsim():
    """smbsim beside this program (an installed prefix's bin/), else the source checkout's
    build/smbsim, else the first on PATH."""
    here = Path(sys.argv[0]).resolve().parent
    for candidate in (here / "smbsim", here.parent / "build" / "smbsim"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("smbsim") or "smbsim"


def build(path, analyses, out, smbsim):
    check_path(path)
    # First: smbsim checks the whole file (a damaged one is exit 2 before h5py touches
    # it), and a missing smbsim fails before any chart is drawn.
    summary = summarize(smbsim, path)
    meta, variants = load(path)
    loaded = [analysis.load(a) for a in analyses]  # all checked before any chart is drawn
    drawn = charts.survival(variants, out)
    for q, label, fmt, share in [("cash", "Net cash (USD)", charts.money, False),
                                 ("revenue", "Revenue (USD/month)", charts.money, False),
                                 ("alignment", "Alignment index (0 = none, 1 = full)", lambda x, _=None: f"{x:.3g}", True)]:
        if q in variants[0]:
            drawn += charts.fans(variants, out, q, label, fmt, share)
    drawn += charts.failure_months(variants, summary, out)
    drawn += charts.causes(variants, summary, out)
    drawn += charts.comparison(variants, summary, out)
    axes_info = sweep_axes(variants)
    if axes_info:
        drawn += charts.heatmap(variants, summary, out, axes_info)
    extra = []
    for i, (kind, j) in enumerate(loaded):
        extra += analysis.charts(kind, j, out, i + 1)
    page.write_html(meta, variants, drawn, extra, summary, Columns(path), out)
    return drawn + extra, summary["findings"]


def main(argv):
    p = argparse.ArgumentParser(prog="smbsim-report", description=USAGE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", help="an smbsim result file (.h5)")
    p.add_argument("-o", "--output", metavar="DIR", help="directory to write (default: FILE-report)")
    p.add_argument("--force", action="store_true", help="replace an existing report directory")
    p.add_argument("--analysis", action="append", default=[], metavar="FILE.json",
                   help="the saved --json output of smbsim sensitivity, stress or discover (repeatable)")
    p.add_argument("--smbsim", default=None, metavar="PATH",
                   help="the smbsim program, which words the findings (default: beside this program, "
                        "else the checkout's build/smbsim, else on PATH)")
    a = p.parse_args(argv)
    smbsim = a.smbsim or default_smbsim()
    out = Path(a.output or (str(Path(a.file).with_suffix("")) + "-report"))
    try:
        charts.check_backend()
        if out.exists() and not a.force:
            raise BadInput(f"{out}: directory exists (use --force to replace it)")
        if not out.parent.exists():
            raise BadInput(f"{out}: parent directory {out.parent} does not exist")
        # Build beside the target and move into place only when complete.
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            drawn, notes = build(a.file, a.analysis, tmp, smbsim)
            if out.exists():
                shutil.rmtree(out)
            tmp.rename(out)
            os.chmod(out, 0o755)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
    except BadInput as e:
        print(e, file=sys.stderr)
        return 2
    except (OSError, KeyError, ValueError, RuntimeError) as e:
        print(f"{a.file}: cannot make the report ({one_line(e)})", file=sys.stderr)
        return EXIT_RUNTIME
    return say_written(a.file, out, len(drawn), notes)


def say_written(file, out, charts_drawn, notes):
    """What was written, on stdout; a full or closed stdout is one line and exit 1."""
    try:
        print(f"Wrote {out}/report.html and {charts_drawn} charts")
        for n in notes:
            print(f"  - {n}")
        sys.stdout.flush()
    except OSError as e:
        stdout_lost()
        print(f"{file}: wrote {out}, but cannot write to standard output ({e.strerror})", file=sys.stderr)
        return EXIT_RUNTIME
    return 0
