#include "engine/summary.hpp"

#include "engine/hdf5_handle.hpp"
#include "engine/result_file.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace smbsim {

namespace {
constexpr double kZ95 = 1.959963984540054;

/// The month by which a share `p` of `total` failures had happened, from monthly counts.
int month_at_share(const std::vector<std::int64_t>& per_month, std::int64_t total, double p) {
  std::int64_t seen = 0;
  for (std::size_t m = 0; m < per_month.size(); ++m) {
    seen += per_month[m];
    if (static_cast<double>(seen) >= p * static_cast<double>(total)) return static_cast<int>(m + 1);
  }
  return static_cast<int>(per_month.size());
}

VariantSummary summarize_variant(hid_t file, const std::string& name, int months) {
  VariantSummary v;
  v.name = name;
  const std::string base = "variants/" + name;
  H5Id group = open_group(file, base);
  v.runs = read_attr_int(group, "runs");
  v.overrides = read_attr_string(group, "overrides");
  const std::string monthly = base + "/monthly/";

  const auto alive = read_ints(file, monthly + "alive");
  for (int m : {12, 24, 60, 120})
    if (m < months) v.survival.emplace_back(m, wilson_interval(alive[static_cast<std::size_t>(m - 1)], v.runs));
  v.survival.emplace_back(months, wilson_interval(alive.back(), v.runs));
  for (auto a : alive) v.survival_curve.push_back(static_cast<double>(a) / static_cast<double>(std::max<std::int64_t>(v.runs, 1)));

  // Failures by cause and month.
  const auto causes = read_strings(file, monthly + "cause");
  const auto failures = read_ints(file, monthly + "failures");
  const std::size_t nc = causes.size();
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
    v.causes.push_back({causes[c], total, {}, month_at_share(by_month, total, 0.25),
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

  // Monthly quantities at the horizon: every *_quantiles dataset.
  H5Id mg = open_group(file, base + "/monthly");
  for (const auto& child : child_names(mg)) {
    const std::string suffix = "_quantiles";
    if (child.size() <= suffix.size() || child.compare(child.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::string q = child.substr(0, child.size() - suffix.size());
    H5Id d(H5Dopen2(mg, child.c_str(), H5P_DEFAULT), H5Dclose, "open " + child);
    QuantitySummary s;
    s.name = q;
    s.units = read_attr_string(d, "units");
    const auto qs = read_doubles(mg, child), lo = read_doubles(mg, q + "_quantiles_lo"),
               hi = read_doubles(mg, q + "_quantiles_hi");
    const std::size_t nq = kQuantileLevels.size(), last = (static_cast<std::size_t>(months) - 1) * nq;
    s.q05 = {qs[last + 0], lo[last + 0], hi[last + 0]};
    s.q50 = {qs[last + 2], lo[last + 2], hi[last + 2]};
    s.q95 = {qs[last + 4], lo[last + 4], hi[last + 4]};
    s.mean = read_doubles(mg, q + "_mean").back();
    s.sem = read_doubles(mg, q + "_sem").back();
    v.at_end.push_back(s);
  }
  return v;
}

/// Moments of a column over its defined values (NaN means "none"), and of its paired
/// differences against the baseline's column when `baseline_column` is given, read in
/// chunks.
void column_moments(hid_t file, const std::string& column, const std::string* baseline_column, std::int64_t runs,
                    Moments& values, Moments& diffs) {
  constexpr hsize_t kChunk = 1 << 16;
  for (hsize_t start = 0; start < static_cast<hsize_t>(runs); start += kChunk) {
    auto x = read_doubles(file, column, start, kChunk);
    std::vector<double> b;
    if (baseline_column) b = read_doubles(file, *baseline_column, start, kChunk);
    // The paired differences (NaN where either run has none) replace b, in run order.
    for (std::size_t i = 0; i < b.size() && i < x.size(); ++i) b[i] = x[i] - b[i];
    b.resize(std::min(b.size(), x.size()));
    diffs.add_defined(b);
    values.add_defined(x);
  }
}

/// Per-run column means (stored with each column since format 1.1; computed from the
/// column for older files), and paired differences against the baseline.
void summarize_columns(hid_t file, VariantSummary& v, const VariantSummary* baseline) {
  const std::string dir = "variants/" + v.name + "/outcomes";
  H5Id og = open_group(file, dir);
  for (const auto& col : child_names(og)) {
    if (col == "run") continue;
    H5Id d(H5Dopen2(og, col.c_str(), H5P_DEFAULT), H5Dclose, "open " + col);
    ColumnSummary cs{col, read_attr_string(d, "units")};
    const std::string path = dir + "/" + col, baseline_path = baseline ? "variants/" + baseline->name + "/outcomes/" + col : "";
    const bool paired = baseline && link_exists(file, baseline_path);
    const bool stored = has_attr(d, "mean");
    Moments values, diff;
    if (!stored || paired) column_moments(file, path, paired ? &baseline_path : nullptr, v.runs, values, diff);
    if (stored) {
      cs.count = read_attr_int(d, "defined_runs");
      cs.mean = read_attr_double(d, "mean");
      cs.sem = read_attr_double(d, "sem");
    } else {
      cs.count = values.count();
      cs.mean = values.mean();
      cs.sem = values.sem();
    }
    v.columns.push_back(cs);
    if (paired && diff.count() > 1) {
      const double half = kZ95 * diff.sem();
      v.deltas.push_back({col, cs.units, diff.mean(), diff.mean() - half, diff.mean() + half, diff.count()});
    }
  }
}
}  // namespace

namespace {
Summary read_summary(const std::string& path);
}

Summary summarize_file(const std::string& path) {
  try {
    return read_summary(path);
  } catch (const OutputError& e) {
    throw InputError(path + ": expected a readable smbsim result file, found damage (" + e.what() + ")");
  }
}

namespace {
Summary read_summary(const std::string& path) {
  silence_hdf5_errors();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError(path + ": no such file");
  if (H5Fis_hdf5(path.c_str()) <= 0) throw InputError(path + ": expected an smbsim HDF5 result file, found a file that is not HDF5");
  H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "open " + path);
  if (!has_attr(file, "format") || read_attr_string(file, "format") != kFormatName)
    throw InputError(path + ": expected an smbsim result file, found an HDF5 file without format=\"smbsim\"");
  const std::string version = read_attr_string(file, "format_version");
  const std::string ours = kFormatVersion;
  if (version.substr(0, version.find('.')) != ours.substr(0, ours.find('.')))
    throw InputError(path + ": expected result format version " + ours + ", found " + version);
  if (read_attr_int(file, "complete") != 1)
    throw InputError(path + ": expected a complete result file, found one marked incomplete");
  Summary s;
  s.path = path;
  s.scenario_name = read_attr_string(file, "scenario_name");
  s.smbsim_version = read_attr_string(file, "smbsim_version");
  s.git_commit = read_attr_string(file, "git_commit");
  s.started_utc = read_attr_string(file, "started_utc");
  s.finished_utc = read_attr_string(file, "finished_utc");
  s.seed = static_cast<std::uint64_t>(read_attr_int(file, "seed"));
  s.runs = read_attr_int(file, "runs");
  s.months = static_cast<int>(read_attr_int(file, "months"));
  H5Id variants = open_group(file, "variants");
  for (const auto& name : child_names(variants)) s.variants.push_back(summarize_variant(file, name, s.months));
  for (std::size_t i = 0; i < s.variants.size(); ++i)
    summarize_columns(file, s.variants[i], i == 0 ? nullptr : &s.variants[0]);
  return s;
}
}  // namespace

}  // namespace smbsim
