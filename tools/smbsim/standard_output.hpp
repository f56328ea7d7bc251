#pragma once
// Standard output that knows whether it arrived: the commands' text goes through write(2)
// here, and the first failure's reason is kept (a full disk, a file size limit, a closed
// pipe), so that a command ends with exit 1 and one line instead of losing its output
// silently. Later output is dropped: one failure, one message.
#include "engine/output_error.hpp"

#include <array>
#include <ostream>
#include <streambuf>
#include <string>

namespace smbsim::cli {

/// Output to standard output was lost: exit 1, one line; none when the reader went away
/// (EPIPE: `smbsim ... | head -1` with SIGPIPE ignored), which is not news to the user.
class StdoutFailure : public OutputError {
 public:
  StdoutFailure(int error, const std::string& what) : OutputError(what), error(error) {}
  int error;
};

class FdOutputBuffer : public std::streambuf {
 public:
  /// Writes to `fd` (not owned): in blocks, or by line when it is a terminal.
  explicit FdOutputBuffer(int fd);
  ~FdOutputBuffer() override;
  FdOutputBuffer(const FdOutputBuffer&) = delete;
  FdOutputBuffer& operator=(const FdOutputBuffer&) = delete;
  /// The errno of the first write that failed; 0 while none has.
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

 private:
  /// Writes out what is buffered; false once a write has failed.
  bool drain();
  int fd_;
  bool by_line_;
  int error_ = 0;
  std::array<char, 1 << 16> buffer_;
};

/// Flushes `out` and throws StdoutFailure if anything written to it was lost: the reason
/// from its FdOutputBuffer, if it has one. `note` (if any) is added to the message in
/// parentheses: what the user still has (a result file written before the output).
void finish_output(std::ostream& out, const std::string& note = "");
/// finish_output after a command that wrote a result file first (run, sweep, demo): the
/// file is complete and stays; the message says so and how to print its summary again.
void finish_result_output(std::ostream& out, const std::string& result_path);

}  // namespace smbsim::cli
