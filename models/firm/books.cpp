#include "models/firm/books.hpp"

#include "models/firm/firm_equations.hpp"

#include <algorithm>
#include <cmath>

namespace smbsim::firm {

double contribution_margin(const Books& b) {
  return 1.0 - b.variable_cost_share - b.fixed_and_bureaucracy / b.monthly_revenue;
}

Books opening_books(const RunParams& params) {
  auto value = [&](Param p) { return params[p]; };
  auto given = [&](Param p) { return !std::isnan(value(p)); };
  auto either = [&](Param money, double from_share) { return given(money) ? value(money) : from_share; };
  Books b{};
  b.monthly_revenue = either(Param::monthly_revenue, value(Param::headcount) * value(Param::revenue_per_employee));
  const double revenue = b.monthly_revenue;
  b.variable_cost_share = given(Param::gross_margin) ? 1.0 - value(Param::gross_margin) : value(Param::variable_cost_share);
  b.fixed_costs = either(Param::fixed_costs, value(Param::fixed_cost_share) * revenue);
  b.bureaucracy = value(Param::bureaucracy) * revenue;
  // (Summed as share x revenue when given as shares, so that a scenario in shares runs
  // exactly as it did before keys in USD existed.)
  b.fixed_and_bureaucracy = given(Param::fixed_costs)
                                ? b.fixed_costs + b.bureaucracy
                                : (value(Param::fixed_cost_share) + value(Param::bureaucracy)) * revenue;
  b.owner_salary = either(Param::owner_salary, value(Param::owner_pay_share) * revenue);
  b.budget = either(Param::budget, value(Param::budget_share) * revenue);
  b.outflows = b.fixed_and_bureaucracy + b.owner_salary + b.variable_cost_share * revenue + b.budget;
  b.cash = either(Param::cash, value(Param::cash_buffer_days) / kDaysPerMonth * b.outflows);
  // [M§6] Conformity buys legitimacy, and with it a larger line; a line entered in USD
  // is the one the bank has granted, legitimacy included.
  b.legitimacy = 1.0 + value(Param::legitimacy) * value(Param::isomorphism);
  b.credit_line = either(Param::credit_line, value(Param::credit_limit_months) * revenue * b.legitimacy);
  // [M§6] Unless the scenario says how customers answer a price change, the firm is taken
  // to price well (the Lerner condition): the elasticity is 1 / its margin over every cost
  // that follows volume (materials, and the staff and premises that capacity needs), so a
  // small price change neither gains nor loses, and a large one loses either way.
  b.price_elasticity = either(Param::price_elasticity, 1.0 / std::clamp(contribution_margin(b), kMinMargin, 1.0));
  b.credit_growth = either(Param::credit_growth, given(Param::credit_line) ? 0.0 : kCreditGrowth);
  b.credit_cap = std::max(b.credit_line, value(Param::credit_max_months) * revenue * b.legitimacy);
  return b;
}

Books nominal_books(const FirmSpec& spec) {
  RunParams values;
  for (const auto& info : param_table()) values.v[static_cast<std::size_t>(info.id)] = spec[info.id].nominal();
  return opening_books(values);
}

namespace {
double power(double base, int n) {
  double result = 1.0;
  for (; n > 0; n >>= 1, base *= base)
    if (n & 1) result *= base;
  return result;
}
}  // namespace

double annuity_payment(double principal, double monthly_rate, int months) {
  if (months <= 0) return principal;
  if (monthly_rate <= 0.0) return principal / months;
  return principal * monthly_rate / (1.0 - 1.0 / power(1.0 + monthly_rate, months));
}

double annuity_balance(double principal, double monthly_rate, int months, int paid) {
  if (paid <= 0) return principal;
  if (paid >= months) return 0.0;
  const double payment = annuity_payment(principal, monthly_rate, months);
  if (monthly_rate <= 0.0) return principal - payment * paid;
  const double grown = power(1.0 + monthly_rate, paid);
  return principal * grown - payment * (grown - 1.0) / monthly_rate;
}

}  // namespace smbsim::firm
