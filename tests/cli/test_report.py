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


class Report(Base):
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


if __name__ == "__main__":
    SMBSIM = os.path.abspath(sys.argv[1])
    SOURCE = Path(sys.argv[2]).resolve()
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=1)
