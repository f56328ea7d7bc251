#include "tools/smbsim/summary_text.hpp"

#include "models/scenario/text.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace smbsim::cli {

std::string format_double(const char* format, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, x);
  return buf;
}

namespace {

std::string interval_pct(const Interval& i) {
  return percent(i.estimate) + " [" + format_double("%.1f", 100 * i.lo) + ", " + format_double("%.1f", 100 * i.hi) + "]";
}

std::string pretty(const std::string& name) {
  std::string s = name;
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

/// A cause in words: an orderly end says so ("closed in good order").
std::string cause_text(const CauseSummary& c) { return pretty(c.name) + (c.orderly ? " in good order" : ""); }

/// A variant's overrides as a reader wants them: as written when short, else the keys
/// and the names of the plans and rules it adds.
std::string overrides_text(const std::string& overrides) {
  if (overrides == "{}") return "";
  if (overrides.size() <= 100 && overrides.find('\n') == std::string::npos) return "  " + overrides;
  std::string s;
  try {
    const YAML::Node node = YAML::Load(overrides);
    for (const auto& kv : node) {
      std::string part = kv.first.Scalar();
      if (kv.second.IsSequence()) {
        std::string names;
        for (const auto& item : kv.second)
          if (item.IsMap() && item["name"]) names += (names.empty() ? "" : ", ") + item["name"].Scalar();
        if (!names.empty()) part += ": " + names;
      }
      s += (s.empty() ? "" : "; ") + part;
    }
  } catch (const YAML::Exception&) {
    s = overrides.substr(0, 97) + "...";
  }
  return "  (" + s + ")";
}

/// Columns a model adds per plan and per rule (docs/output-format.md): "plan_NAME_started"
/// gives NAME for prefix "plan_" and suffix "_started".
std::vector<std::string> names_with(const VariantSummary& v, const std::string& prefix, const std::string& suffix) {
  std::vector<std::string> names;
  for (const auto& c : v.columns)
    if (c.name.size() > prefix.size() + suffix.size() && c.name.rfind(prefix, 0) == 0 &&
        c.name.compare(c.name.size() - suffix.size(), suffix.size(), suffix) == 0)
      names.push_back(c.name.substr(prefix.size(), c.name.size() - prefix.size() - suffix.size()));
  return names;
}

std::string share_with_interval(const ColumnSummary& c) {
  const double half = kZ95 * c.sem;
  return percent(c.mean) + " [" + format_double("%.1f", 100 * std::max(0.0, c.mean - half)) + ", " +
         format_double("%.1f", 100 * std::min(1.0, c.mean + half)) + "]";
}

const ColumnSummary* column(const VariantSummary& v, const std::string& name) {
  for (const auto& c : v.columns)
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace

std::string percent(double share, int decimals) {
  return format_double(decimals == 0 ? "%.0f%%" : "%.1f%%", 100 * share);
}

std::string money(double usd) {
  const double a = std::fabs(usd);
  const char* sign = usd < 0 ? "-" : "";
  if (a >= 1e9) return sign + format_double("$%.2fB", a / 1e9);
  if (a >= 1e6) return sign + format_double("$%.2fM", a / 1e6);
  if (a >= 1e3) return sign + format_double("$%.0fk", a / 1e3);
  return sign + format_double("$%.0f", a);
}

std::string sparkline(const std::vector<double>& curve, int width) {
  static const char* kBlocks[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  std::string s;
  if (curve.empty()) return s;
  for (int i = 0; i < width; ++i) {
    // The value at the end of each column's stretch of months.
    const std::size_t m = std::min(curve.size() - 1, (static_cast<std::size_t>(i) + 1) * curve.size() / static_cast<std::size_t>(width) - 1);
    const int level = static_cast<int>(std::lround(std::clamp(curve[m], 0.0, 1.0) * 8));
    s += kBlocks[level];
  }
  return s;
}

std::vector<std::string> findings(const Summary& s) {
  std::vector<std::string> out;
  if (s.variants.empty()) return out;
  const VariantSummary& base = s.variants.front();
  const Interval end = base.survival.back().second;
  out.push_back("In " + base.name + ", " + format_double("%.0f", 100 * end.estimate) + " in 100 simulated firms are still trading after " +
                std::to_string(s.months) + " months (95% CI " + format_double("%.1f", 100 * end.lo) + "-" + format_double("%.1f", 100 * end.hi) + ").");
  if (!base.causes.empty()) {
    const CauseSummary& top = base.causes.front();
    std::string cause = cause_text(top);
    if (!cause.empty()) cause[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(cause[0])));  // starts a sentence
    out.push_back(cause + " accounts for the most failures: " + percent(top.share_of_failures.estimate, 0) +
                  " of them (95% CI " + format_double("%.0f", 100 * top.share_of_failures.lo) + "-" +
                  format_double("%.0f", 100 * top.share_of_failures.hi) + "%), half of them between months " +
                  std::to_string(top.first_quartile_month) + " and " + std::to_string(top.third_quartile_month) + ".");
  }
  if (base.median_failure_month && base.failures > 0) {
    if (base.survival.front().first == 12) {
      // Failing within a year is the complement of surviving it: flip the interval.
      const Interval alive = base.survival.front().second;
      out.push_back(format_double("%.1f", 100 * (1 - alive.estimate)) + "% (95% CI " + format_double("%.1f", 100 * (1 - alive.hi)) + "-" +
                    format_double("%.1f", 100 * (1 - alive.lo)) + ") fail within the first year; the median failure comes in month " +
                    format_double("%.0f", base.median_failure_month->estimate) + " (95% CI " +
                    format_double("%.0f", base.median_failure_month->lo) + "-" + format_double("%.0f", base.median_failure_month->hi) + ").");
    }
  }
  for (std::size_t i = 1; i < s.variants.size(); ++i) {
    const VariantSummary& v = s.variants[i];
    const PairedDelta* d = delta_with_role(v, "survival");
    if (!d) continue;
    const bool clear = d->lo > 0 || d->hi < 0;
    std::string line = v.name + " " + (d->mean >= 0 ? "gains " : "loses ") + format_double("%.1f", std::fabs(100 * d->mean)) +
                       " points of survival against " + base.name + " (95% CI " + format_double("%+.1f", 100 * d->lo) + " to " +
                       format_double("%+.1f", 100 * d->hi) + ")";
    line += clear ? "." : ": not distinguishable from no difference at this run count.";
    out.push_back(line);
  }
  return out;
}

namespace {
/// The summary with every text that came from a file or a scenario escaped (a name with
/// a newline or a terminal escape in it must not forge lines or drive the terminal).
Summary printable_copy(Summary s) {
  for (std::string* t : {&s.scenario_name, &s.smbsim_version, &s.git_commit, &s.started_utc, &s.finished_utc})
    *t = scenario::printable(*t);
  for (auto& v : s.variants) {
    v.name = scenario::printable(v.name);
    v.overrides = scenario::printable(overrides_text(v.overrides));  // shortened first: the raw YAML has newlines
    for (auto& c : v.causes) c.name = scenario::printable(c.name);
    for (auto& q : v.at_end) q = {scenario::printable(q.name), scenario::printable(q.units), q.q05, q.q50, q.q95, q.mean, q.sem};
    for (auto& c : v.columns) {
      c.name = scenario::printable(c.name);
      c.units = scenario::printable(c.units);
      c.kpi_label = scenario::printable(c.kpi_label);
    }
    for (auto& d : v.deltas) d.column = scenario::printable(d.column);
  }
  return s;
}
}  // namespace

void print_summary(const Summary& raw, std::ostream& out) {
  const Summary s = printable_copy(raw);
  out << "smbsim " << s.smbsim_version << " (git " << s.git_commit << ")  scenario " << s.scenario_name << "  "
      << s.runs << " runs x " << s.months << " months  seed " << s.seed << "\n";
  for (const auto& v : s.variants) {
    out << "\n== " << v.name << v.overrides << "\n";
    out << "  survival   ";
    for (const auto& [m, i] : v.survival) out << "  " << m << " mo " << interval_pct(i);
    out << "\n  curve       100% |" << sparkline(v.survival_curve, 60) << "| month " << s.months << "\n";
    out << "  failures    " << v.failures << " of " << v.runs;
    for (const auto& c : v.causes)
      if (c.orderly) out << " (" << v.failures - c.count << " insolvent, " << c.count << " " << cause_text(c) << ")";
    if (v.median_failure_month)
      out << "; median month " << format_double("%.0f", v.median_failure_month->estimate) << " [" << format_double("%.0f", v.median_failure_month->lo)
          << ", " << format_double("%.0f", v.median_failure_month->hi) << "]";
    out << "\n";
    for (std::size_t k = 0; k < std::min<std::size_t>(v.causes.size(), 6); ++k) {
      const auto& c = v.causes[k];
      out << "    " << std::left << std::setw(21) << cause_text(c) << std::right << std::setw(7) << percent(c.share_of_failures.estimate)
          << " [" << format_double("%.1f", 100 * c.share_of_failures.lo) << ", " << format_double("%.1f", 100 * c.share_of_failures.hi)
          << "] of failures, months " << c.first_quartile_month << "-" << c.third_quartile_month << " (middle half)\n";
    }
    for (const auto& q : v.at_end) {
      if (q.units.rfind("USD", 0) != 0) continue;
      if (!std::isfinite(q.q50.estimate)) {
        out << "  " << std::left << std::setw(10) << q.name << std::right << " at month " << s.months << ": no survivors\n";
        continue;
      }
      out << "  " << std::left << std::setw(10) << q.name << std::right << " at month " << s.months
          << " (survivors, " << q.units << "): median " << money(q.q50.estimate) << " [" << money(q.q50.lo) << ", " << money(q.q50.hi)
          << "], 5%-95% " << money(q.q05.estimate) << " to " << money(q.q95.estimate) << "\n";
    }
    out << "  KPIs (mean +- s.e. over runs):";
    for (const auto& c : v.columns)  // the columns the file labels as KPIs, in its order
      if (!c.kpi_label.empty() && c.count > 0)
        out << "  " << c.kpi_label << " " << format_double("%.3g", c.mean) << " +- " << format_double("%.2g", c.sem);
    out << "\n";
    for (const auto& plan : names_with(v, "plan_", "_started")) {
      const ColumnSummary* started = column(v, "plan_" + plan + "_started");
      const ColumnSummary* net = column(v, "plan_" + plan + "_net_cash");
      const ColumnSummary* revenue = column(v, "plan_" + plan + "_revenue");
      out << "  plan " << plan << ": started in " << share_with_interval(*started) << " of runs";
      if (revenue) out << "; revenue in the last month " << money(revenue->mean) << "/month on average";
      if (net) out << "; its own net cash " << money(net->mean) << " +- " << money(net->sem) << " (mean +- s.e.)";
      out << "\n";
    }
    for (const auto& rule : names_with(v, "rule_", "_fired")) {
      const ColumnSummary* fired = column(v, "rule_" + rule + "_fired");
      const ColumnSummary* times = column(v, "rule_" + rule + "_times");
      const ColumnSummary* first = column(v, "rule_" + rule + "_first_month");
      out << "  rule " << rule << ": fired in " << share_with_interval(*fired) << " of runs";
      if (times) out << ", " << format_double("%.2g", times->mean) << " time(s) per run on average";
      if (first && first->count > 0) out << ", first in month " << format_double("%.0f", first->mean) << " on average";
      out << "\n";
    }
    if (!v.deltas.empty()) {
      out << "  vs " << s.variants.front().name << " (paired, 95% CI):";
      if (const PairedDelta* d = delta_with_role(v, "survival"))
        out << "  survival " << format_double("%+.1f", 100 * d->mean) << " pts [" << format_double("%+.1f", 100 * d->lo) << ", " << format_double("%+.1f", 100 * d->hi) << "]";
      if (const PairedDelta* d = delta_with_role(v, "profit"))
        out << "  " << pretty(d->column) << " " << money(d->mean) << " [" << money(d->lo) << ", " << money(d->hi) << "]";
      out << "\n";
    }
  }
  out << "\nFindings:\n";
  for (const auto& f : findings(s)) out << "  - " << f << "\n";
}

std::string dump_json(const nlohmann::json& j) {
  // Any text from the input (names, descriptions) is written valid: control characters
  // escaped, invalid UTF-8 replaced.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {
/// A number, or null where JSON has none (NaN, infinities).
nlohmann::json json_number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(); }

nlohmann::json json_interval(const Interval& i) {
  return {{"p", json_number(i.estimate)}, {"lo", json_number(i.lo)}, {"hi", json_number(i.hi)}};
}

/// How the firms ended, each a share of runs with its Wilson interval (so the report
/// draws and tabulates the terminal's figures): insolvent and closed in good order, the
/// insolvencies by cause (shares of insolvencies), and the ends by year (by month under
/// two years) from the survival curve.
void add_endings(const VariantSummary& v, nlohmann::json& variant) {
  std::int64_t closed = 0;
  for (const auto& c : v.causes)
    if (c.orderly) closed += c.count;
  const std::int64_t insolvent = v.failures - closed;
  variant["endings"] = {{"insolvent", json_interval(wilson_interval(insolvent, v.runs))},
                        {"closed", json_interval(wilson_interval(closed, v.runs))}};
  variant["insolvency_cause_intervals"] = nlohmann::json::object();
  for (const auto& c : v.causes)
    if (!c.orderly) variant["insolvency_cause_intervals"][c.name] = json_interval(wilson_interval(c.count, insolvent));
  const int months = static_cast<int>(v.survival_curve.size());
  const int period = months >= 24 ? 12 : 1;
  const auto alive = [&](int m) {
    return m == 0 ? v.runs : std::llround(v.survival_curve[static_cast<std::size_t>(m - 1)] * static_cast<double>(v.runs));
  };
  nlohmann::json periods = nlohmann::json::array();
  for (int from = 1; from <= months; from += period) {
    const int to = std::min(months, from + period - 1);
    periods.push_back({{"from", from}, {"to", to}, {"share", json_interval(wilson_interval(alive(from - 1) - alive(to), v.runs))}});
  }
  variant["ended_by_period"] = {{"months", period}, {"periods", periods}};
}
}  // namespace

nlohmann::json summary_json(const Summary& s) {
  nlohmann::json j = {{"file", s.path},       {"scenario", s.scenario_name}, {"smbsim_version", s.smbsim_version},
                      {"git_commit", s.git_commit}, {"seed", s.seed},        {"runs", s.runs},
                      {"months", s.months},   {"variants", nlohmann::json::object()}};
  for (const auto& v : s.variants) {
    nlohmann::json variant = {{"runs", v.runs}, {"overrides", v.overrides}, {"failures", v.failures}};
    for (std::size_t k = 0; k < v.survival.size(); ++k) {
      const bool last = k + 1 == v.survival.size();
      variant["survival"][last ? "end" : std::to_string(v.survival[k].first)] = json_interval(v.survival[k].second);
    }
    variant["failure_causes"] = nlohmann::json::object();
    variant["failure_cause_intervals"] = nlohmann::json::object();
    for (const auto& c : v.causes) {
      variant["failure_causes"][c.name] = json_number(c.share_of_failures.estimate);
      variant["failure_cause_intervals"][c.name] = json_interval(c.share_of_failures);
    }
    variant["median_failure_month"] = v.median_failure_month ? json_interval(*v.median_failure_month) : nlohmann::json();
    variant["at_end"] = nlohmann::json::object();
    for (const auto& q : v.at_end)
      variant["at_end"][q.name] = {{"units", q.units}, {"q05", json_interval(q.q05)}, {"median", json_interval(q.q50)},
                                   {"q95", json_interval(q.q95)}, {"mean", json_number(q.mean)}, {"sem", json_number(q.sem)}};
    variant["kpis"] = nlohmann::json::object();
    for (const auto& c : v.columns) {
      variant["kpis"][c.name] = {{"mean", json_number(c.mean)}, {"sem", json_number(c.sem)}, {"n", c.count}, {"units", c.units}};
      if (c.share && c.count > 0 && std::isfinite(c.mean))  // a 0/1 column: its share of runs
        variant["kpis"][c.name]["share"] = json_interval(wilson_interval(std::llround(c.mean * double(c.count)), c.count));
    }
    add_endings(v, variant);
    variant["paired_deltas"] = nlohmann::json::object();
    for (const auto& d : v.deltas)
      variant["paired_deltas"][d.column] = {{"mean", json_number(d.mean)}, {"lo", json_number(d.lo)}, {"hi", json_number(d.hi)}, {"pairs", d.pairs}};
    j["variants"][v.name] = std::move(variant);
  }
  j["findings"] = findings(s);
  return j;
}

void print_summary_json(const Summary& s, std::ostream& out) { out << dump_json(summary_json(s)) << "\n"; }

}  // namespace smbsim::cli
