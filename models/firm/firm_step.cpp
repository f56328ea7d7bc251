// One month of a tile of firms [M§1-M§11]. Each function is one mechanism; each loops
// over lanes with the same arithmetic for every run (vectorised by the compiler), and
// the rare, branchy events (shock arrivals, disruption, automation, failure) run as
// scalar loops over the lanes they touch.
#include "models/firm/firm.hpp"
#include "models/firm/firm_equations.hpp"

#include "engine/lane_scan.hpp"
#include "engine/normal_batch.hpp"
#include "engine/portable_exp.hpp"

#include <algorithm>
#include <cmath>

namespace smbsim::firm {

void Firm::step(int month) {
  draw_normals(month);
  update_market();
  if (any_taste_drift_ && month % kTasteStepMonths == 0) update_tastes(month);
  update_shocks(month);
  apply_rules(month);
  if (any_disruption_) update_disruption(month);
  if (any_revision_) review_strategy(month);
  update_alignment(month);
  update_initiatives(month);
  if (any_taste_drift_ || any_disruption_) update_industry();
  update_allocation();
  update_automation(month);
  update_plans(month);
  update_cash(month);
  update_staff();
}

void Firm::draw_normals(int month) {
  // The month's eleven standard normals per run, in one batch (normal k of the
  // kMonthlyNormals stream): the market's, then four for team alignment, then six for
  // the allocation's random motion [M§12].
  LaneState& s = *s_;
  const std::span<const std::uint64_t> runs(s.run, static_cast<std::size_t>(lanes_));
  double* rows[kNormalRows];
  for (int k = 0; k < kNormalRows; ++k) rows[k] = s.s[zMarket + k];
  standard_normals({seed_, kMonthlyNormals, static_cast<std::uint32_t>(month)}, runs, rows);
}

SMBSIM_LANE_LOOPS
void Firm::update_market() {
  // [M§6] Demand: geometric Brownian motion with annual drift and the volatility of the
  // firm's segments taken together; a new firm's customers keep finding it (ramp-up).
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane) {
    s.d[rDemand][lane] *= portable_exp(s.d[rDemandDrift][lane] + s.d[rDemandSigma][lane] * s.s[zMarket][lane]);
    s.d[rRampGap][lane] *= s.d[rRampKeep][lane];
    s.d[rFitGap][lane] *= s.d[rFitKeep][lane];
  }
}

SMBSIM_LANE_LOOPS
void Firm::update_tastes(int month) {
  // [M§6] What customers value drifts: each quarter each valued weight takes a lognormal
  // step, then the weights are renormalised to a mix. Its own normals (kTasteNormals): a
  // scenario without drift draws none, and no other draw shifts. Quarterly, not monthly:
  // tastes move slowly, and six normals and exponentials per run and month were a
  // fifth of the model's time.
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
  const std::span<const std::uint64_t> runs(s.run, static_cast<std::size_t>(lanes_));
  double* rows[kCapabilities];
  for (int c = 0; c < kCapabilities; ++c) rows[c] = s.s[zTaste + c];
  standard_normals({seed_, kTasteNormals, static_cast<std::uint32_t>(month)}, runs, rows);
  const double* drift = s.param(Param::taste_drift);
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane) {
    const double sigma = drift[lane] * std::sqrt(kTasteStepMonths / 12.0);
    double w[kCapabilities], total = 0.0;
#pragma GCC unroll 8
    for (int c = 0; c < kCapabilities; ++c) {
      w[c] = s.d[rWeights + c][lane] * portable_exp(sigma * s.s[zTaste + c][lane] - 0.5 * sigma * sigma);
      total += w[c];
    }
    const double inverse_total = 1.0 / total;
#pragma GCC unroll 8
    for (int c = 0; c < kCapabilities; ++c) s.d[rWeights + c][lane] = w[c] * inverse_total;
  }
}

SMBSIM_LANE_LOOPS
void Firm::update_industry() {
  // [M§2] The industry's average mix, which imitators copy, follows the market's with a lag.
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
  const double* lag = s.param(Param::imitation_lag);
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane) {
    const double rate = 1.0 / lag[lane];
#pragma GCC unroll 8
    for (int c = 0; c < kCapabilities; ++c)
      s.d[rIndustry + c][lane] += rate * (s.d[rWeights + c][lane] - s.d[rIndustry + c][lane]);
  }
}

