// smbsim discover FILE.h5 [--variant V] [--outcome failure|COLUMN<THRESHOLD] [--json]
#include "engine/guarded_read.hpp"
#include "engine/hdf5_handle.hpp"
#include "engine/prim.hpp"
#include "engine/summary.hpp"
#include "models/scenario/suggest.hpp"
#include "models/scenario/text.hpp"
#include "tools/smbsim/cli.hpp"
#include "tools/smbsim/options.hpp"
#include "tools/smbsim/summary_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <ostream>
#include <regex>

namespace smbsim::cli {

namespace {
struct Column {
  std::string name;  // dataset name: a parameter path under inputs/, or an outcome column
  std::string units;
  std::string description;
  std::vector<double> values;
};

struct Outcome {
  std::string column;     // empty: failure
  char op = '<';
  double threshold = 0;
  std::string text;
};

Outcome parse_outcome(const std::string& text) {
  if (text == "failure") return {"", '<', 0, text};
  static const std::regex form(R"(^\s*([A-Za-z0-9_.]+)\s*([<>])\s*([-+0-9.eE]+)\s*$)");
  std::smatch m;
  if (!std::regex_match(text, m, form))
    throw UsageError("--outcome " + text + ": expected failure or COLUMN<THRESHOLD (e.g. final_cash<0), found \"" + text + "\"");
  Outcome o{m[1].str(), m[2].str()[0], 0, text};
  o.threshold = parse_fraction("--outcome " + text, m[3].str(), -1e300, 1e300);
  return o;
}

/// "a, b and c" for the message that names a file's variants (the first ten of more).
std::string variant_list(const std::vector<std::string>& variants) {
  std::string list;
  const std::size_t shown = std::min<std::size_t>(variants.size(), 10);
  for (std::size_t k = 0; k < shown; ++k) list += (k == 0 ? "" : k + 1 == shown && shown == variants.size() ? " and " : ", ") + variants[k];
  return shown < variants.size() ? list + " and " + std::to_string(variants.size() - shown) + " more" : list;
}

Column read_column(hid_t file, const std::string& path, const std::string& name) {
  H5Id d(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose, "open " + path);
  Column c{name, has_attr(d, "units") ? read_attr_string(d, "units") : "", 
           has_attr(d, "description") ? read_attr_string(d, "description") : "", {}};
  c.values = read_doubles(file, path);
  return c;
}

std::string number(double x, const std::string& units) {
  const double a = std::abs(x);
  if (units == "USD") return money(x);
  std::string s = a >= 100 ? format_double("%.0f", x) : a >= 10 ? format_double("%.1f", x) : format_double("%.2f", x);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  // "day" since format 1.8, "days" before it.
  if (units == "day" || units == "days") return s + " days";
  if (units == "month" || units == "months") return s + " months";
  if (units == "people") return s + " people";
  if (units == "USD/month") return money(x) + "/month";
  return s;  // shares, rates and the like: the number alone reads best
}

/// One restriction in words: "starting with under 20 days of cash", "fit below 0.8".
std::string phrase(const Column& c, bool lower, bool upper, double lo, double hi) {
  const bool cash = c.name == "start_buffer_days" || c.name == "firm.cash_buffer_days";
  const bool fit = c.name == "market_fit" || c.name == "market.fit";
  if (cash) {
    auto days = [](double x) { return format_double("%.0f", x); };
    if (lower && upper) return "starting with " + days(lo) + " to " + days(hi) + " days of cash";
    return std::string("starting with ") + (upper ? "under " + days(hi) : "over " + days(lo)) + " days of cash";
  }
  const std::string label = fit ? "fit" : scenario::printable(c.name);  // the sentence is for a terminal
  if (lower && upper) return label + " between " + number(lo, c.units) + " and " + number(hi, c.units);
  return label + (upper ? " below " + number(hi, c.units) : " above " + number(lo, c.units));
}

std::string sentence(const prim::Found& f, const std::vector<Column>& inputs, const Outcome& outcome) {
  std::string conditions;
  for (std::size_t k = 0; k < f.limits.size(); ++k) {
    const auto& l = f.limits[k];
    const auto j = static_cast<std::size_t>(l.input);
    std::string p = phrase(inputs[j], l.lower_restricted, l.upper_restricted, f.box.lo[j], f.box.hi[j]);
    if (k == 0 && p.rfind("starting", 0) != 0) p = "with " + p;
    conditions += (k == 0 ? "" : k + 1 == f.limits.size() ? " and " : ", ") + p;
  }
  const std::string what = outcome.column.empty()
                               ? "failed"
                               : "had " + outcome.column + (outcome.op == '<' ? " below " : " above ") +
                                     format_double("%g", outcome.threshold);
  const std::string all = outcome.column.empty() ? "all failures" : "all such runs";
  return "Firms " + conditions + " " + what + " " + percent(f.box.density, 0) + " of the time; they are " +
         percent(f.box.coverage, 0) + " of " + all + " (" + percent(f.box.mass, 0) + " of runs).";
}

/// The box's restricted inputs and their [lo, hi].
nlohmann::json limits_json(const prim::Box& b, const std::vector<Column>& inputs, const prim::Result& r) {
  nlohmann::json limits = nlohmann::json::object();
  for (std::size_t j = 0; j < inputs.size(); ++j)
    if (b.lo[j] != r.lo[j] || b.hi[j] != r.hi[j]) limits[inputs[j].name] = {b.lo[j], b.hi[j]};
  return limits;
}

nlohmann::json box_json(const prim::Box& b, const std::vector<Column>& inputs, const prim::Result& r) {
  const Interval d = wilson_interval(b.cases, b.points);
  return {{"limits", limits_json(b, inputs, r)}, {"coverage", b.coverage}, {"density", b.density}, {"density_lo", d.lo}, {"density_hi", d.hi},
          {"mass", b.mass}, {"runs", b.points}, {"cases", b.cases}, {"restricted", b.restricted}};
}
/// The analysis's memory unless --memory-limit says otherwise: half of physical memory,
/// less if ulimit -v leaves less, and at most 8 GB (a 23 MB file can declare 10^8 runs:
/// 12 GB; 10^7 runs of 3 inputs need 1.2 GB).
double default_memory_limit() { return std::min(8e9, memory_for_reading_bytes()); }

/// What `smbsim discover` was asked: the file, the variant, the outcome and PRIM's options.
struct DiscoverRequest {
  std::string path;
  std::string variant;  // empty: the first
  Outcome outcome;
  prim::Options prim;
  bool json = false;
  double time_limit = kReadTimeLimitSeconds;  // for the guarded read of the file
  double memory_limit = 0;  // bytes the analysis may hold: --memory-limit, else default_memory_limit()
  bool memory_limit_given = false;
};

std::optional<DiscoverRequest> parse_discover(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description visible("Options");
  visible.add_options()
      ("variant", po::value<std::string>(), "variant to analyse (default: the first)")
      ("outcome", po::value<std::string>(), "what to explain: failure (default), or COLUMN<THRESHOLD / COLUMN>THRESHOLD on an outcome column")
      ("boxes", po::value<std::string>(), "at most this many boxes (default 3)")
      ("density", po::value<std::string>(), "take from each trajectory the box of largest coverage with at least this density (default: the largest coverage x (density - overall share))")
      ("mass-min", po::value<std::string>(), "smallest box, as a share of runs (default 0.05)")
      ("peel-alpha", po::value<std::string>(), "share of a box peeled or pasted per step (default 0.05)")
      ("json", po::bool_switch(), "print one JSON object instead of the text")
      ("memory-limit", po::value<std::string>(), "MB the analysis may hold (default: half of physical memory, at most 8000, less if ulimit -v leaves less); a variant needing more is refused, exit 2");
  add_time_limit_option(visible);
  const auto parsed = parse_command(args, visible, "file",
                                    "Usage: smbsim discover FILE.h5 [--variant V] [--outcome failure|COLUMN<THRESHOLD] [--json]\n"
                                    "                       [--time-limit SECONDS] [--memory-limit MB]\n\n"
                                    "Scenario discovery with PRIM (Friedman & Fisher 1999, as EMA Workbench does it): the\n"
                                    "ranges of the runs' uncertain inputs in which the outcome (failure by default) is\n"
                                    "concentrated, as a few boxes with their coverage, density, mass and a quasi-p-value\n"
                                    "per restricted input, and a sentence in plain words (docs/analysis.md).\n\n", out);
  if (!parsed) return std::nullopt;
  const po::variables_map& vm = *parsed;
  if (!vm.count("file")) throw UsageError("FILE: expected a result file to analyse, found none (see smbsim discover --help)");
  DiscoverRequest q;
  q.outcome = parse_outcome(vm.count("outcome") ? vm["outcome"].as<std::string>() : "failure");
  prim::Options& po = q.prim;
  if (vm.count("boxes")) po.max_boxes = static_cast<int>(parse_whole("--boxes", vm["boxes"].as<std::string>(), 1, 20));
  if (vm.count("density")) po.min_density = parse_fraction("--density", vm["density"].as<std::string>(), 0.0, 1.0);
  if (vm.count("mass-min")) po.mass_min = parse_fraction("--mass-min", vm["mass-min"].as<std::string>(), 0.001, 0.5);
  if (vm.count("peel-alpha")) {
    po.peel_alpha = parse_fraction("--peel-alpha", vm["peel-alpha"].as<std::string>(), 0.01, 0.5);
    po.paste_alpha = po.peel_alpha;
  }
  q.path = vm["file"].as<std::string>();
  if (vm.count("variant")) {
    q.variant = vm["variant"].as<std::string>();
    if (q.variant.empty()) throw UsageError("--variant: expected a variant's name, found an empty one (leave --variant out for the first)");
  }
  q.json = vm["json"].as<bool>();
  q.time_limit = read_time_limit(vm);
  q.memory_limit_given = vm.count("memory-limit") > 0;
  // Measured here, before the guarded read lowers the child's own address-space limit.
  q.memory_limit = q.memory_limit_given ? 1e6 * parse_fraction("--memory-limit", vm["memory-limit"].as<std::string>(), 0.001, 1e12)
                                        : default_memory_limit();
  return q;
}

/// A variant's uncertain inputs and the outcome column, read from the file.
struct DiscoverData {
  std::string variant;
  std::vector<Column> inputs;
  std::vector<double> y_values;
};

/// Outcome columns with role "input" (drawn or set at the start), unless a stored input
/// under inputs/ holds the same values (to rounding: start_buffer_days is recomputed
/// from the cash).
void add_input_outcomes(hid_t file, const std::string& base, const VariantSummary& v, std::vector<Column>& inputs) {
  auto same = [](const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!(std::abs(a[i] - b[i]) <= 1e-9 * std::max(1.0, std::abs(a[i])))) return false;
    return true;
  };
  for (const auto& col : v.columns) {
    if (col.role != "input") continue;
    Column c = read_column(file, base + "/outcomes/" + col.name, col.name);
    bool duplicate = false;
    for (const auto& i : inputs) duplicate = duplicate || same(i.values, c.values);
    if (!duplicate) inputs.push_back(std::move(c));
  }
}

/// The outcome named by --outcome COLUMN<THRESHOLD: a column of amounts, not of codes.
void refuse_comparison_on_codes(const Outcome& outcome, const VariantSummary& v) {
  for (const auto& c : v.columns)
    if (c.name == outcome.column && c.categorical)
      throw UsageError("--outcome " + outcome.text + ": expected a comparison on an outcome column of amounts, found " + c.name +
                       ", a categorical column (codes, flag_values; use --outcome failure to explain failures)");
}

/// PRIM's own working memory per run: row indices (the runs left, a box's, a peel's), a
/// sorted copy of one input and the 0/1 outcome twice, with room to spare.
constexpr double kPrimBytesPerRun = 64;

/// Refuses, before anything per run is read, a variant whose analysis would hold more
/// than the limit: every candidate input and the outcome as doubles, then PRIM's matrix
/// of the inputs and its working arrays.
void check_memory(const DiscoverRequest& q, const VariantSummary& v, std::size_t columns) {
  const double runs = static_cast<double>(v.runs), inputs = static_cast<double>(columns - 1);
  const double need = runs * (8 * static_cast<double>(columns) + 8 * inputs + kPrimBytesPerRun);
  if (need <= q.memory_limit) return;
  auto mb = [](double bytes) { return format_double(bytes >= 1e7 ? "%.0f MB" : "%.2f MB", bytes / 1e6); };
  throw InputError(q.path + ": expected a variant discover can analyse within its memory limit, found variant " + v.name + ": " +
                   std::to_string(v.runs) + " runs x " + std::to_string(columns) + " columns, an analysis that needs " + mb(need) +
                   " of memory, above the limit of " + mb(q.memory_limit) +
                   (q.memory_limit_given ? " (--memory-limit)" : " (the default: half of physical memory, at most 8000 MB, less if ulimit -v leaves less; --memory-limit MB)"));
}

/// The variant's data, read the way every untrusted result file is (through
/// guarded_read): summarize_file checks that this is a complete, consistent result file
/// this build reads, and only then are its columns read here.
DiscoverData read_discover_data(const DiscoverRequest& q) {
  const Summary summary = summarize_file(q.path);
  std::vector<std::string> variants;
  for (const auto& v : summary.variants) variants.push_back(v.name);
  DiscoverData d;
  d.variant = q.variant.empty() ? variants.front() : q.variant;
  const auto at = std::find(variants.begin(), variants.end(), d.variant);
  if (at == variants.end()) {
    const auto hint = scenario::closest(d.variant, variants);
    throw UsageError("--variant " + d.variant + ": expected a variant of " + q.path + " (" + variant_list(variants) +
                     "), found none of that name" + (hint ? " (did you mean " + *hint + "?)" : ""));
  }
  const VariantSummary& v = summary.variants[static_cast<std::size_t>(at - variants.begin())];
  refuse_comparison_on_codes(q.outcome, v);
  try {
    const H5Id file = open_result_file(q.path);
    const std::string base = "variants/" + d.variant;
    std::vector<std::string> stored_inputs;
    if (link_exists(file, base + "/inputs"))
      for (const auto& name : child_names(open_group(file, base + "/inputs")))
        if (name != "run") stored_inputs.push_back(name);
    const auto input_outcomes = std::count_if(v.columns.begin(), v.columns.end(), [](const ColumnSummary& c) { return c.role == "input"; });
    check_memory(q, v, stored_inputs.size() + static_cast<std::size_t>(input_outcomes) + 1);
    check_outcome_values(file, q.path, v);
    for (const auto& name : stored_inputs) d.inputs.push_back(read_column(file, base + "/inputs/" + name, name));
    add_input_outcomes(file, base, v, d.inputs);
    const std::string column = q.outcome.column.empty() ? column_with_role(v, "survival") : q.outcome.column;
    if (column.empty())
      throw InputError(q.path + ": expected an outcome column with role survival to explain failure, found none (use --outcome COLUMN<THRESHOLD)");
    if (!link_exists(file, base + "/outcomes/" + column)) {
      auto names = child_names(open_group(file, base + "/outcomes"));
      const auto hint = scenario::closest(column, names);
      throw UsageError("--outcome " + q.outcome.text + ": expected an outcome column of " + q.path + ", found no \"" + column +
                       "\"" + (hint ? " (did you mean " + *hint + "?)" : ""));
    }
    d.y_values = read_doubles(file, base + "/outcomes/" + column);
  } catch (const OutputError& e) {
    throw InputError(q.path + ": expected a readable smbsim result file, found damage (" + e.what() + ")");
  }
  // Inputs that vary.
  std::erase_if(d.inputs, [&](const Column& c) {
    if (c.values.size() != d.y_values.size()) return true;
    double lo = INFINITY, hi = -INFINITY;
    for (double x : c.values)
      if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
    return !(hi > lo);
  });
  // PRIM visits the inputs in the order --json lists them, by name: with a DataFrame of
  // these columns in this order EMA Workbench breaks ties between inputs alike.
  std::sort(d.inputs.begin(), d.inputs.end(), [](const Column& a, const Column& b) { return a.name < b.name; });
  if (d.inputs.empty())
    throw InputError(q.path + ": expected runs with uncertain inputs (inputs/, or a varying outcome column with role input), found none in variant " + d.variant);
  return d;
}

/// PRIM over the runs where the outcome and every input are defined.
prim::Result run_prim(const DiscoverData& d, const DiscoverRequest& q, std::int64_t& dropped) {
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < d.y_values.size(); ++i) {
    bool ok = std::isfinite(d.y_values[i]);
    for (const auto& c : d.inputs) ok = ok && std::isfinite(c.values[i]);
    if (ok) rows.push_back(i);
  }
  Eigen::MatrixXd x(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(d.inputs.size()));
  std::vector<unsigned char> y(rows.size());
  const Outcome& outcome = q.outcome;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    for (std::size_t j = 0; j < d.inputs.size(); ++j) x(Eigen::Index(k), Eigen::Index(j)) = d.inputs[j].values[rows[k]];
    const double v = d.y_values[rows[k]];
    y[k] = outcome.column.empty() ? v == 0 : outcome.op == '<' ? v < outcome.threshold : v > outcome.threshold;
  }
  dropped = static_cast<std::int64_t>(d.y_values.size() - rows.size());
  return prim::discover(x, y, q.prim);
}

