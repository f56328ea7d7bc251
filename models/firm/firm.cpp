#include "models/firm/firm.hpp"

#include "engine/portable_exp.hpp"

#include "models/firm/books.hpp"
#include "models/firm/firm_equations.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace smbsim::firm {

namespace {

/// A parameter's value as the model uses it: clamped into its range, whole if it must be.
double clamp_param(const ParamInfo& info, double x) {
  x = std::clamp(x, info.min, info.max);
  return info.integer ? std::round(x) : x;
}
}

double customer_value(const CapabilityVector& k, const Mix& w, double base_value) {
  double v = 0.0;
  for (int i = 0; i < kCapabilities; ++i) v += customer_value_term(k[i], w[i]);
  return with_base_value(base_value, v);
}

double coordination_friction(const TeamMatrix& coupling, const TeamVector& misalignment) {
  double c[kTeams][kTeams], m[kTeams];
  for (int j = 0; j < kTeams; ++j) {
    m[j] = misalignment[j];
    for (int k = 0; k < kTeams; ++k) c[j][k] = coupling(j, k);
  }
  return coordination_friction(c, m);
}

TeamMatrix coupling_matrix(double c) {
  double same = 0, cross = 0;
  coupling_strengths(c, same, cross);
  TeamMatrix m;
  for (int j = 0; j < kTeams; ++j)
    for (int k = 0; k < kTeams; ++k) m(j, k) = coupling_entry(j, k, same, cross);
  return m;
}

namespace {
/// Net cash: cash less the credit line drawn and the loans outstanding.
double net_cash(const LaneState& s, int lane) { return s.d[rCash][lane] - s.d[rDebt][lane] - s.d[rLoansOwed][lane]; }
double months_lived(const LaneState& s, int lane) { return std::max(s.i[iMonths][lane], 1); }

/// The fixed outcome columns, each with how it is read from a lane (plans' and rules'
/// columns follow, one set per plan and rule). The spec's role and KPI label go into the
/// result file with the column (docs/output-format.md).
struct OutcomeColumn {
  ColumnSpec spec;
  double (*value)(const LaneState& s, int lane);
};
using T = ColumnSpec::Type;
const OutcomeColumn kOutcomeColumns[] = {
    {{"survived", "1", "1 if the firm was alive at the horizon (0 if it failed or closed).", T::u8, "survival"},
     [](const LaneState& s, int l) { return s.i[iFailureMonth][l] > 0 ? 0.0 : 1.0; }},
    {{"failure_month", "month", "Month the firm could not pay or closed (0 if it survived).", T::i32, "failure_month"},
     [](const LaneState& s, int l) { return double(s.i[iFailureMonth][l]); }},
    {{"failure_cause", "1", "Index into monthly/cause (-1 if it survived); `closed` is an orderly closure, not an insolvency.", T::i32},
     [](const LaneState& s, int l) { return double(s.i[iCause][l]); }},
    {{"final_cash", "USD", "Net cash at the end of the run: cash minus credit drawn and loans outstanding.", T::f64, "end_value"}, net_cash},
    {{"final_revenue", "USD/month", "Revenue in the last month lived.", T::f64},
     [](const LaneState& s, int l) { return s.d[rRevenue][l]; }},
    {{"cumulative_profit", "USD", "Sum of monthly profits (net cash flows before loans).", T::f64, "profit"},
     [](const LaneState& s, int l) { return s.d[rCumulativeProfit][l]; }},
    {{"max_drawdown", "USD", "Largest fall of net cash from a previous peak.", T::f64},
     [](const LaneState& s, int l) { return s.d[rMaxDrawdown][l]; }},
    {{"mean_alignment", "1", "Alignment index averaged over the months lived.", T::f64, "", "alignment"},
     [](const LaneState& s, int l) { return s.d[rSumAlignment][l] / months_lived(s, l); }},
    {{"mean_project_alignment", "1", "Share of spend on strategy, averaged over the months lived.", T::f64, "", "spend on strategy"},
     [](const LaneState& s, int l) { return s.d[rSumProject][l] / months_lived(s, l); }},
    {{"mean_customer_value", "1", "Customer value relative to competitors, averaged.", T::f64, "", "customer value"},
     [](const LaneState& s, int l) { return s.d[rSumValue][l] / months_lived(s, l); }},
    {{"mean_friction", "1", "Coordination friction, averaged over the months lived.", T::f64, "", "friction"},
     [](const LaneState& s, int l) { return s.d[rSumFriction][l] / months_lived(s, l); }},
    {{"failed_initiatives", "1", "Initiatives beyond the routine budget that flopped (aimed at what the market does not value), over the months lived.", T::f64, "", "failed initiatives"},
     [](const LaneState& s, int l) { return s.d[rMissteps][l]; }},
    {{"months_to_realign", "month", "Months from disruption to realignment (NaN: no disruption, or failed or reached the horizon before realigning).", T::f64, "", "months to realign"},
     [](const LaneState& s, int l) {
       return s.i[iRealignedMonth][l] > 0 ? double(s.i[iRealignedMonth][l] - s.i[iDisruptionMonth][l]) : NAN;
     }},
    {{"start_buffer_days", "day", "Starting cash in days of planned outflows.", T::f64, "input"},
     [](const LaneState& s, int l) { return s.d[rStartBufferDays][l]; }},
    {{"market_fit", "1", "The run's product-market fit (segment average).", T::f64, "input"},
     [](const LaneState& s, int l) { return s.d[rFit][l]; }},
    {{"owner_payouts", "USD", "Profit drawn by the owners (beyond their salary).", T::f64},
     [](const LaneState& s, int l) { return s.d[rPayouts][l]; }},
    {{"last_year_profit", "USD", "Net cash flow over the firm's last complete year of life (NaN: under 12 months).", T::f64},
     [](const LaneState& s, int l) { return s.d[rLastYearProfit][l]; }},
    {{"last_year_revenue", "USD", "Revenue over the firm's last complete year of life (NaN: under 12 months).", T::f64},
     [](const LaneState& s, int l) { return s.d[rLastYearRevenue][l]; }},
    {{"final_headcount", "people", "Staff in the last month lived.", T::f64},
     [](const LaneState& s, int l) { return s.d[rStaff][l] * s.param(Param::headcount)[l]; }},
};
/// failure_cause's codes: -1 for a run that survived, else the index of its cause.
std::vector<Category> cause_codes(const std::vector<std::string>& causes) {
  std::vector<Category> codes{{-1, "survived"}};
  for (std::size_t c = 0; c < causes.size(); ++c) codes.push_back({static_cast<std::int32_t>(c), causes[c]});
  return codes;
}
}  // namespace

