// A seeded mutation loop over the scenario reader, for a bounded time (CI: 60 s under
// AddressSanitizer and UndefinedBehaviorSanitizer).
//
//   fuzz_scenario SECONDS SEED CRASH_DIR CORPUS_DIR...
//
// Each case takes a file of the seed corpus, applies a few mutations (bit flips, byte
// insertions and deletions, splices of YAML punctuation, anchors, aliases and keys from a
// dictionary and of other corpus files, anchored collections aliased from inside or
// after, repeated lines, generated pieces: a second document, a key both dotted and
// nested, a text field of the wrong type, an extreme beta shape, a sampling design, odd
// variant names), or (one case in four) is made of generated pieces alone; it is read
// with load_scenario, also with a --set override. The reader may accept the text or
// throw ScenarioError; anything else fails the loop: a generated case with a second
// document or a key written twice that is accepted, another exception, a crash or
// sanitizer report (the input is saved first, from the death callback or a signal
// handler), or a case slower than 10 s (a hang). Each failing input is written to
// CRASH_DIR as fuzz-crash-N.yaml: add it to tests/cli/bad_scenarios with its expected
// message. Deterministic for a given SEED: case N is the same on every run.
#include "models/scenario/scenario.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <typeinfo>
#include <vector>

#if defined(__has_include)
#if __has_include(<sanitizer/common_interface_defs.h>) && defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define SMBSIM_HAVE_SANITIZER_CALLBACK 1
#endif
#endif

