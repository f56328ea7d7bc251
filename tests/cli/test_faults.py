"""Faults around the output: a full or closed standard output, a file size limit, an
output directory moved during the run, long output names, and output targets that cannot
be written (issue 27, items 21-25). Run by ctest as faults_CLASS.

Usage: test_faults.py SMBSIM_BINARY SOURCE_DIR [unittest args]
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest
from pathlib import Path

import h5py

from test_cli import Scratch as ScratchDirectory, temporaries, wait_for_temporary

SMBSIM = None
SOURCE = None
NAME_MAX = 255


def default_signals():
    """In the child before exec: SIGPIPE and SIGXFSZ at their defaults (Python ignores both)."""
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)


def run(args, cwd, stdout=subprocess.PIPE, preexec_fn=default_signals, timeout=600):
    return subprocess.run([SMBSIM] + args, cwd=cwd, stdout=stdout, stderr=subprocess.PIPE, text=True,
                          preexec_fn=preexec_fn, timeout=timeout)


def start(args, cwd):
    return subprocess.Popen([SMBSIM] + args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_signals)


def complete(path):
    with h5py.File(path) as f:
        return int(f.attrs["complete"]) == 1


class Scratch(ScratchDirectory):
    def files(self, directory=None):
        return sorted(p.name for p in (directory or self.dir).iterdir())

    def assert_one_line(self, p, code, text):
        self.assertEqual(p.returncode, code, p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn(text, lines[0])


class Stdout(Scratch):
    """Item 21: every command flushes standard output at its end and checks every write; a
    failure is exit 1 and one line. A reader that went away (EPIPE) is quiet."""

    FULL = "smbsim: cannot write to standard output: No space left on device"

    def setUp(self):
        super().setUp()
        (self.dir / "s.yaml").write_text("simulation: {runs: 200, months: 12}\n"
                                         "alignment: {level: {dist: uniform, low: 0.2, high: 0.8}}\n")
        run(["run", "s.yaml", "-q", "-o", "good.h5"], self.dir).check_returncode()

    COMMANDS = [["--help"], ["--version"], ["--list-keys"], ["run", "--help"],
                ["validate", "s.yaml"], ["validate", "s.yaml", "--json"],
                ["summarize", "good.h5"], ["summarize", "good.h5", "--json"],
                ["discover", "good.h5"], ["discover", "good.h5", "--json"],
                ["sweep", "s.yaml", "-q", "--grid", "firm.headcount=3,4", "-o", "sweep.h5"],
                ["demo", "fragility", "-q", "--runs", "100", "--months", "12", "-o", "demo.h5"],
                ["sensitivity", "s.yaml", "--runs", "64"], ["sensitivity", "s.yaml", "--runs", "64", "--json"],
                ["stress", "s.yaml", "--runs", "100", "--shock", "recession", "--probability", "0.5"],
                ["stress", "s.yaml", "--runs", "100", "--cash", "--probability", "0.5", "--json"]]

    def test_every_command_on_a_full_stdout(self):
        for args in self.COMMANDS:
            with self.subTest(args=args), open("/dev/full", "w") as full:
                p = run(args, self.dir, stdout=full)
                self.assertEqual(p.returncode, 1, p.stderr)
                if "-o" in args:  # a command that wrote a result file first says it is kept
                    self.assertRegex(p.stderr, f"^{re.escape(self.FULL)} \\({args[-1]} is complete and kept; .*\\)\n$")
                else:
                    self.assertEqual(p.stderr, self.FULL + "\n")

    def test_run_on_a_full_stdout_keeps_the_complete_file(self):
        # The result file is committed before the summary is printed: it is complete, so it
        # stays, and the line says so. Only the summary is lost (summarize prints it again).
        for args in (["-o", "r.h5"], ["-o", "j.h5", "--json"]):
            with self.subTest(args=args), open("/dev/full", "w") as full:
                p = run(["run", "s.yaml", "-q"] + args, self.dir, stdout=full)
                name = args[1]
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertRegex(p.stderr, f"^{re.escape(self.FULL)} \\({name} is complete and kept; "
                                           f"\\S*smbsim summarize {name} prints its summary\\)\n$")
                self.assertTrue(complete(self.dir / name))
                self.assertEqual(temporaries(self.dir), [])

    def test_report_on_a_full_stdout_keeps_the_report(self):
        env = dict(os.environ, PATH=f"{SOURCE / 'tools'}:{os.environ['PATH']}", MPLBACKEND="Agg")
        with open("/dev/full", "w") as full:
            p = subprocess.run([SMBSIM, "report", "good.h5", "-o", "rep"], cwd=self.dir, stdout=full,
                               stderr=subprocess.PIPE, text=True, env=env, timeout=600)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stderr, "good.h5: wrote rep, but cannot write to standard output "
                                   "(No space left on device)\n")
        self.assertTrue((self.dir / "rep" / "report.html").is_file())

    def test_closed_stdout(self):
        def closed():
            default_signals()
            os.close(1)
        p = run(["validate", "s.yaml"], self.dir, stdout=None, preexec_fn=closed)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stderr, "smbsim: cannot write to standard output: Bad file descriptor\n")

    def test_stdout_past_a_file_size_limit(self):
        # validate prints some 20 KB; a limit of 4 KB on the file it goes to: EFBIG, not SIGXFSZ.
        def limit():
            default_signals()
            import resource
            resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        with open(self.dir / "out.txt", "w") as out:
            p = run(["validate", "s.yaml"], self.dir, stdout=out, preexec_fn=limit)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stderr, "smbsim: cannot write to standard output: File too large\n")

    def closed_pipe(self, args, ignore_sigpipe):
        read_end, write_end = os.pipe()
        os.close(read_end)  # the reader is gone before the first byte

        def signals():
            default_signals()
            if ignore_sigpipe:
                signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        try:
            return run(args, self.dir, stdout=write_end, preexec_fn=signals)
        finally:
            os.close(write_end)

    def test_a_reader_that_went_away_is_quiet(self):
        # As `smbsim validate | head -1`: by default SIGPIPE ends the process, as any filter,
        # and the shell says nothing. With SIGPIPE ignored write(2) fails with EPIPE: exit 1,
        # still without a message (the reader chose to stop), and one attempt, no flood.
        for args in (["validate", "s.yaml"], ["summarize", "good.h5", "--json"]):
            with self.subTest(args=args, sigpipe="default"):
                p = self.closed_pipe(args, ignore_sigpipe=False)
                self.assertEqual(p.returncode, -signal.SIGPIPE, p.stderr)
                self.assertEqual(p.stderr, "")
            with self.subTest(args=args, sigpipe="ignored"):
                p = self.closed_pipe(args, ignore_sigpipe=True)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertEqual(p.stderr, "")

    def test_a_run_whose_reader_went_away_keeps_its_file(self):
        p = self.closed_pipe(["run", "s.yaml", "-q", "-o", "piped.h5"], ignore_sigpipe=True)
        self.assertEqual((p.returncode, p.stderr), (1, ""))
        self.assertTrue(complete(self.dir / "piped.h5"))
        self.assertEqual(temporaries(self.dir), [])


class FileSizeLimit(Scratch):
    """Item 22: under `ulimit -f` a write fails as on a full disk (smbsim ignores SIGXFSZ
    itself): exit 1, one line, no temporary file left."""

    def test_the_issue_command(self):
        p = subprocess.run(["bash", "-c", f"ulimit -f 2000; exec '{SMBSIM}' run --runs 50000 -q -o fs.h5"], cwd=self.dir,
                           capture_output=True, text=True, preexec_fn=default_signals, timeout=600)
        self.assert_one_line(p, 1, "fs.h5: HDF5: cannot")
        self.assertIn("(File too large)", p.stderr)
        self.assertEqual(self.files(), [])

    def test_the_report_tool_gets_sigxfsz_back(self):
        # smbsim ignores SIGXFSZ for itself only: the report tool it starts has the default.
        fake = self.dir / "bin"
        fake.mkdir()
        shutil.copy(SMBSIM, fake / "smbsim")
        tool = fake / "smbsim-report"
        tool.write_text("#!/bin/sh\ngrep SigIgn /proc/self/status\n")
        tool.chmod(0o755)
        p = subprocess.run([str(fake / "smbsim"), "report", "x.h5"], cwd=self.dir, capture_output=True, text=True,
                           preexec_fn=default_signals, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        ignored = int(p.stdout.split()[1], 16)
        self.assertFalse(ignored & (1 << (signal.SIGXFSZ - 1)), p.stdout)


class MovedDirectory(Scratch):
    """Item 23: the writer holds its directory open, so the temporary file is found and
    removed wherever the directory moved; the result appears at the path asked for or
    nowhere."""

    def start_into(self, sub, runs="2000000", extra=()):
        sub.mkdir()
        p = start(["run", "--runs", runs, "-q", "-o", str(sub / "r.h5")] + list(extra), self.dir)
        wait_for_temporary(sub)
        return p

    def test_directory_renamed_during_the_run(self):
        for extra, verb in (([], "move"), (["--force"], "rename")):  # linkat, renameat
            with self.subTest(extra=extra):
                p = self.start_into(self.dir / "out", runs="200000", extra=extra)
                time.sleep(0.2)
                (self.dir / "out").rename(self.dir / "moved")
                _, err = p.communicate(timeout=600)
                self.assertEqual(p.returncode, 1, err)
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertIn(f"r.h5: cannot {verb} the finished file into place: No such file or directory", err)
                self.assertEqual(self.files(self.dir / "moved"), [], "the temporary file is removed where it went")
                self.assertEqual(self.files(), ["moved"])
                (self.dir / "moved").rmdir()

    def test_directory_renamed_and_another_made_in_its_place(self):
        # The path resolves at commit: the new directory at that path gets the file.
        p = self.start_into(self.dir / "out", runs="200000")
        (self.dir / "out").rename(self.dir / "moved")
        (self.dir / "out").mkdir()
        _, err = p.communicate(timeout=600)
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(self.files(self.dir / "moved"), [])
        self.assertTrue(complete(self.dir / "out" / "r.h5"))

    def test_signal_after_the_directory_moved(self):
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            with self.subTest(signal=sig.name):
                p = self.start_into(self.dir / "out")
                (self.dir / "out").rename(self.dir / "moved")
                p.send_signal(sig)
                p.communicate(timeout=60)
                self.assertEqual(p.returncode, -sig)
                self.assertEqual(self.files(self.dir / "moved"), [], "the handler removes it where it went")
                (self.dir / "moved").rmdir()


def long_name(size, letter="n"):
    """A file name of `size` bytes ending in .h5."""
    return letter * (size - 3) + ".h5"


class LongNames(Scratch):
    """Item 24: any legal output name (up to NAME_MAX, 255 bytes) works: the temporary
    name keeps at most 168 bytes of it."""

    def test_names_of_200_230_and_255_bytes(self):
        names = [long_name(200), long_name(230), long_name(NAME_MAX),
                 "é" * 126 + ".h5"]  # 255 bytes of two-byte characters: cut between them
        for name in names:
            with self.subTest(bytes=len(name.encode())):
                p = run(["run", "--runs", "50", "--months", "6", "-q", "-o", name], self.dir)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertTrue(complete(self.dir / name))
                self.assertEqual(self.files(), [name])
                (self.dir / name).unlink()

    def test_a_longer_name_says_so_before_running(self):
        p = run(["run", "--runs", "50", "--months", "6", "-q", "-o", long_name(NAME_MAX + 1)], self.dir)
        self.assert_one_line(p, 1, "File name too long")
        self.assertEqual(self.files(), [])

    def test_sigkill_leftover_of_a_long_name_is_removed_later(self):
        name = long_name(NAME_MAX)
        p = start(["run", "--runs", "2000000", "-q", "-o", name], self.dir)
        [temp] = wait_for_temporary(self.dir)
        p.kill()
        p.communicate(timeout=30)
        self.assertLessEqual(len(temp.encode()), NAME_MAX)
        m = re.fullmatch(r"\.(n+)\.(\d+)\.[0-9a-f]{16}\.[0-9a-f]{32}-\d+\.tmp", temp)
        self.assertIsNotNone(m, temp)
        self.assertEqual(len(m.group(1)), 168, "the name's first 168 bytes")
        self.assertEqual(int(m.group(2)), p.pid)
        # A live writer's temporary of the same long target is kept.
        live = temp.replace(f".{p.pid}.", f".{os.getpid()}.")
        (self.dir / live).write_text("someone else's")
        run(["run", "--runs", "50", "--months", "6", "-q", "-o", name], self.dir).check_returncode()
        self.assertEqual(temporaries(self.dir), [live])
        self.assertTrue(complete(self.dir / name))


class Targets(Scratch):
    """Item 25: what is at the output path is judged before anything runs: a dangling
    symbolic link or a directory there, a missing or unwritable directory. With --force,
    a symbolic link is replaced by the file (what it points to is untouched)."""

    LONG = ["run", "--runs", "2000000", "-q"]  # minutes of work if it ran

    def refused_quickly(self, args, code, text):
        t = time.monotonic()
        p = run(self.LONG + args, self.dir, timeout=120)
        self.assert_one_line(p, code, text)
        self.assertLess(time.monotonic() - t, 20, "refused before running")
        self.assertEqual(temporaries(self.dir), [])
        return p

    def test_dangling_symlink(self):
        (self.dir / "link.h5").symlink_to("nowhere/missing.h5")
        p = self.refused_quickly(["-o", "link.h5"], 2, "link.h5: file exists")
        self.assertIn("a symbolic link to nowhere/missing.h5, which does not exist", p.stderr)
        self.assertTrue((self.dir / "link.h5").is_symlink())

    def test_dangling_symlink_with_force_is_replaced(self):
        (self.dir / "link.h5").symlink_to("missing.h5")
        run(["run", "--runs", "50", "--months", "6", "-q", "-o", "link.h5", "--force"], self.dir).check_returncode()
        self.assertFalse((self.dir / "link.h5").is_symlink())
        self.assertTrue(complete(self.dir / "link.h5"))
        self.assertEqual(self.files(), ["link.h5"])

    def test_symlink_to_a_file_with_force_replaces_the_link_not_the_file(self):
        (self.dir / "precious.h5").write_text("keep me")
        (self.dir / "link.h5").symlink_to("precious.h5")
        self.refused_quickly(["-o", "link.h5"], 2, "link.h5: file exists (use --force to replace it)")
        run(["run", "--runs", "50", "--months", "6", "-q", "-o", "link.h5", "--force"], self.dir).check_returncode()
        self.assertEqual((self.dir / "precious.h5").read_text(), "keep me")
        self.assertFalse((self.dir / "link.h5").is_symlink())
        self.assertTrue(complete(self.dir / "link.h5"))

    def test_directory_at_the_path(self):
        (self.dir / "d.h5").mkdir()
        (self.dir / "ld.h5").symlink_to("d.h5")
        for args in (["-o", "d.h5"], ["-o", "d.h5", "--force"], ["-o", "ld.h5", "--force"]):
            with self.subTest(args=args):
                name = args[1]
                self.refused_quickly(args, 2, f"{name}: expected a file to write, found a directory")
        self.assertTrue((self.dir / "d.h5").is_dir())

    def test_missing_directory(self):
        self.refused_quickly(["-o", "nowhere/x.h5"], 1, "nowhere/x.h5: directory nowhere does not exist")
        (self.dir / "file").write_text("")
        self.refused_quickly(["-o", "file/x.h5"], 1, "file/x.h5: file is not a directory")

    def test_another_users_file_in_a_sticky_directory(self):
        # As in /tmp: --force cannot replace another user's file (rename fails with EPERM).
        setpriv = shutil.which("setpriv")
        if os.geteuid() != 0 or not setpriv:
            self.skipTest("needs root and setpriv to run as another user")
        sticky = self.dir / "sticky"
        sticky.mkdir()
        sticky.chmod(0o1777)
        self.dir.chmod(0o755)
        (sticky / "taken.h5").write_text("root's")
        (sticky / "taken.h5").chmod(0o666)
        p = subprocess.run([setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups", SMBSIM] + self.LONG +
                           ["-o", "taken.h5", "--force"], cwd=sticky, capture_output=True, text=True, timeout=120)
        self.assert_one_line(p, 1, "taken.h5: cannot replace it: it belongs to another user, in a directory with "
                                   "the sticky bit (Operation not permitted)")
        self.assertEqual(self.files(sticky), ["taken.h5"])
        self.assertEqual((sticky / "taken.h5").read_text(), "root's")

    def test_precision_checks_the_target_before_its_pilot(self):
        (self.dir / "link.h5").symlink_to("missing.h5")
        p = run(["run", "--precision", "0.001", "-o", "link.h5"], self.dir, timeout=120)
        self.assert_one_line(p, 2, "link.h5: file exists")
        self.assertEqual(p.stdout, "", "no pilot ran")


if __name__ == "__main__":
    SMBSIM = os.path.abspath(sys.argv[1])
    SOURCE = Path(sys.argv[2]).resolve()
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=1)
