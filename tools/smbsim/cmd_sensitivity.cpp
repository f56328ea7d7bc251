// smbsim sensitivity [SCENARIO] [--json] [options]: which uncertain parameters the
// outcomes depend on (Sobol' indices) and a tornado (docs/sensitivity.md).
#include "models/scenario/text.hpp"
#include "tools/smbsim/cli.hpp"
#include "tools/smbsim/options.hpp"
#include "tools/smbsim/sensitivity.hpp"
#include "tools/smbsim/summary_text.hpp"
#include "tools/smbsim/together.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <ostream>

namespace smbsim::cli {

namespace {
nlohmann::json interval_json(const Interval& i) { return {{"value", i.estimate}, {"lo", i.lo}, {"hi", i.hi}}; }

nlohmann::json indices_json(const SensitivityResult& r, const sobol::OutputIndices& o) {
  nlohmann::json j = nlohmann::json::object();
  for (std::size_t i = 0; i < r.inputs.size(); ++i)
    j[r.inputs[i].path] = {{"first", interval_json(o.first[i])}, {"total", interval_json(o.total[i])}};
  return j;
}

nlohmann::json sensitivity_json(const SensitivityResult& r) {
  nlohmann::json j;
  j["scenario"] = r.scenario;
  j["variant"] = r.variant;
  j["seed"] = r.seed;
  j["months"] = r.months;
  j["correlations_ignored"] = !r.correlations_ignored.empty();
  if (!r.correlations_ignored.empty()) {
    j["ignored_correlations"] = nlohmann::json::array();
    for (const auto& c : r.correlations_ignored) j["ignored_correlations"].push_back({c.a, c.b, c.rank});
  }
  j["design"] = {{"sequence", sobol::sequence_name(r.sequence)},
                 {"rows", r.rows},
                 {"points", r.rows * static_cast<std::int64_t>(r.inputs.size() + 2)},
                 {"replicates", r.replicates},
                 {"common_runs", r.shared_runs ? "all" : "row"},
                 {"runs", r.runs},
                 {"bootstrap", r.bootstrap},
                 {"curve_bootstrap", r.curve_bootstrap},
                 {"seconds", r.seconds}};
  if (r.precision) {
    nlohmann::json conv = nlohmann::json::array();
    for (const auto& [rows, width] : r.convergence) conv.push_back({{"rows", rows}, {"widest_total_half_width", width}});
    j["design"]["precision"] = {{"target", *r.precision}, {"met", r.precision_met}, {"convergence", conv}};
    if (!r.precision_met) j["design"]["precision"]["limited_by"] = r.precision_limit;
  }
  j["parameters"] = nlohmann::json::array();
  for (const auto& in : r.inputs)
    j["parameters"].push_back({{"path", in.path}, {"distribution", in.distribution}, {"low", in.low}, {"median", in.median}, {"high", in.high}});
  j["indices"] = nlohmann::json::object();
  j["outputs"] = nlohmann::json::object();
  for (std::size_t o = 0; o < r.outputs.size(); ++o) {
    const auto& x = r.indices[o];
    j["indices"][r.outputs[o].name] = indices_json(r, x);
    j["outputs"][r.outputs[o].name] = {{"label", r.outputs[o].label},
                                       {"units", r.outputs[o].units},
                                       {"mean", interval_json(x.mean)},
                                       {"variance", interval_json(x.variance)},
                                       {"randomness", interval_json(x.randomness)},
                                       {"noise", interval_json(x.noise)}};
  }
  nlohmann::json curve;
  curve["months"] = r.curve_months;
  curve["indices"] = nlohmann::json::object();
  for (std::size_t i = 0; i < r.inputs.size(); ++i) {
    nlohmann::json p;
    for (const char* kind : {"first", "total"})
      for (const char* field : {"value", "lo", "hi"}) p[kind][field] = nlohmann::json::array();
    for (const auto& c : r.curve) {
      for (const auto& [kind, iv] : {std::pair{"first", c.first[i]}, std::pair{"total", c.total[i]}}) {
        p[kind]["value"].push_back(iv.estimate);
        p[kind]["lo"].push_back(iv.lo);
        p[kind]["hi"].push_back(iv.hi);
      }
    }
    curve["indices"][r.inputs[i].path] = p;
  }
  curve["survival"] = nlohmann::json::array();
  for (const auto& c : r.curve) curve["survival"].push_back(c.mean.estimate);
  j["curve"] = curve;
  nlohmann::json t;
  t["quantiles"] = {r.tornado_quantile, 1.0 - r.tornado_quantile};
  t["runs"] = r.tornado_runs;
  t["outputs"] = nlohmann::json::object();
  for (std::size_t o = 0; o < r.outputs.size(); ++o) {
    nlohmann::json bars = nlohmann::json::array();
    for (std::size_t i = 0; i < r.inputs.size(); ++i) {
      const auto& b = r.tornado[o].bars[i];
      bars.push_back({{"parameter", r.inputs[i].path},
                      {"low_value", r.inputs[i].low},
                      {"high_value", r.inputs[i].high},
                      {"low", interval_json(b.low)},
                      {"high", interval_json(b.high)},
                      {"swing", interval_json(b.swing)}});
    }
    std::stable_sort(bars.begin(), bars.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
      return std::abs(a["swing"]["value"].get<double>()) > std::abs(b["swing"]["value"].get<double>());
    });
    t["outputs"][r.outputs[o].name] = {{"center", r.tornado[o].center}, {"bars", bars}};
  }
  j["tornado"] = t;
  return j;
}

std::string index_cell(const Interval& i) {
  if (std::isnan(i.estimate)) return "-";
  if (std::isnan(i.lo)) return format_double("%.2f", i.estimate) + " (no CI)";  // not to be trusted: docs/sensitivity.md
  return format_double("%.2f", i.estimate) + " +-" + format_double("%.2f", 0.5 * (i.hi - i.lo));
}

/// A value of an output for people: survival in percent, cash in dollars, months.
std::string output_value(const SensitivityOutput& o, double x, bool delta) {
  if (o.units == "1") return format_double(delta ? "%+.1f pts" : "%.1f%%", 100 * x);
  if (o.units == "USD") return (delta && x >= 0 ? "+" : "") + money(x);
  return format_double(delta ? "%+.1f" : "%.1f", x) + " months";
}

void print_table(std::ostream& out, const SensitivityResult& r, bool total, std::size_t name_width) {
  out << "  " << std::left << std::setw(static_cast<int>(name_width)) << "parameter" << std::right;
  for (const auto& o : r.outputs) out << std::setw(13) << o.heading;
  out << "\n";
  for (std::size_t i = 0; i < r.inputs.size(); ++i) {
    out << "  " << std::left << std::setw(static_cast<int>(name_width)) << r.inputs[i].path << std::right;
    for (const auto& x : r.indices) out << std::setw(13) << index_cell(total ? x.total[i] : x.first[i]);
    out << "\n";
  }
}

std::string value_text(double x) {
  if (std::abs(x) >= 1e4 && std::abs(x) < 1e15) return format_double("%.0f", x);  // amounts in USD
  return format_double("%.4g", x);
}

/// What was analysed and how: the design, ignored correlations, the precision reached and
/// the parameters' distributions.
void print_sensitivity_header(std::ostream& out, const SensitivityResult& r, std::size_t name_width) {
  const std::size_t d = r.inputs.size();
  out << "Sensitivity of " << scenario::printable(r.scenario) << " (variant " << scenario::printable(r.variant) << "): " << d << " uncertain parameter"
      << (d > 1 ? "s" : "") << "\n  " << (r.sequence == sobol::Sequence::sobol ? "Sobol' design" : "random design") << " of "
      << r.rows << " rows (" << r.rows * static_cast<std::int64_t>(d + 2) << " points) x " << r.replicates
      << (r.shared_runs ? " runs each, the same at every point = " : " runs each, each row its own (shared by its points) = ")
      << r.runs << " runs; " << r.bootstrap << " bootstrap resamples; "
      << format_double("%.1f", r.seconds) << " s\n";
  if (!r.correlations_ignored.empty()) {
    out << "  correlations IGNORED (--ignore-correlations): the scenario correlates";
    for (const auto& c : r.correlations_ignored) out << " " << c.a << " ~ " << c.b << " " << format_double("%g", c.rank) << ";";
    out << " these indices treat its inputs as independent\n";
  }
  if (r.precision) {
    out << "  precision: total-index intervals within +-" << *r.precision << ": "
        << (r.precision_met                         ? "met"
            : r.precision_limit == "replicates" ? "NOT met: more rows stopped narrowing the intervals, the error of the "
                                                  "runs every point shares dominates; raise --replicates"
                                                : "NOT met at --max-samples")
        << "; widest half-width by rows:";
    for (const auto& [rows, w] : r.convergence) out << " " << rows << ": " << format_double("%.3f", w);
    out << "\n";
  }
  out << "\nParameters: distribution; low / median / high, the values at the " << format_double("%g", 100 * r.tornado_quantile)
      << "%, 50% and " << format_double("%g", 100 * (1 - r.tornado_quantile)) << "% quantiles as the model uses them:\n";
  for (const auto& in : r.inputs)
    out << "  " << std::left << std::setw(static_cast<int>(name_width)) << in.path << std::right << in.distribution << "  "
        << value_text(in.low) << " / " << value_text(in.median) << " / " << value_text(in.high) << "\n";
}

/// The indices' tables, the outputs' means over the design and the shares of noise.
void print_sensitivity_indices(std::ostream& out, const SensitivityResult& r, std::size_t name_width) {
  out << "\nTotal-order Sobol' indices: the share of an output's variance over the design that goes\n"
         "if the parameter were known, its interactions included (95% bootstrap intervals):\n";
  print_table(out, r, true, name_width);
  out << "\nFirst-order indices: the share that the parameter accounts for alone:\n";
  print_table(out, r, false, name_width);
  out << "\n  " << std::left << std::setw(static_cast<int>(name_width)) << "mean over the design" << std::right;
  for (std::size_t o = 0; o < r.outputs.size(); ++o) {
    const auto& x = r.indices[o];
    const std::string v = r.outputs[o].units == "1" ? format_double("%.1f%%", 100 * x.mean.estimate)
                          : r.outputs[o].units == "USD" ? money(x.mean.estimate)
                                                        : format_double("%.1f", x.mean.estimate);
    out << std::setw(13) << v;
  }
  out << "\n  " << std::left << std::setw(static_cast<int>(name_width)) << "runs' own randomness" << std::right;
  for (const auto& x : r.indices) out << std::setw(13) << (std::isnan(x.randomness.estimate) ? "-" : percent(x.randomness.estimate, 0));
  out << "\n  " << std::left << std::setw(static_cast<int>(name_width)) << "replicate noise" << std::right;
  for (const auto& x : r.indices) out << std::setw(13) << (std::isnan(x.noise.estimate) ? "-" : percent(x.noise.estimate, 1));
  out << "\n  (runs' own randomness: the share of the variance between single runs that no parameter\n"
         "  explains: the market, the shocks and the rest of each run's luck; replicate noise: the\n"
         "  share of the design's variance that is noise from averaging only "
      << r.replicates << " runs per point" << (r.shared_runs ? ")\n" : ", removed from the indices)\n");
  // With each row its own runs the noise is removed, but where it is most of the design's
  // variance (parameters that explain little of a run), more runs per point are the
  // cheaper way to narrow the intervals: at noise share s, R q runs (q = s / (1 - s))
  // bring it to a half, so suggest twice that, for a third.
  double worst = 0;
  for (const auto& x : r.indices)
    if (!std::isnan(x.noise.estimate)) worst = std::max(worst, x.noise.estimate);
  if (!r.shared_runs && worst > 0.5 && worst < 1) {
    const double runs = 2.0 * static_cast<double>(r.replicates) * worst / (1 - worst);
    out << "  The replicate noise is over half the design's variance: the intervals would narrow faster with\n"
           "  more runs per point than with more rows (try --replicates "
        << static_cast<std::int64_t>(std::ceil(runs / 25) * 25) << ").\n";
  }
}

/// The curve of survival's total index, and the tornado on survival to the horizon.
void print_sensitivity_curve_and_tornado(std::ostream& out, const SensitivityResult& r, std::size_t name_width) {
  const std::size_t d = r.inputs.size();
  // The curve: total index of survival, month by month.
  out << "\nTotal index of survival, month 1 to " << r.months << " (each column a stretch of months; full bar = 1):\n";
  for (std::size_t i = 0; i < d; ++i) {
    std::vector<double> c;
    for (const auto& x : r.curve) c.push_back(std::isnan(x.total[i].estimate) ? 0.0 : x.total[i].estimate);
    out << "  " << std::left << std::setw(static_cast<int>(name_width)) << r.inputs[i].path << std::right << "|"
        << sparkline(c, 60) << "|\n";
  }

  // The tornado, on survival to the horizon.
  const std::size_t main = r.outputs.size() - 3;
  const SensitivityOutput& mo = r.outputs[main];
  const TornadoOutput& t = r.tornado[main];
  out << "\nTornado: " << mo.label << " with each parameter at its " << format_double("%g", 100 * r.tornado_quantile) << "% and "
      << format_double("%g", 100 * (1 - r.tornado_quantile)) << "% quantiles, the rest at their medians\n  ("
      << r.tornado_runs << " runs per bar end, paired; all at their medians: " << output_value(mo, t.center, false) << "):\n";
  std::vector<std::size_t> order(d);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::abs(t.bars[a].swing.estimate) > std::abs(t.bars[b].swing.estimate);
  });
  double scale = 1e-12;
  for (const auto& b : t.bars) scale = std::max({scale, std::abs(b.low.estimate), std::abs(b.high.estimate)});
  constexpr int kHalf = 20;
  for (std::size_t i : order) {
    const auto& b = t.bars[i];
    // Cells of the bar, left to right: the low end's change drawn light, the high end's
    // dark, each on the side of its sign.
    std::vector<const char*> cells(2 * kHalf + 1, " ");
    cells[kHalf] = "|";
    for (const auto& [x, c] : {std::pair{b.low.estimate, "░"}, std::pair{b.high.estimate, "█"}}) {
      const int len = static_cast<int>(std::lround(std::abs(x) / scale * kHalf));
      for (int k = 1; k <= len; ++k) cells[static_cast<std::size_t>(kHalf + (x < 0 ? -k : k))] = c;
    }
    std::string bar;
    for (const char* c : cells) bar += c;
    // The smaller change on the left, the larger on the right, each marked with its end's
    // glyph, so a number sits beside the side its bar is drawn on.
    const bool low_left = b.low.estimate <= b.high.estimate;
    const double left = low_left ? b.low.estimate : b.high.estimate, right = low_left ? b.high.estimate : b.low.estimate;
    out << "  " << std::left << std::setw(static_cast<int>(name_width)) << r.inputs[i].path << std::right << std::setw(13)
        << output_value(mo, left, true) << (low_left ? " ░ " : " █ ") << bar << (low_left ? " █ " : " ░ ") << std::left
        << std::setw(13) << output_value(mo, right, true) << std::right << " swing " << output_value(mo, b.swing.estimate, true) << " ["
        << output_value(mo, b.swing.lo, true) << ", " << output_value(mo, b.swing.hi, true) << "]\n";
  }
  out << "  (░ the parameter at its low end, █ at its high end: the change from all at their medians.)\n";
}

