#pragma once
// What the owner has decided or will decide, in the units of the books: loans, dated
// plans (a second site, a hire, a campaign), and management rules that react to the
// books each month [M§16]. Plain data, filled by the scenario reader.
#include "engine/uncertain.hpp"
#include "models/firm/capabilities.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smbsim::firm {

inline constexpr int kMaxLoans = 8;
inline constexpr int kMaxPlans = 8;
inline constexpr int kMaxRules = 8;
inline constexpr int kMaxClauses = 4;  ///< comparisons in one rule's condition

/// A loan repaid in equal monthly instalments (an annuity). The principal arrives in
/// `month` (a loan taken before the start has month <= 0 and no inflow) and is repaid
/// in months month+1 .. month+term_months.
struct LoanSpec {
  std::string name;
  Uncertain principal = 0.0;  ///< USD
  Uncertain rate = 0.08;      ///< annual interest
  int term_months = 60;
  int month = 1;
  int plan = -1;  ///< the plan it finances: it starts when the plan does (month ignored)
  int rule = -1;  ///< the rule that draws it: it starts when the rule first fires
};

/// A dated initiative: a one-off cost, added fixed costs, added revenue reached over
/// ramp_months (a separate unit: its fixed costs carry its own staff), capability effects.
struct PlanSpec {
  std::string name;
  int month = 1;
  Uncertain cost = 0.0;         ///< USD, once, in the plan's month
  Uncertain fixed_costs = 0.0;  ///< USD/month from the plan's month on
  Uncertain revenue = 0.0;      ///< USD/month at maturity, in today's market
  Uncertain ramp_months = 6.0;  ///< time constant of reaching it
  CapabilityVector capabilities = CapabilityVector::Zero();  ///< stock added at the start
};

/// What the owner can see on last month's books.
enum class Observable : int { runway_months, cash, profit, revenue_vs_plan, buffer_days, month, count_ };
inline constexpr std::array<std::string_view, 6> kObservableNames{
    "runway_months", "cash", "profit", "revenue_vs_plan", "buffer_days", "month"};

enum class Comparison : int { less, less_equal, greater, greater_equal };

struct Clause {
  Observable what = Observable::runway_months;
  Comparison op = Comparison::less;
  double threshold = 0.0;
};

/// A rule's condition: clauses joined by `and` (all_of) or `or` (any_of).
struct Condition {
  std::vector<Clause> clauses;
  bool any_of = false;
  std::string text;  ///< as written, for messages and `validate`
};

/// What a rule does when it fires. Shares are relative changes: -0.5 halves.
struct Actions {
  double capability_budget = 0.0;
  double owner_salary = 0.0;
  double staff = 0.0;   ///< in [-1, 0]: the share of staff let go (with a month's severance)
  double price = 0.0;   ///< customers answer through market.price_elasticity
  std::vector<std::pair<int, int>> postpone;  ///< (plan, months)
  std::vector<int> cancel;                    ///< plans
  int loan = -1;                              ///< index into FirmSpec::loans
  bool close = false;                         ///< an orderly closure
};

struct RuleSpec {
  std::string name;
  Condition when;
  Actions act;
  int delay = 0;       ///< extra months the condition must hold before it fires
  int cooldown = 12;   ///< months after firing before it may fire again
  int max_times = 0;   ///< 0 = no limit
};

/// Everything the owner decides, for one variant.
struct Decisions {
  std::vector<LoanSpec> loans;
  std::vector<PlanSpec> plans;
  std::vector<RuleSpec> rules;
};

std::optional<Observable> observable_from_name(std::string_view name);

}  // namespace smbsim::firm
