#pragma once
// An output file that appears at its path only when complete: it is written under a
// hidden temporary name in the same directory and renamed on commit. Without `force`,
// an existing file at the path is never replaced (checked up front and again, atomically,
// at commit with link(2)). If the writer is destroyed before commit, the temporary goes.
//
// The directory is held open from the start and the temporary is created, removed and
// moved relative to it (openat, unlinkat, renameat), so it is found and removed wherever
// the directory is moved meanwhile. The finished file goes to the path as it resolves at
// commit: a directory moved away during the run means no file and an error, never a file
// in a place nobody asked for.
//
// The temporary is `.STEM.PID.TOKEN.BOOT-PIDNS.tmp`: STEM is the target's name, or its
// first 168 bytes when longer (so that any legal name, up to NAME_MAX = 255 bytes, has a
// legal temporary), then the writer's PID, 64 random bits, the kernel's boot id and the
// writer's PID namespace. It is created with O_EXCL, so no two writers ever share one,
// even with the same PID in two containers on one volume. While a TemporaryFileSignals is
// alive, a signal that ends the process removes it first. SIGKILL cannot be caught: the
// next AtomicOutput for a target of the same STEM removes such a leftover only when it can
// prove its owner dead (same boot and PID namespace, and that PID no longer exists).
#include <filesystem>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>

#include <signal.h>

namespace smbsim {

/// Checks what is at `path` and its directory before any work is done: OutputExists (exit
/// 2) for a directory there (or a link to one), or, without `force`, anything at all,
/// a dangling symbolic link included; OutputError (exit 1) if the directory does not
/// exist, is not a directory or is not writable, or if `force` cannot replace what is
/// there (another user's, in a sticky directory such as /tmp). With `force` a symbolic
/// link at the path is replaced by the file, and what it points to is left alone.
void check_output_target(const std::filesystem::path& path, bool force);

/// A file descriptor, closed when destroyed.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() { reset(); }
  FileDescriptor(FileDescriptor&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  void reset();

 private:
  int fd_ = -1;
};

class AtomicOutput {
 public:
  /// Runs check_output_target, then creates the temporary file; OutputError if it cannot.
  AtomicOutput(std::filesystem::path final_path, bool force);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  /// The temporary file, created empty by this writer, as its directory's path named it
  /// at the start (for messages).
  const std::filesystem::path& temp_path() const { return temp_; }
  /// The path by which to open the temporary file for writing, with truncation: its
  /// /proc/self/fd link (the very file, wherever its directory moves) where /proc shows
  /// it, else temp_path().
  const std::filesystem::path& open_path() const { return open_path_; }
  const std::filesystem::path& final_path() const { return final_; }
  /// Moves the finished (and closed) temporary file to the final path.
  void commit();

 private:
  std::filesystem::path final_;
  FileDescriptor dir_;        // the directory, wherever it moves
  FileDescriptor temp_file_;  // the temporary, kept open for open_path()
  std::string temp_name_;     // within dir_
  std::filesystem::path temp_;
  std::filesystem::path open_path_;
  int slot_ = -1;  // where the signal handler finds dir_ and temp_name_
  bool force_;
  bool committed_ = false;
};

/// While alive: SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1 and SIGUSR2
/// remove every AtomicOutput's temporary file, then end the process by that signal (its
/// default disposition, so the exit status names it). SIGINT and SIGTERM are always
/// handled; the others only if the process did not start with them ignored (nohup
/// ignores SIGHUP: such a run goes on). Restores the previous dispositions when destroyed.
/// Create it before the AtomicOutput, so that no moment has a temporary file unguarded.
/// (SIGXFSZ is not here: smbsim ignores it, so that a file size limit fails a write with
/// EFBIG, reported and cleaned up like a full disk.)
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

/// Thrown when something is at the output path that is not to be replaced: a file (a
/// symbolic link, dangling or not) without force, or a directory.
class OutputExists : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace smbsim
