"""The scenario reader and the option parser against hostile input (issue 27, items 8-13
and 16): what the bad-scenario corpus cannot hold (NUL and bidi characters, huge names
and lists, multi-line options, generated variant names). Run by ctest as reader_CLASS.

Usage: test_reader.py SMBSIM_BINARY SOURCE_DIR [unittest args]
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

SMBSIM = None
SOURCE = None
# A problem line names a place, a key and a value, each cut at about 80 bytes, and the
# whole line is cut at 400 bytes before escaping (an escape is at most 10 bytes for 4).
MAX_LINE = 1000


def run(args, cwd, check=None):
    p = subprocess.run([SMBSIM] + args, cwd=cwd, capture_output=True, timeout=600)
    p.stdout, p.stderr = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    if check is not None:
        assert p.returncode == check, f"exit {p.returncode} for {args}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p


class Scratch(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="smbsim-reader-"))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def refused(self, args, *parts):
        """`args` exit 2 with one line per problem, each bounded, and `parts` in the output."""
        p = run(args, self.dir, check=2)
        self.assertEqual(p.stdout, "")
        for line in p.stderr.splitlines():
            self.assertLess(len(line.encode()), MAX_LINE, line[:200])
        for part in parts:
            self.assertIn(part, p.stderr)
        self.assertNotIn("terminate", p.stderr)
        return p.stderr


class Documents(Scratch):
    """Item 8: a second YAML document is refused, in a file, on stdin and in --set."""

    def test_set_value_with_a_second_document(self):
        err = self.refused(["validate", "--set", "firm.size=micro\n---\nfirm: {headcount: ["],
                           "firm.size: expected one YAML value, found a second document")
        self.assertEqual(len(err.splitlines()), 1, err)

    def test_standard_input(self):
        p = subprocess.run([SMBSIM, "validate", "-"], cwd=self.dir, capture_output=True, text=True,
                           input="firm: {headcount: 5}\n...\nfirm: {headcount: 6}\n", timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stderr, "<stdin>:3:1: expected one YAML document, found a second (after a --- or ... line): "
                                   "a scenario is one document, and yaml-cpp would silently read the first alone\n")

    def test_one_document_with_markers_is_fine(self):
        (self.dir / "one.yaml").write_text("---\nfirm: {headcount: 5}\n...\n")
        run(["validate", "one.yaml"], self.dir, check=0)


class Variants(Scratch):
    """Items 9, 10, 12 where the corpus cannot reach: the sweep's names, --set against a variant."""

    def test_a_base_value_every_variant_overrides_is_checked(self):
        (self.dir / "v.yaml").write_text("market: {isomorphism: abc}\nvariants:\n  a: {market.isomorphism: 0.2}\n"
                                         "  b: {market: {isomorphism: 0.3}}\n")
        err = self.refused(["validate", "v.yaml"], 'v.yaml:1:23: market.isomorphism: expected a number in [0, 1], found "abc"')
        self.assertEqual(len(err.splitlines()), 1, err)

    def test_a_base_rule_may_name_a_plan_each_variant_defines(self):
        plan = "[{name: expansion, month: 3, cost: 1000}]"
        (self.dir / "p.yaml").write_text(
            "simulation: {runs: 10, months: 12}\n"
            "rules: [{name: stop, when: runway_months < 1, do: {cancel: expansion}}]\n"
            f"variants:\n  a: {{plans: {plan}}}\n  b: {{plans: {plan}}}\n")
        run(["validate", "p.yaml"], self.dir, check=0)

    def test_a_key_twice_in_one_set_value(self):
        self.refused(["validate", "--set", "alignment={level: 0.2, level: 0.3}"],
                     "--set alignment={level: 0.2, level: 0.3}: alignment.level: duplicate key")

    def test_sweep_names_cannot_hold_a_slash(self):
        (self.dir / "s.yaml").write_text("simulation: {runs: 10, months: 12}\n")
        self.refused(["sweep", "s.yaml", "--grid", "alignment.level=!<tag:yaml.org/float> 0.5", "-o", "out.h5"],
                     "expected values that make a variant name without /")
        self.assertFalse((self.dir / "out.h5").exists())

    def test_a_variant_named_dot_is_refused_before_running(self):
        (self.dir / "d.yaml").write_text("simulation: {runs: 10, months: 12}\nvariants:\n  a: {}\n  .: {}\n")
        self.refused(["run", "d.yaml", "-o", "out.h5"], 'd.yaml:4:3: variants..: expected a name of letters')
        self.assertEqual(sorted(p.name for p in self.dir.iterdir()), ["d.yaml"])


