#include "engine/normal_batch.hpp"

#include "engine/lane_scan.hpp"
#include "engine/portable_exp.hpp"
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

/// Where Boost's ziggurat goes for a point outside its layer's rectangle (layer i > 0,
/// position x, a uniform y01 in [0, 1) for the height): accept the point if it lies
/// under the density. Boost's convex/concave bounds decide most points without the
/// exponential; the exponential is portable_exp (the same bits on every CPU), always
/// computed, so the loop has no branch.
[[gnu::always_inline]] inline bool wedge_accepts(std::int64_t i, double x, double y01) {
  const double* table_x = normal_table<double>::table_x;
  const double* table_y = normal_table<double>::table_y;
  const double y = table_y[i] + y01 * (table_y[i + 1] - table_y[i]);
  const double chord = (table_x[i] - table_x[i + 1]) * y01 - (table_x[i] - x);
  const double tangent = y - (table_y[i] + (table_x[i] - x) * table_y[i] * table_x[i]);
  const bool convex = table_x[i] >= 1;
  const double above_upper = convex ? chord : tangent;
  const double above_lower = convex ? tangent : chord;
  return (above_upper < 0) & ((above_lower < 0) | (y < portable_exp(-(x * x / 2))));
}

/// What is left of a missed draw after its vectorised finish (MissBatch::finish);
/// 64-bit like the loop's other arrays, so that no clone needs a scalar remainder.
enum Leftover : std::uint64_t { kDone, kTailA, kTailB, kRestart };

/// Finishes the draws that missed their rectangles, a batch at a time, vectorised.
/// Each miss gets one Threefry block of its own (counter {run, fallback stream, 0, 0}:
/// words f0-f3), and continues Boost's ziggurat with it:
///   A: the missed point itself. Layer 0 goes to the tail; otherwise the wedge test
///      with height f0.
///   B: if A is rejected, a fresh draw from f1: its rectangle, then its wedge with
///      height f2 (layer 0: the tail).
/// The ~2.6% of misses left (a tail, or B rejected too) finish on the draw's Philox
/// fallback stream exactly as Boost's unit_normal_distribution (a tail, or a fresh
/// normal). Every step draws new randomness, so the result is exactly the ziggurat's.
class MissBatch {
 public:
  static constexpr int kCapacity = static_cast<int>(kMaxNormalLanes);
  explicit MissBatch(const NormalDraws& draws) : draws_(draws) {}

  bool has_room_for(int lanes) const { return size_ + lanes <= kCapacity; }
  void add(double* out, std::uint64_t run, std::uint32_t k, std::uint64_t word) {
    out_[size_] = out;
    run_[size_] = run;
    k_[size_] = k;
    word_[size_] = word;
    ++size_;
  }
  void finish() {
    if (size_ == 0) return;
    // Padded to whole vectors: every lane array is 64-bit, so no clone has a scalar
    // remainder (8 lanes for AVX-512, 4 and 2 for the others).
    const int padded = (size_ + kPad - 1) / kPad * kPad;
    for (int m = size_; m < padded; ++m) run_[m] = k_[m] = word_[m] = 0;
    finish_vectorised(draws_.seed, stream_of(draws_), padded, run_, k_, word_, value_, leftover_);
    for (int m = 0; m < size_; ++m) *out_[m] = leftover_[m] == kDone ? value_[m] : finish_scalar(m);
    size_ = 0;
  }

