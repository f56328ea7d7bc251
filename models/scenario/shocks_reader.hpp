#pragma once
// The shock catalogue of a scenario: a list of shocks (docs/scenario-format.md,
// "Shocks"), or the default catalogue when the scenario does not write one.
#include "models/firm/parameters.hpp"
#include "models/scenario/tree.hpp"

#include <vector>

namespace smbsim::scenario::detail {

/// Reads the `shocks` entry of a flattened scenario (or the default catalogue) into
/// `shocks`, adds the list as written to `resolved`, and one problem per mistake.
void read_shocks(const Flat& flat, std::vector<firm::ShockSpec>& shocks, YAML::Node& resolved,
                 std::vector<Diagnostic>& problems);

}  // namespace smbsim::scenario::detail
