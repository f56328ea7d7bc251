#include "engine/summary.hpp"

#include "engine/hdf5_handle.hpp"
#include "engine/result_file.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>

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
void summarize_quantities(hid_t file, const std::string& base, int months, VariantSummary& v) {
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
    const std::size_t nq = kQuantileLevels.size(), last = (static_cast<std::size_t>(months) - 1) * nq;
    // Files before issue 27 could store a bound beside its estimate (few runs alive).
    s.q05 = containing_estimate({qs[last + 0], lo[last + 0], hi[last + 0]});
    s.q50 = containing_estimate({qs[last + 2], lo[last + 2], hi[last + 2]});
    s.q95 = containing_estimate({qs[last + 4], lo[last + 4], hi[last + 4]});
    s.mean = read_doubles(mg, q + "_mean").back();
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
  const auto alive = read_ints(file, monthly + "alive");
  for (std::size_t i = 0; i < alive.size(); ++i)
    if (alive[i] < 0 || alive[i] > v.runs || (i > 0 && alive[i] > alive[i - 1]))
      damaged(monthly + "alive[" + std::to_string(i) + "] = " + std::to_string(alive[i]) +
              " (runs alive must lie in [0, runs] and never grow)");
  for (int m : {12, 24, 60, 120})
    if (m < months) v.survival.emplace_back(m, wilson_interval(alive[static_cast<std::size_t>(m - 1)], v.runs));
  v.survival.emplace_back(months, wilson_interval(alive.back(), v.runs));
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

  summarize_quantities(file, base, months, v);
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
/// difference of failure causes is no quantity), and not where the column is constant
/// in both arms (a fixed input or setting: the difference is the override, already in
/// `overrides`, not an estimate). A column that varies but is equal run by run (a
/// shared input) keeps its difference of 0: it shows the pairing held.
bool worth_comparing(const ColumnSummary& c, const ColumnMoments& m) {
  return !c.categorical && m.diffs.count() > 1 && !(m.values.variance() == 0 && m.baseline.variance() == 0);
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
  // A role this build does not know (from a later minor version) matches nothing.
  if (has_attr(d, "role")) cs.role = string_attr(d, path, "role");
  if (has_attr(d, "kpi_label")) cs.kpi_label = string_attr(d, path, "kpi_label");
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

namespace {
/// Waits for the child; kills it and throws OutputError once `limit` seconds have passed.
int wait_with_limit(pid_t child, const std::string& path, double limit) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(limit);
  auto pause = std::chrono::milliseconds(1);
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) return status;
    if (done < 0 && errno != EINTR) return 0;  // not ours to wait for any more: read it here
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(child, SIGKILL);
      while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
      }
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%g", limit);
      throw OutputError(path + ": expected to read the result file within " + seconds +
                        " s (--time-limit), found the read still going; stopped it");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(2 * pause, std::chrono::milliseconds(50));
  }
}
}  // namespace

Summary summarize_untrusted_file(const std::string& path, double time_limit_seconds) {
  // libhdf5 trusts some of a file's internals (global heap offsets, link tables): a bit
  // flip there can crash it (15 of 400 bit-flipped files did) before any check of ours
  // can run. So a child process reads the file first; only if it ends normally (having
  // read it, or having found a problem the read below will report) does this process
  // read it. Before any HDF5 call here, so the child starts with the library unused.
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a reader whose parent is gone stops too
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, STDERR_FILENO);  // a crash report (ASan's) is not ours to print
    try {
      summarize_file(path);
    } catch (...) {
    }
    ::_exit(0);
  }
  if (child > 0) {
    // A damaged file can also make libhdf5 loop: the child's read is given a time limit.
    const int status = wait_with_limit(child, path, time_limit_seconds);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw InputError(path + ": expected a readable smbsim result file, found damage that crashes the HDF5 library (" +
                       (WIFSIGNALED(status) ? std::string(strsignal(WTERMSIG(status))) : "exit " + std::to_string(WEXITSTATUS(status))) +
                       " while reading it)");
  }
  return summarize_file(path);  // fork failed: read it here, unguarded
}

namespace {
Summary read_summary(const std::string& path) {
  silence_hdf5_errors();
  g_path = &path;
  // A regular file we can read: a FIFO would block the open for ever, a directory or a
  // device is not a result file, and "not HDF5" must not hide "permission denied".
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) throw InputError(path + ": no such file");
    throw InputError(path + ": cannot read the result file (" + std::strerror(errno) + ")");
  }
  if (!S_ISREG(st.st_mode))
    throw InputError(path + ": expected a result file, found " + (S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a pipe" : "a special file"));
  if (const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC); fd < 0) {
    throw InputError(path + ": cannot read the result file (" + std::strerror(errno) + ")");
  } else {
    ::close(fd);
  }
  if (H5Fis_hdf5(path.c_str()) <= 0) throw InputError(path + ": expected an smbsim HDF5 result file, found a file that is not HDF5");
  H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "open " + path);
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
