#pragma once
// Count, mean and sum of squared deviations. Values are added as sums of deviations
// from the first value (the "shifted data" algorithm: no division per value, and no
// cancellation while values stay near the first); pieces are merged with the pairwise
// formula of Chan, Golub & LeVeque (1979). Merging the same pieces in the same order
// gives the same bits, whatever thread computed each piece.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>

namespace smbsim {

class Moments {
 public:
  void add(double x) {
    if (n_ == 0) shift_ = x;
    ++n_;
    const double d = x - shift_;
    s1_ += d;
    s2_ += d * d;
  }
  /// Adds x[0], ..., x[n - 1]. The deviations are summed in eight interleaved partial
  /// sums (x[i] into sum i % 8, combined pairwise), which vectorises; the result
  /// depends only on the values and their order.
  void add_all(const double* x, int n);
  /// Adds the values of x that are not NaN (NaN meaning "none"), in order, with
  /// add_all. Moves them to the front of x.
  void add_defined(std::span<double> x) {
    std::size_t defined = 0;
    for (const double v : x)
      if (!std::isnan(v)) x[defined++] = v;
    add_all(x.data(), static_cast<int>(defined));
  }
  void merge(const Moments& o) {
    if (o.n_ == 0) return;
    if (n_ == 0) {
      *this = o;
      return;
    }
    const double na = static_cast<double>(n_), nb = static_cast<double>(o.n_), n = na + nb;
    const double mean_a = mean(), mean_b = o.mean();
    const double d = mean_b - mean_a;
    const double m2 = m2_of() + o.m2_of() + d * d * na * nb / n;
    n_ += o.n_;
    shift_ = mean_a + d * nb / n;  // the merged mean; deviations from it sum to zero
    s1_ = 0.0;
    s2_ = m2;
  }
  std::int64_t count() const { return n_; }
  double mean() const { return n_ > 0 ? shift_ + s1_ / static_cast<double>(n_) : NAN; }
  double variance() const { return n_ > 1 ? m2_of() / static_cast<double>(n_ - 1) : NAN; }
  /// Standard error of the mean.
  double sem() const { return n_ > 1 ? std::sqrt(variance() / static_cast<double>(n_)) : NAN; }

 private:
  double m2_of() const { return n_ > 0 ? std::max(0.0, s2_ - s1_ * s1_ / static_cast<double>(n_)) : 0.0; }

  std::int64_t n_ = 0;
  double shift_ = 0.0;  // the first value added (or the mean after a merge)
  double s1_ = 0.0;     // sum of (x - shift)
  double s2_ = 0.0;     // sum of (x - shift)^2
};

}  // namespace smbsim
