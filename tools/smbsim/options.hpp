#pragma once
// Command-line options shared by the commands, parsed with Boost.Program_options;
// every bad value becomes a UsageError naming the option.
#include "models/scenario/scenario.hpp"

#include <boost/program_options.hpp>

#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace smbsim::cli {

namespace po = boost::program_options;

struct RunOptions {
  std::optional<std::string> scenario_path;
  std::vector<scenario::Override> overrides;  ///< --set, --runs, --months, --seed
  int threads = 0;
  std::optional<std::string> output;
  std::int64_t paths = 0;
  bool quiet = false;
  bool force = false;
};

/// The options several commands share, each defined (and its help written) once here;
/// a command picks groups with these flags and may reword a help line (by option name).
enum SharedOptions : unsigned {
  kSimulation = 1u << 0,  ///< --runs --months --seed (through the scenario reader)
  kThreads = 1u << 1,     ///< --threads
  kOutputFile = 1u << 2,  ///< -o/--output --paths --force
  kSet = 1u << 3,         ///< --set path=value
  kQuiet = 1u << 4,       ///< -q/--quiet
  kJsonSummary = 1u << 5, ///< --json: the result file's summary as `summarize --json` prints it
  kRunOptions = kSimulation | kThreads | kOutputFile | kSet | kQuiet,  ///< run, sweep, demo
};
po::options_description shared_options(unsigned which, const std::map<std::string, std::string>& help = {});
/// Parses args against `desc` (+ positionals); unknown options and bad syntax throw
/// UsageError. Returns the variables map.
po::variables_map parse_args(const std::vector<std::string>& args, const po::options_description& desc,
                             const po::positional_options_description& positional);
RunOptions read_run_options(const po::variables_map& vm);

/// Parses a command's arguments: `visible` options plus --help, and at most one
/// positional argument called `positional`. Prints `usage` and the options and returns
/// nothing when --help was given.
std::optional<po::variables_map> parse_command(const std::vector<std::string>& args, po::options_description visible,
                                               const std::string& positional, const std::string& usage,
                                               std::ostream& out);
/// --time-limit SECONDS, for the commands that read a result file (summarize, discover).
void add_time_limit_option(po::options_description& d);
/// Its value, or the guarded reader's default (engine/guarded_read.hpp).
double read_time_limit(const po::variables_map& vm);
/// A number from an option's text, in [min, max].
double parse_fraction(const std::string& option, const std::string& text, double min, double max);
/// A whole number from an option's text, in [min, max].
std::int64_t parse_whole(const std::string& option, const std::string& text, std::int64_t min, std::int64_t max);
/// The items of a comma-separated list ("0.2,0.5"); UsageError naming `option` for an
/// empty one anywhere, a trailing comma included ("0.5," is a slip, not one value).
std::vector<std::string> comma_list(const std::string& option, const std::string& text);

/// Refuses an output name that is empty, "-" or not *.h5 / *.hdf5 (UsageError naming --output).
void check_output_name(const std::string& name);
/// How messages name the scenario: its path, "<stdin>" for "-", or "<default scenario>".
std::string scenario_origin(const RunOptions& options);
/// The scenario named by the options ("-": standard input; none: the embedded default),
/// with overrides applied.
scenario::Scenario load_scenario_for(const RunOptions& options,
                                     const std::vector<scenario::GeneratedVariant>& generated = {});
/// Reads a whole scenario file; UsageError if it cannot, ScenarioError (exit 2) past
/// scenario::kMaxScenarioBytes.
std::string read_text_file(const std::string& path);

}  // namespace smbsim::cli