void Firm::review_strategy(int month) {
  // [M§3] At a review the strategy's target moves toward the market's mix as the firm
  // reads it (with lognormal error), by `revision` damped by confirmation bias. A
  // disruption the firm has not yet decided to answer is not seen (§8 handles it). The
  // sensing errors are a batch of normals of their own (kReviewSensing), drawn only in
  // months in which some run of the tile reviews.
  LaneState& s = *s_;
  if (!mark_reviews(month)) return;
  const std::span<const std::uint64_t> runs(s.run, static_cast<std::size_t>(lanes_));
  double* rows[kCapabilities];
  for (int c = 0; c < kCapabilities; ++c) rows[c] = s.s[zSensing + c];
  standard_normals({seed_, kReviewSensing, static_cast<std::uint32_t>(month)}, runs, rows);
  revise_targets();
}

SMBSIM_LANE_LOOPS
bool Firm::mark_reviews(int month) {
  // Lanes that review their strategy this month, into `flags`; whether there are any.
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
  const double* revision = s.param(Param::revision);
  int any = 0;
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane) {
    const int disruption = s.i[iDisruptionMonth][lane];
    const bool unanswered = (disruption > 0) & (month >= disruption) & (s.i[iDecidedMonth][lane] == 0);
    const bool reviews = (month == s.i[iNextReview][lane]) & (revision[lane] > 0.0) & !unanswered &
                         (s.i[iFailureMonth][lane] == 0);
    s.flags[lane] = reviews;
    any |= reviews;
  }
  return any != 0;
}

SMBSIM_LANE_LOOPS
void Firm::revise_targets() {
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
  const double* revision = s.param(Param::revision);
  const double* noise = s.param(Param::sensing_noise);
  const double* bias = s.param(Param::confirmation_bias);
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane) {
    double sensed[kCapabilities], total = 0.0;
#pragma GCC unroll 8
    for (int c = 0; c < kCapabilities; ++c) {
      sensed[c] = s.d[rWeights + c][lane] * portable_exp(noise[lane] * s.s[zSensing + c][lane]);
      total += sensed[c];
    }
    const double step = s.flags[lane] ? revision[lane] / (1.0 + 2.0 * bias[lane]) : 0.0;
    const double inverse_total = 1.0 / total;
#pragma GCC unroll 8
    for (int c = 0; c < kCapabilities; ++c) {
      double& target = s.d[rTarget + c][lane];
      target += step * (sensed[c] * inverse_total - target);
    }
  }
}

SMBSIM_LANE_LOOPS
void Firm::update_shocks(int month) {
  // [M§7] Each active shock scales demand, segments, input costs, credit or capacity.
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane) {
    s.s[fxDemand][lane] = 1.0;
    s.s[fxSegmentLoss][lane] = 0.0;
    s.s[fxInputCost][lane] = 1.0;
    s.s[fxCreditLimit][lane] = 1.0;
    s.s[fxInterest][lane] = 1.0;
    s.s[fxCapacity][lane] = 1.0;
    s.s[fxOneOff][lane] = 0.0;
  }
  for (std::size_t shock = 0; shock < spec_->shocks.size(); ++shock) {
    const int k = static_cast<int>(shock);
    fire_shocks(k, month);
    shock_kind(spec_->shocks[shock].type)
        .while_active({s, lanes, month, s.i[iShockActiveUntil + k], s.d[rShockSeverity + k]});
  }
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane)
    s.s[fxSegmentLoss][lane] = std::min(s.s[fxSegmentLoss][lane], 1.0);
}

namespace {
/// Lanes where shock k may arrive this month (scheduled, a Poisson arrival due, or its
/// trigger fired) and whose firm is alive; clears the shock's fired-this-month row.
SMBSIM_LANE_LOOPS
void mark_shock_candidates(int lanes, int month, bool scheduled, bool has_trigger,
                           const std::int32_t* next_arrival, const std::int32_t* trigger_fired,
                           const std::int32_t* failure_month, std::int32_t* __restrict fired_now,
                           std::uint8_t* __restrict candidate) {
  for (int lane = 0; lane < lanes; ++lane) {
    const bool triggered = has_trigger & (trigger_fired[lane] != 0);
    candidate[lane] = (scheduled | (next_arrival[lane] == month) | triggered) & (failure_month[lane] == 0);
    fired_now[lane] = 0;
  }
}
}  // namespace

