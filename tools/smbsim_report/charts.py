"""The result file's charts. Every estimate is drawn with its 95% interval: survival with
the band the file stores, causes and the months firms end in with the summary's Wilson
intervals, differences between variants with the summary's paired intervals. Every
variant is drawn: the fan charts are small multiples, PANELS to an image."""
import math
import os

# The report draws into files with Agg whatever the environment asks. An MPLBACKEND that
# matplotlib does not know would fail its import with a traceback: it is taken out of
# the environment first, and check_backend() says so in one line.
ASKED_BACKEND = os.environ.pop("MPLBACKEND", "")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter  # noqa: E402

from .data import BadInput  # noqa: E402
from .entry import one_line  # noqa: E402
from .words import cause_label, money, plain, printable  # noqa: E402

COLORS = ["#1f5fa8", "#d1495b", "#2e8b57", "#edae49", "#6a4c93", "#00798c", "#8d6a9f", "#555555"]
STYLES = ["-", "--", ":", "-."]  # a second, third... round of the colours
PANELS, COLUMNS = 6, 3  # fan chart panels per image, per row

plt.rcParams.update({
    "font.size": 15, "axes.titlesize": 18, "axes.labelsize": 16, "legend.fontsize": 13,
    "xtick.labelsize": 14, "ytick.labelsize": 14, "axes.spines.top": False, "axes.spines.right": False,
    "figure.dpi": 110, "savefig.bbox": "tight",
})


def check_backend():
    """An MPLBACKEND that matplotlib does not know is bad input (it would not be used)."""
    if not ASKED_BACKEND:
        return
    try:
        matplotlib.rcsetup.validate_backend(ASKED_BACKEND)
    except ValueError:
        raise BadInput(f"MPLBACKEND: expected a matplotlib backend such as agg, found {one_line(repr(ASKED_BACKEND))} "
                       "(the report draws with agg whatever it says: unset MPLBACKEND)") from None


class Chart:
    """A saved image, its title, and a caption (which variants it shows, where it shows
    a subset)."""

    def __init__(self, path, title, caption=""):
        self.path, self.title, self.caption = path, title, caption


def color(i):
    return COLORS[i % len(COLORS)]


def style(i):
    return STYLES[(i // len(COLORS)) % len(STYLES)]


def save(fig, out, name):
    path = out / name
    fig.savefig(path)
    plt.close(fig)
    return path


def legend_columns(n):
    return 1 if n <= 8 else 2


def survival(variants, out):
    fig, ax = plt.subplots(figsize=(11, 6.5))
    for i, v in enumerate(variants):
        ax.plot(v["month"], v["survival"], color=color(i), ls=style(i), lw=2.5, label=printable(v["name"]))
        ax.fill_between(v["month"], v["survival_lo"], v["survival_hi"], color=color(i), alpha=0.25, lw=0)
    ax.set_xlabel("Months since start")
    ax.set_ylabel("Firms still trading")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, variants[0]["month"][-1])
    ax.grid(alpha=0.3)
    ax.set_title("Survival (shaded: 95% confidence band)")
    ax.legend(loc="lower left", frameon=False, ncol=legend_columns(len(variants)))
    return [Chart(save(fig, out, "survival.png"), "Survival over time")]


def fans(variants, out, q, label, formatter, share_y):
    """One panel per variant, PANELS to an image: every variant is drawn. Money can differ
    by orders of magnitude between variants (a micro and a large firm): then each panel
    gets its own scale."""
    charts = []
    pages = [variants[i:i + PANELS] for i in range(0, len(variants), PANELS)]
    what = label.split(" (")[0]
    for page, shown in enumerate(pages):
        cols = min(COLUMNS, len(shown))
        rows = math.ceil(len(shown) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols + 1, 5.2 * rows + 0.8), sharey=share_y, squeeze=False)
        for k, ax in enumerate(axes.flat):
            if k >= len(shown):
                ax.set_visible(False)
                continue
            v = shown[k]
            c = color(page * PANELS + k)
            data, t = v[q], v["month"]
            ax.fill_between(t, data[:, 0], data[:, 4], color=c, alpha=0.18, lw=0, label="90% of survivors")
            ax.fill_between(t, data[:, 1], data[:, 3], color=c, alpha=0.35, lw=0, label="50% of survivors")
            ax.plot(t, data[:, 2], color=c, lw=2.5, label="median")
            lo, hi = v[q + "_median_ci"]
            ax.plot(t, lo, color=c, lw=1, ls="--", label="median's 95% interval")
            ax.plot(t, hi, color=c, lw=1, ls="--")
            ax.set_title(printable(v["name"]))
            ax.set_xlabel("Months since start")
            ax.grid(alpha=0.3)
            ax.yaxis.set_major_formatter(FuncFormatter(formatter))
            if k % cols == 0:
                ax.set_ylabel(label)
        fig.subplots_adjust(wspace=0.3 if share_y else 0.45, hspace=0.45)
        axes[0][0].legend(loc="best", frameon=False)
        part = f" ({page + 1} of {len(pages)})" if len(pages) > 1 else ""
        fig.suptitle(f"{what} over time, among firms still trading{part}", fontsize=18)
        name = f"fan_{q}.png" if len(pages) == 1 else f"fan_{q}_{page + 1}.png"
        charts.append(Chart(save(fig, out, name), f"{what}: median, 50% and 90% bands{part}",
                            "Panels: " + "; ".join(printable(v["name"]) for v in shown)))
    return charts


