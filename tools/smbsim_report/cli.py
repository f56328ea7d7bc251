"""smbsim-report's command line: where smbsim is, the output directory written whole or
not at all, exit codes."""
import argparse
import contextlib
import json
import os
import select
import shutil
import signal
import stat
import sys
import tempfile
import time
import warnings
from pathlib import Path

from . import analysis, charts, page
from .data import BadInput, Columns, check_path, damaged, load, summarize, sweep_axes
from .entry import EXIT_RUNTIME, Unforeseen, one_line, stdout_lost
from .words import printable

NAME_MAX = 255          # bytes in a file name (Linux)
TEMPORARY_STEM = 200    # bytes of the target's name in the temporary's: ".NAME.XXXXXXXX" fits NAME_MAX
STOPPING = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
REPORT_SECONDS = 3600   # the whole page, in the reading child: its smbsim summarize has its own limit

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
    p.add_argument("-o", "--output", metavar="DIR", help="directory to write (default: FILE's name with -report, "
                   "cut to 255 bytes)")
    p.add_argument("--force", action="store_true", help="replace an existing report directory, or a symbolic link "
                   "(never a file: that is refused)")
    p.add_argument("--analysis", action="append", default=[], metavar="FILE.json",
                   help="the saved --json output of smbsim sensitivity, stress or discover (repeatable)")
    p.add_argument("--smbsim", default=None, metavar="PATH",
                   help="the smbsim program, which words the findings (default: beside this program, "
                        "else the checkout's build/smbsim, else on PATH)")
    a = p.parse_args(argv)
    smbsim = a.smbsim or default_smbsim()
    try:
        charts.check_backend()
        check_path(a.file)  # a directory (even "/") has no name to make the default from
        out = Path(a.output) if a.output else default_output(a.file)
        check_target(out, a.force)
        # Build beside the target and move into place only when complete.
        tmp = Path(tempfile.mkdtemp(prefix=f".{cut_name(out.name, TEMPORARY_STEM)}.", dir=out.parent))
        try:
            drawn, notes = isolated(a.file, lambda: build(a.file, a.analysis, tmp, smbsim))
            replace(out, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except BadInput as e:
        print(e, file=sys.stderr)
        return 2
    except (OSError, KeyError, ValueError, RuntimeError) as e:
        print(f"{printable(a.file)}: cannot make the report ({printable(one_line(e))})", file=sys.stderr)
        return EXIT_RUNTIME
    return say_written(a.file, out, drawn, notes)


def cut_name(name, limit):
    """name cut to at most `limit` bytes of UTF-8, between characters."""
    data = os.fsencode(name)
    if len(data) <= limit:
        return name
    while limit > 0 and data[limit] & 0xC0 == 0x80:  # not inside a character
        limit -= 1
    return os.fsdecode(data[:limit])


def default_output(file):
    """FILE's name without its suffix, with "-report": a legal name (255 bytes) for any
    legal FILE, its stem cut if need be."""
    path = Path(file).with_suffix("")
    return path.with_name(cut_name(path.name, NAME_MAX - len("-report")) + "-report")


def check_target(out, force):
    """Judge -o before anything is built (as `smbsim run` does its -o): a directory is
    replaced with --force, a symbolic link too (the link, not what it points to), a file
    or a special file never (it is not a report)."""
    if not out.parent.is_dir():
        raise BadInput(f"{printable(out)}: parent directory {printable(out.parent)} does not exist")
    try:
        entry = os.lstat(out)
    except FileNotFoundError:
        return
    except OSError as e:
        raise BadInput(f"{printable(out)}: cannot use this path ({e.strerror})") from None
    if stat.S_ISLNK(entry.st_mode):
        if not force:
            where = os.readlink(out)
            what = "" if out.exists() else ", which does not exist"
            raise BadInput(f"{printable(out)}: file exists: a symbolic link to {printable(where)}{what} "
                           "(use --force to replace the link)")
    elif stat.S_ISDIR(entry.st_mode):
        if not force:
            raise BadInput(f"{printable(out)}: directory exists (use --force to replace it)")
    else:
        kind = "a file" if stat.S_ISREG(entry.st_mode) else "a special file"
        raise BadInput(f"{printable(out)}: expected a report directory to write, found {kind} "
                       "(--force replaces only a directory or a symbolic link)")


def replace(out, tmp):
    """The finished directory into place: over a link, the link goes (its target stays)."""
    if out.is_symlink():
        out.unlink()
    elif out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    os.chmod(out, 0o755)


def isolated(file, work):
    """work() in a forked child with a time limit; its result, or its failure as this
    process would have raised it. The child reads the untrusted file with h5py: a crash
    or abort inside libhdf5 is then the damaged-file line, exit 2, not this process's
    death, and the caller's `finally` still removes the temporary directory."""
    read_end, write_end = os.pipe()
    # Signals wait while forking: a handler's exception inside os.fork's hooks is ignored.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        os.close(read_end)
        in_child(work, write_end)
    os.close(write_end)
    with contextlib.suppress(OSError):  # also here: the group exists before it may be killed
        os.setpgid(child, child)
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING)
        message = receive(read_end, REPORT_SECONDS)
        _, status = os.waitpid(child, 0)
        child = 0
    finally:
        os.close(read_end)
        if child:  # interrupted or timed out: the child and its smbsim go
            with contextlib.suppress(OSError):
                os.killpg(child, signal.SIGKILL)
            os.waitpid(child, 0)
    if message is None:
        raise RuntimeError(f"making the report of {printable(file)} took over {REPORT_SECONDS} s")
    if os.WIFSIGNALED(status) or not message:
        how = (f"reading it ended by {signal.Signals(os.WTERMSIG(status)).name}" if os.WIFSIGNALED(status)
               else f"reading it ended with exit {os.WEXITSTATUS(status)}")
        raise damaged(file, how)
    result = json.loads(message)
    if "bad" in result:
        raise BadInput(result["bad"])
    if "failed" in result:
        raise RuntimeError(result["failed"])
    if "unforeseen" in result:
        raise Unforeseen(result["unforeseen"])
    return result["drawn"], result["notes"]