void print_sensitivity(std::ostream& out, const SensitivityResult& r) {
  std::size_t name_width = 24;
  for (const auto& in : r.inputs) name_width = std::max(name_width, in.path.size() + 2);
  print_sensitivity_header(out, r, name_width);
  print_sensitivity_indices(out, r, name_width);
  print_sensitivity_curve_and_tornado(out, r, name_width);
}

/// The analysis' options from the command line (the run options given as `ro`).
SensitivityOptions read_sensitivity_options(const po::variables_map& vm, const RunOptions& ro) {
  SensitivityOptions o;
  auto text = [&](const char* key) { return vm[key].as<std::string>(); };
  if (vm.count("samples")) o.samples = parse_whole("--samples", text("samples"), 16, 1 << 20);

  if (vm.count("precision")) o.precision = parse_fraction("--precision", text("precision"), 0.001, 0.5);
  if (vm.count("max-samples")) {
    if (!o.precision) throw UsageError("--max-samples: expected it only with --precision, found it without");
    o.max_samples = parse_whole("--max-samples", text("max-samples"), 16, 1 << 20);
  }
  if (o.precision && o.samples > o.max_samples)
    throw UsageError("--samples: expected at most --max-samples (" + std::to_string(o.max_samples) + ") rows, found " +
                     std::to_string(o.samples));
  if (vm.count("design")) {
    const std::string d = text("design");
    if (d == "sobol") o.sequence = sobol::Sequence::sobol;
    else if (d == "random") o.sequence = sobol::Sequence::random;
    else throw UsageError("--design: expected sobol or random, found \"" + d + "\"");
  }
  if (vm.count("common-runs")) {
    const std::string c = text("common-runs");
    if (c != "row" && c != "all") throw UsageError("--common-runs: expected row or all, found \"" + c + "\"");
    o.shared_runs = c == "all";
  }
  // Each row its own runs: few per point are best (the noise is removed and averages over
  // the rows); every point on the same runs: many, since their error does not average.
  if (o.shared_runs) o.replicates = 200;
  if (vm.count("replicates")) o.replicates = parse_whole("--replicates", text("replicates"), 2, 1000000);
  if (vm.count("bootstrap")) o.bootstrap = static_cast<int>(parse_whole("--bootstrap", text("bootstrap"), 100, 100000));
  if (vm.count("tornado-quantile"))
    o.tornado_quantile = parse_fraction("--tornado-quantile", text("tornado-quantile"), 0.001, 0.49);
  o.threads = ro.threads;
  o.progress = !ro.quiet;
  o.ignore_correlations = vm["ignore-correlations"].as<bool>();
  return o;
}

