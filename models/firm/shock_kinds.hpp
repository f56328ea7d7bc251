#pragma once
// The kinds of shock [M§7], one row each in kShockKinds (shock_kinds.cpp): the name a
// scenario writes, what the shock does while active and on arrival, how its monthly cash
// impact is measured when a failure is attributed to it, and the words docs/model.md
// shows for each. The scenario reader, the month step and the docs
// (tools/param_table.py --shocks, checked by tests/check_docs.py) all read that table,
// so a new kind is one row and its functions.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace smbsim::firm {

enum class ShockType : int { demand, segment, input_cost, credit, key_person, supplier };
inline constexpr int kShockTypes = 6;

struct LaneState;

/// One shock's lanes in one month: each lane's severity and last active month.
struct ShockTile {
  LaneState& s;
  int lanes;
  int month;
  const std::int32_t* until;
  const double* severity;
};

struct ShockKind {
  ShockType type;
  std::string_view name;
  std::string_view effect;  ///< docs: the effect while active, severity σ
  std::string_view impact;  ///< docs: the monthly cash impact that picks the failure cause
  std::string_view source;  ///< docs: where the effect comes from
  /// Multiplies (or adds) its factor into the month's effect rows, fx*; an inactive lane
  /// multiplies by 1 or adds 0, the same bits as skipping it.
  void (*while_active)(const ShockTile&);
  /// What one lane's arrival does beyond the effect while active; nullptr for nothing.
  void (*on_arrival)(LaneState& s, int lane, double severity);
  /// The lane's monthly cash impact at this severity, for the failure cause.
  double (*cash_impact)(const LaneState& s, int lane, double severity);
};

/// Indexed by ShockType.
extern const std::array<ShockKind, kShockTypes> kShockKinds;

inline const ShockKind& shock_kind(ShockType t) { return kShockKinds[static_cast<std::size_t>(t)]; }
std::optional<ShockType> shock_type_from_name(std::string_view name);
/// "demand, segment, ...": the names in table order, for messages.
std::string_view shock_type_names();

}  // namespace smbsim::firm