class Messages(Scratch):
    """Item 13: every line bounded, bidi and other invisible characters escaped, NUL shown."""

    def test_long_file_name(self):
        name = "a/" * 2500 + "x.yaml"
        err = self.refused(["validate", name], "...", "x.yaml: cannot read the scenario")
        self.assertLess(len(err), 200, err)

    def test_long_file_name_in_problem_lines(self):
        deep = self.dir / ("d" * 200) / ("e" * 200)
        deep.mkdir(parents=True)
        (deep / "bad.yaml").write_text("firm: {size: giant}\n")
        err = self.refused(["validate", str(deep / "bad.yaml")], "/bad.yaml:1:14: firm.size: expected one of")
        self.assertTrue(err.startswith("..."), err)
        self.assertLess(len(err), 250, err)

    def test_long_option_and_value(self):
        value = "q" * 5000
        err = self.refused(["validate", "--set", "firm.size=" + value], 'found "' + "q" * 80 + '..."')
        self.assertLess(len(err), 300, err)
        err = self.refused(["run", "--threads", "9" * 5000, "-o", "out.h5"], "--threads: expected a whole number")
        self.assertLess(len(err), 200, err)
        err = self.refused(["run", "-o", "x" * 5000 + ".yaml"], "--output ...")
        self.assertLess(len(err), 300, err)

    def test_every_error_line_is_cut(self):
        # Messages made outside the reader (the option parser, the result-file reader) are
        # cut too: at 400 bytes, keeping the start and the end.
        for args in (["run", "--" + "z" * 5000], ["summarize", "b/" * 2500 + ".h5"]):
            with self.subTest(args[0]):
                err = self.refused(args)
                self.assertEqual(len(err.splitlines()), 1, err)
                self.assertLessEqual(len(err.encode()), 410, err)

    def test_long_key_and_long_names_in_lists(self):
        (self.dir / "k.yaml").write_text("firm:\n  ? " + "k" * 5000 + "\n  : 1\n")  # an explicit key: no length limit
        err = self.refused(["validate", "k.yaml"], ": firm." + "k" * 75, "...: unknown key")
        self.assertLess(len(err), 300, err)
        # Shock names have no length limit; a message listing them is still one bounded line.
        shocks = "".join(f"  - {{name: {c * 3000}, type: demand, rate: 0.1, severity: 0.1, duration: 3}}\n" for c in "abcd")
        (self.dir / "s.yaml").write_text("shocks:\n" + shocks)
        err = self.refused(["validate", "s.yaml", "--set", "shocks.nosuch.rate=0.2"], "unknown shock nosuch")
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertLess(len(err), 600, err)

    def test_bidi_and_format_characters_are_escaped(self):
        err = self.refused(["validate", "--set", "firm.size=ab\u202ecd\u2066\u200b\u2028\U000e0041"],
                           "ab\\u202ecd\\u2066\\u200b\\u2028\\U000e0041")
        for c in "\u202e\u2066\u200b\u2028\U000e0041":
            self.assertNotIn(c, err)
        (self.dir / "b.yaml").write_text('firm: {size: "x\\u202ey\\x85"}\n', encoding="utf-8")
        err = self.refused(["validate", "b.yaml"], 'found "x\\u202ey\\u0085"')

    def test_bidi_in_a_name_is_escaped_in_the_summary(self):
        (self.dir / "n.yaml").write_text('name: "cafe\\u202eevil"\nsimulation: {runs: 20, months: 6}\n')
        p = run(["run", "n.yaml", "-q", "-o", "out.h5"], self.dir, check=0)
        self.assertIn("cafe\\u202eevil", p.stdout)
        self.assertNotIn("\u202e", p.stdout)

    def test_nul_in_a_value_is_shown_not_cut(self):
        (self.dir / "z.yaml").write_text('firm: {size: "mi\\0cro"}\n')
        self.refused(["validate", "z.yaml"], 'found "mi\\x00cro"')
        (self.dir / "n.yaml").write_text('name: "my\\0cafe"\n')
        self.refused(["validate", "n.yaml"], "n.yaml:1:7: name: expected text, found a NUL byte")


class Sizes(Scratch):
    """Item 16: a document too large is named as such, not as an alias problem."""

    def test_a_million_values(self):
        (self.dir / "big.yaml").write_text("firm:\n  seasonality: [" + "1, " * 1_000_000 + "1]\n")
        err = self.refused(["validate", "big.yaml"], "expected a scenario of at most 100000 values",
                           "a list or map this large")
        self.assertEqual(len(err.splitlines()), 1, err)


if __name__ == "__main__":
    SMBSIM = os.path.abspath(sys.argv[1])
    SOURCE = Path(sys.argv[2]).resolve()
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=1)
