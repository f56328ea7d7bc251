#pragma once
// The owner's decisions in a scenario: `loans:`, `plans:` and `rules:` (docs/scenario-
// format.md, "Loans, plans and rules"), read into firm::Decisions with one problem per
// mistake, each at FILE:LINE:COLUMN.
#include "models/firm/plans.hpp"
#include "models/scenario/tree.hpp"

#include <string>
#include <vector>

namespace smbsim::scenario::detail {

/// Reads the lists of a flattened scenario (absent lists are empty) and writes them as
/// given into `resolved`. Months must fall within `horizon`.
void read_decisions(const Flat& flat, int horizon, firm::Decisions& decisions, YAML::Node& resolved,
                    std::vector<Diagnostic>& problems);

/// Parses a rule's condition ("runway_months < 2 and month > 12"); the error text if it
/// is not one.
std::variant<firm::Condition, std::string> parse_condition(const std::string& text);

}  // namespace smbsim::scenario::detail
