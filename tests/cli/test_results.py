"""Result files are untrusted in every command that reads them (issue 27, items 17-19):
`summarize`, `discover` and `report` read through one guarded reader (a forked child with
a time and memory limit, sizes checked against what the file stores), refuse data kept
outside the file, and refuse files that contradict themselves (run by ctest).

Usage: test_results.py SMBSIM_BINARY SOURCE_DIR [unittest args]
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

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_cli import bit_flipped  # noqa: E402  (the damaged-file generator of cli_DamagedResults)

SMBSIM = None
SOURCE = None
SANITIZED = os.environ.get("SMBSIM_SANITIZED") == "1"
BIG_RUNS = 10**9


def run(args, cwd, check=None, preexec_fn=None):
    p = subprocess.run([SMBSIM] + args, cwd=cwd, capture_output=True, text=True, timeout=600, preexec_fn=preexec_fn)
    if check is not None:
        assert p.returncode == check, f"exit {p.returncode} for {args}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p


def report(args, cwd):
    return subprocess.run(["/usr/bin/python3", str(SOURCE / "tools/smbsim-report"), "--smbsim", SMBSIM, *args],
                          cwd=cwd, capture_output=True, text=True, timeout=600)


class Scratch(unittest.TestCase):
    """A small run of the default scenario (it has uncertain inputs, so `discover` works on
    it), and ways to damage a copy."""

    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="smbsim-results-"))
        run(["run", "-q", "--runs", "300", "--months", "24", "-o", "good.h5"], self.dir, check=0)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def edited(self, edit, name="bad.h5"):
        path = self.dir / name
        shutil.copy(self.dir / "good.h5", path)
        with h5py.File(path, "r+") as f:
            edit(f)
        return path

    def assert_refused(self, args, name, expected, code=2):
        """Exit `code`, nothing on stdout, one line naming the file and saying `expected`."""
        p = run(args, self.dir)
        self.assertEqual(p.returncode, code, f"{args}: {p.stdout[:300]} {p.stderr}")
        self.assertEqual(p.stdout, "", args)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertTrue(p.stderr.startswith(name + ": "), p.stderr)
        for part in expected if isinstance(expected, (list, tuple)) else [expected]:
            self.assertIn(part, p.stderr, args)
        return p

    def assert_report_refused(self, name, expected):
        p = report([name, "-o", "never"], self.dir)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn(expected, p.stderr)
        self.assertFalse((self.dir / "never").exists())

    def assert_every_reader_refuses(self, path, expected):
        for args in (["summarize", path.name], ["summarize", path.name, "--json"], ["discover", path.name],
                     ["discover", path.name, "--json"]):
            with self.subTest(args=args):
                self.assert_refused(args, path.name, expected)
        with self.subTest("report"):
            self.assert_report_refused(path.name, expected)


def declaring_runs(runs):
    """An edit making the file declare `runs` runs per variant while storing the 300 it has:
    per-run datasets recreated at that length with no data stored (HDF5's fill value), the
    monthly counts shifted so that they still agree with each other (as the 165 KB file of
    the issue did: 68 s and 15.6 GB for discover)."""
    def edit(f):
        f.attrs.modify("runs", runs)
        for g in f["variants"].values():
            extra = runs - int(g.attrs["runs"])
            g.attrs.modify("runs", runs)
            m = g["monthly"]
            alive = m["alive"][()] + extra
            m["alive"][...] = alive
            m["survival"][...] = alive / runs
            m["survival_lo"][...] = alive / runs - 1e-6
            m["survival_hi"][...] = np.minimum(alive / runs + 1e-6, 1)
            for group in ("outcomes", "inputs"):
                if group not in g:
                    continue
                for name in list(g[group]):
                    old = g[group][name]
                    attrs = {k: v for k, v in old.attrs.items() if k not in ("DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME")}
                    dtype = old.dtype
                    del g[group][name]
                    d = g[group].create_dataset(name, shape=(runs,), dtype=dtype, chunks=(16384,))
                    for k, v in attrs.items():
                        d.attrs[k] = v
    return edit


def limit_memory():
    """The test's own backstop: 4 GB of address space, so that a reader without a bound
    fails in seconds here instead of taking the machine's memory."""
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


class GuardedReader(Scratch):
    """Item 17: discover (and every reader) is as protected as summarize."""

    def test_discover_reads_the_good_file(self):
        out = json.loads(run(["discover", "good.h5", "--json"], self.dir, check=0).stdout)
        self.assertEqual(out["runs"] + out["runs_left_out"], 300)
        self.assertGreater(len(out["inputs"]), 0)

    def test_bit_flips_never_crash_discover(self):
        path = self.dir / "flipped.h5"
        codes = {}
        for case, damaged in enumerate(bit_flipped((self.dir / "good.h5").read_bytes(), seed=27, cases=150)):
            path.write_bytes(damaged)
            for args in (["discover", path.name], ["discover", path.name, "--json"]):
                p = run(args, self.dir)
                codes[p.returncode] = codes.get(p.returncode, 0) + 1
                self.assertIn(p.returncode, (0, 2), f"case {case} {args}: {p.stderr[-500:]}")
                if p.returncode == 2:
                    self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                    self.assertEqual(p.stdout, "")
        self.assertGreater(codes.get(2, 0), 0)
        self.assertGreater(codes.get(0, 0), 0)

    def test_edited_files_are_refused_by_discover_as_by_summarize(self):
        alive = "variants/base/monthly/alive"
        cases = {
            "alive of shape [24] where [121] belongs": lambda f: f.attrs.modify("months", 121),
            "alive[5] = 300 (runs alive must lie in [0, runs] and never grow)": lambda f: f[alive].__setitem__(5, 300),
            "variants/base attribute runs = 300 where the file says 301": lambda f: f.attrs.modify("runs", 301),
            "survived of shape [299] where [300] belongs": lambda f: (
                f["variants/base/outcomes"].__delitem__("survived"),
                f["variants/base/outcomes"].create_dataset("survived", data=np.ones(299, dtype=np.uint8))),
        }
        for expected, edit in cases.items():
            path = self.edited(edit)
            for args in (["discover", path.name], ["discover", path.name, "--json"]):
                with self.subTest(expected, args=args):
                    self.assert_refused(args, path.name, expected)

    def test_a_file_declaring_a_billion_runs_is_refused_quickly_in_bounded_memory(self):
        path = self.edited(declaring_runs(BIG_RUNS), "big.h5")
        self.assertLess(path.stat().st_size, 1 << 20)
        for args in (["summarize", "big.h5"], ["discover", "big.h5"], ["discover", "big.h5", "--json"]):
            with self.subTest(args=args):
                start = time.monotonic()
                # A fresh Python between, so that its children's peak memory is this command's.
                probe = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
                         "sys.stdout.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) + '\\n' + str(p.returncode)"
                         " + '\\n' + p.stderr)")
                p = subprocess.run(["/usr/bin/python3", "-c", probe, SMBSIM] + args, cwd=self.dir, capture_output=True,
                                   text=True, timeout=600, preexec_fn=None if SANITIZED else limit_memory)
                seconds = time.monotonic() - start
                peak_kb, code, stderr = p.stdout.split("\n", 2)
                self.assertEqual(int(code), 2, stderr)
                self.assertEqual(len(stderr.strip().splitlines()), 1, stderr)
                self.assertTrue(stderr.startswith("big.h5: "), stderr)
                self.assertIn("variants/base/", stderr)
                self.assertIn(f"declares {BIG_RUNS} values", stderr)
                self.assertLess(seconds, 20)
                if not SANITIZED:
                    self.assertLess(int(peak_kb), 300_000, "peak resident memory, KB")
        self.assert_report_refused("big.h5", f"declares {BIG_RUNS} values")

    def test_discover_has_the_time_limit_of_summarize(self):
        (self.dir / "s.yaml").write_text("simulation: {runs: 20, months: 12}\n")
        values = ",".join(str(i / 1000) for i in range(400))
        run(["sweep", "s.yaml", "--grid", f"alignment.level={values}", "-q", "-o", "many.h5"], self.dir, check=0)
        for args in (["discover", "many.h5", "--time-limit", "0.005"], ["discover", "many.h5", "--json", "--time-limit", "0.005"]):
            with self.subTest(args=args):
                start = time.monotonic()
                p = run(args, self.dir, check=1)
                self.assertLess(time.monotonic() - start, 30)
                self.assertEqual(p.stderr, "many.h5: expected to read the result file within 0.005 s (--time-limit), "
                                           "found the read still going; stopped it\n")
                self.assertEqual(p.stdout, "")
        self.assert_refused(["discover", "many.h5", "--time-limit", "0"], "--time-limit", "expected", code=2)


