#include "models/scenario/scenario.hpp"

#include "models/scenario/correlations_reader.hpp"
#include "models/scenario/decisions_reader.hpp"
#include "models/scenario/default_scenario.hpp"
#include "models/scenario/fragility_scenario.hpp"
#include "models/scenario/distribution.hpp"
#include "models/scenario/shocks_reader.hpp"
#include "models/scenario/suggest.hpp"
#include "models/scenario/text.hpp"
#include "models/scenario/tree.hpp"
#include "models/scenario/value_count.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

namespace smbsim::scenario {

using firm::FirmSpec;
using firm::Mix;
using firm::Param;
using namespace detail;

namespace {
/// Where a problem is, as shown: a file name keeps its end (and the line and column), an
/// option its start, each cut at about 80 bytes.
std::string shown_where(const std::string& where) {
  const std::string source = source_of(where);
  if (source == where) return where.rfind("--", 0) == 0 ? shortened(where) : shortened_start(where);
  return shortened_start(source) + where.substr(source.size());
}
}  // namespace

std::string Diagnostic::line() const {
  return shown_where(where) + ": " + (path.empty() ? "" : shortened(path) + ": ") + message;
}

namespace {
std::string join_lines(const std::vector<Diagnostic>& problems) {
  std::string s;
  for (const auto& p : problems) s += (s.empty() ? "" : "\n") + p.line();
  return s;
}
}  // namespace

ScenarioError::ScenarioError(std::vector<Diagnostic> problems)
    : std::runtime_error(join_lines(problems)), problems_(std::move(problems)) {}

const std::string& default_scenario_text() {
  static const std::string text = embedded::default_scenario;
  return text;
}

const std::string& fragility_scenario_text() {
  static const std::string text = embedded::fragility_scenario;
  return text;
}

namespace {

const std::vector<std::string> kSections{"firm", "strategy", "alignment", "market", "disruption", "automation"};
const std::vector<std::string> kSpecialPaths{"name", "description", "firm.size", "firm.established",
                                             "firm.seasonality", "automation.capability", "simulation.runs",
                                             "simulation.months", "simulation.seed", "simulation.sampling",
                                             "correlations", "shocks", "loans", "plans", "rules"};

class Resolver {
 public:
  explicit Resolver(std::vector<Diagnostic>& problems) : problems_(problems) {}

  void fail(const Entry& e, const std::string& path, const std::string& message) {
    problems_.push_back({e.where, path, message});
  }

  /// Builds the firm specification of one variant from its flattened tree.
  FirmSpec resolve(const Flat& flat, int horizon, YAML::Node& resolved) {
    firm::Size size = firm::Size::small;
    if (auto it = flat.find("firm.size"); it != flat.end()) {
      const auto s = it->second.node.IsScalar() ? firm::size_from_name(it->second.node.Scalar()) : std::nullopt;
      if (s) {
        size = *s;
      } else {
        fail(it->second, "firm.size", "expected one of micro, small, medium, large, found " + describe(it->second.node));
      }
    }
    FirmSpec spec = firm::preset(size);
    resolved["firm"]["size"] = std::string(firm::kSizeNames[static_cast<std::size_t>(size)]);
    for (const auto& info : firm::param_table()) {
      const std::string path(info.path);
      const auto dot = path.find('.');
      YAML::Node slot = resolved[path.substr(0, dot)];
      const std::string key = path.substr(dot + 1);
      if (auto it = flat.find(path); it != flat.end()) {
        auto v = parse_uncertain(it->second.node, {info.min, info.max, info.integer});
        if (auto* e = std::get_if<std::string>(&v)) {
          fail(it->second, path, *e);
        } else {
          spec[info.id] = std::get<Uncertain>(v);
        }
        slot[key] = YAML::Clone(it->second.node);  // not the file's node: see read_shocks
      } else if (!std::isnan(info.defaults[static_cast<std::size_t>(size)]) && !replaced_by_books(flat, info.id)) {
        // (Keys in USD have no default: the books show them. A share the scenario gave in
        // USD is not shown either, so the resolved text reads back as it is.)
        slot[key] = number_text(info.defaults[static_cast<std::size_t>(size)]);
      }
    }
    check_money_inputs(flat);
    resolve_established(flat, spec, resolved);
    resolve_seasonality(flat, spec, resolved);
    read_decisions(flat, horizon, spec.decisions, resolved, problems_);
    resolve_mix(flat, "strategy.target", spec.strategy_target, resolved);
    resolve_mix(flat, "market.value_weights", spec.value_weights, resolved);
    resolve_mix(flat, "disruption.new_weights", spec.disruption_weights, resolved);
    if (flat.find("strategy.target") == flat.end()) {
      // The default strategy is the market's own mix (a well-chosen plan).
      spec.strategy_target = spec.value_weights;
      resolved["strategy"]["target"] = mix_node(spec.strategy_target);
    }
    if (auto it = flat.find("automation.capability"); it != flat.end()) {
      const auto c = it->second.node.IsScalar() ? firm::capability_index(it->second.node.Scalar()) : std::nullopt;
      if (c) {
        spec.automation_capability = *c;
      } else {
        fail(it->second, "automation.capability", "expected a capability (" + capability_list() + "), found " + describe(it->second.node));
      }
    }
    resolved["automation"]["capability"] =
        std::string(firm::kCapabilityNames[static_cast<std::size_t>(spec.automation_capability)]);
    read_shocks(flat, spec.shocks, resolved, problems_);
    read_correlations(flat, spec, resolved, problems_);
    check_unknown(flat);
    return spec;
  }

