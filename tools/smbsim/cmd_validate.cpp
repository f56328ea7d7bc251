// smbsim validate [SCENARIO] [--set path=value]...
#include "tools/smbsim/books_text.hpp"
#include "tools/smbsim/cli.hpp"
#include "tools/smbsim/options.hpp"
#include "tools/smbsim/summary_text.hpp"

#include "models/scenario/text.hpp"

#include <yaml-cpp/yaml.h>

#include <ostream>
#include <sstream>

namespace smbsim::cli {

namespace {
/// `node` into `out` as yaml-cpp's own `<<` writes it (tags, flow or block style), except
/// that a scalar holding a character printable() escapes (a control, a bidi override, a
/// zero-width space, a line separator) is double-quoted with every non-ASCII character
/// escaped (\u202e, \xe9): the terminal never sees it raw, and the YAML reads back the
/// same. Other text, such as café, is written as it is.
void emit_printable(YAML::Emitter& out, const YAML::Node& node) {
  const std::string& tag = node.Tag();
  if (!tag.empty() && tag != "?" && tag != "!") out << YAML::VerbatimTag(tag);
  const auto style = [&] {
    if (node.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
    if (node.Style() == YAML::EmitterStyle::Block) out << YAML::Block;
  };
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      if (scenario::printable(node.Scalar()) != node.Scalar()) out << YAML::DoubleQuoted << YAML::EscapeNonAscii;
      out << node.Scalar();
      break;
    case YAML::NodeType::Sequence:
      style();
      out << YAML::BeginSeq;
      for (const auto& item : node) emit_printable(out, item);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Map:
      style();
      out << YAML::BeginMap;
      for (const auto& item : node) {
        out << YAML::Key;
        emit_printable(out, item.first);
        out << YAML::Value;
        emit_printable(out, item.second);
      }
      out << YAML::EndMap;
      break;
    default:
      out << YAML::Null;
  }
}

/// Whether some line of `text` holds a character printable() escapes.
bool holds_escapes(const std::string& text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (scenario::printable(line) != line) return true;
  return false;
}

/// The resolved scenario's YAML, as it is unless it holds a character to escape.
void print_yaml(const std::string& yaml, std::ostream& out) {
  if (!holds_escapes(yaml)) {
    out << yaml;
    return;
  }
  YAML::Emitter emitter(out);
  emit_printable(emitter, YAML::Load(yaml));
}
}  // namespace

int cmd_validate(const std::vector<std::string>& args, Io io) {
  po::options_description visible = shared_options(kSet);
  visible.add_options()
      ("json", po::bool_switch(), "print the resolved scenario, and each variant's books in USD, as one JSON object");
  const auto parsed = parse_command(args, visible, "scenario",
                                    "Usage: smbsim validate [SCENARIO.yaml | -] [--set path=value]...\n\n"
                                    "Checks a scenario (the built-in default without one) and prints it with every default\n"
                                    "and override applied, then each variant's books in dollars (revenue, margin, costs,\n"
                                    "cash, credit, loans, plans, rules) to check against the client's statements.\n"
                                    "Exit code 2 and one line per problem if it is invalid.\n\n", io.out);
  if (!parsed) return kOk;
  const po::variables_map& vm = *parsed;
  const RunOptions o = read_run_options(vm);
  const scenario::Scenario sc = load_scenario_for(o);
  if (vm["json"].as<bool>()) {
    nlohmann::json j = scenario::yaml_to_json(sc.resolved);
    for (const auto& v : sc.variants) j["books"][v.name] = books_json(v);
    io.out << dump_json(j) << "\n";
    return kOk;
  }
  io.out << "# " << scenario::printable(scenario_origin(o)) << ": valid, "
         << sc.variants.size() << " variant(s), " << sc.simulation.runs << " runs x " << sc.simulation.months
         << " months, seed " << sc.simulation.seed << "\n";
  print_yaml(sc.resolved, io.out);
  io.out << "\n";
  for (const auto& v : sc.variants) {
    io.out << "\n";
    print_books(v, io.out);
  }
  return kOk;
}

}  // namespace smbsim::cli
