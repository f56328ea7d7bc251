// smbsim run [SCENARIO] [run options]
#include "engine/atomic_output.hpp"
#include "engine/ranks.hpp"
#include "engine/summary.hpp"
#include "models/scenario/text.hpp"
#include "tools/smbsim/cli.hpp"
#include "tools/smbsim/options.hpp"
#include "tools/smbsim/standard_output.hpp"
#include "tools/smbsim/study.hpp"
#include "tools/smbsim/summary_text.hpp"

#include <cmath>
#include <cstdio>
#include <ostream>

namespace smbsim::cli {

int cmd_run(const std::vector<std::string>& args, Io io) {
  po::options_description visible = shared_options(kRunOptions | kJsonSummary);
  visible.add_options()("precision", po::value<std::string>(),
                        "instead of --runs: run until survival at the horizon is known within +-H (95% CI), e.g. 0.01");
  const auto parsed = parse_command(args, visible, "scenario",
                                    "Usage: smbsim run [SCENARIO.yaml | -] [options]\n\n"
                                    "Runs every variant of the scenario (the built-in default scenario without one) on the\n"
                                    "same random numbers, writes an HDF5 result file and prints a summary.\n\n", io.out);
  if (!parsed) return kOk;
  const po::variables_map& vm = *parsed;
  RunOptions o = read_run_options(vm);
  const bool json = vm["json"].as<bool>();
  if (vm.count("precision")) {
    if (vm.count("runs")) throw UsageError("--precision: expected either --precision or --runs, found both");
    const double h = parse_fraction("--precision", vm["precision"].as<std::string>(), 0.001, 0.25);
    const scenario::Scenario pilot = load_scenario_for(o);
    if (Ranks::world().root())  // the writer's rank: before the pilot's work
      check_output_target(o.output.value_or(default_output_name(pilot)), o.force);
    const RunsForPrecision need = runs_for_precision(pilot, h, o.threads);
    (json ? io.err : io.out) << "Precision +-" << 100 * h << " points at month " << pilot.simulation.months << " needs " << need.runs
           << " runs (a pilot of 2000 put survival near " << static_cast<int>(std::lround(100 * need.worst_p)) << "%)\n";
    const std::string runs = std::to_string(need.runs);
    o.overrides.push_back({"simulation.runs", runs, "--precision " + vm["precision"].as<std::string>()});
  }
  const scenario::Scenario sc = load_scenario_for(o);
  const StudyOptions so{o.output.value_or(default_output_name(sc)), o.force, o.threads, o.paths, !o.quiet};
  const StudyResult r = run_study(sc, so);
  if (!r.reporter) return kOk;  // rank 0 of an MPI job reports
  if (json) {
    print_summary_json(summarize_file(r.path), io.out);
  } else {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.2f", r.seconds);
    io.out << "Wrote " << scenario::shell_word(r.path) << " (" << sc.variants.size() << " variant" << (sc.variants.size() > 1 ? "s" : "")
           << ", " << sc.simulation.runs << " runs each) in " << secs << " s\n\n";
    print_summary(summarize_file(r.path), io.out);
    io.out << "\nCharts and a report page: " << smbsim_command() << " report " << scenario::shell_word(r.path) << "\n";
  }
  finish_result_output(io.out, r.path);
  return kOk;
}

}  // namespace smbsim::cli