 private:
  static std::string capability_list() {
    std::string s;
    for (auto n : firm::kCapabilityNames) s += (s.empty() ? "" : ", ") + std::string(n);
    return s;
  }

  /// Whether the scenario gives `share` in the units of the books instead.
  static bool replaced_by_books(const Flat& flat, Param share) {
    for (const auto& input : firm::kMoneyInputs)
      if (input.share == share && flat.count(std::string(firm::info(input.money).path))) return true;
    return false;
  }

  /// A key in USD and the share it replaces are never both given [M§1].
  void check_money_inputs(const Flat& flat) {
    for (const auto& input : firm::kMoneyInputs) {
      const std::string money(firm::info(input.money).path), share(firm::info(input.share).path);
      const auto m = flat.find(money), sh = flat.find(share);
      if (m != flat.end() && sh != flat.end())
        fail(m->second, money, "expected either " + money + " (in the books' units) or " + share + " (written at " + sh->second.where +
                                   "), found both: give the one you know");
    }
  }

  /// `firm.established: true`: an existing business, no founding ramp, its fit known [M§6].
  void resolve_established(const Flat& flat, FirmSpec& spec, YAML::Node& resolved) {
    const auto it = flat.find("firm.established");
    if (it == flat.end()) {
      resolved["firm"]["established"] = false;
      return;
    }
    const YAML::Node& n = it->second.node;
    if (!n.IsScalar() || (n.Scalar() != "true" && n.Scalar() != "false")) {
      fail(it->second, "firm.established", "expected true or false, found " + describe(n));
      return;
    }
    spec.established = n.Scalar() == "true";
    resolved["firm"]["established"] = spec.established;
    if (!spec.established) return;
    const bool no_ramp = spec[Param::ramp_months].is_fixed() && spec[Param::ramp_months].nominal() == 0.0;
    if (auto r = flat.find("firm.ramp_months"); r != flat.end() && !no_ramp)
      fail(r->second, "firm.ramp_months", "expected no founding ramp-up for an established firm (firm.established: true at " +
                                              it->second.where + "), found one: remove one of the two");
    spec[Param::ramp_months] = 0.0;
    resolved["firm"]["ramp_months"] = 0;
    if (flat.find("market.fit_sigma") == flat.end()) {
      spec[Param::market_fit_sigma] = firm::kEstablishedFitSigma;
      resolved["market"]["fit_sigma"] = number_text(firm::kEstablishedFitSigma);
    }
  }

