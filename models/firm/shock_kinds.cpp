#include "models/firm/shock_kinds.hpp"

#include "models/firm/lanes.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace smbsim::firm {

namespace {
// The effects while active: one loop over the tile's lanes each, in the order and with
// the arithmetic of docs/model.md §7.
SMBSIM_LANE_LOOPS
void scale_down(double* __restrict scaled, const ShockTile& t) {
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < t.lanes; ++lane) {
    const double factor = 1.0 - t.severity[lane];
    scaled[lane] *= t.month <= t.until[lane] ? factor : 1.0;
  }
}

void demand_while_active(const ShockTile& t) { scale_down(t.s.s[fxDemand], t); }
void supplier_while_active(const ShockTile& t) { scale_down(t.s.s[fxCapacity], t); }

SMBSIM_LANE_LOOPS
void segment_while_active(const ShockTile& t) {
  LaneState& s = t.s;
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < t.lanes; ++lane) {
    const double loss = t.severity[lane] / s.i[iSegments][lane];
    s.s[fxSegmentLoss][lane] += t.month <= t.until[lane] ? loss : 0.0;
  }
}

SMBSIM_LANE_LOOPS
void input_cost_while_active(const ShockTile& t) {
  double* cost = t.s.s[fxInputCost];
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < t.lanes; ++lane) {
    const double factor = 1.0 + t.severity[lane];
    cost[lane] *= t.month <= t.until[lane] ? factor : 1.0;
  }
}

SMBSIM_LANE_LOOPS
void credit_while_active(const ShockTile& t) {
  LaneState& s = t.s;
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < t.lanes; ++lane) {
    const bool active = t.month <= t.until[lane];
    const double cut = std::min(s.s[fxCreditLimit][lane], 1.0 - t.severity[lane]);
    const double factor = 1.0 + 2.0 * t.severity[lane];
    s.s[fxCreditLimit][lane] = active ? cut : s.s[fxCreditLimit][lane];
    s.s[fxInterest][lane] *= active ? factor : 1.0;
  }
}

SMBSIM_LANE_LOOPS
void key_person_while_active(const ShockTile& t) {
  LaneState& s = t.s;
  const double* exposure = s.d[rKeyPersonExposure];
#pragma GCC ivdep  // lanes are independent runs
  for (int lane = 0; lane < t.lanes; ++lane) {
    const double factor = 1.0 - 0.5 * t.severity[lane] * exposure[lane];
    s.s[fxCapacity][lane] *= t.month <= t.until[lane] ? factor : 1.0;
  }
}

void key_person_arrives(LaneState& s, int lane, double severity) {
  // Capabilities lose their share of the know-how, which is larger the fewer people
  // the firm has now (1 / sqrt(staff), at most all of it).
  const double people = s.d[rStaff][lane] * s.param(Param::headcount)[lane];
  s.d[rKeyPersonExposure][lane] = std::min(1.0, 1.0 / std::sqrt(std::max(people, 1.0)));
  const double keep = 1.0 - severity * s.d[rKeyPersonExposure][lane];
  for (int c = 0; c < kCapabilities; ++c) s.d[rCapability + c][lane] *= keep;
}

void supplier_arrives(LaneState& s, int lane, double severity) {  // finding a new partner
  s.s[fxOneOff][lane] += 0.5 * severity * s.d[rPlannedRevenue][lane];
}

// Cash impacts. A capacity shock costs only the sales the staff could no longer make:
// idle capacity absorbs it.
double sales_lost(const LaneState& s, int lane, double capacity_factor) {
  const double volume = s.s[sVolume][lane];
  const double full_capacity = s.d[rStaff][lane] * (1.0 + s.param(Param::capacity_headroom)[lane]);
  return s.d[rPlannedRevenue][lane] * s.d[rPrice][lane] *
         (std::min(volume, full_capacity) - std::min(volume, full_capacity * capacity_factor));
}
double demand_impact(const LaneState& s, int lane, double severity) { return s.d[rBaseRevenue][lane] * severity; }
double segment_impact(const LaneState& s, int lane, double severity) {
  return s.d[rBaseRevenue][lane] * severity / s.i[iSegments][lane];
}
double input_cost_impact(const LaneState& s, int lane, double severity) {
  return s.param(Param::variable_cost_share)[lane] * s.d[rRevenue][lane] * severity;
}
double credit_impact(const LaneState& s, int lane, double severity) { return s.d[rCreditLimit][lane] * severity; }
double key_person_impact(const LaneState& s, int lane, double severity) {
  return sales_lost(s, lane, 1.0 - 0.5 * severity * s.d[rKeyPersonExposure][lane]);
}
double supplier_impact(const LaneState& s, int lane, double severity) { return sales_lost(s, lane, 1.0 - severity); }
}  // namespace

// clang-format off
const std::array<ShockKind, kShockTypes> kShockKinds{{
    {ShockType::demand, "demand", "demand × (1 − σ) (recession)", "`R_base·σ`",
     "[Fed], [A] \"economic downturns\"", demand_while_active, nullptr, demand_impact},
    {ShockType::segment, "segment", "one segment loses σ of its demand: demand × (1 − σ / segments)",
     "`R_base·σ/segments`", "[A] \"Market Vulnerability\"", segment_while_active, nullptr, segment_impact},
    {ShockType::input_cost, "input_cost", "variable costs × (1 + σ)", "`v·R·σ`", "[A]",
     input_cost_while_active, nullptr, input_cost_impact},
    {ShockType::credit, "credit", "credit limit × (1 − σ); interest × (1 + 2σ)", "`L·σ`",
     "[A] \"thinner margin for error\"; [Fed]", credit_while_active, nullptr, credit_impact},
    {ShockType::key_person, "key_person",
     "on arrival capabilities × (1 − σ·e), e = min(1, 1/√people), people = staff × headcount on arrival (a shrunken "
     "firm loses more of its know-how with one person); capacity × (1 − σ·e/2) while recruiting",
     "the sales lost, with `φ = 1 − σ·e/2`", "[A] \"each employee often wears multiple hats\"",
     key_person_while_active, key_person_arrives, key_person_impact},
    {ShockType::supplier, "supplier", "capacity × (1 − σ); one-off cost ½ σ R_plan to replace the partner",
     "the sales lost, with `φ = 1 − σ`", "[B] \"Networked SMB Ecosystems\"", supplier_while_active,
     supplier_arrives, supplier_impact},
}};
// clang-format on

std::optional<ShockType> shock_type_from_name(std::string_view name) {
  for (const auto& k : kShockKinds)
    if (k.name == name) return k.type;
  return std::nullopt;
}

std::string_view shock_type_names() {
  static const std::string names = [] {
    std::string n;
    for (const auto& k : kShockKinds) n += (n.empty() ? "" : ", ") + std::string(k.name);
    return n;
  }();
  return names;
}

}  // namespace smbsim::firm
