"""The benchmark peer: the smbsim firm model (docs/model.md) written in NumPy, vectorised
over runs, as a careful analyst would write it. It reads the same resolved scenario
(`smbsim validate SCENARIO --json`). With `outputs`, it computes what `smbsim run` writes
(survival, failures by month and cause, mean, s.e. and quantiles of the seven monthly
quantities over live runs, the per-run outcome columns) and writes them to an HDF5 file;
without, survival by month only. bench/run checks that both implement the same equations
(agreement within confidence intervals) and times them side by side. Its random numbers
are NumPy's, so agreement is statistical, not bitwise.

It implements what the default scenario uses: cash and credit, owner draws, strategy and
allocation, alignment drift, noise and reviews, coupled-team friction, agility and chaos,
capabilities and customer value, market demand and segment fit, and the shock catalogue
(all six types, Poisson and scheduled arrivals, triggers). Scenarios with a disruption,
automation or uncertain (distribution-valued) firm parameters are refused.
"""
import math

import h5py
import numpy as np

CAPS = ["product", "marketing", "sales", "operations", "automation", "service"]
PRIORITIES = np.array([[0.0, 0.5, 0.5, 0.0, 0.0, 0.0],
                       [0.7, 0.0, 0.0, 0.0, 0.3, 0.0],
                       [0.0, 0.0, 0.0, 0.8, 0.2, 0.0],
                       [0.0, 0.0, 0.2, 0.0, 0.0, 0.8]])
DAYS_PER_MONTH = 365.25 / 12
QUANTITIES = ["cash", "revenue", "profit", "alignment", "project_alignment", "customer_value", "friction"]
QUANTILE_LEVELS = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
BASE_CAUSES = ["chronic_loss", "misalignment", "disruption", "automation"]
Z95 = 1.959963984540054


def mix(d):
    return np.array([float(d.get(c, 0.0)) for c in CAPS])


def coupling_matrix(c):
    block = np.array([0, 1, 1, 0])  # {commercial, service}, {product, operations}
    same = block[:, None] == block[None, :]
    m = np.where(same, c, c * c) / 3.0
    np.fill_diagonal(m, 0.0)
    return m


def friction(coupling, misalignment):
    # 1 - mean_j prod_{k != j} (1 - C_jk m_k), for every run at once.
    passes = 1.0 - coupling[None, :, :] * misalignment[:, None, :]
    return 1.0 - passes.prod(axis=2).mean(axis=1)


def value(capability, w):
    valued = w > 0
    x = np.maximum(capability[:, valued], 0.0) / w[valued]
    return (w[valued] * 2.0 * x / (1.0 + x)).sum(axis=1)


def sampler(spec, rng):
    """A function n -> n draws of a shock's severity or duration."""
    if not isinstance(spec, dict):
        return lambda n: np.full(n, float(spec))
    kind = spec["dist"]
    if kind == "uniform":
        return lambda n: rng.uniform(spec["low"], spec["high"], n)
    if kind == "triangular":
        return lambda n: rng.triangular(spec["low"], spec["mode"], spec["high"], n)
    if kind == "beta":
        return lambda n: rng.beta(spec["a"], spec["b"], n)
    if kind == "normal":
        return lambda n: rng.normal(spec["mean"], spec["sd"], n)
    if kind == "lognormal":
        return lambda n: rng.lognormal(math.log(spec["median"]), spec["sigma"], n)
    if kind == "discrete":
        p = np.array(spec["weights"], float)
        return lambda n: rng.choice(np.array(spec["values"], float), n, p=p / p.sum())
    raise ValueError(f"peer: unknown distribution {kind}")