def other_file(directory):
    """A second HDF5 file holding 300 doubles (1000, 1001, ...): what a link or a virtual
    dataset would pull in."""
    with h5py.File(directory / "other.h5", "w") as f:
        f["data"] = np.arange(1000, 1300, dtype="<f8")
    return "other.h5"


class ForeignStorage(Scratch):
    """Item 18: data stored outside the file (external storage, external links, virtual
    datasets) and soft links are refused before any data is read, naming the dataset."""

    def test_external_storage_is_refused(self):
        secret = self.dir / "secret.bin"
        secret.write_bytes(np.arange(2000, 2300, dtype="<f8").tobytes())

        def edit(f):
            d = f.create_dataset("variants/base/inputs/leak", shape=(300,), dtype="<f8",
                                 external=[(str(secret), 0, 300 * 8)])
            d.attrs["units"] = "1"
        path = self.edited(edit)
        self.assert_every_reader_refuses(path, "variants/base/inputs/leak")
        p = run(["discover", path.name, "--json"], self.dir)
        self.assertNotIn("2000", p.stdout + p.stderr)
        self.assertIn("stored in another file (external storage)", p.stderr)

    def test_external_links_are_refused(self):
        name = other_file(self.dir)

        def edit(f):
            f["variants/base/inputs/linked"] = h5py.ExternalLink(name, "/data")
        path = self.edited(edit)
        self.assert_every_reader_refuses(path, "variants/base/inputs/linked")
        self.assertIn("an external link", run(["summarize", path.name], self.dir).stderr)

    def test_an_outcome_column_moved_to_another_file_is_refused(self):
        with h5py.File(self.dir / "good.h5") as g, h5py.File(self.dir / "other.h5", "w") as o:
            column = g["variants/base/outcomes/final_cash"]
            o["final_cash"] = column[()]
            for k, v in column.attrs.items():
                if k != "DIMENSION_LIST":
                    o["final_cash"].attrs[k] = v

        def edit(f):
            del f["variants/base/outcomes/final_cash"]
            f["variants/base/outcomes/final_cash"] = h5py.ExternalLink("other.h5", "/final_cash")
        path = self.edited(edit)
        self.assert_every_reader_refuses(path, "variants/base/outcomes/final_cash")

    def test_soft_links_are_refused(self):
        def edit(f):
            f["variants/base/inputs/soft"] = h5py.SoftLink("/variants/base/outcomes/final_cash")
        path = self.edited(edit)
        self.assert_every_reader_refuses(path, "variants/base/inputs/soft")
        self.assertIn("a soft link", run(["summarize", path.name], self.dir).stderr)

    def test_virtual_datasets_are_refused(self):
        name = other_file(self.dir)

        def edit(f):
            layout = h5py.VirtualLayout(shape=(300,), dtype="<f8")
            layout[:] = h5py.VirtualSource(name, "data", shape=(300,))
            f.create_virtual_dataset("variants/base/inputs/virtual", layout, fillvalue=0)
        path = self.edited(edit)
        self.assert_every_reader_refuses(path, "variants/base/inputs/virtual")
        self.assertIn("a virtual dataset", run(["summarize", path.name], self.dir).stderr)


