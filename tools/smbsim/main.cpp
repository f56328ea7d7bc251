// The smbsim binary: everything lives in the smbsim_cli library.
#include "tools/smbsim/cli.hpp"

#include <iostream>

int main(int argc, char** argv) {
  return smbsim::cli::run_cli(std::vector<std::string>(argv + 1, argv + argc), {std::cout, std::cerr});
}
