"""Charts of the analyses saved with --json: `smbsim sensitivity` (a tornado; Sobol'
indices month by month), `smbsim discover` (PRIM's trade-off between coverage and density
along the peeling trajectory, and the first box) and `smbsim stress` (failure probability
against severity, or survival against cash). Which one a file is, its keys tell. Every
estimate is drawn with the 95% interval the command computed."""
import json
import math
from pathlib import Path

import numpy as np

from .charts import Chart, color, legend_columns, plt, save
from .data import BadInput
from .words import money, plain, printable


def num(x):
    return math.nan if x is None else float(x)


def kind_of(j):
    if not isinstance(j, dict):
        return None
    if "tornado" in j:
        return "sensitivity"
    if "boxes" in j:
        return "discover"
    if "search" in j or ("quantiles" in j and "curve" in j):
        return "stress"
    return None


def load(path):
    """(kind, JSON) of an analysis file, or BadInput naming what is wrong."""
    p = Path(path)
    if not p.is_file():
        raise BadInput(f"--analysis {path}: {'no such file' if not p.exists() else 'expected a file, found a directory or special file'}")
    try:
        j = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise BadInput(f"--analysis {path}: expected JSON, found text that is not ({' '.join(str(e).split())})")
    kind = kind_of(j)
    if kind is None:
        keys = ", ".join(sorted(j)[:6]) if isinstance(j, dict) else type(j).__name__
        raise BadInput(f"--analysis {path}: expected the --json output of smbsim sensitivity, stress or discover, "
                       f"found keys {keys or 'none'}")
    return kind, j


def charts(kind, j, out, index):
    """The charts of one analysis file; `index` keeps file names apart."""
    try:
        if kind == "sensitivity":
            return tornado(j, out, index) + sobol_curve(j, out, index)
        if kind == "discover":
            return prim(j, out, index)
        return stress(j, out, index)
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise BadInput(f"--analysis: the {kind} JSON lacks what its chart needs ({type(e).__name__}: {e})")