def offsets(n, width=0.8):
    """Where n variants' markers sit within one category, centred on it."""
    return [width * ((i + 0.5) / n - 0.5) for i in range(n)]


def failure_months(variants, summary, out):
    """The share of all firms that end (insolvent or closed) in each year (month, for a
    horizon under two years), with the summary's 95% Wilson intervals."""
    fig, ax = plt.subplots(figsize=(12, 6.5))
    period = summary["variants"][variants[0]["name"]]["ended_by_period"]
    by_year = period["months"] == 12
    for i, (v, dx) in enumerate(zip(variants, offsets(len(variants)))):
        ps = summary["variants"][v["name"]]["ended_by_period"]["periods"]
        x = np.arange(len(ps)) + dx
        p = np.array([e["share"]["p"] for e in ps])
        lo = np.array([e["share"]["lo"] for e in ps])
        hi = np.array([e["share"]["hi"] for e in ps])
        ax.errorbar(x, p, yerr=[p - lo, hi - p], fmt="o", color=color(i), ms=6, capsize=3, lw=1.8, label=printable(v["name"]))
    ps = period["periods"]
    ax.set_xticks(range(len(ps)))
    ax.set_xticklabels([f"{(e['to'] + 11) // 12}" if by_year else str(e["from"]) for e in ps])
    ax.set_xlabel("Year" if by_year else "Month")
    ax.set_ylabel(f"Share of all firms ending that {'year' if by_year else 'month'}")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.set_title("When firms become insolvent or close (95% intervals)")
    ax.legend(frameon=False, ncol=legend_columns(len(variants)))
    return [Chart(save(fig, out, "failure_months.png"), "When firms become insolvent or close")]


def causes(variants, summary, out):
    """Each cause's share of the firms that ended, with the summary's Wilson intervals."""
    shares = {v["name"]: summary["variants"][v["name"]]["failure_cause_intervals"] for v in variants}
    totals = {}
    for by_cause in shares.values():
        for c, iv in by_cause.items():
            totals[c] = totals.get(c, 0) + (iv["p"] or 0)
    shown = sorted(totals, key=lambda c: totals[c])[-8:]
    if not shown:
        return []
    fig, ax = plt.subplots(figsize=(11, 0.7 * len(shown) * max(1, len(variants)) ** 0.5 + 2.5))
    height = 0.8 / len(variants)
    y = np.arange(len(shown))
    for i, v in enumerate(variants):
        iv = [shares[v["name"]].get(c) or {"p": 0.0, "lo": 0.0, "hi": 0.0} for c in shown]
        p = np.array([e["p"] for e in iv])
        # First variant on top within each group, as in the legend.
        ax.barh(y + 0.4 - (i + 0.5) * height, p, height, color=color(i), label=printable(v["name"]),
                xerr=[p - np.array([e["lo"] for e in iv]), np.array([e["hi"] for e in iv]) - p],
                error_kw={"ecolor": "#333333", "capsize": 3, "lw": 1.2})
    ax.set_yticks(y)
    orderly = set().union(*(v["orderly"] for v in variants))
    ax.set_yticklabels([cause_label(c, c in orderly) + (" (not insolvency)" if c in orderly else "") for c in shown])
    ax.set_xlabel("Share of the firms that ended (95% intervals)")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("What ends the firm: insolvency by cause, or orderly closure" if orderly & set(shown)
                 else "What makes the firm insolvent")
    ax.legend(frameon=False, loc="lower right", ncol=legend_columns(len(variants)))
    return [Chart(save(fig, out, "failure_causes.png"), "How firms end")]


