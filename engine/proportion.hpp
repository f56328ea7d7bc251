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

/// 95% Wilson score interval for k successes in n trials (Wilson 1927; recommended by
/// Brown, Cai & DasGupta 2001 over the Wald interval, which fails near 0 and 1).
Interval wilson_interval(std::int64_t k, std::int64_t n, double z = kZ95);

/// Ranks (as fractions of n) bracketing a 95% distribution-free interval for the
/// p-quantile: p -+ z sqrt(p(1-p)/n), the normal approximation to the binomial
/// order-statistic interval (Conover, Practical Nonparametric Statistics, 3.2).
Interval quantile_rank_interval(double p, std::int64_t n, double z = kZ95);

}  // namespace smbsim