ModelSchema Firm::schema(const FirmSpec& spec) {
  ModelSchema s;
  const Binning unit = Binning::linear(0.0, 1.0, 200);
  // Money bins around the planned monthly revenue (docs/output-format.md).
  const Binning money = Binning::money(nominal_books(spec).monthly_revenue);
  s.quantities = {
      {"cash", "USD", "Net cash position: cash minus credit drawn and loans outstanding.", money},
      {"revenue", "USD/month", "Revenue in the month.", money},
      {"profit", "USD/month", "Net cash flow of the month before loans: revenue minus all costs, interest and one-off investments (loans received and repaid move cash, not profit).", money},
      {"buffer_days", "day", "Days of this month's outflows the firm's cash would pay with no income.",
       Binning::linear(0.0, 365.0, 365)},
      {"headcount", "people", "Staff (full-time equivalents): payroll and premises follow it.",
       Binning::money(spec[Param::headcount].nominal())},
      {"alignment", "1", "Alignment index: mean team alignment (0 none, 1 full).", unit},
      {"project_alignment", "1", "Share of capability spend that goes where the strategy says.", unit},
      {"customer_value", "1", "Customer value delivered relative to competitors (1 = parity).",
       Binning::linear(0.0, 2.5, 250)},
      {"friction", "1", "Coordination friction from other teams' misalignment (process coherence, 0 = none).", unit},
  };
  s.causes.assign(kFixedCauseNames.begin(), kFixedCauseNames.end());
  s.orderly_causes = {kFixedCauseNames[kCauseClosed]};
  for (const auto& shock : spec.shocks) s.causes.push_back(shock.name);
  for (const auto& column : kOutcomeColumns) {
    s.outcome_columns.push_back(column.spec);
    if (column.spec.name == "failure_cause") s.outcome_columns.back().categories = cause_codes(s.causes);
  }
  using T = ColumnSpec::Type;
  for (const auto& plan : spec.decisions.plans) {
    const std::string stem = "plan_" + plan.name;
    s.outcome_columns.push_back({stem + "_started", "1", "1 if the plan " + plan.name + " started (0: postponed past the horizon, cancelled, or the firm was gone first).", T::u8});
    s.outcome_columns.push_back({stem + "_start_month", "month", "Month the plan started (NaN: never).", T::f64});
    s.outcome_columns.push_back({stem + "_revenue", "USD/month", "The plan's revenue in the last month lived (0 if it never started).", T::f64});
    s.outcome_columns.push_back({stem + "_net_cash", "USD", "The plan's own cash over the run: its revenue less its variable costs, fixed costs and one-off cost (loans aside).", T::f64});
  }
  for (const auto& rule : spec.decisions.rules) {
    const std::string stem = "rule_" + rule.name;
    s.outcome_columns.push_back({stem + "_fired", "1", "1 if the rule " + rule.name + " fired at least once.", T::u8});
    s.outcome_columns.push_back({stem + "_times", "count", "How often the rule fired.", T::i32});
    s.outcome_columns.push_back({stem + "_first_month", "month", "Month the rule first fired (NaN: never).", T::f64});
  }
  for (const auto& in : uncertain_inputs(spec))
    s.inputs.push_back({in.path, in.units, in.description, in.dist->describe()});
  s.design = spec.design;
  return s;
}

