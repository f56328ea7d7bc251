#include "tools/smbsim/books_text.hpp"

#include "models/firm/books.hpp"
#include "models/firm/firm_equations.hpp"
#include "tools/smbsim/summary_text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <string>

namespace smbsim::cli {

using firm::Param;

namespace {

/// "$45,000" (whole dollars with thousands separators).
std::string dollars(double usd) {
  if (!std::isfinite(usd)) return "unbounded";
  char digits[32];
  std::snprintf(digits, sizeof digits, "%.0f", std::fabs(usd));
  std::string s = digits, out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return (usd < 0 && out != "0" ? "-$" : "$") + out;
}

std::string pct(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * share);
  return buf;
}

/// An amount in USD: the number, or a distribution's central value and range.
std::string amount(const Uncertain& u, const std::string& per = "") {
  if (u.is_fixed()) return dollars(u.nominal()) + per;
  return dollars(u.nominal()) + per + " (uncertain: " + dollars(u.lowest()) + " to " + dollars(u.highest()) + ")";
}

/// " (uncertain)" when any of the parameters a figure rests on is a distribution.
std::string uncertain_note(const firm::FirmSpec& spec, std::initializer_list<Param> params) {
  for (Param p : params)
    if (!spec[p].is_fixed()) return " (uncertain: its central value)";
  return "";
}

std::string change(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.0f%%", 100.0 * x);
  return buf;
}

std::string describe_actions(const firm::Actions& a, const firm::Decisions& d) {
  std::string s;
  auto add = [&](const std::string& part) { s += (s.empty() ? "" : ", ") + part; };
  if (a.capability_budget != 0) add("capability budget " + change(a.capability_budget));
  if (a.owner_salary != 0) add("owner's salary " + change(a.owner_salary));
  if (a.staff != 0) add("lay off " + pct(-a.staff) + " of staff");
  if (a.price != 0) add("prices " + change(a.price));
  for (const auto& [plan, months] : a.postpone)
    add("postpone " + d.plans[static_cast<std::size_t>(plan)].name + " by " + std::to_string(months) + " months");
  for (int plan : a.cancel) add("cancel " + d.plans[static_cast<std::size_t>(plan)].name);
  if (a.loan >= 0) {
    const auto& l = d.loans[static_cast<std::size_t>(a.loan)];
    add("borrow " + amount(l.principal) + " at " + pct(l.rate.nominal()) + "/year over " + std::to_string(l.term_months) +
        " months (once)");
  }
  if (a.close) add("close the firm in good order");
  return s;
}

std::string loan_terms(const firm::LoanSpec& l) {
  const double payment = firm::annuity_payment(l.principal.nominal(), l.rate.nominal() / 12.0, l.term_months);
  return amount(l.principal) + " at " + pct(l.rate.nominal()) + "/year over " + std::to_string(l.term_months) +
         " months: " + dollars(payment) + "/month";
}

}  // namespace

