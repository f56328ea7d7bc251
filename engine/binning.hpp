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
  int log_min = 0;       ///< money: |x| < 2^log_min counts as zero

  /// Log-linear (HDR-style) bins for money: sign, 16 bins per doubling of |x| over
  /// kDoublings doublings from 2^log_min, one bin for |x| < 2^log_min. Relative bin
  /// width 4.4% (3.1% to 6.25%). The range follows the scenario's scale: with
  /// E = floor(log2(scale)), it runs from 2^(E - kBelowScale) to 2^(E - kBelowScale +
  /// kDoublings), i.e. from about scale x 2^-24 to scale x 2^20. Its edges stay on one
  /// grid of powers of two for every scale, so a value gets the same bin edges whatever
  /// the scale, as long as it is in range.
  static constexpr int kSubBits = 4;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kDoublings = 44;
  static constexpr int kBelowScale = 24;
  static constexpr int kHalf = kDoublings * kSub;

  static Binning linear(double lo, double hi, int bins) {
    return {Kind::linear, lo, hi, bins};
  }
  /// Money bins around `scale` (say the planned monthly revenue); a scale that is not a
  /// positive finite number counts as 1.
  static Binning money(double scale) {
    const int e = scale > 0.0 && scale < HUGE_VAL ? std::clamp(std::ilogb(scale), -900, 900) : 0;
    return {Kind::log_linear, 0, 0, 0, e - kBelowScale};
  }

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
    const int m = magnitude_index(std::fabs(x));
    if (m < 0 || std::isnan(x)) return kHalf;  // the zero bin
    const int top = std::min(m, kHalf - 1);
    return x < 0 ? kHalf - 1 - top : kHalf + 1 + top;
  }

  /// Lower and upper edge of bin i.
  double lower_edge(int i) const {
    if (kind == Kind::linear) return lo + (hi - lo) * i / linear_bins;
    if (i == kHalf) return -magnitude_edge(0);
    if (i > kHalf) return magnitude_edge(i - kHalf - 1);
    return -magnitude_edge(kHalf - i);
  }
  double upper_edge(int i) const {
    if (kind == Kind::linear) return lo + (hi - lo) * (i + 1) / linear_bins;
    if (i == kHalf) return magnitude_edge(0);
    if (i > kHalf) return magnitude_edge(i - kHalf);
    return -magnitude_edge(kHalf - 1 - i);
  }

 private:
  friend struct BinIndices;
  // Exponent (above log_min) and top mantissa bits of |x|, read straight from the
  // IEEE-754 bits: negative for |x| < 2^log_min.
  int magnitude_index(double a) const {
    const auto bits = std::bit_cast<std::uint64_t>(a);
    const int exponent = static_cast<int>((bits >> 52) & 0x7FF) - 1023;
    const int sub = static_cast<int>((bits >> (52 - kSubBits)) & (kSub - 1));
    return (exponent - log_min) * kSub + sub;
  }
  double magnitude_edge(int m) const {
    const int exponent = m / kSub + log_min;
    const int sub = m % kSub;
    return std::ldexp(1.0 + static_cast<double>(sub) / kSub, exponent);
  }
};

}  // namespace smbsim