void Firm::fire_shocks(int k, int month) {
  // [M§7] Arrivals: scheduled, Poisson, or triggered by another shock's arrival this
  // month (with a probability). Each event draws its severity and duration.
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
  const ShockSpec& spec = spec_->shocks[static_cast<std::size_t>(k)];
  const ShockKind& kind = shock_kind(spec.type);
  std::int32_t* next_arrival = s.i[iShockNextArrival + k];
  std::int32_t* until = s.i[iShockActiveUntil + k];
  std::int32_t* fired_now = s.i[iShockFiredNow + k];
  double* severity = s.d[rShockSeverity + k];
  // A shock is triggered only by one listed before it, whose arrivals are already known.
  const bool has_trigger = spec.triggered_by >= 0;
  const std::int32_t* trigger_fired = has_trigger ? s.i[iShockFiredNow + spec.triggered_by] : next_arrival;
  const bool scheduled = spec.month == month;
  mark_shock_candidates(lanes, month, scheduled, has_trigger, next_arrival, trigger_fired,
                        s.i[iFailureMonth], fired_now, s.flags);
  for_each_flagged(s.flags, lanes, [&](int lane) {
    const bool poisson = next_arrival[lane] == month;
    const bool triggered = has_trigger && trigger_fired[lane] != 0;
    auto rng = RunRandom(seed_, s.run[lane]).stream(kShockBase + static_cast<std::uint32_t>(k),
                                                    static_cast<std::uint32_t>(month));
    const bool fires = !triggered || scheduled || poisson || rng.uniform() < spec.trigger_probability;
    if (fires) {
      const double drawn = std::clamp(spec.severity.sample(rng), 0.0, 1.0);
      const int duration = static_cast<int>(std::lround(std::clamp(spec.duration.sample(rng), 1.0, 1e6)));
      severity[lane] = month <= until[lane] ? std::max(severity[lane], drawn) : drawn;
      until[lane] = std::max(until[lane], month + duration - 1);
      fired_now[lane] = 1;
      if (kind.on_arrival) kind.on_arrival(s, lane, severity[lane]);
    }
    if (poisson) next_arrival[lane] = month + months_to_arrival(spec.rate, rng);
  });
}

SMBSIM_LANE_LOOPS
void Firm::update_alignment(int month) {
  // [M§3] Drift toward zero and noise; reviews close part of the gap back to the level.
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
  const double* level = s.param(Param::alignment_level);
  const double* communication = s.param(Param::communication);
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane) {
    const bool review = month == s.i[iNextReview][lane];
    const int interval = s.i[iReviewMonths][lane];
    s.i[iNextReview][lane] += review ? interval : 0;
    s.s[fxOneOff][lane] += review ? s.d[rReviewCost][lane] : 0.0;  // management time
    double team[kTeams];
    #pragma GCC unroll 8
    for (int j = 0; j < kTeams; ++j) {
      double a = s.d[rTeamAlignment + j][lane] * (1.0 - s.d[rDrift][lane]) +
                 s.d[rNoise][lane] * s.s[zTeam + j][lane];
      const double reviewed = a + communication[lane] * (level[lane] - a);
      a = review & (a < level[lane]) ? reviewed : a;
      team[j] = std::min(std::max(a, 0.0), 1.0);  // clamp to [0, 1]
      s.d[rTeamAlignment + j][lane] = team[j];
    }
    s.d[rAlignment][lane] = (team[0] + team[1] + team[2] + team[3]) / kTeams;
    s.d[rFriction][lane] = lane_friction(team, s.d[rCouplingSame][lane], s.d[rCouplingCross][lane]);
  }
}

void Firm::update_initiatives(int month) {
  // [M§3] Initiatives beyond the routine budget arrive as a Poisson process. One comes
  // from each team with probability 1/4 and serves the strategy with that team's
  // alignment A_j, else the team's own priorities h_j; it succeeds as far as what it
  // serves is what the market values (1 - D(S, w) or 1 - D(h_j, w)), and otherwise flops
  // at an exponential one-off loss. A thin buffer cannot absorb what a thick one can, so
  // this is where cash and credit meet misalignment [A "The Fragility of Resources"]; and
  // alignment helps only while the strategy is better aimed than the teams' own ends.
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
  std::int32_t* next = s.i[iNextInitiative];
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane) {
    s.s[sMisstep][lane] = 0.0;
    s.flags[lane] = (next[lane] == month) & (s.i[iFailureMonth][lane] == 0);
  }
  if (!any_initiatives_) return;
  const double* rate = s.param(Param::initiative_rate);
  const double* mean_cost = s.param(Param::misstep_cost);
  for_each_flagged(s.flags, lanes, [&](int lane) {
    auto rng = RunRandom(seed_, s.run[lane]).stream(kInitiatives, static_cast<std::uint32_t>(month));
    double weights[kCapabilities], target[kCapabilities], own[kCapabilities];
    for (int c = 0; c < kCapabilities; ++c) {
      weights[c] = s.d[rWeights + c][lane];
      target[c] = s.d[rTarget + c][lane];
    }
    const double strategy_fits = 1.0 - mix_distance(target, weights);
    double succeeds = 0.0;
    for (int j = 0; j < kTeams; ++j) {
      for (int c = 0; c < kCapabilities; ++c) own[c] = own_priority_[c][j];
      const double aligned = s.d[rTeamAlignment + j][lane];
      succeeds += (aligned * strategy_fits + (1.0 - aligned) * (1.0 - mix_distance(own, weights))) / kTeams;
    }
    const bool flops = rng.uniform() >= succeeds;
    const double loss = rng.exponential() * mean_cost[lane] * s.d[rPlannedRevenue][lane] * s.d[rStaff][lane];
    s.s[sMisstep][lane] = flops ? loss : 0.0;
    s.s[fxOneOff][lane] += s.s[sMisstep][lane];
    s.d[rMissteps][lane] += flops ? 1.0 : 0.0;
    next[lane] = month + months_to_arrival(rate[lane], rng);
  });
}

