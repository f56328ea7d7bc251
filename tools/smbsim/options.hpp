#pragma once
// Command-line options shared by run, sweep and demo, parsed with Boost.Program_options;
// every bad value becomes a UsageError naming the option.
#include "models/scenario/scenario.hpp"

#include <boost/program_options.hpp>

#include <cstdint>
#include <iosfwd>
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

/// --runs --months --seed --threads -o --set --paths --quiet --force
po::options_description run_options();
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
/// A number from an option's text, in [min, max].
double parse_fraction(const std::string& option, const std::string& text, double min, double max);
/// A whole number from an option's text, in [min, max].
std::int64_t parse_whole(const std::string& option, const std::string& text, std::int64_t min, std::int64_t max);

/// The scenario named by the options (or the embedded default), with overrides applied.
scenario::Scenario load_scenario_for(const RunOptions& options,
                                     const std::vector<scenario::GeneratedVariant>& generated = {});
/// Reads a whole text file; UsageError if it cannot.
std::string read_text_file(const std::string& path);

}  // namespace smbsim::cli