class Contradictions(Scratch):
    """Item 19: a file that contradicts itself is refused, exit 2, naming what disagrees,
    never printed or drawn."""

    M = "variants/base/monthly/"

    def cases(self):
        m = self.M
        with h5py.File(self.dir / "good.h5") as f:
            alive = f[m + "alive"][()]
            causes = [c.decode() for c in f[m + "cause"][()]]
        self.assertGreater(alive[-1], 0, "the good file has survivors at the end")

        def set_row(name, row, values):
            def edit(f):
                d = f[m + name]
                x = d[()]
                x[row] = values
                d[...] = x
            return edit

        def scale(name, factor):
            def edit(f):
                f[m + name][...] = f[m + name][()] * factor
            return edit

        def more_failures(f):
            x = f[m + "failures"][()]
            x[5, 0] += 1  # failures no longer agree with the alive counts
            f[m + "failures"][...] = x

        def fewer_alive(f):
            x = f[m + "alive"][()]
            x[10:] -= 1  # still never growing, but one run vanished without failing
            f[m + "alive"][...] = x

        with h5py.File(self.dir / "good.h5") as f:
            end = f[m + "cash_quantiles"][()][-1]
        self.assertTrue(np.all(np.diff(end) > 0), end)
        last = len(alive) - 1
        return {
            "descending quantiles": (set_row("cash_quantiles", last, end[::-1]),
                                     [f"cash_quantiles[{last}]", "decrease"]),
            "NaN quantiles beside survivors": (set_row("cash_quantiles", last, np.nan),
                                               [f"cash_quantiles[{last}]", f"{alive[-1]} runs alive"]),
            "failures that disagree with alive": (more_failures, ["alive[5]", "failures"]),
            "alive counts that disagree with failures": (fewer_alive, ["alive[10]", "failures"]),
            "doubled survival": (scale("survival", 2), ["survival[0]", "alive"]),
            "NaN survival": (set_row("survival", 3, np.nan), ["survival[3] = nan"]),
            "inf survival": (set_row("survival", 3, np.inf), ["survival[3] = inf"]),
            "survival band outside [0, 1]": (set_row("survival_hi", 2, 1.5), ["survival_hi[2] = 1.5"]),
            "NaN survival band": (set_row("survival_lo", 2, np.nan), ["survival_lo[2] = nan"]),
            "an infinite mean": (set_row("cash_mean", last, np.inf), [f"cash_mean[{last}] = inf"]),
            "a NaN mean beside survivors": (set_row("revenue_mean", 4, np.nan), ["revenue_mean[4] = nan"]),
            "an infinite column mean": (lambda f: f["variants/base/outcomes/final_cash"].attrs.modify("mean", np.inf),
                                        ["outcomes/final_cash", "mean = inf"]),
            "a share column mean above 1": (lambda f: f["variants/base/outcomes/survived"].attrs.modify("mean", 2.0),
                                            ["outcomes/survived", "mean = 2"]),
            "a quantile interval that misses its quantile": (set_row("cash_quantiles_lo", last, end + 1e6),
                                                            [f"cash_quantiles_lo[{last}]"]),
        }

    def test_each_contradiction_is_refused_by_every_reader(self):
        for what, (edit, expected) in self.cases().items():
            path = self.edited(edit)
            for args in (["summarize", path.name], ["summarize", path.name, "--json"], ["discover", path.name, "--json"]):
                with self.subTest(what, args=args):
                    self.assert_refused(args, path.name, expected)

    def test_the_report_draws_no_contradiction(self):
        for what in ("descending quantiles", "doubled survival", "NaN survival", "inf survival", "NaN survival band"):
            edit, expected = self.cases()[what]
            path = self.edited(edit)
            with self.subTest(what):
                self.assert_report_refused(path.name, expected[0])

    def test_valid_files_of_every_kind_pass(self):
        # Every check holds on what smbsim writes: the scenario library (plans, rules,
        # loans, closures), a sweep, and no survivors at all.
        made = []
        for s in sorted((SOURCE / "scenarios").glob("*.yaml")):
            name = s.stem + ".h5"
            run(["run", str(s), "-q", "--runs", "200", "--months", "60", "-o", name], self.dir, check=0)
            made.append(name)
        (self.dir / "dead.yaml").write_text("simulation: {runs: 50, months: 36}\nfirm: {cash: 0, credit_line: 0, monthly_revenue: 1, fixed_costs: 100000}\n")
        run(["run", "dead.yaml", "-q", "-o", "dead.h5"], self.dir, check=0)
        with h5py.File(self.dir / "dead.h5") as f:
            self.assertEqual(f["variants/base/monthly/alive"][-1], 0, "no survivors: quantiles NaN")
        (self.dir / "g.yaml").write_text("simulation: {runs: 100, months: 24}\n")
        run(["sweep", "g.yaml", "--grid", "alignment.level=0,0.5,1", "-q", "-o", "sweep.h5"], self.dir, check=0)
        for name in made + ["dead.h5", "sweep.h5", "good.h5"]:
            with self.subTest(name):
                run(["summarize", name], self.dir, check=0)
                run(["summarize", name, "--json"], self.dir, check=0)