void Firm::update_disruption(int month) {
  // [M§8] The market's weights shift; the firm senses it after a lag, decides after
  // another, then its strategy targets the new mix and agility carries it there.
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
  const Mix& shifted = spec_->disruption_weights;
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane) {
    const int disruption = s.i[iDisruptionMonth][lane];
    if (disruption <= 0 || month < disruption || s.i[iFailureMonth][lane] != 0) continue;
    auto distance_to_market = [&] {
      double allocation[kCapabilities], weights[kCapabilities];
      #pragma GCC unroll 8
      for (int c = 0; c < kCapabilities; ++c) {
        allocation[c] = s.d[rAllocation + c][lane];
        weights[c] = s.d[rWeights + c][lane];
      }
      return mix_distance(allocation, weights);
    };
    if (month == disruption) {
      s.d[rRealignThreshold][lane] = distance_to_market() + 0.05;
      #pragma GCC unroll 8
      for (int c = 0; c < kCapabilities; ++c) s.d[rWeights + c][lane] = shifted[c];
    }
    std::int32_t& sensed = s.i[iSensedMonth][lane];
    std::int32_t& decided = s.i[iDecidedMonth][lane];
    if (sensed == 0 && month >= disruption + s.d[rSenseLag][lane]) sensed = month;
    if (sensed > 0 && decided == 0 && month >= sensed + s.d[rDecideLag][lane]) {
      decided = month;
      #pragma GCC unroll 8
      for (int c = 0; c < kCapabilities; ++c) s.d[rTarget + c][lane] = shifted[c];
      // Realigned also counts as reached when the allocation is as close to the new mix as
      // fully aligned teams would bring it: an imitator cannot come closer than its
      // imitation allows, however aligned (a misaligned firm is held to the same mark).
      const double neglect[kTeams] = {0.0, 0.0, 0.0, 0.0};
      double intended[kCapabilities], target[kCapabilities];
      for (int c = 0; c < kCapabilities; ++c) {
        intended[c] = intended_share(1.0, neglect, shifted[c], own_priority_[c], s.param(Param::isomorphism)[lane],
                                     s.d[rIndustry + c][lane]);
        target[c] = shifted[c];
      }
      s.d[rRealignThreshold][lane] = std::max(s.d[rRealignThreshold][lane], mix_distance(intended, target) + 0.05);
    }
    if (decided > 0 && s.i[iRealignedMonth][lane] == 0 && distance_to_market() <= s.d[rRealignThreshold][lane])
      s.i[iRealignedMonth][lane] = month;
  }
}

SMBSIM_LANE_LOOPS
void Firm::intend_allocation() {
  // [M§2] The allocation the teams intend, into the sIntended rows (for the start of a run).
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
  const double* isomorphism = s.param(Param::isomorphism);
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane) {
    double team[kTeams], neglect[kTeams];
#pragma GCC unroll 8
    for (int j = 0; j < kTeams; ++j) team[j] = s.d[rTeamAlignment + j][lane];
    team_neglect(team, neglect);
#pragma GCC unroll 8
    for (int c = 0; c < kCapabilities; ++c)
      s.s[sIntended + c][lane] =
          intended_share(s.d[rAlignment][lane], neglect, s.d[rTarget + c][lane], own_priority_[c], isomorphism[lane],
                         s.d[rIndustry + c][lane]);
  }
}

