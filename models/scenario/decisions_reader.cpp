#include "models/scenario/decisions_reader.hpp"

#include "models/scenario/distribution.hpp"
#include "models/scenario/suggest.hpp"
#include "models/scenario/text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <map>

namespace smbsim::scenario::detail {

using firm::Actions;
using firm::Clause;
using firm::Comparison;
using firm::Condition;
using firm::LoanSpec;
using firm::PlanSpec;
using firm::RuleSpec;

namespace {

constexpr double kMoney = 1e13;  // USD: larger than any small business's books

bool valid_name(const std::string& s) {
  return !s.empty() && s.size() <= 64 &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
}

std::string list_of(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

/// Reads one list (`loans`, `plans`, `rules`) item by item: each item a map whose keys
/// are dispatched to handlers; unknown keys get a suggestion.
class ListReader {
 public:
  ListReader(std::vector<Diagnostic>& problems, std::string source) : problems_(problems), source_(std::move(source)) {}

  void fail(const YAML::Node& at, const std::string& path, const std::string& message) {
    problems_.push_back({mark_of(at, source_), path, message});
  }

  /// A number in range (not a distribution).
  bool number(const YAML::Node& node, const std::string& path, const Range& r, double& out) {
    auto v = parse_uncertain(node, r);
    if (auto* e = std::get_if<std::string>(&v)) return fail(node, path, *e), false;
    if (!std::get<Uncertain>(v).is_fixed())
      return fail(node, path, "expected " + describe(r) + " (not a distribution), found a distribution"), false;
    out = std::get<Uncertain>(v).nominal();
    return true;
  }
  bool whole(const YAML::Node& node, const std::string& path, const Range& r, int& out) {
    double x = 0;
    if (!number(node, path, {r.min, r.max, true}, x)) return false;
    out = static_cast<int>(x);
    return true;
  }
  /// A number or a distribution in range.
  void uncertain(const YAML::Node& node, const std::string& path, const Range& r, Uncertain& out) {
    auto v = parse_uncertain(node, r);
    if (auto* e = std::get_if<std::string>(&v)) return fail(node, path, *e);
    out = std::get<Uncertain>(v);
  }
  void month(const YAML::Node& node, const std::string& path, int lowest, int horizon, int& out) {
    whole(node, path, {double(lowest), double(kMaxMonths)}, out);
    if (out > horizon)
      fail(node, path, "expected a month within the horizon (" + std::to_string(lowest) + " to " +
                           std::to_string(horizon) + "), found " + std::to_string(out));
  }
  /// The item's name: unique among `taken`, lower-case letters, digits and _.
  std::string name(const YAML::Node& item, const std::string& at, std::vector<std::string>& taken) {
    const YAML::Node n = item["name"];
    if (!n) return fail(item, at + ".name", "expected a name, found none"), "";
    const std::string s = n.IsScalar() ? n.Scalar() : "";
    if (!valid_name(s)) return fail(n, at + ".name", "expected a name of lower-case letters, digits and _, found " + describe(n)), "";
    if (contains(taken, s)) return fail(n, at + ".name", "expected a unique name, found \"" + s + "\" again"), "";
    taken.push_back(s);
    return s;
  }
  /// Calls handlers[key] for each key of the map `item`; names unknown keys.
  void fields(const YAML::Node& item, const std::string& at,
              const std::map<std::string, std::function<void(const YAML::Node&, const std::string&)>>& handlers) {
    std::vector<std::string> keys;
    for (const auto& [k, _] : handlers) keys.push_back(k);
    for (const auto& kv : item) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      const auto h = handlers.find(key);
      if (h == handlers.end()) {
        const auto hint = closest(key, keys);
        fail(kv.first, at + "." + key, "unknown key" + (hint ? " (did you mean " + *hint + "?)" : "; expected " + list_of(keys)));
        continue;
      }
      h->second(kv.second, at + "." + key);
    }
  }
  /// The list at `key`, or nothing; a problem if it is not a list of maps.
  std::vector<std::pair<YAML::Node, std::string>> items(const Flat& flat, const std::string& key, int most,
                                                        const std::string& expected) {
    std::vector<std::pair<YAML::Node, std::string>> out;
    const auto it = flat.find(key);
    if (it == flat.end() || it->second.node.IsNull()) return out;
    const YAML::Node list = it->second.node;
    if (!list.IsSequence()) {
      problems_.push_back({it->second.where, key, "expected a list of " + expected + ", found " + describe(list)});
      return out;
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string at = key + "[" + std::to_string(i) + "]";
      if (!list[i].IsMap()) {
        fail(list[i], at, "expected a map (" + expected + "), found " + describe(list[i]));
        continue;
      }
      if (static_cast<int>(out.size()) == most) {
        fail(list[i], at, "expected at most " + std::to_string(most) + " " + key + ", found more");
        break;
      }
      out.emplace_back(list[i], at);
    }
    return out;
  }

 private:
  std::vector<Diagnostic>& problems_;
  std::string source_;
};

/// A loan's terms (principal, rate, term_months, and month for a dated loan).
void read_loan_terms(ListReader& in, const YAML::Node& node, const std::string& at, bool dated, int horizon,
                     LoanSpec& loan) {
  if (!node.IsMap()) return in.fail(node, at, "expected a map with principal, rate, term_months, found " + describe(node));
  std::map<std::string, std::function<void(const YAML::Node&, const std::string&)>> h{
      {"principal", [&](const YAML::Node& n, const std::string& p) { in.uncertain(n, p, {0, kMoney}, loan.principal); }},
      {"rate", [&](const YAML::Node& n, const std::string& p) { in.uncertain(n, p, {0, 5}, loan.rate); }},
      {"term_months", [&](const YAML::Node& n, const std::string& p) { in.whole(n, p, {1, double(kMaxMonths)}, loan.term_months); }},
  };
  if (dated) {
    h["name"] = [](const YAML::Node&, const std::string&) {};
    h["month"] = [&](const YAML::Node& n, const std::string& p) { in.month(n, p, -kMaxMonths, horizon, loan.month); };
  }
  in.fields(node, at, h);
  if (!node["principal"]) in.fail(node, at + ".principal", "expected the principal in USD, found none");
  if (!node["term_months"]) in.fail(node, at + ".term_months", "expected the number of monthly instalments, found none");
}

std::optional<int> plan_index(const firm::Decisions& d, const std::string& name) {
  for (std::size_t k = 0; k < d.plans.size(); ++k)
    if (d.plans[k].name == name) return static_cast<int>(k);
  return std::nullopt;
}

std::vector<std::string> plan_names(const firm::Decisions& d) {
  std::vector<std::string> names;
  for (const auto& p : d.plans) names.push_back(p.name);
  return names;
}

void read_actions(ListReader& in, const YAML::Node& node, const std::string& at, int rule, firm::Decisions& d,
                  std::vector<std::string>& loan_names, Actions& act) {
  if (node.IsScalar() && node.Scalar() == "close") {
    act.close = true;
    return;
  }
  if (!node.IsMap() || node.size() == 0)
    return in.fail(node, at, "expected a map of actions (capability_budget, owner_salary, staff, price, postpone, cancel, loan, close) or close, found " + describe(node));
  auto plan_of = [&](const YAML::Node& n, const std::string& p) -> std::optional<int> {
    const std::string name = n.IsScalar() ? n.Scalar() : "";
    const auto k = plan_index(d, name);
    if (!k) {
      const auto names = plan_names(d);
      const auto hint = closest(name, names);
      in.fail(n, p, "expected the name of a plan (" + (names.empty() ? std::string("the scenario has none") : list_of(names)) +
                        "), found " + describe(n) + (hint ? " (did you mean " + *hint + "?)" : ""));
    }
    return k;
  };
  auto share = [&](double low, double high, double& out) {
    return [&in, &out, low, high](const YAML::Node& n, const std::string& p) { in.number(n, p, {low, high}, out); };
  };
  in.fields(node, at, {
      {"capability_budget", share(-1, 10, act.capability_budget)},
      {"owner_salary", share(-1, 10, act.owner_salary)},
      {"staff", share(-1, 0, act.staff)},
      {"price", share(-0.5, 1, act.price)},
      {"postpone", [&](const YAML::Node& n, const std::string& p) {
         if (!n.IsMap()) return in.fail(n, p, "expected a map of plan names to months, e.g. {second_site: 6}, found " + describe(n));
         for (const auto& kv : n) {
           int months = 0;
           const auto k = plan_of(kv.first, p);
           if (in.whole(kv.second, p + "." + kv.first.Scalar(), {1, double(kMaxMonths)}, months) && k)
             act.postpone.emplace_back(*k, months);
         }
       }},
      {"cancel", [&](const YAML::Node& n, const std::string& p) {
         if (n.IsSequence()) {
           for (const auto& item : n)
             if (auto k = plan_of(item, p)) act.cancel.push_back(*k);
         } else if (auto k = plan_of(n, p)) {
           act.cancel.push_back(*k);
         }
       }},
      {"loan", [&](const YAML::Node& n, const std::string& p) {
         LoanSpec loan;
         read_loan_terms(in, n, p, false, kMaxMonths, loan);
         loan.name = "rule_" + d.rules.back().name + "_loan";
         loan.rule = rule;
         if (contains(loan_names, loan.name)) return in.fail(n, p, "expected a loan name not used twice, found " + loan.name);
         loan_names.push_back(loan.name);
         act.loan = static_cast<int>(d.loans.size());
         d.loans.push_back(loan);
       }},
      {"close", [&](const YAML::Node& n, const std::string& p) {
         if (!n.IsScalar() || (n.Scalar() != "true" && n.Scalar() != "false"))
           return in.fail(n, p, "expected true or false, found " + describe(n));
         act.close = n.Scalar() == "true";
       }},
  });
}

}  // namespace

std::variant<Condition, std::string> parse_condition(const std::string& text) {
  Condition c;
  c.text = text;
  std::size_t i = 0;
  auto skip = [&] { while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i; };
  auto word = [&] {
    const std::size_t from = i;
    while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_')) ++i;
    return text.substr(from, i - from);
  };
  auto at = [&](std::size_t pos) { return " at character " + std::to_string(pos + 1); };
  std::vector<std::string> names(firm::kObservableNames.begin(), firm::kObservableNames.end());
  const std::string expected_names = "one of " + list_of(names);
  std::string joiner;
  while (true) {
    skip();
    const std::size_t name_at = i;
    const std::string name = word();
    const auto what = firm::observable_from_name(name);
    if (!what) {
      const auto hint = closest(name, names);
      return "expected " + expected_names + at(name_at) + ", found " +
             (name.empty() ? (i < text.size() ? "\"" + text.substr(i, 1) + "\"" : std::string("the end")) : "\"" + name + "\"") +
             (hint ? " (did you mean " + *hint + "?)" : "");
    }
    skip();
    Clause clause{*what};
    const std::size_t op_at = i;
    if (text.compare(i, 2, "<=") == 0) { clause.op = Comparison::less_equal; i += 2; }
    else if (text.compare(i, 2, ">=") == 0) { clause.op = Comparison::greater_equal; i += 2; }
    else if (text.compare(i, 1, "<") == 0) { clause.op = Comparison::less; i += 1; }
    else if (text.compare(i, 1, ">") == 0) { clause.op = Comparison::greater; i += 1; }
    else return "expected a comparison (<, <=, >, >=) after " + name + at(op_at) + ", found " + (i < text.size() ? "\"" + text.substr(i, 1) + "\"" : "the end");
    skip();
    const std::size_t number_at = i;
    const char* begin = text.c_str() + i;
    char* end = nullptr;
    const double x = std::strtod(begin, &end);
    if (end == begin || !std::isfinite(x)) return "expected a number" + at(number_at) + ", found " + (i < text.size() ? "\"" + shortened(text.substr(i)) + "\"" : "the end");
    i += static_cast<std::size_t>(end - begin);
    clause.threshold = x;
    if (c.clauses.size() == static_cast<std::size_t>(firm::kMaxClauses))
      return "expected at most " + std::to_string(firm::kMaxClauses) + " comparisons, found more";
    c.clauses.push_back(clause);
    skip();
    if (i == text.size()) break;
    const std::size_t join_at = i;
    const std::string join = word();
    if (join != "and" && join != "or")
      return "expected and, or, or the end" + at(join_at) + ", found \"" + shortened(text.substr(join_at)) + "\"";
    if (!joiner.empty() && join != joiner)
      return "expected only and or only or" + at(join_at) + " (write two rules for a mix), found both";
    joiner = join;
  }
  c.any_of = joiner == "or";
  return c;
}

void read_decisions(const Flat& flat, int horizon, firm::Decisions& d, YAML::Node& resolved,
                    std::vector<Diagnostic>& problems) {
  std::string source = "<scenario>";
  for (const char* key : {"loans", "plans", "rules"})
    if (auto it = flat.find(key); it != flat.end()) {
      source = source_of(it->second.where);
      resolved[key] = YAML::Clone(it->second.node);  // not the file's node: see read_shocks
    }
  ListReader in(problems, source);
  std::vector<std::string> loan_names, plan_names_seen, rule_names;

  for (const auto& [item, at] : in.items(flat, "loans", firm::kMaxLoans, "name, principal, rate, term_months, month")) {
    LoanSpec loan;
    loan.name = in.name(item, at, loan_names);
    read_loan_terms(in, item, at, true, horizon, loan);
    d.loans.push_back(loan);
  }

  for (const auto& [item, at] : in.items(flat, "plans", firm::kMaxPlans, "name, month, cost, fixed_costs, revenue, ramp_months, loan, capabilities")) {
    PlanSpec plan;
    plan.name = in.name(item, at, plan_names_seen);
    const int index = static_cast<int>(d.plans.size());
    in.fields(item, at, {
        {"name", [](const YAML::Node&, const std::string&) {}},
        {"month", [&](const YAML::Node& n, const std::string& p) { in.month(n, p, 1, horizon, plan.month); }},
        {"cost", [&](const YAML::Node& n, const std::string& p) { in.uncertain(n, p, {0, kMoney}, plan.cost); }},
        {"fixed_costs", [&](const YAML::Node& n, const std::string& p) { in.uncertain(n, p, {0, kMoney}, plan.fixed_costs); }},
        {"revenue", [&](const YAML::Node& n, const std::string& p) { in.uncertain(n, p, {0, kMoney}, plan.revenue); }},
        {"ramp_months", [&](const YAML::Node& n, const std::string& p) { in.uncertain(n, p, {0, double(kMaxMonths)}, plan.ramp_months); }},
        {"loan", [&](const YAML::Node& n, const std::string& p) {
           LoanSpec loan;
           read_loan_terms(in, n, p, false, horizon, loan);
           loan.name = plan.name + "_loan";
           loan.plan = index;
           if (contains(loan_names, loan.name)) return in.fail(n, p, "expected a loan name not used twice, found " + loan.name);
           loan_names.push_back(loan.name);
           if (d.loans.size() == static_cast<std::size_t>(firm::kMaxLoans))
             return in.fail(n, p, "expected at most " + std::to_string(firm::kMaxLoans) + " loans in all, found more");
           d.loans.push_back(loan);
         }},
        {"capabilities", [&](const YAML::Node& n, const std::string& p) {
           if (!n.IsMap()) return in.fail(n, p, "expected a map of capabilities to stock added, e.g. {sales: 0.2}, found " + describe(n));
           for (const auto& kv : n) {
             const auto c = firm::capability_index(kv.first.Scalar());
             if (!c) {
               std::vector<std::string> caps(firm::kCapabilityNames.begin(), firm::kCapabilityNames.end());
               in.fail(kv.first, p + "." + kv.first.Scalar(), "expected a capability (" + list_of(caps) + "), found " + describe(kv.first));
               continue;
             }
             double x = 0;
             if (in.number(kv.second, p + "." + kv.first.Scalar(), {-1, 1}, x)) plan.capabilities[*c] = x;
           }
         }},
    });
    if (!item["month"]) in.fail(item, at + ".month", "expected the month the plan starts, found none");
    d.plans.push_back(plan);
  }

  for (const auto& [item, at] : in.items(flat, "rules", firm::kMaxRules, "name, when, do, delay, cooldown, max_times")) {
    RuleSpec rule;
    rule.name = in.name(item, at, rule_names);
    const int index = static_cast<int>(d.rules.size());
    d.rules.push_back(rule);
    RuleSpec& r = d.rules.back();
    in.fields(item, at, {
        {"name", [](const YAML::Node&, const std::string&) {}},
        {"when", [&](const YAML::Node& n, const std::string& p) {
           if (!n.IsScalar()) return in.fail(n, p, "expected a condition such as \"runway_months < 2\", found " + describe(n));
           auto c = parse_condition(n.Scalar());
           if (auto* e = std::get_if<std::string>(&c)) return in.fail(n, p, *e);
           r.when = std::get<Condition>(c);
         }},
        {"do", [&](const YAML::Node& n, const std::string& p) { read_actions(in, n, p, index, d, loan_names, d.rules[static_cast<std::size_t>(index)].act); }},
        {"delay", [&](const YAML::Node& n, const std::string& p) { in.whole(n, p, {0, double(kMaxMonths)}, r.delay); }},
        {"cooldown", [&](const YAML::Node& n, const std::string& p) { in.whole(n, p, {1, double(kMaxMonths)}, r.cooldown); }},
        {"max_times", [&](const YAML::Node& n, const std::string& p) { in.whole(n, p, {1, double(kMaxMonths)}, r.max_times); }},
    });
    if (!item["when"]) in.fail(item, at + ".when", "expected a condition such as \"runway_months < 2\", found none");
    if (!item["do"]) in.fail(item, at + ".do", "expected what the rule does, e.g. {capability_budget: -0.5}, found none");
  }
  if (d.loans.size() > static_cast<std::size_t>(firm::kMaxLoans)) {
    problems.push_back({source, "loans", "expected at most " + std::to_string(firm::kMaxLoans) +
                                             " loans in all (listed, financing plans and drawn by rules), found " +
                                             std::to_string(d.loans.size())});
    d.loans.resize(firm::kMaxLoans);
  }
}

}  // namespace smbsim::scenario::detail
