#pragma once
// Standard normals for a tile of runs at once, counter-based like RandomStream: the
// k-th normal of (seed, run, purpose, month) is a pure function of those five numbers,
// never of the lane, the tile or the thread.
//
// Bits: Threefry4x64-20 (Salmon et al., SC'11; Random123's default round count) keyed
// by the seed, counter {run, purpose<<16 | month, k / 4, 0}; each 64-bit output word
// makes one normal. Unlike the multiply-based Philox, Threefry is adds, rotations and
// xors of 64-bit words, which vectorise across runs; it is integer arithmetic, so the
// SSE2, AVX2 and AVX-512 builds of the loop (chosen at run time) give the same bits.
//
// Normals: the ziggurat (Marsaglia & Tsang 2000) with Boost.Random's 128-layer tables
// and Boost's wedge bounds. The fast path (a point inside its layer's rectangle,
// ~97.25%) is vectorised over lanes; the misses are gathered and finished together,
// vectorised too: each continues the ziggurat (wedge test; if rejected, one fresh
// point) with one Threefry block of its own, counter {run, 1<<31 | k<<23 | purpose<<16
// | month, 0, 0}. The ~2.6% of misses still open (tails, second rejections) finish as
// Boost's unit_normal_distribution does, on a Philox RandomStream of their own
// (purpose kFallbackPurpose | purpose<<8 | k).
#include <cstddef>
#include <cstdint>
#include <span>

namespace smbsim {

struct NormalDraws {
  std::uint64_t seed = 0;
  std::uint32_t purpose = 0;  ///< < 128
  std::uint32_t month = 0;    ///< <= 0xFFFF
};

inline constexpr std::uint32_t kFallbackPurpose = 0x8000;
inline constexpr std::size_t kMaxNormalRows = 256;
inline constexpr std::size_t kMaxNormalLanes = 1024;

/// rows[k][lane] = the k-th standard normal of runs[lane], for k < rows.size().
/// At most kMaxNormalRows rows and kMaxNormalLanes runs; allocates nothing.
void standard_normals(const NormalDraws& draws, std::span<const std::uint64_t> runs,
                      std::span<double* const> rows);

}  // namespace smbsim
