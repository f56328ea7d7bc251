// smbsim --list-keys (hidden): every key `--set` and `--grid` accept, one a line. The
// shell completion is generated from it at build time, so it follows the parameter table.
#include "models/firm/parameters.hpp"
#include "tools/smbsim/cli.hpp"

#include <ostream>

namespace smbsim::cli {

int list_keys(Io io) {
  // The scenario's own keys that are not parameters (models/scenario/scenario.cpp).
  for (const char* key : {"firm.size", "firm.established", "simulation.runs", "simulation.months", "simulation.seed",
                          "simulation.sampling"})
    io.out << key << '\n';
  for (const auto& p : firm::param_table()) io.out << p.path << '\n';
  return kOk;
}

}  // namespace smbsim::cli
