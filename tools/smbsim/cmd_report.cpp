// smbsim report FILE.h5 [ARGS...]: runs the report tool, git-style. smbsim-report is
// looked for beside this binary first (an installed prefix, or the build tree's copy),
// then on PATH; its exit code is this command's.
#include "tools/smbsim/cli.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <sstream>

namespace smbsim::cli {

namespace {
constexpr const char* kTool = "smbsim-report";

bool runnable(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

std::filesystem::path self() {
  std::error_code ec;
  const auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : path;
}

/// The first runnable `name` on PATH; empty if none.
std::filesystem::path on_path(const char* name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && runnable(std::filesystem::path(dir) / name)) return std::filesystem::path(dir) / name;
  return {};
}

/// The report tool beside this program, else the first on PATH; empty if neither.
std::filesystem::path find_tool() {
  if (!self().empty() && runnable(self().parent_path() / kTool)) return self().parent_path() / kTool;
  return on_path(kTool);
}
}  // namespace

std::string smbsim_command() {
  const auto me = self();
  if (me.empty()) return "smbsim";
  const auto found = on_path("smbsim");
  std::error_code ec;
  return !found.empty() && std::filesystem::equivalent(found, me, ec) ? "smbsim" : me.string();
}

int cmd_report(const std::vector<std::string>& args, Io io) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    // Without a file, a usage error: the text goes where errors go.
    (args.empty() ? io.err : io.out)
        << "Usage: smbsim report FILE.h5 [-o DIR] [--force] [--analysis FILE.json ...]\n\n"
           "Charts and an HTML report of a result file: runs smbsim-report (beside this program,\n"
           "else on PATH) with these arguments; `smbsim-report --help` lists them.\n";
    return args.empty() ? kInvalidInput : kOk;
  }
  const auto tool = find_tool();
  if (tool.empty())
    throw UsageError(std::string("report: expected the report tool ") + kTool +
                     " beside smbsim or on PATH, found neither (install smbsim, or put it on PATH)");
  // This program words the findings (a later --smbsim of the user's wins).
  std::vector<std::string> argv{tool.string()};
  if (!self().empty()) argv.insert(argv.end(), {"--smbsim", self().string()});
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> c_argv;
  for (auto& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  io.out.flush();
  io.err.flush();
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_DFL);  // smbsim ignores it for itself (main.cpp); the tool gets the default
    ::execv(c_argv[0], c_argv.data());
    std::fprintf(stderr, "smbsim report: cannot run %s (%s)\n", c_argv[0], std::strerror(errno));
    ::_exit(kRuntimeFailure);
  }
  if (child < 0) throw std::runtime_error(std::string("report: cannot start ") + kTool + " (fork failed)");
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  io.err << "smbsim report: " << kTool << " ended by signal " << WTERMSIG(status) << "\n";
  return kRuntimeFailure;
}

}  // namespace smbsim::cli