  /// `firm.seasonality`: twelve demand factors with mean 1 [M§1].
  void resolve_seasonality(const Flat& flat, FirmSpec& spec, YAML::Node& resolved) {
    const auto it = flat.find("firm.seasonality");
    if (it == flat.end()) return;
    const YAML::Node& n = it->second.node;
    if (!n.IsSequence() || n.size() != 12) {
      fail(it->second, "firm.seasonality", "expected a list of 12 monthly demand factors with mean 1, found " +
                                               (n.IsSequence() ? std::to_string(n.size()) + " factors" : describe(n)));
      return;
    }
    std::array<double, 12> f{};
    double total = 0.0;
    for (std::size_t i = 0; i < 12; ++i) {
      auto x = parse_number(n[i]);
      if (std::holds_alternative<std::string>(x) || std::get<double>(x) <= 0 || std::get<double>(x) > 12) {
        fail({n[i], mark_of(n[i], source_of(it->second.where))}, "firm.seasonality[" + std::to_string(i) + "]",
             "expected a factor in (0, 12] (a fixed number: seasons are known), found " + describe(n[i]));
        return;
      }
      f[i] = std::get<double>(x);
      total += f[i];
    }
    if (std::abs(total / 12.0 - 1.0) > 0.005) {
      std::ostringstream m;
      m << "expected factors with mean 1 (within 0.005), found a mean of " << total / 12.0;
      fail(it->second, "firm.seasonality", m.str());
      return;
    }
    // Rescaled to a mean of exactly 1 (factors that already sum to 12 stay as written).
    const bool exact = std::abs(total - 12.0) < 1e-9;
    for (std::size_t i = 0; i < 12; ++i) spec.seasonality[i] = exact ? f[i] : f[i] * 12.0 / total;
    resolved["firm"]["seasonality"] = YAML::Clone(n);
  }

  static YAML::Node mix_node(const Mix& m) {
    YAML::Node n;
    for (int i = 0; i < firm::kCapabilities; ++i)
      n[std::string(firm::kCapabilityNames[static_cast<std::size_t>(i)])] = number_text(m[i]);
    return n;
  }

  void resolve_mix(const Flat& flat, const std::string& path, Mix& out, YAML::Node& resolved) {
    const auto dot = path.find('.');
    auto it = flat.find(path);
    if (it == flat.end()) {
      resolved[path.substr(0, dot)][path.substr(dot + 1)] = mix_node(out);
      return;
    }
    const Entry& e = it->second;
    if (!e.node.IsMap()) {
      fail(e, path, "expected a map of capability shares (" + capability_list() + "), found " + describe(e.node));
      return;
    }
    Mix m = Mix::Zero();
    bool ok = true;
    std::vector<std::string> names(firm::kCapabilityNames.begin(), firm::kCapabilityNames.end());
    for (const auto& kv : e.node) {
      const std::string name = kv.first.Scalar();
      const auto idx = firm::capability_index(name);
      const Entry item{kv.second, e.where};
      if (!idx) {
        const auto hint = closest(name, names);
        fail({kv.first, mark_of(kv.first, source_of(e.where))}, path + "." + name,
             "unknown capability" + (hint ? " (did you mean " + *hint + "?)" : "; expected one of " + capability_list()));
        ok = false;
        continue;
      }
      auto x = parse_number(kv.second);
      if (std::holds_alternative<std::string>(x) || std::get<double>(x) < 0) {
        fail({kv.second, mark_of(kv.second, source_of(e.where))}, path + "." + name,
             "expected a share >= 0, found " + describe(kv.second));
        ok = false;
        continue;
      }
      m[*idx] = std::get<double>(x);
    }
    if (ok && std::abs(m.sum() - 1.0) > 1e-6) {
      std::ostringstream s;
      s << "expected shares summing to 1, found a sum of " << m.sum();
      fail(e, path, s.str());
      ok = false;
    }
    if (ok) out = m;
    resolved[path.substr(0, dot)][path.substr(dot + 1)] = YAML::Clone(e.node);
  }

