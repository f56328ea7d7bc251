"""Integration tests of the smbsim command line (run by ctest).

Usage: test_cli.py SMBSIM_BINARY SOURCE_DIR [unittest args]
"""
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import h5py
import numpy as np

SMBSIM = None
SOURCE = None


def run(args, cwd, check=None, input=""):
    p = subprocess.run([SMBSIM] + args, cwd=cwd, capture_output=True, text=True, timeout=600, input=input)
    if check is not None:
        assert p.returncode == check, f"exit {p.returncode} for {args}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p


class Scratch(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="smbsim-cli-"))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def assert_nothing_written(self, before=()):
        left = sorted(p.name for p in self.dir.iterdir() if p.name not in before)
        self.assertEqual(left, [], "files left behind")


class BadScenarios(Scratch):
    """Every file of the corpus: exit 2, one FILE:LINE:COLUMN line with the message, no output."""

    def test_corpus(self):
        corpus = sorted((SOURCE / "tests/cli/bad_scenarios").glob("*.yaml"))
        self.assertGreaterEqual(len(corpus), 40)
        for path in corpus:
            with self.subTest(path.name):
                expected = path.read_bytes().split(b"\n")[0].decode().removeprefix("# expect: ")
                target = self.dir / path.name
                shutil.copy(path, target)
                try:
                    p = run(["run", path.name, "-o", "out.h5"], self.dir)
                finally:
                    target.unlink()
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertEqual(p.stdout, "")
                lines = p.stderr.strip().splitlines()
                self.assertGreaterEqual(len(lines), 1)
                self.assertTrue(any(expected in line for line in lines), f"{expected!r} not in {p.stderr!r}")
                for line in lines:
                    self.assertRegex(line, r"^" + re.escape(path.name) + r":\d+:\d+: ", "each problem names file:line:column")
                self.assertNotIn("terminate", p.stderr)
                self.assert_nothing_written()
                v = run(["validate", path.name], SOURCE / "tests/cli/bad_scenarios")
                self.assertEqual(v.returncode, 2)


class BadOptions(Scratch):
    def test_corpus(self):
        scenario = self.dir / "ok.yaml"
        scenario.write_text("simulation: {runs: 10, months: 12}\n")
        notes = self.dir / "notes.yaml"
        notes.write_text("not: hdf5\n")
        keep = {"ok.yaml", "notes.yaml"}
        cases = [l for l in (SOURCE / "tests/cli/bad_options.txt").read_text().splitlines() if l and not l.startswith("#")]
        self.assertGreaterEqual(len(cases), 25)
        for case in cases:
            expected, command = case.split("\t")
            args = [a.replace("@S", "ok.yaml").replace("@Y", "notes.yaml") for a in command.split(" ")]
            if args[0] in ("run", "sweep", "demo") and not any(a.startswith("-o") for a in args):
                args += ["-o", "out.h5"]
            with self.subTest(command):
                p = run(args, self.dir)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(expected, p.stderr)
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                self.assertNotIn("terminate", p.stderr)
                self.assert_nothing_written(keep)


