#pragma once
// Variance-based global sensitivity analysis for any model (docs/sensitivity.md):
// Saltelli's sampling scheme in the unit cube and the estimators of first-order
// (Saltelli et al. 2010) and total (Jansen 1999) Sobol' indices, with bootstrap
// intervals. Knows nothing about firms: a caller maps the cube to its parameters
// (through each one's inverse distribution function) and hands back one value per
// design point and output.
//
// The design. Row j of two independent matrices A and B holds d uniforms each; AB_i is
// A with column i taken from B. Point (j, m), m = 0 for A, 1 for B and 2 + i for AB_i,
// is design point k = j (d + 2) + m, so adding rows only appends points (a design of
// 2n rows begins with the one of n rows).
//
// A stochastic model. Each point stands for `runs` runs of the model on common random
// numbers (run r of every point draws from the same streams), and its value is their
// mean (a survival probability, a mean cash). The runs come in blocks (PointValues),
// from which the estimators take the point's mean, the difference between the means
// of its first and second half (whose variance over the design measures the replicate
// noise left in the means) and the variance between its runs (the runs' own
// randomness), and the bootstrap resamples blocks as well as rows.
#include "engine/proportion.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace smbsim::sobol {

enum class Sequence { sobol, random };
/// "sobol" or "random".
const char* sequence_name(Sequence s);

/// Rows [0, rows) of A and B: coordinates in (0, 1), row-major (rows x dims each).
/// sobol: the j-th point of the 2d-dimensional Sobol' sequence (Joe & Kuo 2008
/// directions, Boost.Random's `sobol`), A its first d coordinates and B the last d,
/// each coordinate digitally shifted (xor with a random word per dimension, from the
/// seed): a randomised quasi-Monte Carlo design. random: independent uniforms from a
/// counter-based stream of the seed. Either depends only on (dims, seed), row by row.
struct UnitDesign {
  int dims = 0;
  std::int64_t rows = 0;
  std::vector<double> a, b;
  double A(std::int64_t j, int i) const { return a[static_cast<std::size_t>(j * dims + i)]; }
  double B(std::int64_t j, int i) const { return b[static_cast<std::size_t>(j * dims + i)]; }
  /// Coordinate i of design point k (row k / (dims + 2), matrix k % (dims + 2)).
  double point(std::int64_t k, int i) const;
  std::int64_t points() const { return rows * (dims + 2); }
};
UnitDesign unit_design(int dims, std::int64_t rows, Sequence sequence, std::uint64_t seed);

/// One output's values at every design point (index k as above). A deterministic
/// model gives one value per point (`mean`). A replicated design gives, per point, its
/// runs' values in `groups` blocks of consecutive runs (the same run indices at every
/// point): the sum and the sum of squares of each block (`sum`, `squares`, points x
/// groups) and the runs per block (`group_runs`). From these come the point's mean, the
/// difference between the means of its first and second half of blocks (replicate
/// noise) and the variance between its runs (the runs' own randomness), and the
/// bootstrap resamples the blocks as well as the rows.
struct PointValues {
  std::vector<double> mean;
  int groups = 0;
  std::vector<double> sum, squares;
  std::vector<double> group_runs;
  /// Each row its own runs (common random numbers only within a row: DesignRunConfig's
  /// row_points) rather than the same runs at every point. Then the rows are independent,
  /// runs and all: the bootstrap resamples rows only, and the estimators remove the
  /// replicate noise (below) so that the indices are those of the points' expected values.
  bool runs_per_row = false;
  /// Every run's value is 0 or 1, so a block's sum of squares is its sum: `squares` is
  /// left empty (half the memory, for the survival curve's many outputs).
  bool binary = false;
};

/// Bootstrap resample b of n rows (or of n blocks of runs; drawn with replacement from a
/// stream of the seed): the same for every output, so all intervals come from the same
/// resamples.
void bootstrap_rows(std::uint64_t seed, int b, std::int64_t rows, std::vector<std::uint32_t>& out);
void bootstrap_groups(std::uint64_t seed, int b, int groups, std::vector<std::uint32_t>& out);

/// What the analysis says about one output, each number with its 95% bootstrap
/// (percentile) interval. NaN where undefined (an output that does not vary).
struct OutputIndices {
  std::vector<Interval> first;  ///< S_i, per parameter
  std::vector<Interval> total;  ///< ST_i, per parameter
  Interval mean{};              ///< of the point values over A and B
  Interval variance{};          ///< of the point values over A and B
  /// Share of `variance` that is replicate noise (finite runs per point), not the
  /// parameters: Var(half difference) / 4 over it (on common random numbers only the
  /// noise that changes from point to point counts). NaN for a deterministic model.
  Interval noise{};
  /// Share of the variance between single runs that is the runs' own randomness:
  /// E[within] / (E[within] + variance - noise variance). NaN for a deterministic model.
  Interval randomness{};
};

/// First-order and total indices of each output over rows [0, rows) of a design with
/// `dims` parameters, with percentile intervals from `replicates` bootstrap resamples
/// (tbb::parallel_for over resamples: the result does not depend on threads). A
/// resample draws rows and, for replicated points, blocks of runs, both with
/// replacement: the rows are the design's sampling error, the blocks that of the runs
/// every point shares (a two-way bootstrap of a crossed design). Values are centred on their mean over A and B first (it changes no
/// expectation, only the variance of the first-order estimator).
///   V    = Var over A and B of the point values (divisor 2n)
///   S_i  = (1/n) sum_j f(B)_j (f(AB_i)_j - f(A)_j) / V       Saltelli et al. 2010, (b)
///   ST_i = (1/2n) sum_j (f(A)_j - f(AB_i)_j)^2 / V          Jansen 1999, (f)
/// With runs_per_row, each term less its replicate noise, estimated within the row from
/// the blocks' means (an unbiased between-blocks estimate of the noise's (co)variance):
///   V - mean noise variance;  f(B)(f(AB_i) - f(A)) - Cov(noise B, noise AB_i - noise A);
///   (f(A) - f(AB_i))^2 - Var(noise A - noise AB_i).
/// Then the indices are of the points' expected values (the survival probability, not the
/// mean of R runs), without the bias that noise of its own at every row would give them.
std::vector<OutputIndices> estimate(std::span<const PointValues> outputs, int dims, std::int64_t rows,
                                    int replicates, std::uint64_t seed, double level = 0.95);

/// The indices of an output known in closed form: the Ishigami function
/// sin x1 + a sin^2 x2 + b x3^4 sin x1 on [-pi, pi]^3 (Ishigami & Homma 1990; the
/// values in Saltelli et al., Global Sensitivity Analysis: The Primer, 2008).
struct ClosedForm {
  double variance;
  std::vector<double> first, total;
};
double ishigami(double x1, double x2, double x3, double a = 7.0, double b = 0.1);
ClosedForm ishigami_indices(double a = 7.0, double b = 0.1);

}  // namespace smbsim::sobol
