#pragma once
// The Monte Carlo loop: runs independent histories of a model in parallel and streams
// their results. Runs are cut into fixed blocks (their boundaries depend only on the
// run count); oneTBB simulates blocks in parallel, and a serial in-order stage merges
// each block's statistics and hands its outcome rows to the sink in block order. So
// the result is the same bits with 1 or 64 threads, and memory is bounded by the
// number of blocks in flight, not by the number of runs. Traced paths go through a
// PathStore (a temporary file) a tile at a time, so memory does not grow with them
// either.
#include "engine/model_schema.hpp"
#include "engine/monthly_stats.hpp"
#include "engine/outcome_sink.hpp"
#include "engine/path_store.hpp"
#include "engine/progress.hpp"
#include "engine/random_stream.hpp"

#include <tbb/global_control.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace smbsim {

struct RunConfig {
  std::uint64_t seed = 1;
  std::int64_t runs = 1000;
  int months = 120;
  int threads = 0;                ///< 0: all cores
  std::int64_t first_run = 0;     ///< run indices [first_run, first_run + runs)
  std::int64_t paths = 0;         ///< keep full monthly paths of the first `paths` runs
  std::int64_t block_size = 4096; ///< runs per block (at most kMaxBlockRuns); part of the result's definition
  Progress* progress = nullptr;
};