void print_discover_json(const DiscoverRequest& q, const DiscoverData& d, const prim::Result& r, std::int64_t dropped,
                         std::ostream& out) {
  const auto& inputs = d.inputs;
  nlohmann::json j;
  j["file"] = q.path;
  j["variant"] = d.variant;
  j["outcome"] = q.outcome.text;
  j["runs"] = r.points;
  j["runs_left_out"] = dropped;
  j["cases"] = r.cases;
  j["share"] = r.points > 0 ? double(r.cases) / double(r.points) : 0;
  j["inputs"] = nlohmann::json::object();
  for (std::size_t k = 0; k < inputs.size(); ++k)
    j["inputs"][inputs[k].name] = {{"units", inputs[k].units}, {"description", inputs[k].description}, {"range", {r.lo[k], r.hi[k]}}};
  j["boxes"] = nlohmann::json::array();
  for (const auto& f : r.boxes) {
    nlohmann::json b = box_json(f.box, inputs, r);
    b["quasi_p"] = nlohmann::json::object();
    for (const auto& l : f.limits) {
      nlohmann::json qp = nlohmann::json::object();
      if (l.lower_restricted) qp["lower"] = l.qp_lower;
      if (l.upper_restricted) qp["upper"] = l.qp_upper;
      b["quasi_p"][inputs[std::size_t(l.input)].name] = qp;
    }
    b["p_value"] = f.p_value;
    b["sentence"] = sentence(f, inputs, q.outcome);
    b["trajectory"] = nlohmann::json::array();
    for (const auto& t : f.trajectory) {
      // The box's runs and cases from its shares, for the density's 95% Wilson interval.
      const auto n = std::llround(t.mass * double(r.points));
      const Interval di = wilson_interval(std::llround(t.density * double(n)), n);
      b["trajectory"].push_back({{"limits", limits_json(t, inputs, r)}, {"coverage", t.coverage}, {"density", t.density},
                                 {"density_lo", di.lo}, {"density_hi", di.hi}, {"mass", t.mass}, {"restricted", t.restricted}});
    }
    b["chosen"] = f.chosen;
    j["boxes"].push_back(b);
  }
  out << dump_json(j) << "\n";  // invalid UTF-8 from the file replaced, never an exception
}

