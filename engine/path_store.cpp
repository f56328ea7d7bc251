#include "engine/path_store.hpp"

#include "engine/output_error.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace smbsim {

PathStore::PathStore(std::int64_t first_run, std::size_t path_len) : first_run_(first_run), path_len_(path_len) {
  const char* tmp = std::getenv("TMPDIR");
  where_ = tmp && *tmp ? tmp : "/tmp";
  std::string name = where_ + "/smbsim-paths-XXXXXX";
  fd_ = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd_ < 0)
    throw OutputError("cannot create a temporary file for the traced paths in " + where_ + " ($TMPDIR): " +
                      std::strerror(errno));
  ::unlink(name.c_str());  // gone with the process, however it ends
}

PathStore::~PathStore() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {
/// pwrite or pread of all `size` bytes at `at`, through short transfers and EINTR;
/// the errno of a failure, ENOSPC for a write that stops short, ENODATA for a short read.
template <class Transfer, class Byte>
int transfer_all(Transfer transfer, int fd, Byte* p, std::size_t size, off_t at, int short_error) {
  while (size > 0) {
    const ssize_t n = transfer(fd, p, size, at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return short_error;
    p += n, at += n, size -= static_cast<std::size_t>(n);
  }
  return 0;
}
}  // namespace

void PathStore::write(std::int64_t run, std::int64_t count, const double* paths) const {
  const std::size_t bytes = static_cast<std::size_t>(count) * path_len_ * sizeof(double);
  if (const int e = transfer_all(::pwrite, fd_, reinterpret_cast<const char*>(paths), bytes, offset(run), ENOSPC))
    throw OutputError("cannot write the traced paths to a temporary file in " + where_ + " ($TMPDIR): " +
                      std::strerror(e));
}

void PathStore::read(std::int64_t run, std::int64_t count, double* out) const {
  const std::size_t bytes = static_cast<std::size_t>(count) * path_len_ * sizeof(double);
  if (const int e = transfer_all(::pread, fd_, reinterpret_cast<char*>(out), bytes, offset(run), ENODATA))
    throw OutputError("cannot read the traced paths back from a temporary file in " + where_ + ": " + std::strerror(e));
}

off_t PathStore::offset(std::int64_t run) const {
  return static_cast<off_t>(run - first_run_) * static_cast<off_t>(path_len_ * sizeof(double));
}

}  // namespace smbsim
