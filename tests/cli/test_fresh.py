"""A fresh machine and a report that never says less or shows a traceback (issue 27, items
1, 5 and 20; run by ctest).

Usage: test_fresh.py SMBSIM_BINARY SOURCE_DIR [unittest args]
"""
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


def sh(args, cwd, check=0, env=None):
    p = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600,
                       env=None if env is None else dict(os.environ, **env))
    assert p.returncode == check, f"exit {p.returncode} for {args}\n{p.stdout}\n{p.stderr}"
    return p


class Scratch(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="smbsim-fresh-"))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def assert_one_line(self, p, *expected):
        self.assertNotIn("Traceback", p.stderr)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        for text in expected:
            self.assertIn(text, p.stderr)


class DepsGuard(Scratch):
    """tests/check_deps.py: every module and program the sources need is from a package
    tools/install-deps lists; one taken out of the list is named."""

    def guard(self, install_deps, check):
        return sh(["/usr/bin/python3", str(SOURCE / "tests/check_deps.py"), str(SOURCE), "--install-deps",
                   str(install_deps)], self.dir, check)

    def test_the_list_provides_everything(self):
        p = self.guard(SOURCE / "tools/install-deps", 0)
        self.assertIn("all on a fresh machine after tools/install-deps", p.stdout)

    def test_a_package_taken_out_of_the_list_is_named(self):
        text = (SOURCE / "tools/install-deps").read_text()
        # The two the issue found missing: a Python module and a program only cpack runs.
        for package, needed_for in (("python3-yaml", "module yaml"), ("file", "program file")):
            with self.subTest(package):
                without = self.dir / f"without-{package}"
                lines = [" ".join(w for w in line.split(" ") if w != package) if line.startswith("  ") else line
                         for line in text.splitlines()]
                without.write_text("\n".join(lines) + "\n")
                self.assertNotEqual(without.read_text(), text)
                p = self.guard(without, 1)
                self.assertIn(f"tools/install-deps: expected the Debian package {package}, needed for {needed_for}",
                              p.stderr)
                self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)


    def test_the_finders_see_imports_and_programs(self):
        sys.path.insert(0, str(SOURCE / "tests"))
        import check_deps
        needs = check_deps.Needs()
        check_deps.scan_python("t.py", "\n".join([
            "import scipy.stats", "from PIL import Image", "from . import local", "import json",
            "def sh(args, **kw):", "    return subprocess.run(args, **kw)",
            "def f():", "    import bs4", "    sh(['pdftoppm', '-png'])", "    subprocess.run('chromium --headless', shell=True)",
            "    shutil.which('h5ls')", "    cmd = ['mpiexec', '-n', '2'] + rest", "    run(['report', 'x.h5'])",
            "    xr.open_dataset(p, engine='netcdf4')"]), needs, {"report"})
        self.assertTrue({"scipy", "PIL", "bs4", "netcdf4"} <= set(needs.modules))
        self.assertNotIn("local", needs.modules)
        self.assertTrue({"pdftoppm", "chromium", "h5ls"} <= set(needs.programs), needs.programs)
        self.assertIn("mpiexec", needs.guessed)
        self.assertNotIn("report", needs.guessed)
        check_deps.scan_shell("t.sh", "set -e\nX=1 cmake -S . \\\n  && ctest -j2 | tee log\ncd \"$(dirname \"$0\")\"\n", needs)
        self.assertTrue({"cmake", "ctest", "tee", "dirname"} <= set(needs.programs), needs.programs)
        self.assertFalse({"set", "cd", "X=1", "-S"} & set(needs.programs))
        check_deps.scan_cmake("CMakeLists.txt", "find_program(H5LS NAMES h5ls h5ls-serial)\n"
                              "add_test(NAME t COMMAND valgrind $<TARGET_FILE:x>)\nadd_test(NAME u COMMAND mine)\n",
                              needs, {"mine"})
        self.assertTrue({"h5ls-serial", "valgrind"} <= set(needs.programs))
        self.assertNotIn("mine", needs.programs)


