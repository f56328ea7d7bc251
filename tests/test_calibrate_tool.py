"""tools/calibrate's arithmetic and its rows on a synthetic result file (run by ctest).

Usage: test_calibrate_tool.py [unittest args]

The rows for buffer_days, last_year_profit and last_year_revenue are tested here on a
file written with h5py in smbsim's layout, so they are covered before the binary writes
those outputs.
"""
import json
import math
import shutil
import subprocess
import sys
import tempfile
import unittest
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader
from pathlib import Path

import h5py
import numpy as np

TOOL = Path(__file__).resolve().parent.parent / "tools" / "calibrate"


def load_tool():
    loader = SourceFileLoader("calibrate", str(TOOL))
    module = module_from_spec(spec_from_loader("calibrate", loader))
    loader.exec_module(module)
    return module


cal = load_tool()
QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95]


def write_result(path, alive, runs, outcomes=None, buffer_median=None, headcount=12):
    """A result file in smbsim's layout: monthly alive and survival; optionally the
    buffer_days quantiles (median = buffer_median[month-1]) and outcome columns."""
    with h5py.File(path, "w") as f:
        f.attrs["scenario_resolved"] = f"variants:\n  base:\n    firm:\n      headcount: {headcount}\n"
        base = f.create_group("variants/base")
        base.attrs["runs"] = runs
        m = base.create_group("monthly")
        m["alive"] = np.asarray(alive, dtype=np.int64)
        shares = [cal.wilson(a, runs) for a in alive]
        m["survival"] = [s.value for s in shares]
        m["survival_lo"] = [s.lo for s in shares]
        m["survival_hi"] = [s.hi for s in shares]
        m["quantile"] = QUANTILES
        if buffer_median is not None:
            q = np.outer(buffer_median, [0.2, 0.6, 1.0, 1.5, 3.0])
            m["buffer_days_quantiles"] = q
            m["buffer_days_quantiles_lo"] = q - 0.5
            m["buffer_days_quantiles_hi"] = q + 0.5
        o = base.create_group("outcomes")
        for name, column in (outcomes or {}).items():
            o[name] = column


class Arithmetic(unittest.TestCase):
    def test_wilson_interval(self):
        e = cal.wilson(20, 100)
        self.assertEqual(e.value, 0.2)
        self.assertAlmostEqual(e.lo, 0.13332, places=4)   # textbook values for 20 of 100
        self.assertAlmostEqual(e.hi, 0.28883, places=4)
        self.assertEqual(cal.wilson(0, 50).lo, 0.0)
        self.assertGreater(cal.wilson(0, 50).hi, 0.0)
        self.assertEqual(cal.wilson(50, 50).hi, 1.0)
        self.assertTrue(math.isnan(cal.wilson(0, 0).value))

    def test_hazard_from_alive_counts(self):
        alive = np.zeros(25, dtype=int)
        alive[0], alive[12], alive[24] = 1000, 800, 680
        self.assertAlmostEqual(cal.hazard(alive, 1).value, 0.2)
        self.assertAlmostEqual(cal.hazard(alive, 2).value, 120 / 800)
        e = cal.hazard(alive, 2)
        self.assertEqual((e.lo, e.hi), (cal.wilson(120, 800).lo, cal.wilson(120, 800).hi))

    def test_pooled_exit_rate_over_years_2_to_6(self):
        alive = np.zeros(73, dtype=int)
        for month, count in {0: 200, 12: 100, 24: 90, 36: 80, 48: 75, 60: 70, 72: 66}.items():
            alive[month] = count
        e = cal.pooled_exit_rate(alive)
        self.assertAlmostEqual(e.value, (100 - 66) / (100 + 90 + 80 + 75 + 70))
        self.assertLess(e.lo, e.value)
        self.assertGreater(e.hi, e.value)

    def test_mean_interval(self):
        e = cal.mean_interval([1.0, 2.0, 3.0, 4.0])
        self.assertEqual(e.value, 2.5)
        self.assertAlmostEqual(e.half_width, cal.Z95 * np.std([1, 2, 3, 4], ddof=1) / 2)

    def test_points_counts_the_half_width(self):
        rule = cal.Points(0.03)
        self.assertTrue(rule.within(0.794, cal.Estimate(0.806, 0.800, 0.811)))   # 1.2 + 0.55 points
        self.assertFalse(rule.within(0.794, cal.Estimate(0.820, 0.815, 0.825)))  # 2.6 + 0.5 points
        self.assertFalse(rule.within(0.794, cal.Estimate(0.794, 0.760, 0.830)))  # an interval 7 points wide
        self.assertEqual(rule.text("share"), "+-3 pts")
        self.assertEqual(cal.Points(5).text("days"), "+-5 d")

    def test_factor_or_points_takes_the_larger_band(self):
        rule = cal.FactorOrPoints(1.5, 0.015)
        self.assertEqual(rule.band(0.165), (0.165 / 1.5, 0.165 * 1.5))          # the factor is wider
        self.assertEqual(rule.band(0.007), (0.007 - 0.015, 0.007 + 0.015))      # the points are wider
        self.assertTrue(rule.within(0.007, cal.Estimate(0.02, 0.019, 0.021)))
        self.assertFalse(rule.within(0.007, cal.Estimate(0.05, 0.048, 0.052)))
        self.assertTrue(rule.within(0.165, cal.Estimate(0.149, 0.146, 0.152)))
        self.assertFalse(rule.within(0.035, cal.Estimate(0.118, 0.115, 0.120)))

    def test_overlap_of_a_range(self):
        rule = cal.Overlap(0.03)
        self.assertTrue(rule.within((0.059, 0.089), cal.Estimate(0.13, 0.115, 0.145)))
        self.assertFalse(rule.within((0.059, 0.089), cal.Estimate(0.15, 0.125, 0.175)))
        self.assertFalse(rule.within((0.059, 0.089), cal.Estimate(0.01, 0.0, 0.025)))

    def test_size_classes(self):
        self.assertTrue(cal.in_size_class(3, "1-4"))
        self.assertTrue(cal.in_size_class(500, "500+"))
        self.assertFalse(cal.in_size_class(12, "20-99"))

    def test_margins_are_clipped_and_zero_revenue_dropped(self):
        m = cal.margins(np.array([10.0, -500.0, 5.0, 0.0]), np.array([100.0, 100.0, 0.0, 0.0]))
        self.assertEqual(m.tolist(), [0.1, -1.0, 1.0])


