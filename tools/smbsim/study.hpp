#pragma once
// Running a scenario: every variant through the engine with the firm model, into one
// result file that appears only when complete.
#include "models/scenario/scenario.hpp"

#include <iosfwd>
#include <string>

namespace smbsim::cli {

struct StudyOptions {
  std::string output;
  bool force = false;
  int threads = 0;
  std::int64_t paths = 0;
  bool progress = true;
};

struct StudyResult {
  std::string path;
  double seconds = 0;
  bool reporter = true;  ///< this process reports (false on ranks other than 0 of an MPI job)
};

/// The default result file name: the scenario's name, made file-safe, plus ".h5".
std::string default_output_name(const scenario::Scenario& sc);
/// Under mpirun or srun, every rank calls it; the ranks share the runs and rank 0 writes
/// the file (engine/ranks_runner.hpp). A failure on any rank once they depend on each
/// other ends the whole job, leaving no file.
StudyResult run_study(const scenario::Scenario& sc, const StudyOptions& options);

/// Runs needed so that every variant's survival at the horizon has a 95% interval no
/// wider than +-half_width: a pilot of `pilot` runs estimates each survival p, then
/// n = z^2 p (1 - p) / half_width^2 (the normal approximation to the binomial), rounded
/// up to a multiple of 1000 and at least the pilot. Deterministic for a given scenario
/// and seed, so a run with this count is reproducible like any other.
struct RunsForPrecision {
  std::int64_t runs;
  double worst_p;  ///< the pilot's survival closest to 1/2 (the hardest to pin down)
};
RunsForPrecision runs_for_precision(const scenario::Scenario& sc, double half_width, int threads,
                                    std::int64_t pilot = 2000);

}  // namespace smbsim::cli
