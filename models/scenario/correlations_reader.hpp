#pragma once
// Rank correlations between uncertain inputs: `correlations:` (docs/scenario-format.md,
// "Correlated inputs"), a list of [path, path, rank_correlation], read into the
// variant's design with one problem per mistake, each at FILE:LINE:COLUMN.
#include "models/firm/parameters.hpp"
#include "models/scenario/tree.hpp"

#include <vector>

namespace smbsim::scenario::detail {

/// Reads `correlations` of a flattened scenario into spec.design.correlations, checking
/// that both paths name inputs the variant draws from a distribution, that each
/// correlation lies in (-1, 1), that no pair is given twice, and that together they
/// form a positive definite matrix. Writes the list as given into `resolved`.
void read_correlations(const Flat& flat, firm::FirmSpec& spec, YAML::Node& resolved, std::vector<Diagnostic>& problems);

}  // namespace smbsim::scenario::detail
