#pragma once
// What the engine needs to know about a model to aggregate and store its results: the
// quantities it observes every month, the columns of its per-run outcome row, and the
// names of its failure causes. Plain data; the engine knows nothing about firms.
#include "engine/binning.hpp"
#include "engine/design.hpp"

#include <concepts>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace smbsim {

class RunRandom;

/// A quantity observed every month on every live run.
struct QuantitySpec {
  std::string name;         ///< dataset stem, snake_case
  std::string units;        ///< e.g. "USD", "1"
  std::string description;  ///< one sentence for the file and the docs
  Binning binning;          ///< how its quantiles are tracked
};

/// One code of a categorical column and what it means (one word: no blanks).
struct Category {
  std::int32_t code;
  std::string meaning;
};

/// One column of the per-run outcome table. A u8 column holds 0 or 1 (its mean is a
/// share of runs). The role and the KPI label are stored with the column, so the tools
/// that summarize a file find the headline columns there, not by the model's names. A
/// column with categories (an i32 column) holds codes, not amounts: it is stored with
/// CF's flag_values and flag_meanings, and the tools take no mean difference of it.
struct ColumnSpec {
  enum class Type { f64, i32, u8 };
  std::string name;
  std::string units;
  std::string description;
  Type type = Type::f64;
  std::string role{};  ///< one of kColumnRoles, or empty
  std::string kpi{};   ///< a summary's KPI line shows its mean under these words (empty: not shown)
  std::vector<Category> categories{};  ///< a categorical column's codes (empty: a number)
};

/// The roles a column may play for the tools (docs/output-format.md), at most one each:
///   survival       1 if the run lived to the horizon (paired survival differences)
///   failure_month  the month the run ended (0 if it survived)
///   end_value      the run's money at the end (sensitivity's money output)
///   profit         the money compared run by run between variants
///   input          a per-run input the model draws itself (scenario discovery explains by it)
inline constexpr const char* kColumnRoles[] = {"survival", "failure_month", "end_value", "profit", "input"};

/// An input drawn per run from a distribution (stored per run, float64).
struct InputSpec {
  std::string name;          ///< its parameter path, e.g. "market.fit"
  std::string units;
  std::string description;
  std::string distribution;  ///< as written, e.g. "uniform(low=0.5, high=1.5)"
};

struct ModelSchema {
  std::vector<QuantitySpec> quantities;
  std::vector<ColumnSpec> outcome_columns;
  std::vector<std::string> causes;  ///< failure cause codes index this list
  std::vector<InputSpec> inputs;    ///< the uncertain inputs, in the model's order
  DesignSpec design;                ///< how their per-run values were chosen
  std::vector<std::string> orderly_causes{};  ///< those of `causes` that end a run in good order, not insolvent
};

/// A model the engine can drive one run at a time. One instance serves many runs in
/// turn (it is built once per block of runs, so it may allocate in its constructor,
/// never in step()).
///   start(random)        begins a run: samples per-run parameters, sets the state
///   step(month, random)  advances one month (months count from 1)
///   failed(), cause()    the terminal condition and its cause code
///   observe(out)         writes schema().quantities.size() values for this month
///   outcome(out)         writes schema().outcome_columns.size() values at the run's end
template <class M>
concept SimulationModel =
    requires(M m, const M cm, const typename M::Params& p, const RunRandom& r, int month,
             std::span<double> out) {
      { M::schema(p) } -> std::convertible_to<ModelSchema>;
      M(p);
      m.start(r);
      m.step(month, r);
      { cm.failed() } -> std::convertible_to<bool>;
      { cm.cause() } -> std::convertible_to<int>;
      cm.observe(out);
      cm.outcome(out);
    };

/// A model that steps a tile of up to M::kLanes runs together (so it can vectorise
/// across runs). A tile starts with its runs in order; a failed lane keeps being stepped but
/// its observation and outcome must be read in the month it fails.
///   start(seed, first_run, count)  begins runs first_run .. first_run+count-1
///   step(month)                    advances every lane one month
///   lanes(), run(lane)             lanes in use and the run each holds
///   failure_month(lane), cause(lane)  0 while alive; the month and cause code once failed
///   observe_lanes(rows)            this month's observations of every lane in use:
///                                  quantity q of lane i goes to rows[q * kLanes + i]
///   outcome(lane, out)             as for SimulationModel
///   compact()                      drops failed lanes; the new lane order must depend
///                                  only on the tile's runs (never on threads)
template <class M>
concept LaneModel =
    requires(M m, const M cm, const typename M::Params& p, std::uint64_t seed, int i,
             std::span<double> out) {
      { M::schema(p) } -> std::convertible_to<ModelSchema>;
      { M::kLanes } -> std::convertible_to<int>;
      M(p);
      m.start(seed, seed, i);
      m.step(i);
      m.compact();
      { cm.lanes() } -> std::convertible_to<int>;
      { cm.run(i) } -> std::convertible_to<std::uint64_t>;
      { cm.failure_month(i) } -> std::convertible_to<int>;
      { cm.cause(i) } -> std::convertible_to<int>;
      cm.observe_lanes(out);
      cm.outcome(i, out);
    };

/// A lane model that reports each run's sampled inputs: inputs(lane, out) writes
/// schema().inputs.size() values, valid after start() and before the first step().
template <class M>
concept ReportsLaneInputs = requires(const M cm, int i, std::span<double> out) { cm.inputs(i, out); };
/// A run-at-a-time model that does: inputs(out), valid after start().
template <class M>
concept ReportsInputs = requires(const M cm, std::span<double> out) { cm.inputs(out); };

}  // namespace smbsim
