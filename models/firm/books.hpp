#pragma once
// A firm's opening books in USD, from its parameters: the keys in the books' units
// where the scenario gives them, the preset's shares where it does not [M§1]. The
// per-run start and `smbsim validate` both read them from here, so the dollars an
// advisor checks are the dollars the model runs on.
#include "models/firm/parameters.hpp"

namespace smbsim::firm {

struct Books {
  double monthly_revenue;      ///< USD/month: a normal month's revenue
  double variable_cost_share;  ///< share of revenue
  double fixed_costs;          ///< USD/month: payroll and premises at today's capacity
  double bureaucracy;          ///< USD/month: overhead of formal structures
  double fixed_and_bureaucracy;///< USD/month: the two together, as the model adds them
  double owner_salary;         ///< USD/month
  double budget;               ///< USD/month: capability spend
  double outflows;             ///< USD/month: all of the above at a normal month's revenue
  double cash;                 ///< USD at the start
  double credit_line;          ///< USD
  double legitimacy;           ///< what conforming multiplies a line given in months by
  double price_elasticity;     ///< as given, or 1 / the margin over costs that follow volume
  double credit_growth;        ///< months of revenue a track-record year adds to the line
  double credit_cap;           ///< USD: the largest line a track record earns
};

/// The credit a profitable year earns when the line is given in months of revenue [cal:
/// BLS survival at 5 and 10 years]; a line entered in USD is the bank's as granted, and
/// does not grow unless the scenario says so [M§1].
inline constexpr double kCreditGrowth = 0.2;

/// Margins at or below this (even negative ones) derive the largest elasticity, 1 / 0.05.
inline constexpr double kMinMargin = 0.05;
/// The share of revenue left after every cost that follows volume: variable costs, and
/// payroll, premises and bureaucracy, which follow capacity (the owner's salary and the
/// capability budget do not).
double contribution_margin(const Books& b);

/// From a run's parameter values (NaN for a key in the books' units that the scenario
/// does not give).
Books opening_books(const RunParams& value);

/// The books at every parameter's nominal value (a distribution's median or mode).
Books nominal_books(const FirmSpec& spec);

/// A loan's monthly instalment: principal r / (1 - (1 + r)^-n) at monthly rate r
/// (principal / n without interest). Powers by repeated squaring: the same bits on
/// every CPU.
double annuity_payment(double principal, double monthly_rate, int months);
/// Outstanding principal after `paid` instalments.
double annuity_balance(double principal, double monthly_rate, int months, int paid);

}  // namespace smbsim::firm
