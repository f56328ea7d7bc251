#pragma once
// simulate() across the ranks of an MPI job: rank r simulates the r-th contiguous range
// of blocks with its own threads. Rank 0 merges its blocks as they finish, then each other
// rank's in rank order (so in global block order), and writes their outcome rows to the
// sink in the same order: the moments, the compression choices and the column means see
// exactly the sequence of blocks a single process sees. The integer parts (counts,
// histograms) are summed exactly, in any order. Other ranks keep their finished blocks in
// a spool until rank 0 asks for them, then send them and their integer parts, and go on
// to the next variant while rank 0 is still merging.
#include "engine/ranks.hpp"
#include "engine/runner.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace smbsim {

namespace detail {
/// With SMBSIM_RANK_TIMING set, each rank says on stderr where its time went (docs/cluster.md).
class RankTiming {
 public:
  RankTiming() : on_(std::getenv("SMBSIM_RANK_TIMING") != nullptr) {}
  /// Wall seconds since the last lap.
  double lap() {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return s;
  }
  /// CPU seconds of the calling thread since the last call (what a busy machine does not
  /// inflate, unlike wall time).
  double cpu_lap() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    const double now = static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
    const double s = now - last_cpu_;
    last_cpu_ = now;
    return s;
  }
  template <class... Args>
  void say(const char* format, Args... args) const {
    if (!on_) return;
    std::fprintf(stderr, format, args...);
    std::fflush(stderr);
  }

 private:
  bool on_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  double last_cpu_ = 0;
};
}  // namespace detail

/// As simulate(); on a job of several ranks every rank must call it with the same
/// arguments, and the statistics returned (and the sink's rows) are complete on rank 0
/// only. Other ranks write nothing to their sink.
template <class M>
  requires SimulationModel<M> || LaneModel<M>
MonthlyStats simulate_on_ranks(const Ranks& ranks, const typename M::Params& params, const RunConfig& cfg,
                               OutcomeSink& sink) {
  if (!ranks.distributed()) return simulate<M>(params, cfg, sink);
  const ModelSchema schema = M::schema(params);
  MonthlyStats total(cfg.months, schema.quantities, static_cast<int>(schema.causes.size()));
  const std::size_t path_len = static_cast<std::size_t>(cfg.months) * schema.quantities.size();
  const std::int64_t blocks = block_count(cfg);
  const auto [first, end] = ranks.block_range(blocks, ranks.rank());
  detail::RankTiming timing;
  const int r0 = ranks.rank(), k = ranks.size();
  if (ranks.root()) {
    simulate_blocks<M>(params, schema, cfg, first, end, [&](const FinishedBlock& b) {
      total.merge(b.stats);
      deliver(sink, b);
      if (cfg.progress) cfg.progress->advance(b.count);
    });
    const double own = timing.lap();
    timing.cpu_lap();
    double bytes = 0;
    for (int r = 1; r < ranks.size(); ++r) {
      const auto [rfirst, rend] = ranks.block_range(blocks, r);
      const std::vector<std::int64_t> counts = receive_blocks(r, rfirst, rend, [&](const ReceivedBlock& b) {
        total.merge_moments(b.moments);
        deliver(sink, b.first, b.count, b.outcomes, b.paths, path_len, b.inputs);
        if (cfg.progress) cfg.progress->advance(b.count);
        bytes += static_cast<double>(b.moments.size_bytes() + b.outcomes.size_bytes() + b.paths.size_bytes() +
                                       b.inputs.size_bytes());
      });
      if (counts.size() != total.counts_size())
        throw std::runtime_error("rank " + std::to_string(r) + " sent " + std::to_string(counts.size()) +
                                 " counts, expected " + std::to_string(total.counts_size()));
      total.add_counts(counts);  // integers: exact in any order
    }
    const double merge = timing.lap(), merge_cpu = timing.cpu_lap();
    timing.say("smbsim: rank %d of %d: blocks %lld-%lld simulated and written in %.3f s; the other ranks' %lld blocks "
               "(%.3f MB) received, merged and written in %.3f s (%.3f s CPU)\n",
               r0, k, static_cast<long long>(first), static_cast<long long>(end - 1), own,
               static_cast<long long>(blocks - end), bytes / 1e6, merge, merge_cpu);
  } else {
    BlockSpool spool;
    simulate_blocks<M>(params, schema, cfg, first, end, [&](const FinishedBlock& b) {
      total.merge_counts(b.stats);
      spool.add(b);
    });
    const double own = timing.lap();
    spool.send_to_root(total.counts());
    timing.say("smbsim: rank %d of %d: blocks %lld-%lld simulated and spooled in %.3f s; sent (after waiting for "
               "rank 0) in %.3f s\n", r0, k, static_cast<long long>(first), static_cast<long long>(end - 1), own,
               timing.lap());
  }
  return total;
}

}  // namespace smbsim
