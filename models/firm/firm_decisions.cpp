// What the owner decides [M§16]: loans repaid in instalments, dated plans that add
// costs and revenue, and management rules that read last month's books and act. Rules
// draw no random numbers, so variants with and without a rule stay paired run by run.
#include "models/firm/books.hpp"
#include "models/firm/firm.hpp"
#include "models/firm/firm_equations.hpp"

#include "engine/lane_scan.hpp"
#include "engine/portable_exp.hpp"

#include <algorithm>
#include <cmath>

namespace smbsim::firm {

namespace {
/// The month of a loan that is not drawn (yet): never active.
constexpr std::int32_t kNever = -(1 << 30);
}  // namespace

std::optional<Observable> observable_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kObservableNames.size(); ++i)
    if (kObservableNames[i] == name) return static_cast<Observable>(i);
  return std::nullopt;
}

void Firm::start_decisions(int lane, const RunRandom& random) {
  LaneState& s = *s_;
  const Decisions& decisions = spec_->decisions;
  // Each uncertain amount from its own stream, keyed by its path (decision_streams_),
  // or from the design's point, like every parameter [M§12].
  std::size_t stream = 0;
  auto draw = [&](const Uncertain& u, std::size_t k, double low, double high) {
    if (u.is_fixed()) return std::clamp(u.nominal(), low, high);
    const auto j = static_cast<std::size_t>(decision_input_[k]);
    const double x = std::clamp(draw_input(j, u, random.stream(kParameters, 0, decision_streams_[k])), low, high);
    input_values_[static_cast<std::size_t>(lane) * input_count_ + j] = x;
    return x;
  };
  double owed = 0.0;
  for (int k = 0; k < loans_; ++k) {
    const LoanSpec& loan = decisions.loans[static_cast<std::size_t>(k)];
    const double principal = draw(loan.principal, stream++, 0.0, 1e13);
    const double rate = draw(loan.rate, stream++, 0.0, 5.0) / 12.0;
    s.d[rLoanPrincipal + k][lane] = principal;
    s.d[rLoanRate + k][lane] = rate;
    s.d[rLoanPayment + k][lane] = annuity_payment(principal, rate, loan.term_months);
    const bool dated = loan.plan < 0 && loan.rule < 0;
    s.i[iLoanStart + k][lane] = dated ? loan.month : kNever;
    // A loan taken before the start is owed from month 1, less what is repaid already.
    const double balance = dated && loan.month <= 0 ? annuity_balance(principal, rate, loan.term_months, -loan.month) : 0.0;
    s.d[rLoanBalance + k][lane] = balance;
    owed += balance;
  }
  s.d[rLoansOwed][lane] = owed;
  for (int k = 0; k < plans_; ++k) {
    const PlanSpec& plan = decisions.plans[static_cast<std::size_t>(k)];
    s.d[rPlanCost + k][lane] = draw(plan.cost, stream++, 0.0, 1e13);
    s.d[rPlanFixed + k][lane] = draw(plan.fixed_costs, stream++, 0.0, 1e13);
    s.d[rPlanRevenue + k][lane] = draw(plan.revenue, stream++, 0.0, 1e13);
    const double ramp = draw(plan.ramp_months, stream++, 0.0, 1200.0);
    s.d[rPlanKeep + k][lane] = ramp > 0.0 ? portable_exp(-1.0 / ramp) : 0.0;
    s.d[rPlanGap + k][lane] = 1.0;
    s.d[rPlanNet + k][lane] = 0.0;
    s.d[rPlanLastRevenue + k][lane] = 0.0;
    s.i[iPlanDue + k][lane] = plan.month;
    s.i[iPlanStarted + k][lane] = 0;
  }
  for (int r = 0; r < rules_; ++r)
    s.i[iRuleHeld + r][lane] = s.i[iRuleLast + r][lane] = s.i[iRuleTimes + r][lane] = s.i[iRuleFirst + r][lane] = 0;
}

