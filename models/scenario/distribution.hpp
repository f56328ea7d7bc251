#pragma once
// Numbers and `{dist: NAME, ...}` distributions from YAML nodes, validated against a
// parameter's range. Errors come back as the "expected ..., found ..." text.
#include "engine/uncertain.hpp"

#include <yaml-cpp/yaml.h>

#include <string>
#include <variant>

namespace smbsim::scenario {

struct Range {
  double min;
  double max;
  bool integer = false;
};

/// How a node looks to a user: `2`, `"abc"`, `a list`, `a map`, `nothing`.
std::string describe(const YAML::Node& node);
/// "[0, 1]", "at least 0".
std::string describe(const Range& range);

/// A finite number, or the error text.
std::variant<double, std::string> parse_number(const YAML::Node& node);
/// A number in range, or a distribution whose support lies in range (normal and
/// lognormal, being unbounded, are clamped into the range when sampled).
std::variant<Uncertain, std::string> parse_uncertain(const YAML::Node& node, const Range& range);
/// The distributions and their keys, for docs and messages.
const char* distribution_help();

}  // namespace smbsim::scenario
