#include "engine/atomic_output.hpp"

#include "engine/hdf5_handle.hpp"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
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

namespace {

// The temporary files a signal handler removes, in storage fixed before any signal. A
// slot is claimed and filled before its file is created and freed only after the file is
// gone, so each temporary file that exists is in a slot at every moment. The handler takes
// no locks: a slot's word (state, and the thread that is filling it or creating its file)
// is a lock-free atomic.
enum : std::uint64_t { kFree, kFilling, kCreating, kArmed };
struct Slot {
  std::atomic<std::uint64_t> word{kFree};  // state | thread id << 8
  char path[PATH_MAX];
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the signal handler reads slots");
constexpr int kSlots = 16;
Slot g_slots[kSlots];

std::uint64_t slot_word(std::uint64_t state) {
  return state | static_cast<std::uint64_t>(::gettid()) << 8;
}

/// Claims a slot for `temp` in state kCreating: call just before creating the file.
int arm(const fs::path& temp) {
  std::error_code ec;
  fs::path abs = fs::absolute(temp, ec);  // the handler must not depend on the working directory
  const std::string path = ec ? temp.string() : abs.string();
  if (path.size() >= PATH_MAX) throw OutputError(path + ": path too long");
  for (int i = 0; i < kSlots; ++i) {
    std::uint64_t expected = kFree;
    if (g_slots[i].word.compare_exchange_strong(expected, slot_word(kFilling))) {
      std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
      g_slots[i].word.store(slot_word(kCreating));
      return i;
    }
  }
  throw OutputError(path + ": more than " + std::to_string(kSlots) + " output files open at once");
}

void set_state(int slot, std::uint64_t state) {
  if (slot >= 0) g_slots[slot].word.store(state == kFree ? kFree : slot_word(state));
}

// Async-signal-safe: atomics, gettid(2), sched_yield(2), unlink(2), sigaction(2),
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
    if ((word & 0xff) == kCreating || (word & 0xff) == kArmed) ::unlink(s.path);
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

// Removes the temporaries of `name` in `dir` left by writers that provably died (killed
// with SIGKILL, or the machine stopped): written in this boot and PID namespace by a PID
// that no longer exists. Anything it cannot judge so (another machine, boot or
// container, a live PID, this process) is left alone.
void remove_dead_writers_temporaries(const fs::path& dir, const std::string& name) {
  const std::string& scope = pid_scope();
  if (scope.empty()) return;
  const std::string prefix = "." + name + ".";
  const std::string suffix = "." + scope + ".tmp";
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string entry = it->path().filename().string();
    if (entry.size() <= prefix.size() + suffix.size() || !entry.starts_with(prefix) || !entry.ends_with(suffix))
      continue;
    const std::string_view pid_token =
        std::string_view(entry).substr(prefix.size(), entry.size() - prefix.size() - suffix.size());
    const auto dot = pid_token.find('.');
    pid_t pid = 0;
    if (dot == std::string_view::npos || !is_pid(pid_token.substr(0, dot), pid) ||
        !is_token(pid_token.substr(dot + 1)) || pid == ::getpid())
      continue;
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to ask): keep
    std::error_code type_ec;
    if (it->symlink_status(type_ec).type() == fs::file_type::regular) ::unlink(it->path().c_str());
  }
}

}  // namespace

AtomicOutput::AtomicOutput(fs::path final_path, bool force)
    : final_(std::move(final_path)), force_(force) {
  std::error_code ec;
  if (!force_ && fs::exists(final_, ec))
    throw OutputExists(final_.string() + ": file exists (use --force to replace it)");
  auto dir = final_.parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec))
    throw OutputError(final_.string() + ": directory " + dir.string() + " does not exist");
  const std::string name = final_.filename().string();
  remove_dead_writers_temporaries(dir, name);
  const std::string scope = pid_scope().empty() ? "unknown" : pid_scope();
  for (int attempt = 1;; ++attempt) {
    temp_ = dir / ("." + name + "." + std::to_string(::getpid()) + "." + random_token() + "." + scope + ".tmp");
    // In a slot before the file exists: a signal from here on removes it. (Should the name
    // already exist, which takes the same 64 random bits, a signal in the next lines
    // would remove that file: a chance of 2^-64 against a window for every run.)
    slot_ = arm(temp_);
    const int fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    const int err = errno;
    if (fd >= 0) {
      ::close(fd);
      set_state(slot_, kArmed);
      return;
    }
    set_state(std::exchange(slot_, -1), kFree);
    if (err != EEXIST || attempt == 4)
      throw OutputError(final_.string() + ": cannot create a temporary file in " + dir.string() + " to write it (" +
                        std::strerror(err) + ")");
  }
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);
  }
  set_state(slot_, kFree);  // only once the file is gone
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
