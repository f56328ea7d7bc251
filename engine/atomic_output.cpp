#include "engine/atomic_output.hpp"

#include "engine/hdf5_handle.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace smbsim {

AtomicOutput::AtomicOutput(std::filesystem::path final_path, bool force)
    : final_(std::move(final_path)), force_(force) {
  std::error_code ec;
  if (!force_ && std::filesystem::exists(final_, ec))
    throw OutputExists(final_.string() + ": file exists (use --force to replace it)");
  auto dir = final_.parent_path();
  if (dir.empty()) dir = ".";
  if (!std::filesystem::is_directory(dir, ec))
    throw OutputError(final_.string() + ": directory " + dir.string() + " does not exist");
  temp_ = dir / ("." + final_.filename().string() + "." + std::to_string(getpid()) + ".tmp");
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) {
    std::error_code ec;
    std::filesystem::remove(temp_, ec);
  }
}

void AtomicOutput::commit() {
  if (force_) {
    if (std::rename(temp_.c_str(), final_.c_str()) != 0)
      throw OutputError(final_.string() + ": cannot rename the finished file into place: " +
                        std::strerror(errno));
  } else {
    // link(2) fails if the target exists: no file that appeared meanwhile is clobbered.
    if (::link(temp_.c_str(), final_.c_str()) != 0) {
      const int err = errno;
      if (err == EEXIST)
        throw OutputExists(final_.string() + ": file appeared while running (use --force to replace it)");
      throw OutputError(final_.string() + ": cannot move the finished file into place: " +
                        std::strerror(err));
    }
    ::unlink(temp_.c_str());
  }
  committed_ = true;
}

}  // namespace smbsim
