#include "models/scenario/distribution.hpp"

#include "models/scenario/suggest.hpp"
#include "models/scenario/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

namespace smbsim::scenario {

namespace {
std::string num(double x) {
  char buf[32];
  if (x == std::floor(x) && std::abs(x) < 1e17) {  // whole: every digit (a seed bound is 2^53 - 1)
    std::snprintf(buf, sizeof buf, "%.0f", x);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.15g", x);
  return buf;
}

/// The distributions a scenario may name, each with its keys: the reader, its messages
/// and distribution_help() all come from this one table, in this order.
struct DistKind {
  std::string name;
  std::vector<std::string> keys;
};
const std::vector<DistKind>& dist_kinds() {
  static const std::vector<DistKind> kinds{
      {"normal", {"mean", "sd"}},         {"lognormal", {"median", "sigma"}}, {"uniform", {"low", "high"}},
      {"triangular", {"low", "mode", "high"}}, {"beta", {"a", "b"}},           {"discrete", {"values", "weights"}},
  };
  return kinds;
}

/// What the distributions' parameter checks allow, so that no draw is NaN or infinite.
/// Boost.Random's normal sampler never goes beyond about 15 sd (its ziggurat's tail from
/// a 53-bit uniform), its inverse CDF about 8.2 sd: 40 sd is a wide margin.
constexpr double kTailSds = 40;
constexpr double kHuge = std::numeric_limits<double>::max();
/// Beta shapes where Boost's draws are accurate (measured over a grid of shapes from
/// 1e-3 to 1e17, docs/scenario-format.md): below 0.05 its sampler's gamma draws both
/// underflow to 0 (0/0: NaN in 22% of draws at a = b = 0.001), above 1e7 its inverse
/// CDF loses digits, and near 1e17 its Newton iteration throws.
constexpr Range kBetaShapes{0.05, 1e7};

std::string wider_than_doubles(double low, double high) {
  return "expected high - low to be a finite number, found low " + num(low) + " and high " + num(high);
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}
}  // namespace

/// The text as a finite number, if it is one in full ("1e3" yes, "1x" and "nan" no).
std::optional<double> finite_number(const std::string& s) {
  // strtod, not stod: stod throws on underflow, so a subnormal such as 5e-324 read as no
  // number; it is one, and the range checks decide whether it is allowed.
  const char* begin = s.c_str();
  char* end = nullptr;
  const double x = std::strtod(begin, &end);
  if (end == begin || end != begin + s.size() || !std::isfinite(x)) return std::nullopt;
  return x;
}

const char* distribution_help() {
  static const std::string help = [] {
    std::string h;
    for (const auto& d : dist_kinds()) h += (h.empty() ? "" : ", ") + d.name + " {" + joined(d.keys) + "}";
    return h;
  }();
  return help.c_str();
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return "nothing";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Scalar: break;
  }
  const std::string& s = node.Scalar();
  if (finite_number(s)) return shortened(s);  // a number can be long too: 0.000...1
  return "\"" + shortened(s) + "\"";  // not a whole file read as one string
}

std::string describe(const Range& r) {
  const std::string kind = r.integer ? "a whole number" : "a number";
  if (std::isinf(r.max)) return kind + " of at least " + num(r.min);
  return kind + " in [" + num(r.min) + ", " + num(r.max) + "]";
}

std::variant<double, std::string> parse_number(const YAML::Node& node) {
  if (node.IsScalar())
    if (auto x = finite_number(node.Scalar())) return *x;
  return "expected a number, found " + describe(node);
}

namespace {
std::variant<std::vector<double>, std::string> parse_list(const YAML::Node& node) {
  if (!node.IsSequence() || node.size() == 0) return "expected a non-empty list of numbers, found " + describe(node);
  std::vector<double> out;
  for (const auto& item : node) {
    auto x = parse_number(item);
    if (std::holds_alternative<std::string>(x)) return "expected a list of numbers, found " + describe(item);
    out.push_back(std::get<double>(x));
  }
  return out;
}

std::variant<Uncertain, std::string> parse_distribution(const YAML::Node& node) {
  const YAML::Node name_node = node["dist"];
  const std::string name = name_node.IsScalar() ? name_node.Scalar() : describe(name_node);
  std::vector<std::string> names;
  for (const auto& d : dist_kinds()) names.push_back(d.name);
  const auto known = std::find_if(dist_kinds().begin(), dist_kinds().end(), [&](const DistKind& d) { return d.name == name; });
  if (known == dist_kinds().end()) {
    const auto hint = closest(name, names);
    return "expected dist to be one of " + joined(names) + ", found \"" + shortened(name) + "\"" +
           (hint ? " (did you mean " + *hint + "?)" : "");
  }
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : describe(kv.first);
    if (key == "dist") continue;
    bool ok = false;
    for (const auto& k : known->keys) ok = ok || k == key;
    if (!ok) {
      const auto hint = closest(key, known->keys);
      return "unknown key \"" + shortened(key) + "\" in a " + name + " distribution (expected " + joined(known->keys) + ")" +
             (hint ? "; did you mean " + *hint + "?" : "");
    }
  }
  for (const auto& k : known->keys)
    if (!node[k]) return "a " + name + " distribution needs " + k;
  if (name == "discrete") {
    auto values = parse_list(node["values"]);
    if (auto* e = std::get_if<std::string>(&values)) return "values: " + *e;
    auto weights = parse_list(node["weights"]);
    if (auto* e = std::get_if<std::string>(&weights)) return "weights: " + *e;
    const auto& v = std::get<std::vector<double>>(values);
    const auto& w = std::get<std::vector<double>>(weights);
    if (v.size() != w.size())
      return "expected as many weights as values, found " + num(double(w.size())) + " weights for " + num(double(v.size())) + " values";
    double total = 0;
    for (double x : w) {
      if (x < 0) return "expected non-negative weights, found " + num(x);
      total += x;
    }
    if (total <= 0) return "expected weights with a positive sum, found " + num(total);
    if (!std::isfinite(total)) return "expected weights with a finite sum, found weights that add up to more than " + num(kHuge);
    return Uncertain::discrete(v, w);
  }
  std::map<std::string, double> a;
  for (const auto& k : known->keys) {
    auto x = parse_number(node[k]);
    if (auto* e = std::get_if<std::string>(&x)) return k + ": " + *e;
    a[k] = std::get<double>(x);
  }
  if (name == "normal") {
    if (a["sd"] < 0) return "expected sd >= 0, found " + num(a["sd"]);
    if (!std::isfinite(std::abs(a["mean"]) + kTailSds * a["sd"]))
      return "expected a normal whose draws are finite (abs(mean) + " + num(kTailSds) + " sd below " + num(kHuge) +
             "), found mean " + num(a["mean"]) + " and sd " + num(a["sd"]);
    return Uncertain::normal(a["mean"], a["sd"]);
  }
  if (name == "lognormal") {
    if (a["median"] <= 0) return "expected median > 0, found " + num(a["median"]);
    if (a["sigma"] < 0) return "expected sigma >= 0, found " + num(a["sigma"]);
    if (!(std::log(a["median"]) + kTailSds * a["sigma"] < std::log(kHuge)))
      return "expected a lognormal whose draws are finite (ln(median) + " + num(kTailSds) + " sigma below " +
             num(std::log(kHuge)) + "), found median " + num(a["median"]) + " and sigma " + num(a["sigma"]);
    return Uncertain::lognormal(a["median"], a["sigma"]);
  }
  if (name == "uniform") {
    if (!(a["low"] < a["high"])) return "expected low < high, found low " + num(a["low"]) + " and high " + num(a["high"]);
    if (!std::isfinite(a["high"] - a["low"])) return wider_than_doubles(a["low"], a["high"]);
    return Uncertain::uniform(a["low"], a["high"]);
  }
  if (name == "triangular") {
    if (!(a["low"] <= a["mode"] && a["mode"] <= a["high"] && a["low"] < a["high"]))
      return "expected low <= mode <= high with low < high, found " + num(a["low"]) + ", " + num(a["mode"]) + ", " + num(a["high"]);
    if (!std::isfinite(a["high"] - a["low"])) return wider_than_doubles(a["low"], a["high"]);
    return Uncertain::triangular(a["low"], a["mode"], a["high"]);
  }
  // beta
  if (a["a"] <= 0 || a["b"] <= 0) return "expected a > 0 and b > 0, found a " + num(a["a"]) + " and b " + num(a["b"]);
  for (const char* shape : {"a", "b"})
    if (a[shape] < kBetaShapes.min || a[shape] > kBetaShapes.max)
      return "expected a and b in [" + num(kBetaShapes.min) + ", " + num(kBetaShapes.max) +
             "] (where beta draws are accurate in double precision), found a " + num(a["a"]) + " and b " + num(a["b"]);
  return Uncertain::beta(a["a"], a["b"]);
}

/// The last check of a distribution: its inverse CDF is a finite number at both ends and
/// within. The parameter checks above should make this unreachable; it turns whatever
/// Boost.Math still cannot evaluate into an input error at the key, not a NaN run.
std::optional<std::string> undrawable(const Uncertain& u) {
  for (const double p : {0x1p-53, 1e-9, 1e-3, 0.5, 1 - 1e-3, 1 - 1e-9, 1 - 0x1p-53})
    if (!std::isfinite(u.quantile(p)))
      return "expected a distribution whose draws are finite numbers, found " + u.describe() + ", whose quantile at " +
             num(p) + " cannot be computed";
  return std::nullopt;
}
}  // namespace

