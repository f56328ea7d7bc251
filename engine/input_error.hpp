#pragma once
// Bad input from a file (a result file that is not one this build reads, or one that is
// damaged): the user's to fix, exit code 2.
#include <stdexcept>

namespace smbsim {

/// A file that is not a complete, consistent smbsim result file of a version this build reads.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace smbsim
