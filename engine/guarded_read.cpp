#include "engine/guarded_read.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <new>
#include <thread>

namespace smbsim {

namespace {
/// The regular file at `path`, readable, and its size: a FIFO would block the open for
/// ever, a directory or a device is not a result file, and "not HDF5" must not hide
/// "permission denied".
off_t readable_file_size(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) throw InputError(path + ": no such file");
    throw InputError(path + ": cannot read the result file (" + std::strerror(errno) + ")");
  }
  if (!S_ISREG(st.st_mode))
    throw InputError(path + ": expected a result file, found " +
                     (S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a pipe" : "a special file"));
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw InputError(path + ": cannot read the result file (" + std::strerror(errno) + ")");
  ::close(fd);
  return st.st_size;
}

/// What makes the object at `name` (a link from `root`) read from outside the file, or "";
/// a dataset's declared size is checked against what it stores (InputError).
std::string storage_outside_or_short(hid_t root, const char* name, const H5L_info_t& link) {
  if (link.type == H5L_TYPE_SOFT) return ", a soft link";
  if (link.type == H5L_TYPE_EXTERNAL) return ", an external link";
  if (link.type != H5L_TYPE_HARD) return ", a user-defined link";
  H5Id object(H5Oopen(root, name, H5P_DEFAULT), H5Oclose, std::string("open ") + name);
  if (H5Iget_type(object) != H5I_DATASET) return "";
  H5Id dcpl(H5Dget_create_plist(object), H5Pclose, std::string("read the storage of ") + name);
  if (H5Pget_layout(dcpl) == H5D_VIRTUAL) return ", a virtual dataset (its data lives in other datasets, other files)";
  if (H5Pget_external_count(dcpl) != 0) return " stored in another file (external storage)";
  check_stored(object);
  return "";
}

/// Throws InputError at the first link (in name order, through the whole file) that
/// would make a reader leave the file, or at a dataset that declares more values than
/// it stores (check_stored): so before any data is read.
void check_every_object(hid_t file, const std::string& path) {
  struct Walk {
    std::string found;
    std::string refusal;  // a dataset that declares more than it stores
    std::string failure;
  } walk;
  auto visit = [](hid_t root, const char* name, const H5L_info_t* link, void* data) -> herr_t {
    auto& w = *static_cast<Walk*>(data);
    try {
      const std::string why = storage_outside_or_short(root, name, *link);
      if (why.empty()) return 0;
      w.found = name + why;
    } catch (const InputError& e) {
      w.refusal = e.what();
    } catch (const std::exception& e) {
      w.failure = e.what();
    }
    return 1;  // stop
  };
  const herr_t status = H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, visit, &walk);
  if (!walk.found.empty())
    throw InputError(path + ": expected a self-contained smbsim result file, found " + walk.found);
  if (!walk.refusal.empty()) throw InputError(walk.refusal);
  if (!walk.failure.empty() || status < 0)
    throw InputError(path + ": expected a readable smbsim result file, found damage (" +
                     (walk.failure.empty() ? std::string("HDF5: cannot list its objects") : walk.failure) + ")");
}
}  // namespace

H5Id open_result_file(const std::string& path) {
  silence_hdf5_errors();
  readable_file_size(path);
  if (H5Fis_hdf5(path.c_str()) <= 0) throw InputError(path + ": expected an smbsim HDF5 result file, found a file that is not HDF5");
  H5Id file;
  try {
    file = H5Id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "open " + path);
  } catch (const OutputError& e) {
    throw InputError(path + ": expected a readable smbsim result file, found damage (" + e.what() + ")");
  }
  check_every_object(file, path);
  return file;
}

namespace {
/// How the rehearsing child ended, as its exit code.
enum ChildEnd : int { kReadThrough = 0, kRefused = 3, kOutOfMemory = 4 };
constexpr std::size_t kMaxMessage = 4000;  // under PIPE_BUF: the child never blocks writing it

/// Waits for the child; kills it and throws OutputError once `limit` seconds have passed.
int wait_with_limit(pid_t child, const std::string& path, double limit) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(limit);
  auto pause = std::chrono::milliseconds(1);
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) return status;
    if (done < 0 && errno != EINTR) return 0;  // not ours to wait for any more: read it here
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(child, SIGKILL);
      while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
      }
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%g", limit);
      throw OutputError(path + ": expected to read the result file within " + seconds +
                        " s (--time-limit), found the read still going; stopped it");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(2 * pause, std::chrono::milliseconds(50));
  }
}

