#include "models/firm/parameters.hpp"
#include "models/scenario/scenario.hpp"
#include "models/scenario/suggest.hpp"
#include "models/scenario/text.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include <set>
#include <string>

using namespace smbsim;
using namespace smbsim::scenario;
using firm::Param;

namespace {
/// The single problem line a bad scenario produces.
std::string problem(const std::string& text, const std::vector<Override>& sets = {}) {
  try {
    load_scenario(text, "s.yaml", sets);
  } catch (const ScenarioError& e) {
    REQUIRE(e.problems().size() == 1);
    return e.problems().front().line();
  }
  FAIL("expected a ScenarioError for: " << text);
  return "";
}
}  // namespace

TEST_CASE("the embedded default scenario loads with one base variant and the default shocks") {
  const Scenario sc = load_scenario(default_scenario_text(), "<default>");
  REQUIRE(sc.variants.size() == 1);
  CHECK(sc.variants[0].name == "base");
  CHECK(sc.simulation.months == 120);
  const auto& spec = sc.variants[0].spec;
  CHECK(spec.size == firm::Size::small);
  CHECK(spec[Param::alignment_level].nominal() == 0.6);
  CHECK(spec[Param::cash_buffer_days].lowest() == 5);
  CHECK(spec.shocks.size() == 6);
  CHECK(spec.shocks[1].triggered_by == 0);
  CHECK(sc.resolved.find("cash_buffer_days: {dist: triangular, low: 5, mode: 20, high: 80}") != std::string::npos);
}

TEST_CASE("the shock kinds are one table in ShockType order, read by the scenario reader") {
  std::set<std::string_view> names;
  for (int i = 0; i < firm::kShockTypes; ++i) {
    const auto& kind = firm::kShockKinds[static_cast<std::size_t>(i)];
    CHECK(static_cast<int>(kind.type) == i);
    CHECK(kind.while_active != nullptr);
    CHECK(kind.cash_impact != nullptr);
    CHECK(firm::shock_type_from_name(kind.name) == kind.type);
    names.insert(kind.name);
  }
  CHECK(names.size() == firm::kShockKinds.size());
  CHECK(std::string(firm::shock_type_names()) == "demand, segment, input_cost, credit, key_person, supplier");
}

TEST_CASE("size presets set defaults and explicit values win over them") {
  const Scenario sc = load_scenario("firm: {size: large, cash_buffer_days: 10}\n", "s.yaml");
  const auto& spec = sc.variants[0].spec;
  CHECK(spec[Param::headcount].nominal() == 500);
  CHECK(spec[Param::cash_buffer_days].nominal() == 10);
  CHECK(spec[Param::coupling].nominal() == Approx(0.1));
}

TEST_CASE("distributions parse wherever a number is accepted") {
  const Scenario sc = load_scenario(
      "alignment:\n  level: {dist: beta, a: 2, b: 3}\n"
      "firm:\n  headcount: {dist: discrete, values: [5, 10], weights: [1, 3]}\n"
      "market:\n  growth: {dist: normal, mean: 0.02, sd: 0.01}\n"
      "  fit: {dist: lognormal, median: 1, sigma: 0.2}\n"
      "  volatility: {dist: triangular, low: 0.1, mode: 0.2, high: 0.4}\n"
      "  isomorphism: {dist: uniform, low: 0, high: 0.5}\n",
      "s.yaml");
  const auto& spec = sc.variants[0].spec;
  CHECK_FALSE(spec[Param::alignment_level].is_fixed());
  CHECK(spec[Param::alignment_level].nominal() == Approx(0.4));
  CHECK(spec[Param::headcount].nominal() == Approx(8.75));
  CHECK(spec[Param::market_volatility].highest() == Approx(0.4));
}