class Table(unittest.TestCase):
    def test_one_row_per_target_fitted_and_out_of_sample(self):
        table = cal.targets()
        fitted = [t.name for t in table if t.kind == "fitted"]
        self.assertEqual(fitted, ["survival 1 y", "survival 2 y", "survival 5 y", "survival 10 y",
                                  "exit rate ages 1-5, 1-4 employees (micro)",
                                  "exit rate ages 1-5, 10-19 employees (small)",
                                  "exit rate ages 1-5, 20-99 employees (medium)",
                                  "median buffer days, employer firms (month 36)"])
        self.assertTrue(all(t.kind in ("fitted", "out_of_sample") for t in table))
        self.assertEqual(len({t.name for t in table}), len(table))
        hazards = [round(100 * t.data, 1) for t in table if t.name.startswith("hazard")]
        self.assertEqual(hazards, [20.4, 14.4, 11.0, 10.4, 8.7, 8.9, 8.2, 7.7, 6.8, 5.9])  # the header's figures

    def test_built_in_copies_match_the_shared_files(self):
        if not cal.DATA.exists():
            self.skipTest(f"no {cal.DATA}")
        for name, figures in cal.FALLBACK.items():
            self.assertEqual(cal.read_csv(name)[0], figures, name)

    def test_fallback_without_the_folder(self):
        saved = cal.DATA
        try:
            cal.DATA = Path(tempfile.gettempdir()) / "no-such-calibration-folder"
            values, source = cal.read_csv("establishment-survival.csv")
            self.assertEqual(values["15"], 0.256)
            self.assertIn("built-in copy", source)
        finally:
            cal.DATA = saved