class Outputs:
    """What smbsim run computes, the NumPy way: monthly statistics over live runs and
    one row per run, written to HDF5 at the end."""

    def __init__(self, runs, months, causes, start_cash, start_buffer_days, fit):
        self.runs, self.months, self.causes = runs, months, causes
        self.failures = np.zeros((months, len(causes)), dtype=np.int64)
        self.stats = {q: {"mean": np.full(months, np.nan), "sem": np.full(months, np.nan),
                          "quantiles": np.full((months, 5), np.nan), "quantiles_lo": np.full((months, 5), np.nan),
                          "quantiles_hi": np.full((months, 5), np.nan)} for q in QUANTITIES}
        self.columns = {"survived": np.ones(runs, np.uint8), "failure_month": np.zeros(runs, np.int32),
                        "failure_cause": np.full(runs, -1, np.int32), "final_cash": np.zeros(runs),
                        "final_revenue": np.zeros(runs), "cumulative_profit": np.zeros(runs),
                        "max_drawdown": np.zeros(runs), "mean_alignment": np.zeros(runs),
                        "mean_project_alignment": np.zeros(runs), "mean_customer_value": np.zeros(runs),
                        "mean_friction": np.zeros(runs), "months_to_realign": np.full(runs, np.nan),
                        "start_buffer_days": np.full(runs, float(start_buffer_days)), "market_fit": fit.copy(),
                        "owner_payouts": np.zeros(runs)}
        # Per live run, compacted with the state.
        self.run = np.arange(runs)
        self.sums = np.zeros((runs, 4))  # alignment, project alignment, customer value, friction
        self.cumulative_profit, self.payouts = np.zeros(runs), np.zeros(runs)
        self.peak, self.drawdown = np.full(runs, start_cash), np.zeros(runs)
        self.waste_ema, self.deficit_ema = np.zeros(runs), np.zeros(runs)

    def month(self, t, observed, failed, cause, keep):
        """Records month t: `observed` maps quantity -> values of every run stepped this
        month; `failed` marks the runs that failed, with their `cause`; `keep` the rest."""
        dead = np.flatnonzero(failed)
        c = self.columns
        runs = self.run[dead]
        np.add.at(self.failures[t - 1], cause, 1)
        c["survived"][runs] = 0
        c["failure_month"][runs] = t
        c["failure_cause"][runs] = cause
        self.finish(runs, dead, t, observed)
        for q in QUANTITIES:
            x = observed[q][keep]
            n = x.size
            if n == 0:
                continue
            st = self.stats[q]
            st["mean"][t - 1] = x.mean()
            st["sem"][t - 1] = x.std(ddof=1) / math.sqrt(n) if n > 1 else np.nan
            # Distribution-free 95% interval of each quantile: order statistics at the
            # binomial ranks p +- z sqrt(p(1-p)/n), one partition for all fifteen ranks.
            half = Z95 * np.sqrt(QUANTILE_LEVELS * (1 - QUANTILE_LEVELS) / n)
            levels = np.concatenate([QUANTILE_LEVELS, np.maximum(QUANTILE_LEVELS - half, 0),
                                     np.minimum(QUANTILE_LEVELS + half, 1)])
            values = np.quantile(x, levels)
            st["quantiles"][t - 1], st["quantiles_lo"][t - 1], st["quantiles_hi"][t - 1] = np.split(values, 3)
        self.run = self.run[keep]
        for name in ("sums", "cumulative_profit", "payouts", "peak", "drawdown", "waste_ema", "deficit_ema"):
            setattr(self, name, getattr(self, name)[keep])

    def finish(self, runs, rows, months_lived, observed):
        c = self.columns
        c["final_cash"][runs] = observed["cash"][rows]
        c["final_revenue"][runs] = observed["revenue"][rows]
        c["cumulative_profit"][runs] = self.cumulative_profit[rows]
        c["max_drawdown"][runs] = self.drawdown[rows]
        c["owner_payouts"][runs] = self.payouts[rows]
        for k, name in enumerate(("mean_alignment", "mean_project_alignment", "mean_customer_value", "mean_friction")):
            c[name][runs] = self.sums[rows, k] / months_lived

    def write(self, path, alive):
        n, z2 = self.runs, Z95 * Z95
        survival = alive / n
        # The 95% Wilson interval, as smbsim's survival_lo/hi.
        centre = (survival + z2 / (2 * n)) / (1 + z2 / n)
        half = Z95 / (1 + z2 / n) * np.sqrt(survival * (1 - survival) / n + z2 / (4 * n * n))
        with h5py.File(path, "w") as f:
            g = f.create_group("variants/base")
            m = g.create_group("monthly")
            m["alive"], m["survival"] = alive, survival
            m["survival_lo"], m["survival_hi"] = np.maximum(centre - half, 0), np.minimum(centre + half, 1)
            m["failures"] = self.failures
            m["cause"] = np.array(self.causes, dtype=h5py.string_dtype())
            for q, st in self.stats.items():
                for k, v in st.items():
                    m[f"{q}_{k}"] = v
            o = g.create_group("outcomes")
            o["run"] = np.arange(self.runs)
            for k, v in self.columns.items():
                o.create_dataset(k, data=v, chunks=(min(self.runs, 16384),),
                                 **({"compression": "gzip", "compression_opts": 1, "shuffle": True}
                                    if v.dtype.kind in "iu" else {}))