def forged_big(runs):
    """An edit making the file declare `runs` runs (19 MB for 10**8, like the 23 MB file of
    the review's F5): every per-run dataset chunked, its first 1/1000 written (random
    values), so that each stores more than the 1/1100 of what it declares that the
    storage check asks; the monthly counts and the survival column's mean agree with it."""
    shifted = declaring_runs(runs)

    def edit(f):
        shifted(f)
        rng = np.random.default_rng(5)
        for g in f["variants"].values():
            for group in ("outcomes", "inputs"):
                for name in g.get(group, {}):
                    d = g[group][name]
                    n = max(int(runs / 1000), 1)
                    d[:n] = rng.random(n).astype(d.dtype) if d.dtype.kind == "f" else 0
            # the stored share that survived agrees with the shifted alive count
            g["outcomes/survived"].attrs.modify("mean", g["monthly/alive"][-1] / runs)
    return edit


def limit_memory_to_2gb():
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


class MemoryBound(Scratch):
    """F5: discover computes the memory its analysis needs and refuses above the limit, up
    front, in one line; the guarded child's cap is bounded by physical memory."""

    def test_a_forged_file_of_a_hundred_million_runs_is_refused_up_front(self):
        runs = 10**8
        path = self.edited(forged_big(runs), "big8.h5")
        self.assertLess(path.stat().st_size, 60 << 20)
        for args in (["discover", "big8.h5"], ["discover", "big8.h5", "--json"]):
            with self.subTest(args=args):
                start = time.monotonic()
                p = subprocess.run([SMBSIM] + args, cwd=self.dir, capture_output=True, text=True, timeout=600,
                                   preexec_fn=None if SANITIZED else limit_memory_to_2gb)
                self.assertLess(time.monotonic() - start, 60)
                self.assertIn(p.returncode, (1, 2), p.stderr)
                self.assertEqual(p.stdout, "")
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                self.assertTrue(p.stderr.startswith("big8.h5: "), p.stderr)
                self.assertIn(f"{runs} runs", p.stderr)
                self.assertIn("memory", p.stderr)
                self.assertNotIn("out of memory", p.stderr)

    def test_discover_states_its_memory_limit_in_help(self):
        p = run(["discover", "--help"], self.dir, check=0)
        self.assertIn("--memory-limit", p.stdout)
        self.assert_refused(["discover", "good.h5", "--memory-limit", "0.01"], "good.h5", ["needs", "--memory-limit"])
        run(["discover", "good.h5", "--memory-limit", "1000"], self.dir, check=0)


