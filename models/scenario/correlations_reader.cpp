#include "models/scenario/correlations_reader.hpp"

#include "models/scenario/distribution.hpp"
#include "models/scenario/suggest.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

namespace smbsim::scenario::detail {

void read_correlations(const Flat& flat, firm::FirmSpec& spec, YAML::Node& resolved, std::vector<Diagnostic>& problems) {
  const auto it = flat.find("correlations");
  if (it == flat.end()) return;
  const Entry& list = it->second;
  resolved["correlations"] = YAML::Clone(list.node);  // not the file's node: see read_shocks
  if (list.node.IsNull()) return;
  if (!list.node.IsSequence()) {
    problems.push_back({list.where, "correlations",
                        "expected a list of [parameter.path, parameter.path, rank_correlation], found " + describe(list.node)});
    return;
  }
  std::vector<std::string> uncertain;
  for (const auto& in : firm::uncertain_inputs(spec)) uncertain.push_back(in.path);
  std::vector<std::string> every = known_paths();
  every.insert(every.end(), uncertain.begin(), uncertain.end());
  const std::string source = source_of(list.where);
  std::set<std::pair<std::string, std::string>> seen;
  std::vector<Correlation> out;
  bool ok = true;
  for (std::size_t i = 0; i < list.node.size(); ++i) {
    const YAML::Node item = list.node[i];
    const std::string at = "correlations[" + std::to_string(i) + "]";
    const std::string where = list.where.rfind("--", 0) == 0 ? list.where : mark_of(item, source);
    auto fail = [&](const std::string& w, const std::string& message) {
      problems.push_back({w, at, message});
      ok = false;
    };
    if (!item.IsSequence() || item.size() != 3 || !item[0].IsScalar() || !item[1].IsScalar()) {
      fail(where, "expected [parameter.path, parameter.path, rank_correlation], found " + describe(item));
      continue;
    }
    auto where_of = [&](const YAML::Node& n) { return list.where.rfind("--", 0) == 0 ? list.where : mark_of(n, source); };
    bool item_ok = true;
    for (int k = 0; k < 2; ++k) {
      const std::string path = item[k].Scalar();
      if (std::find(uncertain.begin(), uncertain.end(), path) != uncertain.end()) continue;
      item_ok = false;
      const bool known = std::find(every.begin(), every.end(), path) != every.end() ||
                         path.rfind("loans.", 0) == 0 || path.rfind("plans.", 0) == 0;
      if (known) {
        fail(where_of(item[k]), "expected a parameter drawn from a distribution, found " + path +
                                    ", which is fixed in this scenario: give it a {dist: ...} first");
      } else {
        const auto hint = closest(path, every);
        fail(where_of(item[k]), "unknown parameter " + path + (hint ? " (did you mean " + *hint + "?)" : ""));
      }
    }
    const auto r = parse_number(item[2]);
    if (std::holds_alternative<std::string>(r) || !(std::abs(std::get<double>(r)) < 1.0)) {
      fail(where_of(item[2]), "expected a rank correlation in (-1, 1), found " + describe(item[2]));
      continue;
    }
    if (!item_ok) continue;
    const std::string a = item[0].Scalar(), b = item[1].Scalar();
    if (a == b) {
      fail(where, "expected two different parameters, found " + a + " twice");
      continue;
    }
    if (!seen.insert(std::minmax(a, b)).second) {
      fail(where, "expected each pair once, found " + a + " and " + b + " again");
      continue;
    }
    out.push_back({a, b, std::get<double>(r)});
  }
  if (!ok) return;
  if (!positive_definite(normal_score_matrix(uncertain, out))) {
    problems.push_back({list.where, "correlations",
                        "expected correlations that can hold together (a positive definite matrix), found a set that "
                        "cannot: e.g. a strongly correlated with b and with c, but b and c far apart; weaken some"});
    return;
  }
  spec.design.correlations = std::move(out);
}

}  // namespace smbsim::scenario::detail