namespace detail {
/// A run's drawn inputs must be numbers: a NaN input runs a history that never fails,
/// so it would count as a survivor and drop out of every KPI (issue 27). The scenario
/// reader refuses the distributions that could draw one; this is the last guard, and an
/// internal error (exit 1) if it ever trips.
inline void require_finite_inputs(std::span<const double> row, const std::vector<InputSpec>& specs, std::int64_t run) {
  for (std::size_t j = 0; j < row.size(); ++j)
    if (!std::isfinite(row[j]))
      throw std::runtime_error("run " + std::to_string(run) + ": the input " + specs[j].name + ", drawn from " +
                               specs[j].distribution + ", is " + (std::isnan(row[j]) ? "NaN" : row[j] > 0 ? "+inf" : "-inf") +
                               ", not a finite number (a distribution the scenario reader should have refused)");
}

template <class M>
struct Block {
  Block(const typename M::Params& params, const ModelSchema& schema, int months)
      : model(params),
        stats(months, schema.quantities, static_cast<int>(schema.causes.size())),
        observation(schema.quantities.size()),
        outcome_width(schema.outcome_columns.size()),
        input_width(schema.inputs.size()),
        input_specs(&schema.inputs) {
    if constexpr (LaneModel<M>) {
      static_assert(M::kLanes <= kMaxTileLanes);
      lane_rows.assign(observation.size() * M::kLanes, 0.0);
    }
  }
  M model;
  BlockStats stats;
  std::vector<double> observation;
  std::size_t outcome_width;
  std::vector<double> outcomes;  // runs x outcome_width
  std::span<double> outcome_row(std::int64_t i) {
    return {&outcomes[static_cast<std::size_t>(i) * outcome_width], outcome_width};
  }
  std::size_t input_width;
  const std::vector<InputSpec>* input_specs;  // their names and distributions, for errors
  std::vector<double> inputs;  // runs x input_width: each run's sampled inputs
  std::span<double> input_row(std::int64_t i) {
    return {&inputs[static_cast<std::size_t>(i) * input_width], input_width};
  }
  std::int64_t traced = 0;       // its first `traced` runs have their paths stored
  const PathStore* store = nullptr;
  std::vector<double> paths;     // the paths of one tile's (or one run's) traced runs, on their way to `store`
  std::vector<double> lane_rows;  // lane models: this month's observations, quantities x kLanes
  std::int64_t first = 0;
  std::int64_t count = 0;
};

/// A run-at-a-time model: each run from start to failure or the horizon in turn.
template <SimulationModel M>
void simulate_block(Block<M>& b, const RunConfig& cfg, std::int64_t traced) {
  const std::size_t q = b.observation.size();
  for (std::int64_t i = 0; i < b.count; ++i) {
    const RunRandom random(cfg.seed, static_cast<std::uint64_t>(b.first + i));
    M& model = b.model;
    model.start(random);
    if constexpr (ReportsInputs<M>)
      if (b.input_width > 0) {
        model.inputs(b.input_row(i));
        require_finite_inputs(b.input_row(i), *b.input_specs, b.first + i);
      }
    double* path = nullptr;
    if (i < traced) {
      std::fill(b.paths.begin(), b.paths.end(), NAN);
      path = b.paths.data();
    }
    for (int month = 1; month <= cfg.months; ++month) {
      model.step(month, random);
      if (model.failed()) {
        b.stats.record_failure(month, model.cause());
        break;
      }
      model.observe(std::span<double>(b.observation));
      b.stats.record_alive(month, b.observation);
      if (path) std::copy(b.observation.begin(), b.observation.end(), path + (month - 1) * q);
    }
    model.outcome(b.outcome_row(i));
    if (path) b.store->write(b.first + i, 1, path);
  }
}

/// A lane model: tiles of M::kLanes runs step together. Each month, the runs that
/// failed are recorded and dropped (compaction moves only the lanes that fill the gaps),
/// then the statistics of the live lanes are recorded a tile at a time. The lane order
/// depends only on the tile's runs, so the sums do not depend on threads (they may
/// differ from the run-at-a-time order in the last bits).
template <LaneModel M>
void simulate_block(Block<M>& b, const RunConfig& cfg, std::int64_t traced) {
  const std::size_t q = b.observation.size();
  const auto months = static_cast<std::size_t>(cfg.months);
  M& model = b.model;
  for (std::int64_t tile = 0; tile < b.count; tile += M::kLanes) {
    const int count = static_cast<int>(std::min<std::int64_t>(M::kLanes, b.count - tile));
    const std::int64_t tile_traced = std::clamp<std::int64_t>(traced - tile, 0, count);
    std::fill_n(b.paths.begin(), static_cast<std::size_t>(tile_traced) * months * q, NAN);
    model.start(cfg.seed, static_cast<std::uint64_t>(b.first + tile), count);
    if constexpr (ReportsLaneInputs<M>)
      for (int lane = 0; lane < count && b.input_width > 0; ++lane) {
        model.inputs(lane, b.input_row(tile + lane));
        require_finite_inputs(b.input_row(tile + lane), *b.input_specs, b.first + tile + lane);
      }
    for (int month = 1; month <= cfg.months && model.lanes() > 0; ++month) {
      b.stats.prefetch(month);  // the histograms load while the model steps
      model.step(month);
      bool failed = false;
      for (int lane = 0; lane < model.lanes(); ++lane) {
        if (model.failure_month(lane) != month) continue;
        b.stats.record_failure(month, model.cause(lane));
        model.outcome(lane, b.outcome_row(static_cast<std::int64_t>(model.run(lane)) - b.first));
        failed = true;
      }
      if (failed) model.compact();
      const int lanes = model.lanes();
      model.observe_lanes(std::span<double>(b.lane_rows));
      b.stats.record_alive_lanes(month, b.lane_rows.data(), M::kLanes, lanes);
      for (int lane = 0; lane < lanes && tile_traced > 0; ++lane) {
        const std::int64_t i = static_cast<std::int64_t>(model.run(lane)) - b.first - tile;
        if (i >= tile_traced) continue;
        double* path = &b.paths[(static_cast<std::size_t>(i) * months + static_cast<std::size_t>(month - 1)) * q];
        for (std::size_t k = 0; k < q; ++k) path[k] = b.lane_rows[k * M::kLanes + static_cast<std::size_t>(lane)];
      }
    }
    for (int lane = 0; lane < model.lanes(); ++lane)
      model.outcome(lane, b.outcome_row(static_cast<std::int64_t>(model.run(lane)) - b.first));
    if (tile_traced > 0) b.store->write(b.first + tile, tile_traced, b.paths.data());
  }
}

template <class M>
void simulate_block(Block<M>& b, const RunConfig& cfg) {
  b.stats.clear();
  b.stats.add_runs(b.count);
  const std::size_t q = b.observation.size();
  const auto months = static_cast<std::size_t>(cfg.months);
  b.traced = std::clamp<std::int64_t>(cfg.first_run + cfg.paths - b.first, 0, b.count);
  b.outcomes.resize(static_cast<std::size_t>(b.count) * b.outcome_width);
  b.inputs.resize(static_cast<std::size_t>(b.count) * b.input_width);
  // Room for one tile's traced paths (one run's for a run-at-a-time model); none, and
  // the memory given back, once past the traced runs.
  std::int64_t held = 1;
  if constexpr (LaneModel<M>) held = M::kLanes;
  b.paths.resize(b.traced > 0 ? static_cast<std::size_t>(std::min(held, b.traced)) * months * q : 0);
  if (b.traced == 0) b.paths.shrink_to_fit();
  simulate_block(b, cfg, b.traced);
}
}  // namespace detail

