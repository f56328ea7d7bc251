#pragma once
// The smbsim result file (layout in docs/output-format.md): provenance attributes at
// the root, and per variant an `outcomes` group (one chunked column per per-run
// quantity, compressed where that pays, streamed as blocks arrive) and a `monthly` group (aggregates indexed
// by month, with HDF5 dimension scales).
#include "engine/atomic_output.hpp"
#include "engine/hdf5_handle.hpp"
#include "engine/model_schema.hpp"
#include "engine/moments.hpp"
#include "engine/monthly_stats.hpp"
#include "engine/outcome_sink.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace smbsim {

inline constexpr const char* kFormatName = "smbsim";
/// Major.minor: readers refuse another major version.
inline constexpr const char* kFormatVersion = "1.8";
inline constexpr std::array<double, 5> kQuantileLevels{0.05, 0.25, 0.5, 0.75, 0.95};

struct Provenance {
  std::uint64_t seed = 0;
  std::int64_t runs = 0;
  int months = 0;
  int threads = 0;  ///< per rank
  std::string started_utc;
  std::string scenario_name;
  std::string scenario_given;
  std::string scenario_resolved;
  int ranks = 1;  ///< processes of the MPI job (1 without mpirun)
};

class VariantWriter final : public OutcomeSink {
 public:
  VariantWriter(hid_t file, const std::string& name, const ModelSchema& schema,
                std::int64_t runs, int months, std::int64_t paths, const std::string& overrides);
  void append_outcomes(std::int64_t first_run, std::int64_t count,
                       std::span<const double> rows) override;
  void append_path(std::int64_t run, std::span<const double> path) override;
  void append_inputs(std::int64_t first_run, std::int64_t count, std::span<const double> rows) override;
  /// Writes the monthly aggregates, and each outcome column's mean over the runs
  /// where it is defined; call once, after the runs.
  void write_monthly(const MonthlyStats& stats);

 private:
  /// Creates the outcome columns, choosing each one's compression from the first
  /// block's rows (runs x columns; empty when there are no runs).
  void create_columns(std::span<const double> first_rows);

  ModelSchema schema_;
  std::int64_t runs_;
  int months_;
  H5Id group_;
  H5Id outcomes_;
  H5Id run_scale_;
  std::vector<H5Id> columns_;
  H5Id inputs_;
  H5Id input_run_scale_;  // inputs/run: the group's own copy of the run index
  std::vector<H5Id> input_sets_;
  std::vector<H5Id> path_sets_;
  std::vector<double> column_buffer_;
  std::vector<std::int64_t> run_ids_;  // one block's run indices
  std::vector<Moments> column_moments_;  // per column, over runs where it is not NaN
};

class ResultWriter {
 public:
  /// Opens a temporary file beside `path`; nothing appears at `path` before commit().
  ResultWriter(const std::string& path, bool force, const Provenance& provenance);
  ~ResultWriter();
  std::unique_ptr<VariantWriter> add_variant(const std::string& name, const ModelSchema& schema,
                                             std::int64_t paths, const std::string& overrides);
  /// Marks the file complete, closes it and moves it to its final path.
  void commit();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  Provenance provenance_;
  AtomicOutput output_;
  H5Id file_;
};

/// Current UTC time, ISO-8601 with seconds ("2026-11-23T04:00:00Z").
std::string utc_now_iso8601();

}  // namespace smbsim
