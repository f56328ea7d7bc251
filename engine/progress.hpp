#pragma once
// A one-line progress bar on stderr (runs done, runs/s, ETA), drawn only when stderr is
// a terminal and the user did not ask for quiet.
#include <chrono>
#include <cstdint>
#include <string>

namespace smbsim {

class Progress {
 public:
  Progress(std::string label, std::int64_t total, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void advance(std::int64_t runs);
  void finish();
  /// True when stderr is a terminal (the default for `enabled`).
  static bool stderr_is_terminal();

 private:
  void draw(bool final);
  std::string label_;
  std::int64_t total_;
  std::int64_t done_ = 0;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace smbsim
