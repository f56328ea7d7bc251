#include "models/scenario/text.hpp"

#include <algorithm>
#include <cstdio>

namespace smbsim::scenario {

std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned lo = 0x80, hi = 0xbf;  // the allowed range of the second byte (RFC 3629)
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;  // no overlong forms
    if (c == 0xed) hi = 0x9f;  // no surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  return n;
}

namespace {
/// The code point of the valid n-byte UTF-8 sequence at s[i].
char32_t code_point(std::string_view s, std::size_t i, std::size_t n) {
  static constexpr unsigned kLeadMask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
  char32_t c = static_cast<unsigned char>(s[i]) & kLeadMask[n];
  for (std::size_t k = 1; k < n; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  return c;
}

/// Whether a character is one that is not seen but acts: Unicode's general categories Cc
/// (C1 controls), Cf (format: bidi embeddings, overrides and isolates, zero-width
/// characters, the byte-order mark, tags), Zl and Zp (line and paragraph separators).
bool invisible(char32_t c) {
  struct Span {
    char32_t first, last;
  };
  static constexpr Span kSpans[] = {
      {0x80, 0x9f},       {0xad, 0xad},       {0x600, 0x605},     {0x61c, 0x61c},     {0x6dd, 0x6dd},
      {0x70f, 0x70f},     {0x890, 0x891},     {0x8e2, 0x8e2},     {0x180e, 0x180e},   {0x200b, 0x200f},
      {0x2028, 0x202e},   {0x2060, 0x2064},   {0x2066, 0x206f},   {0xfeff, 0xfeff},   {0xfff9, 0xfffb},
      {0x110bd, 0x110bd}, {0x110cd, 0x110cd}, {0x13430, 0x1343f}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a},
      {0xe0001, 0xe0001}, {0xe0020, 0xe007f},
  };
  for (const auto& span : kSpans)
    if (c >= span.first && c <= span.last) return true;
  return false;
}

/// An escape such as \x1b, \u202e or \U000e0041, from a printf format.
std::string escape(const char* format, unsigned value) {
  char text[16];
  std::snprintf(text, sizeof text, format, value);
  return text;
}
}  // namespace

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = utf8_sequence_length(s, i);
    if (n > 1) {
      const char32_t cp = code_point(s, i, n);
      if (invisible(cp))
        out += escape(cp > 0xffff ? "\\U%08x" : "\\u%04x", static_cast<unsigned>(cp));
      else
        out.append(s.substr(i, n));
      i += n;
      continue;
    }
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f || n == 0) {
      out += escape("\\x%02x", c);
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  return out;
}

namespace {
bool continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }
}  // namespace

std::string shortened(const std::string& s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  std::size_t cut = max_bytes;
  while (cut > 0 && continuation_byte(s[cut])) --cut;  // not inside a character
  return s.substr(0, cut) + "...";
}

std::string shortened_start(const std::string& s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  std::size_t from = s.size() - max_bytes;
  while (from < s.size() && continuation_byte(s[from])) ++from;  // not inside a character
  return "..." + s.substr(from);
}

namespace {
/// `s` with each run of non-blank bytes longer than kMaxWordBytes cut to its last 80:
/// a file name in any message (from the result-file reader, the output checks, the
/// scenario reader) is bounded alike, whoever wrote the message.
std::string words_shortened(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t end = i;
    while (end < s.size() && s[end] != ' ') ++end;
    const std::string word(s.substr(i, end - i));
    out += word.size() > kMaxWordBytes ? shortened_start(word) : word;
    if (end < s.size()) out += ' ';
    i = end + 1;
  }
  return out;
}
}  // namespace

std::string message_line(std::string_view raw) {
  const std::string text = words_shortened(raw);
  if (text.size() <= kMaxLineBytes) return printable(text);
  // The start names the place and the key, the end what was found: the middle goes.
  const std::size_t tail = kMaxLineBytes / 4;
  return printable(shortened(text, kMaxLineBytes - tail) + shortened_start(text.substr(text.size() - tail), tail));
}

std::string shell_word(std::string_view s) {
  const auto plain = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("_-./+=:,@%").find(c) != std::string_view::npos;
  };
  if (!s.empty() && std::all_of(s.begin(), s.end(), plain)) return std::string(s);
  std::string quoted;  // for $'...': a backslash and a quote escaped before printable's escapes
  for (char c : s) quoted += c == '\\' ? "\\\\" : c == '\'' ? "\\'" : std::string(1, c);
  const std::string escaped = printable(quoted);
  if (escaped == quoted) {  // nothing to escape: single quotes, a quote as '\''
    std::string out = "'";
    for (char c : s) out += c == '\'' ? "'\\''" : std::string(1, c);
    return out + "'";
  }
  return "$'" + escaped + "'";
}

std::optional<TextProblem> check_utf8_text(std::string_view text) {
  const auto starts = [&](std::string_view bom) { return text.substr(0, bom.size()) == bom; };
  using namespace std::string_view_literals;
  if (starts("\x00\x00\xfe\xff"sv) || starts("\xff\xfe\x00\x00"sv))
    return TextProblem{1, 1, "a UTF-32 byte-order mark (save the file as UTF-8)"};
  if (starts("\xfe\xff"sv) || starts("\xff\xfe"sv)) return TextProblem{1, 1, "a UTF-16 byte-order mark (save the file as UTF-8)"};
  int line = 1, column = 1;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      return TextProblem{line, column, "the byte " + escape("\\x%02x", static_cast<unsigned char>(text[i])) + ", which is not UTF-8"};
    }
    if (text[i] == '\0') return TextProblem{line, column, "a NUL byte"};
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += n;
  }
  return std::nullopt;
}

}  // namespace smbsim::scenario
