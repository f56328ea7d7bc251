#include "engine/atomic_output.hpp"

#include "engine/hdf5_handle.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string_view>
#include <system_error>

namespace smbsim {

namespace fs = std::filesystem;

void FileDescriptor::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

namespace {

// The temporary files a signal handler removes, in storage fixed before any signal: each
// slot names its directory (an open descriptor, valid until the slot is freed) and the
// name within it. A slot is claimed and filled before its file is created and freed only
// after the file is gone, so each temporary file that exists is in a slot at every moment.
// The handler takes no locks: a slot's word (state, and the thread that is filling it or
// creating its file) is a lock-free atomic.
enum : std::uint64_t { kFree, kFilling, kCreating, kArmed };
struct Slot {
  std::atomic<std::uint64_t> word{kFree};  // state | thread id << 8
  int dir_fd = -1;
  char name[NAME_MAX + 1];
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the signal handler reads slots");
constexpr int kSlots = 16;
Slot g_slots[kSlots];

std::uint64_t slot_word(std::uint64_t state) {
  return state | static_cast<std::uint64_t>(::gettid()) << 8;
}

/// Claims a slot for `name` in the directory `dir_fd`, in state kCreating: call just
/// before creating the file. `name` is at most NAME_MAX bytes.
int arm(int dir_fd, const std::string& name, const fs::path& final_path) {
  for (int i = 0; i < kSlots; ++i) {
    std::uint64_t expected = kFree;
    if (g_slots[i].word.compare_exchange_strong(expected, slot_word(kFilling))) {
      g_slots[i].dir_fd = dir_fd;
      std::memcpy(g_slots[i].name, name.c_str(), name.size() + 1);
      g_slots[i].word.store(slot_word(kCreating));
      return i;
    }
  }
  throw OutputError(final_path.string() + ": more than " + std::to_string(kSlots) + " output files open at once");
}

void set_state(int slot, std::uint64_t state) {
  if (slot >= 0) g_slots[slot].word.store(state == kFree ? kFree : slot_word(state));
}

// Async-signal-safe: atomics, gettid(2), sched_yield(2), unlinkat(2), sigaction(2),
// pthread_sigmask(3), raise(3), _exit(2).
extern "C" void remove_temporaries_then_die(int sig) {
  const auto self = static_cast<std::uint64_t>(::gettid());
  for (Slot& s : g_slots) {
    // Another thread between claiming a slot and creating its file: let it finish (a
    // million yields at most), so that the file it creates is removed too.
    std::uint64_t word = s.word.load();
    for (int spin = 0; spin < 1000000 && (word & 0xff) != kFree && (word & 0xff) != kArmed && word >> 8 != self; ++spin) {
      ::sched_yield();
      word = s.word.load();
    }
    if ((word & 0xff) == kCreating || (word & 0xff) == kArmed) ::unlinkat(s.dir_fd, s.name, 0);
  }
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  ::sigaction(sig, &default_action, nullptr);
  sigset_t just_this;
  sigemptyset(&just_this);
  sigaddset(&just_this, sig);
  ::pthread_sigmask(SIG_UNBLOCK, &just_this, nullptr);
  ::raise(sig);        // the default action ends the process; the exit status names sig
  ::_exit(128 + sig);  // not reached
}

// "BOOT-PIDNS": the kernel's boot id (32 hex digits) and this process's PID namespace,
// the scope in which the PID in a temporary name means something; empty if unknown.
const std::string& pid_scope() {
  static const std::string scope = [] {
    std::string boot;
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    for (char c; in.get(c);)
      if (std::isxdigit(static_cast<unsigned char>(c)))
        boot += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    char link[64];
    const ssize_t n = ::readlink("/proc/self/ns/pid", link, sizeof link);  // "pid:[4026531836]"
    std::string ns;
    for (ssize_t i = 0; i < n; ++i)
      if (std::isdigit(static_cast<unsigned char>(link[i]))) ns += link[i];
    return boot.size() == 32 && !ns.empty() ? boot + "-" + ns : std::string();
  }();
  return scope;
}

std::string random_token() {
  try {
    std::random_device rd;
    const std::uint64_t bits = (std::uint64_t{rd()} << 32) ^ rd();
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(bits));
    return hex;
  } catch (const std::exception& e) {
    throw OutputError(std::string("cannot draw a random temporary name: ") + e.what());
  }
}

bool is_pid(std::string_view s, pid_t& pid) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), pid);
  return ec == std::errc() && end == s.data() + s.size() && pid > 0;
}

