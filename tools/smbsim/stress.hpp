#pragma once
// Reverse stress test (docs/analysis.md): for each run, the smallest severity of a shock
// forced to strike at a given month at which that run's firm fails within the horizon,
// on common random numbers; the P-quantile of these critical severities is the severity
// at which the firm fails with probability P.
#include "engine/proportion.hpp"
#include "models/firm/parameters.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace smbsim::cli {

/// The variant's specification with one more shock appended: a copy of catalogue entry
/// `shock` that strikes once, at `month`, with the fixed `severity` and the entry's own
/// duration (drawn per run from its own stream), arriving in no other way and triggering
/// nothing. The catalogue's shocks, including the named one, arrive as before.
firm::FirmSpec with_forced_shock(const firm::FirmSpec& spec, int shock, int month, double severity);

/// Whether each of `runs` (ascending run indices) fails (insolvency or closure) within
/// `months`, stepping runs in tiles like the engine's runner; `threads` 0 is all cores.
std::vector<unsigned char> runs_fail(const firm::FirmSpec& spec, std::uint64_t seed, int months,
                                     const std::vector<std::int64_t>& runs, int threads);

struct StressSettings {
  std::uint64_t seed = 1;
  std::int64_t runs = 1000;
  int months = 120;
  int threads = 0;
  int shock = 0;          ///< index in the catalogue
  int month = 1;          ///< when it strikes
  int grid = 20;          ///< severities 0, 1/grid, ..., 1 evaluated for every run
  int bisections = 8;     ///< then halvings of the first failing grid interval
};

struct StressCurvePoint {
  double severity;
  Interval failure;  ///< share of runs that fail at this severity, 95% Wilson interval
};

struct StressResult {
  /// Per run: the smallest severity found at which it fails; 0 if it fails without the
  /// shock's force, +infinity if it survives even severity 1.
  std::vector<double> critical;
  std::int64_t non_monotone = 0;   ///< runs that fail at one grid severity and survive a larger one
  std::vector<StressCurvePoint> curve;  ///< failure share at each grid severity, evaluated directly
  double resolution = 0;           ///< width of the last bisection interval
};

StressResult stress_test(const firm::FirmSpec& spec, const StressSettings& settings);

/// The severity at which the firm fails with probability p: the ceil(p n)-th smallest
/// critical severity, with a 95% distribution-free interval from the binomial
/// order-statistic ranks (exact). Infinite where no severity up to 1 reaches p.
Interval critical_quantile(std::vector<double> critical, double p);

/// Ranks r <= s (1-based) with P(r <= B < s) >= 0.95 for B ~ Binomial(n, p), as
/// symmetric as possible: [X_(r), X_(s)] covers the p-quantile with at least 95%.
std::pair<std::int64_t, std::int64_t> quantile_ranks(std::int64_t n, double p);

}  // namespace smbsim::cli