class SyntheticFile(unittest.TestCase):
    """The buffer, profitability and stress rows on files written with h5py."""

    @classmethod
    def setUpClass(cls):
        cls.dir = Path(tempfile.mkdtemp(prefix="calibrate-tool-"))
        months, runs = 180, 1000
        alive = np.interp(np.arange(1, months + 1), [1, 36, 39, months], [900, 600, 540, 300]).round().astype(int)
        assert (alive[35], alive[38]) == (600, 540)   # 10% fail in months 37..39
        profit = np.array([50.0] * 300 + [-20.0] * 200 + [np.nan] * 500)
        revenue = np.array([500.0] * 500 + [np.nan] * 500)
        survived = np.array([1] * 500 + [0] * 500, dtype=np.uint8)
        write_result(cls.dir / "full.h5", alive, runs,
                     {"survived": survived, "last_year_profit": profit, "last_year_revenue": revenue},
                     buffer_median=np.arange(1, months + 1) / 2)
        write_result(cls.dir / "old.h5", alive, runs, {"survived": survived})
        cls.full = cal.Results({name: cls.dir / "full.h5" for name in cal.RUNS})
        cls.old = cal.Results({name: cls.dir / "old.h5" for name in cal.RUNS})

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def rows(self, results):
        return {r.target.name: r for r in cal.evaluate(cal.targets(), results)}

    def test_buffer_median_at_month_36(self):
        row = self.rows(self.full)["median buffer days, employer firms (month 36)"]
        self.assertEqual((row.estimate.value, row.estimate.lo, row.estimate.hi), (18.0, 17.5, 18.5))
        self.assertTrue(row.within)
        self.assertFalse(row.fails_check)

    def test_profitability_among_survivors(self):
        rows = self.rows(self.full)
        share = rows["share profitable, survivors to month 60"].estimate
        self.assertAlmostEqual(share.value, 300 / 500)
        margin = rows["mean net margin, survivors to month 60"].estimate
        self.assertAlmostEqual(margin.value, (300 * 0.1 + 200 * -0.04) / 500)

    def test_loss_rows_from_alive_counts(self):
        rows = self.rows(self.full)
        self.assertAlmostEqual(rows["fail within 3 months of a 2-month total revenue loss"].estimate.value, 0.1)
        self.assertAlmostEqual(rows["carry on through it without credit"].estimate.value, 0.9)

    def test_a_preset_of_another_size_is_not_compared(self):
        rows = self.rows(self.full)                             # every run has 12 employees here
        self.assertIsNotNone(rows["exit rate ages 1-5, 10-19 employees (small)"].estimate)
        self.assertIn("not 1-4", rows["exit rate ages 1-5, 1-4 employees (micro)"].unavailable)

    def test_missing_outputs_are_named_and_fail_the_check_only_when_fitted(self):
        rows = self.rows(self.old)
        buffer = rows["median buffer days, employer firms (month 36)"]
        self.assertIsNone(buffer.estimate)
        self.assertEqual(cal.fmt_model(buffer), "n/a (output missing: monthly/buffer_days_quantiles)")
        self.assertTrue(buffer.fails_check)
        profit = rows["share profitable, survivors to month 60"]
        self.assertEqual(profit.unavailable, "output missing: outcomes/last_year_profit")
        self.assertFalse(profit.fails_check)
        self.assertIn("output missing", dict(cal.notes(self.old))["median buffer days of live firms"])

    def test_json_and_markdown(self):
        rows = cal.evaluate(cal.targets(), self.old)
        parsed = json.loads(json.dumps(cal.json_rows(rows)))
        self.assertEqual(len(parsed), len(rows))
        self.assertEqual({"name", "source", "data", "model", "lo", "hi", "tolerance", "within", "kind"}
                         - parsed[0].keys(), set())
        self.assertIsNone(next(p for p in parsed if p["name"].startswith("median buffer"))["model"])
        lines = cal.markdown_table(rows).splitlines()
        self.assertEqual(len(lines), len(rows) + 2)
        self.assertTrue(all(l.startswith("| ") or l.startswith("|---") for l in lines))


class CommandLine(unittest.TestCase):
    def run_tool(self, *args):
        return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True, timeout=60)

    def test_bad_option_is_one_line_and_exit_2(self):
        for args in (["--bogus"], ["--runs", "0"], ["--json", "--markdown"]):
            p = self.run_tool(*args)
            self.assertEqual(p.returncode, 2, args)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)

    def test_missing_binary_is_one_line_and_exit_2(self):
        p = self.run_tool("--smbsim", "/nonexistent/smbsim")
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr.strip(), "calibrate: no smbsim binary at /nonexistent/smbsim "
                                           "(build it, or pass --smbsim PATH)")


if __name__ == "__main__":
    unittest.main()