Firm::Firm(const FirmSpec& spec)
    : spec_(&spec), s_(std::make_unique<LaneState>()) {
  const TeamPriorities priorities = team_priorities();
  for (int c = 0; c < kCapabilities; ++c)
    for (int j = 0; j < kTeams; ++j) own_priority_[c][j] = priorities(j, c);
  for (const auto& info : param_table()) {
    if (spec[info.id].is_fixed())
      fixed_params_.emplace_back(info.id, clamp_param(info, spec[info.id].nominal()));
    else
      sampled_params_.emplace_back(&info, substream_id(info.path));
  }
  // Compaction moves every row that can differ between lanes: not the rows of fixed
  // parameters (the same in every lane) nor those of shocks, loans, plans and rules the
  // scenario does not have (never read). A share that the books imply is written per
  // run (start_lane), so it moves even when the preset fixes it.
  const std::vector<UncertainInput> inputs = uncertain_inputs(spec);
  std::vector<std::string> input_names;
  std::vector<std::uint64_t> input_streams;
  for (const auto& in : inputs) {
    input_names.push_back(in.path);
    input_streams.push_back(substream_id(in.path));
  }
  auto add_decision = [&](const std::string& path) {
    decision_streams_.push_back(substream_id(path));
    const auto at = std::find(input_names.begin(), input_names.end(), path);
    decision_input_.push_back(at == input_names.end() ? -1 : static_cast<int>(at - input_names.begin()));
  };
  for (const auto& loan : spec.decisions.loans)
    for (const char* field : {"principal", "rate"}) add_decision("loans." + loan.name + "." + field);
  for (const auto& plan : spec.decisions.plans)
    for (const char* field : {"cost", "fixed_costs", "revenue", "ramp_months"}) add_decision("plans." + plan.name + "." + field);
  input_count_ = inputs.size();
  design_ = Design(spec.design, input_names, std::move(input_streams), kParameters);
  point_.assign(input_count_, 0.0);
  input_values_.assign(input_count_ * kLanes, NAN);
  loans_ = static_cast<int>(spec.decisions.loans.size());
  plans_ = static_cast<int>(spec.decisions.plans.size());
  rules_ = static_cast<int>(spec.decisions.rules.size());
  const int shocks = static_cast<int>(spec.shocks.size());
  auto in_unused = [](int r, int first, int used, int capacity) { return r >= first + used && r < first + capacity; };
  bool fixed_row[kDoubleRows] = {};
  for (const auto& [id, value] : fixed_params_) fixed_row[static_cast<int>(id)] = true;
  for (const auto& input : kMoneyInputs) fixed_row[static_cast<int>(input.share)] = false;
  auto unused_double = [&](int r) {
    if (in_unused(r, rShockSeverity, shocks, kMaxShocks)) return true;
    for (int first : {rLoanPrincipal, rLoanPayment, rLoanBalance, rLoanRate})
      if (in_unused(r, first, loans_, kMaxLoans)) return true;
    for (int first : {rPlanRevenue, rPlanFixed, rPlanCost, rPlanKeep, rPlanGap, rPlanNet, rPlanLastRevenue})
      if (in_unused(r, first, plans_, kMaxPlans)) return true;
    return false;
  };
  auto unused_int = [&](int r) {
    for (int first : {iShockNextArrival, iShockActiveUntil, iShockFiredNow})
      if (in_unused(r, first, shocks, kMaxShocks)) return true;
    if (in_unused(r, iLoanStart, loans_, kMaxLoans)) return true;
    for (int first : {iPlanDue, iPlanStarted})
      if (in_unused(r, first, plans_, kMaxPlans)) return true;
    for (int first : {iRuleHeld, iRuleLast, iRuleTimes, iRuleFirst})
      if (in_unused(r, first, rules_, kMaxRules)) return true;
    return false;
  };
  for (int r = 0; r < kDoubleRows; ++r)
    if (!fixed_row[r] && !unused_double(r)) moved_double_rows_.push_back(r);
  for (int r = 0; r < kIntRows; ++r)
    if (!unused_int(r)) moved_int_rows_.push_back(r);
}

