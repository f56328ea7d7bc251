#pragma once
// The processes of a job started by an MPI launcher (mpirun, srun), or the single process
// of a plain start. A run's blocks are split into one contiguous range per rank; each rank
// simulates its range with its own threads; rank 0 merges every block's statistics and
// writes every block's outcome rows in global block order, so the result is the same bits
// for any number of ranks (docs/cluster.md). mpi.h is included by ranks_mpi.cpp only: the
// rest of the engine, and the models, know nothing of MPI.
#include "engine/moments.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace smbsim {

struct FinishedBlock;

/// Blocks [first, end) of `blocks` that `rank` of `ranks` simulates: contiguous ranges in
/// rank order whose sizes differ by at most one (the first blocks % ranks ranks take one
/// more; with fewer blocks than ranks, the last ranks get none).
inline std::pair<std::int64_t, std::int64_t> rank_blocks(std::int64_t blocks, int rank, int ranks) {
  const std::int64_t base = blocks / ranks, extra = blocks % ranks;
  const auto start = [&](std::int64_t r) { return r * base + std::min(r, extra); };
  return {start(rank), start(rank + 1)};
}

class Ranks {
 public:
  /// This process's view of the job. The first call initialises MPI when the process was
  /// started by an MPI launcher (Open MPI's, or PMI/PMIx variables set, as under srun);
  /// otherwise, and in a build without MPI, it is rank 0 of 1 and MPI is never touched.
  static Ranks& world();
  Ranks(const Ranks&) = delete;
  Ranks& operator=(const Ranks&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }
  bool distributed() const { return size_ > 1; }

  /// rank_blocks() for this job.
  std::pair<std::int64_t, std::int64_t> block_range(std::int64_t blocks, int rank) const {
    return rank_blocks(blocks, rank, size_);
  }

  struct Agreement {
    int worst = 0;  ///< the largest exit code of any rank (0: all went well)
    int root = 0;   ///< rank 0's
  };
  /// Collective, one per rank per job: every rank says how it stands (an exit code, 0
  /// for "ready") before the ranks start to depend on each other. Then the ranks either
  /// all go on or all stop (without a partial file and without a hang).
  Agreement agree(int code);
  bool agreed() const { return agreed_; }

  /// Collective: every rank's `part`, concatenated in rank order, on rank 0 (the other
  /// ranks get nothing back). The doubles travel as bits and nothing is added up, so parts
  /// computed over the contiguous ranges of rank_blocks() arrive in global order, exactly
  /// as one process holds them (for results that are not blocks of runs: the design points
  /// of a sensitivity analysis, the runs of a stress test). Call only after agree().
  std::vector<double> gather(std::span<const double> part) const;
  /// Collective: rank 0's `flag` on every rank (rank 0 decides, e.g. whether to go on).
  bool broadcast(bool flag) const;

  /// Ends the whole job now: prints "smbsim: rank R of K: MESSAGE" on stderr, then
  /// MPI_Abort, which stops every rank (rank 0's signal handler removes its temporary file).
  [[noreturn]] void abort(const std::string& message, int code) const;

  /// Ends MPI (if it was started) on a normal exit.
  void finalize();

 private:
  Ranks();
  int rank_ = 0;
  int size_ = 1;
  bool mpi_ = false;
  bool agreed_ = false;
};

/// A non-root rank's finished blocks, kept in block order until rank 0 is ready for them:
/// in a temporary file under $TMPDIR (or /tmp), unlinked at once so that it disappears
/// with the process however it ends. Each record is a header, the block's moments, its
/// outcome rows, its traced paths and its runs' inputs.
class BlockSpool {
 public:
  BlockSpool();
  ~BlockSpool();
  BlockSpool(const BlockSpool&) = delete;
  BlockSpool& operator=(const BlockSpool&) = delete;
  void add(const FinishedBlock& block);
  /// Waits (asleep, not spinning) until rank 0 asks for this rank's blocks, sends every
  /// record in order, an end marker, then `counts` (the integer parts of this rank's
  /// statistics, MonthlyStats::counts()).
  void send_to_root(std::span<const std::int64_t> counts);

 private:
  std::FILE* file_ = nullptr;
  std::string where_;
  std::vector<char> buffer_;
};

/// A block as rank 0 receives it from another rank.
struct ReceivedBlock {
  std::int64_t index, first, count;
  std::span<const Moments> moments;
  std::span<const double> outcomes;
  std::span<const double> paths;
  std::span<const double> inputs;
};
/// Rank 0: asks rank `from` for its blocks [first_block, end_block), calls `on_block` for
/// each in order, and returns the integer parts of that rank's statistics (to add, exactly,
/// with MonthlyStats::add_counts); throws if anything else arrives.
std::vector<std::int64_t> receive_blocks(int from, std::int64_t first_block, std::int64_t end_block,
                    const std::function<void(const ReceivedBlock&)>& on_block);

}  // namespace smbsim