TEST_CASE("variants override the base and keep everything else") {
  const Scenario sc = load_scenario(
      "alignment: {level: 0.5}\nvariants:\n  as_executed: {}\n  as_written: {alignment.level: 1.0}\n"
      "  micro: {firm: {size: micro}}\n",
      "s.yaml");
  REQUIRE(sc.variants.size() == 3);
  CHECK(sc.variants[0].spec[Param::alignment_level].nominal() == 0.5);
  CHECK(sc.variants[1].spec[Param::alignment_level].nominal() == 1.0);
  CHECK(sc.variants[2].spec.size == firm::Size::micro);
  CHECK(sc.variants[2].spec[Param::alignment_level].nominal() == 0.5);
  CHECK(sc.variants[1].overrides.find("alignment.level") != std::string::npos);
}

TEST_CASE("set overrides replace any field and are parsed as YAML") {
  const Scenario sc = load_scenario(default_scenario_text(), "<default>",
                                    {parse_override("alignment.level=0.4"), parse_override("firm.size=micro"),
                                     parse_override("market.growth={dist: uniform, low: 0, high: 0.1}")});
  const auto& spec = sc.variants[0].spec;
  CHECK(spec[Param::alignment_level].nominal() == 0.4);
  CHECK(spec.size == firm::Size::micro);
  CHECK(spec[Param::market_growth].highest() == Approx(0.1));
}

TEST_CASE("problems name the file, line and column, what was expected and what was found") {
  CHECK(problem("alignment:\n  level: 1.5\n") == "s.yaml:2:10: alignment.level: expected a number in [0, 1], found 1.5");
  CHECK(problem("firm:\n  sise: micro\n") == "s.yaml:2:9: firm.sise: unknown key (did you mean firm.size?)");
  CHECK(problem("simulation: {months: 2000}\n") ==
        "s.yaml:1:22: simulation.months: expected a whole number in [1, 1200], found 2000");
  CHECK(problem("strategy:\n  target: {product: 0.5, sales: 0.4}\n").find("expected shares summing to 1, found a sum of 0.9") !=
        std::string::npos);
  CHECK(problem("market: {growth: {dist: gamma, k: 1}}\n").find("did you mean") == std::string::npos);
  CHECK(problem("market: {growth: {dist: uniform, low: 1, high: 0}}\n").find("expected low < high") != std::string::npos);
}

TEST_CASE("command-line problems name the option") {
  CHECK(problem("{}", {parse_override("alignment.level=2")}) ==
        "--set alignment.level=2: alignment.level: expected a number in [0, 1], found 2");
  CHECK_THROWS_AS(parse_override("alignment.level"), ScenarioError);
}

TEST_CASE("scheduled events must fall within the horizon") {
  CHECK(problem("simulation: {months: 24}\ndisruption: {month: 30}\n").find("within the horizon") != std::string::npos);
}

TEST_CASE("edit distance and suggestions") {
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(closest("alignmnt.level", known_paths()) == std::optional<std::string>("alignment.level"));
  CHECK_FALSE(closest("zzzzzzzz", known_paths()).has_value());
}

TEST_CASE("every parameter has a unique path, a unit, a description and consistent defaults") {
  std::set<std::string> paths;
  for (const auto& p : firm::param_table()) {
    INFO(p.path);
    CHECK(paths.insert(std::string(p.path)).second);
    CHECK(&firm::info(p.id) == &p);
    CHECK_FALSE(p.unit.empty());
    CHECK_FALSE(p.description.empty());
    CHECK_FALSE(p.source.empty());
    // A key in the books' units has no default of its own: it is derived from the
    // share it replaces (NaN in the table); so is the price elasticity, from the margin,
    // and the credit growth, from whether the line is given in USD.
    const bool derived = p.id == firm::Param::price_elasticity || p.id == firm::Param::credit_growth ||
                         std::any_of(firm::kMoneyInputs.begin(), firm::kMoneyInputs.end(),
                                     [&](const firm::MoneyInput& m) { return m.money == p.id; });
    for (double d : p.defaults) {
      if (derived) {
        CHECK(std::isnan(d));
        continue;
      }
      CHECK(d >= p.min);
      CHECK(d <= p.max);
    }
  }
}