void Firm::start(std::uint64_t seed, std::uint64_t first_run, int count) {
  seed_ = seed;
  lanes_ = std::clamp(count, 0, kLanes);
  any_disruption_ = any_automation_ = any_elasticity_ = any_taste_drift_ = any_revision_ = any_initiatives_ = false;
  for (const auto& [id, value] : fixed_params_) std::fill_n(s_->param(id), lanes_, value);
  for (int lane = 0; lane < lanes_; ++lane) {
    s_->run[lane] = first_run + static_cast<std::uint64_t>(lane);
    start_lane(lane, RunRandom(seed, s_->run[lane]));
    any_disruption_ |= s_->i[iDisruptionMonth][lane] > 0;
    any_automation_ |= s_->i[iAutomationMonth][lane] > 0;
    any_elasticity_ |= s_->param(Param::elasticity)[lane] != 1.0;
    any_taste_drift_ |= s_->param(Param::taste_drift)[lane] > 0.0;
    any_revision_ |= s_->param(Param::revision)[lane] > 0.0;
    any_initiatives_ |= s_->i[iNextInitiative][lane] > 0;
  }
  settle();
}

void Firm::settle() {
  // [M§2] The allocation starts at the teams' intent, and capabilities at its steady
  // state; customer value and share follow from them [M§6].
  LaneState& s = *s_;
  intend_allocation();
  for (int lane = 0; lane < lanes_; ++lane) {
    const double execution = (1.0 - s.param(Param::friction_waste)[lane] * s.d[rFriction][lane]) *
                             s.d[rSpendRatio][lane];
    double value = 0.0;
    for (int c = 0; c < kCapabilities; ++c) {
      const double intended = s.s[sIntended + c][lane];
      s.d[rAllocation + c][lane] = intended;
      s.d[rCapability + c][lane] = execution * intended;
      value += customer_value_term(s.d[rCapability + c][lane], s.d[rWeights + c][lane]);
    }
    value = with_base_value(s.param(Param::base_value)[lane], value);
    s.d[rValue][lane] = value;
    const double elasticity = s.param(Param::elasticity)[lane];
    const double share = elasticity == 1.0 ? value : std::pow(value, elasticity);  // pow(x, 1) is x
    s.d[rShare][lane] = share;
    s.d[rShareStart][lane] = share;
    // An established firm sells what its books say: its demand is scaled so that its
    // starting share of it is the volume it has today [M§6].
    s.d[rVolumeScale][lane] = spec_->established && share > 0.0 ? 1.0 / share : 1.0;
  }
}