SMBSIM_LANE_LOOPS
void Firm::update_allocation() {
  // [M§5] Agility moves the allocation toward the teams' intent [M§2]; misaligned agility
  // also moves it in random directions (the double edge). Then it is renormalised to a
  // mix; the churn is the distance moved (half the L1 change).
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
  const double* isomorphism = s.param(Param::isomorphism);
  const double* agility = s.param(Param::agility);
  const double* chaos = s.param(Param::chaos);
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane) {
    double team[kTeams], neglect[kTeams];
#pragma GCC unroll 8
    for (int j = 0; j < kTeams; ++j) team[j] = s.d[rTeamAlignment + j][lane];
    team_neglect(team, neglect);
    const double mean_alignment = s.d[rAlignment][lane];
    const double amplitude = agility[lane] * (1.0 - mean_alignment) * chaos[lane];
    const double motion = amplitude > 1e-12 ? amplitude : 0.0;
    double intended[kCapabilities], next[kCapabilities], total = 0.0;
#pragma GCC unroll 8
    for (int c = 0; c < kCapabilities; ++c) {
      intended[c] = intended_share(mean_alignment, neglect, s.d[rTarget + c][lane], own_priority_[c], isomorphism[lane],
                                   s.d[rIndustry + c][lane]);
      const double allocation = s.d[rAllocation + c][lane];
      const double moved = allocation + agility[lane] * (intended[c] - allocation) + motion * s.s[zChaos + c][lane];
      next[c] = std::max(moved, 0.0);
      total += next[c];
    }
    double churn = 0.0;
    const double inverse_total = 1.0 / total;  // one division, not six
#pragma GCC unroll 8
    for (int c = 0; c < kCapabilities; ++c) {
      double& allocation = s.d[rAllocation + c][lane];
      const double normalised = next[c] * inverse_total;
      const double mix = total > 0 ? normalised : intended[c];
      churn += std::fabs(mix - allocation);
      allocation = mix;
    }
    s.d[rChurn][lane] = churn * 0.5;
  }
}

void Firm::update_automation(int month) {
  // [M§9] Automation: upfront cost, an implementation dip, then a cost cut that pays
  // only when the market values the automated capability and the teams use it.
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane) s.s[sCostCut][lane] = 0.0;
  if (!any_automation_) return;
  const int capability = spec_->automation_capability;
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane) {
    auto p = [&](Param id) { return s.param(id)[lane]; };
    if (s.i[iAutomationMonth][lane] > 0 && month == s.i[iAutomationMonth][lane]) {
      s.s[fxOneOff][lane] += p(Param::automation_cost_months) * s.d[rPlannedRevenue][lane];
      s.d[rCapability + capability][lane] += p(Param::automation_boost);
      s.i[iAutomationDone][lane] = 1;
    }
    if (!s.i[iAutomationDone][lane]) continue;
    const double fit = std::min(1.0, s.d[rWeights + capability][lane] * kCapabilities) * s.d[rAlignment][lane];
    s.d[rAutomationFit][lane] = fit;
    if (month < s.i[iAutomationDipEnd][lane])
      s.s[fxCapacity][lane] *= 1.0 - p(Param::automation_dip);
    else
      s.s[sCostCut][lane] = p(Param::automation_cost_reduction) * fit;
  }
}

SMBSIM_LANE_LOOPS
void Firm::update_capabilities() {
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
  auto p = [&](Param id) { return s.param(id); };
  const double* depreciation = p(Param::depreciation);
  const double* friction_waste = p(Param::friction_waste);
  const double* base_value = p(Param::base_value);
  // [M§2] Capabilities accumulate from spend (relative to what competitors spend),
  // reduced by friction, and depreciate; the share of spend on strategy and customer
  // value sum over capabilities.
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane) {
    const double build =
        depreciation[lane] * (1.0 - friction_waste[lane] * s.d[rFriction][lane]) * s.d[rSpendRatio][lane];
    double project = 0.0, value = 0.0;
#pragma GCC unroll 8
    for (int c = 0; c < kCapabilities; ++c) {
      double& capability = s.d[rCapability + c][lane];
      const double allocation = s.d[rAllocation + c][lane];
      capability = (1.0 - depreciation[lane]) * capability + build * allocation;
      project += std::min(allocation, s.d[rTarget + c][lane]);
      value += customer_value_term(capability, s.d[rWeights + c][lane]);
    }
    s.d[rProjectAlignment][lane] = project;
    s.d[rValue][lane] = with_base_value(base_value[lane], value);
  }
}