def comparison(variants, summary, out):
    """Each variant minus the first, run by run, with the summary's paired 95% intervals."""
    base, others = variants[0], variants[1:]
    if not others:
        return []
    # The columns the file marks as the survival indicator and the money compared run by run.
    panels = []
    if "survival" in base["roles"]:
        panels.append((base["roles"]["survival"][0], f"Survival at month {base['month'][-1]} (percentage points)",
                       lambda x, _=None: f"{100 * x:+.0f}"))
    if "profit" in base["roles"]:
        name, units = base["roles"]["profit"]
        panels.append((name, f"{plain(name).capitalize()} ({printable(units)})", money))
    if not panels:
        return []
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 0.6 * len(others) + 3.5), squeeze=False)
    for ax, (col, label, fmt) in zip(axes[0], panels):
        rows = [(v["name"], summary["variants"][v["name"]]["paired_deltas"].get(col)) for v in others]
        rows = [(n, d) for n, d in rows if d and d.get("mean") is not None]
        for i, (n, d) in enumerate(rows):
            m = d["mean"]
            ax.errorbar([m], [i], xerr=[[m - d["lo"]], [d["hi"] - m]], fmt="o", color=color(i + 1), ms=9, capsize=6, lw=2.5)
        ax.axvline(0, color="black", lw=1)
        ax.set_yticks(np.arange(len(rows)))
        ax.set_yticklabels([printable(n) for n, _ in rows])
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(FuncFormatter(fmt))
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.set_xlabel(label)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"Difference from {printable(base['name'])} (paired runs, 95% CI)", fontsize=18)
    return [Chart(save(fig, out, "variant_comparison.png"), "Variants compared with the baseline")]


def heatmap(variants, summary, out, axes_info):
    """Survival at the horizon over a two-parameter sweep, each cell with its interval."""
    (k0, k1), (v0, v1) = axes_info
    grid = np.zeros((len(v0), len(v1)))
    text = {}
    for i in range(len(v0)):
        for j in range(len(v1)):
            end = summary["variants"][variants[i * len(v1) + j]["name"]]["survival"]["end"]
            grid[i, j] = end["p"]
            text[i, j] = f"{100 * end['p']:.0f}%\n[{100 * end['lo']:.0f}, {100 * end['hi']:.0f}]"
    fig, ax = plt.subplots(figsize=(1.9 * len(v1) + 4, 1.1 * len(v0) + 3))
    im = ax.imshow(grid, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto", origin="lower")
    for (i, j), t in text.items():
        ax.text(j, i, t, ha="center", va="center", fontsize=13, color="black" if 0.25 < grid[i, j] < 0.8 else "white")
    ax.set_xticks(range(len(v1)))
    ax.set_xticklabels([printable(x) for x in v1])
    ax.set_yticks(range(len(v0)))
    ax.set_yticklabels([printable(x) for x in v0])
    ax.set_xlabel(plain(k1))
    ax.set_ylabel(plain(k0))
    ax.spines[:].set_visible(False)
    months = variants[0]["month"][-1]
    fig.colorbar(im, ax=ax, format=PercentFormatter(1.0), label=f"Survival at month {months}")
    ax.set_title(f"Sweep: survival at month {months} [95% interval]")
    return [Chart(save(fig, out, "sweep_heatmap.png"), "Sweep heat map")]
