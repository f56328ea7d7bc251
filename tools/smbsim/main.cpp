// The smbsim binary: everything lives in the smbsim_cli library. Under mpirun or srun
// every rank runs the same command; rank 0 alone prints.
#include "engine/ranks.hpp"
#include "tools/smbsim/cli.hpp"
#include "tools/smbsim/standard_output.hpp"

#include <unistd.h>

#include <csignal>
#include <iostream>
#include <sstream>

int main(int argc, char** argv) {
  // A file size limit (ulimit -f) then fails a write with EFBIG, which is reported and
  // cleaned up like a full disk, instead of killing the process and leaving the temporary
  // file. Programs this one starts get the default back (cmd_report).
  std::signal(SIGXFSZ, SIG_IGN);
  smbsim::cli::FdOutputBuffer stdout_buffer(STDOUT_FILENO);
  std::ostream out(&stdout_buffer);  // run_cli checks, at the end, that it all arrived
  smbsim::Ranks& ranks = smbsim::Ranks::world();
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (!ranks.distributed()) {
    const int code = smbsim::cli::run_cli(args, {out, std::cerr});
    ranks.finalize();
    return code;
  }
  std::ostringstream quiet_out, quiet_err;
  int code = ranks.root() ? smbsim::cli::run_cli(args, {out, std::cerr})
                          : smbsim::cli::run_cli(args, {quiet_out, quiet_err});
  if (!ranks.agreed()) {
    // This rank never reached the point where the ranks agree to start (an error, or a
    // command that does not run): agree now, so that no rank waits for it.
    const auto agreed = ranks.agree(code);
    if (!ranks.root() && code != 0 && agreed.root == 0)
      std::cerr << "smbsim: rank " << ranks.rank() << " of " << ranks.size() << ": " << quiet_err.str() << std::flush;
    if (ranks.root() && code == 0 && agreed.worst != 0) {
      std::cerr << "smbsim: another rank of the job failed (its message is above)\n";
      code = agreed.worst;
    }
  }
  ranks.finalize();
  return code;
}
