#pragma once
// What a result file says, computed from the file alone (so `smbsim run` and
// `smbsim summarize` print the same thing): survival at checkpoints with Wilson
// intervals, failure causes and their timing, quantiles at the horizon, per-run KPI
// means with standard errors, and paired differences against the baseline variant
// (runs share random numbers across variants, so differences are paired per run).
#include "engine/guarded_read.hpp"
#include "engine/input_error.hpp"
#include "engine/moments.hpp"
#include "engine/proportion.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace smbsim {

struct CauseSummary {
  std::string name;
  bool orderly = false;  ///< an end in good order, not an insolvency (the cause list's `orderly` attribute)
  std::int64_t count = 0;
  Interval share_of_failures{};  ///< with a 95% Wilson interval
  int first_quartile_month = 0;  ///< when failures from this cause happen
  int median_month = 0;
  int third_quartile_month = 0;
};

struct QuantitySummary {
  std::string name;
  std::string units;
  Interval q05{}, q50{}, q95{};  ///< at the last month, over live runs, each with its 95% interval
  double mean = 0, sem = 0;
};

struct ColumnSummary {
  std::string name;
  std::string units;
  std::int64_t count = 0;    ///< runs where the value is defined (not NaN)
  double mean = NAN, sem = NAN;  ///< over those runs
  bool share = false;        ///< a 0/1 column (stored as unsigned 8-bit): its mean is a share of runs
  std::string role{};        ///< its role attribute (engine/model_schema.hpp kColumnRoles), or ""
  std::string kpi_label{};   ///< its kpi_label attribute, or ""
  bool categorical = false;  ///< holds codes (CF flag_values), not amounts: it has no paired difference
  std::vector<std::int64_t> codes{};  ///< a categorical column's flag_values (empty before format 1.8)
};

struct PairedDelta {
  std::string column;
  std::string units;
  double mean = 0, lo = 0, hi = 0;  ///< variant minus baseline, 95% normal interval
  std::int64_t pairs = 0;
};

struct VariantSummary {
  std::string name;
  std::string overrides;
  std::int64_t runs = 0;
  std::int64_t alive_at_end = 0;                   ///< runs alive in the last month
  std::vector<std::pair<int, Interval>> survival;  ///< at 12, 24, 60, 120 (within horizon) and the end
  std::vector<double> survival_curve;              ///< every month
  std::int64_t failures = 0;
  std::vector<CauseSummary> causes;                ///< most frequent first
  std::optional<Interval> median_failure_month;    ///< among runs that failed
  std::vector<QuantitySummary> at_end;
  std::vector<ColumnSummary> columns;
  std::vector<PairedDelta> deltas;                 ///< against the first variant
};

struct Summary {
  std::string path;
  std::string scenario_name;
  std::string smbsim_version;
  std::string git_commit;
  std::string started_utc;
  std::string finished_utc;
  std::uint64_t seed = 0;
  std::int64_t runs = 0;
  int months = 0;
  std::vector<VariantSummary> variants;
};

/// The name of the variant's column with this role ("" if none). Files written before
/// format 1.6 store no roles: their columns are given the roles they had by name then.
std::string column_with_role(const VariantSummary& v, const std::string& role);
/// The paired difference of the column with this role, or nullptr.
const PairedDelta* delta_with_role(const VariantSummary& v, const std::string& role);

/// The longest horizon a result file may have (the scenario reader allows 1200 months).
inline constexpr std::int64_t kMaxResultMonths = 1200;

/// Reads and summarizes a result file; throws InputError if it is not one, naming what
/// is inconsistent (every attribute and shape is checked before use).
Summary summarize_file(const std::string& path);
/// The same for a file from elsewhere, through the guarded reader (engine/guarded_read.hpp):
/// damage that crashes libhdf5 becomes an InputError, a read past `time_limit_seconds` an
/// OutputError naming the limit.
Summary summarize_untrusted_file(const std::string& path, double time_limit_seconds = kReadTimeLimitSeconds);

/// Checks the per-run values of the variant's columns of roles survival and
/// failure_month and of its categorical columns against the monthly counts and their own
/// flag_values, reading them in chunks (summarize checks only their stored means: a reader
/// that reads the columns checks the values). Throws InputError naming the first
/// contradiction. `v` is the variant as summarize_file() read it from `file` (at `path`).
void check_outcome_values(hid_t file, const std::string& path, const VariantSummary& v);

}  // namespace smbsim