  void check_unknown(const Flat& flat) {
    static const std::vector<std::string> known = known_paths();
    for (const auto& [path, e] : flat) {
      if (contains(known, path) || path == "variants") continue;
      if (path.rfind("shocks.", 0) == 0) continue;  // a shock's field by name: read_shocks
      if (contains(kSections, path) || path == "simulation") {
        if (!e.node.IsMap() && !e.node.IsNull())
          fail(e, path, "expected a map of " + path + " settings, found " + describe(e.node));
        continue;
      }
      const auto hint = closest(path, known);
      fail(e, path, "unknown key" + (hint ? " (did you mean " + *hint + "?)" : ""));
    }
  }

  std::vector<Diagnostic>& problems_;
};

Simulation resolve_simulation(const Flat& flat, std::vector<Diagnostic>& problems, YAML::Node& resolved) {
  Simulation sim;
  auto get = [&](const std::string& path, const Range& r, double fallback) {
    auto it = flat.find(path);
    if (it == flat.end()) return fallback;
    auto v = parse_uncertain(it->second.node, r);
    if (auto* e = std::get_if<std::string>(&v)) {
      problems.push_back({it->second.where, path, *e});
      return fallback;
    }
    if (!std::get<Uncertain>(v).is_fixed()) {
      problems.push_back({it->second.where, path, "expected " + describe(r) + ", found a distribution"});
      return fallback;
    }
    return std::get<Uncertain>(v).nominal();
  };
  sim.runs = static_cast<std::int64_t>(get("simulation.runs", {1, double(kMaxRuns), true}, double(sim.runs)));
  sim.months = static_cast<int>(get("simulation.months", {1, double(kMaxMonths), true}, sim.months));
  // Below 2^53: every whole number is exact as a double, so a larger seed is refused
  // instead of silently rounded (2^53 + 1 would read as 2^53).
  sim.seed = static_cast<std::uint64_t>(get("simulation.seed", {0, double(kMaxSeed), true}, double(sim.seed)));
  if (auto it = flat.find("simulation.sampling"); it != flat.end()) {
    const auto kind = it->second.node.IsScalar() ? sampling_from_name(it->second.node.Scalar()) : std::nullopt;
    if (kind)
      sim.sampling = *kind;
    else
      problems.push_back({it->second.where, "simulation.sampling",
                          "expected one of random, lhs, sobol, found " + describe(it->second.node)});
  }
  resolved["simulation"]["runs"] = sim.runs;
  resolved["simulation"]["months"] = sim.months;
  resolved["simulation"]["seed"] = sim.seed;
  resolved["simulation"]["sampling"] = std::string(kSamplingNames[static_cast<std::size_t>(sim.sampling)]);
  return sim;
}

/// Months within the horizon: scheduled events after it would silently never happen.
void check_horizon(const FirmSpec& spec, const Flat& flat, int months, std::vector<Diagnostic>& problems) {
  for (Param p : {Param::disruption_month, Param::automation_month}) {
    const std::string path(firm::info(p).path);
    if (spec[p].highest() > months) {
      auto it = flat.find(path);
      problems.push_back({it != flat.end() ? it->second.where : "", path,
                          "expected a month within the horizon (1 to " + std::to_string(months) + "), found " +
                              std::to_string(static_cast<int>(spec[p].highest()))});
    }
  }
  for (std::size_t i = 0; i < spec.shocks.size(); ++i)
    if (spec.shocks[i].month > months) {
      auto it = flat.find("shocks");
      problems.push_back({it != flat.end() ? it->second.where : "", "shocks[" + std::to_string(i) + "].month",
                          "expected a month within the horizon (1 to " + std::to_string(months) + "), found " +
                              std::to_string(spec.shocks[i].month)});
    }
}

/// A variant's name is the name of its HDF5 group (`/variants/NAME`): "." and ".." (and
/// any name of dots alone) would name the group above or this one, a "/" a path.
bool valid_group_name(const std::string& n) {
  return !n.empty() && n.find_first_not_of('.') != std::string::npos && n.find_first_of(std::string("/\0", 2)) == std::string::npos;
}

bool valid_variant_name(const std::string& n) {
  return valid_group_name(n) && n.size() <= 200 &&
         n.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.=,+") == std::string::npos;
}
const char* const kVariantNameForm =
    "expected a name of letters, digits and _ - . = , + (at most 200, and not dots alone), found ";

}  // namespace

namespace {
nlohmann::json json_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json j = nlohmann::json::object();
      for (const auto& kv : node) j[kv.first.Scalar()] = json_of(kv.second);
      return j;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& item : node) j.push_back(json_of(item));
      return j;
    }
    case YAML::NodeType::Scalar: {
      const auto number = parse_number(node);
      if (const double* x = std::get_if<double>(&number)) return *x;
      return node.Scalar();
    }
    default: return nullptr;
  }
}
}  // namespace