// Hostile input (issue 17): each of these crashed, hung or passed silently before.

TEST_CASE("a YAML cycle is refused at the alias, in the file and in --set") {
  CHECK(problem("x: &a [*a]\n") == "s.yaml:1:4: x[0]: expected a value, found an alias to a node that contains it (a cycle)");
  CHECK(problem("a: &m {b: {c: *m}}\n") ==
        "s.yaml:1:4: a.b.c: expected a value, found an alias to a node that contains it (a cycle)");
  CHECK(problem("", {{"firm.notes", "&a [*a]", "--set firm.notes=&a [*a]"}}) ==
        "--set firm.notes=&a [*a]: firm.notes[0]: expected a value, found an alias to a node that contains it (a cycle)");
  // An alias used twice, but outside its anchor, is fine (and is not a duplicate).
  CHECK(load_scenario("alignment: &l {level: 0.5}\nvariants:\n  a: {alignment: *l}\n  b: {alignment: *l}\n", "s.yaml")
            .variants.size() == 2);
}

TEST_CASE("alias expansion is capped: a billion-laughs file is refused quickly") {
  std::string text = "a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1]\n";
  for (int i = 1; i < 8; ++i) {
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 8; ++k) text += (k ? ", *a" : "*a") + std::to_string(i - 1);
    text += "]\n";
  }
  const std::string line = problem(text);
  CHECK(line.find("expected a scenario of at most 100000 values (each use of an alias counted), found more") != std::string::npos);
  CHECK(line.rfind("s.yaml:1:", 0) == 0);
}

TEST_CASE("seeds above 2^53 - 1 are refused, not rounded") {
  CHECK(load_scenario("simulation: {seed: 9007199254740991}\n", "s.yaml").simulation.seed == 9007199254740991ULL);
  CHECK(problem("simulation: {seed: 9007199254740993}\n") ==
        "s.yaml:1:20: simulation.seed: expected a whole number in [0, 9007199254740991], found 9007199254740993");
}

TEST_CASE("the file is checked as written, even where an option overrides it") {
  CHECK(problem("simulation: {runs: many}\n", {{"simulation.runs", "20", "--runs 20"}}) ==
        "s.yaml:1:20: simulation.runs: expected a whole number in [1, 1000000000], found \"many\"");
}

TEST_CASE("an option that a variant also sets is an error, not silently overridden") {
  const std::string text = "variants:\n  a: {firm: {size: micro}}\n  b: {firm: {size: large}}\n";
  CHECK(problem(text, {{"firm.size.x", "1", "--set firm.size.x=1"}}) ==
        "--set firm.size.x=1: firm.size.x: expected a setting the variants leave alone, found one that variants set too "
        "(firm.size): the variant's value would silently win");
  CHECK(problem(text, {{"variants.c", "{}", "--set variants.c={}"}}) ==
        "--set variants.c={}: variants.c: expected a setting; variants are written in the scenario file");
  CHECK(load_scenario(text, "s.yaml", {{"alignment.level", "0.4", "--set alignment.level=0.4"}}).variants.size() == 2);
}

TEST_CASE("scenario text must be UTF-8, messages escape what they echo") {
  CHECK(problem(std::string("\xff\xfe" "a\0:\0", 6)) == "s.yaml:1:1: expected UTF-8 text, found a UTF-16 byte-order mark (save the file as UTF-8)");
  CHECK(problem(std::string("firm:\n  size: a\0b\n", 17)) == "s.yaml:2:10: expected UTF-8 text, found a NUL byte");
  CHECK(problem("name: \"\xc3\x28\"\n") == "s.yaml:1:8: expected UTF-8 text, found the byte \\xc3, which is not UTF-8");
  CHECK(printable("a\nb\tc\x1b[0m\x7f\xff \xc3\xa9") == "a\\nb\\tc\\x1b[0m\\x7f\\xff \xc3\xa9");
  CHECK(shortened(std::string(100, 'x')) == std::string(80, 'x') + "...");
  CHECK(shortened(std::string(79, 'x') + "\xc3\xa9" + "yy") == std::string(79, 'x') + "...");  // never half a character
  CHECK(problem("firm: {size: " + std::string(500, 'q') + "}\n").size() < 200);
}

