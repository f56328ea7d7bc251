#pragma once
// `smbsim sensitivity`: which uncertain parameters of a scenario the outcomes depend on
// (docs/sensitivity.md). Every parameter given as a distribution becomes a factor of a
// Saltelli design (engine/sobol.hpp) through its inverse distribution function; each
// design point is a variant of the scenario with those parameters fixed (what
// `--set path=value` would make), run `replicates` times on common random numbers.
// Plus a one-at-a-time tornado: each parameter at a low and a high quantile, the rest at
// their medians, paired run by run.
#include "engine/proportion.hpp"
#include "engine/sobol.hpp"
#include "models/scenario/scenario.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace smbsim::cli {

struct SensitivityOptions {
  std::int64_t samples = 1024;     ///< rows of A and B (the first design, with precision)
  std::int64_t replicates = 25;    ///< runs per design point (the command's default with shared runs: 200)
  /// Every point the same runs (true), or each row its own runs, shared by its A, B and
  /// AB_i points (false: the runs' error then averages over the rows too).
  bool shared_runs = false;
  std::optional<double> precision; ///< grow the design until total-index intervals are +-this
  std::int64_t max_samples = 16384;
  sobol::Sequence sequence = sobol::Sequence::sobol;
  int bootstrap = 1000;
  double tornado_quantile = 0.05;  ///< the tornado's ends: this quantile and 1 - it
  std::int64_t tornado_runs = 10000;
  int threads = 0;
  bool progress = true;
  /// Analyse a variant with `correlations:` as if its inputs were independent (Sobol'
  /// indices as defined here need independent inputs); without it such a variant is refused.
  bool ignore_correlations = false;
};

/// One uncertain parameter: its path, distribution and the values the tornado uses.
struct SensitivityInput {
  std::string path;
  std::string distribution;  ///< "triangular", ...
  double low = 0, median = 0, high = 0;  ///< at the tornado's quantiles and 1/2, as the model uses them
};

/// An output: a number per run, averaged over a design point's runs.
struct SensitivityOutput {
  std::string name;   ///< "survival_120", "final_cash", "failure_month"
  std::string label;  ///< "survival to month 120"
  std::string units;
  std::string heading;  ///< a table's column heading, at most 12 characters: "surv 120"
};

/// One parameter's bar: the output at the low and at the high end minus the output with
/// every parameter at its median, and high minus low, each paired run by run (95%).
struct TornadoBar {
  Interval low{}, high{}, swing{};
};
struct TornadoOutput {
  double center = 0;             ///< every parameter at its median
  std::vector<TornadoBar> bars;  ///< in input order
};

struct SensitivityResult {
  std::string scenario, variant;
  std::uint64_t seed = 0;
  int months = 0;
  std::vector<SensitivityInput> inputs;
  /// The variant's rank correlations, treated as independent (--ignore-correlations);
  /// empty if it has none.
  std::vector<Correlation> correlations_ignored;
  sobol::Sequence sequence = sobol::Sequence::sobol;
  std::int64_t rows = 0, replicates = 0, runs = 0;
  bool shared_runs = false;
  int bootstrap = 0;
  int curve_bootstrap = 0;  ///< the curve's intervals: fewer resamples
  std::vector<SensitivityOutput> outputs;      ///< survival at the horizons, final cash, failure month
  std::vector<sobol::OutputIndices> indices;   ///< per output
  std::vector<int> curve_months;               ///< survival to each of these months...
  std::vector<sobol::OutputIndices> curve;     ///< ...and its indices
  /// With precision: the widest total-index half-width (over outputs and parameters)
  /// after each design size tried, (rows, half-width).
  std::vector<std::pair<std::int64_t, double>> convergence;
  std::optional<double> precision;
  bool precision_met = true;
  /// Why not: "max_samples", or "replicates" (more rows stopped narrowing the intervals:
  /// the error of the R common runs dominates).
  std::string precision_limit;
  double tornado_quantile = 0;
  std::int64_t tornado_runs = 0;
  std::vector<TornadoOutput> tornado;          ///< per output
  double seconds = 0;
};

/// Throws UsageError if the variant has no parameter given as a distribution, or has
/// correlations and options.ignore_correlations is not set.
void check_sensitivity(const scenario::Scenario& sc, std::size_t variant, const SensitivityOptions& options);

/// Runs the analysis on one variant of the scenario (check_sensitivity() first). Under
/// MPI every rank calls it: the ranks share the design points and the tornado's points,
/// and rank 0 alone returns the whole result (the others, a partial one).
SensitivityResult run_sensitivity(const scenario::Scenario& sc, std::size_t variant, const SensitivityOptions& options);

/// Total-index half-width that decides `precision`: the widest over the outputs and
/// parameters ((hi - lo) / 2).
double widest_total_half_width(const std::vector<sobol::OutputIndices>& indices);

}  // namespace smbsim::cli