double Firm::draw_input(std::size_t j, const Uncertain& u, RandomStream stream) {
  return design_.plain() ? u.sample(stream) : u.quantile(point_[j]);
}

void Firm::inputs(int lane, std::span<double> out) const {
  std::copy_n(&input_values_[static_cast<std::size_t>(lane) * input_count_], input_count_, out.begin());
}

void Firm::start_parameters(int lane, const RunRandom& random) {
  LaneState& s = *s_;
  // [M§12] Per-run parameters, each from its own stream (or the design's point),
  // clamped into their ranges (the fixed ones are already in place: they draw nothing).
  if (!design_.plain()) design_.point(seed_, s.run[lane], point_);
  for (std::size_t j = 0; j < sampled_params_.size(); ++j) {
    const auto& [info, substream] = sampled_params_[j];
    const double x = clamp_param(*info, draw_input(j, (*spec_)[info->id], random.stream(kParameters, 0, substream)));
    s.param(info->id)[lane] = x;
    input_values_[static_cast<std::size_t>(lane) * input_count_ + j] = x;
  }
}

Books Firm::start_books(int lane) {
  LaneState& s = *s_;
  auto d = [&](int row) -> double& { return s.d[row][lane]; };
  auto p = [&](Param id) { return s.param(id)[lane]; };
  // [M§1] The opening books, in USD: the keys in the books' units where given, the
  // preset's shares where not. The shares they imply go back into the parameter rows,
  // which the monthly equations read.
  RunParams values;
  for (int k = 0; k < kParamCount; ++k) values.v[static_cast<std::size_t>(k)] = s.d[k][lane];
  const Books books = opening_books(values);
  const double headcount = p(Param::headcount);
  const double planned_revenue = books.monthly_revenue;
  s.param(Param::revenue_per_employee)[lane] = planned_revenue / headcount;
  s.param(Param::variable_cost_share)[lane] = books.variable_cost_share;
  s.param(Param::fixed_cost_share)[lane] = books.fixed_costs / planned_revenue;
  s.param(Param::owner_pay_share)[lane] = books.owner_salary / planned_revenue;
  s.param(Param::budget_share)[lane] = books.budget / planned_revenue;
  s.param(Param::credit_limit_months)[lane] = books.credit_line / (planned_revenue * books.legitimacy);
  s.param(Param::cash_buffer_days)[lane] = books.outflows > 0.0 ? books.cash / books.outflows * kDaysPerMonth : 0.0;
  s.param(Param::price_elasticity)[lane] = books.price_elasticity;
  s.param(Param::credit_growth)[lane] = books.credit_growth;
  d(rPlannedRevenue) = planned_revenue;
  // [M§1] Payroll, premises and bureaucracy at planned capacity (they follow capacity);
  // the owner's salary is fixed.
  d(rFixedCosts) = books.fixed_and_bureaucracy;
  d(rOwnerPay) = books.owner_salary;
  d(rBudget) = books.budget;
  return books;
}

void Firm::start_fit(int lane, const RunRandom& random) {
  LaneState& s = *s_;
  auto d = [&](int row) -> double& { return s.d[row][lane]; };
  auto n = [&](int row) -> std::int32_t& { return s.i[row][lane]; };
  auto p = [&](Param id) { return s.param(id)[lane]; };
  const double rho = p(Param::segment_correlation);
  const int segments = n(iSegments);
  const bool established = p(Param::ramp_months) <= 0;
  // [M§6] Segment fits: each lognormal with mean market.fit; the firm's is their mean.
  // A firm's fits are correlated across its segments (the same people and product serve
  // them all): a common draw and one per segment, mixed by segment_correlation.
  auto market0 = random.stream(kMarket, 0);
  const double fit_sigma = p(Param::market_fit_sigma);
  const double common = std::sqrt(rho) * market0.normal();
  const double own = std::sqrt(1.0 - rho);
  double fit = 0.0;
  for (int k = 0; k < segments; ++k)
    fit += p(Param::market_fit) *
           portable_exp(fit_sigma * (common + own * market0.normal()) - 0.5 * fit_sigma * fit_sigma);
  d(rFit) = fit / segments;
  // [M§6] The fit shows in demand gradually: what the firm sells moves from the plan's
  // level to its fit as customers learn what it offers [Jovanovic].
  const double learning = p(Param::fit_learning_months);
  d(rFitGap) = established ? 0.0 : 1.0;
  d(rFitKeep) = learning > 0 ? portable_exp(-1.0 / learning) : 0.0;
}

