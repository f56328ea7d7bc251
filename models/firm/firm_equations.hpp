#pragma once
// The firm's equations for one run, as small inline functions of plain numbers: the
// lane loops (firm_step.cpp) call them once per lane, which the compiler vectorises,
// and the scalar helpers in firm.hpp (used by tests) call the very same code.
#include "engine/random_stream.hpp"
#include "models/firm/capabilities.hpp"

#include <algorithm>
#include <cmath>

namespace smbsim::firm {

inline constexpr double kDaysPerMonth = 365.25 / 12.0;

/// One capability's contribution to customer value [M§6]: w g(K / w), g(x) = 2x/(1+x),
/// computed as 2wK / (w + K) (the same value with one division instead of two).
/// Spend the market does not reward (w = 0) builds no value.
inline double customer_value_term(double k, double w) {
  const double stock = std::max(k, 0.0);
  const double term = 2.0 * w * stock / (w + stock);
  return w > 0.0 ? term : 0.0;
}

/// Customer value from the capabilities' summed terms [M§2]: the base value b that does
/// not depend on capability spend, plus (1 - b) of the capability-driven part.
inline double with_base_value(double base, double capability_terms) {
  return base + (1.0 - base) * capability_terms;
}

/// The share of one capability the teams intend to spend on [M§2]: each team follows
/// the strategy's target to the degree it is aligned, else its own priority (own[j]);
/// isomorphism pulls toward the industry's average mix (`industry`, this capability's
/// share of it). The sum over teams is grouped
/// as mean_alignment * target + sum_j neglect[j] * own[j], with neglect[j] = (1 - A_j)/4
/// (team_neglect), so a run's six shares share the per-team terms.
inline double intended_share(double mean_alignment, const double (&neglect)[kTeams], double target,
                             const double (&own)[kTeams], double isomorphism, double industry) {
  double follow = mean_alignment * target;
  #pragma GCC unroll 8
  for (int j = 0; j < kTeams; ++j) follow += neglect[j] * own[j];
  return (1.0 - isomorphism) * follow + isomorphism * industry;
}

/// Each team's weight on its own priorities in intended_share: (1 - A_j) / 4.
inline void team_neglect(const double (&alignment)[kTeams], double (&neglect)[kTeams]) {
  #pragma GCC unroll 8
  for (int j = 0; j < kTeams; ++j) neglect[j] = (1.0 - alignment[j]) / kTeams;
}

/// Coupling between two teams [M§4]: strength c within a department block
/// ({commercial, service}, {product, operations}), c^2 between blocks, spread over the
/// other kTeams - 1 teams.
inline void coupling_strengths(double c, double& same, double& cross) {
  same = c / (kTeams - 1);
  cross = c * c / (kTeams - 1);
}
inline double coupling_entry(int j, int k, double same, double cross) {
  const bool same_block = ((j == 0 || j == 3) == (k == 0 || k == 3));
  return j == k ? 0.0 : (same_block ? same : cross);
}

/// Friction from others' misalignment m [M§4]: 1 - mean_j prod_{k != j} (1 - C_jk m_k).
inline double coordination_friction(const double (&c)[kTeams][kTeams], const double (&m)[kTeams]) {
  double sum = 0.0;
  #pragma GCC unroll 8
  for (int j = 0; j < kTeams; ++j) {
    double pass = 1.0;
    #pragma GCC unroll 8
    for (int k = 0; k < kTeams; ++k)
      if (k != j) pass *= 1.0 - c[j][k] * m[k];
    sum += pass;
  }
  return 1.0 - sum / kTeams;
}

/// Friction of a run whose teams have these alignments.
inline double lane_friction(const double (&alignment)[kTeams], double same, double cross) {
  double c[kTeams][kTeams], m[kTeams];
  #pragma GCC unroll 8
  for (int j = 0; j < kTeams; ++j) {
    m[j] = 1.0 - alignment[j];
    #pragma GCC unroll 8
    for (int k = 0; k < kTeams; ++k) c[j][k] = coupling_entry(j, k, same, cross);
  }
  return coordination_friction(c, m);
}

/// Half the L1 distance between two capability mixes (0 same, 1 disjoint).
inline double mix_distance(const double (&a)[kCapabilities], const double (&b)[kCapabilities]) {
  double sum = 0.0;
  #pragma GCC unroll 8
  for (int c = 0; c < kCapabilities; ++c) sum += std::fabs(a[c] - b[c]);
  return 0.5 * sum;
}

/// Months until the next arrival of a Poisson process with `rate_per_year`, at least 1.
inline int months_to_arrival(double rate_per_year, RandomStream& rng) {
  const double months = rng.exponential() * 12.0 / rate_per_year;
  return 1 + static_cast<int>(std::min(months, 1e6));
}

}  // namespace smbsim::firm