class ColumnInvariants(Scratch):
    """F6: outcome columns agree with the monthly counts and their own declarations."""

    O = "variants/base/outcomes/"

    def cases(self):
        o, m = self.O, Contradictions.M
        with h5py.File(self.dir / "good.h5") as f:
            months = len(f[m + "alive"])

        def column(name, values, mean=None):
            def edit(f):
                d = f[o + name]
                d[...] = values(d[()])
                if mean is not None:
                    d.attrs.modify("mean", mean(d[()]))
            return edit

        def reversed_levels(f):
            f[m + "quantile"][...] = f[m + "quantile"][()][::-1]

        return {
            # every reader: the stored mean disagrees with alive
            "every run survived (mean too)": (column("survived", lambda x: np.ones_like(x), lambda x: 1.0),
                                              ["outcomes/survived", "mean = 1", "alive"], True),
            "failure_month beyond the horizon": (column("failure_month", lambda x: np.where(x > 0, 5000, 0),
                                                        lambda x: float(x.mean())),
                                                 ["outcomes/failure_month", "[0, %d]" % months], True),
            "failure_cause not a code": (column("failure_cause", lambda x: np.full_like(x, 99), lambda x: 99.0),
                                         ["outcomes/failure_cause", "99"], True),
            "quantile levels reversed": (reversed_levels, ["monthly/quantile", "0.95", "0.05"], True),
            # discover reads the column: the edit of the values alone
            "every run survived (column only)": (column("survived", lambda x: np.ones_like(x)),
                                                 ["outcomes/survived", "alive"], False),
            "failure_month beyond the horizon (column only)": (column("failure_month", lambda x: np.where(x > 0, 5000, 0)),
                                                               ["outcomes/failure_month", "5000"], False),
            "a survivor with a failure month": (column("failure_month", lambda x: np.maximum(x, 1)),
                                                ["outcomes/failure_month", "survived"], False),
            "failure_cause 99 (column only)": (column("failure_cause", lambda x: np.where(x >= 0, 99, x)),
                                               ["outcomes/failure_cause", "99", "flag_values"], False),
        }

    def test_every_reader_refuses_what_it_can_see(self):
        for what, (edit, expected, everyone) in self.cases().items():
            path = self.edited(edit)
            readers = [["discover", path.name], ["discover", path.name, "--json"]]
            if everyone:
                readers += [["summarize", path.name], ["summarize", path.name, "--json"]]
            for args in readers:
                with self.subTest(what, args=args):
                    self.assert_refused(args, path.name, expected)
            if everyone:
                with self.subTest(what, reader="report"):
                    self.assert_report_refused(path.name, expected[0])