class HiddenModule(Scratch):
    """Without PyYAML the report used to leave out every plan's and rule's description and
    exit 0; tools/calibrate died with a traceback. Now: one line naming the package, exit 1."""

    def setUp(self):
        super().setUp()
        shim = self.dir / "shim"
        shim.mkdir()
        (shim / "yaml.py").write_text('raise ModuleNotFoundError("No module named \'yaml\'", name="yaml")\n')
        self.env = {"PYTHONPATH": str(shim)}

    def test_the_report_says_which_package_is_missing(self):
        sh([SMBSIM, "run", "--runs", "50", "--months", "12", "-o", "r.h5", "-q"], self.dir)
        for how in (["/usr/bin/python3", str(SOURCE / "tools/smbsim-report"), "--smbsim", SMBSIM], [SMBSIM, "report"]):
            with self.subTest(how[-1]):
                p = sh(how + ["r.h5", "-o", "page"], self.dir, 1, self.env)
                self.assert_one_line(p, "needs the Python module yaml", "python3-yaml")
                self.assertFalse((self.dir / "page").exists())

    def test_calibrate_says_which_package_is_missing(self):
        p = sh(["/usr/bin/python3", str(SOURCE / "tools/calibrate"), "--help"], self.dir, 1, self.env)
        self.assert_one_line(p, "calibrate: needs the Python module yaml", "python3-yaml")


class ReportFailures(Scratch):
    """Item 20: an unknown MPLBACKEND, or any failure, is one line and a non-zero exit."""

    def setUp(self):
        super().setUp()
        sh([SMBSIM, "run", "--runs", "50", "--months", "12", "-o", "r.h5", "-q"], self.dir)

    def test_an_unknown_backend_is_one_line(self):
        p = sh([SMBSIM, "report", "r.h5", "-o", "page"], self.dir, 2, {"MPLBACKEND": "bogus"})
        self.assertEqual(p.stderr, "MPLBACKEND: expected a matplotlib backend such as agg, found 'bogus' "
                                   "(the report draws with agg whatever it says: unset MPLBACKEND)\n")
        self.assertFalse((self.dir / "page").exists())

    def test_a_known_backend_is_drawn_with_agg(self):
        sh([SMBSIM, "report", "r.h5", "-o", "page"], self.dir, 0, {"MPLBACKEND": "svg"})
        self.assertTrue((self.dir / "page" / "survival.png").is_file())

    def report_to(self, name, stdout):
        """smbsim report into `name` with stdout given (a file, or PIPE closed at once): exit code, stderr."""
        with subprocess.Popen([SMBSIM, "report", "r.h5", "-o", name], cwd=self.dir, stdout=stdout,
                              stderr=subprocess.PIPE, text=True) as p:
            if p.stdout:
                p.stdout.close()
            err = p.stderr.read()
        return p.returncode, err

    def test_a_full_or_closed_stdout_is_one_line(self):
        with open("/dev/full", "w") as full:
            results = {"full": self.report_to("full", full)}
        results["closed"] = self.report_to("closed", subprocess.PIPE)
        for name, (code, err) in results.items():
            with self.subTest(name):
                self.assertEqual(code, 1, err)
                self.assertNotIn("Traceback", err)
                self.assertEqual(len(err.splitlines()), 1, err)
                self.assertIn(f"r.h5: wrote {name}, but cannot write to standard output", err)
                self.assertTrue((self.dir / name / "report.html").is_file())
        # Buffered (a fresh machine's default: the text waits for Python's flush at exit)
        # and unbuffered (PYTHONUNBUFFERED=1, as some shells set it).
        buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
        for env in (buffered, dict(buffered, PYTHONUNBUFFERED="1")):
            with self.subTest(unbuffered="PYTHONUNBUFFERED" in env), open("/dev/full", "w") as full:
                p = subprocess.run(["/usr/bin/python3", str(SOURCE / "tools/smbsim-report"), "--help"], stdout=full,
                                   stderr=subprocess.PIPE, text=True, env=env)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertEqual(p.stderr, "smbsim-report: cannot write its output (No space left on device)\n")

    def test_an_unforeseen_failure_is_one_line(self):
        # Saving a chart fails with an error the report does not expect.
        shim = self.dir / "shim"
        shim.mkdir()
        (shim / "sitecustomize.py").write_text(
            "import matplotlib.figure\n\ndef broken(*a, **k):\n    raise TypeError('injected\\nacross lines')\n\n"
            "matplotlib.figure.Figure.savefig = broken\n")
        p = sh([SMBSIM, "report", "r.h5", "-o", "page"], self.dir, 1, {"PYTHONPATH": str(shim)})
        self.assert_one_line(p, "smbsim-report: internal error (TypeError: injected across lines)")
        self.assertFalse((self.dir / "page").exists())
        self.assertEqual([x.name for x in self.dir.iterdir() if x.name.startswith(".page")], [])


