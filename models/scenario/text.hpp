#pragma once
// Text from outside (a scenario file, an option, a name read from a result file) made
// safe to print, and scenario text checked to be the UTF-8 the result file stores.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace smbsim::scenario {

/// The length of the valid UTF-8 sequence starting at s[i] (1 to 4), or 0 if invalid.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

/// `s` with control characters and invalid UTF-8 shown as escapes (\n, \t, \r, \xHH),
/// so that text from input can never start a line of its own or drive the terminal.
std::string printable(std::string_view s);

/// At most `max_bytes` of `s`, cut at a character boundary, with "..." if cut.
std::string shortened(const std::string& s, std::size_t max_bytes = 80);

/// Whether scenario text can be read as UTF-8: the 1-based line and column of the first
/// byte that cannot (a NUL, an invalid sequence, a UTF-16 or UTF-32 byte-order mark)
/// and what it is, or nothing if all is well.
struct TextProblem {
  int line;
  int column;
  std::string found;
};
std::optional<TextProblem> check_utf8_text(std::string_view text);

}  // namespace smbsim::scenario
