#!/usr/bin/python3
"""Print the parameter table of models/firm/parameters.cpp as the Markdown rows of
docs/model.md §13 and docs/scenario-format.md (key, unit, the four size defaults, range,
meaning, source), so the docs can be regenerated when the table changes. With --shocks,
the shock kinds of models/firm/shock_kinds.cpp as the rows of docs/model.md §7 (type,
effect, cash impact, source); tests/check_docs.py checks that the docs hold them.

Usage: tools/param_table.py [--shocks] [REPO_ROOT]   (default: this file's repository)
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


LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')


def shock_rows(root: Path) -> list:
    """The Markdown rows of the shock kinds, in table order."""
    text = (root / "models/firm/shock_kinds.cpp").read_text()
    body = text[text.index("kShockKinds{{"):]
    rows = []
    for row in body.split("{ShockType::")[1:]:
        strings, end = [], None
        for m in LITERAL.finditer(row):  # adjacent literals are one string, as in C++
            value = m.group(1).replace('\\"', '"')
            if end is not None and row[end:m.start()].strip() == "":
                strings[-1] += value
            else:
                strings.append(value)
            end = m.end()
        name, effect, impact, source = strings[:4]
        rows.append(f"| `{name}` | {effect} | {impact} | {source} |")
    if not rows:
        sys.exit("found no shock kinds in models/firm/shock_kinds.cpp: update the parser")
    return rows


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--shocks"]
    root = Path(args[0]) if args else Path(__file__).resolve().parent.parent
    if "--shocks" in sys.argv[1:]:
        print("\n".join(shock_rows(root)))
        return
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