SMBSIM_LANE_LOOPS
void Firm::update_customers() {
  // [M§6] Customers respond to relative value (and to a price changed by a rule,
  // through rPriceDemand) with inertia.
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
  auto p = [&](Param id) { return s.param(id); };
  const double* response = p(Param::response);
  const double* elasticity = p(Param::elasticity);
  if (any_elasticity_) {
#pragma GCC ivdep  // lanes are independent runs
    for (int lane = 0; lane < lanes; ++lane) {
      const double value = s.d[rValue][lane];
      const double pull = (elasticity[lane] == 1.0 ? value : std::pow(value, elasticity[lane])) * s.d[rPriceDemand][lane];
      s.d[rShare][lane] += response[lane] * (pull - s.d[rShare][lane]);
    }
  } else {
#pragma GCC ivdep  // lanes are independent runs
    for (int lane = 0; lane < lanes; ++lane)
      s.d[rShare][lane] += response[lane] * (s.d[rValue][lane] * s.d[rPriceDemand][lane] - s.d[rShare][lane]);
  }
}

void Firm::decision_flows(int month, double season) {
  LaneState& s = *s_;
  const int lanes = lanes_;
  if (plans_ > 0) {
    plan_flows(season);
  } else {
    for (int lane = 0; lane < lanes; ++lane) s.s[sPlanRevenue][lane] = s.s[sPlanCosts][lane] = 0.0;
  }
  if (loans_ > 0) {
    loan_flows(month);
  } else {
    for (int lane = 0; lane < lanes; ++lane)
      s.s[sLoanInflow][lane] = s.s[sLoanInterest][lane] = s.s[sLoanRepaid][lane] = 0.0;
  }
}

SMBSIM_LANE_LOOPS
void Firm::update_cash(int month) {
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
  auto p = [&](Param id) { return s.param(id); };
  update_capabilities();
  update_customers();
  // [M§1] The season of this month; plans' and loans' flows [M§16].
  const double season = spec_->seasonality[static_cast<std::size_t>((month - 1) % 12)];
  decision_flows(month, season);
  const double* variable_share = p(Param::variable_cost_share);
  const double* headroom = p(Param::capacity_headroom);
  const double* payroll_share = p(Param::payroll_share);
  const double* friction_overhead = p(Param::friction_overhead);
  const double* change_cost = p(Param::change_cost);
  const double* interest_rate = p(Param::interest_rate);
  const double* repay_share = p(Param::repay_share);
  const double* payout_share = p(Param::payout_share);
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane) {
    // [M§1] Demand in units of planned output, then what the staff can deliver.
    const double gap = s.d[rFitGap][lane];
    const double fit = gap + (1.0 - gap) * s.d[rFit][lane];
    const double potential = s.d[rDemand][lane] * s.d[rShare][lane] * fit * s.d[rVolumeScale][lane];
    const double volume = potential * (1.0 - s.d[rRampGap][lane]) * s.s[fxDemand][lane] *
                          (1.0 - s.s[fxSegmentLoss][lane]) * season;
    // Staff are planned for the year and their hours follow the season.
    const double staff = s.d[rStaff][lane];
    const double capacity = staff * (1.0 + headroom[lane]) * s.s[fxCapacity][lane] * season;
    const double sold = std::min(volume, capacity);
    s.s[sVolume][lane] = volume / season;
    const double price_scale = s.d[rPlannedRevenue][lane] * s.d[rPrice][lane];
    const double base_revenue = price_scale * potential;
    const double core_revenue = price_scale * sold;
    const double revenue = core_revenue + s.s[sPlanRevenue][lane];
    // Variable costs per unit sold do not move with a rule's price change (a share of
    // revenue at starting prices); the plans pay their own (plan_flows).
    const double variable = variable_share[lane] * (core_revenue / s.d[rPriceIndex][lane]) * s.s[fxInputCost][lane] *
                            (1.0 - s.s[sCostCut][lane]);
    // Payroll and capability spend follow staff, premises follow it up at once and down
    // as leases run out; the owner's pay is fixed.
    const double payroll = payroll_share[lane];
    const double fixed = s.d[rFixedCosts][lane] * (payroll * staff * season + (1.0 - payroll) * s.d[rPremises][lane]);
    const double budget = s.d[rBudget][lane] * staff;
    const double overhead = fixed * friction_overhead[lane] * (s.d[rFriction][lane] - s.d[rFrictionBase][lane]);
    const double churn_cost = change_cost[lane] * s.d[rChurn][lane] * budget;
    double cash = s.d[rCash][lane], debt = s.d[rDebt][lane];
    const double interest = debt * interest_rate[lane] / 12.0 * s.s[fxInterest][lane];
    const double hiring_bill = s.d[rHiringBill][lane];  // last month's hires [M§1]
    const double outflows = variable + fixed + s.d[rOwnerPay][lane] + overhead + budget + churn_cost + interest +
                            s.s[fxOneOff][lane] + s.s[sPlanCosts][lane] + s.s[sLoanInterest][lane] + hiring_bill;
    s.d[rHiringBill][lane] = 0.0;
    const double profit = revenue - outflows;
    // Loans move cash, not profit.
    cash += profit + s.s[sLoanInflow][lane] - s.s[sLoanRepaid][lane];

    // Credit line: draw on it when cash runs out; pay it down from surplus cash.
    const double limit = s.d[rCreditLimit][lane] * s.s[fxCreditLimit][lane];
    const bool short_of_cash = cash < 0.0;
    const double repayable = std::min(debt, repay_share[lane] * cash);
    const double repay = !short_of_cash & (debt > 0.0) ? repayable : 0.0;
    debt = short_of_cash ? debt - cash : debt - repay;
    cash = short_of_cash ? 0.0 : cash - repay;
    // Owners draw a share of the month's profit while cash is above the reserve and
    // nothing is owed; cash already in the firm stays [M§1].
    const double reserve = s.d[rReserve][lane];
    const double drawable = std::min(payout_share[lane] * profit, cash - reserve);
    const double payout = (debt <= 0.0) & (profit > 0.0) & (cash > reserve) ? drawable : 0.0;
    cash -= payout;
    s.d[rPayouts][lane] += payout;
    // A cut line must be repaid at once.
    const double excess = debt - limit;
    const bool repay_cut = (debt > limit) & (cash >= excess);
    cash = repay_cut ? cash - excess : cash;
    debt = repay_cut ? limit : debt;
    s.d[rCash][lane] = cash;
    s.d[rDebt][lane] = debt;
    // What the month's KPIs read (update_kpis).
    s.d[rBaseRevenue][lane] = base_revenue;
    s.d[rRevenue][lane] = revenue;
    s.d[rProfit][lane] = profit;
    s.s[sOutflows][lane] = outflows;
    // Regular outflows: instalments included, one-offs not [M§16].
    s.d[rOutflows][lane] = outflows - s.s[fxOneOff][lane] - hiring_bill + s.s[sLoanRepaid][lane];
    s.s[sLimit][lane] = limit;
    // Waste from misalignment, for attribution.
    s.s[sWaste][lane] = overhead + churn_cost + budget * (1.0 - s.d[rProjectAlignment][lane]) + s.s[sMisstep][lane];
  }
  update_kpis(month);
  record_failures(month);
}

