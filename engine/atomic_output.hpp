#pragma once
// An output file that appears at its path only when complete: it is written under a
// hidden temporary name in the same directory and renamed on commit. Without `force`,
// an existing file at the path is never replaced (checked up front and again, atomically,
// at commit with link(2)). If the writer is destroyed before commit, the temporary goes.
#include <filesystem>
#include <string>

namespace smbsim {

class AtomicOutput {
 public:
  /// Throws UsageError-like OutputExists if the path exists and !force; OutputError if
  /// its directory is not writable.
  AtomicOutput(std::filesystem::path final_path, bool force);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::filesystem::path& temp_path() const { return temp_; }
  const std::filesystem::path& final_path() const { return final_; }
  /// Moves the finished temporary file to the final path.
  void commit();

 private:
  std::filesystem::path final_;
  std::filesystem::path temp_;
  bool force_;
  bool committed_ = false;
};

/// Thrown when the output path exists and overwriting was not allowed.
class OutputExists : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace smbsim
