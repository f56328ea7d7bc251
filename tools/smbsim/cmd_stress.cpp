// smbsim stress SCENARIO --shock NAME --probability P [--month M] [--json]
#include "models/scenario/suggest.hpp"
#include "models/scenario/text.hpp"
#include "tools/smbsim/cli.hpp"
#include "tools/smbsim/options.hpp"
#include "tools/smbsim/stress.hpp"
#include "tools/smbsim/summary_text.hpp"
#include "tools/smbsim/together.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <ostream>
#include <sstream>

namespace smbsim::cli {

namespace {
std::vector<double> parse_probabilities(const std::string& text) {
  std::vector<double> out;
  for (const auto& v : comma_list("--probability", text)) out.push_back(parse_fraction("--probability", v, 0.001, 0.999));
  if (out.empty()) throw UsageError("--probability: expected a number in [0.001, 0.999], found nothing");
  return out;
}

/// The index of `want` in `names`; a UsageError listing them (with a suggestion) if absent.
std::size_t one_of(const std::string& option, const std::string& want, const std::vector<std::string>& names) {
  for (std::size_t k = 0; k < names.size(); ++k)
    if (names[k] == want) return k;
  const auto hint = scenario::closest(want, names);
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  throw UsageError(option + " " + want + ": expected one of " + list + (hint ? " (did you mean " + *hint + "?)" : ""));
}

nlohmann::json number_or_null(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

std::string severity_text(double s) {
  return std::isfinite(s) ? format_double("%.3f", s) : std::string("above 1");
}

std::string cash_text(double usd, double top) {
  return std::isfinite(usd) ? money(usd) : "above " + money(top);
}
/// What `smbsim stress` was asked: the scenario and variant, the search and the probabilities.
struct StressRequest {
  scenario::Scenario sc;
  std::size_t variant = 0;
  StressSettings st;
  std::vector<double> probabilities;
  bool cash = false;        // the starting cash, not a shock's severity
  std::string shock_name;   // with a shock
  bool json = false;
};

/// The shock named by --shock in the variant, and the month it strikes, into `q.st`.
void choose_shock(const po::variables_map& vm, StressRequest& q) {
  const auto& shocks = q.sc.variants[q.variant].spec.shocks;
  const std::string& shock_name = q.shock_name;
  if (shocks.empty()) throw UsageError("--shock " + shock_name + ": expected a shock of the scenario, but it has none");
  std::vector<std::string> names;
  for (const auto& s : shocks) names.push_back(s.name);
  q.st.shock = static_cast<int>(one_of("--shock", shock_name, names));
  if (static_cast<int>(shocks.size()) >= firm::kMaxShocks)
    throw UsageError("--shock " + shock_name + ": expected a scenario with at most " + std::to_string(firm::kMaxShocks - 1) +
                     " shocks (the stressed strike is one more), found " + std::to_string(shocks.size()));
  if (vm.count("month")) q.st.month = static_cast<int>(parse_whole("--month", vm["month"].as<std::string>(), 1, q.st.months));
}

std::optional<StressRequest> parse_stress(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description visible("Options");
  visible.add_options()
      ("shock", po::value<std::string>(), "name of a shock in the scenario's catalogue (e.g. recession)")
      ("cash", po::bool_switch(), "instead of --shock: the starting cash (firm.cash, USD) at which the firm survives with probability P")
      ("probability", po::value<std::string>(), "probability P in [0.001, 0.999] (of failure; with --cash, of survival); several as P1,P2,...")
      ("month", po::value<std::string>(), "month the shock strikes (default 1, the start)")
      ("variant", po::value<std::string>(), "variant of the scenario (default: the first)")
      ("json", po::bool_switch(), "print one JSON object instead of the text");
  visible.add(shared_options(kSimulation | kThreads | kSet | kQuiet));
  const auto parsed = parse_command(args, visible, "scenario",
                                    "Usage: smbsim stress SCENARIO.yaml --shock NAME --probability P [--month M] [options]\n"
                                    "       smbsim stress SCENARIO.yaml --cash --probability P [options]\n\n"
                                    "Reverse stress test: the smallest severity of the named shock, striking at month M\n"
                                    "for its duration on top of the scenario's own risks, at which the firm fails within\n"
                                    "the horizon with probability P, with a 95% interval. Where each run starts (or stops)\n"
                                    "failing is found on common random numbers (every run at severities 0, 0.05, ..., 1,\n"
                                    "then bisection), so every P comes from one set of runs (docs/analysis.md). With --cash:\n"
                                    "the smallest starting cash with which the firm survives with probability P.\n\n", out);
  if (!parsed) return std::nullopt;
  const po::variables_map& vm = *parsed;
  StressRequest q;
  q.cash = vm["cash"].as<bool>();
  if (!vm.count("scenario")) throw UsageError("SCENARIO: expected a scenario file to stress, found none (see smbsim stress --help)");
  if (q.cash && vm.count("shock")) throw UsageError("--cash: expected either --shock NAME or --cash, found both");
  if (q.cash && vm.count("month")) throw UsageError("--month: expected with --shock, found it with --cash");
  if (!q.cash && !vm.count("shock")) throw UsageError("--shock: expected the name of a shock in the scenario, found none");
  if (!vm.count("probability")) throw UsageError("--probability: expected a probability such as 0.5, found none");
  q.probabilities = parse_probabilities(vm["probability"].as<std::string>());
  const RunOptions o = read_run_options(vm);
  q.sc = load_scenario_for(o);
  if (vm.count("variant")) {
    std::vector<std::string> names;
    for (const auto& v : q.sc.variants) names.push_back(v.name);
    q.variant = one_of("--variant", vm["variant"].as<std::string>(), names);
  }
  q.st.seed = q.sc.simulation.seed;
  q.st.runs = q.sc.simulation.runs;
  q.st.months = q.sc.simulation.months;
  q.st.threads = o.threads;
  q.shock_name = q.cash ? "" : vm["shock"].as<std::string>();
  if (!q.cash) choose_shock(vm, q);
  q.json = vm["json"].as<bool>();
  return q;
}

void print_stress_json(const StressRequest& q, const StressResult& r, const std::vector<Interval>& answers, std::ostream& out) {
  const char* quantity = q.cash ? "cash" : "severity";
  const char* event = q.cash ? "survival" : "failure";
  nlohmann::json j;
  j["scenario"] = q.sc.name;
  j["variant"] = q.sc.variants[q.variant].name;
  if (q.cash) {
    j["search"] = "cash";
    j["units"] = "USD";
  } else {
    j["search"] = "severity";
    j["shock"] = q.shock_name;
    j["month"] = q.st.month;
  }
  j["runs"] = q.st.runs;
  j["months"] = q.st.months;
  j["seed"] = q.st.seed;
  auto answer = [&](std::size_t k) {
    return nlohmann::json{{"probability", q.probabilities[k]},
                          {"value", number_or_null(answers[k].estimate)},
                          {"lo", number_or_null(answers[k].lo)},
                          {"hi", number_or_null(answers[k].hi)},
                          {"reached", std::isfinite(answers[k].estimate)}};
  };
  j[quantity] = answer(0);
  j["quantiles"] = nlohmann::json::array();
  for (std::size_t k = 0; k < answers.size(); ++k) j["quantiles"].push_back(answer(k));
  // The answer at every P from 0.05 to 0.95, from the same changes: the curve
  // a report draws (value against probability, with its band).
  j["curve"] = nlohmann::json::array();
  for (int k = 1; k <= 19; ++k) {
    const double p = k / 20.0;
    const Interval a = value_at_probability(r, p);
    j["curve"].push_back({{"probability", p}, {"value", number_or_null(a.estimate)}, {"lo", number_or_null(a.lo)},
                          {"hi", number_or_null(a.hi)}});
  }
  j["grid"] = nlohmann::json::array();
  for (const auto& c : r.curve)
    j["grid"].push_back({{quantity, c.value}, {event, c.share.estimate}, {"lo", c.share.lo}, {"hi", c.share.hi}});
  j["non_monotone"] = {{"runs", r.non_monotone}, {"share", static_cast<double>(r.non_monotone) / static_cast<double>(q.st.runs)}};
  j["resolution"] = r.resolution;
  out << dump_json(j) << "\n";
}

/// The answer for each probability, in words.
void print_stress_answers(const StressRequest& q, const StressResult& r, const std::vector<Interval>& answers, std::ostream& out) {
  const bool cash = q.cash;
  const Interval& last = r.curve.back().share;
  const double top = r.curve.back().value;
  for (std::size_t k = 0; k < answers.size(); ++k) {
    const Interval& a = answers[k];
    out << (cash ? "Survives" : "Fails") << " with probability " << percent(q.probabilities[k], 0) << ": ";
    if (!std::isfinite(a.estimate)) {
      out << "not reached (" << (cash ? "with " + money(top) + " only " : "even severity 1 fails only ")
          << percent(last.estimate) << (cash ? " survive" : "") << ")\n";
    } else if (a.estimate == 0) {
      out << (cash ? "no cash needed: the firm survives that often without any\n"
                   : "severity 0: the firm fails that often without the shock\n");
    } else if (cash) {
      out << money(a.estimate) << " (95% CI " << cash_text(a.lo, top) << " to " << cash_text(a.hi, top) << ")\n";
    } else {
      out << "severity " << severity_text(a.estimate) << " (95% CI " << severity_text(a.lo) << " to "
          << severity_text(a.hi) << ")\n";
    }
  }
}

void print_stress_text(const StressRequest& q, const StressResult& r, const std::vector<Interval>& answers, double seconds,
                       std::ostream& out) {
  const bool cash = q.cash;
  const StressSettings& st = q.st;
  const double non_monotone = static_cast<double>(r.non_monotone) / static_cast<double>(st.runs);
  const Interval& first = r.curve.front().share;
  const Interval& last = r.curve.back().share;
  const double top = r.curve.back().value;
  const char* quantity = cash ? "cash" : "severity";
  out << (cash ? "Cash needed to survive" : "Reverse stress test") << " of " << scenario::printable(q.sc.name) << " (variant " << scenario::printable(q.sc.variants[q.variant].name)
      << "), " << st.runs << " runs, " << st.months << " months, seed " << st.seed << " ("
      << format_double("%.1f", seconds) << " s)\n";
  if (cash) {
    out << "Every run starts with the same cash (firm.cash, replacing firm.cash_buffer_days); all else as in the scenario.\n\n"
        << "With no cash " << percent(first.estimate) << " of firms survive " << st.months << " months; with "
        << money(top) << " (36 months of planned outflows), " << percent(last.estimate) << ".\n";
  } else {
    out << "A " << q.shock_name << " shock strikes at month " << st.month
        << " for its usual duration, on top of the scenario's own risks.\n\n"
        << "Without its force (severity 0) " << percent(first.estimate) << " of firms fail within " << st.months
        << " months; at severity 1, " << percent(last.estimate) << ".\n";
  }
  print_stress_answers(q, r, answers, out);
  out << "\n" << (cash ? "Survival by starting cash" : "Failure probability by severity")
      << " (every run at each value; 95% CI):\n";
  for (std::size_t g = 0; g < r.curve.size(); g += cash ? 1 : 2) {
    const auto& c = r.curve[g];
    out << "  " << (cash ? std::string(std::max<std::size_t>(10, money(c.value).size()) - money(c.value).size(), ' ') + money(c.value)
              : format_double("%4.2f", c.value)) << "  "
        << format_double("%5.1f%%", 100 * c.share.estimate) << " [" << format_double("%.1f", 100 * c.share.lo) << ", "
        << format_double("%.1f", 100 * c.share.hi) << "]  "
        << std::string(static_cast<std::size_t>(std::lround(40 * c.share.estimate)), '#') << "\n";
  }
  out << "\nWhere each run's fate changes with the " << quantity << " is known to within "
      << (cash ? money(r.resolution) : format_double("%.4f", r.resolution)) << "; " << percent(non_monotone) << " of runs ("
      << r.non_monotone << ") " << (cash ? "survive with some cash and fail with more" : "fail at one severity and survive a larger one")
      << ": they count where they " << (cash ? "survive" : "fail") << ".\n";
}
}  // namespace

int cmd_stress(const std::vector<std::string>& args, Io io) {
  const auto request = parse_stress(args, io.out);
  if (!request) return kOk;
  const StressRequest& q = *request;
  const firm::FirmSpec& spec = q.sc.variants[q.variant].spec;
  const auto start = std::chrono::steady_clock::now();
  // Under mpirun the ranks share the runs (stress.hpp) and rank 0 prints.
  const StressResult r = on_all_ranks([&] { return q.cash ? cash_test(spec, q.st) : stress_test(spec, q.st); });
  if (!Ranks::world().root()) return kOk;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<Interval> answers;
  for (double p : q.probabilities) answers.push_back(value_at_probability(r, p));
  if (q.json)
    print_stress_json(q, r, answers, io.out);
  else
    print_stress_text(q, r, answers, seconds, io.out);
  return kOk;
}

}  // namespace smbsim::cli
