#pragma once
// The monthly paths of traced runs (--paths K), kept in a temporary file instead of
// memory: the thread that simulates a tile writes its runs' paths at their own offsets,
// and the in-order writer reads each block's back a few at a time. So memory does not
// grow with K (it held every traced path of the blocks in flight: about 35 MB a block
// of 4096 runs x 120 months x 9 quantities, times 2 x threads + 1 blocks).
#include <cstddef>
#include <cstdint>
#include <string>

#include <sys/types.h>

namespace smbsim {

class PathStore {
 public:
  /// Paths of `path_len` doubles for runs from `first_run` on, in an unlinked file under
  /// $TMPDIR (or /tmp) that disappears with the process however it ends. OutputError if
  /// it cannot be made.
  PathStore(std::int64_t first_run, std::size_t path_len);
  ~PathStore();
  PathStore(const PathStore&) = delete;
  PathStore& operator=(const PathStore&) = delete;

  std::size_t path_len() const { return path_len_; }
  /// Stores the paths of runs [run, run + count), contiguous in `paths`. Safe from many
  /// threads at once for different runs. OutputError on a write error (a full disk).
  void write(std::int64_t run, std::int64_t count, const double* paths) const;
  /// Reads back the paths of runs [run, run + count) into `out`.
  void read(std::int64_t run, std::int64_t count, double* out) const;

 private:
  off_t offset(std::int64_t run) const;
  int fd_ = -1;
  std::string where_;
  std::int64_t first_run_;
  std::size_t path_len_;
};

}  // namespace smbsim
