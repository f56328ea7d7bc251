"""Every parameter of models/firm/parameters.cpp is documented in docs/model.md and
docs/scenario-format.md, and every outcome column and observed quantity of the firm
model in docs/output-format.md (each fixed column's row with the role and KPI label of
the outcome table in models/firm/firm.cpp); the shock kinds of models/firm/shock_kinds.cpp are the
rows of docs/model.md §7 as tools/param_table.py --shocks renders them."""
import re
import subprocess
import sys
from pathlib import Path

root = Path(sys.argv[1])
params = re.findall(r'\{Param::\w+, "([^"]+)"', (root / "models/firm/parameters.cpp").read_text())
firm = (root / "models/firm/firm.cpp").read_text()
columns = re.findall(r'\{"(\w+)", "[^"]*", "[^"]*", T::', firm)
quantities = re.findall(r'\{"(\w+)", "[^"]*", "[^"]*",\s*(?:Binning|unit|money)', firm)
missing = []
for doc in ("docs/model.md", "docs/scenario-format.md"):
    text = (root / doc).read_text()
    missing += [f"{doc}: {p}" for p in params if f"`{p}`" not in text]
out = (root / "docs/output-format.md").read_text()
missing += [f"docs/output-format.md: {c}" for c in columns + quantities if f"`{c}`" not in out]
# The fixed columns' rows: | `name` | type | units | role | kpi label | meaning |
rows = {m[0]: (m[1], m[2]) for m in re.findall(r'^\| `(\w+)` \| \w+ \| [^|]*\|\s*`?(\w*)`?\s*\|\s*([^|]*?)\s*\| ', out, re.M)}
for name, role, kpi in re.findall(r'\{"(\w+)", "[^"]*", "[^"]*", T::\w+(?:, "(\w*)")?(?:, "([^"]*)")?\}', firm):
    if rows.get(name) != (role, kpi):
        missing.append(f"docs/output-format.md: {name} with role {role!r} and kpi label {kpi!r}, found {rows.get(name)}")
assert len(params) > 40 and len(columns) > 10 and len(quantities) == 9, (len(params), len(columns), len(quantities))
model_md = (root / "docs/model.md").read_text()
shock_rows = subprocess.run([sys.executable, str(root / "tools/param_table.py"), "--shocks", str(root)],
                            capture_output=True, text=True, check=True).stdout.splitlines()
assert len(shock_rows) >= 6, shock_rows
missing += [f"docs/model.md §7 (tools/param_table.py --shocks): {r}" for r in shock_rows if r not in model_md]
if missing:
    print("undocumented:\n  " + "\n  ".join(missing))
    sys.exit(1)
print(f"{len(params)} parameters, {len(columns)} outcome columns, {len(quantities)} quantities documented")
