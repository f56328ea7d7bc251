#include "engine/result_file.hpp"

#include "engine/version.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <string_view>

namespace smbsim {

std::string utc_now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

ResultWriter::ResultWriter(const std::string& path, bool force, const Provenance& provenance)
    : path_(path), provenance_(provenance), output_(path, force) {
  silence_hdf5_errors();
  H5Id fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "make property list");
  // Track creation order so variants list in the order they were run.
  h5check(H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
          "set creation order");
  // The temporary file is ours: AtomicOutput created it, empty, with O_EXCL.
  file_ = H5Id(H5Fcreate(output_.open_path().c_str(), H5F_ACC_TRUNC, fcpl, H5P_DEFAULT), H5Fclose,
               "create " + output_.temp_path().string());
  write_attr(file_, "format", std::string(kFormatName));
  write_attr(file_, "format_version", std::string(kFormatVersion));
  write_attr(file_, "smbsim_version", std::string(kVersion));
  write_attr(file_, "git_commit", std::string(kGitCommit));
  write_attr(file_, "seed", static_cast<std::int64_t>(provenance.seed));
  write_attr(file_, "runs", provenance.runs);
  write_attr(file_, "months", static_cast<std::int64_t>(provenance.months));
  write_attr(file_, "ranks", static_cast<std::int64_t>(provenance.ranks));
  write_attr(file_, "threads", static_cast<std::int64_t>(provenance.threads));
  write_attr(file_, "started_utc", provenance.started_utc);
  write_attr(file_, "scenario_name", provenance.scenario_name);
  write_attr(file_, "scenario_given", provenance.scenario_given);
  write_attr(file_, "scenario_resolved", provenance.scenario_resolved);
  write_attr(file_, "complete", std::int64_t{0});
  create_group(file_, "variants");
}

ResultWriter::~ResultWriter() = default;

std::unique_ptr<VariantWriter> ResultWriter::add_variant(const std::string& name,
                                                         const ModelSchema& schema,
                                                         std::int64_t paths,
                                                         const std::string& overrides) {
  return std::make_unique<VariantWriter>(file_, name, schema, provenance_.runs,
                                         provenance_.months, paths, overrides);
}

void ResultWriter::commit() {
  write_attr(file_, "finished_utc", utc_now_iso8601());
  write_attr(file_, "complete", std::int64_t{1});
  h5check(H5Fflush(file_, H5F_SCOPE_GLOBAL), "flush the file");
  file_.reset();
  output_.commit();
}

namespace {
hid_t file_type(ColumnSpec::Type t) {
  switch (t) {
    case ColumnSpec::Type::i32: return H5T_STD_I32LE;
    case ColumnSpec::Type::u8: return H5T_STD_U8LE;
    case ColumnSpec::Type::f64: break;
  }
  return H5T_IEEE_F64LE;
}
}  // namespace

namespace {
constexpr hsize_t kOutcomeChunkRows = 16384;

/// Whether a floating column is worth compressing, judged from its values in the first
/// block of runs, given as their bits (so NaN equals NaN).
bool worth_compressing(std::vector<std::uint64_t> bits) {
  // Columns of full-precision random doubles shrink by only 10-35% under shuffle and
  // deflate (measured on the default scenario) for a fifth of a run's CPU time; columns
  // with few distinct values (constants, NaN for "never", whole months) shrink 5-200x.
  if (bits.empty()) return true;
  std::sort(bits.begin(), bits.end());
  const auto distinct = std::unique(bits.begin(), bits.end()) - bits.begin();
  return 4 * distinct <= static_cast<std::ptrdiff_t>(bits.size());
}
}  // namespace

