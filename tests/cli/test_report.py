"""The report tool and the file's readability with xarray and pandas (run by ctest).

Usage: test_report.py SMBSIM_BINARY SOURCE_DIR [unittest args]
"""
import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

SMBSIM = None
SOURCE = None


def sh(args, cwd, check=0):
    p = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert p.returncode == check, f"exit {p.returncode} for {args}\n{p.stdout}\n{p.stderr}"
    return p


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = Path(tempfile.mkdtemp(prefix="smbsim-report-"))
        (cls.dir / "v.yaml").write_text("simulation: {runs: 1500, months: 36}\n"
                                        "variants:\n  as_executed: {}\n  as_written: {alignment.level: 1.0}\n")
        sh([SMBSIM, "run", "v.yaml", "-o", "v.h5", "-q"], cls.dir)
        (cls.dir / "s.yaml").write_text("simulation: {runs: 400, months: 24}\n")
        sh([SMBSIM, "sweep", "s.yaml", "--grid", "alignment.level=0.2,0.9", "--grid", "firm.size=micro,small,large",
            "-o", "sweep.h5", "-q"], cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def report(self, *args, check=0):
        return sh(["/usr/bin/python3", str(SOURCE / "tools/smbsim-report"), "--smbsim", SMBSIM, *args], self.dir, check)


CLOSE_YAML = """name: cafe_close
description: The café, closed in good order when the runway stays short, against carrying on.
simulation: {runs: 300, months: 36, seed: 7}
firm: {size: micro, headcount: 6, established: true, monthly_revenue: 45000, gross_margin: 0.6,
       fixed_costs: 14000, owner_salary: 4000, cash: 25000, credit_line: 20000}
strategy: {budget: 2000}
variants:
  carry_on: {}
  close_when_short:
    rules:
      - {name: close_when_short, when: runway_months < 1 and month >= 6, delay: 1, do: close}
"""


def visible_text(page):
    """What a reader sees without opening the scenario's source: the page's text less the
    style sheet and the <pre> blocks (the scenario and variants as written)."""
    import re
    page = re.sub(r"<(style|pre)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def table_after(page, heading):
    """The rows (lists of cell texts) of the first table after a heading."""
    import re
    start = page.index(heading)
    block = page[start:page.index("</table>", start)]
    return [[html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", row)] for row in re.findall(r"<tr>(.*?)</tr>", block)
            if "<td>" in row]


def wilson_text(k, n):
    z = 1.959963984540054
    p = k / n
    centre, half = (p + z * z / (2 * n)) / (1 + z * z / n), z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5
    return f"{100 * p:.1f}% [{100 * max(0, centre - half):.1f}, {100 * min(1, centre + half):.1f}]"


CLIENT = {}


def client():
    """The café (scenarios/cafe.yaml, 300 runs) and a closing café, run and reported once for
    the whole module: {"dir", "pages": {name: html}, "files": {name: what the file holds}}."""
    if CLIENT:
        return CLIENT
    import h5py
    d = Path(tempfile.mkdtemp(prefix="smbsim-client-report-"))
    CLIENT.update(dir=d, pages={}, files={})
    sh([SMBSIM, "run", str(SOURCE / "scenarios/cafe.yaml"), "--runs", "300", "-o", "cafe.h5", "-q"], d)
    (d / "close.yaml").write_text(CLOSE_YAML)
    sh([SMBSIM, "run", "close.yaml", "-o", "close.h5", "-q"], d)
    for name in ("cafe", "close"):
        sh(["/usr/bin/python3", str(SOURCE / "tools/smbsim-report"), "--smbsim", SMBSIM, f"{name}.h5", "-o", name], d)
        CLIENT["pages"][name] = (d / name / "report.html").read_text()
        with h5py.File(d / f"{name}.h5") as f:
            CLIENT["files"][name] = {
                "attrs": {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()},
                "causes": [c.decode() for c in next(iter(f["variants"].values()))["monthly/cause"][()]],
                "monthly": sorted({k for g in f["variants"].values() for k in g["monthly"]}),
                "outcomes": {v: {k: g["outcomes"][k][()] for k in g["outcomes"]} for v, g in f["variants"].items()},
            }
    return CLIENT


def tearDownModule():
    if CLIENT:
        shutil.rmtree(CLIENT["dir"], ignore_errors=True)


class ClientReport:
    """The report as a client reads it (issue 14): the café with its plans and rules, and a
    café that a rule closes. Mixed into Report, the case ctest runs."""

    def setUp(self):
        import numpy
        self.np = numpy
        self.pages, self.files = client()["pages"], client()["files"]

    def test_description_comes_first(self):
        import yaml
        page = self.pages["cafe"]
        text = " ".join(yaml.safe_load(self.files["cafe"]["attrs"]["scenario_resolved"])["description"].split())
        self.assertTrue(text.startswith("A six-person café"))
        at = page.index(html.escape(text))
        self.assertLess(page.index("</h1>"), at)
        self.assertLess(at, page.index("<h2>"))

    def test_plain_labels_and_no_column_names_in_view(self):
        import re
        for name, page in self.pages.items():
            seen = visible_text(page)
            for label in ("How the firms ended by month", "Still trading (share of runs)", "Insolvent (share of runs)",
                          "Closed in good order (share of runs)", "Main cause of insolvency (share of insolvencies)",
                          "What the owner's rules did", "Runs in which it fired (share)", "First fired, median (month)"):
                self.assertIn(label, seen, name)
            identifiers = {c for v in self.files[name]["outcomes"].values() for c in v if c != "run"}
            identifiers |= {c for c in self.files[name]["monthly"] if "_" in c}
            identifiers |= {"chronic_loss", "lost_segment", "credit_crunch", "input_costs", "key_person_loss",
                            "supplier_failure", "runway_months", "capability_budget", "owner_salary"}
            for ident in identifiers:
                self.assertIsNone(re.search(rf"\b{re.escape(ident)}\b", seen), f"{name}: {ident} in view")
            # Any snake_case left in view is a name the scenario gave a variant (the findings and
            # tables name variants as written, so they match the scenario file).
            allowed = {t for v in self.files[name]["outcomes"] for t in re.split(r"[+=,.]", v)}
            allowed.add(self.files[name]["attrs"]["scenario_name"])
            self.assertLessEqual(set(re.findall(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b", seen)), allowed, name)
        seen = visible_text(self.pages["cafe"])
        for label in ("Plans", "Second site", "Online ordering", "Cut spending",
                      "Its revenue in the last month, median (USD/month)", "Its own net cash, mean per run (USD)",
                      "Paid for itself", "added fixed costs $13,000/month", "Revenue: median"):
            self.assertIn(label, seen)

    def test_rules_fired_how_often_and_when(self):
        np = self.np
        rows = table_after(self.pages["cafe"], "<h3>Cut spending</h3>")
        with_rule = [v for v, o in self.files["cafe"]["outcomes"].items() if "rule_cut_spending_fired" in o]
        self.assertEqual([r[0] for r in rows], with_rule)
        self.assertEqual(with_rule, ["as_is+cut", "second_site+cut", "online_ordering+cut"])
        for row in rows:
            o = self.files["cafe"]["outcomes"][row[0]]
            fired, n = int(o["rule_cut_spending_fired"].sum()), len(o["run"])
            self.assertGreater(fired, 0)
            self.assertEqual(row[1], wilson_text(fired, n))
            self.assertTrue(row[2].startswith(f"{o['rule_cut_spending_times'].mean():.2f} ± "), row)
            first = o["rule_cut_spending_first_month"]
            self.assertEqual(row[3], f"{np.median(first[~np.isnan(first)]):g}")
            self.assertEqual(row[4], f"{np.nanmean(first):.1f}")
        self.assertIn("When the runway is below 0.75 months: cut the capability budget by 50%", self.pages["cafe"])

    def test_plans_outcomes(self):
        np = self.np
        for plan, title in (("second_site", "Second site"), ("online_ordering", "Online ordering")):
            rows = table_after(self.pages["cafe"], f"<h3>{title}</h3>")
            self.assertEqual([r[0] for r in rows], [plan, f"{plan}+cut"])
            for row in rows:
                o = self.files["cafe"]["outcomes"][row[0]]
                started = o[f"plan_{plan}_started"].astype(bool)
                net = o[f"plan_{plan}_net_cash"]
                self.assertEqual(row[1], wilson_text(int(started.sum()), len(started)))
                self.assertEqual(row[2], f"${np.median(o[f'plan_{plan}_revenue'][started]):,.0f}/month")
                self.assertTrue(row[3].endswith("/month") and " to " in row[3], row)
                mean = net.mean()
                self.assertTrue(row[4].startswith(f"{'-' if mean < 0 else ''}${abs(mean):,.0f} ["), row)
                self.assertEqual(row[5], wilson_text(int((net[started] > 0).sum()), int(started.sum())))

    def test_insolvency_and_orderly_closure_apart(self):
        rows = {r[0]: r for r in table_after(self.pages["close"], "How the firms ended by month")}
        closed_index = self.files["close"]["causes"].index("closed")
        for variant, o in self.files["close"]["outcomes"].items():
            n = len(o["run"])
            closed = int((o["failure_cause"] == closed_index).sum())
            insolvent = int((o["failure_cause"] >= 0).sum()) - closed
            self.assertEqual(rows[variant][1], wilson_text(int(o["survived"].sum()), n))
            self.assertEqual(rows[variant][2], wilson_text(insolvent, n))
            self.assertEqual(rows[variant][3], wilson_text(closed, n))
            self.assertNotIn("closed", rows[variant][4])
        self.assertGreater(int((self.files["close"]["outcomes"]["close_when_short"]["failure_cause"] == closed_index).sum()), 0)
        self.assertEqual(rows["carry_on"][3], wilson_text(0, 300))
        seen = visible_text(self.pages["close"])
        self.assertIn("close the firm in good order", seen)
        self.assertIn("which is not an insolvency", seen)


class Report(ClientReport, Base):
    def test_variants_report(self):
        p = self.report("v.h5", "-o", "rv")
        out = self.dir / "rv"
        for name in ("survival.png", "fan_cash.png", "fan_revenue.png", "fan_alignment.png", "failure_months.png",
                     "failure_causes.png", "variant_comparison.png", "report.html"):
            self.assertGreater((out / name).stat().st_size, 5000, name)
        page = (out / "report.html").read_text()
        self.assertEqual(page.count("data:image/png;base64,"), 7)
        self.assertIn("as_written gains", page)
        self.assertIn("Provenance", page)
        self.assertIn("cash_buffer_days", page)  # the resolved scenario
        self.assertIn("as_written gains", p.stdout)
        self.assertFalse((out / "sweep_heatmap.png").exists())

    def test_findings_are_the_summarys(self):
        # One wording for the terminal and the page: the report takes smbsim's.
        expected = json.loads(sh([SMBSIM, "summarize", "v.h5", "--json"], self.dir).stdout)["findings"]
        self.assertGreaterEqual(len(expected), 3)
        p = self.report("v.h5", "-o", "rf")
        page = (self.dir / "rf" / "report.html").read_text()
        for line in expected:
            self.assertIn(f"  - {line}", p.stdout)
            self.assertIn(html.escape(line), page)

    def test_missing_smbsim_is_one_line_and_exit_2(self):
        p = sh(["/usr/bin/python3", str(SOURCE / "tools/smbsim-report"), "--smbsim", str(self.dir / "nowhere"),
                "v.h5", "-o", "never"], self.dir, 2)
        self.assertIn("--smbsim", p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)
        self.assertFalse((self.dir / "never").exists())

    def test_sweep_gets_a_heat_map(self):
        self.report("sweep.h5", "-o", "rs")
        self.assertGreater((self.dir / "rs" / "sweep_heatmap.png").stat().st_size, 5000)

    def test_existing_directory_is_kept_without_force(self):
        (self.dir / "keep").mkdir()
        (self.dir / "keep" / "notes.txt").write_text("mine")
        p = self.report("v.h5", "-o", "keep", check=2)
        self.assertIn("directory exists", p.stderr)
        self.assertEqual((self.dir / "keep" / "notes.txt").read_text(), "mine")

    def test_bad_input_is_one_line_and_exit_2(self):
        (self.dir / "plain.txt").write_text("not hdf5")
        for args, expected in [(["nope.h5"], "no such file"), (["plain.txt"], "not HDF5")]:
            p = self.report(*args, "-o", "never", check=2)
            self.assertIn(expected, p.stderr)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1)
            self.assertFalse((self.dir / "never").exists())


    def test_damaged_files_are_exit_2_and_one_line_like_summarize(self):
        # Edited the way the reliability tests edit files for `smbsim summarize`; h5py
        # used to show its own traceback text with exit 1.
        import h5py
        damaged = self.dir / "damaged.h5"
        os.mkfifo(self.dir / "pipe.h5")
        cases = [("months", 121, "where [121] belongs"), ("months", 0, "months = 0, outside [1, 1200]")]
        for attr, value, expected in cases:
            shutil.copy(self.dir / "v.h5", damaged)
            with h5py.File(damaged, "r+") as f:
                f.attrs.modify(attr, value)
            with self.subTest(f"{attr}={value}"):
                p = self.report("damaged.h5", "-o", "never", check=2)
                self.assertIn(expected, p.stderr)
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                self.assertFalse((self.dir / "never").exists())
        p = self.report("pipe.h5", "-o", "never", check=2)
        self.assertEqual(p.stderr, "pipe.h5: expected a result file, found a special file\n")


def figcaptions(page):
    import re
    return [html.unescape(c) for c in re.findall(r"<figcaption>(.*?)</figcaption>", page)]


class AllVariants(Base):
    """Every variant drawn (issue: the fan charts showed the first four), and every interval
    the page shows taken from `smbsim summarize --json`."""

    def test_every_variant_has_its_fan_panel(self):
        import h5py
        (self.dir / "e.yaml").write_text("simulation: {runs: 200, months: 12}\n")
        sh([SMBSIM, "sweep", "e.yaml", "--grid", "alignment.level=0.2,0.4,0.6,0.8", "--grid", "firm.size=micro,small",
            "-o", "eight.h5", "-q"], self.dir)
        for name, pages in (("sweep.h5", 1), ("eight.h5", 2)):
            with h5py.File(self.dir / name) as f:
                variants = list(f["variants"])
            out = self.dir / f"all-{name}"
            self.report(name, "-o", out.name)
            page = (out / "report.html").read_text()
            for q in ("cash", "revenue", "alignment"):
                files = sorted(out.glob(f"fan_{q}*.png"))
                self.assertEqual(len(files), pages, files)
            panels = [c[len("Panels: "):].split("; ") for c in figcaptions(page) if c.startswith("Panels: ")]
            self.assertEqual(len(panels), 3 * pages)
            for q in range(3):  # cash, revenue, alignment: each variant once, in order
                self.assertEqual(sum(panels[q * pages:(q + 1) * pages], []), variants, name)

    def test_smbsim_report_in_the_build_tree(self):
        # `build/smbsim report` finds the tool beside it (a link into tools/) and passes itself.
        p = sh([SMBSIM, "report", "v.h5", "-o", "via"], self.dir)
        self.assertIn("Wrote via/report.html", p.stdout)

    def test_summary_gives_every_interval(self):
        import h5py
        import numpy as np
        s = json.loads(sh([SMBSIM, "summarize", "sweep.h5", "--json"], self.dir).stdout)
        with h5py.File(self.dir / "sweep.h5") as f:
            for name, g in f["variants"].items():
                v, o = s["variants"][name], g["outcomes"]
                causes = [c.decode() for c in g["monthly/cause"][()]]
                cause, month, n = o["failure_cause"][()], o["failure_month"][()], len(o["run"])
                insolvent = int((cause >= 0).sum()) - int((cause == causes.index("closed")).sum())
                self.assertAlmostEqual(v["endings"]["insolvent"]["p"], insolvent / n)
                self.assertLess(v["endings"]["insolvent"]["lo"], v["endings"]["insolvent"]["hi"])
                self.assertEqual(v["kpis"]["survived"]["share"], v["survival"]["end"])
                for c, iv in v["insolvency_cause_intervals"].items():
                    self.assertAlmostEqual(iv["p"], int((cause == causes.index(c)).sum()) / insolvent)
                periods = v["ended_by_period"]["periods"]
                self.assertEqual(v["ended_by_period"]["months"], 12)
                self.assertEqual([(e["from"], e["to"]) for e in periods], [(1, 12), (13, 24)])
                for e in periods:
                    ended = int(((month >= e["from"]) & (month <= e["to"]) & (cause >= 0)).sum())
                    self.assertAlmostEqual(e["share"]["p"], ended / n)
                    self.assertLessEqual(e["share"]["lo"], e["share"]["p"])
                    self.assertGreaterEqual(e["share"]["hi"], e["share"]["p"])
        self.assertTrue(np.isfinite(v["survival"]["end"]["lo"]))


class Analyses(Base):
    """`--analysis` with the saved JSON of sensitivity, stress and discover: their four
    charts (tornado, Sobol' indices over time, stress curve, PRIM trade-off and box)."""

    def test_four_analysis_charts(self):
        d, scenario = self.dir, str(SOURCE / "scenarios/default.yaml")
        sh([SMBSIM, "run", scenario, "--runs", "3000", "--months", "36", "-o", "d.h5", "-q"], d)
        (d / "sens.json").write_text(sh([SMBSIM, "sensitivity", scenario, "--samples", "32", "--replicates", "24",
                                         "--months", "24", "--bootstrap", "100", "-q", "--json"], d).stdout)
        (d / "stress.json").write_text(sh([SMBSIM, "stress", scenario, "--shock", "recession", "--runs", "1000",
                                           "--months", "36", "--probability", "0.5", "--json"], d).stdout)
        (d / "prim.json").write_text(sh([SMBSIM, "discover", "d.h5", "--json"], d).stdout)
        self.assertTrue(json.loads((d / "prim.json").read_text())["boxes"], "no PRIM box to draw")
        self.report("d.h5", "-o", "ra", "--analysis", "sens.json", "--analysis", "stress.json", "--analysis", "prim.json")
        page = (d / "ra" / "report.html").read_text()
        for title in ("Sensitivity: tornado", "Sensitivity: Sobol&#x27; indices over time", "Reverse stress test",
                      "Scenario discovery: PRIM trade-off and first box"):
            self.assertIn(f'<img alt="{title}"', page)
        self.assertEqual(len(list((d / "ra").glob("analysis*.png"))), 4)
        # Which file is which, its keys tell; anything else is one line and exit 2.
        (d / "other.json").write_text('{"variants": {}}')
        p = self.report("d.h5", "-o", "never", "--analysis", "other.json", check=2)
        self.assertIn("expected the --json output of smbsim sensitivity, stress or discover", p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)
        self.assertFalse((d / "never").exists())


class Readers(Base):
    def test_xarray_sees_named_dimensions(self):
        import xarray as xr
        ds = xr.open_dataset(self.dir / "v.h5", group="variants/as_executed/monthly", engine="h5netcdf")
        self.assertEqual(ds.survival.dims, ("month",))
        self.assertEqual(ds.cash_quantiles.dims, ("month", "quantile"))
        self.assertEqual(ds.failures.dims, ("month", "cause"))
        self.assertEqual(list(ds.month.values[:3]), [1, 2, 3])
        self.assertAlmostEqual(float(ds.cash_quantiles.sel(quantile=0.5)[0]), float(ds.cash_quantiles[0, 2]))
        self.assertIn("chronic_loss", list(ds.cause.values))
        self.assertEqual(ds.survival.attrs["units"], "1")

    def test_pandas_dataframe_in_two_lines(self):
        import h5py
        import pandas as pd
        g = h5py.File(self.dir / "v.h5")["variants/as_executed/outcomes"]
        runs = pd.DataFrame({k: g[k][()] for k in g}).set_index("run")
        self.assertEqual(len(runs), 1500)
        self.assertIn("failure_month", runs.columns)
        self.assertEqual(int((runs.failure_month > 0).sum()), int((runs.survived == 0).sum()))

    def test_roles_come_from_the_file_and_by_name_from_old_files(self):
        # The variant comparison draws the columns the file marks as survival and profit;
        # a file before format 1.6 has no marks, and its columns' names of then stand in.
        import h5py
        sys.path.insert(0, str(SOURCE / "tools"))
        from smbsim_report import data
        want = {"survival": ("survived", "1"), "profit": ("cumulative_profit", "USD")}
        roles = data.load(self.dir / "v.h5")[1][0]["roles"]
        self.assertEqual({k: roles[k] for k in want}, want)
        for name in ("old.h5", "renamed.h5"):
            shutil.copy(self.dir / "v.h5", self.dir / name)
        with h5py.File(self.dir / "old.h5", "r+") as f:
            f.attrs["format_version"] = "1.5"
            for g in f["variants"].values():
                del g["monthly/cause_orderly"]
                for d in g["outcomes"].values():
                    d.attrs.pop("role", None)
        with h5py.File(self.dir / "renamed.h5", "r+") as f:
            for g in f["variants"].values():
                g["outcomes"].move("cumulative_profit", "money_made")
        old = data.load(self.dir / "old.h5")[1][0]
        self.assertEqual({k: old["roles"][k] for k in want}, want)
        self.assertEqual(old["orderly"], {"closed"})
        self.assertEqual(data.load(self.dir / "v.h5")[1][0]["orderly"], {"closed"})
        self.assertEqual(data.load(self.dir / "renamed.h5")[1][0]["roles"]["profit"], ("money_made", "USD"))
        self.report("renamed.h5", "-o", "renamed_report")
        self.assertTrue((self.dir / "renamed_report" / "variant_comparison.png").exists())


if __name__ == "__main__":
    SMBSIM = os.path.abspath(sys.argv[1])
    SOURCE = Path(sys.argv[2]).resolve()
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=1)
