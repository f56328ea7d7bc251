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
/// and invisible format characters (bidi controls such as U+202E, zero-width spaces,
/// line separators) as \uHHHH, so that text from input can never start a line of its
/// own, drive the terminal or show itself reordered.
std::string printable(std::string_view s);

/// At most `max_bytes` of `s`, cut at a character boundary, with "..." if cut.
std::string shortened(const std::string& s, std::size_t max_bytes = 80);
/// The same, keeping the end ("..." and the last bytes): for a file name, whose end says most.
std::string shortened_start(const std::string& s, std::size_t max_bytes = 80);

/// Bytes a message line may have before it is escaped: a problem line names a place, a
/// key and a value, each cut at about 80 bytes; this bounds what else a line can echo.
inline constexpr std::size_t kMaxLineBytes = 400;
/// Bytes a word (a run of non-blank bytes: a file name, a value) of a message line may
/// have; a longer one keeps its last 80 (shortened_start), as a scenario's FILE does.
inline constexpr std::size_t kMaxWordBytes = 100;
/// One line of a message as printed: each word longer than kMaxWordBytes cut to its end,
/// the middle of the line cut out past kMaxLineBytes, then printable.
std::string message_line(std::string_view s);

/// A file name as a shell reads it back, to print in a command the user may paste:
/// unchanged if it is plain (letters, digits and _ - . / + = : , @ %), 'single-quoted'
/// if it is printable, else $'...' with printable()'s escapes, which bash reads back.
std::string shell_word(std::string_view s);

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
