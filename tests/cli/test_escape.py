"""What smbsim prints of text it did not write (issue 27 review, F4, F8-F10): names from a
result file or a scenario, output file names in normal output, file names in error
lines, and the minor messages. Run by ctest as escape_CLASS.

Usage: test_escape.py SMBSIM_BINARY SOURCE_DIR [unittest args]
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
# What must never reach the terminal raw: ESC, a newline inside a name, bidi controls,
# a zero-width space, a line separator.
RAW = ["\x1b", "\u202e", "\u2066", "\u200b", "\u2028"]
EVIL = "\x1b[2J\x1b[31mevil\u202eesab\n FAKE LINE"


def run(args, cwd, check=None, **kw):
    p = subprocess.run([SMBSIM] + args, cwd=cwd, capture_output=True, timeout=600, **kw)
    p.stdout, p.stderr = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    if check is not None:
        assert p.returncode == check, f"exit {p.returncode} for {args}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p


def bash_word(word):
    """What bash makes of `word` as printed in a command: the name the user pastes."""
    return subprocess.run(["bash", "-c", "printf %s " + word], capture_output=True, check=True).stdout


class Scratch(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="smbsim-escape-"))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def assertNoRawText(self, text):
        for c in RAW:
            self.assertNotIn(c, text, f"{c!r} printed raw")

    def small_file(self, name="good.h5"):
        run(["run", "--runs", "60", "--months", "12", "-o", name, "-q"], self.dir, check=0)
        return self.dir / name


class ResultFileNames(Scratch):
    """F4: a variant's name read from a result file is escaped in discover's text; the JSON
    is valid and holds the name as it is."""

    def evil_file(self):
        import h5py

        path = self.small_file()
        with h5py.File(path, "r+") as f:
            first = list(f["variants"].keys())[0]
            f.move("variants/" + first, "variants/" + EVIL)
        return path

    def test_discover_text(self):
        self.evil_file()
        p = run(["discover", "good.h5"], self.dir, check=0)
        self.assertNoRawText(p.stdout)
        self.assertNotIn("\n FAKE LINE", p.stdout)  # no forged line
        self.assertIn("variant \\x1b[2J\\x1b[31mevil\\u202eesab\\n FAKE LINE:", p.stdout)

    def test_discover_json(self):
        self.evil_file()
        p = run(["discover", "good.h5", "--json"], self.dir, check=0)
        self.assertEqual(json.loads(p.stdout)["variant"], EVIL)
        self.assertNotIn("\x1b", p.stdout)  # JSON escapes control characters

    def test_discover_json_of_invalid_utf8(self):
        import h5py

        path = self.small_file()
        with h5py.File(path, "r+") as f:
            first = list(f["variants"].keys())[0]
            f.move(("variants/" + first).encode(), b"variants/x\xffy")
        p = run(["discover", "good.h5", "--json"], self.dir, check=0)  # was an internal error, exit 1
        self.assertEqual(json.loads(p.stdout)["variant"], "x\ufffdy")
        self.assertIn("variant x\\xffy:", run(["discover", "good.h5"], self.dir, check=0).stdout)

    def test_stress_scenario_name(self):
        (self.dir / "s.yaml").write_text('name: "ca\\u202efe\\u200b"\nsimulation: {runs: 100, months: 12}\n')
        p = run(["stress", "s.yaml", "--cash", "--probability", "0.5"], self.dir, check=0)
        self.assertNoRawText(p.stdout)
        self.assertIn("ca\\u202efe\\u200b", p.stdout)


    def test_sensitivity_scenario_name(self):
        (self.dir / "s.yaml").write_text('name: "ca\\u202efe"\nsimulation: {runs: 20, months: 6}\n'
                                         "market: {fit: {dist: uniform, low: 0.3, high: 0.9}}\n")
        p = run(["sensitivity", "s.yaml", "--samples", "16", "--replicates", "2", "--bootstrap", "100", "--runs", "20"],
                self.dir, check=0)
        self.assertNoRawText(p.stdout)
        self.assertIn("Sensitivity of ca\\u202efe (variant base)", p.stdout)


class OutputNames(Scratch):
    """F8: output names in normal output are escaped and quoted so that a pasted command
    names the file; validate's YAML escapes format characters and keeps café."""

    NAME = "a\u202e\x1b b'c.h5"

    def check_named(self, stdout, lines):
        self.assertNoRawText(stdout)
        word = "$'a\\u202e\\x1b b\\'c.h5'"
        self.assertEqual(bash_word(word), self.NAME.encode())
        for line in lines:
            self.assertIn(line + word, stdout)

    def test_run(self):
        p = run(["run", "--runs", "40", "--months", "6", "-o", self.NAME], self.dir, check=0)
        self.check_named(p.stdout, ["Wrote ", " report "])

    def test_sweep(self):
        (self.dir / "s.yaml").write_text("simulation: {runs: 40, months: 6}\n")
        p = run(["sweep", "s.yaml", "--grid", "firm.headcount=3,5", "--runs", "40", "--months", "6", "-o", self.NAME],
                self.dir, check=0)
        self.check_named(p.stdout, ["Wrote ", "Details: smbsim summarize "])

    def test_demo(self):
        p = run(["demo", "fragility", "--runs", "40", "--months", "6", "-o", self.NAME], self.dir, check=0)
        self.check_named(p.stdout, ["Wrote ", " report "])

    def test_discover(self):
        self.small_file()
        os.rename(self.dir / "good.h5", self.dir / self.NAME)
        p = run(["discover", self.NAME], self.dir, check=0)
        self.check_named(p.stdout, ["Scenario discovery (PRIM) in "])

    def test_plain_names_stay_plain(self):
        p = run(["run", "--runs", "40", "--months", "6", "-o", "out-1.h5"], self.dir, check=0)
        self.assertIn("Wrote out-1.h5 (", p.stdout)
        p = run(["run", "--runs", "40", "--months", "6", "-o", "my out.h5"], self.dir, check=0)
        self.assertIn("Wrote 'my out.h5' (", p.stdout)

    def test_validate_yaml(self):
        import yaml

        name = "a\u2066b\u200bc\u2028e\u202ef"
        (self.dir / "s.yaml").write_text(json.dumps({"name": name, "description": "café \x1b"}))
        p = run(["validate", "s.yaml"], self.dir, check=0)
        self.assertNoRawText(p.stdout)
        resolved = yaml.safe_load(p.stdout.split("\n\n")[0])  # the YAML reads back the same
        self.assertEqual(resolved["name"], name)
        self.assertEqual(resolved["description"], "café \x1b")
        (self.dir / "c.yaml").write_text("name: café\n")
        self.assertIn("name: café\n", run(["validate", "c.yaml"], self.dir, check=0).stdout)
        shutil.copy(self.dir / "c.yaml", self.dir / "c\u202e\nx.yaml")
        p = run(["validate", "c\u202e\nx.yaml"], self.dir, check=0)
        self.assertNoRawText(p.stdout)
        self.assertTrue(p.stdout.startswith("# c\\u202e\\nx.yaml: valid"), p.stdout[:100])
        j = json.loads(run(["validate", "s.yaml", "--json"], self.dir, check=0).stdout)
        self.assertEqual(j["name"], name)