class Files(Scratch):
    def test_existing_file_is_never_clobbered(self):
        out = self.dir / "precious.h5"
        out.write_text("keep me")
        p = run(["run", "--runs", "50", "--months", "12", "-o", "precious.h5"], self.dir, check=2)
        self.assertIn("file exists", p.stderr)
        self.assertEqual(out.read_text(), "keep me")
        run(["run", "--runs", "50", "--months", "12", "-o", "precious.h5", "--force"], self.dir, check=0)
        with h5py.File(out) as f:
            self.assertEqual(f.attrs["complete"], 1)

    def test_interrupted_run_leaves_nothing(self):
        p = subprocess.Popen([SMBSIM, "run", "--runs", "5000000", "-o", "big.h5", "-q"], cwd=self.dir,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline and not any(self.dir.glob(".big.h5.*.tmp")):
            time.sleep(0.05)
        self.assertTrue(any(self.dir.glob(".big.h5.*.tmp")), "the run should be writing its temporary file")
        p.send_signal(signal.SIGINT)
        self.assertNotEqual(p.wait(timeout=60), 0)
        self.assert_nothing_written()

    def test_unwritable_output_is_a_runtime_failure(self):
        p = run(["run", "--runs", "10", "--months", "6", "-o", "missing-dir/x.h5"], self.dir, check=1)
        self.assertIn("does not exist", p.stderr)
        self.assert_nothing_written()

    def test_default_output_name_comes_from_the_scenario(self):
        (self.dir / "bakery.yaml").write_text("name: bakery\nsimulation: {runs: 20, months: 6}\n")
        run(["run", "bakery.yaml", "-q"], self.dir, check=0)
        self.assertTrue((self.dir / "bakery.h5").exists())
        run(["run", "-q", "--runs", "20", "--months", "6"], self.dir, check=0)
        self.assertTrue((self.dir / "default.h5").exists())

    @unittest.skipIf(os.environ.get("SMBSIM_SANITIZED"), "ASan's shadow memory and quarantine make RSS meaningless")
    def test_traced_paths_do_not_hold_memory(self):
        # Paths go through a temporary file a tile at a time: 20,000 traced runs (9 x 120
        # doubles each) cost a few tiles' buffers, not the ~180 MB of five blocks' paths
        # in flight that they cost when held in memory; the file is gone at the end.
        def max_rss_mb(paths):
            code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
                    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
            p = subprocess.run([sys.executable, "-c", code, SMBSIM, "run", "-q", "--runs", "40000", "--threads", "2",
                                "--paths", str(paths), "-o", f"p{paths}.h5"], cwd=self.dir, capture_output=True,
                               text=True, env=dict(os.environ, TMPDIR=str(self.dir)), timeout=600)
            self.assertEqual(p.returncode, 0, p.stderr)
            return int(p.stdout.split()[-1]) / 1024
        extra = max_rss_mb(20000) - max_rss_mb(0)
        self.assertLess(extra, 80, f"{extra:.0f} MB more with 20,000 paths")
        self.assertEqual(sorted(f.name for f in self.dir.iterdir()), ["p0.h5", "p20000.h5"])
        with h5py.File(self.dir / "p20000.h5") as f:
            cash = f["variants/base/paths/cash"]
            self.assertEqual(cash.shape, (20000, 120))
            self.assertTrue(np.isfinite(cash[19999, 0]))

    def test_file_layout_and_h5dump(self):
        run(["run", "--runs", "300", "--months", "24", "--paths", "5", "-o", "r.h5"], self.dir, check=0)
        with h5py.File(self.dir / "r.h5") as f:
            for key in ["format", "format_version", "smbsim_version", "git_commit", "seed", "runs", "months",
                        "threads", "started_utc", "finished_utc", "scenario_given", "scenario_resolved", "complete"]:
                self.assertIn(key, f.attrs, key)
            self.assertEqual(f.attrs["format"], "smbsim")
            self.assertRegex(f.attrs["finished_utc"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            base = f["variants/base"]
            self.assertEqual(base["outcomes/survived"].shape, (300,))
            self.assertEqual(base["monthly/survival"].shape, (24,))
            self.assertEqual(base["paths/cash"].shape, (5, 24))
            for name, d in base["monthly"].items():
                self.assertIn("units", d.attrs, name)
                self.assertIn("description", d.attrs, name)
            for name, d in base["outcomes"].items():
                self.assertIn("units", d.attrs, name)
            self.assertIsNotNone(base["outcomes/failure_month"].compression)
        dump = shutil.which("h5dump")
        if dump:
            p = subprocess.run([dump, "-H", str(self.dir / "r.h5")], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)

    def test_money_quantiles_follow_the_scenario_scale(self):
        # Money histograms are placed around the planned monthly revenue, so a one-dollar
        # firm and a 1e6-person x 1e8-USD one get medians as exact as the default's. After
        # one month each outcome column holds that month's value for every survivor.
        for headcount, revenue_per_employee in ((1, 1), (1000000, 100000000)):
            name = f"h{headcount}.h5"
            run(["run", "--set", f"firm.headcount={headcount}", "--set", f"firm.revenue_per_employee={revenue_per_employee}",
                 "--runs", "2000", "--months", "1", "-o", name, "-q"], self.dir, check=0)
            with h5py.File(self.dir / name) as f:
                g = f["variants/base"]
                alive = g["outcomes/survived"][()] == 1
                for quantity, column in (("revenue", "final_revenue"), ("cash", "final_cash"), ("profit", "cumulative_profit")):
                    exact = np.median(g[f"outcomes/{column}"][()][alive])
                    binned = g[f"monthly/{quantity}_quantiles"][0, 2]
                    self.assertLessEqual(abs(binned - exact), 0.05 * abs(exact),
                                         f"median {quantity} at {headcount} x {revenue_per_employee}: {binned:.6g} from the "
                                         f"histogram, {exact:.6g} from the runs")


def datasets(path):
    out = {}
    with h5py.File(path) as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


class Reproducibility(Scratch):
    def test_same_bits_with_1_2_and_16_threads(self):
        sets = {}
        for t in (1, 2, 16):
            run(["run", "--runs", "3000", "--months", "60", "--threads", str(t), "-o", f"t{t}.h5", "-q"], self.dir, check=0)
            sets[t] = datasets(self.dir / f"t{t}.h5")
        for t in (2, 16):
            assert_same_datasets(self, sets[1], sets[t], f"with {t} threads")
        run(["run", "--runs", "3000", "--months", "60", "--seed", "2", "-o", "s2.h5", "-q"], self.dir, check=0)
        other = datasets(self.dir / "s2.h5")
        self.assertNotEqual(other["variants/base/outcomes/failure_month"].tobytes(),
                            sets[1]["variants/base/outcomes/failure_month"].tobytes())


def assert_same_datasets(test, a, b, what):
    test.assertGreater(len(a), 20)
    test.assertEqual(a.keys(), b.keys())
    for name in a:
        if a[name].dtype == object:  # variable-length strings
            test.assertEqual(a[name].tolist(), b[name].tolist(), name)
        else:
            test.assertEqual(a[name].tobytes(), b[name].tobytes(), f"{name} differs {what}")


class CpuPaths(Scratch):
    """The lane loops are compiled for AVX-512, AVX2 and plain x86-64 and chosen at run
    time. Valgrind's virtual CPU has AVX2 but not AVX-512, so on an AVX-512 machine a run
    under valgrind takes the AVX2 code; QEMU's qemu64 CPU has neither SSE4 nor AVX nor
    FMA, so a run under qemu-x86_64 takes the plain x86-64 code (and glibc's non-FMA
    libm). Their results must be the same bits."""

    def test_same_bits_on_the_plain_x86_64_path(self):
        qemu = shutil.which("qemu-x86_64")
        if qemu is None:
            self.skipTest("qemu-user is not installed (tools/install-deps installs it where apt can)")
        # Every mechanism: the default scenario's shocks, a disruption with biased lags,
        # automation, and several variants on common random numbers.
        for scenario, runs in (("default", 3000), ("disruption-wave", 800), ("manufacturer-automation", 800)):
            args = ["run", str(Path(SOURCE) / "scenarios" / f"{scenario}.yaml"), "--runs", str(runs),
                    "--threads", "2", "-q"]
            run(args + ["-o", f"{scenario}-native.h5"], self.dir, check=0)
            p = subprocess.run([qemu, "-cpu", "qemu64", SMBSIM] + args + ["-o", f"{scenario}-x86-64.h5"],
                               cwd=self.dir, capture_output=True, text=True, timeout=600)
            self.assertEqual(p.returncode, 0, p.stderr)
            assert_same_datasets(self, datasets(self.dir / f"{scenario}-native.h5"),
                                 datasets(self.dir / f"{scenario}-x86-64.h5"),
                                 f"between the native and the plain x86-64 code ({scenario})")

    def test_same_bits_on_the_avx512_and_avx2_paths(self):
        valgrind = shutil.which("valgrind")
        self.assertIsNotNone(valgrind, "valgrind is needed (tools/install-deps installs it)")
        if "avx512f" not in Path("/proc/cpuinfo").read_text():
            print("note: this CPU has no AVX-512, so both runs take the same code path")
        args = ["run", "--runs", "600", "--months", "60", "--threads", "1", "-q"]
        run(args + ["-o", "native.h5"], self.dir, check=0)
        p = subprocess.run([valgrind, "-q", "--error-exitcode=99", SMBSIM] + args + ["-o", "emulated.h5"],
                           cwd=self.dir, capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr)
        assert_same_datasets(self, datasets(self.dir / "native.h5"), datasets(self.dir / "emulated.h5"),
                             "between the AVX-512 and AVX2 code")


class Commands(Scratch):
    def test_help_and_version(self):
        for cmd in (["--help"], ["run", "--help"], ["validate", "--help"], ["summarize", "--help"], ["sweep", "--help"],
                    ["demo", "--help"], ["sensitivity", "--help"], ["--version"]):
            p = run(cmd, self.dir, check=0)
            self.assertIn("smbsim", p.stdout)

    def test_bare_smbsim_and_short_version(self):
        p = run([], self.dir, check=2)
        self.assertEqual(p.stdout, "")
        self.assertIn("Usage: smbsim COMMAND", p.stderr)
        self.assertEqual(run(["-V"], self.dir, check=0).stdout, run(["--version"], self.dir, check=0).stdout)

    def test_scenario_from_standard_input(self):
        text = "name: piped\nsimulation: {runs: 200, months: 12}\n"
        (self.dir / "piped.yaml").write_text(text)
        run(["run", "piped.yaml", "-q", "-o", "file.h5"], self.dir, check=0)
        run(["run", "-", "-q", "-o", "stdin.h5"], self.dir, check=0, input=text)
        with h5py.File(self.dir / "file.h5") as a, h5py.File(self.dir / "stdin.h5") as b:
            self.assertTrue(np.array_equal(a["variants/base/outcomes/final_cash"][()],
                                           b["variants/base/outcomes/final_cash"][()]))
            self.assertEqual(a.attrs["scenario_given"], b.attrs["scenario_given"])
        self.assertIn("# <stdin>: valid", run(["validate", "-"], self.dir, check=0, input=text).stdout)
        p = run(["validate", "-"], self.dir, check=2, input="simulation:\n  runs: many\n")
        self.assertRegex(p.stderr, r"^<stdin>:2:\d+: simulation.runs: expected a whole number")
        p = run(["run", "-", "-o", "x.h5"], self.dir, check=2, input="")
        self.assertEqual(p.stderr, "<stdin>: expected a scenario on standard input, found nothing\n")

    def test_run_and_sweep_json_is_what_summarize_json_prints(self):
        (self.dir / "s.yaml").write_text("simulation: {runs: 300, months: 24}\n")
        for cmd in (["run", "s.yaml"], ["sweep", "s.yaml", "--grid", "alignment.level=0.2,0.8"]):
            with self.subTest(cmd[0]):
                p = run(cmd + ["--json", "-q", "-o", cmd[0] + ".h5"], self.dir, check=0)
                self.assertEqual(p.stdout, run(["summarize", cmd[0] + ".h5", "--json"], self.dir, check=0).stdout)
                json.loads(p.stdout)
        p = run(["run", "--precision", "0.1", "--months", "12", "--json", "-q", "-o", "p.h5"], self.dir, check=0)
        self.assertIn("needs", p.stderr)
        json.loads(p.stdout)

    def test_precision_picks_the_run_count(self):
        p = run(["run", "--precision", "0.03", "--months", "60", "-o", "p.h5", "-q"], self.dir, check=0)
        self.assertIn("needs", p.stdout)
        with h5py.File(self.dir / "p.h5") as f:
            m = f["variants/base/monthly"]
            half = (m["survival_hi"][-1] - m["survival_lo"][-1]) / 2
            self.assertLessEqual(half, 0.03 * 1.05)  # the pilot's estimate, not the final one, set the count
            self.assertGreater(half, 0.03 * 0.5)       # and it did not overshoot wildly

    def test_validate_prints_the_resolved_scenario(self):
        p = run(["validate", "--set", "alignment.level=0.4"], self.dir, check=0)
        self.assertIn("level: 0.4", p.stdout)
        self.assertIn("cash_buffer_days: {dist: triangular, low: 5, mode: 20, high: 80}", p.stdout)

    def test_validate_shows_the_books_in_dollars(self):
        # Shares or USD, validate prints the books an advisor checks against the statements.
        cafe = str(SOURCE / "scenarios/cafe.yaml")
        text = run(["validate", cafe], self.dir).stdout
        books = text[text.index("# the books of second_site+cut"):]
        for expected in ["$45,000/month", "60.0% of revenue", "$14,000/month", "$4,000/month", "$2,000/month",
                         "$25,000 (20 days of outflows)", "$20,000 at 11.0%/year", "second_site in month 9",
                         "financed by $80,000 at 9.0%/year over 60 months: $1,661/month",
                         "cut_spending: when runway_months < 0.75, capability budget -50%, owner's salary -50%",
                         "95.0% of each month's profit while cash is above $11,400 (firm.reserve_months 0.3",
                         "price elasticity       3.46: how customers answer a rule's price change (derived"]:
            self.assertIn(expected, books)
        j = json.loads(run(["validate", cafe, "--json"], self.dir).stdout)["books"]
        self.assertEqual(j["as_is"]["monthly_revenue"], 45000)
        self.assertEqual(j["as_is"]["cash"], 25000)
        self.assertAlmostEqual(j["as_is"]["gross_margin"], 0.6)
        self.assertEqual([p["name"] for p in j["second_site+cut"]["plans"]], ["second_site"])
        self.assertEqual(j["second_site+cut"]["rules"][0]["when"], "runway_months < 0.75")
        # The resolved scenario reads back as it is (no share beside the key in USD that
        # replaced it).
        resolved = text[text.index("\n") + 1:text.index("\n\n# the books of")]
        (self.dir / "resolved.yaml").write_text(resolved)
        run(["validate", "resolved.yaml"], self.dir)
        # The default scenario, written in shares, shows its dollars too.
        shares = json.loads(run(["validate", "--json"], self.dir).stdout)["books"]["base"]
        self.assertEqual(shares["monthly_revenue"], 144000)
        self.assertAlmostEqual(shares["fixed_costs"], 43200)

    def test_summary_tells_what_plans_and_rules_did(self):
        p = run(["run", str(SOURCE / "scenarios/cafe.yaml"), "--runs", "300", "-o", "cafe.h5"], self.dir)
        self.assertIn("== second_site+cut  (plans: second_site; rules: cut_spending)", p.stdout)
        self.assertIn("== second_site  (plans: second_site)\n", p.stdout)  # a block of YAML, shortened
        self.assertRegex(p.stdout, r"plan second_site: started in [\d.]+% \[[\d.]+, [\d.]+\] of runs")
        self.assertRegex(p.stdout, r"rule cut_spending: fired in [\d.]+% \[[\d.]+, [\d.]+\] of runs")
        self.assertIn("revenue    at month 60 (survivors, USD/month)", p.stdout)
        self.assertNotIn("lost_segment", p.stdout)  # plain labels
        closing = "rules: [{name: shut, when: runway_months < 0.5 and month > 12, do: close}]\n"
        thin = "firm: {credit_limit_months: 0.5, segments: 2}\n"  # a start-up's: some close with cash left, some cannot
        (self.dir / "closing.yaml").write_text("simulation: {runs: 400, months: 60}\n" + thin + closing)
        p = run(["run", "closing.yaml", "-o", "closing.h5"], self.dir)
        self.assertRegex(p.stdout, r"failures +\d+ of 400 \(\d+ insolvent, \d+ closed in good order\)")
        self.assertIn("closed in good order", p.stdout)

    def test_json_is_valid_for_any_input_text(self):
        # Tabs, newlines, quotes, backslashes, a control character and non-ASCII in names
        # and descriptions: validate --json and summarize --json still parse.
        name = 'tab\there "q" back\\slash é \x01'
        (self.dir / "odd.yaml").write_bytes(
            ('name: "tab\\there \\"q\\" back\\\\slash é \\x01"\ndescription: "line\\nbreak"\n'
             'simulation: {runs: 50, months: 12}\n').encode())
        j = json.loads(run(["validate", "odd.yaml", "--json"], self.dir).stdout)
        self.assertEqual(j["name"], name)
        self.assertEqual(j["description"], "line\nbreak")
        run(["run", "odd.yaml", "-o", "odd.h5", "-q"], self.dir)
        s = json.loads(run(["summarize", "odd.h5", "--json"], self.dir).stdout)
        self.assertEqual(s["scenario"], name)

    def test_summarize_json(self):
        (self.dir / "v.yaml").write_text(
            "simulation: {runs: 2000, months: 36}\nvariants:\n  as_executed: {}\n  as_written: {alignment.level: 1.0}\n")
        run(["run", "v.yaml", "-o", "v.h5", "-q"], self.dir, check=0)
        s = json.loads(run(["summarize", "v.h5", "--json"], self.dir, check=0).stdout)
        self.assertEqual(list(s["variants"]), ["as_executed", "as_written"])
        v = s["variants"]["as_executed"]
        self.assertEqual(v["runs"], 2000)
        self.assertEqual(set(v["survival"]), {"12", "24", "end"})
        for key in ("p", "lo", "hi"):
            self.assertIn(key, v["survival"]["end"])
        self.assertLessEqual(v["survival"]["end"]["lo"], v["survival"]["end"]["p"])
        self.assertAlmostEqual(sum(v["failure_causes"].values()), 1.0, places=9)
        d = s["variants"]["as_written"]["paired_deltas"]["survived"]
        self.assertGreater(d["lo"], 0, "full alignment must survive better, with a CI above zero")
        text = run(["summarize", "v.h5"], self.dir, check=0).stdout
        self.assertIn("as_written gains", text)

    def test_column_means_are_stored_and_match_the_columns(self):
        # Each outcome column carries its mean, standard error and defined-run count; the
        # summary reads them, and computes the same from the column in files without them.
        run(["run", "--runs", "5000", "--months", "60", "-o", "m.h5", "-q"], self.dir, check=0)
        shutil.copy(self.dir / "m.h5", self.dir / "old.h5")
        with h5py.File(self.dir / "m.h5") as f, h5py.File(self.dir / "old.h5", "r+") as old:
            for name, d in f["variants/base/outcomes"].items():
                if name == "run":
                    continue
                x = d[()].astype(float)
                x = x[~np.isnan(x)]
                self.assertEqual(d.attrs["defined_runs"], len(x), name)
                if len(x) > 1:
                    self.assertTrue(np.isclose(d.attrs["mean"], x.mean(), rtol=1e-12, atol=1e-12), name)
                    self.assertTrue(np.isclose(d.attrs["sem"], x.std(ddof=1) / np.sqrt(len(x)), rtol=1e-9), name)
                for key in ("defined_runs", "mean", "sem"):
                    del old[f"variants/base/outcomes/{name}"].attrs[key]
        new = json.loads(run(["summarize", "m.h5", "--json"], self.dir, check=0).stdout)["variants"]["base"]["kpis"]
        old = json.loads(run(["summarize", "old.h5", "--json"], self.dir, check=0).stdout)["variants"]["base"]["kpis"]
        self.assertEqual(set(new), set(old))
        for name in new:
            self.assertEqual(new[name]["n"], old[name]["n"], name)
            for key in ("mean", "sem"):
                if new[name][key] is None:
                    self.assertIsNone(old[name][key], name)
                else:
                    self.assertTrue(np.isclose(new[name][key], old[name][key], rtol=1e-12, atol=1e-15), name)

    @staticmethod
    def make_old_style(path):
        """The file as format 1.5 wrote it: no column roles or KPI labels, no cause_orderly
        (its columns: drop_later_columns first)."""
        with h5py.File(path, "r+") as f:
            f.attrs["format_version"] = "1.5"
            for g in f["variants"].values():
                del g["monthly/cause_orderly"]
                for d in g["outcomes"].values():
                    for key in ("role", "kpi_label"):
                        if key in d.attrs:
                            del d.attrs[key]

    @staticmethod
    def drop_later_columns(path):
        """Removes the columns added after format 1.5 (1.7: failed_initiatives), so that the
        file and its old-style copy hold the same columns."""
        with h5py.File(path, "r+") as f:
            for g in f["variants"].values():
                del g["outcomes/failed_initiatives"]

    def summaries(self, name):
        text = run(["summarize", name], self.dir, check=0).stdout
        j = json.loads(run(["summarize", name, "--json"], self.dir, check=0).stdout)
        j.pop("file")
        return text, j

    def test_orderly_causes_are_marked_in_the_file(self):
        closing = "rules: [{name: shut, when: runway_months < 0.5 and month > 12, do: close}]\n"
        (self.dir / "c.yaml").write_text("simulation: {runs: 400, months: 60}\nfirm: {credit_limit_months: 0.5, segments: 2}\n" + closing)
        run(["run", "c.yaml", "-o", "new.h5", "-q"], self.dir, check=0)
        self.drop_later_columns(self.dir / "new.h5")
        for name in ("old.h5", "unmarked.h5"):
            shutil.copy(self.dir / "new.h5", self.dir / name)
        self.make_old_style(self.dir / "old.h5")
        with h5py.File(self.dir / "unmarked.h5", "r+") as f:
            causes = [c.decode() for c in f["variants/base/monthly/cause"][()]]
            self.assertEqual([c for c, o in zip(causes, f["variants/base/monthly/cause_orderly"][()]) if o], ["closed"])
            f["variants/base/monthly/cause_orderly"][...] = 0
        new_text, new_json = self.summaries("new.h5")
        self.assertIn("closed in good order", new_text)
        self.assertEqual(self.summaries("old.h5"), (new_text, new_json))
        text, j = self.summaries("unmarked.h5")  # nothing marked orderly: every end an insolvency
        self.assertNotIn("in good order", text)
        self.assertEqual(j["variants"]["base"]["endings"]["closed"]["p"], 0)

    def test_summaries_read_column_roles_not_names(self):
        # The file marks the headline columns (docs/output-format.md): a file without the
        # marks (format 1.5) summarizes as before, and one whose columns are renamed keeps
        # its paired survival and profit lines, its KPIs and its 0/1 shares.
        p = run(["run", str(SOURCE / "scenarios/cafe.yaml"), "--runs", "300", "-o", "new.h5", "-q"], self.dir, check=0)
        self.drop_later_columns(self.dir / "new.h5")
        for name in ("old.h5", "renamed.h5"):
            shutil.copy(self.dir / "new.h5", self.dir / name)
        with h5py.File(self.dir / "new.h5") as f:
            o = f["variants/as_is/outcomes"]
            self.assertEqual(o["survived"].attrs["role"], "survival")
            self.assertEqual(o["cumulative_profit"].attrs["role"], "profit")
            self.assertEqual(o["mean_alignment"].attrs["kpi_label"], "alignment")
            self.assertNotIn("role", o["final_revenue"].attrs)
        self.make_old_style(self.dir / "old.h5")
        # (a moved column goes last; the last KPI column keeps the KPI line's order)
        renames = {"survived": "alive_at_end", "cumulative_profit": "money_made", "months_to_realign": "realign_months"}
        with h5py.File(self.dir / "renamed.h5", "r+") as f:
            for g in f["variants"].values():
                for old, new in renames.items():
                    if old in g["outcomes"]:
                        g["outcomes"].move(old, new)
        new_text, new_json = self.summaries("new.h5")
        old_text, old_json = self.summaries("old.h5")
        self.assertEqual(new_text, old_text)
        self.assertEqual(new_json, old_json)
        self.assertIn("survival", new_text.split("vs as_is")[1])
        renamed_text, renamed_json = self.summaries("renamed.h5")
        self.assertEqual(renamed_text.replace("money made", "cumulative profit"), new_text)
        v, r = new_json["variants"]["second_site+cut"], renamed_json["variants"]["second_site+cut"]
        self.assertEqual(r["paired_deltas"]["alive_at_end"], v["paired_deltas"]["survived"])
        self.assertEqual(r["kpis"]["alive_at_end"]["share"], v["kpis"]["survived"]["share"])
        self.assertEqual(renamed_json["findings"], new_json["findings"])

    def test_sweep_two_parameters_prints_a_grid(self):
        (self.dir / "s.yaml").write_text("simulation: {runs: 500, months: 24}\n")
        p = run(["sweep", "s.yaml", "--grid", "alignment.level=0.2,0.9", "--grid", "firm.size=micro,large", "-o", "g.h5", "-q"],
                self.dir, check=0)
        self.assertIn("alignment.level \\ firm.size", p.stdout)
        with h5py.File(self.dir / "g.h5") as f:
            self.assertEqual(len(f["variants"]), 4)
            self.assertIn("alignment.level=0.2,firm.size=micro", f["variants"])

    def test_demo_tells_the_story(self):
        p = run(["demo", "fragility", "--runs", "400", "-o", "frag.h5"], self.dir, check=0)
        for size in ("micro", "small", "medium", "large"):
            self.assertIn(size, p.stdout)
        self.assertIn(" report frag.h5 -o fragility-report", p.stdout)
        self.assertIn("micro firms survive", p.stdout)
        self.assertIn("flops per micro firm", " ".join(p.stdout.split()))  # the story reads failed_initiatives
        self.assertTrue((self.dir / "frag.h5").exists())


class Sensitivity(Scratch):
    """smbsim sensitivity on small designs (docs/sensitivity.md); the estimators
    themselves are tested against closed forms in tests/test_sobol.cpp."""
    INERT = "automation.dip={dist: uniform, low: 0.05, high: 0.2}"
    SMALL = ["--samples", "64", "--replicates", "48", "--runs", "600", "--months", "36", "--bootstrap", "200", "-q"]

    def sensitivity(self, extra):
        p = run(["sensitivity"] + self.SMALL + extra, self.dir, check=0)
        return p.stdout

    def test_json_indices_curve_and_tornado(self):
        out = json.loads(self.sensitivity(["--json", "--set", self.INERT]))
        params = [p["path"] for p in out["parameters"]]
        self.assertEqual(params, ["firm.cash_buffer_days", "automation.dip"])
        self.assertEqual(sorted(out["indices"]),
                         ["failure_month", "final_cash", "survival_12", "survival_24", "survival_36"])
        self.assertEqual(out["design"]["points"], 64 * 4)
        self.assertEqual(out["design"]["runs"], 64 * 4 * 48)
        for name, by_param in out["indices"].items():
            for path in params:
                for kind in ("first", "total"):
                    iv = by_param[path][kind]
                    self.assertLessEqual(iv["lo"], iv["hi"], (name, path, kind))
            # No automation is scheduled: the dip changes nothing, and on common random
            # numbers its design points are the same runs, so its indices are exactly 0.
            self.assertEqual(by_param["automation.dip"]["total"], {"value": 0.0, "lo": 0.0, "hi": 0.0}, name)
            self.assertEqual(by_param["automation.dip"]["first"]["value"], 0.0, name)
            # The founders' capital is all there is to explain.
            self.assertGreater(by_param["firm.cash_buffer_days"]["total"]["value"], 0.8, name)
            o = out["outputs"][name]
            self.assertTrue(0 < o["randomness"]["value"] <= 1, name)
        self.assertEqual(out["design"]["common_runs"], "row")
        self.assertEqual(out["curve"]["months"], list(range(1, 37)))
        self.assertEqual(len(out["curve"]["indices"]["firm.cash_buffer_days"]["total"]["value"]), 36)
        bars = out["tornado"]["outputs"]["survival_36"]["bars"]
        self.assertEqual(bars[0]["parameter"], "firm.cash_buffer_days")  # sorted by swing
        self.assertGreater(bars[0]["swing"]["lo"], 0)  # more capital, more survivors
        self.assertLess(bars[0]["low_value"], bars[0]["high_value"])
        self.assertEqual(bars[1]["swing"], {"value": 0.0, "lo": 0.0, "hi": 0.0})

    def test_every_point_on_the_same_runs(self):
        # --common-runs all: the design before each row had its own runs; the inert
        # parameter is still exactly 0, and the intervals resample blocks of runs too.
        out = json.loads(self.sensitivity(["--json", "--set", self.INERT, "--common-runs", "all"]))
        self.assertEqual(out["design"]["common_runs"], "all")
        for name, by_param in out["indices"].items():
            self.assertEqual(by_param["automation.dip"]["total"], {"value": 0.0, "lo": 0.0, "hi": 0.0}, name)
            self.assertGreater(by_param["firm.cash_buffer_days"]["total"]["value"], 0.8, name)

    def test_a_design_point_is_the_variant_that_set_makes(self):
        # The tornado's centre has every parameter at its median: the same runs as
        # `smbsim run --set path=median`, so the same survival to the last bit.
        out = json.loads(self.sensitivity(["--json"]))
        median = out["parameters"][0]["median"]
        run(["run", "--runs", "600", "--months", "36", "--set", f"firm.cash_buffer_days={median!r}", "-o", "m.h5", "-q"],
            self.dir, check=0)
        with h5py.File(self.dir / "m.h5") as f:
            survival = f["variants/base/monthly/survival"][-1]
        self.assertEqual(out["tornado"]["outputs"]["survival_36"]["center"], survival)

    def test_same_numbers_with_1_and_2_threads_and_a_table_for_people(self):
        one = json.loads(self.sensitivity(["--json", "--threads", "1"]))
        two = json.loads(self.sensitivity(["--json", "--threads", "2"]))
        one["design"].pop("seconds")
        two["design"].pop("seconds")
        self.assertEqual(one, two)
        text = self.sensitivity(["--precision", "0.4", "--design", "random"])
        for part in ("Total-order Sobol' indices", "First-order indices", "runs' own randomness", "replicate noise",
                     "Tornado: survival to month 36", "firm.cash_buffer_days", "precision: total-index intervals within"):
            self.assertIn(part, text)


    def test_correlated_inputs_are_refused_unless_ignored_and_then_said(self):
        # Sobol' indices need independent inputs: a scenario with correlations is refused
        # (one line, exit 2) unless --ignore-correlations, which the output then reports.
        (self.dir / "c.yaml").write_text(DESIGNED.replace("SAMPLING", "random"))
        small = ["--samples", "16", "--replicates", "8", "--runs", "50", "--months", "12", "--bootstrap", "100", "-q"]
        p = run(["sensitivity", "c.yaml"] + small, self.dir, check=2)
        self.assertEqual(p.stdout, "")
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        for part in ("correlations", "[market.fit, firm.cash_buffer_days, -0.6]", "--ignore-correlations"):
            self.assertIn(part, p.stderr)
        out = json.loads(run(["sensitivity", "c.yaml", "--json", "--ignore-correlations"] + small, self.dir, check=0).stdout)
        self.assertIs(out["correlations_ignored"], True)
        self.assertEqual(out["ignored_correlations"], [["market.fit", "firm.cash_buffer_days", -0.6]])
        text = run(["sensitivity", "c.yaml", "--ignore-correlations"] + small, self.dir, check=0).stdout
        self.assertIn("correlations IGNORED", text)
        self.assertIs(json.loads(self.sensitivity(["--json"]))["correlations_ignored"], False)


    def test_a_variant_without_distributions_points_to_those_with_some(self):
        # The cafe's first variant has none; its plans' variants do: say which, and how.
        p = run(["sensitivity", str(SOURCE / "scenarios/cafe.yaml")], self.dir, check=2)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn("in variant as_is, found none: choose a variant that has some with --variant (second_site, "
                      "online_ordering, second_site+cut, online_ordering+cut)", p.stderr)


class ScenarioLibrary(Scratch):
    def test_every_scenario_validates_and_runs(self):
        files = sorted((SOURCE / "scenarios").glob("*.yaml"))
        self.assertGreaterEqual(len(files), 2)
        for path in files:
            with self.subTest(path.name):
                run(["validate", str(path)], self.dir, check=0)
                run(["run", str(path), "--runs", "200", "-o", path.stem + ".h5", "-q"], self.dir, check=0)


# The signals that end a run by default: each removes the temporary file first, then ends
# the run the way it would have (docs/output-format.md).
CLEANED_UP = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE, signal.SIGUSR1, signal.SIGUSR2,
              signal.SIGALRM, signal.SIGQUIT]


def spearman(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


DESIGNED = """simulation: {runs: 2000, months: 24, sampling: SAMPLING}
firm: {cash_buffer_days: {dist: uniform, low: 10, high: 60}}
market:
  fit: {dist: lognormal, median: 1, sigma: 0.3}
  growth: {dist: normal, mean: 0.02, sd: 0.05}
plans:
  - {name: site, month: 3, revenue: {dist: triangular, low: 0, mode: 5000, high: 9000}}
correlations:
  - [market.fit, firm.cash_buffer_days, -0.6]
"""


class Inputs(Scratch):
    """Per-run inputs in the file; designs, correlations; shocks reached by name."""

    def test_inputs_are_stored_per_run_with_units_and_the_run_scale(self):
        (self.dir / "d.yaml").write_text(DESIGNED.replace("SAMPLING", "lhs"))
        run(["run", "d.yaml", "-o", "d.h5", "-q"], self.dir, check=0)
        with h5py.File(self.dir / "d.h5") as f:
            self.assertEqual(f.attrs["format_version"], "1.8")
            g = f["variants/base/inputs"]
            # The group's own run scale (since 1.8), equal to outcomes/run.
            self.assertEqual(g["run"][()].tolist(), list(range(2000)))
            self.assertEqual(sorted(g), ["firm.cash_buffer_days", "market.fit", "market.growth", "plans.site.revenue", "run"])
            self.assertEqual(g.attrs["sampling"], "lhs")
            self.assertEqual(g.attrs["design_runs"], 2000)
            self.assertEqual(list(g.attrs["correlations"]), ["market.fit firm.cash_buffer_days -0.59999999999999998"])
            for name, d in g.items():
                if h5py.h5ds.is_scale(d.id):
                    continue
                self.assertEqual(d.shape, (2000,), name)
                self.assertEqual(d.dtype, np.float64, name)
                for key in ("units", "description", "distribution"):
                    self.assertIn(key, d.attrs, name)
                self.assertEqual(list(d.dims[0].keys()), ["run"], name)
                self.assertEqual(d.dims[0]["run"], g["run"], name)
            self.assertEqual(g["firm.cash_buffer_days"].attrs["units"], "day")
            self.assertEqual(g["plans.site.revenue"].attrs["distribution"], "triangular(low=0, mode=5000, high=9000)")
            cash = g["firm.cash_buffer_days"][()]
            # One run per stratum of the uniform input, and the requested rank correlation
            # (n = 2000: Spearman's sd is about 0.015).
            strata = np.minimum(((cash - 10) / 50 * 2000).astype(int), 1999)
            self.assertEqual(len(set(strata)), 2000)
            self.assertAlmostEqual(spearman(g["market.fit"][()], cash), -0.6, delta=0.05)
            # The inputs pair with the outcomes: cash at the start, in days, is the input.
            np.testing.assert_allclose(f["variants/base/outcomes/start_buffer_days"][()], cash, rtol=1e-12)
        # A scenario with nothing uncertain has no inputs group.
        run(["run", "--set", "firm.cash_buffer_days=20", "--runs", "100", "--months", "6", "-o", "f.h5", "-q"], self.dir, check=0)
        with h5py.File(self.dir / "f.h5") as f:
            self.assertNotIn("inputs", f["variants/base"])

    def test_designs_are_the_same_with_any_threads(self):
        for sampling in ("random", "lhs", "sobol"):
            (self.dir / "d.yaml").write_text(DESIGNED.replace("SAMPLING", sampling))
            sets = {}
            for t in (1, 2):
                run(["run", "d.yaml", "--threads", str(t), "-o", f"{sampling}{t}.h5", "-q"], self.dir, check=0)
                sets[t] = datasets(self.dir / f"{sampling}{t}.h5")
            assert_same_datasets(self, sets[1], sets[2], f"{sampling} with 2 threads")

    def test_the_default_design_draws_what_it_always_drew(self):
        # `sampling: random` without correlations: the same bits as no `sampling` at all.
        run(["run", "--runs", "1000", "--months", "24", "-o", "a.h5", "-q"], self.dir, check=0)
        run(["run", "--runs", "1000", "--months", "24", "--set", "simulation.sampling=random", "-o", "b.h5", "-q"], self.dir,
            check=0)
        a, b = datasets(self.dir / "a.h5"), datasets(self.dir / "b.h5")
        for name in a:
            if a[name].dtype != object:
                self.assertEqual(a[name].tobytes(), b[name].tobytes(), name)
        self.assertIn("variants/base/inputs/firm.cash_buffer_days", a)
        with h5py.File(self.dir / "a.h5") as f:
            self.assertEqual(f["variants/base/inputs"].attrs["sampling"], "random")
            self.assertNotIn("correlations", f["variants/base/inputs"].attrs)

    def test_shock_fields_by_name_in_set_and_grid(self):
        p = run(["validate", "--set", "shocks.recession.severity=0.4"], self.dir, check=0)
        self.assertRegex(p.stdout, r"name: recession[^-]*severity: 0\.4")
        (self.dir / "s.yaml").write_text("simulation: {runs: 2000, months: 60}\n")
        run(["sweep", "s.yaml", "--grid", "shocks.recession.rate=0.05,2", "-o", "g.h5", "-q"], self.dir, check=0)
        with h5py.File(self.dir / "g.h5") as f:
            names = list(f["variants"])
            self.assertEqual(names, ["shocks.recession.rate=0.05", "shocks.recession.rate=2"])
            survival = [f[f"variants/{n}/monthly/survival"][-1] for n in names]
            self.assertGreater(survival[0], survival[1] + 0.05, "more recessions, fewer survivors")
        p = run(["run", "--set", "shocks.recesion.rate=0.1"], self.dir, check=2)
        self.assertIn("--set shocks.recesion.rate=0.1: shocks.recesion.rate: unknown shock recesion (did you mean recession?)",
                      p.stderr)


def default_signals():
    """In the child before exec: every signal at its default, none blocked, no core files."""
    for sig in CLEANED_UP:
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def start(args, cwd):
    return subprocess.Popen([SMBSIM] + args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, preexec_fn=default_signals)


def temporaries(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def wait_for_temporary(directory, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        names = temporaries(directory)
        if names:
            return names
    raise AssertionError("the run never wrote its temporary file")


class Signals(Scratch):
    # Moments after spawning: seconds, "temp" (as soon as the temporary file shows) and
    # "mid" (a while into the run). The temporary appears some 10-20 ms after spawning.
    MOMENTS = [0, 0.002, 0.005, 0.01, 0.015, 0.02, "temp", "mid"]

    def empty(self):
        for p in self.dir.iterdir():
            p.unlink()

    def test_any_signal_at_any_moment_leaves_nothing(self):
        for sig in CLEANED_UP:
            for moment in self.MOMENTS:
                with self.subTest(signal=sig.name, moment=moment):
                    p = start(["run", "--runs", "2000000", "-o", "big.h5", "-q"], self.dir)
                    try:
                        if moment in ("temp", "mid"):
                            wait_for_temporary(self.dir)
                            if moment == "mid":
                                time.sleep(0.2)
                        elif moment:
                            time.sleep(moment)
                        p.send_signal(sig)
                        _, err = p.communicate(timeout=30)
                        self.assertEqual(p.returncode, -sig, f"should die by {sig.name}: {err}")
                        self.assert_nothing_written()
                    finally:
                        if p.poll() is None:
                            p.kill()
                            p.wait()
                        self.empty()

    def test_sigkill_leaves_a_temporary_that_a_later_run_removes(self):
        p = start(["run", "--runs", "2000000", "-o", "big.h5", "-q"], self.dir)
        [name] = wait_for_temporary(self.dir)
        p.kill()
        p.wait(timeout=30)
        # .NAME.PID.TOKEN.BOOT-PIDNS.tmp: the owner's PID, 64 random bits, the kernel's boot
        # id and the owner's PID namespace.
        m = re.fullmatch(r"\.big\.h5\.(\d+)\.([0-9a-f]{16})\.([0-9a-f]{32})-(\d+)\.tmp", name)
        self.assertIsNotNone(m, name)
        pid, token, boot, pidns = m.groups()
        self.assertEqual(int(pid), p.pid)
        self.assertEqual(boot, Path("/proc/sys/kernel/random/boot_id").read_text().strip().replace("-", ""))
        self.assertEqual(pidns, re.search(r"\d+", os.readlink("/proc/self/ns/pid")).group())
        self.assertEqual(temporaries(self.dir), [name], "SIGKILL cannot be caught: the temporary stays")
        # Look-alikes that a later run must keep: a live owner, another machine (or boot),
        # another PID namespace, another target, and a name it did not write.
        other_boot = "0" * 32 if boot != "0" * 32 else "1" * 32
        keep = [f".big.h5.{os.getpid()}.{token}.{boot}-{pidns}.tmp",
                f".big.h5.{pid}.{token}.{other_boot}-{pidns}.tmp",
                f".big.h5.{pid}.{token}.{boot}-{int(pidns) + 1}.tmp",
                f".other.h5.{pid}.{token}.{boot}-{pidns}.tmp",
                f".big.h5.{pid}.tmp"]
        for k in keep:
            (self.dir / k).write_text("someone else's")
        run(["run", "--runs", "100", "--months", "12", "-o", "big.h5", "-q"], self.dir, check=0)
        self.assertNotIn(name, temporaries(self.dir), "the dead run's temporary is removed")
        self.assertEqual(temporaries(self.dir), sorted(keep))
        with h5py.File(self.dir / "big.h5") as f:
            self.assertEqual(f.attrs["complete"], 1)


class ConcurrentWriters(Scratch):
    RUNS = "100000"

    def finish(self, procs):
        results = []
        for p in procs:
            _, err = p.communicate(timeout=120)
            results.append((p.returncode, err))
        return results

    def assert_one_complete_file(self):
        self.assertEqual(temporaries(self.dir), [])
        self.assertEqual(sorted(p.name for p in self.dir.iterdir()), ["same.h5"])
        with h5py.File(self.dir / "same.h5") as f:
            self.assertEqual(f.attrs["complete"], 1)
            self.assertEqual(f.attrs["runs"], int(self.RUNS))
            self.assertEqual(f["variants/base/outcomes/survived"].shape, (int(self.RUNS),))
            return int(f.attrs["seed"])

    def test_forced_runs_to_one_target_each_end_complete(self):
        for stagger in (0, 0.01, 0.3):
            with self.subTest(stagger=stagger):
                a = start(["run", "--runs", self.RUNS, "--seed", "1", "-o", "same.h5", "--force", "-q"], self.dir)
                time.sleep(stagger)
                b = start(["run", "--runs", self.RUNS, "--seed", "2", "-o", "same.h5", "--force", "-q"], self.dir)
                for rc, err in self.finish([a, b]):
                    self.assertEqual(rc, 0, err)
                self.assertIn(self.assert_one_complete_file(), (1, 2))

    def test_unforced_runs_to_one_target_one_wins_the_other_says_so(self):
        a = start(["run", "--runs", self.RUNS, "--seed", "1", "-o", "same.h5", "-q"], self.dir)
        b = start(["run", "--runs", self.RUNS, "--seed", "2", "-o", "same.h5", "-q"], self.dir)
        results = self.finish([a, b])
        winners = [seed for seed, (rc, _) in zip((1, 2), results) if rc == 0]
        self.assertEqual(len(winners), 1, results)
        for rc, err in results:
            if rc != 0:
                self.assertEqual(rc, 2, err)
                self.assertRegex(err, "file (exists|appeared while running)")
        self.assertEqual(self.assert_one_complete_file(), winners[0])

    def test_runs_in_two_pid_namespaces_do_not_share_a_temporary(self):
        # Two containers on one volume: both runs are PID 1 in their own namespace.
        unshare = shutil.which("unshare")
        if not unshare or subprocess.run([unshare, "--pid", "--fork", "true"], capture_output=True).returncode:
            self.skipTest("cannot make a PID namespace here")
        procs = [subprocess.Popen([unshare, "--pid", "--fork", SMBSIM, "run", "--runs", self.RUNS, "--seed", str(seed),
                                   "-o", "same.h5", "--force", "-q"], cwd=self.dir, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
        for rc, err in self.finish(procs):
            self.assertEqual(rc, 0, err)
        self.assertIn(self.assert_one_complete_file(), (1, 2))


class FullDisk(Scratch):
    """A write that fails (a full disk, a file size limit): one line with the OS's reason,
    exit 1, no temporary file left, an older --force target intact, no HDF5 dump."""

    def assert_clean_failure(self, p, directory, reason, keep=()):
        self.assertEqual(p.returncode, 1, p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn(reason, lines[0])
        self.assertNotIn("HDF5-DIAG", p.stderr)
        self.assertEqual(sorted(f.name for f in directory.iterdir()), sorted(keep), "files left behind")

    def test_file_size_limit(self):
        # RLIMIT_FSIZE with SIGXFSZ at its default (smbsim ignores it itself): write(2) fails
        # with EFBIG, as on a full disk it fails with ENOSPC. Two threads: the writer stage
        # runs on a worker thread.
        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
            resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
        (self.dir / "old.h5").write_text("an older result")
        p = subprocess.run([SMBSIM, "run", "-q", "--runs", "50000", "--threads", "2", "-o", "old.h5", "--force"],
                           cwd=self.dir, capture_output=True, text=True, preexec_fn=limit, timeout=600)
        self.assert_clean_failure(p, self.dir, "File too large", keep=["old.h5"])
        self.assertIn("old.h5: HDF5: cannot", p.stderr)
        self.assertEqual((self.dir / "old.h5").read_text(), "an older result")

    def test_full_disk(self):
        disk = self.dir / "disk"
        disk.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True).returncode:
            self.skipTest("cannot mount a small tmpfs here (needs root)")
        try:
            for extra in ([], ["--paths", "400"]):  # fails in a column write; in the final flush
                with self.subTest(extra=extra):
                    p = run(["run", "-q", "--runs", "20000", "-o", str(disk / "r.h5")] + extra, self.dir)
                    self.assert_clean_failure(p, disk, "No space left on device")
        finally:
            subprocess.run(["umount", str(disk)], check=True)


def bit_flipped(data, seed, cases):
    """`cases` copies of `data`, each with 1, 2, 4 or 8 random bits flipped (deterministic
    per seed): damaged result files (also used by test_results.py)."""
    rng = np.random.default_rng(seed)
    for _ in range(cases):
        d = bytearray(data)
        for _ in range(int(rng.choice([1, 2, 4, 8]))):
            k = int(rng.integers(len(d)))
            d[k] ^= 1 << int(rng.integers(8))
        yield bytes(d)


class DamagedResults(Scratch):
    """Result files are untrusted: edited attributes, reshaped datasets, bit flips, pipes.
    summarize exits 0 or 2 with one line naming the file, never crashes or hangs."""

    def setUp(self):
        super().setUp()
        run(["run", "-q", "--runs", "300", "--months", "24", "-o", "good.h5"], self.dir, check=0)

    def edited(self, edit):
        path = self.dir / "bad.h5"
        shutil.copy(self.dir / "good.h5", path)
        with h5py.File(path, "r+") as f:
            edit(f)
        return path

    def assert_refused(self, path, expected):
        p = run(["summarize", path.name], self.dir)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertTrue(p.stderr.startswith(path.name + ": "), p.stderr)
        self.assertIn(expected, p.stderr)

    def test_edited_attributes_and_shapes(self):
        def reshape(name, shape):
            def edit(f):
                old = f[name][()]
                del f[name]
                f[name] = np.resize(old, shape)
            return edit
        alive = "variants/base/monthly/alive"
        cases = {
            "months = 0, outside [1, 1200]": lambda f: f.attrs.modify("months", 0),
            "months = -1, outside [1, 1200]": lambda f: f.attrs.modify("months", -1),
            "alive of shape [24] where [121] belongs": lambda f: f.attrs.modify("months", 121),
            "alive of shape [24] where [1000] belongs": lambda f: f.attrs.modify("months", 1000),
            "alive of shape [24] where [12] belongs": lambda f: f.attrs.modify("months", 12),
            "variants/base attribute runs = 300 where the file says 301": lambda f: f.attrs.modify("runs", 301),
            "attribute months that is not one whole number": lambda f: (f.attrs.__delitem__("months"),
                                                                        f.attrs.__setitem__("months", "24")),
            "alive of shape [30] where [24] belongs": reshape(alive, (30,)),
            "failures of shape [24, 2] where": reshape("variants/base/monthly/failures", (24, 2)),
            "cash_quantiles of shape [24, 4] where [24, 5] belongs": reshape("variants/base/monthly/cash_quantiles", (24, 4)),
            "survived of shape [299] where [300] belongs": reshape("variants/base/outcomes/survived", (299,)),
            "alive[0] = 301": lambda f: f[alive].__setitem__(0, 301),
            "alive[5] = 300 (runs alive must lie in [0, runs] and never grow)": lambda f: f[alive].__setitem__(5, 300),
            "defined_runs = 1000, outside [0, 300]": lambda f: f["variants/base/outcomes/survived"].attrs.modify("defined_runs", 1000),
            "no variants": lambda f: [f["variants"].__delitem__(k) for k in list(f["variants"])],
            "without attribute overrides": lambda f: f["variants/base"].attrs.__delitem__("overrides"),
            "marked incomplete": lambda f: f.attrs.modify("complete", 0),
            # A bit flip once made this length 2^51: read whole, it ran out of memory (exit 1).
            # Since issue 27 refused before any read: it declares more than it stores.
            "monthly/cause, which declares 1099511627776 values": lambda f: (
                f["variants/base/monthly"].__delitem__("cause"),
                f["variants/base/monthly"].create_dataset("cause", shape=(2**40,), chunks=(1024,),
                                                          dtype=h5py.string_dtype())),
        }
        for expected, edit in cases.items():
            with self.subTest(expected):
                self.assert_refused(self.edited(edit), expected)

    def test_bit_flips_never_crash(self):
        path = self.dir / "flipped.h5"
        codes = {}
        for damaged in bit_flipped((self.dir / "good.h5").read_bytes(), seed=7, cases=150):
            path.write_bytes(damaged)
            p = run(["summarize", path.name], self.dir)
            codes[p.returncode] = codes.get(p.returncode, 0) + 1
            self.assertIn(p.returncode, (0, 2), p.stderr)
            if p.returncode == 2:
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertGreater(codes.get(2, 0), 0)

    def test_a_read_past_the_time_limit_is_stopped(self):
        # A file that takes far longer than the limit to read (400 variants) stands in for
        # one whose damage makes libhdf5 loop: the read is stopped, exit 1, one line.
        (self.dir / "s.yaml").write_text("simulation: {runs: 20, months: 12}\n")
        values = ",".join(str(i / 1000) for i in range(400))
        run(["sweep", "s.yaml", "--grid", f"alignment.level={values}", "-q", "-o", "many.h5"], self.dir, check=0)
        start = time.time()
        p = run(["summarize", "many.h5", "--time-limit", "0.005"], self.dir, check=1)
        self.assertLess(time.time() - start, 30)
        self.assertEqual(p.stderr, "many.h5: expected to read the result file within 0.005 s (--time-limit), "
                                   "found the read still going; stopped it\n")
        self.assertEqual(p.stdout, "")
        run(["summarize", "many.h5"], self.dir, check=0)

    def test_pipes_directories_and_unreadable_files(self):
        os.mkfifo(self.dir / "pipe.h5")
        (self.dir / "dir.h5").mkdir()
        p = run(["summarize", "pipe.h5"], self.dir, check=2)  # never opened: it would block
        self.assertEqual(p.stderr, "pipe.h5: expected a result file, found a pipe\n")
        p = run(["summarize", "dir.h5"], self.dir, check=2)
        self.assertEqual(p.stderr, "dir.h5: expected a result file, found a directory\n")
        if os.geteuid() != 0:  # root reads any file
            locked = self.dir / "locked.h5"
            shutil.copy(self.dir / "good.h5", locked)
            locked.chmod(0)
            p = run(["summarize", "locked.h5"], self.dir, check=2)
            self.assertIn("cannot read the result file (Permission denied)", p.stderr)


    def test_read_only_directory_says_why(self):
        ro = self.dir / "ro"
        ro.mkdir()
        if subprocess.run(["mount", "--bind", "-o", "ro", str(ro), str(ro)], capture_output=True).returncode:
            self.skipTest("cannot make a read-only bind mount here (needs root)")
        try:
            p = run(["run", "-q", "--runs", "10", "--months", "3", "-o", str(ro / "x.h5")], self.dir, check=1)
            self.assertEqual(p.stderr, f"{ro / 'x.h5'}: cannot create a temporary file in {ro} to write it "
                                       "(Read-only file system)\n")
        finally:
            subprocess.run(["umount", str(ro)], check=True)


class Hostile(Scratch):
    """Inputs made to hurt: each must end quickly with exit 2 and one line per problem."""

    def test_validation_is_linear_in_the_number_of_variants(self):
        # 400 variants took 19 s when each variant's resolved tree shared (and so merged)
        # the memory of every variant before it: quadratic. Four times the variants must
        # now take about four times as long, not sixteen (a ratio, so that a slow or
        # loaded machine, or a sanitizer build, does not matter).
        def seconds(n):
            lines = ["simulation: {runs: 10, months: 12}", "variants:"]
            lines += [f"  v{i}: {{alignment: {{level: {i / (2 * n)}}}}}" for i in range(n)]
            (self.dir / "many.yaml").write_text("\n".join(lines) + "\n")
            start = time.monotonic()
            p = run(["validate", "many.yaml"], self.dir, check=0)
            self.assertIn(f"{n} variant(s)", p.stdout)
            return time.monotonic() - start
        small, large = seconds(200), seconds(800)
        self.assertLess(large / small, 10, f"200 variants: {small:.2f} s, 800: {large:.2f} s")

    def test_file_values_are_checked_even_when_an_option_overrides_them(self):
        (self.dir / "runs.yaml").write_text("simulation: {runs: many, months: 12}\n")
        (self.dir / "level.yaml").write_text("simulation: {runs: 20, months: 12}\nalignment: {level: 7}\n")
        runs = "runs.yaml:1:20: simulation.runs: expected a whole number"
        level = "level.yaml:2:20: alignment.level: expected a number in [0, 1], found 7"
        for args, expected in [(["run", "runs.yaml", "--runs", "20"], runs),
                               (["validate", "runs.yaml", "--set", "simulation.runs=20"], runs),
                               (["run", "level.yaml", "--set", "alignment.level=0.5"], level),
                               (["sweep", "level.yaml", "--grid", "alignment.level=0.2,0.5"], level)]:
            with self.subTest(args):
                p = run(args + (["-q", "-o", "out.h5"] if args[0] != "validate" else []), self.dir, check=2)
                self.assertEqual(p.stderr.strip().splitlines(), [p.stderr.strip()])
                self.assertIn(expected, p.stderr)
                self.assertFalse((self.dir / "out.h5").exists())

    def test_grids_on_shared_settings_are_refused(self):
        (self.dir / "ok.yaml").write_text("simulation: {runs: 20, months: 12}\n")
        for grid, expected in [("simulation.runs=10,20", "simulation.runs: expected a model setting"),
                               ("name=a,b", "name: expected a model setting"),
                               ("description=a,b", "description: expected a model setting"),
                               ("variants=1,2", "variants: expected a setting; variants are written in the scenario file")]:
            with self.subTest(grid):
                p = run(["sweep", "ok.yaml", "--grid", grid, "-q", "-o", "out.h5"], self.dir, check=2)
                lines = p.stderr.strip().splitlines()
                self.assertTrue(lines and all(line.startswith("--grid ") and expected in line for line in lines), p.stderr)
                self.assertFalse((self.dir / "out.h5").exists())

    def test_utf16_and_utf32_files_are_named_not_echoed(self):
        text = "simulation: {runs: 10}\n" + "# padding\n" * 200
        for encoding, found in [("utf-16", "a UTF-16 byte-order mark"), ("utf-32", "a UTF-32 byte-order mark")]:
            with self.subTest(encoding):
                (self.dir / "wide.yaml").write_bytes(text.encode(encoding))
                p = run(["validate", "wide.yaml"], self.dir, check=2)
                self.assertEqual(p.stderr, f"wide.yaml:1:1: expected UTF-8 text, found {found} (save the file as UTF-8)\n")
        (self.dir / "bom.yaml").write_bytes(b"\xef\xbb\xbf" + text.encode())  # a UTF-8 BOM is fine
        run(["validate", "bom.yaml"], self.dir, check=0)

    def test_control_characters_in_options_are_escaped(self):
        p = run(["run", "--set", "firm.size=micro\nforged: line", "-o", "out.h5"], self.dir, check=2)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn("micro\\nforged", p.stderr)

    def test_names_are_escaped_in_the_summary(self):
        (self.dir / "n.yaml").write_text('name: "evil\\nforged\\e[31m"\nsimulation: {runs: 20, months: 6}\n')
        p = run(["run", "n.yaml", "-q", "-o", "out.h5"], self.dir, check=0)
        self.assertIn("scenario evil\\nforged\\x1b[31m", p.stdout)
        self.assertNotIn("\x1b", p.stdout)

    def test_a_cycle_in_a_set_value_is_refused(self):
        p = run(["validate", "--set", "firm.notes=&a [*a]"], self.dir, check=2)
        self.assertEqual(p.stderr, "--set firm.notes=&a [*a]: firm.notes[0]: expected a value, found an alias to a node "
                                   "that contains it (a cycle)\n")


if __name__ == "__main__":
    SMBSIM = os.path.abspath(sys.argv[1])
    SOURCE = Path(sys.argv[2]).resolve()
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=1)