namespace {
/// A 1-D column of `n` rows (one per run) in `group`, chunked, with its units and
/// description and the run dimension scale.
H5Id create_column(hid_t group, const std::string& name, hid_t type, hsize_t n, bool compress, const DatasetInfo& info,
                   hid_t run_scale) {
  H5Id space(H5Screate_simple(1, &n, nullptr), H5Sclose, "make dataspace");
  H5Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "make property list");
  if (n > 0) {
    const hsize_t chunk = std::min<hsize_t>(n, kOutcomeChunkRows);
    h5check(H5Pset_chunk(dcpl, 1, &chunk), "chunk " + name);
    if (compress) {
      h5check(H5Pset_shuffle(dcpl), "shuffle " + name);
      h5check(H5Pset_deflate(dcpl, 1), "compress " + name);
    }
  }
  // A cache of one chunk: a chunk is compressed and written as soon as the rows after
  // it arrive, by the stage that streams them while other threads simulate, instead
  // of all at once when the file closes after the simulation.
  H5Id dapl(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose, "make property list");
  const std::size_t chunk_bytes = static_cast<std::size_t>(std::min<hsize_t>(n, kOutcomeChunkRows)) * sizeof(double);  // the widest column type
  h5check(H5Pset_chunk_cache(dapl, 101, chunk_bytes, 1.0), "chunk cache " + name);
  H5Id d(H5Dcreate2(group, name.c_str(), type, space, H5P_DEFAULT, dcpl, dapl), H5Dclose, "create dataset " + name);
  write_attr(d, "units", info.units);
  write_attr(d, "description", info.description);
  attach_scale(d, run_scale, 0);
  return d;
}

/// The `run` dimension scale of a group of per-run columns (0 … n−1, written block by
/// block with append_run_ids). Each group has its own, so that it opens alone with
/// netCDF readers (xarray), which look dimensions up in the group and its parents only.
H5Id create_run_scale(hid_t group, hsize_t n) {
  H5Id scale = write_dataset(group, "run", std::vector<std::int64_t>{}, {n},
                             {"1", "Run index (0-based); the same index sees the same market and shocks in every variant."});
  make_scale(scale, "run");
  return scale;
}

/// The `month` dimension scale (1 … months) of a group of monthly series.
H5Id create_month_scale(hid_t group, int months) {
  std::vector<std::int64_t> ids(static_cast<std::size_t>(months));
  for (std::size_t t = 0; t < ids.size(); ++t) ids[t] = static_cast<std::int64_t>(t + 1);
  H5Id scale = write_dataset(group, "month", ids, {ids.size()},
                             {"month", "Months since the start; statistics are taken at the end of each month."});
  make_scale(scale, "month");
  return scale;
}

/// Rows [first, first + ids.size()) of a run scale: the run indices themselves.
void append_run_ids(hid_t scale, std::int64_t first, std::vector<std::int64_t>& ids) {
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = first + static_cast<std::int64_t>(i);
  const hsize_t offset = static_cast<hsize_t>(first), n = ids.size();
  H5Id space(H5Dget_space(scale), H5Sclose, "read dataspace");
  h5check(H5Sselect_hyperslab(space, H5S_SELECT_SET, &offset, nullptr, &n, nullptr), "select rows");
  H5Id mem(H5Screate_simple(1, &n, nullptr), H5Sclose, "make dataspace");
  h5check(H5Dwrite(scale, H5T_NATIVE_INT64, mem, space, H5P_DEFAULT, ids.data()), "write run indices");
}

/// A categorical column's codes and their meanings, as CF's flag_values and
/// flag_meanings (blank-separated words), which xarray keeps as attributes.
void write_categories(hid_t column, const ColumnSpec& c) {
  if (c.categories.empty()) return;
  if (c.type != ColumnSpec::Type::i32) throw std::logic_error("outcome column " + c.name + ": categories need an i32 column");
  std::vector<std::int32_t> codes;
  std::string meanings;
  for (const auto& k : c.categories) {
    if (k.meaning.empty() || k.meaning.find_first_of(" \t\n") != std::string::npos)
      throw std::logic_error("outcome column " + c.name + ": category \"" + k.meaning + "\" is not one word");
    codes.push_back(k.code);
    meanings += (meanings.empty() ? "" : " ") + k.meaning;
  }
  write_attr(column, "flag_values", codes);
  write_attr(column, "flag_meanings", meanings);
}