namespace {

// The case being read, kept where a signal handler can write it out.
char g_case[1 << 20];
std::size_t g_case_size = 0;
char g_crash_path[4096];

void save_case() {
  const int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  for (std::size_t done = 0; done < g_case_size;) {
    const ssize_t n = ::write(fd, g_case + done, g_case_size - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  const char msg[] = "fuzz_scenario: the failing input is saved as ";
  [[maybe_unused]] auto r = ::write(2, msg, sizeof msg - 1);
  r = ::write(2, g_crash_path, std::strlen(g_crash_path));
  r = ::write(2, "\n", 1);
}

extern "C" void on_fatal_signal(int sig) {
  save_case();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

const std::vector<std::string> kDictionary{
    "&a ", "*a", "&b ", "*b", "[", "]", "{", "}", ": ", ", ", "\n", "\n  ", "- ", "? ", "!!str ", "!!binary ", "|",
    ">", "'", "\"", "#", "---\n", "...\n", "%YAML 1.2\n", "<<: *a\n", "\t", "\r", "\\u0000", "\xef\xbb\xbf", "\xff\xfe",
    "1e308", "-1", "0", "nan", ".inf", "9007199254740993", "~", "null", "true", "dist: ", "normal", "discrete",
    "values: [1, 2]", "weights: [1]", "variants:\n  a: {}\n", "shocks:\n  - {name: x, type: recession}\n",
    "simulation:", "runs: ", "months: ", "seed: ", "firm:", "size: ", "alignment:", "level: ", "strategy:",
    "target:", "market:", "value_weights:", "disruption:", "automation:", "capability: "};

/// One of `choices`, drawn from `rng`.
template <std::size_t N>
std::string one_of(const std::array<const char*, N>& choices, std::mt19937_64& rng) {
  return choices[rng() % N];
}

/// A piece of scenario text aimed at one class of hostile input the reader must refuse
/// (or accept) with a message: whole lines, to go at the start of a line.
struct Piece {
  std::string text;
  bool refused;  ///< at the top level, the reader must refuse it (a second document, a key twice)
};
Piece generated_piece(std::mt19937_64& rng) {
  static constexpr std::array kPaths{"firm.headcount", "alignment.level", "market.isomorphism", "firm.size",
                                     "simulation.sampling", "strategy.target", "shocks"};
  static constexpr std::array kValues{"5", "0.5", "-.inf", ".nan", "abc", "[1, 2]", "{}", "~", "1e308", "micro",
                                      "{dist: beta, a: 2, b: 3}", "\"\\0\"", "\"\\u202e\""};
  static constexpr std::array kTexts{"[my, cafe]", "{}", "{a: 1}", "~", "\"a\\0b\"", "\"\\u202eevil\"", "\"\\ud800\"", "5",
                                     "!!binary aGVsbG8=", "\"\\x85\\u2028\""};
  static constexpr std::array kShapes{"1e-10", "0.001", "1", "1e17", "1e308", "5e-324", "0", "-1", "nan", "100000"};
  static constexpr std::array kSampling{"random", "lhs", "sobol", "Sobol", "[lhs]", "halton"};
  static constexpr std::array kNames{".", "..", "...", "a/b", "/", "\"\"", "\" a\"", "\"a \"", "\"a\\0b\"", "\"\\u202e\"", "-",
                                     "a.b", "\"x=1,y=2\"", "base", "\"\\n\"", "0"};
  // Every choice drawn first, one statement each: the same case for a seed everywhere.
  const std::string path = one_of(kPaths, rng), value = one_of(kValues, rng), other = one_of(kValues, rng);
  const std::string text = one_of(kTexts, rng), a = one_of(kShapes, rng), b = one_of(kShapes, rng);
  const std::string document = one_of(std::array{"---\n", "...\n", "---\n---\n", "--- {}\n", "...\n---\n"}, rng);
  const std::string sampling = one_of(kSampling, rng), runs = std::to_string(1 + rng() % 300);
  const bool either = rng() % 2 == 0;
  const auto kind = rng() % 6;
  const auto dot = path.find('.');
  const std::string dotted = path + ": " + value;
  const std::string nested = dot == std::string::npos ? path + ": " + other
                                                      : path.substr(0, dot) + ": {" + path.substr(dot + 1) + ": " + other + "}";
  const std::string beta = "{dist: beta, a: " + a + ", b: " + b + "}";
  switch (kind) {
    case 0:  // a second document, empty or not, after a document end or start
      return {document + (either ? dotted + "\n" : std::string()), either || document != "...\n"};  // "..." alone ends the one
    case 1:  // one key dotted and nested, in the base or in a variant
      return {either ? dotted + "\n" + nested + "\n" : "variants:\n  v: {" + dotted + ", " + nested + "}\n  w: {}\n", true};
    case 2:  // a text field of another type
      return {(either ? "name: " : "description: ") + text + "\n", false};
    case 3:  // an extreme beta shape, in the base or a plan
      return {either ? "alignment:\n  level: " + beta + "\n" : "plans:\n  - {name: p, month: 1, cost: " + beta + "}\n", false};
    case 4:  // a sampling design, with draws for it to make
      return {"simulation.sampling: " + sampling + "\nsimulation.runs: " + runs + "\nmarket.volatility: " + beta + "\n", false};
    default: {  // variants with odd names, some overriding a base value
      std::string v = "variants:\n";
      const int count = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < count; ++k) {
        const std::string name = one_of(kNames, rng);
        v += "  " + name + ": {" + (rng() % 2 ? dotted : std::string()) + "}\n";
      }
      return {v, false};
    }
  }
}

/// A scenario of generated pieces alone: the top level, where each piece means what it says.
Piece generated_case(std::mt19937_64& rng) {
  Piece c{"simulation.months: 12\n", false};
  const int pieces = 1 + static_cast<int>(rng() % 3);
  for (int k = 0; k < pieces; ++k) {
    const Piece p = generated_piece(rng);
    c.text += p.text;
    c.refused = c.refused || p.refused;
  }
  return c;
}

std::string mutate(std::string s, const std::vector<std::string>& corpus, std::mt19937_64& rng) {
  auto pick = [&](std::size_t n) { return n == 0 ? std::size_t{0} : static_cast<std::size_t>(rng() % n); };
  const int edits = 1 + static_cast<int>(pick(8));
  for (int e = 0; e < edits; ++e) {
    switch (pick(11)) {
      case 9:  // a generated piece, at the start of a line (or the end of the text)
      case 10: {
        const std::size_t newline = s.find('\n', pick(s.size() + 1));
        s.insert(newline == std::string::npos ? s.size() : newline + 1, generated_piece(rng).text);
        break;
      }
      case 0:  // flip a bit
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1 << pick(8));
        break;
      case 1:  // insert a random byte
        s.insert(pick(s.size() + 1), 1, static_cast<char>(pick(256)));
        break;
      case 2:  // delete a run of bytes
        if (!s.empty()) {
          const std::size_t at = pick(s.size());
          s.erase(at, 1 + pick(std::min<std::size_t>(16, s.size() - at)));
        }
        break;
      case 3:  // insert a dictionary word
      case 4: s.insert(pick(s.size() + 1), kDictionary[pick(kDictionary.size())]); break;
      case 5: {  // splice a piece of another corpus file
        const std::string& other = corpus[pick(corpus.size())];
        if (other.empty()) break;
        const std::size_t from = pick(other.size()), len = 1 + pick(std::min<std::size_t>(64, other.size() - from));
        s.insert(pick(s.size() + 1), other.substr(from, len));
        break;
      }
      case 7: {  // anchor a flow collection and refer to it from inside (a cycle) or after
        const std::size_t open = s.find_first_of("[{", pick(s.size() + 1));
        if (open == std::string::npos) break;
        const std::string name = "z" + std::to_string(pick(3));
        s.insert(open + 1, pick(2) ? "*" + name + ", " : "");
        s.insert(open, "&" + name + " ");
        break;
      }
      case 8: {  // another use of an anchor the text has
        const std::size_t amp = s.find('&', pick(s.size() + 1));
        if (amp == std::string::npos) break;
        const std::size_t end = s.find_first_of(" \n,]}", amp);
        s.insert(pick(s.size() + 1), "*" + s.substr(amp + 1, (end == std::string::npos ? s.size() : end) - amp - 1));
        break;
      }
      case 6: {  // duplicate a line (repeated keys, deeper nesting)
        const std::size_t at = pick(s.size() + 1);
        const std::size_t begin = s.rfind('\n', at == 0 ? 0 : at - 1);
        const std::size_t start = begin == std::string::npos ? 0 : begin + 1;
        const std::size_t end = s.find('\n', start);
        s.insert(start, s.substr(start, end == std::string::npos ? std::string::npos : end - start + 1));
        break;
      }
    }
  }
  if (s.size() > sizeof g_case) s.resize(sizeof g_case);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: fuzz_scenario SECONDS SEED CRASH_DIR CORPUS_DIR...\n");
    return 2;
  }
  const double seconds = std::atof(argv[1]);
  const std::uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  const std::filesystem::path crash_dir = argv[3];

  std::vector<std::string> corpus;
  for (int a = 4; a < argc; ++a) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(argv[a]))
      if (entry.is_regular_file() && entry.path().extension() == ".yaml") files.push_back(entry.path());
    std::sort(files.begin(), files.end());  // the same order, so the same cases, everywhere
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      corpus.push_back(text.str());
    }
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "fuzz_scenario: no seed files (*.yaml) in the corpus directories\n");
    return 2;
  }
  std::snprintf(g_crash_path, sizeof g_crash_path, "%s/fuzz-crash-%llu.yaml", crash_dir.c_str(),
                static_cast<unsigned long long>(seed));
