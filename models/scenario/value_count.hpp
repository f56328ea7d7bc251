#pragma once
// A scenario's size in values, counted while it is parsed, before yaml-cpp builds its
// tree (about 250 bytes a value: a 64 MiB list of numbers would take 15 GB).
#include <string>

namespace smbsim::scenario::detail {

/// Throws ScenarioError at the first value past kMaxNodes in the first document of
/// `text` (the one YAML::Load reads), or a YAML::Exception at a syntax error in it.
/// Aliases count once here; check_duplicate_keys counts what they expand to.
void check_value_count(const std::string& text, const std::string& source);

}  // namespace smbsim::scenario::detail
