"""The benchmark peer: the smbsim firm model (docs/model.md) written in NumPy, vectorised
over runs, as a careful analyst would write it. It reads the same resolved scenario
(`smbsim validate SCENARIO --json`) and returns survival by month, so bench/run can check
that both implement the same equations (agreement within confidence intervals) and time
them side by side. Its random numbers are NumPy's, so agreement is statistical, not bitwise.

It implements what the default scenario uses: cash and credit, owner draws, strategy and
allocation, alignment drift, noise and reviews, coupled-team friction, agility and chaos,
capabilities and customer value, market demand and segment fit, and the shock catalogue
(all six types, Poisson and scheduled arrivals, triggers). Scenarios with a disruption,
automation or uncertain (distribution-valued) firm parameters are refused.
"""
import math

import numpy as np

CAPS = ["product", "marketing", "sales", "operations", "automation", "service"]
PRIORITIES = np.array([[0.0, 0.5, 0.5, 0.0, 0.0, 0.0],
                       [0.7, 0.0, 0.0, 0.0, 0.3, 0.0],
                       [0.0, 0.0, 0.0, 0.8, 0.2, 0.0],
                       [0.0, 0.0, 0.2, 0.0, 0.0, 0.8]])
DAYS_PER_MONTH = 365.25 / 12


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


def simulate(variant, runs, months, seed):
    """Survival share at the end of each month (array of length months)."""
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
        (demand, fit, teams, alloc, capability, share, cash, debt) = (
            demand[keep], fit[keep], teams[keep], alloc[keep], capability[keep], share[keep], cash[keep], debt[keep])
        next_arrival = [x[keep] for x in next_arrival]
        until = [x[keep] for x in until]
        severity = [x[keep] for x in severity]
        n = keep.size
        if n == 0:
            break
    return alive_count / runs