void Firm::start_shocks(int lane, const RunRandom& random) {
  LaneState& s = *s_;
  auto d = [&](int row) -> double& { return s.d[row][lane]; };
  auto n = [&](int row) -> std::int32_t& { return s.i[row][lane]; };
  // [M§7] First arrival of each Poisson shock.
  for (std::size_t k = 0; k < spec_->shocks.size(); ++k) {
    const int row = static_cast<int>(k);
    n(iShockNextArrival + row) = 0;
    n(iShockActiveUntil + row) = 0;
    n(iShockFiredNow + row) = 0;
    d(rShockSeverity + row) = 0.0;
    if (spec_->shocks[k].rate > 0) {
      auto rng = random.stream(kShockBase + static_cast<std::uint32_t>(k), 0);
      n(iShockNextArrival + row) = months_to_arrival(spec_->shocks[k].rate, rng);
    }
  }
  // [M§3] First initiative beyond the routine budget (its own stream: no other draw shifts).
  const double initiatives = s.param(Param::initiative_rate)[lane];
  n(iNextInitiative) = 0;
  if (initiatives > 0) {
    auto rng = random.stream(kInitiatives, 0);
    n(iNextInitiative) = months_to_arrival(initiatives, rng);
  }
}

void Firm::start_disruption(int lane, const RunRandom& random) {
  LaneState& s = *s_;
  auto d = [&](int row) -> double& { return s.d[row][lane]; };
  auto n = [&](int row) -> std::int32_t& { return s.i[row][lane]; };
  auto p = [&](Param id) { return s.param(id)[lane]; };
  // [M§8] Disruption timing and the biased lags to sense it and decide. A run that
  // cannot be disrupted draws nothing (its own stream: no other draw shifts).
  int disruption_month = static_cast<int>(p(Param::disruption_month));
  const double rate = p(Param::disruption_rate);
  d(rSenseLag) = d(rDecideLag) = 0.0;
  if (disruption_month > 0 || rate > 0) {
    auto drng = random.stream(kDisruptionTiming, 0);
    const int random_month = months_to_arrival(rate > 0 ? rate : 1.0, drng);
    if (disruption_month == 0 && rate > 0) disruption_month = random_month;
    d(rSenseLag) = drng.exponential() * p(Param::sense_months) *
                   (1.0 + 2.0 * p(Param::confirmation_bias));
    d(rDecideLag) = drng.exponential() * p(Param::decide_months) *
                    (1.0 + 2.0 * p(Param::sunk_cost_bias) +
                     2.0 * p(Param::groupthink) * p(Param::coupling));
  }
  n(iDisruptionMonth) = disruption_month;
  n(iSensedMonth) = n(iDecidedMonth) = n(iRealignedMonth) = 0;
  d(rRealignThreshold) = 0.0;
  n(iAutomationMonth) = static_cast<int>(p(Param::automation_month));
  n(iAutomationDipEnd) = n(iAutomationMonth) + static_cast<int>(p(Param::automation_dip_months));
  n(iAutomationDone) = 0;
  d(rAutomationFit) = 0.0;
}

