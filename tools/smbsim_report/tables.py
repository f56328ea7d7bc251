"""The page's tables: how the firms ended, what the owner's rules did, how the plans
turned out. Every share and interval is `smbsim summarize --json`'s; the medians and
quantiles of a plan's revenue and a rule's first month, and a plan's share of runs in
which it paid for itself, which the summary does not hold, come from the columns read
in chunks (data.Columns)."""
import math

from .data import Z95, quantiles
from .words import cause_label, number, pct, plain, plan_text, rule_text, usd


def wilson(k, n, z=Z95):
    """The Wilson interval of the one share the summary does not compute (a plan that paid
    for itself, among the runs in which it started); the same formula as engine/proportion."""
    if n == 0:
        return math.nan, math.nan, math.nan
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return p, min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half))  # containing p exactly


def interval(j):
    """(p, lo, hi) of a summary interval, NaN where it has none."""
    return tuple(math.nan if j is None or j.get(k) is None else j[k] for k in ("p", "lo", "hi"))


def named(variants, prefix, flag):
    """Names of the plans ('plan_', '_started') or rules ('rule_', '_fired') in any variant,
    in the order first met."""
    names = {}
    for v in variants:
        for col in v["columns"]:
            if col.startswith(prefix) and col.endswith(flag) and len(col) > len(prefix) + len(flag):
                names[col[len(prefix):-len(flag)]] = True
    return list(names)


def declared(tree, variant, key, name):
    """A plan's or rule's entry in the resolved scenario, or None."""
    entries = ((tree.get("variants") or {}).get(variant) or {}).get(key) or []
    return next((e for e in entries if isinstance(e, dict) and e.get("name") == name), None)


def one_text(texts):
    """What a plan or rule does, said once if every variant has it alike, else per variant;
    '' if the scenario could not be read."""
    said = {t for t in texts.values() if t}
    if len(said) <= 1:
        return next(iter(said), "")
    return "; ".join(f"in {variant}, {t}" for variant, t in texts.items() if t)


def kpi(summary, variant, column):
    """(mean, sem, runs defined) of a column, as `smbsim summarize` read them from the file."""
    k = summary["variants"][variant]["kpis"].get(column) or {}
    mean, sem = k.get("mean"), k.get("sem")
    return (math.nan if mean is None else mean), (math.nan if sem is None else sem), int(k.get("n") or 0)


def share_of_runs(summary, variant, column):
    """A 0/1 column's share of runs with its Wilson interval, from the summary."""
    return interval((summary["variants"][variant]["kpis"].get(column) or {}).get("share"))


def family_sections(variants, tree, prefix, suffix, key, describe, row):
    """One section per name of a column family (rule_NAME_fired, plan_NAME_started): its
    description and row(variant, name) for each variant that has it."""
    sections = []
    for name in named(variants, prefix, suffix):
        rows, texts = [], {}
        for v in variants:
            if f"{prefix}{name}{suffix}" not in v["columns"]:
                continue
            texts[v["name"]] = describe(declared(tree, v["name"], key, name))
            rows.append(row(v["name"], name))
        sections.append((plain(name), one_text(texts), rows))
    return sections


def rule_rows(variants, summary, tree, columns):
    """Per rule, its description and one row per variant that has it: share of runs in which
    it fired, times fired per run, first month (median and mean over runs in which it fired)."""
    def row(variant, name):
        times, times_sem, _ = kpi(summary, variant, f"rule_{name}_times")
        first_mean, _, first_n = kpi(summary, variant, f"rule_{name}_first_month")
        median, = quantiles(columns.values(variant, f"rule_{name}_first_month"), [0.5])
        return (variant, pct(*share_of_runs(summary, variant, f"rule_{name}_fired")),
                f"{number(times, 2)} ± {number(Z95 * times_sem, 2)}",
                f"{median:g}" if first_n else "-", number(first_mean) if first_n else "-")
    return family_sections(variants, tree, "rule_", "_fired", "rules", rule_text, row)


def plan_rows(variants, summary, tree, columns):
    """Per plan, its description and one row per variant that has it: share of runs in which it
    started, its revenue in the last month the firm traded (median, 5-95%, over runs in which
    it started), its own net cash (mean over all runs with 95% CI) and the share of runs in
    which it started and paid for itself."""
    def row(variant, name):
        started = f"plan_{name}_started"
        mean, sem, _ = kpi(summary, variant, f"plan_{name}_net_cash")
        paid, k = columns.count(variant, f"plan_{name}_net_cash", lambda x: x > 0, where=started)
        if k:
            q05, q50, q95 = quantiles(columns.values(variant, f"plan_{name}_revenue", where=started), [0.05, 0.5, 0.95])
            rev = (usd(q50, True), f"{usd(q05)} to {usd(q95, True)}")
        else:
            rev = ("-", "-")
        return (variant, pct(*share_of_runs(summary, variant, started)), *rev,
                f"{usd(mean)} [{usd(mean - Z95 * sem)}, {usd(mean + Z95 * sem)}]", pct(*wilson(paid, k)))
    return family_sections(variants, tree, "plan_", "_started", "plans", plan_text, row)


def ending_rows(variants, summary):
    """Per variant: still trading, insolvent and closed in good order (shares of runs with
    Wilson intervals), and the main cause of insolvency (share of insolvencies)."""
    rows = []
    for v in variants:
        s = summary["variants"][v["name"]]
        end = s["survival"]["end"]
        causes = s["insolvency_cause_intervals"]
        top = max(causes, key=lambda c: causes[c]["p"] or 0, default=None)
        main = f"{cause_label(top)} ({pct(*interval(causes[top]))})" if top else "-"
        rows.append((v["name"], pct(end["p"], end["lo"], end["hi"]), pct(*interval(s["endings"]["insolvent"])),
                     pct(*interval(s["endings"]["closed"])), main))
    return rows
