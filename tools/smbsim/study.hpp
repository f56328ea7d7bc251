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
};

/// The default result file name: the scenario's name, made file-safe, plus ".h5".
std::string default_output_name(const scenario::Scenario& sc);
StudyResult run_study(const scenario::Scenario& sc, const StudyOptions& options);

}  // namespace smbsim::cli