 private:
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
  static void finish_vectorised(std::uint64_t seed, std::uint64_t stream, int n,
                                const std::uint64_t* __restrict runs, const std::uint64_t* __restrict ks,
                                const std::uint64_t* __restrict words, double* __restrict value,
                                std::uint64_t* __restrict leftover) {
    const double* table_x = normal_table<double>::table_x;
    const threefry4x64_key_t k = key(seed);
#pragma GCC ivdep
    for (int m = 0; m < n; ++m) {
      const std::uint64_t fallback = fallback_stream(stream, ks[m]);
      const threefry4x64_ctr_t f = threefry4x64_R(20, {{runs[m], fallback, 0, 0}}, k);
      const std::uint64_t a = words[m];
      const auto layer_a = static_cast<std::int64_t>(layer_of(a));
      const double x_a = position_of(a) * table_x[layer_a];
      const bool accept_a = (layer_a != 0) & wedge_accepts(layer_a, x_a, position_of(f.v[0]));
      const std::uint64_t b = f.v[1];
      const auto layer_b = static_cast<std::int64_t>(layer_of(b));
      const double x_b = position_of(b) * table_x[layer_b];
      const bool inside_b = x_b < table_x[layer_b + 1];
      const bool accept_b = inside_b | ((layer_b != 0) & wedge_accepts(layer_b, x_b, position_of(f.v[2])));
      // A tail keeps its point's sign in `value` (its x is beyond table_x[1], never 0).
      const bool from_a = accept_a | (layer_a == 0);
      const double x = from_a ? x_a : x_b;
      const bool negative = from_a ? (a & 1) : (b & 1);
      value[m] = negative ? -x : x;
      const std::uint64_t left_b = accept_b ? kDone : (layer_b == 0 ? kTailB : kRestart);
      leftover[m] = layer_a == 0 ? kTailA : (accept_a ? kDone : left_b);
    }
  }

  /// The rare rest, on the draw's Philox fallback stream, as Boost continues.
  [[gnu::noinline]] double finish_scalar(int m) const {
    RandomStream rng(draws_.seed, run_[m], kFallbackPurpose | draws_.purpose << 8 | static_cast<std::uint32_t>(k_[m]), draws_.month);
    boost::random::detail::unit_normal_distribution<double> boost_normal;
    if (leftover_[m] == kRestart) return boost_normal(rng);
    return boost_normal.generate_tail(rng) * (std::signbit(value_[m]) ? -1.0 : 1.0);
  }
  static std::uint64_t fallback_stream(std::uint64_t stream, std::uint64_t k) {
    // Bit 31 set: never a main stream (purpose < 128), one per normal k < 256.
    return stream | (std::uint64_t{1} << 31) | (static_cast<std::uint64_t>(k) << 23);
  }

  NormalDraws draws_;
  int size_ = 0;
  static constexpr int kPad = 8;
  double* out_[kCapacity];
  std::uint64_t run_[kCapacity + kPad];
  std::uint64_t k_[kCapacity + kPad];
  std::uint64_t word_[kCapacity + kPad];
  double value_[kCapacity + kPad];
  std::uint64_t leftover_[kCapacity + kPad];
};
}  // namespace

void standard_normals(const NormalDraws& draws, std::span<const std::uint64_t> runs,
                      std::span<double* const> rows) {
  assert(rows.size() <= kMaxNormalRows && runs.size() <= kMaxNormalLanes && draws.purpose < 128);
  const int lanes = static_cast<int>(runs.size());
  const std::size_t count = rows.size();
  // The fallback streams are part of a batch normal's cost (bench/ times them together).
  SMBSIM_COUNT_WHOLE(batch_normals, count * runs.size());
  std::uint64_t words[kWordsPerBlock * kMaxNormalLanes];
  std::uint8_t missed[kMaxNormalLanes];
  MissBatch misses(draws);
  for (std::size_t first = 0; first < count; first += kWordsPerBlock) {
    threefry_block(draws.seed, stream_of(draws), runs.data(), lanes, first / kWordsPerBlock, words);
    for (std::size_t k = first; k < std::min(count, first + kWordsPerBlock); ++k) {
      const std::uint64_t* w = words + (k - first) * static_cast<std::size_t>(lanes);
      double* out = rows[k];
      fast_normals(w, lanes, out, missed);
      // The ~2.75% outside their rectangles finish together (MissBatch).
      if (!misses.has_room_for(lanes)) misses.finish();
      for_each_flagged(missed, lanes, [&](int lane) {
        misses.add(out + lane, runs[static_cast<std::size_t>(lane)], static_cast<std::uint32_t>(k), w[lane]);
      });
    }
  }
  misses.finish();
}

}  // namespace smbsim
