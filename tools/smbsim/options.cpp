#include "tools/smbsim/options.hpp"

#include "tools/smbsim/cli.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

namespace smbsim::cli {

po::options_description run_options() {
  po::options_description d("Run options");
  d.add_options()
      ("runs", po::value<std::string>(), "number of simulated futures (overrides simulation.runs)")
      ("months", po::value<std::string>(), "horizon in months, at most 1200 (overrides simulation.months)")
      ("seed", po::value<std::string>(), "random seed (overrides simulation.seed)")
      ("threads", po::value<std::string>(), "worker threads (default: all cores); results do not depend on it")
      ("output,o", po::value<std::string>(), "result file (default: SCENARIO_NAME.h5 here)")
      ("set", po::value<std::vector<std::string>>()->composing(), "override a field: --set alignment.level=0.4 (YAML value; repeatable)")
      ("paths", po::value<std::string>(), "also store the monthly paths of the first K runs")
      ("quiet,q", po::bool_switch(), "no progress bar")
      ("force", po::bool_switch(), "replace an existing output file");
  return d;
}

po::variables_map parse_args(const std::vector<std::string>& args, const po::options_description& desc,
                             const po::positional_options_description& positional) {
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::unknown_option& e) {
    throw UsageError(e.get_option_name() + ": unknown option (see --help)");
  } catch (const po::too_many_positional_options_error&) {
    throw UsageError("arguments: expected at most " + std::to_string(positional.max_total_count()) +
                     " file argument(s), found more (see --help)");
  } catch (const po::error_with_option_name& e) {
    throw UsageError(e.get_option_name() + ": " + e.what());
  } catch (const po::error& e) {
    throw UsageError(std::string("arguments: ") + e.what());
  }
  return vm;
}

double parse_fraction(const std::string& option, const std::string& text, double min, double max) {
  std::size_t used = 0;
  double x = NAN;
  try {
    x = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  if (used != text.size() || !(x >= min && x <= max)) {
    char range[64];
    std::snprintf(range, sizeof range, "[%g, %g]", min, max);
    throw UsageError(option + ": expected a number in " + range + ", found \"" + text + "\"");
  }
  return x;
}

std::int64_t parse_whole(const std::string& option, const std::string& text, std::int64_t min, std::int64_t max) {
  std::size_t used = 0;
  double x = NAN;
  try {
    x = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  if (used != text.size() || !(x >= static_cast<double>(min) && x <= static_cast<double>(max)) || x != std::floor(x))
    throw UsageError(option + ": expected a whole number in [" + std::to_string(min) + ", " + std::to_string(max) +
                     "], found \"" + text + "\"");
  return static_cast<std::int64_t>(x);
}

std::optional<po::variables_map> parse_command(const std::vector<std::string>& args, po::options_description visible,
                                               const std::string& positional, const std::string& usage,
                                               std::ostream& out) {
  visible.add_options()("help,h", po::bool_switch(), "this help");
  po::options_description all = visible;
  all.add_options()(positional.c_str(), po::value<std::string>());
  po::positional_options_description pos;
  pos.add(positional.c_str(), 1);
  po::variables_map vm = parse_args(args, all, pos);
  if (vm["help"].as<bool>()) {
    out << usage << "\n" << visible << "\n";
    return std::nullopt;
  }
  return vm;
}

RunOptions read_run_options(const po::variables_map& vm) {
  RunOptions o;
  if (vm.count("scenario")) o.scenario_path = vm["scenario"].as<std::string>();
  // Simulation settings go through the scenario reader, so they are checked with the
  // rest (a --months that cuts off a scheduled shock is caught).
  for (const char* key : {"runs", "months", "seed"})
    if (vm.count(key)) {
      const std::string v = vm[key].as<std::string>();
      o.overrides.push_back({std::string("simulation.") + key, v, std::string("--") + key + " " + v});
    }
  if (vm.count("set"))
    for (const auto& s : vm["set"].as<std::vector<std::string>>()) o.overrides.push_back(scenario::parse_override(s));
  if (vm.count("threads")) o.threads = static_cast<int>(parse_whole("--threads", vm["threads"].as<std::string>(), 1, 1024));
  if (vm.count("output")) {
    o.output = vm["output"].as<std::string>();
    if (o.output->empty()) throw UsageError("--output: expected a file name, found nothing");
  }
  if (vm.count("paths")) o.paths = parse_whole("--paths", vm["paths"].as<std::string>(), 0, 100000);
  o.quiet = vm.count("quiet") && vm["quiet"].as<bool>();
  o.force = vm.count("force") && vm["force"].as<bool>();
  return o;
}

std::string read_text_file(const std::string& path) {
  // A directory opens and reads as empty, which is the default scenario: refuse it.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw UsageError(path + ": expected a scenario file, found a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(path + ": cannot read the scenario (" + std::strerror(errno) + ")");
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw UsageError(path + ": cannot read the scenario");
  return s.str();
}

scenario::Scenario load_scenario_for(const RunOptions& options,
                                     const std::vector<scenario::GeneratedVariant>& generated) {
  if (options.scenario_path)
    return scenario::load_scenario(read_text_file(*options.scenario_path), *options.scenario_path,
                                   options.overrides, generated);
  return scenario::load_scenario(scenario::default_scenario_text(), "<default scenario>", options.overrides, generated);
}

}  // namespace smbsim::cli
