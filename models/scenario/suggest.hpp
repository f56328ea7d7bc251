#pragma once
// "Did you mean" for unknown keys: the closest candidate by edit distance.
#include <optional>
#include <string>
#include <vector>

namespace smbsim::scenario {

std::size_t edit_distance(const std::string& a, const std::string& b);
/// The closest candidate, if it is close enough to be a plausible typo.
std::optional<std::string> closest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace smbsim::scenario