nlohmann::json yaml_to_json(const std::string& yaml) { return json_of(YAML::Load(yaml)); }

std::vector<std::string> known_paths() {
  std::vector<std::string> paths = kSpecialPaths;
  paths.insert(paths.end(), kMixPaths.begin(), kMixPaths.end());
  for (const auto& info : firm::param_table()) paths.emplace_back(info.path);
  return paths;
}

Diagnostic scenario_too_long(const std::string& source, std::optional<std::uintmax_t> bytes) {
  return {source, "", "expected a scenario of at most " + std::to_string(kMaxScenarioBytes >> 20) + " MiB (" +
                          std::to_string(kMaxScenarioBytes) + " bytes), found " +
                          (bytes ? std::to_string(*bytes) + " bytes" : std::string("more"))};
}

Override parse_override(const std::string& text, const std::string& option) {
  if (text.size() > kMaxOptionBytes)
    throw ScenarioError({{option + " " + shortened(text), "",
                          "expected path=value of at most " + std::to_string(kMaxOptionBytes >> 10) + " KiB (" +
                              std::to_string(kMaxOptionBytes) + " bytes), found " + std::to_string(text.size()) + " bytes"}});
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    throw ScenarioError({{option + " " + text, "", "expected path=value (e.g. alignment.level=0.4), found \"" + shortened(text) + "\""}});
  check_path(text.substr(0, eq), option + " " + text);
  return {text.substr(0, eq), text.substr(eq + 1), option + " " + text};
}

void check_path(const std::string& path, const std::string& origin) {
  if (path.empty() || path.front() == '.' || path.back() == '.' || path.find("..") != std::string::npos)
    throw ScenarioError({{origin, path, "expected keys joined by single dots (e.g. alignment.level), found an empty key"}});
}

namespace {
/// The scenario text as YAML: UTF-8 and valid YAML, or one problem naming where; an
/// empty file is an empty map.
YAML::Node parse_root(const std::string& text, const std::string& source) {
  if (const auto bad = check_utf8_text(text))
    throw ScenarioError({{source + ":" + std::to_string(bad->line) + ":" + std::to_string(bad->column), "",
                          "expected UTF-8 text, found " + bad->found}});
  YAML::Node root;
  try {
    check_value_count(text, source);  // before the tree exists
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ScenarioError({{source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1),
                          "", "expected valid YAML, found a syntax error (" + e.msg + ")"}});
  }
  if (const auto second = second_document(text))
    throw ScenarioError({{source + ":" + std::to_string(second->line + 1) + ":" + std::to_string(second->column + 1), "",
                          "expected one YAML document, found a second (after a --- or ... line): a scenario is one "
                          "document, and yaml-cpp would silently read the first alone"}});
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap())
    throw ScenarioError({{mark_of(root, source), "", "expected a map of sections (simulation, firm, strategy, ...), found " + describe(root)}});
  return root;
}

