#pragma once
// A failure to write (or read back) output: a runtime failure, exit code 1.
#include <stdexcept>

namespace smbsim {

class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace smbsim