bool is_token(std::string_view s) {
  return s.size() == 16 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// The most a temporary name adds to its stem: "." before it and ".PID.TOKEN.BOOT-PIDNS.tmp"
// after it, with the longest PID (10 digits) and PID namespace (20) there can be.
constexpr std::size_t kLongestDecoration = 1 + (1 + 10) + (1 + 16) + (1 + 32 + 1 + 20) + 4;
constexpr std::size_t kLongestStem = NAME_MAX - kLongestDecoration;  // 168 bytes
static_assert(kLongestStem == 168, "docs/reliability.md and the tests name this length");

/// What of the target's name its temporary's name keeps: all of it up to kLongestStem
/// bytes, else that many (fewer, to end between UTF-8 characters). A fixed rule, not this
/// process's PID length, so that every writer of a target agrees on its stem.
std::string temp_stem(const std::string& name) {
  if (name.size() <= kLongestStem) return name;
  std::size_t cut = kLongestStem;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xc0) == 0x80) --cut;  // a continuation byte
  return name.substr(0, cut);
}

// Removes the temporaries of `stem` in the directory `dir_fd` left by writers that
// provably died (killed with SIGKILL, or the machine stopped): written in this boot and
// PID namespace by a PID that no longer exists. Anything it cannot judge so (another
// machine, boot or container, a live PID, this process) is left alone.
void remove_dead_writers_temporaries(int dir_fd, const std::string& stem) {
  const std::string& scope = pid_scope();
  if (scope.empty()) return;
  const std::string prefix = "." + stem + ".";
  const std::string suffix = "." + scope + ".tmp";
  // A descriptor of its own to list with: closedir closes it, and dir_fd's offset is untouched.
  const int list_fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* listing = list_fd >= 0 ? ::fdopendir(list_fd) : nullptr;
  if (!listing) {
    if (list_fd >= 0) ::close(list_fd);
    return;
  }
  while (const dirent* e = ::readdir(listing)) {
    const std::string_view entry = e->d_name;
    if (entry.size() <= prefix.size() + suffix.size() || !entry.starts_with(prefix) || !entry.ends_with(suffix))
      continue;
    const std::string_view pid_token = entry.substr(prefix.size(), entry.size() - prefix.size() - suffix.size());
    const auto dot = pid_token.find('.');
    pid_t pid = 0;
    if (dot == std::string_view::npos || !is_pid(pid_token.substr(0, dot), pid) ||
        !is_token(pid_token.substr(dot + 1)) || pid == ::getpid())
      continue;
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to ask): keep
    struct stat st {};
    if (::fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
      ::unlinkat(dir_fd, e->d_name, 0);
  }
  ::closedir(listing);
}

fs::path directory_of(const fs::path& path) {
  const fs::path dir = path.parent_path();
  return dir.empty() ? fs::path(".") : dir;
}

std::string reason(int err) { return std::string(" (") + std::strerror(err) + ")"; }

/// OutputError naming the directory the temporary file cannot be created in, and why.
[[noreturn]] void throw_cannot_create_temporary(const fs::path& path, const fs::path& dir, int err) {
  throw OutputError(path.string() + ": cannot create a temporary file in " + dir.string() + " to write it" + reason(err));
}

/// The directory's status, once it is known to be a writable directory.
struct stat check_output_directory(const fs::path& path, const fs::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) throw OutputError(path.string() + ": directory " + dir.string() + " does not exist");
    throw OutputError(path.string() + ": cannot reach directory " + dir.string() + reason(err));
  }
  if (!S_ISDIR(st.st_mode)) throw OutputError(path.string() + ": " + dir.string() + " is not a directory");
  if (::faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) != 0) throw_cannot_create_temporary(path, dir, errno);
  return st;
}

/// In a directory with the sticky bit (/tmp), only the owner of an entry, of the directory,
/// or root may replace the entry: rename(2) would fail with EPERM, at the end of the run.
bool may_replace(const struct stat& dir, const struct stat& entry) {
  const uid_t me = ::geteuid();
  return !(dir.st_mode & S_ISVTX) || me == 0 || me == entry.st_uid || me == dir.st_uid;
}

std::string link_target(const fs::path& link) {
  std::error_code ec;
  const fs::path target = fs::read_symlink(link, ec);
  return ec ? std::string("a missing file") : target.string();
}

/// A path that opens the very file `fd` is open on, wherever its directory moves: its
/// /proc/self/fd link where /proc shows it (the same device and inode), else `fallback`.
fs::path reopenable_path(int fd, const fs::path& fallback) {
  const std::string proc = "/proc/self/fd/" + std::to_string(fd);
  struct stat by_fd {}, by_proc {};
  if (::fstat(fd, &by_fd) == 0 && ::stat(proc.c_str(), &by_proc) == 0 && by_fd.st_dev == by_proc.st_dev &&
      by_fd.st_ino == by_proc.st_ino)
    return proc;
  return fallback;
}

}  // namespace

