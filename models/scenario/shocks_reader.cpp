#include "models/scenario/shocks_reader.hpp"

#include "models/firm/firm.hpp"
#include "models/scenario/default_shocks.hpp"
#include "models/scenario/distribution.hpp"
#include "models/scenario/suggest.hpp"
#include "models/scenario/text.hpp"

#include <algorithm>
#include <map>

namespace smbsim::scenario::detail {

namespace {
const std::vector<std::string> kShockKeys{"name", "type", "rate", "month", "severity", "duration",
                                          "triggered_by", "trigger_probability"};

void fail(std::vector<Diagnostic>& problems, const Entry& e, const std::string& path, const std::string& message) {
  problems.push_back({e.where, path, message});
}

/// `shocks.NAME.FIELD` entries (from --set, --grid or a variant) put over the list's
/// shock of that name: the list is copied, the field replaced. Returns where each
/// replaced field was set, by (shock index, field).
std::map<std::pair<std::size_t, std::string>, std::string> apply_named(const Flat& flat, Entry& list,
                                                                       std::vector<Diagnostic>& problems) {
  std::map<std::pair<std::size_t, std::string>, std::string> set_at;
  bool copied = false;
  for (auto it = flat.lower_bound("shocks."); it != flat.end() && it->first.rfind("shocks.", 0) == 0; ++it) {
    const std::string& path = it->first;
    const auto dot = path.find('.', 7);
    const std::string name = path.substr(7, dot == std::string::npos ? std::string::npos : dot - 7);
    const std::string key = dot == std::string::npos ? "" : path.substr(dot + 1);
    if (!list.node.IsSequence()) {
      fail(problems, it->second, path, "expected a list of shocks to find " + name + " in, found " + describe(list.node));
      continue;
    }
    std::vector<std::string> names;
    std::size_t index = list.node.size();
    for (std::size_t i = 0; i < list.node.size(); ++i) {
      const YAML::Node item = list.node[i];
      const std::string n = item.IsMap() && item["name"] && item["name"].IsScalar() ? item["name"].Scalar() : "";
      names.push_back(n);
      if (n == name) index = i;
    }
    if (index == list.node.size()) {
      const auto hint = closest(name, names);
      std::string all;
      for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
      fail(problems, it->second, path, "unknown shock " + shortened(name) + (hint ? " (did you mean " + *hint + "?)" : "; the scenario's shocks are " + (all.empty() ? std::string("none") : all)));
      continue;
    }
    if (key.empty() || key.find('.') != std::string::npos || key == "name" || !contains(kShockKeys, key)) {
      const auto hint = key.empty() ? std::nullopt : closest(key, kShockKeys);
      fail(problems, it->second, path, "expected shocks." + shortened(name) + ".FIELD with FIELD one of type, rate, month, severity, duration, triggered_by, trigger_probability" + (hint && *hint != "name" ? " (did you mean " + *hint + "?)" : ""));
      continue;
    }
    if (!copied) {  // the list is shared with other variants: change a copy
      // reset, not `=`: assigning to a yaml-cpp handle rewrites the node it points to,
      // which would give this variant's change to every variant after it.
      list.node.reset(YAML::Clone(list.node));
      copied = true;
    }
    list.node[index][key] = YAML::Clone(it->second.node);  // the file's node would merge its memory in: see read_shocks
    set_at[{index, key}] = it->second.where;
  }
  return set_at;
}

/// A shock's name becomes its failure cause's label (monthly/cause, failure_cause's
/// flag_meanings): it must not be a fixed cause's name or `survived`, the label of code -1.
bool is_reserved_cause_name(const std::string& name) {
  return name == "survived" || std::find(firm::kFixedCauseNames.begin(), firm::kFixedCauseNames.end(), name) !=
                                   firm::kFixedCauseNames.end();
}

std::string reserved_cause_names() {
  std::string all = "survived";
  for (const char* n : firm::kFixedCauseNames) all += std::string(", ") + n;
  return all;
}

/// One key of one shock, read into `s`; `names` are the shocks listed before it.
void read_field(const YAML::Node& key_node, const YAML::Node& value, const Entry& field, const std::string& path,
                firm::ShockSpec& s, const std::vector<std::string>& names, std::vector<Diagnostic>& problems) {
  const std::string key = key_node.Scalar();
  auto number = [&](const Range& r, double& out) {
    auto v = parse_uncertain(value, r);
    if (auto* e = std::get_if<std::string>(&v)) return fail(problems, field, path, *e);
    if (!std::get<Uncertain>(v).is_fixed()) return fail(problems, field, path, "expected " + describe(r) + " (not a distribution), found a distribution");
    out = std::get<Uncertain>(v).nominal();
  };
  auto uncertain = [&](const Range& r, Uncertain& out) {
    auto v = parse_uncertain(value, r);
    if (auto* e = std::get_if<std::string>(&v)) return fail(problems, field, path, *e);
    out = std::get<Uncertain>(v);
  };
  if (key == "name") {
    s.name = value.IsScalar() ? value.Scalar() : "";
    if (s.name.empty() || s.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
      fail(problems, field, path, "expected a name of lower-case letters, digits, _ or -, found " + describe(value));
    else if (contains(names, s.name))
      fail(problems, field, path, "expected a unique shock name, found \"" + s.name + "\" again");
    else if (is_reserved_cause_name(s.name))
      fail(problems, field, path, "expected a shock name that is not a fixed failure cause (" + reserved_cause_names() +
                                      "), found \"" + s.name + "\"");
  } else if (key == "type") {
    const auto t = value.IsScalar() ? firm::shock_type_from_name(value.Scalar()) : std::nullopt;
    if (t) {
      s.type = *t;
    } else {
      std::vector<std::string> types;
      for (const auto& k : firm::kShockKinds) types.emplace_back(k.name);
      const auto hint = value.IsScalar() ? closest(value.Scalar(), types) : std::nullopt;
      fail(problems, field, path, "expected one of " + std::string(firm::shock_type_names()) + ", found " +
                            describe(value) + (hint ? " (did you mean " + *hint + "?)" : ""));
    }
  } else if (key == "rate") {
    number({0, 12}, s.rate);
  } else if (key == "month") {
    double m = 0;
    number({0, double(kMaxMonths), true}, m);
    s.month = static_cast<int>(m);
  } else if (key == "severity") {
    uncertain({0, 1}, s.severity);
  } else if (key == "duration") {
    uncertain({1, double(kMaxMonths)}, s.duration);
  } else if (key == "trigger_probability") {
    number({0, 1}, s.trigger_probability);
  } else if (key == "triggered_by") {
    const std::string by = value.IsScalar() ? value.Scalar() : "";
    const auto pos = std::find(names.begin(), names.end(), by);
    if (pos == names.end())
      fail(problems, field, path, "expected the name of a shock listed earlier, found " + describe(value));
    else
      s.triggered_by = static_cast<int>(pos - names.begin());
  } else {
    const auto hint = closest(key, kShockKeys);
    fail(problems, {key_node, field.where}, path, "unknown key" + (hint ? " (did you mean " + *hint + "?)" : ""));
  }
}
/// The default catalogue, parsed once (parsing it for each variant took a fifth of a
/// variant's reading). Only read: a variant that changes a shock changes a copy.
const YAML::Node& default_shocks() {
  static const YAML::Node shocks = YAML::Load(embedded::default_shocks);
  return shocks;
}
}  // namespace

void read_shocks(const Flat& flat, std::vector<firm::ShockSpec>& shocks, YAML::Node& resolved,
                 std::vector<Diagnostic>& problems) {
  Entry list;
  if (auto it = flat.find("shocks"); it != flat.end()) {
    list = it->second;
  } else {
    list = {default_shocks(), "<default shocks>"};
  }
  const YAML::Node written = list.node;  // as written, with its marks
  const auto set_at = apply_named(flat, list, problems);
  resolved["shocks"] = YAML::Clone(list.node);  // a copy: sharing the file's nodes would chain every variant's memory together
  if (list.node.IsNull()) return;  // `shocks:` with nothing: no shocks
  if (!list.node.IsSequence()) {
    fail(problems, list, "shocks", "expected a list of shocks, found " + describe(list.node));
    return;
  }
  const std::string source = source_of(list.where);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < list.node.size(); ++i) {
    const YAML::Node item = list.node[i];
    const std::string at = "shocks[" + std::to_string(i) + "]";
    const Entry here{item, list.where == "<default shocks>" ? list.where : mark_of(written[i], source)};
    if (!item.IsMap()) {
      fail(problems, here, at, "expected a map with name, type, rate or month, severity, duration; found " + describe(item));
      continue;
    }
    if (i >= static_cast<std::size_t>(firm::kMaxShocks)) {
      fail(problems, here, at, "expected at most " + std::to_string(firm::kMaxShocks) + " shocks, found more");
      break;
    }
    firm::ShockSpec s;
    for (const auto& kv : item) {
      const std::string key = kv.first.Scalar();
      const auto named = set_at.find({i, key});
      const Entry field{kv.second, named != set_at.end()           ? named->second
                                   : list.where == "<default shocks>" ? list.where
                                   : written[i][key].IsDefined()       ? mark_of(written[i][key], source)
                                                                      : here.where};  // e.g. an empty key
      const std::string path = at + "." + key;
      read_field(kv.first, kv.second, field, path, s, names, problems);
    }
    if (!item["name"]) fail(problems, here, at, "expected a name, found none");
    if (!item["type"]) fail(problems, here, at + ".type", "expected one of " + std::string(firm::shock_type_names()) + ", found nothing");
    if (item["trigger_probability"] && !item["triggered_by"])
      fail(problems, here, at + ".trigger_probability", "expected triggered_by to go with it, found none");
    names.push_back(s.name);
    shocks.push_back(std::move(s));
  }
}

}  // namespace smbsim::scenario::detail