TEST_CASE("messages show invisible characters as escapes and stay bounded") {
  CHECK(printable("a\u202eb\u2066c\u200bd\u2028e\U000e0041\xc2\x85") == "a\\u202eb\\u2066c\\u200bd\\u2028e\\U000e0041\\u0085");
  CHECK(printable(std::string("my\0cafe", 7)) == "my\\x00cafe");  // a NUL is shown, not an end
  CHECK(printable("caf\xc3\xa9 \xe2\x82\xac") == "caf\xc3\xa9 \xe2\x82\xac");  // visible text stays as it is
  CHECK(shortened_start(std::string(100, 'x') + "/end.yaml") == "..." + std::string(71, 'x') + "/end.yaml");
  CHECK(shortened_start("\xc3\xa9" + std::string(79, 'x')) == "..." + std::string(79, 'x'));  // never half a character
  std::string words;
  for (int k = 0; k < 1000; ++k) words += "aaaa ";
  const std::string line = message_line(words + "found it");
  CHECK(line.size() < kMaxLineBytes + 10);
  CHECK(line.rfind(words.substr(0, 100), 0) == 0);
  CHECK(line.substr(line.size() - 8) == "found it");
  // A long word (a file name, whoever wrote the message) keeps its last 80 bytes.
  CHECK(message_line("/" + std::string(3000, 'd') + "/r.h5: file exists") == "..." + std::string(74, 'd') + "/r.h5: file exists");
  CHECK(shell_word("out-1.h5") == "out-1.h5");
  CHECK(shell_word("my out's.h5") == "'my out'\\''s.h5'");
  CHECK(shell_word("a\u202e\\b.h5") == "$'a\\u202e\\\\b.h5'");
  CHECK(Diagnostic{std::string(500, 'd') + "/s.yaml:3:4", std::string(500, 'k'), "m"}.line() ==
        "..." + std::string(73, 'd') + "/s.yaml:3:4: " + std::string(80, 'k') + "...: m");
}

TEST_CASE("one document and one key: text fields as text and names fit for HDF5 groups") {
  CHECK(problem("firm: {headcount: 5}\n---\nfirm: {headcount: [\n").rfind("s.yaml:2:1: expected one YAML document", 0) == 0);
  CHECK(problem("firm.headcount: 6\nfirm: {headcount: 5}\n") ==
        "s.yaml:2:19: firm.headcount: duplicate key (first written at s.yaml:1:17)");
  CHECK(problem("name: [my, cafe]\n") == "s.yaml:1:7: name: expected text, found a list");
  CHECK(problem("variants: {.: {}}\n").find("variants..: expected a name of letters") != std::string::npos);
  CHECK(problem("market: {isomorphism: abc}\nvariants: {a: {market.isomorphism: 0.2}}\n") ==
        "s.yaml:1:23: market.isomorphism: expected a number in [0, 1], found \"abc\"");
  CHECK(problem("", {{"alignment.level", "0.5\n---\nx: 1", "--set alignment.level=..."}}).find("found a second document") !=
        std::string::npos);
  CHECK_THROWS_AS(parse_override("alignment.level.=0.5"), ScenarioError);
  CHECK_THROWS_AS(parse_override(".alignment.level=0.5"), ScenarioError);
  CHECK(parse_override("alignment.level=0.5").path == "alignment.level");
}
