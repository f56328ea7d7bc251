#include "engine/normal_batch.hpp"

#include "engine/lane_scan.hpp"
#include "engine/random_stream.hpp"

#include <Random123/threefry.h>
#include <boost/random/normal_distribution.hpp>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

namespace smbsim {

namespace {
using boost::random::detail::normal_table;
constexpr int kWordsPerBlock = 4;

std::uint64_t stream_of(const NormalDraws& draws) {
  return (static_cast<std::uint64_t>(draws.purpose) << 16) | draws.month;
}
threefry4x64_key_t key(std::uint64_t seed) { return {{seed, 0, 0, 0}}; }

// A word's ziggurat coordinates: bit 0 the sign, bits 1-7 the layer, bits 12-63 the
// position x in [0, 1) along the layer (52 bits, made exactly by the exponent trick).
std::uint64_t layer_of(std::uint64_t w) { return (w & 0xFF) >> 1; }
double position_of(std::uint64_t w) {
  return std::bit_cast<double>((w >> 12) | 0x3FF0000000000000ull) - 1.0;
}

/// The ziggurat's fast path for a row of words: the normal where the point lies in its
/// layer's rectangle; elsewhere a flag (finished by finish_normal). Cloned like
/// threefry_block; one IEEE multiply and a compare per draw, the same bits in every clone.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
void fast_normals(const std::uint64_t* __restrict words, int lanes, double* __restrict out,
                  std::uint8_t* __restrict missed) {
  const double* __restrict table_x = normal_table<double>::table_x;
#pragma GCC ivdep
  for (int lane = 0; lane < lanes; ++lane) {
    const std::uint64_t w = words[lane];
    const auto layer = static_cast<std::int64_t>(layer_of(w));
    const double x = position_of(w) * table_x[layer];
    const double edge = table_x[layer + 1];
    const double negative = -x;
    out[lane] = (w & 1) ? negative : x;
    missed[lane] = !(x < edge);
  }
}

/// Threefry words for every lane: one block of four draws. Cloned for AVX-512, AVX2 and
/// plain x86-64 and chosen at run time; integer arithmetic, so every clone gives the
/// same bits.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
void threefry_block(std::uint64_t seed, std::uint64_t stream, const std::uint64_t* __restrict runs,
                    int lanes, std::uint64_t block, std::uint64_t* __restrict words) {
  const threefry4x64_key_t k = key(seed);
  std::uint64_t* __restrict w0 = words;
  std::uint64_t* __restrict w1 = words + lanes;
  std::uint64_t* __restrict w2 = words + 2 * lanes;
  std::uint64_t* __restrict w3 = words + 3 * lanes;
#pragma GCC ivdep
  for (int lane = 0; lane < lanes; ++lane) {
    const threefry4x64_ctr_t r = threefry4x64_R(20, {{runs[lane], stream, block, 0}}, k);
    w0[lane] = r.v[0];
    w1[lane] = r.v[1];
    w2[lane] = r.v[2];
    w3[lane] = r.v[3];
  }
}

/// Completes a draw that missed its rectangle, exactly as Boost's ziggurat continues:
/// the base layer draws from the tail; other layers test the wedge and, on rejection,
/// start over (a fresh normal, drawn from this draw's own fallback stream).
[[gnu::noinline]] double finish_normal(std::uint64_t w, RandomStream& rng) {
  const double* table_x = normal_table<double>::table_x;
  const double* table_y = normal_table<double>::table_y;
  boost::random::detail::unit_normal_distribution<double> boost_normal;
  const auto i = static_cast<int>(layer_of(w));
  const double sign = (w & 1) ? -1.0 : 1.0;
  const double x = position_of(w) * table_x[i];
  if (i == 0) return boost_normal.generate_tail(rng) * sign;
  const double y01 = rng.uniform();
  const double y = table_y[i] + y01 * (table_y[i + 1] - table_y[i]);
  double y_above_ubound, y_above_lbound;  // Boost's convex/concave bounds, verbatim
  if (table_x[i] >= 1) {
    y_above_ubound = (table_x[i] - table_x[i + 1]) * y01 - (table_x[i] - x);
    y_above_lbound = y - (table_y[i] + (table_x[i] - x) * table_y[i] * table_x[i]);
  } else {
    y_above_lbound = (table_x[i] - table_x[i + 1]) * y01 - (table_x[i] - x);
    y_above_ubound = y - (table_y[i] + (table_x[i] - x) * table_y[i] * table_x[i]);
  }
  if (y_above_ubound < 0 && (y_above_lbound < 0 || y < std::exp(-(x * x / 2)))) return x * sign;
  return boost_normal(rng);
}
}  // namespace

void standard_normals(const NormalDraws& draws, std::span<const std::uint64_t> runs,
                      std::span<double* const> rows) {
  assert(rows.size() <= kMaxNormalRows && runs.size() <= kMaxNormalLanes && draws.purpose < 128);
  const int lanes = static_cast<int>(runs.size());
  const std::size_t count = rows.size();
#ifdef SMBSIM_COUNT_DRAWS
  // The fallback streams are part of a batch normal's cost (bench/ times them together).
  const DrawCounts before = g_draw_counts;
#endif
  std::uint64_t words[kWordsPerBlock * kMaxNormalLanes];
  std::uint8_t missed[kMaxNormalLanes];
  for (std::size_t first = 0; first < count; first += kWordsPerBlock) {
    threefry_block(draws.seed, stream_of(draws), runs.data(), lanes, first / kWordsPerBlock, words);
    for (std::size_t k = first; k < std::min(count, first + kWordsPerBlock); ++k) {
      const std::uint64_t* w = words + (k - first) * static_cast<std::size_t>(lanes);
      double* out = rows[k];
      fast_normals(w, lanes, out, missed);
      // The ~1.2% outside their rectangle finish on this draw's own fallback stream.
      for_each_flagged(missed, lanes, [&](int lane) {
        RandomStream rng(draws.seed, runs[static_cast<std::size_t>(lane)],
                         kFallbackPurpose | draws.purpose << 8 | static_cast<std::uint32_t>(k), draws.month);
        out[lane] = finish_normal(w[lane], rng);
      });
    }
  }
#ifdef SMBSIM_COUNT_DRAWS
  g_draw_counts = before;
  SMBSIM_COUNT_N(batch_normals, count * runs.size());
#endif
}

}  // namespace smbsim
