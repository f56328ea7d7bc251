#pragma once
// Confidence intervals for proportions and quantiles.
#include <cstdint>

namespace smbsim {

/// The standard normal's 0.975 quantile, boost::math::quantile(normal(), 0.975): the z
/// of every 95% two-sided interval here. A literal so that it is constexpr; a unit test
/// checks it against Boost.
inline constexpr double kZ95 = 1.959963984540054;

struct Interval {
  double estimate;
  double lo;
  double hi;
};

/// `i` widened to contain its estimate exactly (lo <= estimate <= hi), where rounding or
/// resampling left a bound beside it: readers expect it, and so do error bars (matplotlib
/// refuses a negative length). A NaN estimate or bound is kept.
constexpr Interval containing_estimate(Interval i) {
  if (i.estimate < i.lo) i.lo = i.estimate;
  if (i.estimate > i.hi) i.hi = i.estimate;
  return i;
}

/// 95% Wilson score interval for k successes in n trials (Wilson 1927; recommended by
/// Brown, Cai & DasGupta 2001 over the Wald interval, which fails near 0 and 1).
/// It contains k/n exactly: [0, hi] for k = 0 and [lo, 1] for k = n (the formula's bound
/// there is 0 or 1 only up to rounding).
Interval wilson_interval(std::int64_t k, std::int64_t n, double z = kZ95);

/// Ranks (as fractions of n) bracketing a 95% distribution-free interval for the
/// p-quantile: p -+ z sqrt(p(1-p)/n), the normal approximation to the binomial
/// order-statistic interval (Conover, Practical Nonparametric Statistics, 3.2).
Interval quantile_rank_interval(double p, std::int64_t n, double z = kZ95);

}  // namespace smbsim
