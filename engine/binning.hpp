#pragma once
// Fixed histogram binnings for streaming quantiles. Bin edges never depend on the data,
// so histograms from any split of the runs add up to the same integer counts: merging
// is exact and order-free.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace smbsim {

/// How an observed quantity is binned.
struct Binning {
  enum class Kind { linear, log_linear };
  Kind kind = Kind::linear;
  double lo = 0.0;       ///< linear: lower edge; values below go to bin 0
  double hi = 1.0;       ///< linear: upper edge; values above go to the last bin
  int linear_bins = 200;

  /// Log-linear (HDR-style) bins for money: sign, 16 bins per doubling of |x| from
  /// 2^kLogMin to 2^kLogMax, one bin for |x| < 2^kLogMin. Relative bin width 4.4%.
  static constexpr int kSubBits = 4;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kLogMin = 0;   // |x| < 1 (one dollar) counts as zero
  static constexpr int kLogMax = 44;  // about 1.8e13
  static constexpr int kHalf = (kLogMax - kLogMin) * kSub;

  static Binning linear(double lo, double hi, int bins) {
    return {Kind::linear, lo, hi, bins};
  }
  static Binning money() { return {Kind::log_linear, 0, 0, 0}; }

  int bins() const { return kind == Kind::linear ? linear_bins : 2 * kHalf + 1; }

  /// out[i] = offset + index(x[i]) for i < n: the same bins as index(), computed for a
  /// tile of values at once with branch-free arithmetic that vectorises (binning.cpp).
  void indices(const double* x, int n, std::int32_t offset, std::int32_t* out) const;

  /// The bin of x: NaN and values below the range go to the first bin (linear) or the
  /// zero bin (money); values above the range to the last bin.
  int index(double x) const {
    if (kind == Kind::linear) {
      const double f = (x - lo) * (linear_bins / (hi - lo));
      if (!(f >= 0.0)) return 0;  // also NaN
      return static_cast<int>(std::min(f, linear_bins - 1.0));  // clamped before converting
    }
    const double a = std::fabs(x);
    if (!(a >= 0x1p0)) return kHalf;  // the zero bin, also NaN
    const int m = std::min(magnitude_index(a), kHalf - 1);
    return x < 0 ? kHalf - 1 - m : kHalf + 1 + m;
  }

  /// Lower and upper edge of bin i.
  double lower_edge(int i) const {
    if (kind == Kind::linear) return lo + (hi - lo) * i / linear_bins;
    if (i == kHalf) return -1.0;
    if (i > kHalf) return magnitude_edge(i - kHalf - 1);
    return -magnitude_edge(kHalf - i);
  }
  double upper_edge(int i) const {
    if (kind == Kind::linear) return lo + (hi - lo) * (i + 1) / linear_bins;
    if (i == kHalf) return 1.0;
    if (i > kHalf) return magnitude_edge(i - kHalf);
    return -magnitude_edge(kHalf - 1 - i);
  }

 private:
  friend struct BinIndices;
  // Exponent and top mantissa bits of |x| >= 1, read straight from the IEEE-754 bits.
  static int magnitude_index(double a) {
    const auto bits = std::bit_cast<std::uint64_t>(a);
    const int exponent = static_cast<int>((bits >> 52) & 0x7FF) - 1023;
    const int sub = static_cast<int>((bits >> (52 - kSubBits)) & (kSub - 1));
    return (exponent - kLogMin) * kSub + sub;
  }
  static double magnitude_edge(int m) {
    const int exponent = m / kSub + kLogMin;
    const int sub = m % kSub;
    return std::ldexp(1.0 + static_cast<double>(sub) / kSub, exponent);
  }
};

}  // namespace smbsim