void Firm::apply_rules(int month) {
  // [M§16] Each rule reads last month's books; when its condition has held long enough,
  // and its cooldown and count allow, it fires.
  if (rules_ == 0 || month < 2) return;
  LaneState& s = *s_;
  const int lanes = lanes_;
  const double last_season = spec_->seasonality[static_cast<std::size_t>((month - 2) % 12)];
  for (int lane = 0; lane < lanes; ++lane) {
    s.s[sNetCash][lane] = s.d[rCash][lane] - s.d[rDebt][lane];
    s.s[sRevenueVsPlan][lane] = s.d[rRevenue][lane] / (s.d[rPlannedRevenue][lane] * last_season);
    s.s[sMonth][lane] = month;
  }
  auto row_of = [&](Observable what) -> const double* {
    switch (what) {
      case Observable::runway_months: return s.d[rRunway];
      case Observable::cash: return s.s[sNetCash];
      case Observable::profit: return s.d[rProfit];
      case Observable::revenue_vs_plan: return s.s[sRevenueVsPlan];
      case Observable::buffer_days: return s.d[rBufferDays];
      case Observable::month: return s.s[sMonth];
      case Observable::count_: break;
    }
    return s.s[sMonth];
  };
  for (int r = 0; r < rules_; ++r) {
    const RuleSpec& rule = spec_->decisions.rules[static_cast<std::size_t>(r)];
    const int clauses = static_cast<int>(rule.when.clauses.size());
    const double* x[kMaxClauses];
    for (int q = 0; q < clauses; ++q) x[q] = row_of(rule.when.clauses[static_cast<std::size_t>(q)].what);
    std::int32_t* held = s.i[iRuleHeld + r];
    const std::int32_t* last = s.i[iRuleLast + r];
    const std::int32_t* times = s.i[iRuleTimes + r];
    for (int lane = 0; lane < lanes; ++lane) {
      bool holds = !rule.when.any_of;
      for (int q = 0; q < clauses; ++q) {
        const Clause& c = rule.when.clauses[static_cast<std::size_t>(q)];
        const double v = x[q][lane];
        bool test = false;
        switch (c.op) {
          case Comparison::less: test = v < c.threshold; break;
          case Comparison::less_equal: test = v <= c.threshold; break;
          case Comparison::greater: test = v > c.threshold; break;
          case Comparison::greater_equal: test = v >= c.threshold; break;
        }
        holds = rule.when.any_of ? (holds || test) : (holds && test);
      }
      held[lane] = holds ? held[lane] + 1 : 0;
      const bool cooled = last[lane] == 0 || month - last[lane] >= rule.cooldown;
      const bool allowed = rule.max_times == 0 || times[lane] < rule.max_times;
      s.flags[lane] = (held[lane] > rule.delay) & cooled & allowed & (s.i[iFailureMonth][lane] == 0);
    }
    for_each_flagged(s.flags, lanes, [&](int lane) { fire_rule(r, lane, month); });
  }
}

void Firm::fire_rule(int r, int lane, int month) {
  LaneState& s = *s_;
  const Actions& act = spec_->decisions.rules[static_cast<std::size_t>(r)].act;
  s.i[iRuleTimes + r][lane] += 1;
  s.i[iRuleLast + r][lane] = month;
  if (s.i[iRuleFirst + r][lane] == 0) s.i[iRuleFirst + r][lane] = month;
  s.i[iRuleHeld + r][lane] = 0;
  // Capability spend buys capability relative to competitors' [M§2]: cutting it saves
  // cash now and wears the capabilities down.
  s.d[rBudget][lane] *= 1.0 + act.capability_budget;
  s.d[rSpendRatio][lane] *= 1.0 + act.capability_budget;
  s.d[rOwnerPay][lane] *= 1.0 + act.owner_salary;
  if (act.staff < 0.0) {
    // Lay-offs: payroll and capacity fall at once, with a month's severance; premises
    // stay until their leases run out. If demand is there, the firm hires back [M§1].
    const double let_go = -act.staff * s.d[rStaff][lane];
    s.s[fxOneOff][lane] += s.param(Param::payroll_share)[lane] * s.d[rFixedCosts][lane] * let_go;
    s.d[rStaff][lane] -= let_go;
  }
  if (act.price != 0.0) {
    // Customers answer a price change through the market share they give [M§6].
    s.d[rPriceIndex][lane] *= 1.0 + act.price;
    s.d[rPrice][lane] *= 1.0 + act.price;
    s.d[rPriceDemand][lane] = std::pow(s.d[rPriceIndex][lane], -s.param(Param::price_elasticity)[lane]);
  }
  for (const auto& [plan, months] : act.postpone)
    if (s.i[iPlanStarted + plan][lane] == 0 && s.i[iPlanDue + plan][lane] > 0) s.i[iPlanDue + plan][lane] += months;
  for (int plan : act.cancel)
    if (s.i[iPlanStarted + plan][lane] == 0) s.i[iPlanDue + plan][lane] = 0;
  if (act.loan >= 0 && s.i[iLoanStart + act.loan][lane] == kNever) s.i[iLoanStart + act.loan][lane] = month;
  if (act.close) {
    s.i[iFailureMonth][lane] = month;
    s.i[iCause][lane] = kClosing;  // orderly if it can pay what it owes (record_failures)
  }
}