void print_books(const scenario::Variant& variant, std::ostream& out) {
  const firm::FirmSpec& spec = variant.spec;
  const firm::Books b = firm::nominal_books(spec);
  const double profit = b.monthly_revenue - b.outflows;
  auto line = [&](const char* label, const std::string& value) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "  %-22s ", label);
    out << buf << value << "\n";
  };
  out << "# the books of " << variant.name << " (USD; a distribution shows its most likely value: a triangular its mode, a uniform its midpoint)\n";
  line("firm", spec.established ? "established: trading at the scale of its books"
                                : "new venture: ramps up and learns its fit");
  line("monthly revenue", dollars(b.monthly_revenue) + "/month" + uncertain_note(spec, {Param::monthly_revenue, Param::revenue_per_employee, Param::headcount}));
  line("gross margin", pct(1.0 - b.variable_cost_share) + " of revenue" + uncertain_note(spec, {Param::gross_margin, Param::variable_cost_share}));
  line("fixed costs", dollars(b.fixed_costs) + "/month (payroll, rent; follow the staff)" + uncertain_note(spec, {Param::fixed_costs, Param::fixed_cost_share}));
  if (b.bureaucracy > 0) line("bureaucracy", dollars(b.bureaucracy) + "/month");
  line("owner's salary", dollars(b.owner_salary) + "/month" + uncertain_note(spec, {Param::owner_salary, Param::owner_pay_share}));
  line("capability budget", dollars(b.budget) + "/month (product, marketing, service, ...)" + uncertain_note(spec, {Param::budget, Param::budget_share}));
  line("a normal month", "outflows " + dollars(b.outflows) + ", profit " + dollars(profit) + " (" +
                             pct(b.monthly_revenue > 0 ? profit / b.monthly_revenue : 0.0) + " of revenue)");
  line("cash", dollars(b.cash) + " (" + std::to_string(static_cast<long>(std::lround(b.outflows > 0 ? b.cash / b.outflows * firm::kDaysPerMonth : 0))) +
                   " days of outflows)" + uncertain_note(spec, {Param::cash, Param::cash_buffer_days}));
  line("credit line", dollars(b.credit_line) + " at " + pct(spec[Param::interest_rate].nominal()) + "/year" +
                          uncertain_note(spec, {Param::credit_line, Param::credit_limit_months}));
  // The line grows with a track record unless it was entered as granted [M§1].
  line("credit growth", b.credit_growth > 0
                            ? "+" + format_double("%g", b.credit_growth) + " months of the year's revenue after each profitable year that ends with the line repaid, up to " +
                                  dollars(b.credit_cap) + " (firm.credit_growth; 0 keeps the line as granted)"
                            : "none: the line stays as granted (firm.credit_growth 0)");
  char runway[64];
  std::snprintf(runway, sizeof runway, "%.1f months of a normal month's outflows", b.outflows > 0 ? (b.cash + b.credit_line) / b.outflows : 0.0);
  line("runway at the start", std::string(runway) + " (cash and credit; what rules' runway_months reads)");
  // The payout policy moves cash out of the firm: say it where the cash is shown [M§1].
  const double reserve_months = spec[Param::reserve_months].nominal();
  line("owner's draw", pct(spec[Param::payout_share].nominal()) + " of each month's profit while cash is above " +
                           dollars(reserve_months * b.outflows) + " (firm.reserve_months " + format_double("%g", reserve_months) +
                           " of outflows; firm.payout_share)" +
                           uncertain_note(spec, {Param::payout_share, Param::reserve_months}));
  char elasticity[32];
  std::snprintf(elasticity, sizeof elasticity, "%.2f", b.price_elasticity);
  line("price elasticity", std::string(elasticity) + ": how customers answer a rule's price change" +
                               (std::isnan(spec[Param::price_elasticity].nominal())
                                    ? " (derived: 1 / the margin over costs that follow volume, a firm that prices well)"
                                    : ""));
  bool seasonal = false;
  for (double f : spec.seasonality) seasonal |= f != 1.0;
  if (seasonal) {
    std::string s;
    char buf[16];
    for (double f : spec.seasonality) {
      std::snprintf(buf, sizeof buf, "%.2f", f);
      s += (s.empty() ? "" : " ") + std::string(buf);
    }
    line("season (months 1-12)", s);
  }
  const firm::Decisions& d = spec.decisions;
  for (const auto& l : d.loans) {
    if (l.plan >= 0 || l.rule >= 0) continue;  // shown with their plan or rule
    std::string when = ", from month " + std::to_string(l.month);
    if (l.month <= 0) {
      const double owed = firm::annuity_balance(l.principal.nominal(), l.rate.nominal() / 12.0, l.term_months, -l.month);
      when = ", taken before the start: " + dollars(owed) + " owed, " + std::to_string(std::max(0, l.term_months + l.month)) +
             " instalments left";
    }
    line("loan", l.name + ": " + loan_terms(l) + when);
  }
  for (std::size_t k = 0; k < d.plans.size(); ++k) {
    const auto& p = d.plans[k];
    std::string s = p.name + " in month " + std::to_string(p.month) + ": cost " + amount(p.cost) + ", fixed costs +" +
                    amount(p.fixed_costs, "/month") + ", revenue +" + amount(p.revenue, "/month") + " at maturity";
    for (const auto& l : d.loans)
      if (l.plan == static_cast<int>(k)) s += "; financed by " + loan_terms(l);
    line("plan", s);
  }
  for (const auto& r : d.rules) {
    std::string s = r.name + ": when " + r.when.text + ", " + describe_actions(r.act, d);
    if (r.delay > 0) s += "; after " + std::to_string(r.delay + 1) + " months in a row";
    s += r.cooldown == 1 ? "; at most once a month" : "; at most every " + std::to_string(r.cooldown) + " months";
    if (r.max_times > 0) s += ", " + std::to_string(r.max_times) + " times";
    line("rule", s);
  }
}

