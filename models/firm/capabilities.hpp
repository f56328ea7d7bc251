#pragma once
// The fixed vocabulary of the firm model: capabilities the market can value, and the
// teams that spend on them. Fixed sizes let every per-month vector be an Eigen
// fixed-size type that lives on the stack.
#include <Eigen/Core>

#include <array>
#include <optional>
#include <string_view>

namespace smbsim::firm {

inline constexpr int kCapabilities = 6;
inline constexpr std::array<std::string_view, kCapabilities> kCapabilityNames{
    "product", "marketing", "sales", "operations", "automation", "service"};
enum Capability : int { kProduct, kMarketing, kSales, kOperations, kAutomation, kService };

/// Teams of the firm (functions). People wear many hats in a small firm: the coupling
/// between these teams is what differs by size, not their number.
inline constexpr int kTeams = 4;
inline constexpr std::array<std::string_view, kTeams> kTeamNames{
    "commercial", "product", "operations", "service"};

using CapabilityVector = Eigen::Matrix<double, kCapabilities, 1>;
using TeamVector = Eigen::Matrix<double, kTeams, 1>;
using TeamMatrix = Eigen::Matrix<double, kTeams, kTeams>;
/// Row j: where team j's money and effort go when it follows its own priorities.
using TeamPriorities = Eigen::Matrix<double, kTeams, kCapabilities>;

/// "People follow their own priorities" (seed 000, "The Founder's Vision"): each team's
/// own mix is its home function.
inline TeamPriorities team_priorities() {
  TeamPriorities h;
  //     product marketing sales  operations automation service
  h << 0.00, 0.50, 0.50, 0.00, 0.00, 0.00,   // commercial
       0.70, 0.00, 0.00, 0.00, 0.30, 0.00,   // product
       0.00, 0.00, 0.00, 0.80, 0.20, 0.00,   // operations
       0.00, 0.00, 0.20, 0.00, 0.00, 0.80;   // service
  return h;
}

inline std::optional<int> capability_index(std::string_view name) {
  for (int i = 0; i < kCapabilities; ++i)
    if (kCapabilityNames[static_cast<std::size_t>(i)] == name) return i;
  return std::nullopt;
}

}  // namespace smbsim::firm