def simulate(variant, runs, months, seed, outputs=None):
    """Survival share at the end of each month (array of length months). With `outputs`
    (a file name), also computes everything else smbsim run writes and writes it there;
    then returns (survival, Outputs)."""
    firm, strat, align, market = variant["firm"], variant["strategy"], variant["alignment"], variant["market"]
    if variant["disruption"]["month"] or variant["disruption"]["rate"] or variant["automation"]["month"]:
        raise NotImplementedError("peer: disruption and automation are not implemented")
    for section in (firm, strat, align, market):
        if any(isinstance(v, dict) and "dist" in v for v in section.values()):
            raise NotImplementedError("peer: uncertain firm parameters are not implemented")
    rng = np.random.default_rng(seed)
    n = runs

    headcount = firm["headcount"]
    r_plan = headcount * firm["revenue_per_employee"]
    fixed = (firm["fixed_cost_share"] + firm["bureaucracy"]) * r_plan
    budget = strat["budget_share"] * r_plan
    credit_limit = firm["credit_limit_months"] * r_plan
    outflows = fixed + firm["variable_cost_share"] * r_plan + budget
    exposure = min(1.0, 1.0 / math.sqrt(headcount))
    coupling = coupling_matrix(firm["coupling"])
    w, target = mix(market["value_weights"]), mix(strat["target"])
    level, iso = align["level"], market["isomorphism"]
    segments = int(firm["segments"])

    fit = (market["fit"] * np.exp(market["fit_sigma"] * rng.standard_normal((n, segments)))).mean(axis=1)
    teams = np.full((n, 4), level)

    def intended(teams):
        follow = (teams[:, :, None] * target[None, None, :] + (1 - teams[:, :, None]) * PRIORITIES[None]).mean(axis=1)
        return (1 - iso) * follow + iso / 6.0

    alloc = intended(teams)
    fr = friction(coupling, 1 - teams)
    capability = (1 - firm["friction_waste"] * fr)[:, None] * alloc
    share = value(capability, w) ** market["elasticity"]
    demand = np.ones(n)
    cash = np.full(n, firm["cash_buffer_days"] / DAYS_PER_MONTH * outflows)
    debt = np.zeros(n)

    shocks = variant["shocks"] or []
    names = [s["name"] for s in shocks]
    out = None
    if outputs:
        out = Outputs(runs, months, BASE_CAUSES + names, cash[0], firm["cash_buffer_days"], fit)
    next_arrival, until, severity = [], [], []
    for s in shocks:
        rate = s.get("rate", 0)
        next_arrival.append(1 + np.floor(rng.exponential(12.0 / rate, n)) if rate > 0 else np.zeros(n))
        until.append(np.zeros(n))
        severity.append(np.zeros(n))
    sev_draw = [sampler(s.get("severity", 0.2), rng) for s in shocks]
    dur_draw = [sampler(s.get("duration", 6), rng) for s in shocks]

    mu, sig = market["growth"] / 12, market["volatility"] / math.sqrt(12)
    damp = (1 - firm["formality"]) * (1 - level)
    drift, noise = align["drift"] * damp, align["noise"] * damp
    alive_count = np.zeros(months, dtype=np.int64)
    for t in range(1, months + 1):
        demand *= np.exp(mu - 0.5 * sig * sig + sig * rng.standard_normal(n))
        d_factor, seg_loss, input_cost = np.ones(n), np.zeros(n), np.ones(n)
        limit_factor, rate_factor, capacity, one_off = np.ones(n), np.ones(n), np.ones(n), np.zeros(n)
        fired = []
        for k, s in enumerate(shocks):
            fire = (next_arrival[k] == t) | (s.get("month", 0) == t)
            poisson = next_arrival[k] == t
            if "triggered_by" in s:
                j = names.index(s["triggered_by"])
                fire |= fired[j] & (rng.random(n) < s.get("trigger_probability", 0))
            if fire.any():
                sev = np.clip(sev_draw[k](n), 0, 1)
                dur = np.maximum(1, np.rint(dur_draw[k](n)))
                new_sev = np.where(t <= until[k], np.maximum(severity[k], sev), sev)
                severity[k] = np.where(fire, new_sev, severity[k])
                until[k] = np.where(fire, np.maximum(until[k], t + dur - 1), until[k])
                if s["type"] == "key_person":
                    capability *= np.where(fire, 1 - severity[k] * exposure, 1.0)[:, None]
                if s["type"] == "supplier":
                    one_off += np.where(fire, 0.5 * severity[k] * r_plan, 0.0)
            if poisson.any():
                gap = 1 + np.floor(rng.exponential(12.0 / s["rate"], n))
                next_arrival[k] = np.where(poisson, t + gap, next_arrival[k])
            fired.append(fire)
            on = t <= until[k]
            sv = np.where(on, severity[k], 0.0)
            kind = s["type"]
            if kind == "demand":
                d_factor *= 1 - sv
            elif kind == "segment":
                seg_loss += sv / segments
            elif kind == "input_cost":
                input_cost *= 1 + sv
            elif kind == "credit":
                limit_factor = np.minimum(limit_factor, 1 - sv)
                rate_factor *= 1 + 2 * sv
            elif kind == "key_person":
                capacity *= 1 - 0.5 * sv * exposure
            elif kind == "supplier":
                capacity *= 1 - sv
        seg_loss = np.minimum(seg_loss, 1.0)

        teams = teams * (1 - drift) + noise * rng.standard_normal((n, 4))
        if t % int(align["review_months"]) == 0:
            teams = np.where(teams < level, teams + align["communication"] * (level - teams), teams)
        teams = np.clip(teams, 0, 1)
        a_bar = teams.mean(axis=1)
        fr = friction(coupling, 1 - teams)

        want = intended(teams)
        chaos = firm["agility"] * (1 - a_bar) * align["chaos"]
        nxt = alloc + firm["agility"] * (want - alloc) + chaos[:, None] * rng.standard_normal((n, 6))
        nxt = np.maximum(nxt, 0)
        total = nxt.sum(axis=1, keepdims=True)
        nxt = np.where(total > 0, nxt / np.where(total > 0, total, 1), want)
        churn = 0.5 * np.abs(nxt - alloc).sum(axis=1)
        alloc = nxt

        dep = strat["depreciation"]
        capability = (1 - dep) * capability + dep * (1 - firm["friction_waste"] * fr)[:, None] * alloc
        v = value(capability, w)
        share += market["response"] * (v ** market["elasticity"] - share)

        price = 1 - market["price_pressure"] * iso
        revenue = r_plan * demand * share * fit * price * d_factor * (1 - seg_loss) * capacity
        profit = (revenue - firm["variable_cost_share"] * revenue * input_cost - fixed
                  - fixed * firm["friction_overhead"] * fr - budget - firm["change_cost"] * churn * budget
                  - debt * firm["interest_rate"] / 12 * rate_factor - one_off)
        cash = cash + profit
        limit = credit_limit * limit_factor
        short = cash < 0
        debt = np.where(short, debt - cash, debt)
        cash = np.where(short, 0.0, cash)
        pay = np.where(~short & (debt > 0), np.minimum(debt, firm["repay_share"] * cash), 0.0)
        debt, cash = debt - pay, cash - pay
        reserve = firm["reserve_months"] * outflows
        payout = np.where((debt <= 0) & (cash > reserve), firm["payout_share"] * (cash - reserve), 0.0)
        cash -= payout
        excess = debt - limit
        repay = (excess > 0) & (cash >= excess)
        cash = np.where(repay, cash - excess, cash)
        debt = np.where(repay, limit, debt)
        alive = debt <= limit + 1e-9

        # Keep only the live runs (a careful analyst does not step the dead).
        keep = np.flatnonzero(alive)
        alive_count[t - 1] = keep.size
        if out is not None:
            project = np.minimum(alloc, target[None, :]).sum(axis=1)
            net = cash - debt
            out.sums += np.stack([a_bar, project, v, fr], axis=1)
            out.cumulative_profit += profit
            out.payouts += payout
            out.peak = np.maximum(out.peak, net)
            out.drawdown = np.maximum(out.drawdown, out.peak - net)
            waste = (fixed * firm["friction_overhead"] * fr + firm["change_cost"] * churn * budget
                     + budget * (1 - project))
            out.waste_ema += 0.2 * (waste - out.waste_ema)
            out.deficit_ema += 0.2 * (np.maximum(0.0, -profit) - out.deficit_ema)
            failed = ~alive
            cause = failure_causes(failed, t, shocks, severity, until, r_plan * demand * share * fit * price,
                                   revenue, firm, credit_limit, exposure, segments, out)
            out.month(t, {"cash": net, "revenue": revenue, "profit": profit, "alignment": a_bar,
                          "project_alignment": project, "customer_value": v, "friction": fr}, failed, cause, keep)
            if t == months:
                final = np.arange(keep.size)
                out.finish(out.run, final, months, {"cash": net[keep], "revenue": revenue[keep]})
        (demand, fit, teams, alloc, capability, share, cash, debt) = (
            demand[keep], fit[keep], teams[keep], alloc[keep], capability[keep], share[keep], cash[keep], debt[keep])
        next_arrival = [x[keep] for x in next_arrival]
        until = [x[keep] for x in until]
        severity = [x[keep] for x in severity]
        n = keep.size
        if n == 0:
            break
    if out is not None:
        out.write(outputs, alive_count)
        return alive_count / runs, out
    return alive_count / runs


def failure_causes(failed, t, shocks, severity, until, base_revenue, revenue, firm, credit_limit, exposure,
                   segments, out):
    """docs/model.md §7: the active shock with the largest monthly cash impact, else
    misalignment waste, else chronic loss, for each failed run."""
    rows = np.flatnonzero(failed)
    best = np.zeros(rows.size)
    cause = np.full(rows.size, -1)
    for k, s in enumerate(shocks):
        sev = severity[k][rows]
        on = t <= until[k][rows]
        impact = {"demand": base_revenue[rows] * sev, "segment": base_revenue[rows] * sev / segments,
                  "input_cost": firm["variable_cost_share"] * revenue[rows] * sev, "credit": credit_limit * sev,
                  "key_person": base_revenue[rows] * 0.5 * sev * exposure,
                  "supplier": base_revenue[rows] * sev}[s["type"]]
        larger = on & (impact > best)
        best = np.where(larger, impact, best)
        cause = np.where(larger, len(BASE_CAUSES) + k, cause)
    misaligned = out.waste_ema[rows] >= 0.5 * out.deficit_ema[rows]
    return np.where(cause >= 0, cause, np.where(misaligned, 1, 0))
