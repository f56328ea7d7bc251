#pragma once
// An output file that appears at its path only when complete: it is written under a
// hidden temporary name in the same directory and renamed on commit. Without `force`,
// an existing file at the path is never replaced (checked up front and again, atomically,
// at commit with link(2)). If the writer is destroyed before commit, the temporary goes.
//
// The temporary is `.NAME.PID.TOKEN.BOOT-PIDNS.tmp`: the writer's PID, 64 random bits,
// the kernel's boot id and the writer's PID namespace. It is created with O_EXCL, so no
// two writers ever share one, even with the same PID in two containers on one volume.
// While a TemporaryFileSignals is alive, a signal that ends the process removes it first.
// SIGKILL cannot be caught: the next AtomicOutput for the same target removes such a
// leftover only when it can prove its owner dead (same boot and PID namespace, and that
// PID no longer exists).
#include <filesystem>
#include <iterator>
#include <stdexcept>
#include <string>

#include <signal.h>

namespace smbsim {

class AtomicOutput {
 public:
  /// Throws OutputExists if the path exists and !force; OutputError if its directory does
  /// not exist or the temporary file cannot be created there.
  AtomicOutput(std::filesystem::path final_path, bool force);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  /// An empty file, created by this writer: open it for writing with truncation.
  const std::filesystem::path& temp_path() const { return temp_; }
  const std::filesystem::path& final_path() const { return final_; }
  /// Moves the finished temporary file to the final path.
  void commit();

 private:
  std::filesystem::path final_;
  std::filesystem::path temp_;
  int slot_ = -1;  // where the signal handler finds temp_
  bool force_;
  bool committed_ = false;
};

/// While alive: SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1 and SIGUSR2
/// remove every AtomicOutput's temporary file, then end the process by that signal (its
/// default disposition, so the exit status names it). SIGINT and SIGTERM are always
/// handled; the others only if the process did not start with them ignored (nohup
/// ignores SIGHUP: such a run goes on). Restores the previous dispositions when destroyed.
/// Create it before the AtomicOutput, so that no moment has a temporary file unguarded.
class TemporaryFileSignals {
 public:
  TemporaryFileSignals();
  ~TemporaryFileSignals();
  TemporaryFileSignals(const TemporaryFileSignals&) = delete;
  TemporaryFileSignals& operator=(const TemporaryFileSignals&) = delete;

  static constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2};

 private:
  struct sigaction previous_[std::size(kSignals)];
  bool installed_[std::size(kSignals)] = {};
};

/// Thrown when the output path exists and overwriting was not allowed.
class OutputExists : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace smbsim