SMBSIM_LANE_LOOPS
void Firm::update_kpis(int month) {
  // [M§11] The month's KPIs and running sums, and whether the firm fails.
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
  const bool year_end = month % 12 == 0;
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane) {
    const double cash = s.d[rCash][lane], debt = s.d[rDebt][lane], limit = s.s[sLimit][lane];
    const double revenue = s.d[rRevenue][lane], profit = s.d[rProfit][lane], outflows = s.s[sOutflows][lane];
    s.d[rBufferDays][lane] = outflows > 0.0 ? cash / outflows * kDaysPerMonth : 0.0;
    // Runway: months that cash and unused credit pay the month's regular outflows.
    const double regular = s.d[rOutflows][lane];
    const double available = cash + std::max(limit - debt, 0.0);
    s.d[rRunway][lane] = regular > 0.0 ? available / regular : 1e9;
    s.i[iMonths][lane] += 1;
    s.d[rCumulativeProfit][lane] += profit;
    const double year_profit = s.d[rYearProfit][lane] + profit;
    const double year_revenue = s.d[rYearRevenue][lane] + revenue;
    s.d[rLastYearProfit][lane] = year_end ? year_profit : s.d[rLastYearProfit][lane];
    // [M§1] A profitable year that ends with the line repaid earns a larger line (a track
    // record), in proportion to the year's revenue, up to the cap.
    const double step = s.d[rCreditStep][lane] * year_revenue / 12.0;
    const double earned = std::min(s.d[rCreditLimit][lane] + step, s.d[rCreditCap][lane]);
    const bool track_record = year_end & (year_profit > 0.0) & (debt <= 0.0);
    s.d[rCreditLimit][lane] = track_record ? earned : s.d[rCreditLimit][lane];
    s.d[rLastYearRevenue][lane] = year_end ? year_revenue : s.d[rLastYearRevenue][lane];
    s.d[rYearProfit][lane] = year_end ? 0.0 : year_profit;
    s.d[rYearRevenue][lane] = year_end ? 0.0 : year_revenue;
    const double net = cash - debt - s.d[rLoansOwed][lane];
    const double peak = std::max(s.d[rPeakNetCash][lane], net);
    s.d[rPeakNetCash][lane] = peak;
    s.d[rMaxDrawdown][lane] = std::max(s.d[rMaxDrawdown][lane], peak - net);
    s.d[rSumAlignment][lane] += s.d[rAlignment][lane];
    s.d[rSumProject][lane] += s.d[rProjectAlignment][lane];
    s.d[rSumValue][lane] += s.d[rValue][lane];
    s.d[rSumFriction][lane] += s.d[rFriction][lane];
    // Smoothed waste from misalignment and smoothed operating deficit, for attribution.
    s.d[rWasteEma][lane] += 0.2 * (s.s[sWaste][lane] - s.d[rWasteEma][lane]);
    s.d[rDeficitEma][lane] += 0.2 * (std::max(0.0, -profit) - s.d[rDeficitEma][lane]);
    // The firm fails when it owes more than its (possibly cut) credit line.
    const bool fails = (s.i[iFailureMonth][lane] == 0) & (debt > limit + 1e-9);
    s.i[iFailureMonth][lane] = fails ? month : s.i[iFailureMonth][lane];
  }
}

