#pragma once
// Reverse stress test (docs/analysis.md): for each run, the severities of a shock forced
// to strike at a given month at which that run's firm starts or stops failing within the
// horizon, on common random numbers; the smallest severity at which a share P of the runs
// fails is the severity at which the firm fails with probability P.
#include "engine/proportion.hpp"
#include "models/firm/parameters.hpp"

#include <cstdint>
#include <functional>
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
  int bisections = 8;     ///< then halvings of the first grid interval where the event happens
};

struct StressCurvePoint {
  double value;     ///< severity, or starting cash
  Interval share;   ///< share of runs in which the event happens there, 95% Wilson interval
};

/// One run's change of state on the way up the searched values: from `at` on (to within
/// the resolution) the run has the event if `delta` is +1, and no longer has it if -1.
struct Change {
  double at;
  int delta;
};

struct StressResult {
  std::int64_t runs = 0;
  double first = 0;               ///< the grid's first value
  std::int64_t at_first = 0;      ///< runs with the event there
  /// Every run's changes of state above the grid's first value, ascending (ties: stops
  /// first): the count of runs with the event at x is at_first plus the deltas up to x.
  /// A monotone run has one change, at its critical value; a non-monotone one has more.
  std::vector<Change> changes;
  std::int64_t non_monotone = 0;   ///< runs with the event at one grid value and not at a larger one
  std::vector<StressCurvePoint> curve;  ///< the event's share at each grid value, evaluated directly
  double resolution = 0;           ///< width of the widest last bisection interval
};

/// A per-run search over one number x on an ascending grid: every run at every grid
/// value, then bisection inside every grid interval at whose ends the run's state
/// differs. `survival`: the event is survival to the horizon, else failure.
struct Search {
  std::function<firm::FirmSpec(double)> spec_at;
  std::vector<double> grid;
  bool survival = false;
};
/// Under MPI every rank calls it and searches one contiguous range of the runs; rank 0
/// returns the whole result (the changes of every rank, sorted, the counts added up: the
/// same bits as one process), the others their own part.
StressResult search_changes(const Search& search, const StressSettings& settings);

/// The severity search (settings.shock striking at settings.month).
StressResult stress_test(const firm::FirmSpec& spec, const StressSettings& settings);

/// The starting-cash search: firm.cash fixed at x USD for every run (replacing
/// firm.cash_buffer_days), x from 0 to 36 months of the planned outflows; the event is
/// survival.
StressResult cash_test(const firm::FirmSpec& spec, const StressSettings& settings);

/// The value at which the event happens with probability p: the smallest x at which at
/// least ceil(p n) runs have it, with a 95% interval from inverting the exact binomial
/// test of the count at x (docs/analysis.md): from the smallest x with at least r runs to
/// the x from which on at least s runs have it, (r, s) = quantile_ranks(n, p). For
/// monotone runs these are the order statistics of the critical values. Infinite where
/// the grid's last value does not reach p (or, for the upper end, s).
Interval value_at_probability(const StressResult& result, double p);

/// Ranks r <= s (1-based) with P(r <= B < s) >= 0.95 for B ~ Binomial(n, p), as
/// symmetric as possible: [X_(r), X_(s)] covers the p-quantile with at least 95%.
std::pair<std::int64_t, std::int64_t> quantile_ranks(std::int64_t n, double p);

}  // namespace smbsim::cli
