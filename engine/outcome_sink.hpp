#pragma once
// Where per-run results go. The runner calls these from one thread at a time, in run
// order, block by block, so a sink can stream them to disk without holding them all.
#include <cstdint>
#include <span>

namespace smbsim {

class OutcomeSink {
 public:
  virtual ~OutcomeSink() = default;
  /// Outcome rows of runs [first_run, first_run + count), row-major, one row per run.
  virtual void append_outcomes(std::int64_t first_run, std::int64_t count,
                               std::span<const double> rows) = 0;
  /// Monthly observations of one traced run (months x quantities, row-major); months
  /// after its failure are NaN.
  virtual void append_path(std::int64_t run, std::span<const double> path) = 0;
  /// Sampled inputs of runs [first_run, first_run + count), row-major, one row per run
  /// (the model's schema().inputs order). Models without uncertain inputs send none.
  virtual void append_inputs(std::int64_t /*first_run*/, std::int64_t /*count*/, std::span<const double> /*rows*/) {}
};

/// A sink that drops everything: for runs that want only the monthly statistics.
class NullSink final : public OutcomeSink {
 public:
  void append_outcomes(std::int64_t, std::int64_t, std::span<const double>) override {}
  void append_path(std::int64_t, std::span<const double>) override {}
};

}  // namespace smbsim
