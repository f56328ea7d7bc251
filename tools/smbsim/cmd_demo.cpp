// smbsim demo fragility [run options]: the fragility story for a class.
#include "engine/summary.hpp"
#include "models/scenario/text.hpp"
#include "tools/smbsim/cli.hpp"
#include "tools/smbsim/options.hpp"
#include "tools/smbsim/standard_output.hpp"
#include "tools/smbsim/study.hpp"
#include "tools/smbsim/summary_text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <ostream>

namespace smbsim::cli {

namespace {
std::string f1(double x) { return format_double("%.1f", x); }
std::string f0(double x) { return format_double("%.0f", x); }

/// "chronic_loss" -> "chronic loss".
std::string words(std::string name) {
  std::replace(name.begin(), name.end(), '_', ' ');
  return name;
}

double column_mean(const VariantSummary& v, const std::string& name) {
  for (const auto& c : v.columns)
    if (c.name == name) return c.mean;
  return NAN;
}

const VariantSummary* find(const Summary& s, const std::string& name) {
  for (const auto& v : s.variants)
    if (v.name == name) return &v;
  return nullptr;
}

std::string story(const Summary& s) {
  const VariantSummary* micro = find(s, "micro");
  const VariantSummary* large = find(s, "large");
  if (!micro || !large) return "";
  const Interval m = micro->survival.back().second, l = large->survival.back().second;
  std::string p = "Every firm here follows the same strategy, drifts from it the same way and meets the same shocks in the same months. "
                  "Yet " + f0(100 * m.estimate) + " in 100 micro firms survive " + std::to_string(s.months) + " months (95% CI " +
                  f1(100 * m.lo) + "-" + f1(100 * m.hi) + ") against " + f0(100 * l.estimate) + " in 100 large ones (" +
                  f1(100 * l.lo) + "-" + f1(100 * l.hi) + "). ";
  p += "The micro firm starts with " + f0(column_mean(*micro, "start_buffer_days")) + " days of cash against " +
       f0(column_mean(*large, "start_buffer_days")) + " for the large one, so a bad quarter that a large firm absorbs empties its till. ";
  p += "Both launch initiatives, and a misaligned one flops as often in either (" + f1(column_mean(*micro, "failed_initiatives")) +
       " flops per micro firm over its shorter life, " + f1(column_mean(*large, "failed_initiatives")) +
       " per large one); a flop costs each the same share of its revenue, but only the large firm has the cash and credit to absorb it. ";
  p += "The micro firm's people wear many hats: the same drift in one team becomes friction for all, " + f0(100 * column_mean(*micro, "mean_friction")) +
       "% of coordination lost on average against " + f0(100 * column_mean(*large, "mean_friction")) + "% in the large firm's loosely coupled departments. ";
  if (!micro->causes.empty())
    p += "Micro firms die most often of " + words(micro->causes.front().name) + " (" + f0(100 * micro->causes.front().share_of_failures.estimate) +
         "% of their failures), typically in months " + std::to_string(micro->causes.front().first_quartile_month) + "-" +
         std::to_string(micro->causes.front().third_quartile_month) + ". ";
  p += "Misalignment is not a fixed tax: the smaller the firm, the less room it has to survive it.";
  return p;
}

void wrap(const std::string& text, std::ostream& out, std::size_t width = 90) {
  std::size_t col = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    if (col > 0 && col + 1 + word.size() > width) {
      out << "\n";
      col = 0;
    }
    out << (col > 0 ? " " : "") << word;
    col += word.size() + (col > 0 ? 1 : 0);
    start = end + 1;
  }
  out << "\n";
}
}  // namespace

int cmd_demo(const std::vector<std::string>& args, Io io) {
  po::options_description visible = shared_options(kRunOptions);
  const auto parsed = parse_command(args, visible, "demo",
                                    "Usage: smbsim demo fragility [options]\n\n"
                                    "Runs scenarios/fragility.yaml (built in): the same misalignment and shocks for\n"
                                    "micro, small, medium and large firms, and tells the story in the terminal.\n\n", io.out);
  if (!parsed) return kOk;
  const po::variables_map& vm = *parsed;
  if (!vm.count("demo") || vm["demo"].as<std::string>() != "fragility")
    throw UsageError("DEMO: expected fragility, found " +
                     (vm.count("demo") ? "\"" + vm["demo"].as<std::string>() + "\"" : std::string("nothing")));
  const RunOptions o = read_run_options(vm);
  const scenario::Scenario sc =
      scenario::load_scenario(scenario::fragility_scenario_text(), "scenarios/fragility.yaml", o.overrides);
  const StudyOptions so{o.output.value_or("fragility.h5"), o.force, o.threads, o.paths, !o.quiet};
  const StudyResult r = run_study(sc, so);
  if (!r.reporter) return kOk;  // rank 0 of an MPI job reports
  const Summary s = summarize_file(r.path);

  io.out << "\nWHY SMALL FIRMS ARE FRAGILE\n"
         << "Same strategy, same misalignment, same shocks; " << s.runs << " simulated futures per firm size.\n\n"
         << "         survival, month 1 to " << s.months << " (full block = 100%)     alive at month " << s.months
         << "   first-year failures     main cause of failure (share of failures)\n";
  for (const auto& v : s.variants) {
    const Interval end = v.survival.back().second;
    // The share failing in the first year, with its Wilson interval.
    const std::int64_t failed_first_year =
        v.survival_curve.size() >= 12 ? v.runs - std::llround(v.survival_curve[11] * static_cast<double>(v.runs)) : -1;
    const Interval first = wilson_interval(std::max<std::int64_t>(failed_first_year, 0), v.runs);
    io.out << "  " << std::left << std::setw(7) << v.name << std::right << "|" << sparkline(v.survival_curve, 48) << "|  "
           << std::setw(5) << percent(end.estimate) << " [" << f1(100 * end.lo) << "-" << f1(100 * end.hi) << "]   "
           << std::setw(18)
           << (failed_first_year >= 0 ? percent(first.estimate) + " [" + f1(100 * first.lo) + "-" + f1(100 * first.hi) + "]"
                                      : std::string("-"))
           << "   "
           << (v.causes.empty() ? std::string("-")
                                : words(v.causes.front().name) + " (" + f0(100 * v.causes.front().share_of_failures.estimate) +
                                      "% [" + f0(100 * v.causes.front().share_of_failures.lo) + "-" +
                                      f0(100 * v.causes.front().share_of_failures.hi) + "])")
           << "\n";
  }
  io.out << "\n";
  wrap(story(s), io.out);
  const std::string shown = scenario::shell_word(r.path);
  io.out << "\nWrote " << shown << ". Charts for the projector:\n  " << smbsim_command() << " report " << shown
         << " -o fragility-report\n";
  finish_result_output(io.out, r.path);
  return kOk;
}

}  // namespace smbsim::cli
