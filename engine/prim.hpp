#pragma once
// PRIM scenario discovery (Friedman & Fisher 1999, "Bump hunting in high-dimensional
// data"), as EMA Workbench's analysis/prim.py does it for a binary outcome: boxes found
// by peeling (remove the peel_alpha tail of one input at a time, the one with the best
// gain in the box's share of cases of interest per point removed: EMA's "lenient1"
// objective) down to mass_min, then pasting (grow a restricted limit back by paste_alpha
// while that still gains), and quasi-p-values per restricted limit (Bryant & Lempert
// 2010: a one-sided binomial test of the box against the box without that limit).
// Further boxes cover what the earlier ones left (their points removed). Model-agnostic:
// a matrix of inputs and a 0/1 outcome.
#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace smbsim::prim {

struct Options {
  double peel_alpha = 0.05;
  double paste_alpha = 0.05;
  double mass_min = 0.05;   ///< smallest box, as a share of all points
  int max_boxes = 3;
  /// Which box of a trajectory to take: NaN for the largest coverage x (density - overall
  /// share of cases); a number for the box of largest coverage with at least this density.
  double min_density = NAN;
  /// A box is kept only if its density is above the overall share of cases of interest
  /// by a one-sided binomial test at this level; the covering stops at the first that is not.
  double significance = 0.05;
  /// Release a chosen box's restrictions whose quasi-p-value is not below `significance`.
  bool drop_insignificant = true;
};

/// One box on a peeling and pasting trajectory, or a chosen box.
struct Box {
  std::vector<double> lo, hi;   ///< limits per input (the data's range where unrestricted)
  std::int64_t points = 0;      ///< points in the box (of those not in earlier boxes)
  std::int64_t cases = 0;       ///< cases of interest among them
  double coverage = 0;          ///< cases / all cases of interest
  double density = 0;           ///< cases / points
  double mass = 0;              ///< points / all points
  int restricted = 0;           ///< inputs whose limits differ from the data's range
};

/// A restricted limit and its quasi-p-value.
struct Limit {
  int input = 0;
  bool lower_restricted = false, upper_restricted = false;
  double qp_lower = NAN, qp_upper = NAN;  ///< NaN where that side is not restricted
};

struct Found {
  Box box;                        ///< the chosen box on the trajectory
  std::vector<Limit> limits;      ///< its restricted inputs, most significant (largest quasi-p smallest) first
  std::vector<Box> trajectory;    ///< every box peeling and pasting visited, in order
  int chosen = 0;                 ///< index of `box` in `trajectory`
  double p_value = NAN;           ///< its density against the overall share (one-sided binomial)
};

struct Result {
  std::int64_t points = 0, cases = 0;
  std::vector<double> lo, hi;     ///< the data's range per input (the initial box)
  std::vector<Found> boxes;
};

/// x: points x inputs; y: 1 for a case of interest. Inputs must be finite.
Result discover(const Eigen::MatrixXd& x, const std::vector<unsigned char>& y, const Options& options = {});

/// P(Binomial(n, p) >= k), exactly (regularized incomplete beta).
double binomial_upper_tail(std::int64_t k, std::int64_t n, double p);

/// EMA Workbench's (and sdtoolkit's) quantile of a peel or paste: the midpoint between the
/// order statistic at (n-1)q and the next distinct value inward.
double peel_quantile(std::vector<double> values, double q);

}  // namespace smbsim::prim