def in_child(work, write_end):
    """Run work() and send its result (or its one line) to the parent; never return."""
    code = 0
    try:
        os.setpgid(0, 0)  # the parent kills the whole group: this and its smbsim summarize
        for signum in STOPPING:
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING)
        # What the child has to say goes through the pipe; libhdf5's and glibc's own
        # complaints on a damaged file (`*** stack smashing detected ***`) go nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
        warnings.filterwarnings("ignore", message="Glyph .* missing")  # names are escaped; a font lacks a glyph
        try:
            drawn, notes = work()
            result = {"drawn": len(drawn), "notes": notes}
        except BadInput as e:
            result = {"bad": str(e)}
        except (OSError, KeyError, ValueError, RuntimeError) as e:
            result = {"failed": one_line(e)}
        except Exception as e:  # noqa: BLE001 - unforeseen, and still one line
            result = {"unforeseen": f"{type(e).__name__}: {one_line(e)}"}
        with os.fdopen(write_end, "w", encoding="utf-8") as w:
            w.write(json.dumps(result))
    except BaseException:  # noqa: BLE001 - the parent says it: an empty message
        code = EXIT_RUNTIME
    os._exit(code)


def receive(fd, seconds):
    """All the child sends, until it closes the pipe; None if that takes over `seconds`."""
    deadline = time.monotonic() + seconds
    parts = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        part = os.read(fd, 1 << 16)
        if not part:
            return b"".join(parts).decode("utf-8")
        parts.append(part)


def say_written(file, out, charts_drawn, notes):
    """What was written, on stdout; a full or closed stdout is one line and exit 1."""
    try:
        print(f"Wrote {printable(out)}/report.html and {charts_drawn} charts")
        for n in notes:
            print(f"  - {printable(n)}")
        sys.stdout.flush()
    except OSError as e:
        stdout_lost()
        print(f"{printable(file)}: wrote {printable(out)}, but cannot write to standard output ({e.strerror})", file=sys.stderr)
        return EXIT_RUNTIME
    return 0