/// This process's address space now, in bytes (0 if unknown).
double address_space_bytes() {
  std::ifstream statm("/proc/self/statm");
  double pages = 0;
  statm >> pages;
  return pages * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

double physical_memory_bytes() {
  return static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}
}  // namespace

double memory_for_reading_bytes() {
  const double half = physical_memory_bytes() / 2;
  rlimit now{};
  if (::getrlimit(RLIMIT_AS, &now) != 0 || now.rlim_cur == RLIM_INFINITY) return half;
  return std::min(half, std::max(0.0, static_cast<double>(now.rlim_cur) - address_space_bytes()));
}

namespace {
/// Caps the address space: what the process holds, plus 1 GiB for libhdf5 and the read's
/// bookkeeping and what a file of this size can stand for when every stored byte is
/// packed as tightly as deflate can and read as 8-byte doubles, but never more than half
/// of physical memory beyond what it holds (that sum is 200 GB for a 23 MB file: it would
/// not bind). A valid file needs far less; a forged size the checks missed ends in
/// bad_alloc instead of swapping.
void cap_memory(off_t file_size) {
#if !defined(__SANITIZE_ADDRESS__)  // ASan reserves terabytes of shadow address space
  const double beyond = std::min(physical_memory_bytes() / 2, double(1 << 30) + kMaxCompression * 8 * static_cast<double>(file_size));
  const double cap = address_space_bytes() + beyond;
  rlimit now{};
  if (::getrlimit(RLIMIT_AS, &now) != 0 || cap >= static_cast<double>(now.rlim_cur)) return;
  now.rlim_cur = static_cast<rlim_t>(cap);
  ::setrlimit(RLIMIT_AS, &now);
#else
  (void)file_size;
#endif
}

[[noreturn]] void rehearse_in_child(int report, off_t file_size, const std::function<void()>& read) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a reader whose parent is gone stops too
  const int null = ::open("/dev/null", O_WRONLY);
  if (null >= 0) ::dup2(null, STDERR_FILENO);  // a crash report (ASan's) is not ours to print
  cap_memory(file_size);
  int end = kReadThrough;
  std::string message;
  try {
    read();
  } catch (const InputError& e) {
    end = kRefused;
    message = e.what();
  } catch (const std::bad_alloc&) {
    end = kOutOfMemory;
  } catch (...) {  // any other error: the parent's own read meets it again
  }
  message.resize(std::min(message.size(), kMaxMessage));
  if (!message.empty() && ::write(report, message.data(), message.size()) < 0) end = kReadThrough;
  ::_exit(end);
}

std::string read_all(int fd) {
  std::string text;
  char buf[1024];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}
}  // namespace

void rehearse_read(const std::string& path, double seconds, const std::function<void()>& read) {
  // libhdf5 trusts some of a file's internals (global heap offsets, link tables): a bit
  // flip there can crash it (15 of 400 bit-flipped files did in summarize, 16 of 510 in
  // discover) before any check of ours can run. Before any HDF5 call here, so that the
  // child starts with the library unused.
  const off_t size = readable_file_size(path);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return;  // no pipe: read it here, unguarded
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pipe_fds[0]);
    rehearse_in_child(pipe_fds[1], size, read);
  }
  ::close(pipe_fds[1]);
  if (child < 0) {
    ::close(pipe_fds[0]);
    return;  // fork failed: read it here, unguarded
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } reading{pipe_fds[0]};
  // A damaged file can also make libhdf5 loop: the child's read is given a time limit.
  const int status = wait_with_limit(child, path, seconds);
  const std::string message = read_all(reading.fd);
  if (WIFEXITED(status) && WEXITSTATUS(status) == kReadThrough) return;
  if (WIFEXITED(status) && WEXITSTATUS(status) == kRefused) throw InputError(message);
  if (WIFEXITED(status) && WEXITSTATUS(status) == kOutOfMemory)
    throw InputError(path + ": expected a result file whose values its size can hold, found one whose read needs more memory "
                     "than that (damaged or forged sizes)");
  throw InputError(path + ": expected a readable smbsim result file, found damage that crashes the HDF5 library (" +
                   (WIFSIGNALED(status) ? std::string(strsignal(WTERMSIG(status))) : "exit " + std::to_string(WEXITSTATUS(status))) +
                   " while reading it)");
}

}  // namespace smbsim
