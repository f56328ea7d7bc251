#pragma once
// A command whose ranks depend on each other (sensitivity, stress: their work is split
// over the ranks and gathered on rank 0) starts only when every rank has come that far.
#include "engine/ranks.hpp"
#include "tools/smbsim/cli.hpp"

#include <exception>

namespace smbsim::cli {

/// Runs `work` on every rank of the job once all have agreed to start: a rank that failed
/// before (its message is printed there) stops them all with its exit code (PeerFailure);
/// a failure inside `work` ends the whole job (Ranks::abort), since the other ranks wait
/// on this one. One process: just `work()`.
template <class F>
decltype(auto) on_all_ranks(F&& work) {
  Ranks& ranks = Ranks::world();
  if (!ranks.distributed()) return work();
  if (const int worst = ranks.agree(kOk).worst; worst != kOk)
    throw PeerFailure(worst, "another rank of the job failed before the work started (its message is above)");
  try {
    return work();
  } catch (const std::exception& e) {
    ranks.abort(e.what(), exit_code_for(e) > 0 ? exit_code_for(e) : int{kRuntimeFailure});
  }
}

}  // namespace smbsim::cli
