#pragma once
// Running a model at many points of a design (each point its own parameters), the same
// runs at every point (or at every point of a row): run r draws from the streams of
// (seed, r), so the points are paired on common random numbers. Only the per-run
// outcome rows are kept (no monthly statistics): a point's rows go to a callback as soon
// as its runs are done. Points run in parallel, each on one thread; what a point returns
// depends only on its parameters, the seed and its run indices, never on threads.
#include "engine/model_schema.hpp"
#include "engine/progress.hpp"
#include "engine/random_stream.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

namespace smbsim {

/// Runs [first_run, first_run + runs) of a run-at-a-time model to failure or the
/// horizon; their outcome rows (schema order) go to `rows`, run after run.
template <SimulationModel M>
void run_outcomes(const typename M::Params& params, std::uint64_t seed, std::int64_t first_run,
                  std::int64_t runs, int months, std::vector<double>& rows) {
  const std::size_t width = M::schema(params).outcome_columns.size();
  rows.assign(static_cast<std::size_t>(runs) * width, 0.0);
  M model(params);
  for (std::int64_t i = 0; i < runs; ++i) {
    const RunRandom random(seed, static_cast<std::uint64_t>(first_run + i));
    model.start(random);
    for (int month = 1; month <= months; ++month) {
      model.step(month, random);
      if (model.failed()) break;
    }
    model.outcome(std::span<double>(&rows[static_cast<std::size_t>(i) * width], width));
  }
}

/// The same for a lane model, a tile of M::kLanes runs at a time (as the runner does:
/// a run's outcome does not depend on which runs share its tile).
template <LaneModel M>
void run_outcomes(const typename M::Params& params, std::uint64_t seed, std::int64_t first_run,
                  std::int64_t runs, int months, std::vector<double>& rows) {
  const std::size_t width = M::schema(params).outcome_columns.size();
  rows.assign(static_cast<std::size_t>(runs) * width, 0.0);
  M model(params);
  auto row = [&](int lane) {
    const auto i = static_cast<std::size_t>(static_cast<std::int64_t>(model.run(lane)) - first_run);
    return std::span<double>(&rows[i * width], width);
  };
  for (std::int64_t tile = 0; tile < runs; tile += M::kLanes) {
    const int count = static_cast<int>(std::min<std::int64_t>(M::kLanes, runs - tile));
    model.start(seed, static_cast<std::uint64_t>(first_run + tile), count);
    for (int month = 1; month <= months && model.lanes() > 0; ++month) {
      model.step(month);
      bool failed = false;
      for (int lane = 0; lane < model.lanes(); ++lane) {
        if (model.failure_month(lane) != month) continue;
        model.outcome(lane, row(lane));
        failed = true;
      }
      if (failed) model.compact();
    }
    for (int lane = 0; lane < model.lanes(); ++lane) model.outcome(lane, row(lane));
  }
}

struct DesignRunConfig {
  std::uint64_t seed = 1;
  std::int64_t runs = 100;  ///< runs per point: run indices [0, runs) at every point...
  /// ...or, if positive, points come in rows of this many and row j runs [j runs, (j + 1)
  /// runs): common random numbers within a row, other runs for every row.
  std::int64_t row_points = 0;
  int months = 120;
  int threads = 0;          ///< 0: all cores
  Progress* progress = nullptr;  ///< advanced by `runs` per finished point
};

/// Runs points [first, first + count): params_of(k) gives point k's parameters (by
/// value); reduce(k, rows, width) receives its outcome rows (runs x width) on the worker
/// that ran it, so it must only touch what belongs to point k.
template <class M, class ParamsOf, class Reduce>
  requires SimulationModel<M> || LaneModel<M>
void run_design(std::int64_t first, std::int64_t count, const DesignRunConfig& cfg, ParamsOf&& params_of,
                Reduce&& reduce) {
  std::optional<tbb::global_control> allow;
  if (cfg.threads > 0) allow.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(cfg.threads));
  tbb::task_arena arena(cfg.threads > 0 ? cfg.threads : tbb::task_arena::automatic);
  tbb::enumerable_thread_specific<std::vector<double>> buffers;
  std::mutex progress_mutex;
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(first, first + count, 1), [&](const auto& range) {
      std::vector<double>& rows = buffers.local();
      for (std::int64_t k = range.begin(); k < range.end(); ++k) {
        const typename M::Params params = params_of(k);
        const std::int64_t first_run = cfg.row_points > 0 ? k / cfg.row_points * cfg.runs : 0;
        run_outcomes<M>(params, cfg.seed, first_run, cfg.runs, cfg.months, rows);
        const std::size_t width = rows.size() / static_cast<std::size_t>(std::max<std::int64_t>(cfg.runs, 1));
        reduce(k, std::span<const double>(rows), width);
        if (cfg.progress) {
          const std::lock_guard lock(progress_mutex);
          cfg.progress->advance(cfg.runs);
        }
      }
    });
  });
}

}  // namespace smbsim
