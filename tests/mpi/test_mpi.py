"""smbsim under mpirun (run by ctest): K ranks write the same datasets as one process,
and a rank that fails or is killed fails the whole job, leaving no file.

Usage: test_mpi.py SMBSIM_BINARY MPIEXEC [unittest args]

Small run counts (a few blocks of 4096 runs) keep each case to seconds on two cores: the
ranks are oversubscribed (--oversubscribe) and, as root, Open MPI must be told that is
intended (OMPI_ALLOW_RUN_AS_ROOT*).
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import h5py

SMBSIM = None
MPIEXEC = None
SOURCE = None
H5DIFF = shutil.which("h5diff")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
# 20000 runs are 5 blocks (the last one partial): 3 ranks take 2, 2 and 1.
RUN = ["--runs", "20000", "--months", "36", "-q"]


def mpirun(np, args, cwd, extra=()):
    return [MPIEXEC, "--oversubscribe", "-np", str(np), *extra, SMBSIM, *args]


def run(cmd, cwd, check=None, timeout=300, env=ENV):
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check is not None:
        assert p.returncode == check, f"exit {p.returncode} for {cmd}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p


def datasets(path):
    out = {}
    with h5py.File(path) as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


class Scratch(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="smbsim-mpi-"))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def assert_same_results(self, plain, other, what):
        """h5diff: every dataset under /variants and its attributes (mean, sem, ...) equal; and the
        raw bytes of every dataset equal (h5diff takes -0.0 for 0.0)."""
        p = subprocess.run([H5DIFF, str(self.dir / plain), str(self.dir / other), "/variants", "/variants"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, f"h5diff {plain} {other} ({what}):\n{p.stdout}{p.stderr}")
        a, b = datasets(self.dir / plain), datasets(self.dir / other)
        self.assertGreater(len(a), 20)
        self.assertEqual(a.keys(), b.keys())
        for name in a:
            if a[name].dtype == object:
                self.assertEqual(a[name].tolist(), b[name].tolist(), f"{name} {what}")
            else:
                self.assertEqual(a[name].tobytes(), b[name].tobytes(), f"{name} differs {what}")

    def assert_nothing_written(self, keep=()):
        self.assertEqual(sorted(p.name for p in self.dir.iterdir() if p.name not in keep), [], "files left behind")


@unittest.skipUnless(H5DIFF, "h5diff (hdf5-tools) is not installed")
class SameBits(Scratch):
    def test_run_on_1_2_and_3_ranks_with_1_and_2_threads(self):
        run([SMBSIM, "run", *RUN, "--paths", "5", "--threads", "2", "-o", "plain.h5"], self.dir, check=0)
        for np in (1, 2, 3):
            for threads in (1, 2):
                name = f"np{np}t{threads}.h5"
                p = run(mpirun(np, ["run", *RUN, "--paths", "5", "--threads", str(threads), "-o", name], self.dir),
                        self.dir, check=0)
                self.assertIn(f"Wrote {name}", p.stdout)
                self.assertEqual(p.stdout.count("Wrote "), 1, "only rank 0 prints")
                self.assert_same_results("plain.h5", name, f"on {np} ranks x {threads} threads")
                with h5py.File(self.dir / name) as f:
                    self.assertEqual((f.attrs["ranks"], f.attrs["threads"]), (np, threads))
        with h5py.File(self.dir / "plain.h5") as f:
            self.assertEqual(f.attrs["ranks"], 1)

    def test_sweep_on_2_and_3_ranks(self):
        sweep = ["sweep", str(SOURCE / "scenarios/default.yaml"), "--grid", "alignment.level=0.3,0.9",
                 "--grid", "firm.size=micro,large", "--runs", "9000", "--months", "24", "-q"]
        run([SMBSIM, *sweep, "-o", "plain.h5"], self.dir, check=0)
        for np in (2, 3):
            name = f"np{np}.h5"
            run(mpirun(np, [*sweep, "--threads", "1", "-o", name], self.dir), self.dir, check=0)
            self.assert_same_results("plain.h5", name, f"sweep on {np} ranks")

    def test_variants_with_plans_and_rules_on_3_ranks(self):
        # Six variants: the ranks go on to the next variant while rank 0 still merges.
        args = ["run", str(SOURCE / "scenarios/cafe.yaml"), "--runs", "9000", "--months", "36", "-q"]
        run([SMBSIM, *args, "-o", "plain.h5"], self.dir, check=0)
        run(mpirun(3, [*args, "--threads", "1", "-o", "np3.h5"], self.dir), self.dir, check=0)
        self.assert_same_results("plain.h5", "np3.h5", "cafe.yaml on 3 ranks")
        with h5py.File(self.dir / "np3.h5") as f:
            self.assertGreaterEqual(len(f["variants"]), 6)

    def test_more_ranks_than_blocks(self):
        # One block: ranks 1 and 2 simulate nothing and send only their end marker.
        args = ["run", "--runs", "3000", "--months", "24", "-q"]
        run([SMBSIM, *args, "-o", "plain.h5"], self.dir, check=0)
        run(mpirun(3, [*args, "--threads", "1", "-o", "np3.h5"], self.dir), self.dir, check=0)
        self.assert_same_results("plain.h5", "np3.h5", "on 3 ranks with one block")


class Analyses(Scratch):
    """sensitivity and stress print JSON: K ranks print the same bytes as one process (the
    sensitivity's own timing, "seconds", aside)."""
    INERT = "automation.dip={dist: uniform, low: 0.05, high: 0.2}"

    def same_output(self, args, cases, strip=lambda text: text):
        """The same bytes on each (ranks, threads) as one process; returns the last job's
        stderr, where SMBSIM_RANK_TIMING makes each rank say what share it took."""
        plain = run([SMBSIM, *args, "--threads", "2"], self.dir, check=0).stdout
        self.assertTrue(plain.startswith("{"), plain)
        for np, threads in cases:
            p = run(mpirun(np, [*args, "--threads", str(threads)], self.dir), self.dir, check=0,
                    env=dict(ENV, SMBSIM_RANK_TIMING="1"))
            self.assertEqual(strip(p.stdout), strip(plain), f"{args[0]} on {np} ranks x {threads} threads")
        return p.stderr

    def assert_shared(self, stderr, np, what, start, count):
        """Each rank took its contiguous share of [start, start + count), as rank_blocks splits it."""
        base, extra = divmod(count, np)
        for r in range(np):
            first = start + r * base + min(r, extra)
            last = first + base + (1 if r < extra else 0) - 1
            self.assertIn(f"rank {r} of {np}: {what} {first}-{last} of", stderr)

    def test_sensitivity_on_1_2_and_3_ranks(self):
        # --precision grows the design from 24 to 48 rows: the second stage's points are
        # split over the ranks again, and rank 0 decides for all.
        args = ["sensitivity", "--set", self.INERT, "--samples", "24", "--precision", "0.001", "--max-samples", "48",
                "--replicates", "10", "--runs", "301", "--months", "24", "--bootstrap", "100", "-q", "--json"]
        without_time = lambda text: re.sub(r'"seconds":[^,}]*', "", text)
        err = self.same_output(args, [(1, 1), (2, 1), (2, 2), (3, 1)], without_time)
        # Two parameters: 4 points a row; 24 rows, then 24 more; the tornado's 5 points.
        self.assert_shared(err, 3, "design points", 0, 96)
        self.assert_shared(err, 3, "design points", 96, 96)
        self.assert_shared(err, 3, "tornado points", 0, 5)
        self.same_output(args + ["--common-runs", "all"], [(3, 1)], without_time)

    def test_stress_on_1_2_and_3_ranks(self):
        scenario = str(SOURCE / "scenarios/default.yaml")
        common = ["--probability", "0.3,0.6", "--runs", "701", "--months", "36", "--json"]
        err = self.same_output(["stress", scenario, "--shock", "recession", *common], [(1, 1), (2, 1), (2, 2), (3, 1)])
        self.assert_shared(err, 3, "runs", 0, 701)
        err = self.same_output(["stress", scenario, "--cash", *common], [(2, 1)])
        self.assert_shared(err, 2, "runs", 0, 701)

    def test_stress_with_more_ranks_than_runs(self):
        # Two runs on three ranks: rank 2 searches none and sends nothing.
        self.same_output(["stress", str(SOURCE / "scenarios/default.yaml"), "--shock", "recession", "--probability",
                          "0.5", "--runs", "2", "--months", "24", "--json"], [(3, 1)])

    def test_bad_input_fails_every_rank_with_one_message(self):
        p = run(mpirun(3, ["sensitivity", "--common-runs", "some"], self.dir), self.dir)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stderr.count("--common-runs"), 1, p.stderr)


