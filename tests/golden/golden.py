"""Golden results: fixed scenarios, seeds and run counts whose key outputs are stored in
expected.json. Any change to the model, the random streams or the statistics changes
them; if the change is intended, regenerate with one command and commit the diff:

    /usr/bin/python3 tests/golden/golden.py build/smbsim . --regenerate

Checks compare to 1e-9 relative (the values are deterministic; the margin only absorbs
decimal round-tripping). The model's own arithmetic gives the same bits on every x86-64
CPU (tests/cli CpuPaths: AVX-512, AVX2 and plain x86-64); the few logs left to glibc
may in principle round differently on its FMA and non-FMA paths, and a last-bit
difference can flip a single run's fate. If a check fails only on such a machine,
report it rather than loosening the check.
"""
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

CASES = {
    "default": ["run", "--runs", "2000", "--seed", "1"],
    "fragility": ["run", "scenarios/fragility.yaml", "--runs", "500", "--months", "60"],
    "recession": ["run", "scenarios/recession.yaml", "--runs", "1000"],
}


def outputs(smbsim, source, args):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "g.h5"
        subprocess.run([smbsim] + [a if not a.endswith(".yaml") else str(source / a) for a in args]
                       + ["-o", str(out), "-q"], check=True, stdout=subprocess.DEVNULL)
        s = json.loads(subprocess.run([smbsim, "summarize", str(out), "--json"], check=True, capture_output=True,
                                      text=True).stdout)
    keep = {}
    for name, v in s["variants"].items():
        keep[name] = {
            "survival": {k: x["p"] for k, x in v["survival"].items()},
            "failure_causes": v["failure_causes"],
            "cash_median_end": v["at_end"]["cash"]["median"]["p"],
            "mean_alignment": v["kpis"]["mean_alignment"]["mean"],
            "cumulative_profit": v["kpis"]["cumulative_profit"]["mean"],
        }
    return keep


def compare(expected, actual, path=""):
    problems = []
    if isinstance(expected, dict):
        if set(expected) != set(actual):
            return [f"{path}: keys {sorted(actual)} != expected {sorted(expected)}"]
        for k in expected:
            problems += compare(expected[k], actual[k], f"{path}.{k}" if path else k)
    elif isinstance(expected, (int, float)) and expected is not None:
        if actual is None or not math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-12):
            problems.append(f"{path}: {actual} != expected {expected}")
    elif expected != actual:
        problems.append(f"{path}: {actual!r} != expected {expected!r}")
    return problems


def main():
    smbsim, source = sys.argv[1], Path(sys.argv[2]).resolve()
    store = Path(__file__).with_name("expected.json")
    actual = {name: outputs(smbsim, source, args) for name, args in CASES.items()}
    if "--regenerate" in sys.argv:
        store.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n")
        print(f"wrote {store}")
        return 0
    problems = compare(json.loads(store.read_text()), actual)
    for p in problems:
        print(p)
    print(f"golden: {len(CASES)} cases, {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
