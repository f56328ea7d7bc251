#include "tools/smbsim/cli.hpp"

#include "engine/atomic_output.hpp"
#include "engine/hdf5_handle.hpp"
#include "engine/summary.hpp"
#include "engine/version.hpp"
#include "models/scenario/scenario.hpp"
#include "models/scenario/text.hpp"
#include "tools/smbsim/standard_output.hpp"

#include <boost/program_options/errors.hpp>

#include <cerrno>
#include <ostream>

namespace smbsim::cli {

namespace {
const char* kOverview = R"(smbsim: Monte Carlo stress tests of small-business strategy

Usage: smbsim COMMAND [OPTIONS]   (a SCENARIO of - is read from standard input)

Commands:
  run [SCENARIO]      run a scenario (the built-in default without one), write HDF5, print a summary
  validate SCENARIO   check a scenario and print it with every default filled in
  summarize FILE.h5   print the summary of a result file (--json for machines)
  sweep SCENARIO      run a grid of parameter values as variants on common random numbers
  sensitivity SCENARIO  which uncertain parameters matter: Sobol' indices and a tornado
  demo fragility      the same misalignment and shocks for micro, small, medium and large firms
  stress SCENARIO     reverse stress test: the shock severity at which the firm fails with probability P
  discover FILE.h5    scenario discovery (PRIM): the input ranges in which firms fail
  report FILE.h5      charts and an HTML report (runs smbsim-report)

Options:
  -h, --help          this text; `smbsim COMMAND --help` for a command's options
  -V, --version       version and git commit

Under mpirun or srun, run, sweep and demo share the runs among the ranks and rank 0 writes
one file, the same bits as one process; sensitivity and stress share their work and rank 0
prints what one process would (docs/cluster.md).

Exit codes: 0 success, 1 runtime failure (e.g. output not writable), 2 invalid input or usage.
)";
constexpr int kInternalError = -1;
}  // namespace

int exit_code_for(const std::exception& e) {
  if (const auto* peer = dynamic_cast<const PeerFailure*>(&e)) return peer->code;
  if (dynamic_cast<const scenario::ScenarioError*>(&e) || dynamic_cast<const UsageError*>(&e) ||
      dynamic_cast<const InputError*>(&e) || dynamic_cast<const OutputExists*>(&e))
    return kInvalidInput;
  if (dynamic_cast<const OutputError*>(&e)) return kRuntimeFailure;
  return kInternalError;
}

namespace {
int run_command(const std::vector<std::string>& args, Io io) {
  if (args.empty()) {  // a usage error: the overview goes where errors go
    io.err << kOverview;
    return kInvalidInput;
  }
  if (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    io.out << kOverview;
    return kOk;
  }
  if (args[0] == "-V" || args[0] == "--version") {
    io.out << "smbsim " << kVersion << " (git " << kGitCommit << ")\n";
    return kOk;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "run") return cmd_run(rest, io);
  if (args[0] == "validate") return cmd_validate(rest, io);
  if (args[0] == "summarize") return cmd_summarize(rest, io);
  if (args[0] == "sweep") return cmd_sweep(rest, io);
  if (args[0] == "demo") return cmd_demo(rest, io);
  if (args[0] == "sensitivity") return cmd_sensitivity(rest, io);
  if (args[0] == "stress") return cmd_stress(rest, io);
  if (args[0] == "discover") return cmd_discover(rest, io);
  if (args[0] == "report") return cmd_report(rest, io);
  if (args[0] == "--list-keys") return list_keys(io);
  throw UsageError(args[0] + ": unknown command; expected run, validate, summarize, sweep, sensitivity, stress, discover, demo or report (see smbsim --help)");
}
}  // namespace

int run_cli(const std::vector<std::string>& args, Io io) {
  try {
    const int code = run_command(args, io);
    if (code == kOk) finish_output(io.out);  // (a failed command's own message says more)
    return code;
  } catch (const StdoutFailure& e) {
    if (e.error != EPIPE) io.err << scenario::message_line(e.what()) << '\n';  // the reader went away: not news to the user
    return kRuntimeFailure;
  } catch (const std::bad_alloc&) {
    io.err << "smbsim: out of memory\n";
    return kRuntimeFailure;
  } catch (const scenario::ScenarioError& e) {
    // One line per problem; whatever came from the input is escaped, so a newline in a
    // value cannot forge a line of its own.
    for (const auto& p : e.problems()) io.err << scenario::message_line(p.line()) << '\n';
    return kInvalidInput;
  } catch (const std::exception& e) {
    const int code = exit_code_for(e);
    io.err << scenario::message_line(std::string(code == kInternalError ? "smbsim: internal error: " : "") + e.what()) << '\n';
    return code == kInternalError ? kRuntimeFailure : code;
  }
}

}  // namespace smbsim::cli
