"""The report tool against untrusted result files and awkward outputs (issue 27's review:
F1 damaged files, F4 names, F7 -o targets, F10 a closed stdout and an empty stress curve).

Usage: test_rguard.py SMBSIM_BINARY SOURCE_DIR [unittest args]
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import h5py

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_cli import bit_flipped  # noqa: E402

SMBSIM = None
SOURCE = None
FLIPPED = 100  # the review met about 1 failure in 15 files summarize accepts; here 5 of 100
EVIL = "\x1b[2J\x1b[31mevil\u202eesab\n FAKE LINE"


def smbsim(args, cwd):
    return subprocess.run([SMBSIM, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def report_command(args):
    return ["/usr/bin/python3", str(SOURCE / "tools/smbsim-report"), "--smbsim", SMBSIM, *args]


def report(args, cwd, **kw):
    return subprocess.run(report_command(args), cwd=cwd, capture_output=True, text=True, timeout=600, **kw)


def read_attributes(path):
    with h5py.File(path, "r") as f:
        for obj in [f] + [f[name] for name in f]:
            for k in obj.attrs:
                obj.attrs[k]


def crashes_h5py(path):
    """Whether reading path's attributes with h5py dies by a signal (in a forked child)."""
    child = os.fork()
    if child == 0:
        os.close(2)  # libhdf5's own complaints
        try:
            read_attributes(path)
        except BaseException:  # noqa: BLE001 - only a signal counts
            pass
        os._exit(0)
    return os.WIFSIGNALED(os.waitpid(child, 0)[1])


def crashing_copy(good, target):
    """target: good with one bit flipped such that h5py segfaults and `smbsim summarize`
    still accepts it; None if no flip in the 4,000 bytes after the root's attribute names
    does (each try takes about 30 ms)."""
    data = good.read_bytes()
    start = data.find(b"scenario_resolved")
    for offset in range(start, min(start + 4000, len(data))):
        d = bytearray(data)
        d[offset] ^= 1
        target.write_bytes(d)
        if crashes_h5py(target) and smbsim(["summarize", target.name], target.parent).returncode == 0:
            return target
    target.unlink()
    return None


class Scratch(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="smbsim-rguard-"))
        p = smbsim(["run", "-q", "--runs", "40", "--months", "12", "-o", "good.h5"], self.dir)
        self.assertEqual(p.returncode, 0, p.stderr)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def assert_one_line(self, p):
        self.assertNotIn("Traceback", p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)