void check_output_target(const fs::path& path, bool force) {
  const struct stat dir = check_output_directory(path, directory_of(path));
  struct stat entry {};
  if (::lstat(path.c_str(), &entry) != 0) {
    const int err = errno;
    if (err == ENOENT) return;  // nothing there: the usual case
    throw OutputError(path.string() + ": cannot use this path" + reason(err));
  }
  struct stat target {};
  const bool reaches = ::stat(path.c_str(), &target) == 0;
  const bool loops = !reaches && errno == ELOOP;
  if (S_ISDIR(entry.st_mode) || (S_ISLNK(entry.st_mode) && reaches && S_ISDIR(target.st_mode)))
    throw OutputExists(path.string() + ": expected a file to write, found a directory");
  if (force && !may_replace(dir, entry))
    throw OutputError(path.string() + ": cannot replace it: it belongs to another user, in a directory with the sticky bit" +
                      reason(EPERM));
  if (force) return;
  if (S_ISLNK(entry.st_mode) && loops)
    throw OutputExists(path.string() + ": expected a file to write, found a symbolic link in a loop of links, which reaches no file (" +
                       std::strerror(ELOOP) + "; use --force to replace the link)");
  if (S_ISLNK(entry.st_mode) && !reaches)
    throw OutputExists(path.string() + ": file exists: a symbolic link to " + link_target(path) +
                       ", which does not exist (use --force to replace the link)");
  throw OutputExists(path.string() + ": file exists (use --force to replace it)");
}

AtomicOutput::AtomicOutput(fs::path final_path, bool force)
    : final_(std::move(final_path)), force_(force) {
  check_output_target(final_, force_);
  const fs::path dir = directory_of(final_);
  dir_ = FileDescriptor(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_.get() < 0) throw_cannot_create_temporary(final_, dir, errno);
  const std::string stem = temp_stem(final_.filename().string());
  remove_dead_writers_temporaries(dir_.get(), stem);
  const std::string scope = pid_scope().empty() ? "unknown" : pid_scope();
  for (int attempt = 1;; ++attempt) {
    temp_name_ = "." + stem + "." + std::to_string(::getpid()) + "." + random_token() + "." + scope + ".tmp";
    // In a slot before the file exists: a signal from here on removes it. (Should the name
    // already exist, which takes the same 64 random bits, a signal in the next lines
    // would remove that file: a chance of 2^-64 against a window for every run.)
    slot_ = arm(dir_.get(), temp_name_, final_);
    temp_file_ = FileDescriptor(::openat(dir_.get(), temp_name_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
    const int err = errno;
    if (temp_file_.get() >= 0) {
      set_state(slot_, kArmed);
      temp_ = dir / temp_name_;
      open_path_ = reopenable_path(temp_file_.get(), temp_);
      return;
    }
    set_state(std::exchange(slot_, -1), kFree);
    if (err != EEXIST || attempt == 4) throw_cannot_create_temporary(final_, dir, err);
  }
}

AtomicOutput::~AtomicOutput() {
  if (!committed_ && slot_ >= 0) ::unlinkat(dir_.get(), temp_name_.c_str(), 0);
  set_state(slot_, kFree);  // only once the file is gone; dir_ closes after
}

void AtomicOutput::commit() {
  temp_file_.reset();
  // Into the final path as it resolves now: if the directory was moved away, this fails
  // (and the destructor removes the temporary from wherever the directory went).
  const char* from = temp_name_.c_str();
  if (force_) {
    if (::renameat(dir_.get(), from, AT_FDCWD, final_.c_str()) != 0)
      throw OutputError(final_.string() + ": cannot rename the finished file into place: " + std::strerror(errno));
  } else {
    // link(2) fails if the target exists: no file that appeared meanwhile is clobbered.
    if (::linkat(dir_.get(), from, AT_FDCWD, final_.c_str(), 0) != 0) {
      const int err = errno;
      if (err == EEXIST)
        throw OutputExists(final_.string() + ": file appeared while running (use --force to replace it)");
      throw OutputError(final_.string() + ": cannot move the finished file into place: " + std::strerror(err));
    }
    ::unlinkat(dir_.get(), from, 0);
  }
  committed_ = true;
  set_state(std::exchange(slot_, -1), kFree);
}

TemporaryFileSignals::TemporaryFileSignals() {
  struct sigaction action {};
  action.sa_handler = remove_temporaries_then_die;
  sigemptyset(&action.sa_mask);
  for (int sig : kSignals) sigaddset(&action.sa_mask, sig);  // no handler interrupts another
  for (std::size_t i = 0; i < std::size(kSignals); ++i) {
    const int sig = kSignals[i];
    if (::sigaction(sig, nullptr, &previous_[i]) != 0) continue;
    const bool ignored = !(previous_[i].sa_flags & SA_SIGINFO) && previous_[i].sa_handler == SIG_IGN;
    if (ignored && sig != SIGINT && sig != SIGTERM) continue;  // e.g. SIGHUP under nohup
    installed_[i] = ::sigaction(sig, &action, nullptr) == 0;
  }
}

TemporaryFileSignals::~TemporaryFileSignals() {
  for (std::size_t i = 0; i < std::size(kSignals); ++i)
    if (installed_[i]) ::sigaction(kSignals[i], &previous_[i], nullptr);
}

}  // namespace smbsim
