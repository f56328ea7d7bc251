#pragma once
// Count, mean and sum of squared deviations, merged with the pairwise formula of
// Chan, Golub & LeVeque (1979). Merging the same pieces in the same order gives the
// same bits, whatever thread computed each piece.
#include <cmath>
#include <cstdint>

namespace smbsim {

class Moments {
 public:
  void add(double x) {
    ++n_;
    const double d = x - mean_;
    mean_ += d / static_cast<double>(n_);
    m2_ += d * (x - mean_);
  }
  void merge(const Moments& o) {
    if (o.n_ == 0) return;
    if (n_ == 0) {
      *this = o;
      return;
    }
    const double n = static_cast<double>(n_ + o.n_);
    const double d = o.mean_ - mean_;
    mean_ += d * static_cast<double>(o.n_) / n;
    m2_ += o.m2_ + d * d * static_cast<double>(n_) * static_cast<double>(o.n_) / n;
    n_ += o.n_;
  }
  std::int64_t count() const { return n_; }
  double mean() const { return n_ > 0 ? mean_ : NAN; }
  double variance() const { return n_ > 1 ? m2_ / static_cast<double>(n_ - 1) : NAN; }
  double sd() const { return std::sqrt(variance()); }
  /// Standard error of the mean.
  double sem() const { return n_ > 1 ? std::sqrt(variance() / static_cast<double>(n_)) : NAN; }

 private:
  std::int64_t n_ = 0;
  double mean_ = 0.0;
  double m2_ = 0.0;
};

}  // namespace smbsim