/// Each variant's settings (the base with its own overrides on top) and its overrides as
/// text: the sweep's generated ones, the file's `variants:`, or one "base".
std::pair<std::vector<std::pair<std::string, Flat>>, std::vector<std::string>> collect_variants(
    Flat& base, const Flat& options, const std::vector<GeneratedVariant>& generated, const std::string& source,
    std::vector<Diagnostic>& problems) {
  std::vector<std::pair<std::string, Flat>> variants;
  std::vector<std::string> variant_overrides;
  if (!generated.empty()) {
    if (auto it = base.find("variants"); it != base.end())
      problems.push_back({it->second.where, "variants", "expected no variants in a swept scenario: the sweep makes its own"});
    for (const auto& g : generated) {
      if (!valid_group_name(g.name))
        problems.push_back({g.overrides.empty() ? source : g.overrides.front().origin, "",
                            "expected values that make a variant name without / (it names an HDF5 group), found " +
                                describe(YAML::Node(g.name))});
      Flat merged = base;
      merged.erase("variants");
      Flat own = flatten_overrides(g.overrides, problems);
      drop_shared_settings(own, "", problems);
      check_options_leave_alone(options, own, problems);
      overlay(merged, own);
      std::string text = "{";
      for (const auto& o : g.overrides) text += (text.size() > 1 ? ", " : "") + o.path + ": " + o.value;
      variants.emplace_back(g.name, std::move(merged));
      variant_overrides.push_back(text + "}");
    }
  } else if (auto it = base.find("variants"); it != base.end()) {
    const Entry& v = it->second;
    if (!v.node.IsMap() || v.node.size() == 0) {
      problems.push_back({v.where, "variants", "expected a map of variant names to overrides, found " + describe(v.node)});
    } else {
      for (const auto& kv : v.node) {
        const std::string name = kv.first.Scalar();
        if (!valid_variant_name(name)) {
          problems.push_back({mark_of(kv.first, source), "variants." + name, kVariantNameForm + describe(kv.first)});
          continue;
        }
        if (!kv.second.IsMap() && !kv.second.IsNull()) {
          problems.push_back({mark_of(kv.second, source), "variants." + name, "expected a map of overrides (or {}), found " + describe(kv.second)});
          continue;
        }
        Flat own;
        if (kv.second.IsMap()) flatten(kv.second, "", source, own, problems, "variants." + name + ".");
        Flat merged = base;
        merged.erase("variants");
        drop_shared_settings(own, "variants." + name + ".", problems);
        check_options_leave_alone(options, own, problems);
        overlay(merged, own);
        YAML::Emitter out;
        out << YAML::Flow << (kv.second.IsMap() ? kv.second : YAML::Node(YAML::NodeType::Map));
        variants.emplace_back(name, std::move(merged));
        variant_overrides.push_back(out.c_str());
      }
    }
  }
  if (variants.empty() && problems.empty()) {
    base.erase("variants");
    variants.emplace_back("base", base);
    variant_overrides.push_back("{}");
  }
  return {std::move(variants), std::move(variant_overrides)};
}

/// A text field (`name`, `description`): a string as written, or a problem for anything
/// else (a list or map would silently lose its text; a NUL would cut it short in the
/// result file).
std::optional<std::string> read_text(const Flat& flat, const std::string& path, std::vector<Diagnostic>& problems) {
  const auto it = flat.find(path);
  if (it == flat.end()) return std::nullopt;
  const YAML::Node& node = it->second.node;
  if (!node.IsScalar()) {
    problems.push_back({it->second.where, path, "expected text, found " + describe(node)});
    return std::nullopt;
  }
  if (const auto bad = check_utf8_text(node.Scalar())) {
    problems.push_back({it->second.where, path, "expected text, found " + bad->found});
    return std::nullopt;
  }
  return node.Scalar();
}

/// The base settings as written are checked too, even a value that every variant
/// overrides: it is still a mistake to point at. Where the base is silent, the first
/// variant fills in (a rule in the base may name a plan that each variant defines).
void check_base(const Flat& base, const Flat& first_variant, int months, Resolver& resolver,
                std::vector<Diagnostic>& problems) {
  Flat written = base;
  written.erase("variants");
  underlay(written, first_variant);
  YAML::Node unused(YAML::NodeType::Map);
  const FirmSpec spec = resolver.resolve(written, months, unused);
  check_horizon(spec, written, months, problems);
}