/// The variant named by --variant (default: the first).
std::size_t variant_option(const po::variables_map& vm, const scenario::Scenario& sc) {
  std::size_t variant = 0;
  if (vm.count("variant")) {
    const std::string name = vm["variant"].as<std::string>();
    std::string names;
    bool found = false;
    for (std::size_t i = 0; i < sc.variants.size(); ++i) {
      names += (i ? ", " : "") + sc.variants[i].name;
      if (sc.variants[i].name == name) variant = i, found = true;
    }
    if (!found) throw UsageError("--variant: expected one of the scenario's variants (" + names + "), found \"" + name + "\"");
  }
  return variant;
}
}  // namespace

int cmd_sensitivity(const std::vector<std::string>& args, Io io) {
  po::options_description visible("Options");
  visible.add_options()
      ("json", po::bool_switch(), "print one JSON object instead of the tables")
      ("samples", po::value<std::string>(), "rows of the design's matrices A and B (default 1024; a power of 2 suits the Sobol' sequence)")
      ("replicates", po::value<std::string>(), "runs per design point, on common random numbers (default 25; 200 with --common-runs all)")
      ("precision", po::value<std::string>(), "double the rows until every total index's 95% interval is within +-H, e.g. 0.03")
      ("max-samples", po::value<std::string>(), "with --precision: at most this many rows (default 16384)")
      ("design", po::value<std::string>(), "sobol (scrambled quasi-random, default) or random")
      ("common-runs", po::value<std::string>(),
       "row (default): each row of the design its own runs, shared by its points; all: every point the same runs")
      ("bootstrap", po::value<std::string>(), "bootstrap resamples for the intervals (default 1000)")
      ("tornado-quantile", po::value<std::string>(), "the tornado's ends: this quantile and 1 minus it (default 0.05)")
      ("variant", po::value<std::string>(), "the scenario's variant to analyse (default: the first)")
      ("ignore-correlations", po::bool_switch(),
       "analyse a scenario with correlations: as if its inputs were independent (said in the output)");
  visible.add(shared_options(
      kSimulation | kThreads | kSet | kQuiet,
      {{"runs", "runs per tornado point (overrides simulation.runs)"},
       {"seed", "random seed of the runs, the design and the bootstrap (overrides simulation.seed)"},
       {"set", "override a field, e.g. --set 'market.volatility={dist: uniform, low: 0.2, high: 0.4}' (repeatable)"}}));
  const auto parsed = parse_command(
      args, visible, "scenario",
      "Usage: smbsim sensitivity [SCENARIO.yaml] [--json] [options]\n\n"
      "Which of the scenario's uncertain parameters (those given as distributions) the outcomes\n"
      "depend on: first-order and total Sobol' indices (Saltelli 2010, Jansen 1999) with 95%\n"
      "bootstrap intervals, for survival to 12, 24, 60, 120 months and the horizon, survival month\n"
      "by month, final cash and the failure month; the share of each output's variance that is\n"
      "the runs' own randomness; and a tornado (each parameter at a low and a high quantile, the\n"
      "rest at their medians). Each design point runs --replicates runs on the same random\n"
      "numbers as every other point. docs/sensitivity.md explains the method.\n\n",
      io.out);
  if (!parsed) return kOk;
  const po::variables_map& vm = *parsed;
  const RunOptions ro = read_run_options(vm);
  SensitivityOptions o = read_sensitivity_options(vm, ro);
  const scenario::Scenario sc = load_scenario_for(ro);
  const std::size_t variant = variant_option(vm, sc);
  o.tornado_runs = sc.simulation.runs;
  check_sensitivity(sc, variant, o);
  const SensitivityResult r = on_all_ranks([&] { return run_sensitivity(sc, variant, o); });
  if (!Ranks::world().root()) return kOk;  // rank 0 prints
  if (vm["json"].as<bool>()) {
    io.out << sensitivity_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    print_sensitivity(io.out, r);
  }
  return kOk;
}

}  // namespace smbsim::cli
