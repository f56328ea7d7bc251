#include "engine/summary.hpp"

#include "engine/hdf5_handle.hpp"
#include "engine/result_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace smbsim {

namespace {

// A result file is untrusted input (edited, truncated, bit-flipped): every attribute and
// every shape is checked against the others before anything is indexed with it, and
// each inconsistency is one InputError naming the file and what is wrong.
thread_local const std::string* g_path = nullptr;

[[noreturn]] void damaged(const std::string& what) {
  throw InputError((g_path ? *g_path : std::string("result file")) + ": expected a consistent smbsim result file, found " + what);
}

std::string shape_text(const std::vector<hsize_t>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

/// An attribute's type class and element count, checked; `where` names its object.
void expect_attr(hid_t obj, const std::string& where, const std::string& name, H5T_class_t cls, const char* kind) {
  if (!has_attr(obj, name)) damaged(where + " without attribute " + name);
  H5Id attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  H5Id type(H5Aget_type(attr), H5Tclose, "read the type of attribute " + name);
  H5Id space(H5Aget_space(attr), H5Sclose, "read the shape of attribute " + name);
  if (H5Tget_class(type) != cls || H5Sget_simple_extent_npoints(space) != 1)
    damaged(where + " attribute " + name + " that is not one " + kind);
}

std::int64_t int_attr(hid_t obj, const std::string& where, const std::string& name, std::int64_t lo, std::int64_t hi) {
  expect_attr(obj, where, name, H5T_INTEGER, "whole number");
  const std::int64_t v = read_attr_int(obj, name);
  if (v < lo || v > hi)
    damaged(where + " attribute " + name + " = " + std::to_string(v) + ", outside [" + std::to_string(lo) + ", " +
            std::to_string(hi) + "]");
  return v;
}

std::string string_attr(hid_t obj, const std::string& where, const std::string& name) {
  expect_attr(obj, where, name, H5T_STRING, "string");
  return read_attr_string(obj, name);
}

double double_attr(hid_t obj, const std::string& where, const std::string& name) {
  expect_attr(obj, where, name, H5T_FLOAT, "number");
  return read_attr_double(obj, name);
}

/// A dataset at `path` of exactly the shape `dims`.
void expect_shape(hid_t file, const std::string& path, const std::vector<hsize_t>& dims) {
  if (!link_exists(file, path)) damaged("no dataset " + path);
  const auto found = dataset_dims(file, path);
  if (found != dims) damaged(path + " of shape " + shape_text(found) + " where " + shape_text(dims) + " belongs");
}

/// A number as a message shows it: "0.25", "nan", "inf".
std::string shown(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", x);
  return text;
}

/// A run leaves the live count only by failing, once: alive(t) is the runs less the
/// failures up to month t (failures is months x causes).
void check_alive_against_failures(const std::string& monthly, const std::vector<std::int64_t>& alive,
                                  const std::vector<std::int64_t>& failures, std::size_t causes, std::int64_t runs) {
  std::int64_t failed = 0;
  for (std::size_t t = 0; t < alive.size(); ++t) {
    for (std::size_t c = 0; c < causes; ++c) failed += failures[t * causes + c];
    if (alive[t] != runs - failed)
      damaged(monthly + "alive[" + std::to_string(t) + "] = " + std::to_string(alive[t]) + " where the runs less the failures so far are " +
              std::to_string(runs - failed) + " (alive counts must agree with failures)");
  }
}

/// The survival smbsim-report draws: alive / runs (to rounding), its 95% band in [0, 1]
/// around it (to rounding: files before issue 27 put a bound 1e-16 beyond it).
void check_survival(hid_t file, const std::string& monthly, const std::vector<std::int64_t>& alive, std::int64_t runs) {
  const auto p = read_doubles(file, monthly + "survival"), lo = read_doubles(file, monthly + "survival_lo"),
             hi = read_doubles(file, monthly + "survival_hi");
  constexpr double kRounding = 1e-9;
  for (std::size_t t = 0; t < alive.size(); ++t) {
    const std::string at = "[" + std::to_string(t) + "] = ";
    for (const auto& [name, bound] : {std::pair{"survival_lo", lo[t]}, std::pair{"survival_hi", hi[t]}})
      if (!(bound >= 0 && bound <= 1)) damaged(monthly + name + at + shown(bound) + ", outside [0, 1]");
    if (runs == 0) continue;  // no share: NaN in [0, 1]
    const double share = static_cast<double>(alive[t]) / static_cast<double>(runs);
    if (!(std::abs(p[t] - share) <= kRounding))
      damaged(monthly + "survival" + at + shown(p[t]) + " where alive / runs = " + shown(share) + " (survival is the share of runs alive)");
    if (!(lo[t] <= p[t] + kRounding && p[t] <= hi[t] + kRounding))
      damaged(monthly + "survival_lo and survival_hi" + at + "[" + shown(lo[t]) + ", " + shown(hi[t]) + "], which miss survival " + shown(p[t]));
  }
}

/// A quantity's monthly statistics over live runs (quantiles months x levels): quantiles
/// NaN exactly where no run is alive, never decreasing with their level, each inside its
/// interval where that is defined; the mean finite where runs are alive.
void check_quantity(const std::string& at, const std::vector<std::int64_t>& alive, const std::vector<double>& q,
                    const std::vector<double>& lo, const std::vector<double>& hi, const std::vector<double>& mean) {
  const std::size_t nq = kQuantileLevels.size();
  for (std::size_t t = 0; t < alive.size(); ++t) {
    const std::string month = "[" + std::to_string(t) + "]";
    const bool live = alive[t] > 0;
    if (live && !std::isfinite(mean[t]))
      damaged(at + "_mean" + month + " = " + shown(mean[t]) + " with " + std::to_string(alive[t]) + " runs alive (a mean over live runs is finite)");
    for (std::size_t k = 0; k < nq; ++k) {
      const double x = q[t * nq + k];
      if (std::isnan(x) == live)
        damaged(at + "_quantiles" + month + " level " + shown(kQuantileLevels[k]) + " = " + shown(x) + " with " +
                std::to_string(alive[t]) + " runs alive (quantiles are NaN exactly where no run is alive)");
      if (k > 0 && x < q[t * nq + k - 1])
        damaged(at + "_quantiles" + month + " decreasing from " + shown(q[t * nq + k - 1]) + " at level " + shown(kQuantileLevels[k - 1]) +
                " to " + shown(x) + " at level " + shown(kQuantileLevels[k]) + " (quantiles must not decrease with their level)");
    }
    for (std::size_t k = 0; k < nq; ++k) {
      const double x = q[t * nq + k], below = lo[t * nq + k], above = hi[t * nq + k];
      if (below > x || above < x)
        damaged(at + (below > x ? "_quantiles_lo" : "_quantiles_hi") + month + " level " + shown(kQuantileLevels[k]) + " = " +
                shown(below > x ? below : above) + ", on the wrong side of the quantile " + shown(x) + " (an interval holds its estimate)");
    }
  }
}

/// A list of numbers as a message shows it: "[0.05, 0.25]".
template <class Number>
std::string list_text(const std::vector<Number>& xs) {
  std::string s = "[";
  for (std::size_t i = 0; i < xs.size(); ++i) s += (i ? ", " : "") + shown(static_cast<double>(xs[i]));
  return s + "]";
}

/// The levels of every *_quantiles table: exactly the documented ones, in their order.
void check_quantile_levels(hid_t file, const std::string& path) {
  const auto levels = read_doubles(file, path);
  const std::vector<double> documented(kQuantileLevels.begin(), kQuantileLevels.end());
  for (std::size_t k = 0; k < levels.size(); ++k)
    if (!(std::abs(levels[k] - documented[k]) <= 1e-12))
      damaged(path + " = " + list_text(levels) + " where the quantile levels are " + list_text(documented) +
              " (increasing, as documented)");
}

/// The month by which a share `p` of `total` failures had happened, from monthly counts.
int month_at_share(const std::vector<std::int64_t>& per_month, std::int64_t total, double p) {
  std::int64_t seen = 0;
  for (std::size_t m = 0; m < per_month.size(); ++m) {
    seen += per_month[m];
    if (static_cast<double>(seen) >= p * static_cast<double>(total)) return static_cast<int>(m + 1);
  }
  return static_cast<int>(per_month.size());
}

/// The monthly quantities at the horizon: every *_quantiles dataset of the variant at `base`.
void summarize_quantities(hid_t file, const std::string& base, const std::vector<std::int64_t>& alive, VariantSummary& v) {
  const auto months = static_cast<int>(alive.size());
  const auto m = static_cast<hsize_t>(months);
  H5Id mg = open_group(file, base + "/monthly");
  for (const auto& child : child_names(mg)) {
    const std::string suffix = "_quantiles";
    if (child.size() <= suffix.size() || child.compare(child.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::string q = child.substr(0, child.size() - suffix.size());
    const std::string at = base + "/monthly/";
    for (const char* part : {"_quantiles", "_quantiles_lo", "_quantiles_hi"})
      expect_shape(file, at + q + part, {m, kQuantileLevels.size()});
    for (const char* part : {"_mean", "_sem"}) expect_shape(file, at + q + part, {m});
    H5Id d(H5Dopen2(mg, child.c_str(), H5P_DEFAULT), H5Dclose, "open " + child);
    QuantitySummary s;
    s.name = q;
    s.units = string_attr(d, at + child, "units");
    const auto qs = read_doubles(mg, child), lo = read_doubles(mg, q + "_quantiles_lo"),
               hi = read_doubles(mg, q + "_quantiles_hi");
    const auto mean = read_doubles(mg, q + "_mean");
    check_quantity(at + q, alive, qs, lo, hi, mean);
    const std::size_t nq = kQuantileLevels.size(), last = (static_cast<std::size_t>(months) - 1) * nq;
    // Files before issue 27 could store a bound just past its estimate (few runs alive).
    s.q05 = containing_estimate({qs[last + 0], lo[last + 0], hi[last + 0]});
    s.q50 = containing_estimate({qs[last + 2], lo[last + 2], hi[last + 2]});
    s.q95 = containing_estimate({qs[last + 4], lo[last + 4], hi[last + 4]});
    s.mean = mean.back();
    s.sem = read_doubles(mg, q + "_sem").back();
    v.at_end.push_back(s);
  }
}

/// The names of the causes that are an orderly end (monthly/cause_orderly since format
/// 1.6; before it, the firm's `closed`).
std::vector<std::string> orderly_causes(hid_t file, const std::string& monthly, const std::vector<std::string>& causes,
                                        bool legacy) {
  if (legacy) return {"closed"};
  const std::string path = monthly + "cause_orderly";
  expect_shape(file, path, {causes.size()});
  const auto flags = read_ints(file, path);
  std::vector<std::string> orderly;
  for (std::size_t c = 0; c < causes.size(); ++c) {
    if (flags[c] != 0 && flags[c] != 1) damaged(path + "[" + std::to_string(c) + "] = " + std::to_string(flags[c]) + ", not 0 or 1");
    if (flags[c] == 1) orderly.push_back(causes[c]);
  }
  return orderly;
}

VariantSummary summarize_variant(hid_t file, const std::string& name, int months, bool legacy) {
  VariantSummary v;
  v.name = name;
  const std::string base = "variants/" + name;
  if (!link_exists(file, base + "/monthly") || !link_exists(file, base + "/outcomes"))
    damaged("variant " + name + " without its monthly and outcomes groups");
  H5Id group = open_group(file, base);
  v.runs = int_attr(group, base, "runs", 0, std::numeric_limits<std::int64_t>::max());
  v.overrides = string_attr(group, base, "overrides");
  const std::string monthly = base + "/monthly/";
  const auto m = static_cast<hsize_t>(months);

  for (const char* name : {"alive", "month", "survival", "survival_lo", "survival_hi"})
    expect_shape(file, monthly + name, {m});  // all read by smbsim-report
  expect_shape(file, monthly + "quantile", {kQuantileLevels.size()});
  check_quantile_levels(file, monthly + "quantile");
  const auto alive = read_ints(file, monthly + "alive");
  for (std::size_t i = 0; i < alive.size(); ++i)
    if (alive[i] < 0 || alive[i] > v.runs || (i > 0 && alive[i] > alive[i - 1]))
      damaged(monthly + "alive[" + std::to_string(i) + "] = " + std::to_string(alive[i]) +
              " (runs alive must lie in [0, runs] and never grow)");
  for (int m : {12, 24, 60, 120})
    if (m < months) v.survival.emplace_back(m, wilson_interval(alive[static_cast<std::size_t>(m - 1)], v.runs));
  v.survival.emplace_back(months, wilson_interval(alive.back(), v.runs));
  v.alive_at_end = alive.back();
  for (auto a : alive) v.survival_curve.push_back(static_cast<double>(a) / static_cast<double>(std::max<std::int64_t>(v.runs, 1)));

  // Failures by cause and month.
  // Bounded before it is read: a damaged length would otherwise allocate without limit.
  constexpr std::size_t kMaxCauseNames = 4096;
  if (!link_exists(file, monthly + "cause") || dataset_dims(file, monthly + "cause").size() != 1)
    damaged(monthly + "cause missing or not a list");
  if (const auto n = dataset_dims(file, monthly + "cause")[0]; n > kMaxCauseNames)
    damaged(monthly + "cause lists " + std::to_string(n) + " names, more than " + std::to_string(kMaxCauseNames));
  const auto causes = read_strings(file, monthly + "cause");
  const std::vector<std::string> orderly = orderly_causes(file, monthly, causes, legacy);
  const std::size_t nc = causes.size();
  expect_shape(file, monthly + "failures", {m, nc});
  const auto failures = read_ints(file, monthly + "failures");
  std::int64_t failed = 0;
  for (auto f : failures) {
    if (f < 0 || f > v.runs - failed) damaged(monthly + "failures with counts below 0 or above the runs");
    failed += f;
  }
  check_alive_against_failures(monthly, alive, failures, nc, v.runs);
  check_survival(file, monthly, alive, v.runs);
  std::vector<std::int64_t> all_by_month(static_cast<std::size_t>(months), 0);
  for (std::size_t c = 0; c < nc; ++c) {
    std::vector<std::int64_t> by_month(static_cast<std::size_t>(months));
    std::int64_t total = 0;
    for (std::size_t m = 0; m < by_month.size(); ++m) {
      by_month[m] = failures[m * nc + c];
      all_by_month[m] += by_month[m];
      total += by_month[m];
    }
    v.failures += total;
    if (total == 0) continue;
    v.causes.push_back({causes[c], std::find(orderly.begin(), orderly.end(), causes[c]) != orderly.end(), total, {}, month_at_share(by_month, total, 0.25),
                        month_at_share(by_month, total, 0.5), month_at_share(by_month, total, 0.75)});
  }
  for (auto& c : v.causes) c.share_of_failures = wilson_interval(c.count, v.failures);
  std::stable_sort(v.causes.begin(), v.causes.end(),
                   [](const CauseSummary& a, const CauseSummary& b) { return a.count > b.count; });
  if (v.failures > 0) {
    const Interval r = quantile_rank_interval(0.5, v.failures);
    v.median_failure_month = Interval{double(month_at_share(all_by_month, v.failures, 0.5)),
                                      double(month_at_share(all_by_month, v.failures, r.lo)),
                                      double(month_at_share(all_by_month, v.failures, r.hi))};
  }

  summarize_quantities(file, base, alive, v);
  return v;
}

/// Moments of a column over its defined values (NaN means "none"), and when
/// `baseline_column` is given, of the baseline's and of the paired differences against
/// it, read in chunks.
struct ColumnMoments {
  Moments values, baseline, diffs;
};
ColumnMoments column_moments(hid_t file, const std::string& column, const std::string* baseline_column, std::int64_t runs) {
  constexpr hsize_t kChunk = 1 << 16;
  ColumnMoments m;
  for (hsize_t start = 0; start < static_cast<hsize_t>(runs); start += kChunk) {
    auto x = read_doubles(file, column, start, kChunk);
    std::vector<double> b, d;
    if (baseline_column) b = read_doubles(file, *baseline_column, start, kChunk);
    // The paired differences: NaN where either run has none.
    d.reserve(b.size());
    for (std::size_t i = 0; i < b.size() && i < x.size(); ++i) d.push_back(x[i] - b[i]);
    m.diffs.add_defined(d);
    m.baseline.add_defined(b);
    m.values.add_defined(x);
  }
  return m;
}

/// Whether a paired difference of the column says something: not of codes (a mean
/// difference of failure causes is no quantity), not of the failure month (defined only
/// for failed runs and 0 for survivors: a variant that saves firms would seem to fail
/// earlier), and not where the column is constant
/// in both arms (a fixed input or setting: the difference is the override, already in
/// `overrides`, not an estimate). A column that varies but is equal run by run (a
/// shared input) keeps its difference of 0: it shows the pairing held.
bool worth_comparing(const ColumnSummary& c, const ColumnMoments& m) {
  return !c.categorical && c.role != "failure_month" && m.diffs.count() > 1 && !(m.values.variance() == 0 && m.baseline.variance() == 0);
}

/// Files before format 1.6 store no role or KPI label with a column: the firm model's
/// columns had these then (the names are frozen with that format, never extended).
struct LegacyColumn {
  const char* name;
  const char* role;
  const char* kpi_label;
};
constexpr LegacyColumn kBeforeRoles[] = {
    {"survived", "survival", ""},          {"failure_month", "failure_month", ""},
    {"final_cash", "end_value", ""},       {"cumulative_profit", "profit", ""},
    {"start_buffer_days", "input", ""},    {"market_fit", "input", ""},
    {"mean_alignment", "", "alignment"},   {"mean_project_alignment", "", "spend on strategy"},
    {"mean_customer_value", "", "customer value"}, {"mean_friction", "", "friction"},
    {"months_to_realign", "", "months to realign"}};

/// Files before format 1.8 store no flag_values: their one categorical column.
constexpr const char* kCategoricalBeforeFlags = "failure_cause";

/// A categorical column's flag_values: whole numbers, at most one per cause and "survived".
std::vector<std::int64_t> codes_attr(hid_t d, const std::string& path) {
  constexpr hssize_t kMaxCodes = 4097;
  H5Id attr(H5Aopen(d, "flag_values", H5P_DEFAULT), H5Aclose, "open attribute flag_values of " + path);
  H5Id type(H5Aget_type(attr), H5Tclose, "read the type of flag_values of " + path);
  H5Id space(H5Aget_space(attr), H5Sclose, "read the shape of flag_values of " + path);
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (H5Tget_class(type) != H5T_INTEGER || n < 1 || n > kMaxCodes)
    damaged(path + " attribute flag_values that is not a list of 1 to " + std::to_string(kMaxCodes) + " whole numbers");
  std::vector<std::int64_t> codes(static_cast<std::size_t>(n));
  h5check(H5Aread(attr, H5T_NATIVE_INT64, codes.data()), "read flag_values of " + path);
  return codes;
}

/// The column's share flag, role, KPI label and whether it is categorical: from its type
/// and attributes, or for a file before format 1.6 (`legacy`) or 1.8 (`before_flags`)
/// from its name.
void read_column_meaning(hid_t d, const std::string& path, bool legacy, bool before_flags, ColumnSummary& cs) {
  H5Id type(H5Dget_type(d), H5Tclose, "read the type of " + path);
  cs.share = H5Tget_class(type) == H5T_INTEGER && H5Tget_size(type) == 1 && H5Tget_sign(type) == H5T_SGN_NONE;
  // CF marks a variable of codes with flag_values (or flag_masks) and flag_meanings.
  cs.categorical = before_flags ? cs.name == kCategoricalBeforeFlags
                                : has_attr(d, "flag_values") || has_attr(d, "flag_masks") || has_attr(d, "flag_meanings");
  if (legacy) {
    for (const auto& c : kBeforeRoles)
      if (cs.name == c.name) cs.role = c.role, cs.kpi_label = c.kpi_label;
    return;
  }
  if (cs.categorical && has_attr(d, "flag_values")) cs.codes = codes_attr(d, path);
  // A role this build does not know (from a later minor version) matches nothing.
  if (has_attr(d, "role")) cs.role = string_attr(d, path, "role");
  if (has_attr(d, "kpi_label")) cs.kpi_label = string_attr(d, path, "kpi_label");
}

/// A column's mean over its defined runs: finite (NaN when there are none), in [0, 1]
/// for a 0/1 share; its standard error not negative.
void check_column_mean(const std::string& path, const ColumnSummary& c) {
  if (c.count > 0 && (!std::isfinite(c.mean) || (c.share && (c.mean < 0 || c.mean > 1))))
    damaged(path + " attribute mean = " + shown(c.mean) + " over " + std::to_string(c.count) + " defined runs (" +
            (c.share ? "the share of runs must lie in [0, 1])" : "a mean of defined values is finite)"));
  if (c.sem < 0) damaged(path + " attribute sem = " + shown(c.sem) + " (a standard error is not negative)");
}

/// What the monthly counts and the column's own codes say of its mean, where it has one:
/// the survival column's mean is the share alive at the horizon (to rounding); a failure
/// month lies in [0, months]; a mean of codes lies among the codes.
void check_mean_against_counts(const std::string& path, const ColumnSummary& c, const VariantSummary& v) {
  if (c.count == 0 || v.runs == 0) return;
  const auto months = static_cast<double>(v.survival_curve.size());
  if (c.role == "survival") {
    const double share = static_cast<double>(v.alive_at_end) / static_cast<double>(v.runs);
    if (!(std::abs(c.mean - share) <= 1e-9))
      damaged(path + " attribute mean = " + shown(c.mean) + " where alive / runs at the last month = " + shown(share) +
              " (the share that survived is the share alive at the horizon)");
  }
  if (c.role == "failure_month" && !(c.mean >= 0 && c.mean <= months))
    damaged(path + " attribute mean = " + shown(c.mean) + ", outside [0, " + shown(months) + "] (failure months lie in 0 ... months)");
  if (!c.codes.empty()) {
    const auto [lo, hi] = std::minmax_element(c.codes.begin(), c.codes.end());
    if (!(c.mean >= static_cast<double>(*lo) && c.mean <= static_cast<double>(*hi)))
      damaged(path + " attribute mean = " + shown(c.mean) + ", outside the range of its flag_values " + list_text(c.codes));
  }
}

/// Per-run column means (stored with each column since format 1.1; computed from the
/// column for older files), and paired differences against the baseline.
void summarize_columns(hid_t file, VariantSummary& v, const VariantSummary* baseline, bool legacy, bool before_flags) {
  const std::string dir = "variants/" + v.name + "/outcomes";
  H5Id og = open_group(file, dir);
  for (const auto& col : child_names(og)) {
    if (col == "run") continue;
    const std::string path = dir + "/" + col, baseline_path = baseline ? "variants/" + baseline->name + "/outcomes/" + col : "";
    expect_shape(file, path, {static_cast<hsize_t>(v.runs)});
    H5Id d(H5Dopen2(og, col.c_str(), H5P_DEFAULT), H5Dclose, "open " + col);
    ColumnSummary cs{col, string_attr(d, path, "units")};
    read_column_meaning(d, path, legacy, before_flags, cs);
    const bool paired = baseline && link_exists(file, baseline_path) &&
                        dataset_dims(file, baseline_path) == std::vector<hsize_t>{static_cast<hsize_t>(v.runs)};
    const bool stored = has_attr(d, "mean");
    ColumnMoments m;
    if (!stored || paired) m = column_moments(file, path, paired ? &baseline_path : nullptr, v.runs);
    if (stored) {
      cs.count = int_attr(d, path, "defined_runs", 0, v.runs);
      cs.mean = double_attr(d, path, "mean");
      cs.sem = double_attr(d, path, "sem");
    } else {
      cs.count = m.values.count();
      cs.mean = m.values.mean();
      cs.sem = m.values.sem();
    }
    check_column_mean(path, cs);
    check_mean_against_counts(path, cs, v);
    v.columns.push_back(cs);
    if (paired && worth_comparing(cs, m)) {
      const Moments& diff = m.diffs;
      const double half = kZ95 * diff.sem();
      v.deltas.push_back({col, cs.units, diff.mean(), diff.mean() - half, diff.mean() + half, diff.count()});
    }
  }
}
}  // namespace

namespace {
Summary read_summary(const std::string& path);
}

std::string column_with_role(const VariantSummary& v, const std::string& role) {
  for (const auto& c : v.columns)
    if (c.role == role) return c.name;
  return "";
}

const PairedDelta* delta_with_role(const VariantSummary& v, const std::string& role) {
  const std::string name = column_with_role(v, role);
  for (const auto& d : v.deltas)
    if (!name.empty() && d.column == name) return &d;
  return nullptr;
}

Summary summarize_file(const std::string& path) {
  try {
    return read_summary(path);
  } catch (const OutputError& e) {
    throw InputError(path + ": expected a readable smbsim result file, found damage (" + e.what() + ")");
  } catch (const std::length_error&) {
    throw InputError(path + ": expected a readable smbsim result file, found impossible sizes");
  }
}

Summary summarize_untrusted_file(const std::string& path, double time_limit_seconds) {
  return guarded_read(path, time_limit_seconds, [&] { return summarize_file(path); });
}

namespace {
/// The per-run values of one column, chunk by chunk: `visit(run, value)`.
template <class Visit>
void for_each_value(hid_t file, const std::string& column, std::int64_t runs, Visit&& visit) {
  constexpr hsize_t kChunk = 1 << 16;
  for (hsize_t start = 0; start < static_cast<hsize_t>(runs); start += kChunk) {
    const auto x = read_doubles(file, column, start, kChunk);
    for (std::size_t i = 0; i < x.size(); ++i) visit(static_cast<std::int64_t>(start + i), x[i]);
  }
}

/// The survival column: 0 or 1 in every run, 1 in as many runs as are alive at the horizon.
void check_survival_values(hid_t file, const std::string& column, const VariantSummary& v) {
  std::int64_t survivors = 0;
  for_each_value(file, column, v.runs, [&](std::int64_t run, double x) {
    if (x != 0 && x != 1) damaged(column + "[" + std::to_string(run) + "] = " + shown(x) + ", not 0 or 1");
    survivors += x == 1;
  });
  if (survivors != v.alive_at_end)
    damaged(column + " holds " + std::to_string(survivors) + " runs that survived where alive at the last month is " +
            std::to_string(v.alive_at_end) + " (each run that survived is alive at the horizon)");
}

/// The failure month: in [0, months] in every run, 0 in a run that survived (when the
/// variant has a survival column).
void check_failure_month_values(hid_t file, const std::string& column, const std::string& survival_column,
                                const VariantSummary& v) {
  const auto months = static_cast<double>(v.survival_curve.size());
  constexpr hsize_t kChunk = 1 << 16;
  for (hsize_t start = 0; start < static_cast<hsize_t>(v.runs); start += kChunk) {
    const auto month = read_doubles(file, column, start, kChunk);
    const auto survived = survival_column.empty() ? std::vector<double>{} : read_doubles(file, survival_column, start, kChunk);
    for (std::size_t i = 0; i < month.size(); ++i) {
      auto at = [&] { return column + "[" + std::to_string(start + i) + "] = " + shown(month[i]); };
      if (!(month[i] >= 0 && month[i] <= months))
        damaged(at() + ", outside [0, " + shown(months) + "] (failure months lie in 0 ... months)");
      if (i < survived.size() && survived[i] == 1 && month[i] != 0)
        damaged(at() + " for a run that survived (" + survival_column + " = 1; a survivor's failure month is 0)");
    }
  }
}

/// A categorical column: every value one of its flag_values.
void check_code_values(hid_t file, const std::string& column, const ColumnSummary& c, std::int64_t runs) {
  for_each_value(file, column, runs, [&](std::int64_t run, double x) {
    if (std::find(c.codes.begin(), c.codes.end(), x) == c.codes.end())
      damaged(column + "[" + std::to_string(run) + "] = " + shown(x) + ", not among its flag_values " + list_text(c.codes));
  });
}
}  // namespace

void check_outcome_values(hid_t file, const std::string& path, const VariantSummary& v) {
  g_path = &path;
  const std::string dir = "variants/" + v.name + "/outcomes/";
  const std::string survival = column_with_role(v, "survival"), failure_month = column_with_role(v, "failure_month");
  try {
    if (!survival.empty()) check_survival_values(file, dir + survival, v);
    if (!failure_month.empty()) check_failure_month_values(file, dir + failure_month, survival.empty() ? "" : dir + survival, v);
    for (const auto& c : v.columns)
      if (!c.codes.empty()) check_code_values(file, dir + c.name, c, v.runs);
  } catch (const OutputError& e) {
    throw InputError(path + ": expected a readable smbsim result file, found damage (" + e.what() + ")");
  }
}

namespace {
Summary read_summary(const std::string& path) {
  g_path = &path;
  const H5Id file = open_result_file(path);
  if (!has_attr(file, "format") || string_attr(file, "the file", "format") != kFormatName)
    throw InputError(path + ": expected an smbsim result file, found an HDF5 file without format=\"smbsim\"");
  const std::string version = string_attr(file, "the file", "format_version");
  const std::string ours = kFormatVersion;
  if (version.substr(0, version.find('.')) != ours.substr(0, ours.find('.')))
    throw InputError(path + ": expected result format version " + ours + ", found " + version);
  if (int_attr(file, "the file", "complete", 0, 1) != 1)
    throw InputError(path + ": expected a complete result file, found one marked incomplete");
  Summary s;
  s.path = path;
  s.scenario_name = string_attr(file, "the file", "scenario_name");
  s.smbsim_version = string_attr(file, "the file", "smbsim_version");
  s.git_commit = string_attr(file, "the file", "git_commit");
  s.started_utc = string_attr(file, "the file", "started_utc");
  s.finished_utc = string_attr(file, "the file", "finished_utc");
  s.seed = static_cast<std::uint64_t>(int_attr(file, "the file", "seed", 0, std::numeric_limits<std::int64_t>::max()));
  s.runs = int_attr(file, "the file", "runs", 0, std::numeric_limits<std::int64_t>::max());
  s.months = static_cast<int>(int_attr(file, "the file", "months", 1, kMaxResultMonths));
  if (!link_exists(file, "variants")) damaged("no variants group");
  H5Id variants = open_group(file, "variants");
  const std::string minor = version.substr(version.find('.') + 1);
  const bool legacy = version.find('.') == std::string::npos || std::atoi(minor.c_str()) < 6;
  const bool before_flags = version.find('.') == std::string::npos || std::atoi(minor.c_str()) < 8;
  for (const auto& name : child_names(variants)) {
    s.variants.push_back(summarize_variant(file, name, s.months, legacy));
    if (s.variants.back().runs != s.runs)
      damaged("variants/" + name + " attribute runs = " + std::to_string(s.variants.back().runs) + " where the file says " +
              std::to_string(s.runs));
  }
  if (s.variants.empty()) damaged("no variants");
  for (std::size_t i = 0; i < s.variants.size(); ++i)
    summarize_columns(file, s.variants[i], i == 0 ? nullptr : &s.variants[0], legacy, before_flags);
  return s;
}
}  // namespace

}  // namespace smbsim