void Firm::start_alignment(int lane) {
  LaneState& s = *s_;
  auto d = [&](int row) -> double& { return s.d[row][lane]; };
  auto n = [&](int row) -> std::int32_t& { return s.i[row][lane]; };
  auto p = [&](Param id) { return s.param(id)[lane]; };
  // [M§3] Alignment drift and noise, damped by formality and by how ingrained the
  // strategy is (none at level 1).
  const double level = p(Param::alignment_level);
  d(rDrift) = p(Param::alignment_drift) * (1.0 - p(Param::formality)) * (1.0 - level);
  d(rNoise) = p(Param::alignment_noise) * (1.0 - p(Param::formality)) * (1.0 - level);
  n(iReviewMonths) = static_cast<int>(p(Param::review_months));
  n(iNextReview) = n(iReviewMonths);

  // [M§3] Teams start at alignment.level.
  for (int j = 0; j < kTeams; ++j) d(rTeamAlignment + j) = level;
  d(rAlignment) = level;
  for (int c = 0; c < kCapabilities; ++c) {
    d(rWeights + c) = spec_->value_weights[c];
    d(rIndustry + c) = spec_->value_weights[c];
    d(rTarget + c) = spec_->strategy_target[c];
  }
  double team[kTeams];
  for (int j = 0; j < kTeams; ++j) team[j] = level;
  d(rFriction) = lane_friction(team, d(rCouplingSame), d(rCouplingCross));
  // An established firm's fixed costs in its books already carry today's friction
  // overhead: only a change from it costs or saves [M§4].
  d(rFrictionBase) = spec_->established ? d(rFriction) : 0.0;
}

void Firm::start_lane(int lane, const RunRandom& random) {
  LaneState& s = *s_;
  auto d = [&](int row) -> double& { return s.d[row][lane]; };
  auto n = [&](int row) -> std::int32_t& { return s.i[row][lane]; };
  auto p = [&](Param id) { return s.param(id)[lane]; };
  start_parameters(lane, random);
  const Books books = start_books(lane);
  const double headcount = p(Param::headcount);
  const double planned_revenue = books.monthly_revenue;

  d(rSpendRatio) = p(Param::budget_share) / p(Param::competitor_budget_share);
  d(rReviewCost) = p(Param::review_cost) * planned_revenue;
  // [M§6] Conformity buys legitimacy: a larger credit line and a faster ramp-up.
  const double legitimacy = books.legitimacy;
  d(rCreditLimit) = books.credit_line;
  // [M§1] A profitable year earns more credit, up to the cap (never less than the start).
  d(rCreditStep) = books.credit_growth * legitimacy;  // per month of last year's revenue
  d(rCreditCap) = books.credit_cap;
  coupling_strengths(p(Param::coupling), d(rCouplingSame), d(rCouplingCross));
  d(rKeyPersonExposure) = std::min(1.0, 1.0 / std::sqrt(headcount));
  const int segments = std::clamp(static_cast<int>(p(Param::segments)), 1, kMaxSegments);
  n(iSegments) = segments;
  // [M§6] Price: imitation invites price competition; a specialist earns a premium.
  d(rPrice) = (1.0 - p(Param::price_pressure) * p(Param::isomorphism)) *
              (1.0 + p(Param::niche_premium) / segments);
  // An established firm's books already hold today's prices.
  if (spec_->established) d(rPrice) = 1.0;
  d(rPriceIndex) = d(rPriceDemand) = 1.0;
  // [M§6] Demand across segments: volatility falls with segments only as far as they
  // are not correlated.
  const double rho = p(Param::segment_correlation);
  const double sigma = p(Param::market_volatility) * std::sqrt(rho + (1.0 - rho) / segments) / std::sqrt(12.0);
  d(rDemandSigma) = sigma;
  d(rDemandDrift) = p(Param::market_growth) / 12.0 - 0.5 * sigma * sigma;
  // [M§6] Ramp-up: customers find a new firm over ramp_months (faster if it conforms).
  const double ramp_months = p(Param::ramp_months) / legitimacy;
  d(rRampGap) = ramp_months > 0 ? 1.0 - p(Param::ramp_start) : 0.0;
  d(rRampKeep) = ramp_months > 0 ? portable_exp(-1.0 / ramp_months) : 0.0;
  d(rStaff) = 1.0;
  d(rPremises) = 1.0;
  d(rHiringBill) = 0.0;
  start_fit(lane, random);

  start_alignment(lane);
  // The starting allocation and capabilities follow for all lanes at once (settle()).
  d(rDemand) = 1.0;

  // [M§1] Starting cash: as entered, or cash_buffer_days of planned outflows.
  d(rPlannedOutflows) = books.outflows;
  d(rReserve) = p(Param::reserve_months) * books.outflows;
  d(rCash) = books.cash;
  d(rBufferDays) = p(Param::cash_buffer_days);
  d(rPayouts) = 0.0;
  d(rStartBufferDays) = p(Param::cash_buffer_days);
  d(rDebt) = 0.0;

  start_shocks(lane, random);
  start_disruption(lane, random);

  d(rRevenue) = planned_revenue;
  d(rBaseRevenue) = planned_revenue;
  d(rProfit) = 0.0;
  d(rOutflows) = books.outflows;
  d(rRunway) = books.outflows > 0.0 ? (books.cash + books.credit_line) / books.outflows : 1e9;
  start_decisions(lane, random);
  d(rProjectAlignment) = 0.0;
  d(rChurn) = 0.0;
  d(rCumulativeProfit) = d(rMaxDrawdown) = 0.0;
  d(rPeakNetCash) = d(rCash) - d(rLoansOwed);
  d(rSumAlignment) = d(rSumProject) = d(rSumValue) = d(rSumFriction) = 0.0;
  d(rWasteEma) = d(rDeficitEma) = d(rMissteps) = 0.0;
  d(rYearProfit) = d(rYearRevenue) = 0.0;
  d(rLastYearProfit) = d(rLastYearRevenue) = NAN;
  n(iMonths) = 0;
  n(iFailureMonth) = 0;
  n(iCause) = -1;
}