/// Rows [offset, offset + n) of a 1-D column, from doubles (HDF5 converts them to the
/// column's stored type).
void write_rows(hid_t column, hsize_t offset, hsize_t n, const double* data, const std::string& what) {
  H5Id space(H5Dget_space(column), H5Sclose, "read dataspace");
  h5check(H5Sselect_hyperslab(space, H5S_SELECT_SET, &offset, nullptr, &n, nullptr), "select rows");
  H5Id mem(H5Screate_simple(1, &n, nullptr), H5Sclose, "make dataspace");
  h5check(H5Dwrite(column, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, data), what);
}
}  // namespace

VariantWriter::VariantWriter(hid_t file, const std::string& name, const ModelSchema& schema,
                             std::int64_t runs, int months, std::int64_t paths,
                             const std::string& overrides)
    : schema_(schema), runs_(runs), months_(months) {
  group_ = create_group(file, "variants/" + name);
  write_attr(group_, "overrides", overrides);
  write_attr(group_, "runs", runs);
  outcomes_ = create_group(group_, "outcomes");
  const auto n = static_cast<hsize_t>(runs);
  run_scale_ = create_run_scale(outcomes_, n);
  if (!schema.inputs.empty()) {
    // Per-run values of the uncertain inputs (docs/output-format.md, "Inputs"): random
    // doubles, so stored uncompressed like the outcome columns that are.
    inputs_ = create_group(group_, "inputs");
    write_attr(inputs_, "sampling", std::string(kSamplingNames[static_cast<std::size_t>(schema.design.sampling)]));
    write_attr(inputs_, "design_runs", schema.design.runs);
    std::vector<std::string> pairs;
    for (const auto& c : schema.design.correlations) {
      char r[32];
      std::snprintf(r, sizeof r, "%.17g", c.rank);
      pairs.push_back(c.a + " " + c.b + " " + r);
    }
    if (!pairs.empty()) write_attr(inputs_, "correlations", pairs);  // HDF5 has no empty string array
    input_run_scale_ = create_run_scale(inputs_, n);
    for (const auto& in : schema.inputs) {
      input_sets_.push_back(create_column(inputs_, in.name, H5T_IEEE_F64LE, n, false, {in.units, in.description}, input_run_scale_));
      write_attr(input_sets_.back(), "distribution", in.distribution);
    }
  }
  if (paths > 0) {
    H5Id pg = create_group(group_, "paths");
    const hsize_t k = static_cast<hsize_t>(std::min(paths, runs));
    const hsize_t m = static_cast<hsize_t>(months);
    // Its own scales, written whole now (K and the months are small), so that it opens
    // alone with xarray.
    std::vector<std::int64_t> ids(k);
    H5Id run_scale = create_run_scale(pg, k);
    if (k > 0) append_run_ids(run_scale, 0, ids);
    H5Id month_scale = create_month_scale(pg, months);
    for (const auto& q : schema.quantities) {
      path_sets_.push_back(write_dataset(pg, q.name, std::vector<double>{}, {k, m},
                                         {q.units, "Monthly path of the first runs (NaN after failure): " + q.description}));
      attach_scale(path_sets_.back(), run_scale, 0);
      attach_scale(path_sets_.back(), month_scale, 1);
    }
  }
}

void VariantWriter::create_columns(std::span<const double> first_rows) {
  const std::size_t width = schema_.outcome_columns.size();
  const std::size_t count = first_rows.size() / std::max<std::size_t>(width, 1);
  const auto n = static_cast<hsize_t>(runs_);
  for (std::size_t k = 0; k < width; ++k) {
    const ColumnSpec& c = schema_.outcome_columns[k];
    // Integer columns always compress; floating ones when the first block of runs has
    // few distinct values (the choice depends only on the runs, never on threads).
    bool compress = true;
    if (c.type == ColumnSpec::Type::f64) {
      std::vector<std::uint64_t> bits(count);
      for (std::size_t i = 0; i < count; ++i) bits[i] = std::bit_cast<std::uint64_t>(first_rows[i * width + k]);
      compress = worth_compressing(std::move(bits));
    }
    columns_.push_back(create_column(outcomes_, c.name, file_type(c.type), n, compress, {c.units, c.description}, run_scale_));
    // Since format 1.6: what the column is for, so summaries need no model's names.
    if (!c.role.empty()) {
      if (std::find(std::begin(kColumnRoles), std::end(kColumnRoles), std::string_view(c.role)) == std::end(kColumnRoles))
        throw std::logic_error("outcome column " + c.name + ": role \"" + c.role + "\" is not one of kColumnRoles");
      write_attr(columns_.back(), "role", c.role);
    }
    if (!c.kpi.empty()) write_attr(columns_.back(), "kpi_label", c.kpi);
    write_categories(columns_.back(), c);  // since format 1.8
  }
  column_moments_.assign(width, Moments{});
}

