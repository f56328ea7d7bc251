#include "tools/smbsim/standard_output.hpp"

#include "models/scenario/text.hpp"
#include "tools/smbsim/cli.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace smbsim::cli {

FdOutputBuffer::FdOutputBuffer(int fd) : fd_(fd), by_line_(::isatty(fd) == 1) {
  setp(buffer_.data(), buffer_.data() + buffer_.size());
}

FdOutputBuffer::~FdOutputBuffer() { drain(); }

bool FdOutputBuffer::drain() {
  const char* p = pbase();
  const char* const end = pptr();
  setp(buffer_.data(), buffer_.data() + buffer_.size());
  while (error_ == 0 && p < end) {
    const ssize_t n = ::write(fd_, p, static_cast<std::size_t>(end - p));
    if (n > 0) {
      p += n;
    } else if (n < 0 && errno == EAGAIN) {
      pollfd ready{fd_, POLLOUT, 0};  // a non-blocking descriptor that is full: wait for room
      ::poll(&ready, 1, -1);
    } else if (n < 0 && errno != EINTR) {
      error_ = errno;
    } else if (n == 0) {
      error_ = EIO;
    }
  }
  return error_ == 0;
}

FdOutputBuffer::int_type FdOutputBuffer::overflow(int_type c) {
  if (!drain()) return traits_type::eof();
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  *pptr() = traits_type::to_char_type(c);
  pbump(1);
  if (by_line_ && traits_type::to_char_type(c) == '\n' && !drain()) return traits_type::eof();
  return c;
}

std::streamsize FdOutputBuffer::xsputn(const char* s, std::streamsize n) {
  const std::streamsize put = std::streambuf::xsputn(s, n);
  if (by_line_ && std::memchr(s, '\n', static_cast<std::size_t>(put)) && !drain()) return 0;
  return put;
}

int FdOutputBuffer::sync() { return drain() ? 0 : -1; }

void finish_output(std::ostream& out, const std::string& note) {
  out.flush();
  if (out.good()) return;
  const auto* fd_buffer = dynamic_cast<const FdOutputBuffer*>(out.rdbuf());
  const int err = fd_buffer && fd_buffer->error() ? fd_buffer->error() : EIO;
  throw StdoutFailure(err, std::string("smbsim: cannot write to standard output: ") + std::strerror(err) +
                               (note.empty() ? "" : " (" + note + ")"));
}

void finish_result_output(std::ostream& out, const std::string& result_path) {
  const std::string shown = scenario::shell_word(result_path);
  finish_output(out, shown + " is complete and kept; " + smbsim_command() + " summarize " + shown +
                         " prints its summary");
}

}  // namespace smbsim::cli