#ifdef SMBSIM_HAVE_SANITIZER_CALLBACK
  __sanitizer_set_death_callback(save_case);
#endif
  // On a stack of its own: a stack overflow (unbounded recursion) is the typical crash.
  static char alt_stack[1 << 16];
  stack_t ss{};
  ss.ss_sp = alt_stack;
  ss.ss_size = sizeof alt_stack;
  ::sigaltstack(&ss, nullptr);
  struct sigaction action {};
  action.sa_handler = on_fatal_signal;
  action.sa_flags = SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM}) ::sigaction(sig, &action, nullptr);

  const auto start = std::chrono::steady_clock::now();
  std::mt19937_64 rng(seed);
  long cases = 0, accepted = 0;
  const std::vector<smbsim::scenario::Override> set{{"alignment.level", "0.5", "--set alignment.level=0.5"}};
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
    // The seed files themselves first, then mutants and (one in four) generated cases.
    Piece generated{"", false};
    if (cases >= static_cast<long>(corpus.size()) && rng() % 4 == 0) generated = generated_case(rng);
    const std::string text = cases < static_cast<long>(corpus.size()) ? corpus[static_cast<std::size_t>(cases)]
                             : !generated.text.empty()                     ? generated.text
                                                                           : mutate(corpus[rng() % corpus.size()], corpus, rng);
    std::memcpy(g_case, text.data(), std::min(text.size(), sizeof g_case));
    g_case_size = std::min(text.size(), sizeof g_case);
    ::alarm(10);  // a case this slow is a hang: SIGALRM saves it and ends the loop
    for (int with_set = 0; with_set < 2; ++with_set) {
      try {
        smbsim::scenario::load_scenario(text, "fuzz.yaml", with_set ? set : std::vector<smbsim::scenario::Override>{});
        accepted += with_set == 0;
        if (generated.refused) {
          std::fprintf(stderr, "fuzz_scenario: case %ld: accepted a second document or a key written twice\n", cases);
          save_case();
          return 1;
        }
      } catch (const smbsim::scenario::ScenarioError& e) {
        if (std::string(e.what()).empty()) {
          std::fprintf(stderr, "fuzz_scenario: case %ld: a ScenarioError without a message\n", cases);
          save_case();
          return 1;
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "fuzz_scenario: case %ld: %s escaped the reader: %s\n", cases, typeid(e).name(), e.what());
        save_case();
        return 1;
      }
    }
    ::alarm(0);
    ++cases;
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("fuzz_scenario: %ld cases (%zu seed files, seed %llu) in %.1f s, %ld accepted, the rest refused with "
              "a message; no crash, hang or stray exception\n",
              cases, corpus.size(), static_cast<unsigned long long>(seed), took, accepted);
  return 0;
}