void VariantWriter::append_outcomes(std::int64_t first_run, std::int64_t count,
                                    std::span<const double> rows) {
  silence_hdf5_errors();  // called on whichever worker thread runs the writer stage
  if (count <= 0) return;
  if (columns_.empty()) create_columns(rows.first(static_cast<std::size_t>(count) * schema_.outcome_columns.size()));
  const std::size_t width = schema_.outcome_columns.size();
  const hsize_t offset = static_cast<hsize_t>(first_run), n = static_cast<hsize_t>(count);
  // The run index column, written block by block like the others (memory stays flat).
  run_ids_.resize(static_cast<std::size_t>(count));
  append_run_ids(run_scale_, first_run, run_ids_);
  column_buffer_.resize(static_cast<std::size_t>(count));
  for (std::size_t c = 0; c < width; ++c) {
    for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i)
      column_buffer_[i] = rows[i * width + c];
    write_rows(columns_[c], offset, n, column_buffer_.data(), "write outcomes " + schema_.outcome_columns[c].name);
    // The column's mean over the runs where it is defined, in run order (blocks arrive
    // in order), so a summary need not read the column back.
    column_moments_[c].add_defined(column_buffer_);
  }
}

void VariantWriter::append_inputs(std::int64_t first_run, std::int64_t count, std::span<const double> rows) {
  const std::size_t width = schema_.inputs.size();
  if (count <= 0 || width == 0) return;
  const hsize_t offset = static_cast<hsize_t>(first_run), n = static_cast<hsize_t>(count);
  run_ids_.resize(static_cast<std::size_t>(count));
  append_run_ids(input_run_scale_, first_run, run_ids_);
  column_buffer_.resize(static_cast<std::size_t>(count));
  for (std::size_t c = 0; c < width; ++c) {
    for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i) column_buffer_[i] = rows[i * width + c];
    write_rows(input_sets_[c], offset, n, column_buffer_.data(), "write inputs " + schema_.inputs[c].name);
  }
}

void VariantWriter::append_path(std::int64_t run, std::span<const double> path) {
  silence_hdf5_errors();
  const std::size_t q = schema_.quantities.size();
  const hsize_t m = static_cast<hsize_t>(months_);
  std::vector<double> series(static_cast<std::size_t>(m));
  for (std::size_t k = 0; k < q; ++k) {
    for (std::size_t t = 0; t < m; ++t) series[t] = path[t * q + k];
    H5Id space(H5Dget_space(path_sets_[k]), H5Sclose, "read dataspace");
    const hsize_t start[2] = {static_cast<hsize_t>(run), 0}, count[2] = {1, m};
    h5check(H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr), "select path");
    H5Id mem(H5Screate_simple(1, &m, nullptr), H5Sclose, "make dataspace");
    h5check(H5Dwrite(path_sets_[k], H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, series.data()), "write path");
  }
}