void Firm::compact() {
  // Each failed lane below the last live one takes over the last live lane: a handful
  // of lanes move instead of every lane after the first failure. Lane order stops being
  // run order, but it stays a function of the runs alone (never of threads).
  LaneState& s = *s_;
  const std::int32_t* failure = s.i[iFailureMonth];
  int last = lanes_ - 1;
  for (int lane = 0;; ++lane) {
    while (last >= 0 && failure[last] != 0) --last;
    if (lane >= last) break;
    if (failure[lane] == 0) continue;
    for (int r : moved_double_rows_) s.d[r][lane] = s.d[r][last];
    for (int r : moved_int_rows_) s.i[r][lane] = s.i[r][last];
    s.run[lane] = s.run[last];
    --last;
  }
  lanes_ = last + 1;
}

SMBSIM_LANE_LOOPS
void Firm::observe_lanes(std::span<double> rows) const {
  const LaneState& s = *s_;
  const int lanes = lanes_;
  double* __restrict out = rows.data();
  auto row = [&](Observed q) { return out + static_cast<std::size_t>(q) * kLanes; };
  for (int lane = 0; lane < lanes; ++lane)
    row(kCash)[lane] = s.d[rCash][lane] - s.d[rDebt][lane] - s.d[rLoansOwed][lane];
  const double* staff = s.d[rStaff];
  const double* headcount = s.param(Param::headcount);
  for (int lane = 0; lane < lanes; ++lane) row(kHeadcount)[lane] = staff[lane] * headcount[lane];
  const std::pair<Observed, int> copied[] = {{kRevenue, rRevenue}, {kProfit, rProfit}, {kBufferDays, rBufferDays},
                                             {kAlignment, rAlignment}, {kProjectAlignment, rProjectAlignment},
                                             {kCustomerValue, rValue}, {kFriction, rFriction}};
  for (const auto& [q, r] : copied) std::copy_n(s.d[r], lanes, row(q));
}

void Firm::outcome(int lane, std::span<double> out) const {
  const LaneState& s = *s_;
  std::size_t c = 0;
  for (const auto& column : kOutcomeColumns) out[c++] = column.value(s, lane);
  auto month_or_nan = [](std::int32_t m) { return m > 0 ? double(m) : NAN; };
  for (int k = 0; k < plans_; ++k) {
    out[c++] = s.i[iPlanStarted + k][lane] > 0 ? 1.0 : 0.0;
    out[c++] = month_or_nan(s.i[iPlanStarted + k][lane]);
    out[c++] = s.d[rPlanLastRevenue + k][lane];
    out[c++] = s.d[rPlanNet + k][lane];
  }
  for (int r = 0; r < rules_; ++r) {
    out[c++] = s.i[iRuleTimes + r][lane] > 0 ? 1.0 : 0.0;
    out[c++] = s.i[iRuleTimes + r][lane];
    out[c++] = month_or_nan(s.i[iRuleFirst + r][lane]);
  }
}

}  // namespace smbsim::firm
