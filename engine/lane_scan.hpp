#pragma once
// Visiting the few flagged lanes of a tile. Rare events (a shock arriving, a normal
// that missed the ziggurat's fast path, a firm failing) touch ~1% of lanes a month:
// a vectorised loop writes one flag byte per lane, and this scan reads the flags eight
// at a time, so the common case costs one load and one test per eight lanes instead of
// a compare and a branch per lane.
#include <bit>
#include <cstdint>
#include <cstring>

namespace smbsim {

/// Calls visit(lane), in increasing lane order, for every lane in [0, lanes) whose flag
/// byte is 1 (flags are 0 or 1).
template <class Visit>
void for_each_flagged(const std::uint8_t* flags, int lanes, Visit&& visit) {
  for (int base = 0; base < lanes; base += 8) {
    std::uint64_t chunk = 0;
    std::memcpy(&chunk, flags + base, lanes - base >= 8 ? 8 : static_cast<std::size_t>(lanes - base));
    while (chunk != 0) {
      // Each set byte holds exactly bit 0: the lowest set bit names the lowest lane.
      visit(base + std::countr_zero(chunk) / 8);
      chunk &= chunk - 1;
    }
  }
}

}  // namespace smbsim
