#!/usr/bin/python3
"""Print the parameter table of models/firm/parameters.cpp as the Markdown rows of
docs/model.md §13 and docs/scenario-format.md (key, unit, the four size defaults, range,
meaning, source), so the docs can be regenerated when the table changes.

Usage: tools/param_table.py [REPO_ROOT]   (default: this file's repository)
"""
import re
import sys
from pathlib import Path

ROW = re.compile(
    r'\{Param::\w+, "([^"]+)", "([^"]*)", (\{[^}]*\}|kDerivedDefaults), ([^,]+), ([^,]+), (true|false),\s*'
    r'"((?:[^"\\]|\\.)*)", "((?:[^"\\]|\\.)*)"\}', re.S)


def bound(x: str) -> str:
    x = x.strip()
    m = re.fullmatch(r"1e(\d+)", x)
    return f"10^{m.group(1)}" if m else ("10^12" if x == "kBig" else x)


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    text = (root / "models/firm/parameters.cpp").read_text()
    rows = ROW.findall(text)
    expected = len(re.findall(r"\{Param::\w+, \"", text))
    if len(rows) != expected:
        sys.exit(f"parsed {len(rows)} of {expected} parameter rows: update the pattern")
    for path, unit, defaults, lo, hi, whole, meaning, source in rows:
        d = (" | ".join(["derived"] * 4) if defaults == "kDerivedDefaults"
             else " | ".join(v.strip() for v in defaults.strip("{}").split(",")))
        r = f"[{bound(lo)}, {bound(hi)}]" + (" whole" if whole == "true" else "")
        print(f"| `{path}` | {unit} | {d} | {r} | {meaning} | {source} |")


if __name__ == "__main__":
    main()