nlohmann::json books_json(const scenario::Variant& variant) {
  const firm::FirmSpec& spec = variant.spec;
  const firm::Books b = firm::nominal_books(spec);
  nlohmann::json j = {
      {"established", spec.established},
      {"monthly_revenue", b.monthly_revenue},
      {"gross_margin", 1.0 - b.variable_cost_share},
      {"fixed_costs", b.fixed_costs},
      {"bureaucracy", b.bureaucracy},
      {"owner_salary", b.owner_salary},
      {"capability_budget", b.budget},
      {"outflows", b.outflows},
      {"profit", b.monthly_revenue - b.outflows},
      {"cash", b.cash},
      {"credit_line", b.credit_line},
      {"credit_growth", b.credit_growth},
      {"interest_rate", spec[Param::interest_rate].nominal()},
      {"price_elasticity", b.price_elasticity},
      {"payout_share", spec[Param::payout_share].nominal()},
      {"reserve", spec[Param::reserve_months].nominal() * b.outflows},
      {"seasonality", spec.seasonality},
      {"loans", nlohmann::json::array()},
      {"plans", nlohmann::json::array()},
      {"rules", nlohmann::json::array()},
  };
  const firm::Decisions& d = spec.decisions;
  for (const auto& l : d.loans)
    j["loans"].push_back({{"name", l.name},
                          {"principal", l.principal.nominal()},
                          {"rate", l.rate.nominal()},
                          {"term_months", l.term_months},
                          {"month", l.month},
                          {"monthly_payment", firm::annuity_payment(l.principal.nominal(), l.rate.nominal() / 12.0, l.term_months)},
                          {"plan", l.plan >= 0 ? nlohmann::json(d.plans[static_cast<std::size_t>(l.plan)].name) : nlohmann::json()},
                          {"rule", l.rule >= 0 ? nlohmann::json(d.rules[static_cast<std::size_t>(l.rule)].name) : nlohmann::json()}});
  for (const auto& p : d.plans)
    j["plans"].push_back({{"name", p.name},
                          {"month", p.month},
                          {"cost", p.cost.nominal()},
                          {"fixed_costs", p.fixed_costs.nominal()},
                          {"revenue", p.revenue.nominal()},
                          {"revenue_low", p.revenue.lowest()},
                          {"revenue_high", p.revenue.highest()},
                          {"ramp_months", p.ramp_months.nominal()}});
  for (const auto& r : d.rules)
    j["rules"].push_back({{"name", r.name},
                          {"when", r.when.text},
                          {"do", describe_actions(r.act, d)},
                          {"delay", r.delay},
                          {"cooldown", r.cooldown},
                          {"max_times", r.max_times > 0 ? nlohmann::json(r.max_times) : nlohmann::json()}});
  return j;
}

}  // namespace smbsim::cli
