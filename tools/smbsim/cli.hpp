#pragma once
// The smbsim command line as a library: main() is one call, tests call the same code.
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <vector>

namespace smbsim::cli {

/// Exit codes: documented in README and `smbsim --help`.
enum Exit : int { kOk = 0, kRuntimeFailure = 1, kInvalidInput = 2 };

/// Bad command-line input: one line, naming the option, what was expected and found.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Another rank of an MPI job failed first (its message is printed there): this one
/// stops with the same exit code.
class PeerFailure : public std::runtime_error {
 public:
  PeerFailure(int code, const std::string& what) : std::runtime_error(what), code(code) {}
  int code;
};

/// The exit code for an error: 2 for bad input (the user's to fix), 1 for a failure to
/// write, -1 for anything else (a bug).
int exit_code_for(const std::exception& e);

struct Io {
  std::ostream& out;
  std::ostream& err;
};

/// Runs `smbsim ARGS...` (args exclude the program name) and returns the exit code.
/// Never throws: every error is reported on io.err as one line per problem.
int run_cli(const std::vector<std::string>& args, Io io);

// The subcommands; each takes its own arguments (after the subcommand's name).
int cmd_run(const std::vector<std::string>& args, Io io);
int cmd_validate(const std::vector<std::string>& args, Io io);
int cmd_summarize(const std::vector<std::string>& args, Io io);
int cmd_sweep(const std::vector<std::string>& args, Io io);
int cmd_demo(const std::vector<std::string>& args, Io io);
int cmd_stress(const std::vector<std::string>& args, Io io);
int cmd_discover(const std::vector<std::string>& args, Io io);
int cmd_sensitivity(const std::vector<std::string>& args, Io io);
int cmd_report(const std::vector<std::string>& args, Io io);
/// How a user calls this program: "smbsim" when PATH finds this very binary, else its
/// absolute path (a build tree), so hints like "... report FILE.h5" work when pasted.
std::string smbsim_command();
/// `smbsim --list-keys` (hidden, for the shell completion): the keys --set accepts.
int list_keys(Io io);

}  // namespace smbsim::cli
