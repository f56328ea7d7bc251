#include "models/scenario/tree.hpp"

#include "models/scenario/distribution.hpp"
#include "models/scenario/text.hpp"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

namespace smbsim::scenario::detail {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string number_text(double x) {
  char buf[32];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  return buf;
}


std::string mark_of(const YAML::Node& node, const std::string& source) {
  if (!node.IsDefined()) return source;  // a lookup that found nothing has no mark (and Mark() would throw)
  const YAML::Mark m = node.Mark();
  if (m.is_null() || m.line < 0) return source;
  return source + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

namespace {
bool is_leaf(const std::string& path, const YAML::Node& node) {
  return !node.IsMap() || node["dist"] || contains(kMixPaths, path) || path == "variants" ||
         firm::param_from_path(path).has_value();
}
}  // namespace

std::string source_of(const std::string& where) {
  // "file:12:3" -> "file"; an option stays as it is.
  if (where.rfind("--", 0) == 0) return where;
  auto p = where.rfind(':');
  if (p == std::string::npos) return where;
  auto q = where.rfind(':', p - 1);
  return q == std::string::npos ? where : where.substr(0, q);
}


namespace {
/// Listens to the parser for where each document starts, and to nothing else.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> second;

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ == 2) second = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  int documents_ = 0;
};
}  // namespace

std::optional<YAML::Mark> second_document(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  try {
    if (parser.HandleNextDocument(starts)) parser.HandleNextDocument(starts);
  } catch (const YAML::Exception&) {
    // A syntax error in the first document was reported by YAML::Load already; one in a
    // second comes after its start, which is what is reported.
  }
  return starts.second;
}

std::string document_marker(const std::string& text, const YAML::Mark& second) {
  // The last line, up to the one where the second document starts, that opens with a marker.
  std::string marker = "---";
  const std::size_t end = std::min(text.size(), static_cast<std::size_t>(std::max(second.pos, 0)) + 3);
  for (std::size_t line = 0; line < end; line = text.find('\n', line) + 1) {
    const std::string_view start = std::string_view(text).substr(line, 3);
    if (start == "---" || start == "...") marker = start;
    if (text.find('\n', line) == std::string::npos) break;
  }
  return marker;
}

namespace {
/// The walk over a YAML document that every later traversal relies on: it refuses
/// cycles (an alias inside its own anchor: `x: &a [*a]`) and caps the number of nodes
/// visited with aliases expanded (a "billion laughs" file of a few hundred bytes would
/// otherwise expand to millions of nodes in every later pass). Both throw at once:
/// nothing after it could finish.
struct Walk {
  const std::string& source;
  bool marked;  // a file's nodes have marks; a command-line value is named by its option alone
  std::vector<Diagnostic>& problems;  // duplicate keys go here
  std::vector<YAML::Node> ancestors;
  std::size_t visited = 0;
};

void walk(const YAML::Node& node, const std::string& prefix, Walk& w) {
  const auto where = [&] { return w.marked ? mark_of(node, w.source) : w.source; };
  if (++w.visited > kMaxNodes)
    throw ScenarioError({{where(), prefix,
                          "expected a scenario of at most " + std::to_string(kMaxNodes) +
                              " values (each use of an alias counted), found more: a list or map this large, or aliases "
                              "that multiply (a \"billion laughs\" file)"}});
  if (!node.IsMap() && !node.IsSequence()) return;
  for (const auto& a : w.ancestors)
    if (a.is(node))
      throw ScenarioError({{where(), prefix,
                            "expected a value, found an alias to a node that contains it (a cycle)"}});
  w.ancestors.push_back(node);
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) walk(node[i], prefix + "[" + std::to_string(i) + "]", w);
  } else {
    std::map<std::string, std::string> seen;
    for (const auto& kv : node) {
      walk(kv.first, prefix, w);
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      const std::string path = prefix.empty() ? key : prefix + "." + key;
      const auto [it, fresh] = seen.emplace(key, mark_of(kv.first, w.source));
      if (!fresh)
        w.problems.push_back({w.marked ? mark_of(kv.first, w.source) : w.source, path,
                              w.marked ? "duplicate key (first written at " + it->second + ")" : "duplicate key"});
      walk(kv.second, path, w);
    }
  }
  w.ancestors.pop_back();
}
}  // namespace

void check_duplicate_keys(const YAML::Node& node, const std::string& prefix, const std::string& source,
                          std::vector<Diagnostic>& problems) {
  Walk w{source, true, problems, {}, 0};
  walk(node, prefix, w);
}

void check_option_tree(const YAML::Node& node, const std::string& where, const std::string& path,
                       std::vector<Diagnostic>& problems) {
  Walk w{where, false, problems, {}, 0};
  walk(node, path, w);
}


