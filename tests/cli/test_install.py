"""The installed program (run by ctest): `cmake --install` into a temporary prefix, the
report tool and `smbsim report` run from / with only the prefix's bin on PATH, the
completion and the man page; `cpack -G DEB` builds a package holding them.

Usage: test_install.py BUILD_DIR SOURCE_DIR [unittest args]
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

BUILD = None
SOURCE = None


def sh(args, check=0, **kw):
    p = subprocess.run(args, capture_output=True, text=True, timeout=600, **kw)
    assert p.returncode == check, f"exit {p.returncode} for {args}\n{p.stdout}\n{p.stderr}"
    return p


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = Path(tempfile.mkdtemp(prefix="smbsim-install-"))
        cls.prefix = cls.dir / "prefix"
        sh(["cmake", "--install", str(BUILD), "--prefix", str(cls.prefix)])
        # Only the prefix's bin (and the system's python3, which the scripts name by path).
        cls.env = {"PATH": str(cls.prefix / "bin"), "HOME": str(cls.dir), "LANG": "C.UTF-8"}
        (cls.dir / "v.yaml").write_text("simulation: {runs: 200, months: 24}\n"
                                        "variants:\n  as_executed: {}\n  as_written: {alignment.level: 1.0}\n")
        sh(["smbsim", "run", str(cls.dir / "v.yaml"), "-o", str(cls.dir / "v.h5"), "-q"], env=cls.env, cwd="/")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_layout(self):
        for path in ("bin/smbsim", "bin/smbsim-report", "share/smbsim/python/smbsim_report/cli.py",
                     "share/smbsim/scenarios/cafe.yaml", "share/doc/smbsim/README.md", "share/doc/smbsim/model.md",
                     "share/bash-completion/completions/smbsim", "share/man/man1/smbsim.1",
                     "share/man/man1/smbsim-report.1"):
            self.assertTrue((self.prefix / path).is_file(), path)
        self.assertTrue(os.access(self.prefix / "bin/smbsim-report", os.X_OK))

    def test_report_tool_from_anywhere(self):
        out = self.dir / "r1"
        p = sh(["smbsim-report", str(self.dir / "v.h5"), "-o", str(out)], env=self.env, cwd="/")
        self.assertIn("Wrote", p.stdout)
        self.assertIn("as_written", (out / "report.html").read_text())

    def test_smbsim_report_runs_the_tool(self):
        out = self.dir / "r2"
        sh(["smbsim", "report", str(self.dir / "v.h5"), "-o", str(out)], env=self.env, cwd="/")
        self.assertTrue((out / "report.html").is_file())
        # The report tool's own exit code and message come through: 2 for bad input.
        p = sh(["smbsim", "report", str(self.dir / "missing.h5"), "-o", str(self.dir / "never")], 2, env=self.env, cwd="/")
        self.assertEqual(p.stderr.strip(), f"{self.dir / 'missing.h5'}: no such file")

    def test_the_run_hint_names_a_command_that_works(self):
        # Installed and on PATH: "smbsim report FILE"; from a build tree: the binary's path.
        p = sh(["smbsim", "run", str(self.dir / "v.yaml"), "-o", str(self.dir / "hint.h5")], env=self.env, cwd="/")
        self.assertIn(f"Charts and a report page: smbsim report {self.dir / 'hint.h5'}", p.stdout)
        p = sh([str(BUILD / "smbsim"), "run", str(self.dir / "v.yaml"), "-o", str(self.dir / "hint2.h5")],
               env=self.env, cwd="/")
        self.assertIn(f"Charts and a report page: {(BUILD / 'smbsim').resolve()} report {self.dir / 'hint2.h5'}", p.stdout)

    def test_smbsim_report_without_the_tool_is_exit_2(self):
        lone = self.dir / "lone"
        lone.mkdir()
        shutil.copy(self.prefix / "bin/smbsim", lone / "smbsim")
        p = sh([str(lone / "smbsim"), "report", str(self.dir / "v.h5")], 2, env={"PATH": str(lone)}, cwd="/")
        self.assertIn("smbsim-report", p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)

    def test_completion(self):
        script = self.prefix / "share/bash-completion/completions/smbsim"
        keys = sh([str(self.prefix / "bin/smbsim"), "--list-keys"]).stdout.split()
        self.assertIn("alignment.level", keys)
        self.assertIn("firm.cash_buffer_days", keys)

        def complete(*words):
            line = " ".join(words)
            probe = (f"source {script}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; "
                     f"_smbsim; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
            return sh(["bash", "-c", probe], cwd=SOURCE / "scenarios").stdout.split()

        self.assertEqual(sorted(complete("smbsim", "su")), ["summarize"])
        self.assertIn("report", complete("smbsim", "''"))
        self.assertIn("--precision", complete("smbsim", "run", "--p"))
        self.assertIn("alignment.level=", complete("smbsim", "run", "--set", "alignment.l"))
        self.assertIn("cafe.yaml", complete("smbsim", "run", "ca"))
        self.assertEqual(complete("smbsim", "report", "--an"), ["--analysis"])

    def test_man_page(self):
        page = (self.prefix / "share/man/man1/smbsim.1").read_text()
        self.assertIn(".TH SMBSIM", page.upper())
        for command in ("run", "sweep", "sensitivity", "stress", "discover", "report"):
            self.assertIn(f".SS {command}", page)
        self.assertIn("--precision", page.replace("\\-", "-"))
        report = (self.prefix / "share/man/man1/smbsim-report.1").read_text().replace("\\-", "-")
        self.assertIn("--analysis", report)


class Deb(unittest.TestCase):
    def test_package_holds_everything_with_its_dependencies(self):
        out = Path(tempfile.mkdtemp(prefix="smbsim-deb-"))
        try:
            sh(["cpack", "-G", "DEB", "-B", str(out), "--config", str(BUILD / "CPackConfig.cmake")], cwd=BUILD)
            debs = list(out.glob("*.deb"))
            self.assertEqual(len(debs), 1, list(out.iterdir()))
            listing = sh(["dpkg-deb", "-c", str(debs[0])]).stdout
            for path in ("./usr/bin/smbsim", "./usr/bin/smbsim-report", "./usr/share/man/man1/smbsim.1",
                         "./usr/share/bash-completion/completions/smbsim", "./usr/share/smbsim/scenarios/cafe.yaml",
                         "./usr/share/smbsim/python/smbsim_report/charts.py", "./usr/share/doc/smbsim/README.md"):
                self.assertIn(path, listing)
            depends = sh(["dpkg-deb", "-f", str(debs[0]), "Depends"]).stdout
            for package in ("libhdf5", "libtbb", "libyaml-cpp", "libboost-program-options", "python3-h5py",
                            "python3-numpy", "python3-matplotlib"):
                self.assertIn(package, depends)
        finally:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    BUILD = Path(sys.argv[1]).resolve()
    SOURCE = Path(sys.argv[2]).resolve()
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=1)