/// Blocks of a run: their boundaries depend only on the run count and the block size.
inline std::int64_t block_runs(const RunConfig& cfg) {
  return std::clamp<std::int64_t>(cfg.block_size, 1, kMaxBlockRuns);
}
inline std::int64_t block_count(const RunConfig& cfg) {
  return (cfg.runs + block_runs(cfg) - 1) / block_runs(cfg);
}

/// A finished block's traced paths: its first `traced` runs', in the store.
struct BlockPaths {
  const PathStore* store = nullptr;
  std::int64_t first = 0, traced = 0;
  std::size_t path_len = 0;  ///< months x quantities
  /// Hands them to `visit(first_run, count, paths)` a few runs at a time, in run order.
  template <class Visit>
  void each_chunk(Visit&& visit) const {
    constexpr std::int64_t kChunk = 64;
    std::vector<double> buffer(static_cast<std::size_t>(std::min(kChunk, traced)) * path_len);
    for (std::int64_t i = 0; i < traced; i += kChunk) {
      const std::int64_t n = std::min(kChunk, traced - i);
      store->read(first + i, n, buffer.data());
      visit(first + i, n, std::span<const double>(buffer.data(), static_cast<std::size_t>(n) * path_len));
    }
  }
};

/// A simulated block, as handed on in block order.
struct FinishedBlock {
  std::int64_t index;                ///< 0-based, among the run's blocks
  std::int64_t first, count;         ///< its runs
  const BlockStats& stats;
  std::span<const double> outcomes;  ///< count x outcome columns
  BlockPaths paths;                  ///< its traced runs' paths
  std::span<const double> inputs;    ///< count x the model's inputs (empty: none)
};

/// Simulates blocks [first_block, end_block) of `cfg`'s runs in parallel and calls
/// `on_block(const FinishedBlock&)` for each, one at a time, in block order.
template <class M, class OnBlock>
  requires SimulationModel<M> || LaneModel<M>