void flatten(const YAML::Node& node, const std::string& prefix, const std::string& source, Flat& out,
             std::vector<Diagnostic>& problems, const std::string& shown) {
  const auto put = [&](const std::string& path, Entry entry) {
    const auto [it, fresh] = out.emplace(path, entry);
    if (!fresh) problems.push_back({entry.where, shown + path, "duplicate key (first written at " + it->second.where + ")"});
  };
  std::set<std::string> keys;
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    if (!keys.insert(key).second) continue;  // twice in one map: check_duplicate_keys names it
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    if (is_leaf(path, kv.second)) {
      put(path, {kv.second, mark_of(kv.second.IsNull() ? kv.first : kv.second, source)});
    } else {
      if (kv.second.size() == 0) put(path, {kv.second, mark_of(kv.first, source)});
      flatten(kv.second, path, source, out, problems, shown);
    }
  }
}


namespace {
void set_path(YAML::Node root, const Override& o, std::vector<Diagnostic>& problems) {
  YAML::Node value;
  try {
    value = YAML::Load(o.value);
  } catch (const YAML::Exception& e) {
    problems.push_back({o.origin, o.path, "expected a YAML value, found \"" + shortened(o.value) + "\" (" + e.msg + ")"});
    return;
  }
  if (const auto second = second_document(o.value)) {
    problems.push_back({o.origin, o.path, "expected one YAML value, found a second document (after " + document_marker(o.value, *second) + ")"});
    return;
  }
  check_option_tree(value, o.origin, o.path, problems);
  std::vector<std::string> parts;
  std::stringstream ss(o.path);
  for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
  YAML::Node node = root;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node child = node[parts[i]];
    if (child.IsDefined() && !child.IsMap() && !child.IsNull()) {
      problems.push_back({o.origin, o.path, "expected " + parts[i] + " to be a map, found " + describe(child)});
      return;
    }
    if (!child.IsMap()) node[parts[i]] = YAML::Node(YAML::NodeType::Map);
    node.reset(node[parts[i]]);
  }
  node[parts.back()] = value;
}

}  // namespace

void drop_shared_settings(Flat& own, const std::string& prefix, std::vector<Diagnostic>& problems) {
  for (auto it = own.begin(); it != own.end();) {
    const std::string& path = it->first;
    if (path.rfind("simulation", 0) == 0 || path == "name" || path == "description" || path == "variants" ||
        path.rfind("variants.", 0) == 0) {
      problems.push_back({it->second.where, prefix + path,
                          "expected a model setting; simulation, name and description are shared by all variants"});
      it = own.erase(it);
    } else {
      ++it;
    }
  }
}

namespace {
/// One path is the other or lies below it ("firm.size" and "firm.size.x").
bool overlapping(const std::string& a, const std::string& b) {
  const auto below = [](const std::string& x, const std::string& y) { return x.size() > y.size() && x.rfind(y + ".", 0) == 0; };
  return a == b || below(a, b) || below(b, a);
}
}  // namespace

void check_options_leave_alone(const Flat& options, const Flat& own, std::vector<Diagnostic>& problems) {
  for (const auto& [path, entry] : options)
    for (const auto& variant : own)
      if (overlapping(path, variant.first))
        problems.push_back({entry.where, path,
                            "expected a setting the variants leave alone, found one that variants set too (" +
                                variant.first + "): the variant's value would silently win"});
}

namespace {
/// Whether `flat` sets `path`, a path above it or one below it (by lookups: no scan).
bool sets_overlapping(const Flat& flat, const std::string& path) {
  for (auto dot = path.find('.'); dot != std::string::npos; dot = path.find('.', dot + 1))
    if (flat.count(path.substr(0, dot))) return true;
  const auto below = flat.lower_bound(path + ".");
  return flat.count(path) || (below != flat.end() && below->first.rfind(path + ".", 0) == 0);
}
}  // namespace

void underlay(Flat& target, const Flat& layer) {
  Flat added;
  for (const auto& [path, entry] : layer)
    if (!sets_overlapping(target, path)) added.emplace(path, entry);
  target.merge(added);
}

void overlay(Flat& target, const Flat& layer) {
  for (const auto& [path, entry] : layer) {
    for (auto it = target.begin(); it != target.end();)
      it = (it->first == path || it->first.rfind(path + ".", 0) == 0) ? target.erase(it) : std::next(it);
    target[path] = entry;
  }
}


Flat flatten_overrides(const std::vector<Override>& overrides, std::vector<Diagnostic>& problems) {
  Flat out;
  for (const auto& o : overrides) {
    if (o.path == "variants" || o.path.rfind("variants.", 0) == 0) {
      problems.push_back({o.origin, o.path, "expected a setting; variants are written in the scenario file"});
      continue;
    }
    YAML::Node holder(YAML::NodeType::Map);
    set_path(holder, o, problems);
    Flat one;
    flatten(holder, "", o.origin, one, problems);
    for (auto& [path, entry] : one) entry.where = o.origin;
    overlay(out, one);
  }
  return out;
}


}  // namespace smbsim::scenario::detail