class LongPaths(Scratch):
    """F9: every error line keeps at most the last 80 bytes of a file name, whoever wrote it."""

    def setUp(self):
        super().setUp()
        self.long = self.dir
        for k in range(15):
            self.long = self.long / (f"d{k}" + "x" * 200)
        self.long.mkdir(parents=True)
        self.assertGreater(len(str(self.long)), 3000)
        (self.long / "ok.yaml").write_text("simulation: {runs: 40, months: 6}\n")
        shutil.copy(self.small_file(), self.long / "r.h5")

    def bounded(self, args, code):
        p = run(args, self.dir, check=code)
        self.assertTrue(p.stderr)
        for line in p.stderr.splitlines():
            self.assertLess(len(line.encode()), 200, line)

    def test_error_lines(self):
        d = str(self.long)
        self.bounded(["summarize", d + "/nothere.h5"], 2)
        self.bounded(["summarize", d + "/ok.yaml"], 2)
        self.bounded(["run", "--runs", "40", "-o", d + "/r.h5", "-q"], 2)
        self.bounded(["run", "--runs", "40", "-o", d + "/nodir/r.h5", "-q"], 1)
        self.bounded(["discover", d + "/nothere.h5"], 2)
        self.bounded(["discover", d + "/ok.yaml"], 2)
        self.bounded(["sensitivity", d + "/nothere.yaml"], 2)
        self.bounded(["stress", d + "/nothere.yaml", "--cash", "--probability", "0.5"], 2)
        self.bounded(["sweep", d + "/ok.yaml", "--grid", "firm.headcount=3,5", "-o", d + "/r.h5"], 2)


class Minors(Scratch):
    """F10: an empty or unknown --variant, subnormal numbers, `...` in --set, a link loop."""

    def test_discover_variant(self):
        self.small_file()
        p = run(["discover", "good.h5", "--variant", ""], self.dir, check=2)
        self.assertIn("--variant: expected a variant's name, found an empty one", p.stderr)
        p = run(["discover", "good.h5", "--variant", "nosuch"], self.dir, check=2)
        self.assertIn("expected a variant of good.h5 (base), found none of that name", p.stderr)

    def test_subnormal_numbers(self):
        for text in ["high: 5e-324", "median: 5e-324"]:
            dist = "{dist: uniform, low: 0, " + text + "}" if "high" in text else "{dist: lognormal, " + text + ", p90: 1}"
            (self.dir / "s.yaml").write_text("market:\n  fit: " + dist + "\n")
            p = run(["validate", "s.yaml"], self.dir)
            self.assertNotIn("expected a number", p.stderr)

    def test_set_with_document_end(self):
        p = run(["validate", "--set", "firm.headcount=5\n...\nx"], self.dir, check=2)
        self.assertIn("found a second document (after ...)", p.stderr)
        p = run(["validate", "--set", "firm.headcount=5\n---\nx"], self.dir, check=2)
        self.assertIn("found a second document (after ---)", p.stderr)

    def test_link_loop(self):
        os.symlink("loop2.h5", self.dir / "loop1.h5")
        os.symlink("loop1.h5", self.dir / "loop2.h5")
        p = run(["run", "--runs", "40", "-o", "loop1.h5", "-q"], self.dir, check=2)
        self.assertIn("a symbolic link in a loop", p.stderr)
        self.assertNotIn("does not exist", p.stderr)
        p = run(["summarize", "loop1.h5"], self.dir, check=2)
        self.assertIn("symbolic links", p.stderr)


if __name__ == "__main__":
    SMBSIM = os.path.abspath(sys.argv[1])
    SOURCE = Path(sys.argv[2]).resolve()
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=1)
