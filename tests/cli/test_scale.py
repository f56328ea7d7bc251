"""How the scenario reader scales, and the limits on what it reads (issue 27, items 14-15).

Usage: test_scale.py SMBSIM_BINARY SOURCE_DIR [unittest args]
"""
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

SMBSIM = None
SOURCE = None
CAP = 64 << 20  # kMaxScenarioBytes


def run(args, cwd, check=None, **kwargs):
    p = subprocess.run([SMBSIM] + args, cwd=cwd, capture_output=True, text=True, timeout=600, **kwargs)
    if check is not None:
        assert p.returncode == check, f"exit {p.returncode} for {args}\nstdout: {p.stdout[:2000]}\nstderr: {p.stderr[:2000]}"
    return p


def child_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def peak_memory_mb(args, cwd):
    """Runs smbsim ARGS in a child Python and returns the largest resident memory of its
    children (only smbsim), in MB; fails the test on a nonzero exit."""
    code = ("import resource, subprocess, sys; "
            "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True); "
            "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, repr(p.stderr[:500]))")
    p = subprocess.run([sys.executable, "-c", code, SMBSIM] + args, cwd=cwd, capture_output=True, text=True, timeout=600)
    status, max_rss_kb, err = p.stdout.split(" ", 2)
    assert status == "0", f"exit {status} for {args}: {err}"
    return int(max_rss_kb) / 1024


def many_variants(n, shocks=True):
    """A scenario of n one-line variants with correlations (and, if `shocks`, a shock
    field set by name in every other variant)."""
    lines = ["simulation: {runs: 10, months: 12}",
             "market: {fit: {dist: lognormal, median: 1, sigma: 0.4}, growth: {dist: normal, mean: 0.02, sd: 0.03}}",
             "correlations: [[market.fit, market.growth, 0.5]]"]
    if shocks:
        lines.append("shocks: [{name: slump, type: demand, rate: 0.01, severity: 0.2, duration: 3}]")
    lines.append("variants:")
    for i in range(n):
        field = "shocks.slump.rate" if shocks and i % 2 else "alignment.level"
        lines.append(f"  v{i}: {{{field}: {i / (2 * n):.6f}}}")
    return "\n".join(lines) + "\n"


class Scratch(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="smbsim-scale-"))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Scaling(Scratch):
    def test_validation_with_correlations_is_linear(self):
        # Each variant's resolved tree took the file's `correlations` node (and a shock's
        # field set by name), merging the file's yaml-cpp memory into it: every variant
        # copied all before it. 100 and 400 variants took 0.97 and 16.4 s (x17). CPU time
        # of the child, not wall time, so that a loaded machine does not matter; x8 for
        # four times the variants leaves room for noise and catches quadratic growth.
        def cpu_seconds(n):
            (self.dir / "many.yaml").write_text(many_variants(n))
            before = child_cpu_seconds()
            p = run(["validate", "many.yaml"], self.dir, check=0)
            self.assertIn(f"{n} variant(s)", p.stdout)
            return child_cpu_seconds() - before
        small, large = cpu_seconds(100), cpu_seconds(400)
        self.assertLess(large / small, 8, f"100 variants: {small:.2f} s CPU, 400: {large:.2f} s")

    def test_memory_is_proportional_to_the_file(self):
        # 20,000 one-line variants (740 KB) took 4.3 GB: every variant's resolved tree was
        # held to the end, each holding the file's. Now each variant costs its model
        # specification (~9 KB) and its resolved text (~2.5 KB, kept twice while written):
        # about 450 MB, under 1000 times the file. Not under sanitizers (shadow memory).
        if os.environ.get("SMBSIM_SANITIZED"):
            self.skipTest("resident memory means nothing under ASan")
        path = self.dir / "20000.yaml"
        path.write_text(many_variants(20000, shocks=False))
        size = path.stat().st_size
        mb = peak_memory_mb(["validate", path.name], self.dir)
        self.assertLess(mb * 2**20, 1000 * size, f"{mb:.0f} MB for a {size / 1024:.0f} KB file")

    def test_running_many_variants_does_not_keep_their_memory(self):
        # glibc kept each variant's freed memory in the heap: 500 variants of 10 runs
        # peaked at 181 MB on main (644 MB once the reader emitted a variant at a time),
        # with under 50 MB in use. The run hands it back after each variant: 79 MB. (At 10
        # runs a variant the run's own buffers are small: what grows is what variants
        # leave behind.)
        if os.environ.get("SMBSIM_SANITIZED"):
            self.skipTest("resident memory means nothing under ASan")
        (self.dir / "500.yaml").write_text(many_variants(500, shocks=False))
        mb = peak_memory_mb(["run", "-q", "500.yaml", "--runs", "10", "--months", "12", "--threads", "1", "-o", "out.h5"],
                            self.dir)
        self.assertLess(mb, 130, "MB of peak memory for 500 variants of 10 runs")

    def test_a_shock_field_set_by_name_stays_in_its_variant(self):
        # Copying the shock list with yaml-cpp's `=` rewrote the file's list: variant x's
        # rate reached y, which sets nothing.
        (self.dir / "s.yaml").write_text(
            "simulation: {runs: 10, months: 12}\n"
            "shocks: [{name: slump, type: demand, rate: 0.01, severity: 0.2, duration: 3}]\n"
            "variants:\n  x: {shocks.slump.rate: 0.5}\n  y: {}\n  z: {shocks.slump.rate: 0.25}\n")
        variants = json.loads(run(["validate", "--json", "s.yaml"], self.dir, check=0).stdout)["variants"]
        self.assertEqual({k: v["shocks"][0]["rate"] for k, v in variants.items()}, {"x": 0.5, "y": 0.01, "z": 0.25})
        (self.dir / "d.yaml").write_text("simulation: {runs: 10, months: 12}\n"
                                         "variants:\n  x: {shocks.recession.rate: 0.5}\n  y: {}\n")
        variants = json.loads(run(["validate", "--json", "d.yaml"], self.dir, check=0).stdout)["variants"]
        rate = {k: next(s["rate"] for s in v["shocks"] if s["name"] == "recession") for k, v in variants.items()}
        self.assertEqual(rate["x"], 0.5)
        self.assertNotEqual(rate["y"], 0.5)