def intervals(j, path=""):
    """Every (path, estimate, lo, hi) in a summarize --json tree."""
    if isinstance(j, dict):
        estimate = next((k for k in ("p", "mean", "estimate") if k in j), None)
        if estimate and "lo" in j and "hi" in j:
            yield path, j[estimate], j["lo"], j["hi"]
        for k, v in j.items():
            yield from intervals(v, f"{path}/{k}")
    elif isinstance(j, list):
        for i, v in enumerate(j):
            yield from intervals(v, f"{path}[{i}]")


class Bounds(Scratch):
    """Item 5: at 0% and 100% survival every interval contains its estimate exactly
    (survival [lo, 1] with hi == 1 exactly; [0, hi] with lo == 0), and the report draws
    them; with few runs alive, so do the file's quantile intervals."""

    CASES = {"all_survive": ["--set", "firm.cash_buffer_days=300"],
             "none_survive": ["--set", "firm.fixed_costs=5000000"]}

    def assert_summary_contains_estimates(self, name):
        s = json.loads(sh([SMBSIM, "summarize", name, "--json"], self.dir).stdout)
        found = [(where, p, lo, hi) for where, p, lo, hi in intervals(s) if None not in (p, lo, hi)]
        self.assertGreater(len(found), 5)
        for where, p, lo, hi in found:
            self.assertTrue(lo <= p <= hi, f"{where}: {lo} <= {p} <= {hi}")
        return s

    def assert_file_contains_estimates(self, name):
        import h5py
        import numpy as np
        with h5py.File(self.dir / name) as f:
            m = f["variants/base/monthly"]
            self.assertTrue(np.all(m["survival_lo"][()] <= m["survival"][()]))
            self.assertTrue(np.all(m["survival"][()] <= m["survival_hi"][()]))
            for q in (k[:-len("_quantiles")] for k in m if k.endswith("_quantiles")):
                est, lo, hi = m[q + "_quantiles"][()], m[q + "_quantiles_lo"][()], m[q + "_quantiles_hi"][()]
                defined = ~np.isnan(est)
                self.assertTrue(np.all(lo[defined] <= est[defined]), q)
                self.assertTrue(np.all(est[defined] <= hi[defined]), q)

    def test_at_0_and_100_percent_survival_and_the_report_draws_them(self):
        for name, sets in self.CASES.items():
            with self.subTest(name):
                sh([SMBSIM, "run", "--runs", "1000", "--months", "36", *sets, "-o", f"{name}.h5", "-q"], self.dir)
                end = self.assert_summary_contains_estimates(f"{name}.h5")["variants"]["base"]["survival"]["end"]
                expected = 1.0 if name == "all_survive" else 0.0
                self.assertEqual(end["p"], expected)
                self.assertEqual(end["hi" if expected else "lo"], expected)
                self.assert_file_contains_estimates(f"{name}.h5")
                p = sh([SMBSIM, "report", f"{name}.h5", "-o", f"{name}-page"], self.dir)
                self.assertIn("report.html", p.stdout)
                self.assertTrue((self.dir / f"{name}-page" / "failure_months.png").is_file())

    def test_quantile_intervals_with_few_runs_alive(self):
        # 5 runs: the 5% quantile's lower rank is held at 0.5, above its own rank 0.25
        # (108 bounds beside their estimate before).
        sh([SMBSIM, "run", "--runs", "5", "--months", "12", "-o", "few.h5", "-q"], self.dir)
        self.assert_file_contains_estimates("few.h5")
        self.assert_summary_contains_estimates("few.h5")


if __name__ == "__main__":
    SMBSIM = os.path.abspath(sys.argv[1])
    SOURCE = Path(sys.argv[2]).resolve()
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=1)
