#include "tools/smbsim/options.hpp"

#include "engine/guarded_read.hpp"
#include "engine/ranks.hpp"
#include "models/scenario/text.hpp"
#include "tools/smbsim/cli.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <ostream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace smbsim::cli {

po::options_description shared_options(unsigned which, const std::map<std::string, std::string>& help) {
  po::options_description d("Run options");
  auto text = [&](const std::string& name, const char* standard) {
    const auto h = help.find(name);
    return h == help.end() ? standard : h->second.c_str();
  };
  if (which & kSimulation)
    d.add_options()
        ("runs", po::value<std::string>(), text("runs", "number of simulated futures (overrides simulation.runs)"))
        ("months", po::value<std::string>(), text("months", "horizon in months, at most 1200 (overrides simulation.months)"))
        ("seed", po::value<std::string>(), text("seed", "random seed (overrides simulation.seed)"));
  if (which & kThreads)
    d.add_options()("threads", po::value<std::string>(),
                    text("threads", "worker threads (default: all cores); results do not depend on it"));
  if (which & kOutputFile)
    d.add_options()
        ("output,o", po::value<std::string>(), text("output", "result file, *.h5 or *.hdf5 (default: SCENARIO_NAME.h5 here)"))
        ("paths", po::value<std::string>(), text("paths", "also store the monthly paths of the first K runs"))
        ("force", po::bool_switch(), text("force", "replace an existing output file"));
  if (which & kSet)
    d.add_options()("set", po::value<std::vector<std::string>>()->composing(),
                    text("set", "override a field: --set alignment.level=0.4 (YAML value; repeatable)"));
  if (which & kQuiet) d.add_options()("quiet,q", po::bool_switch(), text("quiet", "no progress bar"));
  if (which & kJsonSummary)
    d.add_options()("json", po::bool_switch(), text("json", "print only the summary, as `smbsim summarize FILE --json` prints it"));
  return d;
}

void add_time_limit_option(po::options_description& d) {
  d.add_options()("time-limit", po::value<std::string>(),
                  "seconds the file may take to read (default 600); a read still going then is stopped, exit 1");
}

double read_time_limit(const po::variables_map& vm) {
  return vm.count("time-limit") ? parse_fraction("--time-limit", vm["time-limit"].as<std::string>(), 0.001, 1e6)
                                : kReadTimeLimitSeconds;
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
    throw UsageError(option + ": expected a number in " + range + ", found \"" + scenario::shortened(text) + "\"");
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
                     "], found \"" + scenario::shortened(text) + "\"");
  return static_cast<std::int64_t>(x);
}

std::vector<std::string> comma_list(const std::string& option, const std::string& text) {
  std::vector<std::string> items;
  std::stringstream ss(text + ",");  // getline drops one empty last piece: a trailing comma's, now seen
  for (std::string item; std::getline(ss, item, ',');) {
    if (item.empty()) throw UsageError(option + ": expected a value between commas, found an empty one");
    items.push_back(item);
  }
  return items;
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
    check_output_name(*o.output);
  }
  if (vm.count("paths")) o.paths = parse_whole("--paths", vm["paths"].as<std::string>(), 0, 100000);
  o.quiet = vm.count("quiet") && vm["quiet"].as<bool>();
  o.force = vm.count("force") && vm["force"].as<bool>();
  return o;
}

void check_output_name(const std::string& name) {
  if (name.empty()) throw UsageError("--output: expected a file name, found nothing");
  // The writer seeks back into the file and renames it into place when complete, so a
  // pipe cannot take it; a wrong extension is usually a slip (-o report.yaml).
  if (name == "-") throw UsageError("--output -: expected a file name ending in .h5 or .hdf5, found - (an HDF5 file cannot go to standard output)");
  const auto dot = name.rfind('.');
  std::string ext = dot == std::string::npos || name.find('/', dot) != std::string::npos ? "" : name.substr(dot);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext != ".h5" && ext != ".hdf5")
    throw UsageError("--output " + scenario::shortened_start(name) + ": expected a file name ending in .h5 or .hdf5, found " +
                     (ext.empty() ? std::string("no extension") : "\"" + scenario::shortened(name.substr(dot)) + "\""));
}

std::string scenario_origin(const RunOptions& options) {
  if (!options.scenario_path) return "<default scenario>";
  return *options.scenario_path == "-" ? "<stdin>" : *options.scenario_path;
}

namespace {
/// Reads `fd` to its end, never more than the scenario cap: a file is refused by its size
/// before a byte is read; a device (/dev/zero) or an endless pipe (`yes | smbsim validate
/// -`) once past the cap, in bounded memory.
std::string read_scenario_text(int fd, const std::string& name) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw UsageError(name + ": cannot read the scenario (" + std::strerror(errno) + ")");
  // A directory opens and reads as empty, which is the default scenario: refuse it.
  if (S_ISDIR(st.st_mode)) throw UsageError(name + ": expected a scenario file, found a directory");
  std::string text;
  if (S_ISREG(st.st_mode)) {
    const auto size = static_cast<std::uintmax_t>(st.st_size);
    if (size > scenario::kMaxScenarioBytes) throw scenario::ScenarioError({scenario::scenario_too_long(name, size)});
    text.reserve(size);
  }
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) return text;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw UsageError(name + ": cannot read the scenario (" + std::strerror(errno) + ")");
    }
    if (text.size() + static_cast<std::size_t>(n) > scenario::kMaxScenarioBytes)
      throw scenario::ScenarioError({scenario::scenario_too_long(name)});
    text.append(buffer, static_cast<std::size_t>(n));
  }
}
}  // namespace

std::string read_text_file(const std::string& path) {
  const std::string shown = scenario::shortened_start(path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw UsageError(shown + ": cannot read the scenario (" + std::strerror(errno) + ")");
  try {
    std::string text = read_scenario_text(fd, shown);
    ::close(fd);
    return text;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

scenario::Scenario load_scenario_for(const RunOptions& options,
                                     const std::vector<scenario::GeneratedVariant>& generated) {
  if (options.scenario_path && *options.scenario_path == "-") {
    // Under mpirun only rank 0 is given standard input: the other ranks would run
    // another scenario.
    if (Ranks::world().distributed())
      throw UsageError("SCENARIO -: expected a scenario file under mpirun or srun (only rank 0 reads standard input), found -");
    const std::string text = read_scenario_text(STDIN_FILENO, scenario_origin(options));
    // An empty file is the default scenario; empty input is more likely a slip.
    if (text.empty()) throw UsageError("<stdin>: expected a scenario on standard input, found nothing");
    return scenario::load_scenario(text, scenario_origin(options), options.overrides, generated);
  }
  if (options.scenario_path)
    return scenario::load_scenario(read_text_file(*options.scenario_path), *options.scenario_path,
                                   options.overrides, generated);
  return scenario::load_scenario(scenario::default_scenario_text(), "<default scenario>", options.overrides, generated);
}

}  // namespace smbsim::cli