class InputLimits(Scratch):
    """Scenario text is read up to 64 MiB: past it, exit 2 with one line naming the input
    and the cap, quickly and in bounded memory."""

    def assert_refused(self, p, name, found):
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertEqual(p.stderr, f"{name}: expected a scenario of at most 64 MiB ({CAP} bytes), found {found}\n")

    def bounded(self, args, **kwargs):
        """Runs smbsim within a minute, and under a 1 GB address-space limit (it took
        5.6 GB in 9 s) unless under ASan (which reserves terabytes of shadow space)."""
        def limit():
            resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        start = time.monotonic()
        p = run(args, self.dir, preexec_fn=None if os.environ.get("SMBSIM_SANITIZED") else limit, **kwargs)
        self.assertLess(time.monotonic() - start, 60)
        return p

    def test_a_device_is_read_up_to_the_cap(self):
        self.assert_refused(self.bounded(["validate", "/dev/zero"]), "/dev/zero", "more")

    def test_an_endless_pipe_is_read_up_to_the_cap(self):
        # `yes '# comment' | smbsim validate -` grew without end.
        yes = subprocess.Popen(["yes", "# comment"], stdout=subprocess.PIPE)
        try:
            p = self.bounded(["validate", "-"], stdin=yes.stdout)
        finally:
            yes.kill()
            yes.wait()
            yes.stdout.close()
        self.assert_refused(p, "<stdin>", "more")

    def test_a_file_over_the_cap_is_refused_by_its_size(self):
        big = self.dir / "big.yaml"
        with open(big, "wb") as f:
            f.truncate(CAP + 1)  # sparse: refused before a byte is read
        for args in (["validate", "big.yaml"], ["run", "big.yaml", "-o", "out.h5"]):
            self.assert_refused(self.bounded(args), "big.yaml", f"{CAP + 1} bytes")
        with open(big, "rb") as f:
            self.assert_refused(self.bounded(["validate", "-"], stdin=f), "<stdin>", f"{CAP + 1} bytes")
        self.assertFalse((self.dir / "out.h5").exists())

    def test_a_file_just_under_the_cap_is_read(self):
        # Passes the size check and is read whole: the NUL bytes after the first line are
        # what is refused, at line 2.
        near = self.dir / "near.yaml"
        with open(near, "wb") as f:
            f.write(b"simulation: {runs: 10}\n")
            f.truncate(CAP - 1024)
        p = self.bounded(["validate", "near.yaml"])
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr, "near.yaml:2:1: expected UTF-8 text, found a NUL byte\n")
        with open(near, "rb") as f:
            p = self.bounded(["validate", "-"], stdin=f)
        self.assertEqual(p.stderr, "<stdin>:2:1: expected UTF-8 text, found a NUL byte\n")

    def test_values_are_counted_before_the_tree_is_built(self):
        # A 6 MB list of 3 million numbers was built whole (1.4 GB) before the cap of
        # 100,000 values refused it; it is now refused while parsing, at the value past it.
        (self.dir / "list.yaml").write_text("firm: {notes: [" + ",".join(["1"] * 3000000) + "]}\n")
        p = self.bounded(["validate", "list.yaml"])
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stderr, "list.yaml:1:200006: expected a scenario of at most 100000 values, found more: "
                                   "a list or map this large\n")

    def test_option_values_are_bounded(self):
        (self.dir / "ok.yaml").write_text("simulation: {runs: 10, months: 12}\n")
        long_value = "firm.notes=" + "x" * (64 << 10)
        p = run(["validate", "ok.yaml", "--set", long_value], self.dir, check=2)
        self.assertEqual(p.stderr.splitlines(), [p.stderr.strip()])
        self.assertIn(f": expected path=value of at most 64 KiB (65536 bytes), found {len(long_value)} bytes", p.stderr)
        self.assertLess(len(p.stderr), 300)
        # Each grid value was compared with all before it: 20,000 values took 10 s.
        start = time.monotonic()
        values = ",".join(str(i) for i in range(20000))
        p = run(["sweep", "ok.yaml", "--grid", "alignment.level=" + values[:60000]], self.dir, check=2)
        self.assertRegex(p.stderr, r"^--grid alignment.level=0,1,2.*\.\.\.: expected at most 400 values, found more\n$")
        p = run(["sweep", "ok.yaml", "--grid", "alignment.level=" + values], self.dir, check=2)
        self.assertIn("expected path=v1,v2,... of at most 64 KiB (65536 bytes)", p.stderr)
        self.assertLess(time.monotonic() - start, 10)


if __name__ == "__main__":
    SMBSIM = os.path.abspath(sys.argv[1])
    SOURCE = Path(sys.argv[2]).resolve()
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=1)
