// Ranks in a build without MPI (cmake -DSMBSIM_MPI=OFF): always one process.
#include "engine/ranks.hpp"

#include <cstdlib>

namespace smbsim {

Ranks& Ranks::world() {
  static Ranks ranks;
  return ranks;
}

Ranks::Ranks() = default;

Ranks::Agreement Ranks::agree(int code) {
  agreed_ = true;
  return {code, code};
}

std::vector<double> Ranks::gather(std::span<const double> part) const { return {part.begin(), part.end()}; }
bool Ranks::broadcast(bool flag) const { return flag; }

void Ranks::abort(const std::string& message, int code) const {
  std::fprintf(stderr, "smbsim: %s\n", message.c_str());
  std::_Exit(code);
}

void Ranks::finalize() {}

// Never reached: with one process there is nothing to spool or receive.
BlockSpool::BlockSpool() { throw std::logic_error("BlockSpool: built without MPI"); }
BlockSpool::~BlockSpool() = default;
void BlockSpool::add(const FinishedBlock&) {}
void BlockSpool::send_to_root(std::span<const std::int64_t>) {}
std::vector<std::int64_t> receive_blocks(int, std::int64_t, std::int64_t,
                                         const std::function<void(const ReceivedBlock&)>&) {
  throw std::logic_error("receive_blocks: built without MPI");
}

}  // namespace smbsim
