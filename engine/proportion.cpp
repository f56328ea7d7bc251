#include "engine/proportion.hpp"

#include <algorithm>
#include <cmath>

namespace smbsim {

Interval wilson_interval(std::int64_t k, std::int64_t n, double z) {
  if (n <= 0) return {NAN, 0.0, 1.0};
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(k) / nn;
  const double z2 = z * z;
  const double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
  const double half = z / (1 + z2 / nn) * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
  return containing_estimate({p, std::max(0.0, centre - half), std::min(1.0, centre + half)});
}

Interval quantile_rank_interval(double p, std::int64_t n, double z) {
  if (n <= 0) return {p, 0.0, 1.0};
  const double half = z * std::sqrt(p * (1 - p) / static_cast<double>(n));
  return {p, std::max(0.0, p - half), std::min(1.0, p + half)};
}

}  // namespace smbsim