void simulate_blocks(const typename M::Params& params, const ModelSchema& schema, const RunConfig& cfg,
                     std::int64_t first_block, std::int64_t end_block, OnBlock&& on_block) {
  const std::int64_t block_size = block_runs(cfg);
  // Allow exactly the requested threads, even more than there are cores (TBB's default
  // cap), so that "--threads 16" means 16 on any machine.
  std::optional<tbb::global_control> allow;
  if (cfg.threads > 0) allow.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(cfg.threads));
  tbb::task_arena arena(cfg.threads > 0 ? cfg.threads : tbb::task_arena::automatic);
  const std::size_t tokens = static_cast<std::size_t>(2 * arena.max_concurrency() + 1);
  // A block in stage 1 and the block `tokens` before it are never in flight together,
  // so block k can reuse slot k % tokens.
  std::vector<std::optional<detail::Block<M>>> slots(tokens);
  // The traced runs' paths, if any of them are in these blocks.
  const std::size_t path_len = static_cast<std::size_t>(cfg.months) * schema.quantities.size();
  std::optional<PathStore> store;
  if (cfg.paths > 0 && first_block * block_size < cfg.paths && first_block < end_block)
    store.emplace(cfg.first_run, path_len);
  std::int64_t next = first_block;
  arena.execute([&] {
    tbb::parallel_pipeline(
        tokens,
        tbb::make_filter<void, detail::Block<M>*>(
            tbb::filter_mode::serial_in_order,
            [&](tbb::flow_control& fc) -> detail::Block<M>* {
              if (next >= end_block) {
                fc.stop();
                return nullptr;
              }
              auto& slot = slots[static_cast<std::size_t>(next) % tokens];
              if (!slot) slot.emplace(params, schema, cfg.months);
              slot->first = cfg.first_run + next * block_size;
              slot->store = store ? &*store : nullptr;
              slot->count = std::min(block_size, cfg.runs - next * block_size);
              ++next;
              return &*slot;
            }) &
            tbb::make_filter<detail::Block<M>*, detail::Block<M>*>(
                tbb::filter_mode::parallel,
                [&](detail::Block<M>* b) {
                  detail::simulate_block(*b, cfg);
                  return b;
                }) &
            tbb::make_filter<detail::Block<M>*, void>(
                tbb::filter_mode::serial_in_order, [&](detail::Block<M>* b) {
                  on_block(FinishedBlock{(b->first - cfg.first_run) / block_size, b->first, b->count, b->stats,
                                         b->outcomes, BlockPaths{b->store, b->first, b->traced, path_len},
                                         b->inputs});
                }));
  });
}

/// Hands a block's outcome rows, traced paths (each `path_len` long) and inputs to `sink`
/// (a block received from another rank: its paths are in memory).
inline void deliver(OutcomeSink& sink, std::int64_t first, std::int64_t count, std::span<const double> outcomes,
                    std::span<const double> paths, std::size_t path_len, std::span<const double> inputs = {}) {
  sink.append_outcomes(first, count, outcomes);
  if (!inputs.empty()) sink.append_inputs(first, count, inputs);
  for (std::size_t i = 0; path_len > 0 && i * path_len < paths.size(); ++i)
    sink.append_path(first + static_cast<std::int64_t>(i), paths.subspan(i * path_len, path_len));
}

/// The same for a block simulated here: its paths come back from the PathStore.
inline void deliver(OutcomeSink& sink, const FinishedBlock& b) {
  sink.append_outcomes(b.first, b.count, b.outcomes);
  if (!b.inputs.empty()) sink.append_inputs(b.first, b.count, b.inputs);
  b.paths.each_chunk([&](std::int64_t first, std::int64_t n, std::span<const double> paths) {
    for (std::int64_t i = 0; i < n; ++i)
      sink.append_path(first + i, paths.subspan(static_cast<std::size_t>(i) * b.paths.path_len, b.paths.path_len));
  });
}

/// Runs `cfg.runs` histories of model M and returns the merged monthly statistics;
/// outcome rows (and traced paths) go to `sink` in run order.
template <class M>
  requires SimulationModel<M> || LaneModel<M>
MonthlyStats simulate(const typename M::Params& params, const RunConfig& cfg, OutcomeSink& sink) {
  const ModelSchema schema = M::schema(params);
  MonthlyStats total(cfg.months, schema.quantities, static_cast<int>(schema.causes.size()));
  simulate_blocks<M>(params, schema, cfg, 0, block_count(cfg), [&](const FinishedBlock& b) {
    total.merge(b.stats);
    deliver(sink, b);
    if (cfg.progress) cfg.progress->advance(b.count);
  });
  return total;
}

}  // namespace smbsim
