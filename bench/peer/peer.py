"""The benchmark peer: the smbsim firm model (docs/model.md; "Firm model 2") written in
NumPy, vectorised over runs, as a careful analyst would write it. It reads the same
resolved scenario (`smbsim validate SCENARIO --json`). With `outputs`, it computes what
`smbsim run` writes (survival, failures by month and cause, mean, s.e. and quantiles of
the nine monthly quantities over live runs, the per-run outcome columns) and writes them
to an HDF5 file; without, survival by month only. bench/run checks that both implement
the same equations (agreement within confidence intervals) and times them side by side.
Its random numbers are NumPy's, so agreement is statistical, not bitwise.

It implements what the default scenario uses, month by month in smbsim's order:
market (demand GBM whose volatility falls with segments as far as they are uncorrelated;
a new firm's ramp-up and the lognormal segment fit showing in demand as customers learn
it), drifting tastes (lognormal steps of the value weights, renormalised), the shock
catalogue (all six types, Poisson and scheduled arrivals, triggers), strategy reviews
(the target moves toward the market's mix as sensed with error), alignment drift, noise
and reviews (with their management cost), initiatives that flop with the firm's
misalignment or a misaimed strategy (one-off losses), the industry's mix that imitators copy
(following the market with a lag), allocation with agility and chaos, then cash:
capabilities built from spend relative to competitors', customer value over a base,
share, demand limited by what staff can deliver, payroll, premises and capability spend
that follow staff, owner pay, credit line, owner draws from profit above the reserve,
buffer days and last-year totals, a credit line that grows after each profitable year; then staff move toward demand (hiring, layoffs,
leases). Conformity buys legitimacy (credit, faster ramp-up) and costs price; a
specialist earns a niche premium. Scenarios with a disruption, automation or uncertain
(distribution-valued) firm parameters other than cash_buffer_days are refused. Tastes
take a step each quarter (TASTE_STEP_MONTHS), as in smbsim.
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
QUANTITIES = ["cash", "revenue", "profit", "buffer_days", "headcount", "alignment", "project_alignment",
              "customer_value", "friction"]
QUANTILE_LEVELS = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
BASE_CAUSES = ["chronic_loss", "misalignment", "disruption", "automation", "closed"]
Z95 = 1.959963984540054
TASTE_STEP_MONTHS = 3  # models/firm/firm.hpp kTasteStepMonths


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


def value(capability, w, base):
    """Customer value [M§6]: base + (1 - base) sum_c w_c g(K_c / w_c), g(x) = 2x/(1+x);
    weights w per run (n, 6); capabilities the market does not value (w = 0) add nothing."""
    k = np.maximum(capability, 0.0)
    den = w + k
    terms = np.divide(2.0 * w * k, den, out=np.zeros_like(den), where=w > 0)
    return base + (1.0 - base) * terms.sum(axis=1)


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
                        "mean_friction": np.zeros(runs), "failed_initiatives": np.zeros(runs),
                        "months_to_realign": np.full(runs, np.nan),
                        "start_buffer_days": np.broadcast_to(start_buffer_days, (runs,)).astype(float).copy(), "market_fit": fit.copy(),
                        "owner_payouts": np.zeros(runs), "last_year_profit": np.full(runs, np.nan),
                        "last_year_revenue": np.full(runs, np.nan), "final_headcount": np.zeros(runs)}
        # Per live run, compacted with the state.
        self.run = np.arange(runs)
        self.sums = np.zeros((runs, 4))  # alignment, project alignment, customer value, friction
        self.cumulative_profit, self.payouts = np.zeros(runs), np.zeros(runs)
        self.peak, self.drawdown = np.broadcast_to(start_cash, (runs,)).astype(float).copy(), np.zeros(runs)
        self.waste_ema, self.deficit_ema = np.zeros(runs), np.zeros(runs)
        self.missteps = np.zeros(runs)  # initiatives that flopped
        # This calendar year's running totals, and the last complete year's (NaN before month 12).
        self.year = np.zeros((runs, 2))  # profit, revenue
        self.last_year = np.full((runs, 2), np.nan)
        self.compacted = ("sums", "cumulative_profit", "payouts", "peak", "drawdown", "waste_ema", "deficit_ema",
                          "year", "last_year", "missteps")

    def account(self, t, profit, revenue, payout, net, waste):
        """This month's running KPIs of every run stepped [M§11]."""
        self.cumulative_profit += profit
        self.payouts += payout
        self.peak = np.maximum(self.peak, net)
        self.drawdown = np.maximum(self.drawdown, self.peak - net)
        self.waste_ema += 0.2 * (waste - self.waste_ema)
        self.deficit_ema += 0.2 * (np.maximum(0.0, -profit) - self.deficit_ema)
        self.year += np.stack([profit, revenue], axis=1)
        if t % 12 == 0:
            self.last_year = self.year
            self.year = np.zeros_like(self.year)

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
        for name in self.compacted:
            setattr(self, name, getattr(self, name)[keep])

    def finish(self, runs, rows, months_lived, observed):
        c = self.columns
        c["final_cash"][runs] = observed["cash"][rows]
        c["final_revenue"][runs] = observed["revenue"][rows]
        c["final_headcount"][runs] = observed["headcount"][rows]
        c["cumulative_profit"][runs] = self.cumulative_profit[rows]
        c["max_drawdown"][runs] = self.drawdown[rows]
        c["owner_payouts"][runs] = self.payouts[rows]
        c["failed_initiatives"][runs] = self.missteps[rows]
        c["last_year_profit"][runs] = self.last_year[rows, 0]
        c["last_year_revenue"][runs] = self.last_year[rows, 1]
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
            m["survival_lo"] = np.minimum(np.maximum(centre - half, 0), survival)  # containing survival exactly
            m["survival_hi"] = np.maximum(np.minimum(centre + half, 1), survival)
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
    # The books in USD, established firms, seasons and the owner's decisions (docs/model.md
    # §1, §6, §16) are not mirrored: the peer times the default scenario's model.
    books = ("monthly_revenue", "gross_margin", "fixed_costs", "owner_salary", "cash", "credit_line", "seasonality")
    if (variant.get("loans") or variant.get("plans") or variant.get("rules") or firm.get("established") in (True, "true")
            or any(k in firm for k in books) or "budget" in strat):
        raise NotImplementedError("peer: the books in USD, established firms, seasons, loans, plans and rules are not implemented")
    for section in (firm, strat, align, market):
        if any(isinstance(v, dict) and "dist" in v and k != "cash_buffer_days" for k, v in section.items()):
            raise NotImplementedError("peer: uncertain firm parameters other than cash_buffer_days are not implemented")
    rng = np.random.default_rng(seed)
    n = runs
    # The default scenario's founders' capital is a distribution: one draw per run.
    buffer_days = np.clip(sampler(firm["cash_buffer_days"], rng)(n), 0.0, 36500.0)

    # [M§1] Costs at planned capacity; payroll, premises and capability spend follow staff.
    headcount = firm["headcount"]
    r_plan = headcount * firm["revenue_per_employee"]
    fixed = (firm["fixed_cost_share"] + firm["bureaucracy"]) * r_plan
    owner_pay = firm["owner_pay_share"] * r_plan
    budget = strat["budget_share"] * r_plan
    spend_ratio = strat["budget_share"] / market["competitor_budget_share"]
    review_cost = align["review_cost"] * r_plan
    iso = market["isomorphism"]
    # [M§6] Conformity buys legitimacy (credit, a faster ramp-up) and costs price; a
    # specialist earns a premium.
    legitimacy = 1 + market["legitimacy"] * iso
    credit_limit = np.full(n, firm["credit_limit_months"] * r_plan * legitimacy)
    # [M§1] A profitable year earns more credit, up to the cap (never below the start).
    credit_step = firm["credit_growth"] * legitimacy  # per month of the year's revenue
    credit_cap = max(firm["credit_limit_months"], firm["credit_max_months"]) * r_plan * legitimacy
    year_profit, year_revenue = np.zeros(n), np.zeros(n)
    exposure = np.full(runs, min(1.0, 1.0 / math.sqrt(headcount)))  # updated when a key person leaves
    coupling = coupling_matrix(firm["coupling"])
    segments = int(firm["segments"])
    price = (1 - market["price_pressure"] * iso) * (1 + market["niche_premium"] / segments)
    rho = market["segment_correlation"]
    sig = market["volatility"] * math.sqrt(rho + (1 - rho) / segments) / math.sqrt(12)
    mu = market["growth"] / 12 - 0.5 * sig * sig
    ramp_months = firm["ramp_months"] / legitimacy
    established = firm["ramp_months"] <= 0
    ramp_gap = np.full(n, 1 - firm["ramp_start"] if ramp_months > 0 else 0.0)
    ramp_keep = math.exp(-1 / ramp_months) if ramp_months > 0 else 0.0
    learning = market["fit_learning_months"]
    fit_gap = np.full(n, 0.0 if established else 1.0)
    fit_keep = math.exp(-1 / learning) if learning > 0 else 0.0
    staff, premises = np.ones(n), np.ones(n)
    hiring_bill = np.zeros(n)  # recruiting and training last month's hires, paid this month
    level, base = align["level"], market["base_value"]
    taste_sigma = market["taste_drift"] * math.sqrt(TASTE_STEP_MONTHS / 12)
    revision, sensing = strat["revision"], strat["sensing_noise"]
    revision_step = revision / (1 + 2 * variant["disruption"]["confirmation_bias"])

    # Segment fits: lognormal with mean market.fit; the firm's is their mean.
    fs = market["fit_sigma"]
    rho = market["segment_correlation"]  # fits are correlated across the firm's segments
    z = math.sqrt(rho) * rng.standard_normal((n, 1)) + math.sqrt(1 - rho) * rng.standard_normal((n, segments))
    fit = (market["fit"] * np.exp(fs * z - 0.5 * fs * fs)).mean(axis=1)
    teams = np.full((n, 4), level)
    weights = np.tile(mix(market["value_weights"]), (n, 1))
    industry = weights.copy()
    target = np.tile(mix(strat["target"]), (n, 1))

    def intended(teams, target, industry):
        follow = (teams[:, :, None] * target[:, None, :] + (1 - teams[:, :, None]) * PRIORITIES[None]).mean(axis=1)
        return (1 - iso) * follow + iso * industry

    alloc = intended(teams, target, industry)
    fr = friction(coupling, 1 - teams)
    capability = ((1 - firm["friction_waste"] * fr) * spend_ratio)[:, None] * alloc
    share = value(capability, weights, base) ** market["elasticity"]
    demand = np.ones(n)
    outflows = fixed + owner_pay + firm["variable_cost_share"] * r_plan + budget
    reserve = firm["reserve_months"] * outflows
    cash = buffer_days / DAYS_PER_MONTH * outflows
    debt = np.zeros(n)

    shocks = variant["shocks"] or []
    names = [s["name"] for s in shocks]
    out = None
    if outputs:
        out = Outputs(runs, months, BASE_CAUSES + names, cash, buffer_days, fit)
    next_arrival, until, severity = [], [], []
    for s in shocks:
        rate = s.get("rate", 0)
        next_arrival.append(1 + np.floor(rng.exponential(12.0 / rate, n)) if rate > 0 else np.zeros(n))
        until.append(np.zeros(n))
        severity.append(np.zeros(n))
    sev_draw = [sampler(s.get("severity", 0.2), rng) for s in shocks]
    dur_draw = [sampler(s.get("duration", 6), rng) for s in shocks]

    # [M§3] Initiatives beyond the routine budget: Poisson arrivals, each flops with
    # probability 1 - alignment index and costs an exponential loss.
    initiative_rate = align["initiative_rate"]
    next_initiative = (1 + np.floor(rng.exponential(12.0 / initiative_rate, n)) if initiative_rate > 0
                       else np.zeros(n))
    damp = (1 - firm["formality"]) * (1 - level)
    drift, noise = align["drift"] * damp, align["noise"] * damp
    review_months = int(align["review_months"])
    dep, waste_share = strat["depreciation"], firm["friction_waste"]
    alive_count = np.zeros(months, dtype=np.int64)
    for t in range(1, months + 1):
        # [M§6] Market: demand, the ramp-up and the fit customers have learnt.
        demand *= np.exp(mu + sig * rng.standard_normal(n))
        ramp_gap *= ramp_keep
        fit_gap *= fit_keep
        # [M§6] Tastes drift: each quarter a lognormal step of each weight, renormalised.
        if taste_sigma > 0 and t % TASTE_STEP_MONTHS == 0:
            weights = weights * np.exp(taste_sigma * rng.standard_normal((n, 6)) - 0.5 * taste_sigma * taste_sigma)
            weights /= weights.sum(axis=1, keepdims=True)

        # [M§7] Shocks.
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
                    people = np.maximum(staff * headcount, 1.0)
                    exposure = np.where(fire, np.minimum(1.0, 1.0 / np.sqrt(people)), exposure)
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

        review = t % review_months == 0
        # [M§3] A review moves the target toward the market's mix as sensed (with error).
        if review and revision > 0:
            sensed = weights * np.exp(sensing * rng.standard_normal((n, 6)))
            target = target + revision_step * (sensed / sensed.sum(axis=1, keepdims=True) - target)

        # [M§3] Alignment: drift, noise, and reviews (which cost management time).
        teams = teams * (1 - drift) + noise * rng.standard_normal((n, 4))
        if review:
            teams = np.where(teams < level, teams + align["communication"] * (level - teams), teams)
            one_off += review_cost
        teams = np.clip(teams, 0, 1)
        a_bar = teams.mean(axis=1)
        fr = friction(coupling, 1 - teams)

        # [M§3] Initiatives: one comes from each team with probability 1/4 and serves the
        # strategy with that team's alignment, else the team's own priorities; it succeeds
        # as far as what it serves is what the market values, else it flops.
        arrives = next_initiative == t
        misstep = np.zeros(n)
        if arrives.any():
            strategy_fits = 1 - 0.5 * np.abs(target - weights).sum(axis=1)
            own_fits = 1 - 0.5 * np.abs(PRIORITIES[None, :, :] - weights[:, None, :]).sum(axis=2)  # (runs, teams)
            succeeds = (teams * strategy_fits[:, None] + (1 - teams) * own_fits).mean(axis=1)
            flops = arrives & (rng.random(n) >= succeeds)
            misstep = np.where(flops, rng.exponential(1.0, n) * align["misstep_cost"] * r_plan * staff, 0.0)
            one_off += misstep
            if out is not None:
                out.missteps += flops
            next_initiative = np.where(arrives, t + 1 + np.floor(rng.exponential(12.0 / initiative_rate, n)),
                                       next_initiative)

        # [M§2] The industry's mix, which imitators copy, follows the market's with a lag.
        if taste_sigma > 0:
            industry = industry + (weights - industry) / market["imitation_lag"]

        # [M§5] Allocation: agility toward the teams' intent, plus misaligned chaos.
        want = intended(teams, target, industry)
        chaos = firm["agility"] * (1 - a_bar) * align["chaos"]
        chaos = np.where(chaos > 1e-12, chaos, 0.0)
        nxt = alloc + firm["agility"] * (want - alloc) + chaos[:, None] * rng.standard_normal((n, 6))
        nxt = np.maximum(nxt, 0)
        total = nxt.sum(axis=1, keepdims=True)
        nxt = np.where(total > 0, nxt / np.where(total > 0, total, 1), want)
        churn = 0.5 * np.abs(nxt - alloc).sum(axis=1)
        alloc = nxt

        # [M§2] Capabilities from spend relative to competitors', less friction's waste.
        build = dep * (1 - waste_share * fr) * spend_ratio
        capability = (1 - dep) * capability + build[:, None] * alloc
        project = np.minimum(alloc, target).sum(axis=1)
        v = value(capability, weights, base)
        share += market["response"] * (v ** market["elasticity"] - share)

        # [M§1] Demand in units of planned output, then what the staff can deliver.
        potential = demand * share * (fit_gap + (1 - fit_gap) * fit)
        volume = potential * (1 - ramp_gap) * d_factor * (1 - seg_loss)
        sold = np.minimum(volume, staff * (1 + firm["capacity_headroom"]) * capacity)
        base_revenue = r_plan * price * potential
        revenue = r_plan * price * sold
        fixed_now = fixed * (firm["payroll_share"] * staff + (1 - firm["payroll_share"]) * premises)
        budget_now = budget * staff
        overhead = fixed_now * firm["friction_overhead"] * fr
        churn_cost = firm["change_cost"] * churn * budget_now
        outflows = (firm["variable_cost_share"] * revenue * input_cost + fixed_now + owner_pay + overhead
                    + budget_now + churn_cost + debt * firm["interest_rate"] / 12 * rate_factor + one_off + hiring_bill)
        profit = revenue - outflows
        cash = cash + profit
        limit = credit_limit * limit_factor
        short = cash < 0
        pay = np.where(~short & (debt > 0), np.minimum(debt, firm["repay_share"] * cash), 0.0)
        debt = np.where(short, debt - cash, debt - pay)
        cash = np.where(short, 0.0, cash - pay)
        # Owners draw a share of the month's profit while cash is above the reserve and
        # nothing is owed.
        draw = (debt <= 0) & (profit > 0) & (cash > reserve)
        payout = np.where(draw, np.minimum(firm["payout_share"] * profit, cash - reserve), 0.0)
        cash -= payout
        excess = debt - limit
        repay = (debt > limit) & (cash >= excess)
        cash = np.where(repay, cash - excess, cash)
        debt = np.where(repay, limit, debt)
        buffer_days = np.where(outflows > 0, cash / np.where(outflows > 0, outflows, 1) * DAYS_PER_MONTH, 0.0)
        alive = debt <= limit + 1e-9
        # [M§1] A profitable year that ends with the line repaid earns a larger line, in
        # proportion to the year's revenue, up to the cap.
        year_profit += profit
        year_revenue += revenue
        if t % 12 == 0:
            earned = np.minimum(credit_limit + credit_step * year_revenue / 12, credit_cap)
            credit_limit = np.where((year_profit > 0) & (debt <= 0), np.maximum(earned, credit_limit), credit_limit)
            year_profit, year_revenue = np.zeros(n), np.zeros(n)

        # [M§1] Staff move toward demand: hiring up, layoffs down; premises grow at once
        # and shrink as leases run out.
        staff_before = staff
        gap = volume - staff
        staff = staff + gap / np.where(gap > 0, firm["hiring_months"], firm["layoff_months"])
        hiring_bill = firm["hiring_cost"] * firm["payroll_share"] * fixed * np.maximum(staff - staff_before, 0.0)
        premises = np.maximum(staff, premises + (staff - premises) / firm["lease_months"])

        # Keep only the live runs (a careful analyst does not step the dead).
        keep = np.flatnonzero(alive)
        alive_count[t - 1] = keep.size
        if out is not None:
            net = cash - debt
            out.sums += np.stack([a_bar, project, v, fr], axis=1)
            out.account(t, profit, revenue, payout, net, overhead + churn_cost + budget_now * (1 - project) + misstep)
            failed = ~alive
            full_capacity = staff_before * (1 + firm["capacity_headroom"])
            cause = failure_causes(failed, t, shocks, severity, until, base_revenue, revenue, firm, credit_limit,
                                   exposure, segments, out, r_plan * price, volume, full_capacity)
            observed = {"cash": net, "revenue": revenue, "profit": profit, "buffer_days": buffer_days,
                        "headcount": staff * headcount, "alignment": a_bar, "project_alignment": project,
                        "customer_value": v, "friction": fr}
            out.month(t, observed, failed, cause, keep)
            if t == months:
                out.finish(out.run, np.arange(keep.size), months, {q: x[keep] for q, x in observed.items()})
        (demand, fit, fit_gap, ramp_gap, teams, alloc, capability, share, cash, debt, staff, premises, hiring_bill,
         weights, industry, target, exposure, credit_limit, year_profit, year_revenue, next_initiative) = (
            x[keep] for x in (demand, fit, fit_gap, ramp_gap, teams, alloc, capability, share, cash, debt, staff,
                              premises, hiring_bill, weights, industry, target, exposure, credit_limit, year_profit,
                              year_revenue, next_initiative))
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
                   segments, out, price_scale, volume, full_capacity):
    """docs/model.md §7: the active shock with the largest monthly cash impact, else
    misalignment waste, else chronic loss, for each failed run. A capacity shock costs
    only the sales the staff could no longer make."""
    rows = np.flatnonzero(failed)
    vol, cap = volume[rows], full_capacity[rows]

    def sales_lost(factor):
        return price_scale * (np.minimum(vol, cap) - np.minimum(vol, cap * factor))

    best = np.zeros(rows.size)
    cause = np.full(rows.size, -1)
    for k, s in enumerate(shocks):
        sev = severity[k][rows]
        on = t <= until[k][rows]
        impact = {"demand": base_revenue[rows] * sev, "segment": base_revenue[rows] * sev / segments,
                  "input_cost": firm["variable_cost_share"] * revenue[rows] * sev, "credit": credit_limit[rows] * sev,
                  "key_person": sales_lost(1 - 0.5 * sev * exposure[rows]),
                  "supplier": sales_lost(1 - sev)}[s["type"]]
        larger = on & (impact > best)
        best = np.where(larger, impact, best)
        cause = np.where(larger, len(BASE_CAUSES) + k, cause)
    misaligned = out.waste_ema[rows] >= 0.5 * out.deficit_ema[rows]
    return np.where(cause >= 0, cause, np.where(misaligned, 1, 0))