void print_discover_text(const DiscoverRequest& q, const DiscoverData& d, const prim::Result& r, std::int64_t dropped,
                         std::ostream& out) {
  const auto& inputs = d.inputs;
  const double share = r.points > 0 ? double(r.cases) / double(r.points) : 0;
  // Names from the file and the options are escaped: a name must not drive the terminal.
  out << "Scenario discovery (PRIM) in " << scenario::shell_word(q.path) << ", variant " << scenario::printable(d.variant) << ": " << r.points << " runs";
  if (dropped > 0) out << " (" << dropped << " left out: outcome or an input undefined)";
  out << ", " << inputs.size() << " uncertain input" << (inputs.size() == 1 ? "" : "s") << ".\n"
      << "Outcome " << scenario::printable(q.outcome.text) << ": " << r.cases << " runs (" << percent(share) << ").\n";
  if (r.boxes.empty())
    out << "\nNo box: no range of the inputs holds the outcome significantly more often than "
        << percent(share) << " (a one-sided binomial test at 5%).\n";
  for (std::size_t b = 0; b < r.boxes.size(); ++b) {
    const auto& f = r.boxes[b];
    out << "\nBox " << b + 1 << ": density " << percent(f.box.density) << " (the outcome's rate inside), coverage "
        << percent(f.box.coverage) << " (of all such runs), mass " << percent(f.box.mass) << " of runs\n";
    for (const auto& l : f.limits) {
      const auto j = static_cast<std::size_t>(l.input);
      auto p_text = [](double p) { return p < 1e-99 ? std::string("<1e-99") : format_double("%.1e", p); };
      std::string qp;
      if (l.lower_restricted) qp += "lower " + p_text(l.qp_lower);
      if (l.upper_restricted) qp += (qp.empty() ? "" : ", ") + std::string("upper ") + p_text(l.qp_upper);
      out << "  " << scenario::printable(inputs[j].name) << ": " << number(f.box.lo[j], inputs[j].units) << " to "
          << number(f.box.hi[j], inputs[j].units) << " (all runs: " << number(r.lo[j], inputs[j].units) << " to "
          << number(r.hi[j], inputs[j].units) << "; quasi-p " << qp << ")\n";
    }
    out << "  " << sentence(f, inputs, q.outcome) << "\n";
  }
  out << "\nEach box is the point of its peeling and pasting trajectory with the largest coverage x (density - "
      << percent(share) << ")\n(or --density D: the largest coverage with density at least D), later boxes among the runs the\n"
         "earlier ones left; --json lists every trajectory (the trade-off curve).\n";
}
}  // namespace

int cmd_discover(const std::vector<std::string>& args, Io io) {
  const auto request = parse_discover(args, io.out);
  if (!request) return kOk;
  const DiscoverData data = guarded_read(request->path, request->time_limit, [&] { return read_discover_data(*request); });
  std::int64_t dropped = 0;
  const prim::Result r = run_prim(data, *request, dropped);
  if (request->json)
    print_discover_json(*request, data, r, dropped, io.out);
  else
    print_discover_text(*request, data, r, dropped, io.out);
  return kOk;
}

}  // namespace smbsim::cli