void Firm::update_plans(int month) {
  // [M§16] A plan starts in its month (if not postponed or cancelled and the firm is
  // alive): its one-off cost is paid, its capabilities added, its loan drawn. Its
  // revenue then closes the gap to maturity with its ramp's time constant.
  if (plans_ == 0) return;
  LaneState& s = *s_;
  const int lanes = lanes_;
  for (int k = 0; k < plans_; ++k) {
    const PlanSpec& plan = spec_->decisions.plans[static_cast<std::size_t>(k)];
    std::int32_t* started = s.i[iPlanStarted + k];
    for (int lane = 0; lane < lanes; ++lane) {
      s.d[rPlanGap + k][lane] *= started[lane] > 0 ? s.d[rPlanKeep + k][lane] : 1.0;
      s.flags[lane] = (started[lane] == 0) & (s.i[iPlanDue + k][lane] == month) & (s.i[iFailureMonth][lane] == 0);
    }
    for_each_flagged(s.flags, lanes, [&](int lane) {
      started[lane] = month;
      s.s[fxOneOff][lane] += s.d[rPlanCost + k][lane];
      s.d[rPlanNet + k][lane] -= s.d[rPlanCost + k][lane];
      for (int c = 0; c < kCapabilities; ++c) s.d[rCapability + c][lane] += plan.capabilities[c];
      for (int l = 0; l < loans_; ++l)
        if (spec_->decisions.loans[static_cast<std::size_t>(l)].plan == k) s.i[iLoanStart + l][lane] = month;
    });
  }
}

SMBSIM_LANE_LOOPS
void Firm::plan_flows(double season) {
  // [M§16] A started plan sells R x (1 - gap) in today's market, moved by the market's
  // demand, shocks, the season and the firm's customer value as the core business is;
  // its variable costs are the firm's, its fixed costs its own.
  LaneState& s = *s_;
  const int lanes = lanes_;
  for (int lane = 0; lane < lanes; ++lane) s.s[sPlanRevenue][lane] = s.s[sPlanCosts][lane] = 0.0;
  const double* variable_share = s.param(Param::variable_cost_share);
  for (int k = 0; k < plans_; ++k) {
    const std::int32_t* started = s.i[iPlanStarted + k];
#pragma GCC ivdep  // lanes are independent runs
    for (int lane = 0; lane < lanes; ++lane) {
      const bool on = started[lane] > 0;
      const double start_share = s.d[rShareStart][lane];
      const double customers = start_share > 0.0 ? s.d[rShare][lane] / start_share : 0.0;
      const double market = s.d[rDemand][lane] * s.s[fxDemand][lane] * (1.0 - s.s[fxSegmentLoss][lane]) * season;
      const double revenue =
          on ? s.d[rPlanRevenue + k][lane] * (1.0 - s.d[rPlanGap + k][lane]) * market * customers * s.d[rPriceIndex][lane]
             : 0.0;
      const double variable = variable_share[lane] * (revenue / s.d[rPriceIndex][lane]) * s.s[fxInputCost][lane] *
                              (1.0 - s.s[sCostCut][lane]);
      const double fixed = on ? s.d[rPlanFixed + k][lane] : 0.0;
      s.s[sPlanRevenue][lane] += revenue;
      s.s[sPlanCosts][lane] += variable + fixed;
      s.d[rPlanLastRevenue + k][lane] = revenue;
      s.d[rPlanNet + k][lane] += revenue - variable - fixed;
    }
  }
}

SMBSIM_LANE_LOOPS
void Firm::loan_flows(int month) {
  // [M§16] Each loan: its principal arrives in its month; then equal instalments of
  // interest and principal, the last one clearing what is left.
  LaneState& s = *s_;
  const int lanes = lanes_;
  for (int lane = 0; lane < lanes; ++lane) {
    s.s[sLoanInflow][lane] = s.s[sLoanInterest][lane] = s.s[sLoanRepaid][lane] = 0.0;
    s.d[rLoansOwed][lane] = 0.0;
  }
  for (int k = 0; k < loans_; ++k) {
    const int term = spec_->decisions.loans[static_cast<std::size_t>(k)].term_months;
    const std::int32_t* start = s.i[iLoanStart + k];
#pragma GCC ivdep  // lanes are independent runs
    for (int lane = 0; lane < lanes; ++lane) {
      double& balance = s.d[rLoanBalance + k][lane];
      const bool draw = start[lane] == month;
      const bool active = (start[lane] < month) & (month <= start[lane] + term);
      const double interest = active ? balance * s.d[rLoanRate + k][lane] : 0.0;
      const double instalment_principal = month == start[lane] + term ? balance : s.d[rLoanPayment + k][lane] - interest;
      const double repaid = active ? instalment_principal : 0.0;
      const double inflow = draw ? s.d[rLoanPrincipal + k][lane] : 0.0;
      balance = balance - repaid + inflow;
      s.s[sLoanInflow][lane] += inflow;
      s.s[sLoanInterest][lane] += interest;
      s.s[sLoanRepaid][lane] += repaid;
      s.d[rLoansOwed][lane] += balance;
    }
  }
}

}  // namespace smbsim::firm
