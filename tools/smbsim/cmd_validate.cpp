// smbsim validate [SCENARIO] [--set path=value]...
#include "tools/smbsim/books_text.hpp"
#include "tools/smbsim/cli.hpp"
#include "tools/smbsim/options.hpp"
#include "tools/smbsim/summary_text.hpp"

#include <ostream>

namespace smbsim::cli {

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
  io.out << "# " << scenario_origin(o) << ": valid, "
         << sc.variants.size() << " variant(s), " << sc.simulation.runs << " runs x " << sc.simulation.months
         << " months, seed " << sc.simulation.seed << "\n"
         << sc.resolved << "\n";
  for (const auto& v : sc.variants) {
    io.out << "\n";
    print_books(v, io.out);
  }
  return kOk;
}

}  // namespace smbsim::cli