class Failures(Scratch):
    def test_bad_input_fails_every_rank_with_one_message(self):
        p = run(mpirun(3, ["run", "--runs", "abc", "-o", "x.h5"], self.dir), self.dir)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stderr.count("--runs abc"), 1, p.stderr)
        self.assert_nothing_written()

    def test_existing_output_stops_every_rank_before_the_run(self):
        (self.dir / "x.h5").write_text("mine")
        p = run(mpirun(2, ["run", *RUN, "-o", "x.h5"], self.dir), self.dir)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stderr.count("file exists"), 1, p.stderr)
        self.assertEqual((self.dir / "x.h5").read_text(), "mine")
        self.assert_nothing_written(keep=("x.h5",))

    def test_a_failing_rank_fails_the_job_and_leaves_no_file(self):
        # Rank 1's spool cannot be created (its TMPDIR is a file): rank 1 says so and the
        # job ends; rank 0, which needs no spool, removes its temporary file.
        (self.dir / "not-a-dir").write_text("")
        p = run(mpirun(2, ["run", *RUN, "--threads", "1", "-o", "x.h5"], self.dir,
                       extra=("-x", f"TMPDIR={self.dir / 'not-a-dir'}")), self.dir)
        self.assertNotEqual(p.returncode, 0, p.stderr)
        self.assertIn("rank 1 of 2: cannot create a spool file", p.stderr)
        self.assert_nothing_written(keep=("not-a-dir",))

    def test_a_killed_rank_fails_the_job_and_leaves_no_file(self):
        cmd = mpirun(2, ["run", "--runs", "3000000", "--threads", "1", "-q", "-o", "x.h5"], self.dir)
        job = subprocess.Popen(cmd, cwd=self.dir, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            victim = None
            deadline = time.time() + 60
            while victim is None and time.time() < deadline:
                time.sleep(0.2)
                victim = rank_process(job.pid, 1)
            self.assertIsNotNone(victim, "rank 1 never started")
            time.sleep(0.5)  # into the run
            self.assertIsNone(job.poll(), "the job ended before rank 1 could be killed")
            os.kill(victim, signal.SIGKILL)
            _, err = job.communicate(timeout=120)
        finally:
            if job.poll() is None:
                job.kill()
        self.assertNotEqual(job.returncode, 0, err)
        self.assertRegex(err, r"rank 1 .*signal 9", err)
        self.assert_nothing_written()


def rank_process(launcher, rank):
    """The PID of the smbsim process of `rank` started by the mpirun with PID `launcher`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == launcher and f"OMPI_COMM_WORLD_RANK={rank}".encode() in environ and "(smbsim)" in stat:
            return int(entry.name)
    return None


if __name__ == "__main__":
    SMBSIM = os.path.abspath(sys.argv[1])
    MPIEXEC = sys.argv[2]
    SOURCE = Path(sys.argv[3]).resolve()
    unittest.main(argv=[sys.argv[0]] + sys.argv[4:], verbosity=1)