/// Throws the problems as one ScenarioError: each once (a base-file mistake shows up in
/// every variant), in file order (by source, then line and column).
[[noreturn]] void throw_in_file_order(std::vector<Diagnostic> problems) {
  std::vector<Diagnostic> unique;
  std::set<std::string> seen;
  for (auto& p : problems)
    if (seen.insert(p.line()).second) unique.push_back(std::move(p));
  auto key = [](const Diagnostic& d) {
    long line = 0, col = 0;
    const auto c2 = d.where.rfind(':');
    const auto c1 = c2 == std::string::npos || c2 == 0 ? std::string::npos : d.where.rfind(':', c2 - 1);
    if (c1 != std::string::npos) {
      line = std::strtol(d.where.c_str() + c1 + 1, nullptr, 10);
      col = std::strtol(d.where.c_str() + c2 + 1, nullptr, 10);
    }
    return std::make_tuple(c1 == std::string::npos ? d.where : d.where.substr(0, c1), line, col);
  };
  std::stable_sort(unique.begin(), unique.end(), [&](const Diagnostic& a, const Diagnostic& b) { return key(a) < key(b); });
  throw ScenarioError(std::move(unique));
}
}  // namespace

Scenario load_scenario(const std::string& text, const std::string& source,
                       const std::vector<Override>& overrides,
                       const std::vector<GeneratedVariant>& generated) {
  // The file as written must be valid on its own: an option never hides a bad value in it.
  if (text.size() > kMaxScenarioBytes) throw ScenarioError({scenario_too_long(source, text.size())});
  if (!overrides.empty() || !generated.empty()) load_scenario(text, source);
  std::vector<Diagnostic> problems;
  const YAML::Node root = parse_root(text, source);
  check_duplicate_keys(root, "", source, problems);
  Flat base;
  flatten(root, "", source, base, problems);
  // --set values replace what the file says, for every variant.
  const Flat options = flatten_overrides(overrides, problems);
  overlay(base, options);

  Scenario sc;
  sc.given = text;
  sc.source = source;
  sc.name = read_text(base, "name", problems).value_or(source);
  sc.description = read_text(base, "description", problems).value_or("");

  // The resolved scenario is written as it is made, a variant at a time: one tree of
  // every variant held to the end cost ~150 KB a variant, and inserting each into it
  // searched all before it (yaml-cpp's maps are lists).
  YAML::Emitter resolved_all;
  resolved_all << YAML::BeginMap << YAML::Key << "name" << YAML::Value << sc.name;
  if (!sc.description.empty()) resolved_all << YAML::Key << "description" << YAML::Value << sc.description;
  YAML::Node sim_node;
  sc.simulation = resolve_simulation(base, problems, sim_node);
  resolved_all << YAML::Key << "simulation" << YAML::Value << sim_node["simulation"];

  // Variants: each is the base with its own overrides on top.
  const auto [variants, variant_overrides] = collect_variants(base, options, generated, source, problems);

  Resolver resolver(problems);
  // (Under options, the file was checked as written already: see the top.)
  if (overrides.empty() && base.count("variants") && !variants.empty())
    check_base(base, variants.front().second, sc.simulation.months, resolver, problems);
  sc.variants.reserve(variants.size());  // 8.6 KB each: no copies while growing
  resolved_all << YAML::Key << "variants" << YAML::Value << YAML::BeginMap;
  for (std::size_t i = 0; i < variants.size(); ++i) {
    YAML::Node resolved(YAML::NodeType::Map);
    FirmSpec spec = resolver.resolve(variants[i].second, sc.simulation.months, resolved);
    spec.design.sampling = sc.simulation.sampling;
    spec.design.runs = sc.simulation.runs;
    check_horizon(spec, variants[i].second, sc.simulation.months, problems);
    resolved_all << YAML::Key << variants[i].first << YAML::Value << resolved;
    sc.variants.push_back({variants[i].first, variant_overrides[i], std::move(spec)});
  }
  if (!problems.empty()) throw_in_file_order(std::move(problems));
  resolved_all << YAML::EndMap << YAML::EndMap;
  sc.resolved = resolved_all.c_str();
  return sc;
}

}  // namespace smbsim::scenario
