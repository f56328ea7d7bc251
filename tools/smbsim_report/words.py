"""Plain words for the scenario and the figures: the page is for a client, so no
identifier of the file (failure_cause, plan_NAME_started, ...) appears in its text.
Causes, plans and rules are shown with spaces for underscores, as the findings show
causes ("lost segment"); an orderly closure says what it is."""
import math
import re

OBSERVABLES = {"runway_months", "cash", "profit", "revenue_vs_plan", "buffer_days", "month"}  # a rule's `when`
COMPARISONS = {"<": "below", "<=": "at or below", ">": "above", ">=": "at or above"}
MONTH_COMPARISONS = {"<": "before month", "<=": "up to month", ">": "after month", ">=": "from month"}

# Code points that print nothing or reorder what follows (Unicode format characters, C1
# controls, line separators): the same spans as models/scenario/text.cpp's invisible().
INVISIBLE = ((0x80, 0x9f), (0xad, 0xad), (0x600, 0x605), (0x61c, 0x61c), (0x6dd, 0x6dd), (0x70f, 0x70f),
             (0x890, 0x891), (0x8e2, 0x8e2), (0x180e, 0x180e), (0x200b, 0x200f), (0x2028, 0x202e),
             (0x2060, 0x2064), (0x2066, 0x206f), (0xfeff, 0xfeff), (0xfff9, 0xfffb), (0x110bd, 0x110bd),
             (0x110cd, 0x110cd), (0x13430, 0x1343f), (0x1bca0, 0x1bca3), (0x1d173, 0x1d17a), (0xe0001, 0xe0001),
             (0xe0020, 0xe007f))
NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def printable_char(c, keep):
    cp = ord(c)
    if c in keep:
        return c
    if c in NAMED:
        return NAMED[c]
    if cp < 0x20 or cp == 0x7f:
        return f"\\x{cp:02x}"
    if 0xdc80 <= cp <= 0xdcff:  # a byte that was not UTF-8 (Python's surrogateescape)
        return f"\\x{cp - 0xdc00:02x}"
    if 0xd800 <= cp <= 0xdfff or any(a <= cp <= b for a, b in INVISIBLE):
        return f"\\u{cp:04x}" if cp <= 0xffff else f"\\U{cp:08x}"
    return c


def printable(text, keep=""):
    """Text from a file as smbsim prints it (models/scenario/text.cpp's printable): control
    and invisible characters as \\xHH, \\uHHHH, \\n..., so a name cannot move the cursor,
    reorder the line or forge another; `keep` lists characters left as they are (the
    newlines of a scenario shown on the page)."""
    text = str(text)
    if text.isprintable() and text.isascii():
        return text
    return "".join(printable_char(c, keep) for c in text)


def plain(name):
    """A name from the file in words: underscores as spaces, printable."""
    return printable(name).replace("_", " ")


def cause_label(name, orderly=False):
    """A cause in words; an orderly end (the file's monthly/cause_orderly) says so."""
    return plain(name) + (" in good order" if orderly else "")


def usd(x, per_month=False):
    """Whole dollars with thousands separators (millions shortened), '/month' if monthly."""
    if x is None or not math.isfinite(x):
        return "-"
    a = abs(x)
    body = f"${a / 1e6:,.2f}M" if a >= 1e7 else f"${a:,.0f}"
    return ("-" if x < 0 and round(a) > 0 else "") + body + ("/month" if per_month else "")


def pct(p, lo=None, hi=None):
    """A share as a percentage, with its interval in brackets if given."""
    if p is None or not math.isfinite(p):
        return "-"
    return f"{100 * p:.1f}%" + ("" if lo is None else f" [{100 * lo:.1f}, {100 * hi:.1f}]")


def number(x, digits=1):
    return "-" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def money(x, _pos=None):
    a = abs(x)
    sign = "-" if x < 0 else ""
    if a >= 1e9:
        return f"{sign}${a / 1e9:.1f}B"
    if a >= 1e7:
        return f"{sign}${a / 1e6:.0f}M"
    if a >= 1e6:
        return f"{sign}${a / 1e6:.1f}M"
    if a >= 1e3:
        return f"{sign}${a / 1e3:.0f}k"
    return f"{sign}${a:.0f}"



def description(tree):
    """The scenario's description: the file keeps it only in the resolved scenario."""
    text = tree.get("description")
    return " ".join(str(text).split()) if text else ""


