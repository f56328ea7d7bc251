// smbsim sweep SCENARIO --grid path=v1,v2,... [--grid ...] [run options]
#include "engine/summary.hpp"
#include "models/scenario/text.hpp"
#include "tools/smbsim/cli.hpp"
#include "tools/smbsim/options.hpp"
#include "tools/smbsim/standard_output.hpp"
#include "tools/smbsim/study.hpp"
#include "tools/smbsim/summary_text.hpp"

#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <ostream>
#include <sstream>

namespace smbsim::cli {

namespace {
constexpr std::size_t kMaxVariants = 400;

struct Axis {
  std::string path;
  std::vector<std::string> values;
};

Axis parse_grid(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    throw UsageError("--grid " + text + ": expected path=v1,v2,... (e.g. alignment.level=0.2,0.5,0.8), found \"" + text + "\"");
  if (text.size() > scenario::kMaxOptionBytes)
    throw UsageError("--grid " + scenario::shortened(text) + ": expected path=v1,v2,... of at most " + std::to_string(scenario::kMaxOptionBytes >> 10) + " KiB (" +
                     std::to_string(scenario::kMaxOptionBytes) + " bytes), found " + std::to_string(text.size()) + " bytes");
  Axis a{text.substr(0, eq), {}};
  scenario::check_path(a.path, "--grid " + text);
  for (const auto& v : comma_list("--grid " + text, text.substr(eq + 1))) {
    // Before comparing each value with all before it: that is quadratic in their number.
    if (a.values.size() == kMaxVariants)
      throw UsageError("--grid " + scenario::shortened(text) + ": expected at most " + std::to_string(kMaxVariants) +
                       " values, found more");
    // Two equal values would make two variants of one name (0.1 and 0.10 are equal too).
    for (const auto& w : a.values) {
      char* end_v = nullptr;
      char* end_w = nullptr;
      const double x = std::strtod(v.c_str(), &end_v), y = std::strtod(w.c_str(), &end_w);
      if (v == w || (*end_v == '\0' && *end_w == '\0' && end_v != v.c_str() && end_w != w.c_str() && x == y))
        throw UsageError("--grid " + text + ": expected distinct values, found " + w + " and " + v);
    }
    a.values.push_back(v);
  }
  return a;
}

std::string cell(const Interval& i) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%5.1f%% +-%.1f", 100 * i.estimate, 50 * (i.hi - i.lo));
  return buf;
}
}  // namespace

int cmd_sweep(const std::vector<std::string>& args, Io io) {
  po::options_description visible = shared_options(kRunOptions | kJsonSummary);
  visible.add_options()
      ("grid", po::value<std::vector<std::string>>()->composing(), "path=v1,v2,...: values to sweep (repeatable: the cartesian product is run)");
  const auto parsed = parse_command(args, visible, "scenario",
                                    "Usage: smbsim sweep SCENARIO.yaml --grid path=v1,v2,... [--grid ...] [options]\n\n"
                                    "Runs every combination of the grid values as variants on the same random numbers\n"
                                    "into one file, and prints survival at the horizon as a table (a 2-D grid for two\n"
                                    "parameters). The first combination is the baseline for paired differences.\n\n", io.out);
  if (!parsed) return kOk;
  const po::variables_map& vm = *parsed;
  if (!vm.count("scenario")) throw UsageError("SCENARIO: expected a scenario file to sweep, found none (see smbsim sweep --help)");
  if (!vm.count("grid")) throw UsageError("--grid: expected at least one --grid path=v1,v2,..., found none");
  std::vector<Axis> axes;
  for (const auto& g : vm["grid"].as<std::vector<std::string>>()) {
    axes.push_back(parse_grid(g));
    for (std::size_t i = 0; i + 1 < axes.size(); ++i)
      if (axes[i].path == axes.back().path)
        throw UsageError("--grid " + g + ": expected each path in one --grid, found " + axes.back().path + " twice");
  }
  std::size_t total = 1;
  for (const auto& a : axes) total *= a.values.size();
  if (total > kMaxVariants)
    throw UsageError("--grid: expected at most " + std::to_string(kMaxVariants) + " combinations, found " + std::to_string(total));

  std::vector<scenario::GeneratedVariant> variants;
  for (std::size_t k = 0; k < total; ++k) {
    scenario::GeneratedVariant v;
    std::size_t rest = k;
    std::vector<std::string> parts;
    for (std::size_t a = axes.size(); a-- > 0;) {
      const auto& axis = axes[a];
      const std::string& value = axis.values[rest % axis.values.size()];
      rest /= axis.values.size();
      parts.insert(parts.begin(), axis.path + "=" + value);
      v.overrides.insert(v.overrides.begin(), {axis.path, value, "--grid " + axis.path + "=" + value});
    }
    for (const auto& p : parts) v.name += (v.name.empty() ? "" : ",") + p;
    variants.push_back(std::move(v));
  }
  const RunOptions o = read_run_options(vm);
  const scenario::Scenario sc = load_scenario_for(o, variants);
  const StudyOptions so{o.output.value_or(default_output_name(sc)), o.force, o.threads, o.paths, !o.quiet};
  const StudyResult r = run_study(sc, so);
  if (!r.reporter) return kOk;  // rank 0 of an MPI job reports
  const Summary s = summarize_file(r.path);
  if (vm["json"].as<bool>()) {
    print_summary_json(s, io.out);
    finish_result_output(io.out, r.path);
    return kOk;
  }
  io.out << "Wrote " << scenario::shell_word(r.path) << " (" << s.variants.size() << " variants x " << s.runs << " runs)\n\n"
         << "Survival at month " << s.months << " (95% CI half-width):\n";
  if (axes.size() == 2) {
    io.out << std::setw(24) << scenario::printable(axes[0].path + " \\ " + axes[1].path);
    for (const auto& v : axes[1].values) io.out << std::setw(16) << scenario::printable(v);
    io.out << "\n";
    for (std::size_t i = 0; i < axes[0].values.size(); ++i) {
      io.out << std::setw(24) << scenario::printable(axes[0].values[i]);
      for (std::size_t j = 0; j < axes[1].values.size(); ++j)
        io.out << std::setw(16) << cell(s.variants[i * axes[1].values.size() + j].survival.back().second);
      io.out << "\n";
    }
  } else {
    for (const auto& v : s.variants) {
      io.out << "  " << std::left << std::setw(48) << scenario::printable(v.name) << std::right << cell(v.survival.back().second);
      if (const PairedDelta* d = delta_with_role(v, "survival")) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "   vs first %+.1f pts [%+.1f, %+.1f]", 100 * d->mean, 100 * d->lo, 100 * d->hi);
        io.out << buf;
      }
      io.out << "   " << sparkline(v.survival_curve, 24) << "\n";
    }
  }
  io.out << "\nDetails: smbsim summarize " << scenario::shell_word(r.path) << "\n";
  finish_result_output(io.out, r.path);
  return kOk;
}

}  // namespace smbsim::cli
