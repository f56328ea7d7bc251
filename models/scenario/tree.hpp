#pragma once
// The scenario as a tree of YAML nodes flattened to dotted paths ("alignment.level"),
// each leaf remembering where it was written (FILE:LINE:COLUMN or the option), with
// layers (--set, a variant's overrides) put on top. Internal to the scenario reader.
#include "models/scenario/scenario.hpp"

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace smbsim::scenario::detail {

/// A leaf of the scenario tree: its node and where it was written.
struct Entry {
  YAML::Node node;
  std::string where;
};
using Flat = std::map<std::string, Entry>;

/// Keys whose value is a map of capability shares (a leaf, not a section).
inline const std::vector<std::string> kMixPaths{"strategy.target", "market.value_weights", "disruption.new_weights"};

bool contains(const std::vector<std::string>& v, const std::string& s);
/// A number as the shortest text that reads back the same.
std::string number_text(double x);
/// "source:LINE:COLUMN" of a node (1-based), or the source if the node has no mark.
std::string mark_of(const YAML::Node& node, const std::string& source);
/// "file:12:3" -> "file"; an option stays as it is.
std::string source_of(const std::string& where);
/// Where a second YAML document starts in `text` (after a `---` or `...` line), if it has
/// one: yaml-cpp reads the first alone, so what follows would be silently ignored.
std::optional<YAML::Mark> second_document(const std::string& text);
/// The marker (--- or ...) that ends the first document of `text` and lets `second` start.
std::string document_marker(const std::string& text, const YAML::Mark& second);
/// Nodes a document may have with aliases expanded: the largest scenario in the library
/// has a few hundred.
inline constexpr std::size_t kMaxNodes = 100000;
/// One problem per key written twice in the same map. Throws ScenarioError at once on a
/// cycle (an alias inside its own anchor) or past kMaxNodes nodes: call it before any
/// other traversal.
void check_duplicate_keys(const YAML::Node& node, const std::string& prefix, const std::string& source,
                          std::vector<Diagnostic>& problems);
/// The same checks for a value given on the command line, named by its option `where`.
void check_option_tree(const YAML::Node& node, const std::string& where, const std::string& path,
                       std::vector<Diagnostic>& problems);
/// Flattens nested maps into dotted paths; distributions, mixes and lists stay whole. A
/// path written twice, once dotted and once nested (`firm.headcount: 6` and `firm:
/// {headcount: 5}`), is a duplicate key: a problem, named with `shown` before the path
/// ("variants.a." in a variant).
void flatten(const YAML::Node& node, const std::string& prefix, const std::string& source, Flat& out,
             std::vector<Diagnostic>& problems, const std::string& shown = "");
/// Removes (with a problem each) what a variant may not set: simulation, name,
/// description, variants. `prefix` goes before the path in messages.
void drop_shared_settings(Flat& own, const std::string& prefix, std::vector<Diagnostic>& problems);
/// A problem for each command-line setting (`options`) that the variant's own settings
/// also set, or set above or below: the variant would silently win over the option.
void check_options_leave_alone(const Flat& options, const Flat& own, std::vector<Diagnostic>& problems);
/// Puts `layer` over `target`: a path in the layer replaces that path and all below it.
void overlay(Flat& target, const Flat& layer);
/// Puts under `target` the paths of `layer` that `target` does not set, above or below.
void underlay(Flat& target, const Flat& layer);
/// Command-line overrides ("path=value", value parsed as YAML) as a flat layer.
Flat flatten_overrides(const std::vector<Override>& overrides, std::vector<Diagnostic>& problems);

}  // namespace smbsim::scenario::detail