SMBSIM_LANE_LOOPS
void Firm::record_failures(int month) {
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane) s.flags[lane] = (s.i[iFailureMonth][lane] == month) & (s.i[iCause][lane] < 0);  // not yet attributed
  for_each_flagged(s.flags, lanes, [&](int lane) {
    // A closure a rule decided is orderly only if the firm can pay what it owes;
    // otherwise it is an insolvency like any other [M§16].
    const bool orderly = s.i[iCause][lane] == kClosing &&
                         s.d[rCash][lane] - s.d[rDebt][lane] - s.d[rLoansOwed][lane] >= 0.0;
    s.i[iCause][lane] = orderly ? kCauseClosed : attribute_failure(lane, month);
  });
}

SMBSIM_LANE_LOOPS
void Firm::update_staff() {
  // [M§1] Staff (with payroll and premises) move toward what demand needs: quickly up
  // (hiring), slowly down (notice periods, leases).
  LaneState& s = *s_;
  const int lanes = lanes_;  // a local bound: stores to the tile cannot change it
  const double* hiring = s.param(Param::hiring_months);
  const double* hiring_cost = s.param(Param::hiring_cost);
  const double* payroll_share = s.param(Param::payroll_share);
  const double* layoff = s.param(Param::layoff_months);
  const double* lease = s.param(Param::lease_months);
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < lanes; ++lane) {
    const double staff = s.d[rStaff][lane];
    const double gap = s.s[sVolume][lane] - staff;
    const double months = gap > 0.0 ? hiring[lane] : layoff[lane];
    const double next = staff + gap / months;
    s.d[rStaff][lane] = next;
    // Recruiting and training the new hires, paid next month.
    s.d[rHiringBill][lane] = hiring_cost[lane] * payroll_share[lane] * s.d[rFixedCosts][lane] * std::max(next - staff, 0.0);
    const double premises = s.d[rPremises][lane];
    s.d[rPremises][lane] = std::max(next, premises + (next - premises) / lease[lane]);
  }
}

int Firm::attribute_failure(int lane, int month) const {
  // [M§7] The cause is the active shock with the largest monthly cash impact (its
  // kind's rule, shock_kinds.cpp); failing that, an unfinished realignment, misaligned
  // automation, misalignment waste, or chronic loss.
  const LaneState& s = *s_;
  double best = 0.0;
  int cause = -1;
  for (std::size_t shock = 0; shock < spec_->shocks.size(); ++shock) {
    const int k = static_cast<int>(shock);
    if (month > s.i[iShockActiveUntil + k][lane]) continue;
    const double severity = s.d[rShockSeverity + k][lane];
    const double impact = shock_kind(spec_->shocks[shock].type).cash_impact(s, lane, severity);
    if (impact > best) {
      best = impact;
      cause = kFirstShockCause + k;
    }
  }
  if (cause >= 0) return cause;
  const int disruption = s.i[iDisruptionMonth][lane];
  if (disruption > 0 && month >= disruption && s.i[iRealignedMonth][lane] == 0) return kCauseDisruption;
  if (s.i[iAutomationDone][lane] && month <= s.i[iAutomationMonth][lane] + 24 &&
      s.d[rAutomationFit][lane] < 0.5)
    return kCauseAutomation;
  if (s.d[rWasteEma][lane] >= 0.5 * s.d[rDeficitEma][lane]) return kCauseMisalignment;
  return kCauseChronicLoss;
}

}  // namespace smbsim::firm
