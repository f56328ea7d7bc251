"""The HTML page: one self-contained file, charts embedded, for a client."""
import base64
import html

from .data import scenario_tree
from .tables import ending_rows, plan_rows, rule_rows
from .words import description, plain, printable


def escaped(text, keep=""):
    """Text from the file for the page: printable (no control or bidi character reaches
    the client's browser raw), then HTML-escaped; `keep` as for printable."""
    return html.escape(printable(str(text), keep))


def table(head, rows):
    return ("<table><tr>" + "".join(f"<th>{escaped(h)}</th>" for h in head) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{escaped(str(c))}</td>" for c in r) + "</tr>" for r in rows)
            + "</table>")


def figure(chart):
    data = base64.b64encode(chart.path.read_bytes()).decode()
    caption = f"<figcaption>{escaped(chart.caption)}</figcaption>" if chart.caption else ""
    return (f'<h2>{escaped(chart.title)}</h2><figure><img alt="{escaped(chart.title)}" '
            f'src="data:image/png;base64,{data}">{caption}</figure>')


def write_html(meta, variants, charts, analyses, summary, columns, out):
    """charts: the result file's; analyses: those of the --analysis files."""

    tree = scenario_tree(meta)
    months = meta["months"]
    prov = [("Scenario", meta.get("scenario_name", "")), ("Runs per variant", meta["runs"]), ("Horizon (months)", months),
            ("Seed", meta["seed"]), ("smbsim", f"{meta['smbsim_version']} (git {meta['git_commit']})"),
            ("Started (UTC)", meta["started_utc"]), ("Finished (UTC)", meta["finished_utc"]),
            ("Variants (named as in the scenario)", ", ".join(v["name"] for v in variants))]
    body = [f"<h1>Report: {escaped(plain(str(meta.get('scenario_name', ''))))}</h1>"]
    text = description(tree)
    if text:
        body.append(f'<p class="description">{escaped(text)}</p>')
    body.append(f"<p>{meta['runs']:,} simulated futures for each variant, {months} months each. Every variant sees the "
                "same futures, so differences between variants come from the decisions, not from luck. Figures in "
                "brackets are 95% confidence intervals.</p>")
    body.append("<h2>Findings</h2><ul>" + "".join(f"<li>{escaped(n)}</li>" for n in summary["findings"]) + "</ul>")
    body.append(f"<h2>How the firms ended by month {months}</h2>"
                "<p>An insolvent firm ran out of cash and credit; a firm closed in good order was closed by one of the "
                "owner's rules while it could still pay its way, which is not an insolvency.</p>"
                + table(["Variant", "Still trading (share of runs)", "Insolvent (share of runs)",
                         "Closed in good order (share of runs)", "Main cause of insolvency (share of insolvencies)"],
                        ending_rows(variants, summary)))
    rules = rule_rows(variants, summary, tree, columns)
    if rules:
        body.append("<h2>What the owner's rules did</h2><p>Each rule looks at last month's books once a month. "
                    "First fired: over the runs in which it fired.</p>")
        for name, what, rows in rules:
            body.append(f"<h3>{escaped(name[:1].upper() + name[1:])}</h3>"
                        + (f"<p>{escaped(what[:1].upper() + what[1:])}.</p>" if what else "")
                        + table(["Variant", "Runs in which it fired (share)", "Times fired per run (mean ± 95% margin)",
                                 "First fired, median (month)", "First fired, mean (month)"], rows))
    plans = plan_rows(variants, summary, tree, columns)
    if plans:
        body.append("<h2>Plans</h2><p>A plan's own net cash is its revenue less its variable, fixed and one-off "
                    "costs over the run, its loan aside; a run in which it never started counts $0. Its revenue is "
                    "that of the last month the firm traded, over the runs in which it started.</p>")
        for name, what, rows in plans:
            body.append(f"<h3>{escaped(name[:1].upper() + name[1:])}</h3>"
                        + (f"<p>{escaped(what[:1].upper() + what[1:])}.</p>" if what else "")
                        + table(["Variant", "Runs in which it started (share)",
                                 "Its revenue in the last month, median (USD/month)", "Its revenue, 5% to 95%",
                                 "Its own net cash, mean per run (USD)",
                                 "Paid for itself: net cash above $0 (share of runs in which it started)"], rows))
    body += [figure(c) for c in charts]
    if analyses:
        body.append("<h2>Analyses</h2><p>From the files given with --analysis: which assumptions matter "
                    "(sensitivity), where failures concentrate (scenario discovery) and how hard a shock must be "
                    "(reverse stress test). Bars and bands are 95% intervals.</p>")
        body += [figure(c) for c in analyses]
    body.append("<h2>Provenance</h2>" + table(["", ""], prov).replace("<tr><th></th><th></th></tr>", ""))
    body.append("<details><summary>Variants as written (their changes to the scenario)</summary><pre>"
                + escaped("\n".join(printable(f"{v['name']}: {v['overrides']}") for v in variants), keep="\n") + "</pre></details>")
    body.append("<details><summary>Scenario as resolved (defaults and overrides applied)</summary><pre>"
                + escaped(meta.get("scenario_resolved", ""), keep="\n\t") + "</pre></details>")
    body.append("<details><summary>Scenario as written</summary><pre>"
                + escaped(meta.get("scenario_given", ""), keep="\n\t") + "</pre></details>")
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;font-size:18px;color:#222}"
             "img{max-width:100%}figcaption{font-size:15px;color:#555}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;"
             "text-align:left}pre{background:#f5f5f5;padding:1em;overflow:auto;font-size:13px}li{margin:.4em 0}"
             ".description{font-size:21px;border-left:4px solid #1f5fa8;padding-left:.8em}")
    page = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>smbsim report: {escaped(plain(str(meta.get('scenario_name', ''))))}</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")
    (out / "report.html").write_text(page, encoding="utf-8")

