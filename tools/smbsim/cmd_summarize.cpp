// smbsim summarize FILE.h5 [--json]
#include "engine/summary.hpp"
#include "tools/smbsim/cli.hpp"
#include "tools/smbsim/options.hpp"
#include "tools/smbsim/summary_text.hpp"

#include <ostream>

namespace smbsim::cli {

int cmd_summarize(const std::vector<std::string>& args, Io io) {
  po::options_description visible("Options");
  visible.add_options()
      ("json", po::bool_switch(), "print one JSON object instead of the table");
  add_time_limit_option(visible);
  const auto parsed = parse_command(args, visible, "file",
                                    "Usage: smbsim summarize FILE.h5 [--json] [--time-limit SECONDS]\n\n"
                                    "Per variant: survival at 12, 24, 60, 120 months and the end with 95% intervals,\n"
                                    "failure causes, median time to failure, cash and revenue at the end, KPIs, and\n"
                                    "paired differences against the first variant.\n\n", io.out);
  if (!parsed) return kOk;
  const po::variables_map& vm = *parsed;
  if (!vm.count("file")) throw UsageError("FILE: expected a result file to summarize, found none (see smbsim summarize --help)");
  const Summary s = summarize_untrusted_file(vm["file"].as<std::string>(), read_time_limit(vm));
  if (vm["json"].as<bool>()) {
    print_summary_json(s, io.out);
  } else {
    print_summary(s, io.out);
  }
  return kOk;
}

}  // namespace smbsim::cli