def amount(value, per_month=False, fmt=None, unit=None):
    """A scenario number or distribution as a client would say it: in dollars (per month
    if monthly) unless fmt formats a bare number and unit names what follows it."""
    fmt = fmt or usd
    unit = unit if unit is not None else ("/month" if per_month else "")
    if isinstance(value, (int, float)):
        return fmt(float(value)) + unit
    if not isinstance(value, dict):
        return str(value)
    m = lambda k: fmt(float(value[k]))  # noqa: E731
    kind = value.get("dist")
    try:
        if kind == "triangular":
            return f"{m('low')} to {m('high')}{unit}, most likely {m('mode')}{unit}"
        if kind == "uniform":
            return f"{m('low')} to {m('high')}{unit}"
        if kind == "normal":
            return f"about {m('mean')}{unit} (standard deviation {m('sd')})"
        if kind == "lognormal":
            return f"about {m('median')}{unit} (median)"
        if kind == "discrete":
            return "one of " + ", ".join(fmt(float(x)) for x in value["values"]) + unit
    except (KeyError, TypeError, ValueError):
        pass
    return "uncertain"


def loan_text(loan):
    return (f"a loan of {amount(loan.get('principal'))} at {100 * float(loan.get('rate', 0.08)):g}% a year, "
            f"repaid over {months_text(loan.get('term_months'))}")


def plan_text(plan):
    if not plan:
        return ""
    parts = [f"from month {plan.get('month')}"]
    if plan.get("cost", 0) != 0:
        parts.append(f"one-off cost {amount(plan['cost'])}")
    if plan.get("fixed_costs", 0) != 0:
        parts.append(f"added fixed costs {amount(plan['fixed_costs'], True)}")
    if plan.get("revenue", 0) != 0:
        parts.append(f"added revenue hoped for at maturity {amount(plan['revenue'], True)}, "
                     f"approached over about {amount(plan.get('ramp_months', 6), fmt='{:g}'.format, unit=' months')}")
    if isinstance(plan.get("loan"), dict):
        parts.append("financed by " + loan_text(plan["loan"]))
    if isinstance(plan.get("capabilities"), dict):
        parts.append("raises " + ", ".join(f"{plain(k)} capability by {v}" for k, v in plan["capabilities"].items()))
    return "; ".join(parts)


def condition_text(when):
    """`runway_months < 0.75 and month >= 9` as 'runway below 0.75 months and from month 9'."""

    clauses = re.split(r"\s+(and|or)\s+", str(when).strip())
    words = []
    for i, clause in enumerate(clauses):
        if i % 2:
            words.append(clause)
            continue
        m = re.fullmatch(r"([a-z_]+)\s*(<=|>=|<|>)\s*([-+0-9.eE]+)", clause.strip())
        if not m or m.group(1) not in OBSERVABLES:
            return plain(str(when))
        what, op, x = m.group(1), m.group(2), float(m.group(3))
        if what == "month":
            words.append(f"{MONTH_COMPARISONS[op]} {x:g}")
        elif what == "runway_months":
            words.append(f"the runway is {COMPARISONS[op]} {months_text(x)}")
        elif what == "buffer_days":
            words.append(f"the cash buffer is {COMPARISONS[op]} {x:g} day{'' if x == 1 else 's'}")
        elif what == "revenue_vs_plan":
            words.append(f"revenue is {COMPARISONS[op]} {100 * x:g}% of plan")
        else:
            words.append(f"{'monthly profit' if what == 'profit' else 'cash'} is {COMPARISONS[op]} {usd(x, what == 'profit')}")
    return " ".join(words)


def change(x):
    return f"{'raise' if x > 0 else 'cut'} {{}} by {abs(100 * x):g}%"


def action_text(do):
    if do == "close" or (isinstance(do, dict) and do.get("close")):
        return "close the firm in good order"
    if not isinstance(do, dict):
        return plain(str(do))
    out = []
    for key, x in do.items():
        try:
            if key == "capability_budget":
                out.append(change(x).format("the capability budget"))
            elif key == "owner_salary":
                out.append(change(x).format("the owner's salary"))
            elif key == "price":
                out.append(change(x).format("prices"))
            elif key == "staff":
                out.append(f"lay off {abs(100 * x):g}% of staff")
            elif key == "postpone":
                out += [f"postpone {plain(p)} by {months_text(n)}" for p, n in x.items()]
            elif key == "cancel":
                out += [f"cancel {plain(p)}" for p in ([x] if isinstance(x, str) else x)]
            elif key == "loan":
                out.append("take " + loan_text(x))
            else:
                out.append(f"{plain(key)}: {x}")
        except (AttributeError, TypeError, ValueError):
            out.append(f"{plain(key)}: {x}")
    return ", ".join(out)


def months_text(n):
    return f"{n:g} month" + ("" if n == 1 else "s")


def rule_text(rule):
    if not rule:
        return ""
    text = f"when {condition_text(rule.get('when', ''))}"
    if rule.get("delay"):
        text += f", {months_text(int(rule['delay']) + 1)} in a row"
    action = action_text(rule.get("do"))
    if action.startswith("close"):
        return f"{text}: {action}"
    extras = [f"then not again for {months_text(rule.get('cooldown', 12))}"]
    if rule.get("max_times") is not None:
        extras.append("at most once" if rule["max_times"] == 1 else f"at most {rule['max_times']} times")
    return f"{text}: {action} ({', '.join(extras)})"