class CategoricalAndFailureMonth(Scratch):
    """F10: no paired delta of failure_month (0 for survivors); no comparison on codes."""

    def test_no_paired_delta_of_a_column_defined_only_for_failed_runs(self):
        (self.dir / "v.yaml").write_text("simulation: {runs: 200, months: 24}\nvariants: {a: {}, rich: {firm: {cash: 1e7}}}\n")
        run(["run", "v.yaml", "-q", "-o", "v.h5"], self.dir, check=0)
        j = json.loads(run(["summarize", "v.h5", "--json"], self.dir, check=0).stdout)
        columns = j["variants"]["rich"]["paired_deltas"]
        self.assertIn("final_cash", columns)
        self.assertNotIn("failure_month", columns)

    def test_a_comparison_on_the_categorical_column_is_refused(self):
        for outcome in ("failure_cause<1", "failure_cause>0"):
            with self.subTest(outcome):
                p = run(["discover", "good.h5", "--outcome", outcome], self.dir, check=2)
                self.assertEqual(p.stdout, "")
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                self.assertIn("--outcome " + outcome, p.stderr)
                self.assertIn("categorical", p.stderr)
                self.assertIn("--outcome failure", p.stderr)
        run(["discover", "good.h5", "--outcome", "final_cash<0"], self.dir, check=0)


if __name__ == "__main__":
    SMBSIM = os.path.abspath(sys.argv[1])
    SOURCE = Path(sys.argv[2]).resolve()
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=1)