std::variant<Uncertain, std::string> parse_uncertain(const YAML::Node& node, const Range& range) {
  if (node.IsMap() && node["dist"]) {
    auto d = parse_distribution(node);
    if (auto* e = std::get_if<std::string>(&d)) return *e;
    const Uncertain& u = std::get<Uncertain>(d);
    if (auto e = undrawable(u)) return *e;
    const bool bounded = std::isfinite(u.lowest()) && std::isfinite(u.highest()) && !std::isinf(u.highest());
    const bool lognormal_ok = u.lowest() == 0.0 && std::isinf(u.highest());
    if (bounded && (u.lowest() < range.min || u.highest() > range.max))
      return "expected a distribution within [" + num(range.min) + ", " + num(range.max) + "], found one from " + num(u.lowest()) + " to " + num(u.highest());
    if (lognormal_ok && range.max < 0)
      return "expected " + describe(range) + ", found a lognormal (always positive)";
    return u;
  }
  if (node.IsMap())
    return "expected " + describe(range) + " or a distribution {dist: ...} (" + distribution_help() + "), found a map without dist";
  auto x = parse_number(node);
  if (std::holds_alternative<std::string>(x)) return "expected " + describe(range) + ", found " + describe(node);
  const double v = std::get<double>(x);
  if (v < range.min || v > range.max || (range.integer && v != std::floor(v)))
    return "expected " + describe(range) + ", found " + describe(node);
  return Uncertain(v);
}

}  // namespace smbsim::scenario