def readable(x):
    """A parameter's value: whole thousands with separators (money), else 3 significant digits."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def output_label(j, name):
    o = (j.get("outputs") or {}).get(name) or {}
    return o.get("label") or plain(name)


def tornado(j, out, index):
    outputs = j["tornado"]["outputs"]
    if not outputs:
        return []
    n_bars = max(len(o["bars"]) for o in outputs.values())
    cols = min(2, len(outputs))
    rows = math.ceil(len(outputs) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(9 * cols + 1, (0.8 * n_bars + 2.4) * rows + 1), squeeze=False)
    for ax in axes.flat[len(outputs):]:
        ax.set_visible(False)
    q = j["tornado"].get("quantiles", [0.1, 0.9])
    for ax, (name, o) in zip(axes.flat, outputs.items()):
        center, bars = num(o["center"]), o["bars"]
        y = np.arange(len(bars))[::-1]
        for side, c, label in (("low", "#1f5fa8", f"parameter at its {100 * q[0]:g}% value"),
                               ("high", "#d1495b", f"parameter at its {100 * q[1]:g}% value")):
            # A bar's low and high are changes from the centre, paired run by run.
            v = center + np.array([num(b[side]["value"]) for b in bars])
            lo = center + np.array([num(b[side]["lo"]) for b in bars])
            hi = center + np.array([num(b[side]["hi"]) for b in bars])
            ax.barh(y, v - center, left=center, color=c, alpha=0.75, height=0.6, label=label)
            ax.errorbar(v, y, xerr=[v - lo, hi - v], fmt="none", ecolor="#222222", capsize=4, lw=1.5)
        ax.axvline(center, color="black", lw=1)
        ax.set_yticks(y)
        # The parameter's path as the scenario writes it (a plan's name keeps its underscores).
        ax.set_yticklabels([f"{b['parameter']}\n({readable(b['low_value'])} to {readable(b['high_value'])})" for b in bars],
                           fontsize=11)
        ax.set_xlabel(output_label(j, name))
        if ((j.get("outputs") or {}).get(name) or {}).get("units") == "USD":
            ax.xaxis.set_major_formatter(plt.matplotlib.ticker.FuncFormatter(money))
        centre = money(center) if ((j.get("outputs") or {}).get(name) or {}).get("units") == "USD" else f"{center:.3g}"
        ax.set_title(f"{output_label(j, name)} (all at their medians: {centre})", fontsize=14)
        ax.grid(axis="x", alpha=0.3)
    fig.subplots_adjust(wspace=0.55, hspace=0.6)
    axes[0][0].legend(frameon=False, loc="best", fontsize=11)
    fig.suptitle("Tornado: each parameter at its low and high value, the others at their medians (95% intervals)", fontsize=16)
    return [Chart(save(fig, out, f"analysis{index}_tornado.png"), "Sensitivity: tornado",
                  f"Scenario {j.get('scenario', '')}, variant {j.get('variant', '')}")]


def sobol_curve(j, out, index):
    curve = j.get("curve") or {}
    months, indices = curve.get("months") or [], curve.get("indices") or {}
    if not months or not indices:
        return []
    fig, axes = plt.subplots(1, 2, figsize=(16, 6.5), sharey=True)
    for ax, kind, title in ((axes[0], "first", "First-order index (its effect alone)"),
                            (axes[1], "total", "Total index (with its interactions)")):
        for i, (param, ix) in enumerate(indices.items()):
            v = np.array([num(x) for x in ix[kind]["value"]])
            lo = np.array([num(x) for x in ix[kind]["lo"]])
            hi = np.array([num(x) for x in ix[kind]["hi"]])
            ax.plot(months, v, color=color(i), lw=2.2, label=plain(param))
            ax.fill_between(months, lo, hi, color=color(i), alpha=0.2, lw=0)
        ax.set_title(title, fontsize=15)
        ax.set_xlabel("Month")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("Share of the variance of survival")
    axes[1].legend(frameon=False, fontsize=11, ncol=legend_columns(len(indices)))
    fig.suptitle("Sobol' indices of survival over time (shaded: 95% bootstrap band)", fontsize=17)
    return [Chart(save(fig, out, f"analysis{index}_sobol.png"), "Sensitivity: Sobol' indices over time",
                  f"Scenario {j.get('scenario', '')}, variant {j.get('variant', '')}")]


def prim(j, out, index):
    if not j["boxes"]:
        return []
    box = j["boxes"][0]
    t = box["trajectory"]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(17, 6.5), gridspec_kw={"width_ratios": [1.1, 1]})
    cov = np.array([num(p["coverage"]) for p in t])
    den = np.array([num(p["density"]) for p in t])
    ax.plot(cov, den, "o-", color=color(0), ms=4, lw=1.8, label="peeling trajectory")
    if all("density_lo" in p for p in t):
        ax.fill_between(cov, [num(p["density_lo"]) for p in t], [num(p["density_hi"]) for p in t],
                        color=color(0), alpha=0.2, lw=0, label="95% interval of the density")
    c = t[int(box.get("chosen", 0))]
    ax.plot([num(c["coverage"])], [num(c["density"])], "*", color=color(1), ms=20, label="the box chosen")
    ax.axhline(num(j.get("share")), color="black", lw=1, ls="--", label="share over all runs")
    ax.set_xlabel("Coverage: share of the outcome's runs inside the box")
    ax.set_ylabel("Density: the outcome's rate inside the box")
    for a in (ax.xaxis, ax.yaxis):
        a.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=11)
    ax.set_title("Trade-off along the trajectory", fontsize=15)
    limits = box["limits"]
    for k, (name, (lo, hi)) in enumerate(limits.items()):
        rlo, rhi = j["inputs"][name]["range"]
        span = (rhi - rlo) or 1.0
        a, b = (max(lo, rlo) - rlo) / span, (min(hi, rhi) - rlo) / span
        bx.barh(k, 1, color="#dddddd", height=0.5)
        bx.barh(k, b - a, left=a, color=color(1), height=0.5)
        bx.text(0.5, k + 0.4, f"{max(lo, rlo):.3g} to {min(hi, rhi):.3g} (of {rlo:.3g} to {rhi:.3g})",
                ha="center", va="center", fontsize=12)
    bx.set_yticks(range(len(limits)))
    bx.set_yticklabels([plain(n) for n in limits], fontsize=12)
    bx.set_xlim(0, 1)
    bx.set_xticks([0, 1])
    bx.set_xticklabels(["lowest drawn", "highest drawn"])
    bx.set_ylim(len(limits) - 0.4, -0.6)  # the first limit on top, room for each one's values below it
    lo_d, hi_d = num(box.get("density_lo")), num(box.get("density_hi"))
    interval = f" [{100 * lo_d:.0f}, {100 * hi_d:.0f}]" if math.isfinite(lo_d) else ""
    bx.set_title(f"First box: density {100 * num(box['density']):.0f}%{interval}, "
                 f"coverage {100 * num(box['coverage']):.0f}%", fontsize=15)
    fig.suptitle(f"Scenario discovery (PRIM): where {plain(str(j.get('outcome', 'failure')))} concentrates", fontsize=17)
    return [Chart(save(fig, out, f"analysis{index}_prim.png"), "Scenario discovery: PRIM trade-off and first box",
                  box.get("sentence", ""))]


def stress(j, out, index):
    cash = j.get("search") == "cash"
    quantity, event = ("cash", "survival") if cash else ("severity", "failure")
    fig, ax = plt.subplots(figsize=(11, 6.5))
    # A point with no value (a probability no severity reaches) is not drawn; a curve of
    # none at all is said in the caption.
    curve = [e for e in j.get("curve") or [] if isinstance(e, dict) and e.get("value", 0) is not None]
    if curve and "probability" in curve[0]:  # severity (or cash) at each probability, with its interval
        p = np.array([num(e["probability"]) for e in curve])
        v, lo, hi = (np.array([num(e[k]) for e in curve]) for k in ("value", "lo", "hi"))
        ax.errorbar(v, p, xerr=[v - lo, hi - v], fmt="o-", color=color(0), capsize=4, lw=2,
                    label=f"{quantity} at which the probability is reached (95% interval)")
    elif curve:  # the probability at each severity (or cash), with its band
        x = np.array([num(e[quantity]) for e in curve])
        ax.plot(x, [num(e[event]) for e in curve], color=color(0), lw=2.5, label=f"probability of {event}")
        ax.fill_between(x, [num(e["lo"]) for e in curve], [num(e["hi"]) for e in curve], color=color(0), alpha=0.25,
                        lw=0, label="95% band")
    points = j.get("quantiles") or ([j[quantity]] if isinstance(j.get(quantity), dict) else [])
    points = [q for q in points if q.get("value") is not None]
    if points:
        v, lo, hi = (np.array([num(q[k]) for q in points]) for k in ("value", "lo", "hi"))
        ax.errorbar(v, [num(q["probability"]) for q in points], xerr=[v - lo, hi - v], fmt="D", color=color(1), ms=9,
                    capsize=6, lw=2, label="the answers asked for (95% interval)")
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    if cash:
        ax.xaxis.set_major_formatter(plt.matplotlib.ticker.FuncFormatter(money))
        ax.set_xlabel("Starting cash (USD)")
        ax.set_ylabel(f"Probability of surviving {j.get('months', '')} months")
        title = "Reverse stress test: survival against starting cash"
    else:
        ax.set_xlabel(f"Severity of the {plain(str(j.get('shock', '')))} shock (0 = none, 1 = full)")
        ax.set_ylabel(f"Probability of failing within {j.get('months', '')} months")
        title = f"Reverse stress test: failure against the severity of a {plain(str(j.get('shock', '')))} shock"
    ax.grid(alpha=0.3)
    if curve or points:
        ax.legend(frameon=False, fontsize=12)
    ax.set_title(title, fontsize=16)
    caption = f"Scenario {plain(str(j.get('scenario', '')))}, variant {printable(j.get('variant', ''))}"
    if not curve and not points:
        caption += f". No {quantity} reaches the probabilities asked for: nothing to draw"
    return [Chart(save(fig, out, f"analysis{index}_stress.png"), "Reverse stress test", caption)]
