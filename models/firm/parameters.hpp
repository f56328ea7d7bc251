#pragma once
// Every scalar parameter of the firm model in one table: scenario path, unit, default
// for each size preset, allowed range, meaning and source. The scenario reader, the
// per-run sampler, `smbsim validate` and docs/model.md all read this table, so a
// parameter is described once.
#include "engine/design.hpp"
#include "engine/uncertain.hpp"
#include "models/firm/capabilities.hpp"
#include "models/firm/plans.hpp"
#include "models/firm/shock_kinds.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smbsim::firm {

enum class Size : int { micro, small, medium, large };
inline constexpr std::array<std::string_view, 4> kSizeNames{"micro", "small", "medium", "large"};
std::optional<Size> size_from_name(std::string_view name);

enum class Param : int {
  headcount, revenue_per_employee, fixed_cost_share, variable_cost_share, bureaucracy,
  owner_pay_share, payroll_share, capacity_headroom, hiring_months, hiring_cost, layoff_months, lease_months, ramp_start, ramp_months,
  cash_buffer_days, credit_limit_months, credit_growth, credit_max_months, interest_rate, repay_share, reserve_months, payout_share,
  monthly_revenue, gross_margin, fixed_costs, owner_salary, cash, credit_line,
  segments, coupling, agility, formality, friction_overhead, friction_waste, change_cost,
  budget_share, budget, depreciation, revision, sensing_noise,
  alignment_level, alignment_drift, alignment_noise, review_months, communication, review_cost, chaos, initiative_rate, misstep_cost,
  market_growth, market_volatility, market_fit, market_fit_sigma, fit_learning_months, elasticity, response,
  price_elasticity, competitor_budget_share, base_value, taste_drift, segment_correlation, niche_premium,
  isomorphism, price_pressure, legitimacy, imitation_lag,
  disruption_month, disruption_rate, sense_months, decide_months, confirmation_bias,
  sunk_cost_bias, groupthink,
  automation_month, automation_cost_months, automation_dip, automation_dip_months,
  automation_cost_reduction, automation_boost,
  count_
};
inline constexpr int kParamCount = static_cast<int>(Param::count_);

struct ParamInfo {
  Param id;
  std::string_view path;         ///< scenario key, e.g. "firm.cash_buffer_days"
  std::string_view unit;
  std::array<double, 4> defaults;///< by Size: micro, small, medium, large
  double min;
  double max;
  bool integer;
  std::string_view description;
  std::string_view source;       ///< seed passage or data the value and mechanism rest on
};

const std::array<ParamInfo, kParamCount>& param_table();
const ParamInfo& info(Param p);
std::optional<Param> param_from_path(std::string_view path);

/// A key in the units of the books and the share (or days, months) it replaces: a
/// scenario gives one or the other, never both [M§1].
struct MoneyInput {
  Param money;
  Param share;
};
inline constexpr std::array<MoneyInput, 7> kMoneyInputs{{
    {Param::monthly_revenue, Param::revenue_per_employee},
    {Param::gross_margin, Param::variable_cost_share},
    {Param::fixed_costs, Param::fixed_cost_share},
    {Param::owner_salary, Param::owner_pay_share},
    {Param::cash, Param::cash_buffer_days},
    {Param::credit_line, Param::credit_limit_months},
    {Param::budget, Param::budget_share},
}};

/// An established firm's fit is known to within this (sd of log) unless market.fit_sigma
/// says otherwise [M§6].
inline constexpr double kEstablishedFitSigma = 0.05;

/// A capability mix (value weights or allocation): non-negative, sums to 1.
using Mix = CapabilityVector;

inline constexpr int kMaxShocks = 16;

/// One entry of the shock catalogue. Severity and duration are drawn per event.
struct ShockSpec {
  std::string name;
  ShockType type = ShockType::demand;
  double rate = 0.0;           ///< arrivals per year (Poisson); 0 = only scheduled/triggered
  int month = 0;               ///< scheduled month, 0 = none
  Uncertain severity = 0.2;    ///< share in [0, 1] (what it means depends on the type)
  Uncertain duration = 6.0;    ///< months
  int triggered_by = -1;       ///< index of a shock whose arrival can trigger this one
  double trigger_probability = 0.0;
};

/// Everything the firm model needs for a scenario (one variant), fully resolved:
/// preset defaults applied, overrides applied, validated.
struct FirmSpec {
  Size size = Size::small;
  std::array<Uncertain, kParamCount> values;
  Mix strategy_target;
  Mix value_weights;
  Mix disruption_weights;
  int automation_capability = kAutomation;
  std::vector<ShockSpec> shocks;
  /// An existing business at its known scale: no ramp-up, its fit known, month 1 as in
  /// its books [M§6].
  bool established = false;
  /// Demand factor of months 1..12 of each simulated year (mean 1) [M§1].
  std::array<double, 12> seasonality{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  Decisions decisions;
  /// How the uncertain inputs' per-run values are chosen: random, lhs or sobol, and
  /// their rank correlations [M§12].
  DesignSpec design;

  const Uncertain& operator[](Param p) const { return values[static_cast<std::size_t>(p)]; }
  Uncertain& operator[](Param p) { return values[static_cast<std::size_t>(p)]; }
};

/// The defaults of a size preset, with the default market and strategy.
FirmSpec preset(Size size);
Mix default_value_weights();
Mix default_disruption_weights();

/// An input of a FirmSpec that is drawn per run from a distribution: a parameter of
/// the table, or an uncertain amount of a loan or plan [M§12]. In the order the model
/// samples them: parameters in table order, then each loan's and plan's fields.
struct UncertainInput {
  std::string path;         ///< "market.fit", "plans.second_site.revenue"
  std::string units;
  std::string description;
  const Uncertain* dist;    ///< points into the FirmSpec
  std::optional<Param> param;  ///< the parameter, or none for a loan's or plan's field
};
std::vector<UncertainInput> uncertain_inputs(const FirmSpec& spec);

/// Concrete per-run values, sampled from a FirmSpec's parameter stream.
struct RunParams {
  std::array<double, kParamCount> v{};
  double operator[](Param p) const { return v[static_cast<std::size_t>(p)]; }
};

}  // namespace smbsim::firm