void VariantWriter::write_monthly(const MonthlyStats& s) {
  silence_hdf5_errors();
  if (columns_.empty()) create_columns({});  // no runs: the (empty) columns still exist
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    write_attr(columns_[c], "defined_runs", column_moments_[c].count());
    write_attr(columns_[c], "mean", column_moments_[c].mean());
    write_attr(columns_[c], "sem", column_moments_[c].sem());
  }
  H5Id g = create_group(group_, "monthly");
  const hsize_t m = static_cast<hsize_t>(months_);
  const hsize_t nq = kQuantileLevels.size();
  const hsize_t nc = schema_.causes.size();

  H5Id month = create_month_scale(g, months_);
  H5Id quantile = write_dataset(g, "quantile", std::vector<double>(kQuantileLevels.begin(), kQuantileLevels.end()), {nq},
                                {"1", "Quantile levels of the *_quantiles datasets."});
  make_scale(quantile, "quantile");
  H5Id cause = write_string_dataset(g, "cause", schema_.causes, {"1", "Failure cause names, indexing the second axis of failures."});
  make_scale(cause, "cause");
  // Since format 1.6: which causes are an orderly end, so readers need no model's names.
  std::vector<std::int64_t> orderly(nc, 0);
  for (hsize_t c = 0; c < nc; ++c)
    orderly[c] = std::find(schema_.orderly_causes.begin(), schema_.orderly_causes.end(), schema_.causes[c]) !=
                 schema_.orderly_causes.end();
  H5Id cause_orderly = write_dataset(g, "cause_orderly", orderly, {nc},
                                     {"1", "1 if the cause is an orderly end (not an insolvency), 0 if not."});
  attach_scale(cause_orderly, cause, 0);

  auto put1 = [&](const std::string& name, auto&& data, const DatasetInfo& info) {
    H5Id d = write_dataset(g, name, data, {m}, info);
    attach_scale(d, month, 0);
  };
  auto put2 = [&](const std::string& name, auto&& data, hsize_t cols, hid_t scale, const DatasetInfo& info) {
    H5Id d = write_dataset(g, name, data, {m, cols}, info);
    attach_scale(d, month, 0);
    attach_scale(d, scale, 1);
  };

  std::vector<std::int64_t> alive(m), failures(m * nc);
  std::vector<double> surv(m), lo(m), hi(m);
  for (int t = 1; t <= months_; ++t) {
    const auto i = static_cast<std::size_t>(t - 1);
    alive[i] = s.alive(t);
    const Interval w = s.survival(t);
    surv[i] = w.estimate;
    lo[i] = w.lo;
    hi[i] = w.hi;
    for (std::size_t c = 0; c < nc; ++c) failures[i * nc + c] = s.failures(t, static_cast<int>(c));
  }
  put1("alive", alive, {"runs", "Runs alive at the end of the month."});
  put1("survival", surv, {"1", "Share of runs alive at the end of the month."});
  put1("survival_lo", lo, {"1", "Lower end of the 95% Wilson interval of survival."});
  put1("survival_hi", hi, {"1", "Upper end of the 95% Wilson interval of survival."});
  put2("failures", failures, nc, cause, {"runs", "Runs failing in the month, by cause."});

  for (std::size_t q = 0; q < schema_.quantities.size(); ++q) {
    const QuantitySpec& spec = schema_.quantities[q];
    std::vector<double> mean(m), sem(m), qv(m * nq), qlo(m * nq), qhi(m * nq);
    std::array<Interval, kQuantileLevels.size()> intervals;
    for (int t = 1; t <= months_; ++t) {
      const auto i = static_cast<std::size_t>(t - 1);
      mean[i] = s.moments(t, q).mean();
      sem[i] = s.moments(t, q).sem();
      s.quantiles(t, q, kQuantileLevels, intervals);
      for (std::size_t k = 0; k < nq; ++k) {
        const Interval& iv = intervals[k];
        qv[i * nq + k] = iv.estimate;
        qlo[i * nq + k] = iv.lo;
        qhi[i * nq + k] = iv.hi;
      }
    }
    const std::string& u = spec.units;
    put1(spec.name + "_mean", mean, {u, "Mean over live runs: " + spec.description});
    put1(spec.name + "_sem", sem, {u, "Standard error of " + spec.name + "_mean."});
    put2(spec.name + "_quantiles", qv, nq, quantile, {u, "Quantiles over live runs (histogram resolution): " + spec.description});
    put2(spec.name + "_quantiles_lo", qlo, nq, quantile, {u, "Lower end of the 95% distribution-free interval of each quantile."});
    put2(spec.name + "_quantiles_hi", qhi, nq, quantile, {u, "Upper end of the 95% distribution-free interval of each quantile."});
  }
}

}  // namespace smbsim
