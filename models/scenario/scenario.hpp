#pragma once
// Reading a scenario: YAML text (plus --set overrides) in, validated firm
// specifications out, one per variant. Every problem becomes one Diagnostic line
// "WHERE: key.path: expected ..., found ..." where WHERE is FILE:LINE:COLUMN or the
// command-line option that set the value.
#include "models/firm/parameters.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace smbsim::scenario {

struct Diagnostic {
  std::string where;    ///< "file.yaml:12:5" or "--set alignment.level=2"
  std::string path;     ///< "alignment.level"
  std::string message;  ///< "expected a number in [0, 1], found 2"
  std::string line() const;
};

class ScenarioError : public std::runtime_error {
 public:
  explicit ScenarioError(std::vector<Diagnostic> problems);
  const std::vector<Diagnostic>& problems() const { return problems_; }

 private:
  std::vector<Diagnostic> problems_;
};

struct Simulation {
  std::int64_t runs = 10000;
  int months = 120;
  std::uint64_t seed = 1;
  Sampling sampling = Sampling::random;  ///< how uncertain inputs are drawn [M§12]
};
inline constexpr int kMaxMonths = 1200;
inline constexpr std::int64_t kMaxRuns = 1'000'000'000;
/// 2^53 - 1: the largest seed every number reader (YAML, JSON, Python) keeps exact.
inline constexpr std::uint64_t kMaxSeed = (std::uint64_t{1} << 53) - 1;

/// The longest scenario text read: 64 MiB, far above any real scenario (the library's
/// largest is a few KB), so that a device (/dev/zero), an endless pipe or a huge file is
/// refused before it fills memory (docs/scenario-format.md).
inline constexpr std::size_t kMaxScenarioBytes = std::size_t{64} << 20;
/// The problem of a text longer than kMaxScenarioBytes, at `source`: its size in bytes
/// if known (a file), or nothing (a stream stopped at the cap).
Diagnostic scenario_too_long(const std::string& source, std::optional<std::uintmax_t> bytes = std::nullopt);
/// The longest value of one --set or --grid value: 64 KiB.
inline constexpr std::size_t kMaxOptionBytes = std::size_t{64} << 10;

struct Variant {
  std::string name;
  std::string overrides;  ///< the variant's overrides as YAML ("{}" for none)
  firm::FirmSpec spec;
};

struct Scenario {
  std::string name;
  std::string description;
  std::string source;  ///< how the text is named in messages: its file, <stdin> or <default scenario>
  Simulation simulation;
  std::vector<Variant> variants;  ///< the first is the baseline
  std::string given;              ///< the text as written
  std::string resolved;           ///< YAML with defaults and overrides applied
};

/// A "path=value" override from the command line; the value is parsed as YAML.
struct Override {
  std::string path;
  std::string value;
  std::string origin;  ///< how to name it in messages, e.g. "--set alignment.level=0.4"
};
/// Splits "path=value"; throws ScenarioError naming `option` if malformed.
Override parse_override(const std::string& text, const std::string& option = "--set");
/// Throws ScenarioError naming `origin` unless `path` is keys joined by single dots
/// ("alignment.level", not "alignment.level." or ".alignment.level").
void check_path(const std::string& path, const std::string& origin);

/// A variant made on the command line (by `smbsim sweep`), not written in the file.
struct GeneratedVariant {
  std::string name;
  std::vector<Override> overrides;
};

/// Parses and validates a scenario. `source` names the text in messages (a path, or
/// "<default>"). `generated` variants, if any, replace the file's. Throws
/// ScenarioError listing every problem found.
Scenario load_scenario(const std::string& text, const std::string& source,
                       const std::vector<Override>& overrides = {},
                       const std::vector<GeneratedVariant>& generated = {});

/// The embedded default scenario (scenarios/default.yaml compiled in).
const std::string& default_scenario_text();
/// The embedded fragility scenario (scenarios/fragility.yaml), for `smbsim demo`.
const std::string& fragility_scenario_text();

/// YAML text (a resolved scenario) as one JSON object: numbers stay numbers, other
/// scalars become strings. For tools that read scenarios without a YAML library.
nlohmann::json yaml_to_json(const std::string& yaml);

/// Every key a scenario accepts, as dotted paths (for suggestions and docs).
std::vector<std::string> known_paths();

}  // namespace smbsim::scenario
