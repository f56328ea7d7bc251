#include "engine/binning.hpp"

namespace smbsim {

// The loops below are Binning::index() written without branches so that GCC vectorises
// them; they are compiled for AVX-512, AVX2 and plain x86-64 (chosen at run time).
// Integer results: every clone gives the same bins.
struct BinIndices {
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
  static void linear(const Binning& b, const double* __restrict x, int n, std::int32_t offset,
                     std::int32_t* __restrict out) {
    const double scale = b.linear_bins / (b.hi - b.lo);
    const double last = b.linear_bins - 1;
    for (int i = 0; i < n; ++i) {
      const double f = (x[i] - b.lo) * scale;
      // NaN and values below lo fail f >= 0; clamping before the conversion keeps it
      // in range for huge values.
      const double clamped = f >= 0.0 ? std::min(f, last) : 0.0;
      out[i] = offset + static_cast<std::int32_t>(clamped);
    }
  }

  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
  static void money(const Binning& b, const double* __restrict x, int n, std::int32_t offset,
                    std::int32_t* __restrict out) {
    constexpr std::int64_t half = Binning::kHalf;
    const std::int64_t log_min = b.log_min;
    for (int i = 0; i < n; ++i) {
      const auto bits = std::bit_cast<std::int64_t>(x[i]);
      const std::int64_t magnitude_bits = bits & 0x7FFFFFFFFFFFFFFF;
      const std::int64_t exponent = (magnitude_bits >> 52) - 1023;
      const std::int64_t sub = (magnitude_bits >> (52 - Binning::kSubBits)) & (Binning::kSub - 1);
      const std::int64_t m = (exponent - log_min) * Binning::kSub + sub;
      // |x| >= 2^log_min is m >= 0; NaN's bits are larger than infinity's, so test them
      // apart.
      const bool in_range = m >= 0 && magnitude_bits <= std::bit_cast<std::int64_t>(HUGE_VAL);
      const std::int64_t top = std::min(m, half - 1);
      const std::int64_t signed_bin = bits < 0 ? half - 1 - top : half + 1 + top;
      out[i] = offset + static_cast<std::int32_t>(in_range ? signed_bin : half);
    }
  }
};

void Binning::indices(const double* x, int n, std::int32_t offset, std::int32_t* out) const {
  if (kind == Kind::linear)
    BinIndices::linear(*this, x, n, offset, out);
  else
    BinIndices::money(*this, x, n, offset, out);
}

}  // namespace smbsim
