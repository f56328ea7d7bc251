#include "models/firm/firm.hpp"

#include <algorithm>
#include <cmath>

namespace smbsim::firm {

namespace {
constexpr double kDaysPerMonth = 365.25 / 12.0;

/// Months until the next arrival of a Poisson process with `rate_per_year`, at least 1.
int months_to_arrival(double rate_per_year, RandomStream& rng) {
  const double months = -std::log(rng.uniform()) * 12.0 / rate_per_year;
  return 1 + static_cast<int>(std::min(months, 1e6));
}

double distance(const Mix& a, const Mix& b) { return 0.5 * (a - b).cwiseAbs().sum(); }
}  // namespace

double customer_value(const CapabilityVector& k, const Mix& w) {
  double v = 0.0;
  for (int i = 0; i < kCapabilities; ++i) {
    if (w[i] <= 0.0) continue;  // spend the market does not reward builds no value
    const double x = std::max(k[i], 0.0) / w[i];
    v += w[i] * 2.0 * x / (1.0 + x);
  }
  return v;
}

double coordination_friction(const TeamMatrix& coupling, const TeamVector& misalignment) {
  const TeamMatrix pass =
      TeamMatrix::Ones() - coupling.cwiseProduct(TeamVector::Ones() * misalignment.transpose());
  return 1.0 - pass.rowwise().prod().mean();
}

TeamMatrix coupling_matrix(double c) {
  // Teams: 0 commercial, 1 product, 2 operations, 3 service. Blocks {0,3} and {1,2}.
  TeamMatrix m;
  for (int j = 0; j < kTeams; ++j)
    for (int k = 0; k < kTeams; ++k) {
      const bool same_block = ((j == 0 || j == 3) == (k == 0 || k == 3));
      m(j, k) = j == k ? 0.0 : (same_block ? c : c * c) / (kTeams - 1);
    }
  return m;
}

ModelSchema Firm::schema(const FirmSpec& spec) {
  ModelSchema s;
  const Binning unit = Binning::linear(0.0, 1.0, 200);
  s.quantities = {
      {"cash", "USD", "Net cash position: cash minus drawn credit.", Binning::money()},
      {"revenue", "USD/month", "Revenue in the month.", Binning::money()},
      {"profit", "USD/month", "Net cash flow of the month (revenue minus all outflows).", Binning::money()},
      {"alignment", "1", "Alignment index: mean team alignment (0 none, 1 full).", unit},
      {"project_alignment", "1", "Share of capability spend that goes where the strategy says.", unit},
      {"customer_value", "1", "Customer value delivered relative to competitors (1 = parity).",
       Binning::linear(0.0, 2.5, 250)},
      {"friction", "1", "Coordination friction from other teams' misalignment (process coherence, 0 = none).", unit},
  };
  using T = ColumnSpec::Type;
  s.outcome_columns = {
      {"survived", "1", "1 if the firm was alive at the horizon.", T::u8},
      {"failure_month", "month", "Month the firm could not pay (0 if it survived).", T::i32},
      {"failure_cause", "1", "Index into monthly/cause (-1 if it survived).", T::i32},
      {"final_cash", "USD", "Net cash (cash minus credit drawn) at the end of the run.", T::f64},
      {"final_revenue", "USD/month", "Revenue in the last month lived.", T::f64},
      {"cumulative_profit", "USD", "Sum of monthly net cash flows.", T::f64},
      {"max_drawdown", "USD", "Largest fall of net cash from a previous peak.", T::f64},
      {"mean_alignment", "1", "Alignment index averaged over the months lived.", T::f64},
      {"mean_project_alignment", "1", "Share of spend on strategy, averaged over the months lived.", T::f64},
      {"mean_customer_value", "1", "Customer value relative to competitors, averaged.", T::f64},
      {"mean_friction", "1", "Coordination friction, averaged over the months lived.", T::f64},
      {"months_to_realign", "month", "Months from disruption to realignment (NaN: no disruption or never realigned).", T::f64},
      {"start_buffer_days", "days", "Starting cash in days of planned outflows.", T::f64},
      {"market_fit", "1", "The run's product-market fit (segment average).", T::f64},
      {"owner_payouts", "USD", "Cash paid out to the owners above the reserve.", T::f64},
  };
  s.causes = {"chronic_loss", "misalignment", "disruption", "automation"};
  for (const auto& shock : spec.shocks) s.causes.push_back(shock.name);
  return s;
}

Firm::Firm(const FirmSpec& spec) : spec_(&spec), priorities_(team_priorities()) {}

void Firm::start(const RunRandom& random) {
  // [M§1] Per-run parameters from the parameter stream, clamped into their ranges.
  auto prng = random.stream(kParameters, 0);
  for (const auto& info : param_table()) {
    double x = std::clamp((*spec_)[info.id].sample(prng), info.min, info.max);
    if (info.integer) x = std::round(x);
    p_.v[static_cast<std::size_t>(info.id)] = x;
  }
  const double headcount = p_[Param::headcount];
  planned_revenue_ = headcount * p_[Param::revenue_per_employee];
  fixed_costs_ = (p_[Param::fixed_cost_share] + p_[Param::bureaucracy]) * planned_revenue_;
  budget_ = p_[Param::budget_share] * planned_revenue_;
  credit_limit_ = p_[Param::credit_limit_months] * planned_revenue_;
  coupling_ = coupling_matrix(p_[Param::coupling]);
  key_person_exposure_ = std::min(1.0, 1.0 / std::sqrt(headcount));

  // [M§6] Segment fits: each segment's fit is lognormal; the firm's is their mean.
  segments_ = std::clamp(static_cast<int>(p_[Param::segments]), 1, kMaxSegments);
  auto market0 = random.stream(kMarket, 0);
  fit_ = 0.0;
  for (int s = 0; s < segments_; ++s)
    fit_ += p_[Param::market_fit] * std::exp(p_[Param::market_fit_sigma] * market0.normal());
  fit_ /= segments_;

  // [M§3] Teams start at alignment.level.
  team_alignment_.setConstant(p_[Param::alignment_level]);
  alignment_ = p_[Param::alignment_level];
  weights_ = spec_->value_weights;
  target_ = spec_->strategy_target;
  allocation_ = intended_allocation();
  friction_ = coordination_friction(coupling_, TeamVector::Constant(1.0) - team_alignment_);
  // Capabilities start at the steady state of the starting allocation [M§2].
  capability_ = (1.0 - p_[Param::friction_waste] * friction_) * allocation_;
  value_ = customer_value(capability_, weights_);
  share_ = std::pow(value_, p_[Param::elasticity]);
  demand_ = 1.0;

  // [M§1] Starting cash: cash_buffer_days of planned outflows.
  planned_outflows_ = fixed_costs_ + p_[Param::variable_cost_share] * planned_revenue_ + budget_;
  cash_ = p_[Param::cash_buffer_days] / kDaysPerMonth * planned_outflows_;
  payouts_ = 0.0;
  start_buffer_days_ = p_[Param::cash_buffer_days];
  debt_ = 0.0;

  // [M§7] First arrival of each Poisson shock.
  for (std::size_t k = 0; k < spec_->shocks.size(); ++k) {
    shocks_[k] = ShockState{};
    if (spec_->shocks[k].rate > 0) {
      auto rng = random.stream(kShockBase + static_cast<std::uint32_t>(k), 0);
      shocks_[k].next_arrival = months_to_arrival(spec_->shocks[k].rate, rng);
    }
  }

  // [M§8] Disruption timing and the biased lags to sense it and decide.
  auto drng = random.stream(kDisruptionTiming, 0);
  disruption_month_ = static_cast<int>(p_[Param::disruption_month]);
  const double rate = p_[Param::disruption_rate];
  const int random_month = months_to_arrival(rate > 0 ? rate : 1.0, drng);
  if (disruption_month_ == 0 && rate > 0) disruption_month_ = random_month;
  sense_lag_ = -std::log(drng.uniform()) * p_[Param::sense_months] *
               (1.0 + 2.0 * p_[Param::confirmation_bias]);
  decide_lag_ = -std::log(drng.uniform()) * p_[Param::decide_months] *
                (1.0 + 2.0 * p_[Param::sunk_cost_bias] +
                 2.0 * p_[Param::groupthink] * p_[Param::coupling]);
  sensed_month_ = decided_month_ = realigned_month_ = 0;
  automation_done_ = false;
  automation_fit_ = 0.0;

  revenue_ = planned_revenue_;
  profit_ = 0.0;
  project_alignment_ = 0.0;
  cumulative_profit_ = max_drawdown_ = 0.0;
  peak_net_cash_ = cash_;
  sum_alignment_ = sum_project_ = sum_value_ = sum_friction_ = 0.0;
  waste_ema_ = deficit_ema_ = 0.0;
  months_ = 0;
  failure_month_ = 0;
  cause_ = -1;
}

void Firm::update_market(int month, const RunRandom& random) {
  // [M§6] Demand: geometric Brownian motion with annual drift and volatility.
  auto rng = random.stream(kMarket, static_cast<std::uint32_t>(month));
  const double sigma = p_[Param::market_volatility] / std::sqrt(12.0);
  const double mu = p_[Param::market_growth] / 12.0;
  demand_ *= std::exp(mu - 0.5 * sigma * sigma + sigma * rng.normal());
}

void Firm::fire_shock(int k, int month, RandomStream& rng) {
  const ShockSpec& spec = spec_->shocks[static_cast<std::size_t>(k)];
  ShockState& s = shocks_[static_cast<std::size_t>(k)];
  const double severity = std::clamp(spec.severity.sample(rng), 0.0, 1.0);
  const int duration = static_cast<int>(std::lround(std::clamp(spec.duration.sample(rng), 1.0, 1e6)));
  s.severity = month <= s.active_until ? std::max(s.severity, severity) : severity;
  s.active_until = std::max(s.active_until, month + duration - 1);
  s.fired_now = true;
  if (spec.type == ShockType::key_person) {
    // [M§7] A key person leaves: capabilities lose their share of the know-how.
    capability_ *= 1.0 - s.severity * key_person_exposure_;
  }
}

Firm::ShockEffects Firm::update_shocks(int month, const RunRandom& random) {
  ShockEffects fx;
  for (std::size_t k = 0; k < spec_->shocks.size(); ++k) {
    const ShockSpec& spec = spec_->shocks[k];
    ShockState& s = shocks_[k];
    s.fired_now = false;
    const bool scheduled = spec.month == month;
    const bool poisson = s.next_arrival == month;
    const bool triggered = spec.triggered_by >= 0 &&
                           shocks_[static_cast<std::size_t>(spec.triggered_by)].fired_now;
    if (scheduled || poisson || triggered) {
      auto rng = random.stream(kShockBase + static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(month));
      const bool fires = !triggered || scheduled || poisson || rng.uniform() < spec.trigger_probability;
      if (fires) {
        fire_shock(static_cast<int>(k), month, rng);
        if (spec.type == ShockType::supplier)
          fx.one_off += 0.5 * s.severity * planned_revenue_;  // finding a new partner
      }
      if (poisson) s.next_arrival = month + months_to_arrival(spec.rate, rng);
    }
    if (month > s.active_until) continue;
    const double sev = s.severity;
    switch (spec.type) {
      case ShockType::demand: fx.demand *= 1.0 - sev; break;
      case ShockType::segment: fx.segment_loss += sev / segments_; break;
      case ShockType::input_cost: fx.input_cost *= 1.0 + sev; break;
      case ShockType::credit:
        fx.credit_limit = std::min(fx.credit_limit, 1.0 - sev);
        fx.interest *= 1.0 + 2.0 * sev;
        break;
      case ShockType::key_person: fx.capacity *= 1.0 - 0.5 * sev * key_person_exposure_; break;
      case ShockType::supplier: fx.capacity *= 1.0 - sev; break;
    }
  }
  fx.segment_loss = std::min(fx.segment_loss, 1.0);
  return fx;
}

void Firm::update_alignment(int month, RandomStream& rng) {
  // [M§3] Drift toward zero and noise, both damped by formality and by how ingrained
  // the strategy is (none at level 1); reviews close part of the gap back to the level.
  const double level = p_[Param::alignment_level];
  const double drift = p_[Param::alignment_drift] * (1.0 - p_[Param::formality]) * (1.0 - level);
  const double noise = p_[Param::alignment_noise] * (1.0 - p_[Param::formality]) * (1.0 - level);
  const bool review = month % static_cast<int>(p_[Param::review_months]) == 0;
  for (int j = 0; j < kTeams; ++j) {
    double a = team_alignment_[j] * (1.0 - drift) + noise * rng.normal();
    if (review && a < level) a += p_[Param::communication] * (level - a);
    team_alignment_[j] = std::clamp(a, 0.0, 1.0);
  }
  alignment_ = team_alignment_.mean();
  friction_ = coordination_friction(coupling_, TeamVector::Constant(1.0) - team_alignment_);
}

Mix Firm::intended_allocation() const {
  // [M§2] Each team spends as the strategy says to the degree it is aligned, else on
  // its own priorities; isomorphism pulls toward the industry's average mix.
  Mix follow = Mix::Zero();
  for (int j = 0; j < kTeams; ++j)
    follow += (team_alignment_[j] * target_ +
               (1.0 - team_alignment_[j]) * priorities_.row(j).transpose()) / kTeams;
  const double iso = p_[Param::isomorphism];
  return (1.0 - iso) * follow + iso * Mix::Constant(1.0 / kCapabilities);
}

void Firm::update_allocation(RandomStream& rng) {
  const Mix intended = intended_allocation();
  // [M§5] Agility moves the allocation toward the intent; misaligned agility also moves
  // it in random directions (the double edge).
  const double agility = p_[Param::agility];
  const double chaos = agility * (1.0 - alignment_) * p_[Param::chaos];
  Mix next = allocation_ + agility * (intended - allocation_);
  if (chaos > 1e-12)
    for (int i = 0; i < kCapabilities; ++i) next[i] += chaos * rng.normal();
  next = next.cwiseMax(0.0);
  const double total = next.sum();
  next = total > 0 ? Mix(next / total) : intended;
  churn_ = distance(next, allocation_);
  allocation_ = next;
}

void Firm::update_disruption(int month) {
  // [M§8] The market's weights shift; the firm senses it after a lag, decides after
  // another, then its strategy targets the new mix and agility carries it there.
  if (disruption_month_ <= 0 || month < disruption_month_) return;
  if (month == disruption_month_) {
    realign_threshold_ = distance(allocation_, weights_) + 0.05;
    weights_ = spec_->disruption_weights;
  }
  if (sensed_month_ == 0 && month >= disruption_month_ + sense_lag_) sensed_month_ = month;
  if (sensed_month_ > 0 && decided_month_ == 0 && month >= sensed_month_ + decide_lag_) {
    decided_month_ = month;
    target_ = spec_->disruption_weights;
  }
  if (decided_month_ > 0 && realigned_month_ == 0 && distance(allocation_, weights_) <= realign_threshold_)
    realigned_month_ = month;
}

void Firm::step(int month, const RunRandom& random) {
  update_market(month, random);
  const ShockEffects fx = update_shocks(month, random);
  auto rng = random.stream(kFirmInternal, static_cast<std::uint32_t>(month));
  update_alignment(month, rng);
  update_disruption(month);
  update_allocation(rng);

  // [M§9] Automation: upfront cost, an implementation dip, then a cost cut that pays
  // only when the market values the automated capability and the teams use it.
  double one_off = fx.one_off;
  double capacity = fx.capacity;
  const int auto_month = static_cast<int>(p_[Param::automation_month]);
  if (auto_month > 0 && month == auto_month) {
    one_off += p_[Param::automation_cost_months] * planned_revenue_;
    capability_[spec_->automation_capability] += p_[Param::automation_boost];
    automation_done_ = true;
  }
  double cost_cut = 0.0;
  if (automation_done_) {
    automation_fit_ = std::min(1.0, weights_[spec_->automation_capability] * kCapabilities) * alignment_;
    if (month < auto_month + static_cast<int>(p_[Param::automation_dip_months]))
      capacity *= 1.0 - p_[Param::automation_dip];
    else
      cost_cut = p_[Param::automation_cost_reduction] * automation_fit_;
  }

  // [M§2] Capabilities accumulate from spend, reduced by friction, and depreciate.
  const double depreciation = p_[Param::depreciation];
  const double execution = 1.0 - p_[Param::friction_waste] * friction_;
  capability_ = (1.0 - depreciation) * capability_ + depreciation * execution * allocation_;
  project_alignment_ = allocation_.cwiseMin(target_).sum();

  // [M§6] Customers respond to relative value with inertia.
  value_ = customer_value(capability_, weights_);
  const double elasticity = p_[Param::elasticity];
  share_ += p_[Param::response] * ((elasticity == 1.0 ? value_ : std::pow(value_, elasticity)) - share_);

  // [M§1] Revenue and cash.
  const double price = 1.0 - p_[Param::price_pressure] * p_[Param::isomorphism];
  const double base_revenue = planned_revenue_ * demand_ * share_ * fit_ * price;
  revenue_ = base_revenue * fx.demand * (1.0 - fx.segment_loss) * capacity;
  const double variable = p_[Param::variable_cost_share] * revenue_ * fx.input_cost * (1.0 - cost_cut);
  const double overhead = fixed_costs_ * p_[Param::friction_overhead] * friction_;
  const double churn_cost = p_[Param::change_cost] * churn_ * budget_;
  const double interest = debt_ * p_[Param::interest_rate] / 12.0 * fx.interest;
  profit_ = revenue_ - variable - fixed_costs_ - overhead - budget_ - churn_cost - interest - one_off;
  cash_ += profit_;

  // Credit line: draw on it when cash runs out; pay it down from surplus cash.
  const double limit = credit_limit_ * fx.credit_limit;
  if (cash_ < 0.0) {
    debt_ -= cash_;
    cash_ = 0.0;
  } else if (debt_ > 0.0) {
    const double pay = std::min(debt_, p_[Param::repay_share] * cash_);
    debt_ -= pay;
    cash_ -= pay;
  }
  // Owners draw what exceeds the reserve: surviving firms keep thin buffers.
  const double reserve = p_[Param::reserve_months] * planned_outflows_;
  if (debt_ <= 0.0 && cash_ > reserve) {
    const double payout = p_[Param::payout_share] * (cash_ - reserve);
    cash_ -= payout;
    payouts_ += payout;
  }
  if (debt_ > limit) {
    const double excess = debt_ - limit;  // a cut line must be repaid at once
    if (cash_ >= excess) {
      cash_ -= excess;
      debt_ = limit;
    }
  }

  // KPIs [M§11].
  ++months_;
  cumulative_profit_ += profit_;
  const double net = cash_ - debt_;
  peak_net_cash_ = std::max(peak_net_cash_, net);
  max_drawdown_ = std::max(max_drawdown_, peak_net_cash_ - net);
  sum_alignment_ += alignment_;
  sum_project_ += project_alignment_;
  sum_value_ += value_;
  sum_friction_ += friction_;
  // Smoothed waste from misalignment and smoothed operating deficit, for attribution.
  const double waste = overhead + churn_cost + budget_ * (1.0 - project_alignment_);
  waste_ema_ += 0.2 * (waste - waste_ema_);
  deficit_ema_ += 0.2 * (std::max(0.0, -profit_) - deficit_ema_);

  if (debt_ > limit + 1e-9) {
    failure_month_ = month;
    cause_ = attribute_failure(base_revenue, month);
  }
}

int Firm::attribute_failure(double base_revenue, int month) const {
  // [M§7] The cause is the active shock with the largest monthly cash impact; failing
  // that, an unfinished realignment, misaligned automation, misalignment waste, or
  // chronic loss.
  double best = 0.0;
  int cause = -1;
  for (std::size_t k = 0; k < spec_->shocks.size(); ++k) {
    const ShockState& s = shocks_[k];
    if (month > s.active_until) continue;
    double impact = 0.0;
    switch (spec_->shocks[k].type) {
      case ShockType::demand: impact = base_revenue * s.severity; break;
      case ShockType::segment: impact = base_revenue * s.severity / segments_; break;
      case ShockType::input_cost: impact = p_[Param::variable_cost_share] * revenue_ * s.severity; break;
      case ShockType::credit: impact = credit_limit_ * s.severity; break;
      case ShockType::key_person: impact = base_revenue * 0.5 * s.severity * key_person_exposure_; break;
      case ShockType::supplier: impact = base_revenue * s.severity; break;
    }
    if (impact > best) {
      best = impact;
      cause = kFirstShockCause + static_cast<int>(k);
    }
  }
  if (cause >= 0) return cause;
  if (disruption_month_ > 0 && month >= disruption_month_ && realigned_month_ == 0) return kCauseDisruption;
  const int auto_month = static_cast<int>(p_[Param::automation_month]);
  if (automation_done_ && month <= auto_month + 24 && automation_fit_ < 0.5) return kCauseAutomation;
  if (waste_ema_ >= 0.5 * deficit_ema_) return kCauseMisalignment;
  return kCauseChronicLoss;
}

void Firm::observe(std::span<double> out) const {
  out[kCash] = cash_ - debt_;
  out[kRevenue] = revenue_;
  out[kProfit] = profit_;
  out[kAlignment] = alignment_;
  out[kProjectAlignment] = project_alignment_;
  out[kCustomerValue] = value_;
  out[kFriction] = friction_;
}

void Firm::outcome(std::span<double> out) const {
  const double n = std::max(months_, 1);
  out[0] = failed() ? 0.0 : 1.0;
  out[1] = failure_month_;
  out[2] = cause_;
  out[3] = cash_ - debt_;
  out[4] = revenue_;
  out[5] = cumulative_profit_;
  out[6] = max_drawdown_;
  out[7] = sum_alignment_ / n;
  out[8] = sum_project_ / n;
  out[9] = sum_value_ / n;
  out[10] = sum_friction_ / n;
  out[11] = realigned_month_ > 0 ? realigned_month_ - disruption_month_ : NAN;
  out[12] = start_buffer_days_;
  out[13] = fit_;
  out[14] = payouts_;
}

}  // namespace smbsim::firm