class DamagedFiles(Scratch):
    """F1: every bit-flipped file that `smbsim summarize` accepts gives exit 0 or 2 from the
    report, at most one line, never a crash (the review: 4 in 60 segfaulted or exited 1),
    and no temporary directory is left."""

    def test_bit_flips(self):
        data = (self.dir / "good.h5").read_bytes()
        accepted = []
        for i, d in enumerate(bit_flipped(data, 2727, FLIPPED)):
            path = self.dir / f"f{i}.h5"
            path.write_bytes(d)
            if smbsim(["summarize", path.name], self.dir).returncode == 0:
                accepted.append(path.name)
            else:
                path.unlink()
        self.assertGreater(len(accepted), 30)

        def one(name):
            return name, report([name, "-o", name + ".out"], self.dir)

        with ThreadPoolExecutor(3) as pool:
            results = list(pool.map(one, accepted))
        refused = 0
        for name, p in results:
            with self.subTest(name):
                self.assertIn(p.returncode, (0, 2), p.stderr)
                self.assertNotIn("Traceback", p.stderr)
                self.assertLessEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                if p.returncode == 2:
                    refused += 1
                    self.assertTrue(p.stderr.startswith(name + ": "), p.stderr)
                    self.assertFalse((self.dir / (name + ".out")).exists())
        self.assertEqual([p.name for p in self.dir.iterdir() if p.name.startswith(".")], [])
        print(f"{len(accepted)} of {FLIPPED} accepted by summarize, {refused} refused by the report", file=sys.stderr)

    def test_crash_in_libhdf5(self):
        """A file summarize accepts on which h5py's reading of the attributes dies
        (found by flipping one bit at a time after the root's attribute names): the report
        says so in one line, exit 2, and leaves nothing."""
        path = crashing_copy(self.dir / "good.h5", self.dir / "crash.h5")
        if path is None:
            self.skipTest("no single bit flip crashes libhdf5 on this file any more")
        p = report([path.name, "-o", "out"], self.dir)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertRegex(p.stderr, r"\Acrash\.h5: expected a readable smbsim result file, found damage "
                                   r"\(reading it ended by SIG[A-Z]+\)\n\Z")
        self.assertEqual(sorted(p.name for p in self.dir.iterdir()), ["crash.h5", "good.h5"])

    def test_interrupted(self):
        """SIGTERM while the report is being built: exit 143, no temporary directory left."""
        child = subprocess.Popen(report_command(["good.h5"]), cwd=self.dir, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not any(p.name.startswith(".good-report.") for p in self.dir.iterdir()):
            self.assertLess(time.monotonic(), deadline, "no temporary directory appeared")
            if child.poll() is not None:
                self.fail(f"the report ended before its temporary directory was seen: {child.communicate()}")
            time.sleep(0.01)
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
        self.assertEqual(child.returncode, 128 + signal.SIGTERM, err)
        self.assertEqual(sorted(p.name for p in self.dir.iterdir()), ["good.h5"])


class Names(Scratch):
    """F4: a variant named with escape sequences, a bidi override and a newline is escaped
    on the terminal as smbsim escapes it, and in the page; no matplotlib glyph warning."""

    def test_hostile_variant_name(self):
        with h5py.File(self.dir / "good.h5", "r+") as f:
            f.move("variants/base", "variants/" + EVIL)
        p = report(["good.h5", "-o", "evil"], self.dir)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        for bad in ("\x1b", "\u202e", "\n FAKE LINE"):
            self.assertNotIn(bad, p.stdout)
        self.assertIn(r"\x1b[2J\x1b[31mevil\u202eesab\n FAKE LINE", p.stdout)
        page = (self.dir / "evil/report.html").read_text(encoding="utf-8")
        self.assertFalse("\x1b" in page or "\u202e" in page, "raw escape or bidi control in the page")
        self.assertIn(r"\x1b[2J\x1b[31mevil\u202eesab\n FAKE LINE", page)


class Targets(Scratch):
    """F7: -o of any legal length, a default directory from a long input name, a dangling
    link judged before building, a file at -o named as a file."""

    def test_long_names(self):
        for n in (246, 255):
            p = report(["good.h5", "-o", "r" * n], self.dir)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertTrue((self.dir / ("r" * n) / "report.html").is_file())
        long_input = "i" * 250 + ".h5"
        shutil.copy(self.dir / "good.h5", self.dir / long_input)
        p = report([long_input], self.dir)
        self.assertEqual(p.returncode, 0, p.stderr)
        made = [d for d in self.dir.iterdir() if d.is_dir() and d.name.startswith("iii")]
        self.assertEqual(len(made), 1)
        self.assertTrue(made[0].name.endswith("-report") and len(made[0].name) == 255, made[0].name)

    def test_dangling_link(self):
        (self.dir / "dl.h5").symlink_to("missing")
        started = time.monotonic()
        p = report(["good.h5", "-o", "dl.h5"], self.dir)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assert_one_line(p)
        self.assertIn("dl.h5: file exists: a symbolic link to missing, which does not exist", p.stderr)
        self.assertLess(time.monotonic() - started, 60)
        p = report(["good.h5", "-o", "dl.h5", "--force"], self.dir)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertFalse((self.dir / "dl.h5").is_symlink())
        self.assertTrue((self.dir / "dl.h5/report.html").is_file())
        self.assertFalse((self.dir / "missing").exists())

    def test_input_without_a_name(self):
        """The default directory is made from FILE's name: "/" and "." have none (it was
        `internal error (ValueError ...)`, exit 1)."""
        for name in ("/", "."):
            p = report([name], self.dir)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertEqual(p.stderr, f"{name}: expected a result file, found a directory\n")

    def test_regular_file(self):
        (self.dir / "afile").write_text("keep me")
        for force in ([], ["--force"]):
            p = report(["good.h5", "-o", "afile", *force], self.dir)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assert_one_line(p)
            self.assertIn("afile: expected a report directory to write, found a file", p.stderr)
            self.assertEqual((self.dir / "afile").read_text(), "keep me")
        self.assertEqual(sorted(p.name for p in self.dir.iterdir()), ["afile", "good.h5"])


class Minor(Scratch):
    """F10: a closed stdout is the documented line; a stress curve of nulls no warning."""

    def test_closed_stdout(self):
        p = subprocess.run(report_command(["good.h5", "-o", "shut"]), cwd=self.dir, stdout=None, stderr=subprocess.PIPE,
                           text=True, timeout=600, pass_fds=(), preexec_fn=lambda: __import__("os").close(1))
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stderr, "good.h5: wrote shut, but cannot write to standard output (Bad file descriptor)\n")
        self.assertTrue((self.dir / "shut/report.html").is_file())

    def test_stress_of_nulls(self):
        (self.dir / "rich.yaml").write_text(
            "firm: {cash: 1e10}\nshocks:\n  - {name: s, type: demand, month: 3, severity: 0.2, duration: 6}\n")
        p = smbsim(["stress", "rich.yaml", "--shock", "s", "--probability", "0.5", "--runs", "100", "--json"], self.dir)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('"value":null', p.stdout)
        (self.dir / "st.json").write_text(p.stdout)
        p = report(["good.h5", "--analysis", "st.json"], self.dir)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")


if __name__ == "__main__":
    SMBSIM = str(Path(sys.argv[1]).resolve())
    SOURCE = Path(sys.argv[2]).resolve()
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:])
