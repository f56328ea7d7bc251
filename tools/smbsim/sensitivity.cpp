#include "tools/smbsim/sensitivity.hpp"

#include "engine/design_runner.hpp"
#include "engine/progress.hpp"
#include "engine/proportion.hpp"
#include "engine/ranks_runner.hpp"
#include "models/firm/firm.hpp"
#include "models/scenario/text.hpp"
#include "tools/smbsim/cli.hpp"
#include "tools/smbsim/summary_text.hpp"

#include <tbb/info.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <span>

namespace smbsim::cli {

namespace {
/// The survival curve's indices at every month up to this many months, beyond it at
/// evenly spaced months (memory and bootstrap time grow with the curve's points).
constexpr int kMaxCurvePoints = 240;
constexpr int kCurveBootstrap = 200;
constexpr std::size_t kCurveChunk = 12;

/// An uncertain parameter of a firm specification and how a design point fixes it.
struct Factor {
  enum class Kind { param, loan_principal, loan_rate, plan_cost, plan_fixed_costs, plan_revenue, plan_ramp_months };
  Kind kind;
  std::size_t index;  ///< Param id, or the loan's or plan's position
  std::string path;
  const Uncertain* dist;
  double min, max;
  bool integer;

  /// The value at quantile u, as the model would use a draw: clamped into the
  /// parameter's range and rounded if it is a whole number (models/firm/firm.cpp).
  double value(double u) const {
    const double x = std::clamp(dist->quantile(u), min, max);
    return integer ? std::round(x) : x;
  }

  /// Fixes the parameter at x in `spec`: what `--set path=x` makes of it.
  void set(firm::FirmSpec& spec, double x) const {
    auto& d = spec.decisions;
    switch (kind) {
      case Kind::param: spec.values[index] = Uncertain(x); break;
      case Kind::loan_principal: d.loans[index].principal = Uncertain(x); break;
      case Kind::loan_rate: d.loans[index].rate = Uncertain(x); break;
      case Kind::plan_cost: d.plans[index].cost = Uncertain(x); break;
      case Kind::plan_fixed_costs: d.plans[index].fixed_costs = Uncertain(x); break;
      case Kind::plan_revenue: d.plans[index].revenue = Uncertain(x); break;
      case Kind::plan_ramp_months: d.plans[index].ramp_months = Uncertain(x); break;
    }
  }
};

/// Every parameter drawn once per run from a distribution: the firm's parameters (in
/// table order), then the loans' and the plans' uncertain amounts (named by their
/// random streams' paths, models/firm/firm.cpp). Shock severities and durations are
/// drawn per event, not per run: they belong to the runs' own randomness.
std::vector<Factor> uncertain_factors(const firm::FirmSpec& spec) {
  std::vector<Factor> out;
  for (const auto& info : firm::param_table())
    if (!spec[info.id].is_fixed())
      out.push_back({Factor::Kind::param, static_cast<std::size_t>(info.id), std::string(info.path), &spec[info.id],
                     info.min, info.max, info.integer});
  using K = Factor::Kind;
  for (std::size_t k = 0; k < spec.decisions.loans.size(); ++k) {
    const auto& loan = spec.decisions.loans[k];
    const std::string stem = "loans." + loan.name + ".";
    if (!loan.principal.is_fixed()) out.push_back({K::loan_principal, k, stem + "principal", &loan.principal, 0.0, 1e13, false});
    if (!loan.rate.is_fixed()) out.push_back({K::loan_rate, k, stem + "rate", &loan.rate, 0.0, 5.0, false});
  }
  for (std::size_t k = 0; k < spec.decisions.plans.size(); ++k) {
    const auto& plan = spec.decisions.plans[k];
    const std::string stem = "plans." + plan.name + ".";
    if (!plan.cost.is_fixed()) out.push_back({K::plan_cost, k, stem + "cost", &plan.cost, 0.0, 1e13, false});
    if (!plan.fixed_costs.is_fixed())
      out.push_back({K::plan_fixed_costs, k, stem + "fixed_costs", &plan.fixed_costs, 0.0, 1e13, false});
    if (!plan.revenue.is_fixed()) out.push_back({K::plan_revenue, k, stem + "revenue", &plan.revenue, 0.0, 1e13, false});
    if (!plan.ramp_months.is_fixed())
      out.push_back({K::plan_ramp_months, k, stem + "ramp_months", &plan.ramp_months, 0.0, 1200.0, false});
  }
  return out;
}

/// Where the per-run numbers are in the model's outcome row: the columns whose roles are
/// failure_month and end_value (engine/model_schema.hpp).
struct Columns {
  std::size_t failure_month = 0, final_cash = 0;
};
Columns columns_of(const ModelSchema& schema) {
  Columns c;
  bool fm = false, cash = false;
  for (std::size_t i = 0; i < schema.outcome_columns.size(); ++i) {
    if (schema.outcome_columns[i].role == "failure_month") c.failure_month = i, fm = true;
    if (schema.outcome_columns[i].role == "end_value") c.final_cash = i, cash = true;
  }
  if (!fm || !cash) throw std::logic_error("sensitivity: the model has no outcome columns with roles failure_month and end_value");
  return c;
}

/// An output named after its column: "final_cash" reads "final cash".
SensitivityOutput column_output(const ColumnSpec& c, const std::string& note, const std::string& heading = "") {
  std::string label = c.name;
  std::replace(label.begin(), label.end(), '_', ' ');
  return {c.name, label + note, c.units, heading.empty() ? label.substr(0, 12) : heading};
}

/// The outputs' per-run values from a point's outcome rows: for each headline output
/// (survival to each horizon: 1 or 0; final cash; failure month, the horizon for a
/// survivor), runs x 1, output after output.
class RunValues {
 public:
  RunValues(std::vector<int> horizons, int months, Columns cols)
      : horizons_(std::move(horizons)), months_(months), cols_(cols) {}
  std::size_t outputs() const { return horizons_.size() + 2; }
  /// values[o * runs + r]
  void operator()(std::span<const double> rows, std::size_t width, std::int64_t runs, std::vector<double>& values) const {
    const auto n = static_cast<std::size_t>(runs);
    values.resize(outputs() * n);
    for (std::size_t r = 0; r < n; ++r) {
      const double fm = rows[r * width + cols_.failure_month];
      const bool failed = fm > 0;
      for (std::size_t h = 0; h < horizons_.size(); ++h)
        values[h * n + r] = !failed || fm > horizons_[h] ? 1.0 : 0.0;
      values[horizons_.size() * n + r] = rows[r * width + cols_.final_cash];
      values[(horizons_.size() + 1) * n + r] = failed ? fm : months_;
    }
  }

 private:
  std::vector<int> horizons_;
  int months_;
  Columns cols_;
};

/// Blocks of runs for the bootstrap (sobol::PointValues): run r of R is in block
/// r * G / R, G = min(R, kGroups).
constexpr int kGroups = 10;

/// Under MPI each rank runs one contiguous range of points [start, start + count)
/// (rank_blocks), writing each point's record into `parts` (record k of a part of width w
/// at [k w, (k + 1) w)); this brings every rank's records to rank 0, in point order, as
/// one process would have them (bits, nothing added up). One process: nothing to do.
struct Part {
  std::vector<double>* values;
  std::size_t width;
};
void gather_points(const Ranks& ranks, const char* what, std::int64_t start, std::int64_t count,
                   const std::vector<Part>& parts) {
  if (!ranks.distributed()) return;
  const auto [first, end] = ranks.block_range(count, ranks.rank());
  detail::RankTiming().say("smbsim: rank %d of %d: %s %lld-%lld of %lld-%lld\n", ranks.rank(), ranks.size(), what,
                           static_cast<long long>(start + first), static_cast<long long>(start + end - 1),
                           static_cast<long long>(start), static_cast<long long>(start + count - 1));
  std::vector<double> mine;
  for (std::int64_t k = start + first; k < start + end; ++k)
    for (const Part& p : parts) {
      const auto at = p.values->begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(k) * p.width);
      mine.insert(mine.end(), at, at + static_cast<std::ptrdiff_t>(p.width));
    }
  const std::vector<double> all = ranks.gather(mine);
  if (!ranks.root()) return;
  auto from = all.begin();
  for (std::int64_t k = start; k < start + count; ++k)
    for (const Part& p : parts) {
      std::copy_n(from, p.width, p.values->begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(k) * p.width));
      from += static_cast<std::ptrdiff_t>(p.width);
    }
}

Interval paired(std::span<const double> a, std::span<const double> b) {
  const std::size_t n = a.size();
  double s = 0;
  for (std::size_t r = 0; r < n; ++r) s += a[r] - b[r];
  const double mean = s / static_cast<double>(n);
  double ss = 0;
  for (std::size_t r = 0; r < n; ++r) ss += (a[r] - b[r] - mean) * (a[r] - b[r] - mean);
  const double half = n > 1 ? kZ95 * std::sqrt(ss / static_cast<double>(n - 1) / static_cast<double>(n)) : NAN;
  return {mean, mean - half, mean + half};
}
}  // namespace

double widest_total_half_width(const std::vector<sobol::OutputIndices>& indices) {
  double widest = 0;
  for (const auto& o : indices)
    for (const auto& t : o.total)
      if (!std::isnan(t.lo) && !std::isnan(t.hi)) widest = std::max(widest, 0.5 * (t.hi - t.lo));
  return widest;
}

void check_sensitivity(const scenario::Scenario& sc, std::size_t variant, const SensitivityOptions& o) {
  const scenario::Variant& v = sc.variants.at(variant);
  const std::string file = scenario::shortened_start(sc.source);
  if (uncertain_factors(v.spec).empty()) {
    std::string others;  // variants that do have some: the likely intent (a plan's uncertain cost, say)
    for (const auto& w : sc.variants)
      if (!uncertain_factors(w.spec).empty()) others += (others.empty() ? "" : ", ") + w.name;
    throw UsageError(file + ": expected at least one parameter given as a distribution ({dist: ...}) in variant " + v.name +
                     ", found none: " +
                     (others.empty() ? std::string("give the uncertain ones as distributions, or --set one (e.g. --set "
                                                   "'market.volatility={dist: uniform, low: 0.2, high: 0.4}')")
                                     : "choose a variant that has some with --variant (" + others + ")"));
  }
  const auto& correlations = v.spec.design.correlations;
  if (!correlations.empty() && !o.ignore_correlations) {
    std::string pairs;
    for (const auto& c : correlations)
      pairs += (pairs.empty() ? "" : ", ") + ("[" + c.a + ", " + c.b + ", " + format_double("%g", c.rank) + "]");
    throw UsageError(file + ": expected independent inputs (Sobol' indices assume them), found correlations: " + pairs +
                     " in variant " + v.name + ": remove them, or give --ignore-correlations to analyse the inputs as if "
                     "independent");
  }
}

namespace {
/// What every step of one sensitivity analysis shares: the scenario, the options, the
/// factors and where the headline numbers are in the model's outcome rows.
struct Analysis {
  const scenario::Scenario& sc;
  const SensitivityOptions& o;
  const firm::FirmSpec& base;
  std::vector<Factor> factors;
  int d;
  int months;
  int threads;
  const Ranks& ranks;
  bool show;  ///< draw progress bars
  Columns cols;
  std::vector<int> horizons;

  /// The base specification with factor i fixed at value_of(i).
  template <class F>
  firm::FirmSpec spec_at(F&& value_of) const {
    firm::FirmSpec spec = base;
    for (int i = 0; i < d; ++i) factors[static_cast<std::size_t>(i)].set(spec, value_of(i));
    return spec;
  }
};

/// The result's description of the analysis: provenance, inputs, outputs and the curve's months.
SensitivityResult describe(const Analysis& a, const std::string& variant, const ModelSchema& schema) {
  const SensitivityOptions& o = a.o;
  SensitivityResult res;
  res.scenario = a.sc.name;
  res.variant = variant;
  res.seed = a.sc.simulation.seed;
  res.months = a.months;
  res.sequence = o.sequence;
  res.replicates = o.replicates;
  res.shared_runs = o.shared_runs;
  res.bootstrap = o.bootstrap;
  res.precision = o.precision;
  res.tornado_quantile = o.tornado_quantile;
  res.tornado_runs = o.tornado_runs;
  res.correlations_ignored = a.base.design.correlations;
  for (const auto& f : a.factors)
    res.inputs.push_back({f.path, Uncertain::kKindNames[f.dist->kind()], f.value(o.tornado_quantile), f.value(0.5),
                          f.value(1.0 - o.tornado_quantile)});
  for (int h : a.horizons)
    res.outputs.push_back({"survival_" + std::to_string(h), "survival to month " + std::to_string(h), "1", "surv " + std::to_string(h)});
  res.outputs.push_back(column_output(schema.outcome_columns[a.cols.final_cash], ""));
  res.outputs.push_back(column_output(schema.outcome_columns[a.cols.failure_month], " (the horizon if survived)", "fail month"));
  const int step = (a.months + kMaxCurvePoints - 1) / kMaxCurvePoints;
  for (int m = step; m < a.months; m += step) res.curve_months.push_back(m);
  res.curve_months.push_back(a.months);
  return res;
}

/// The Sobol' design's accumulators sized for `points` points.
void size_point_values(const Analysis& a, std::int64_t points, int groups, const std::vector<double>& group_runs,
                       std::vector<sobol::PointValues>& headline, std::vector<sobol::PointValues>& curve) {
  const SensitivityOptions& o = a.o;
  for (auto& p : headline) {
    p.groups = groups;
    p.group_runs = group_runs;
    p.runs_per_row = !o.shared_runs;
    p.sum.resize(static_cast<std::size_t>(points * groups));
    p.squares.resize(static_cast<std::size_t>(points * groups));
  }
  // The curve: with each row its own runs, its points' halves too (the noise to remove);
  // survival is 0 or 1, so no squares.
  for (auto& p : curve) {
    if (o.shared_runs) {
      p.mean.resize(static_cast<std::size_t>(points));
      continue;
    }
    p.groups = 2;
    p.group_runs = {static_cast<double>(o.replicates / 2), static_cast<double>(o.replicates - o.replicates / 2)};
    p.runs_per_row = p.binary = true;
    p.sum.resize(static_cast<std::size_t>(points * 2));
  }
}

/// Point k's records: the headline outputs' sums and squares by group of runs, and the
/// curve's survivors to each month (in each half of the runs).
void record_point(const Analysis& a, const SensitivityResult& res, std::int64_t k, std::span<const double> r,
                  std::size_t width, const std::vector<double>& values, int groups,
                  std::vector<sobol::PointValues>& headline, std::vector<sobol::PointValues>& curve) {
  const auto kk = static_cast<std::size_t>(k);
  const auto n = static_cast<std::size_t>(a.o.replicates);
  const auto g = static_cast<std::size_t>(groups);
  for (std::size_t out = 0; out < headline.size(); ++out) {
    double* sum = &headline[out].sum[kk * g];
    double* squares = &headline[out].squares[kk * g];
    std::fill_n(sum, g, 0.0);
    std::fill_n(squares, g, 0.0);
    for (std::size_t run = 0; run < n; ++run) {
      const double x = values[out * n + run];
      sum[run * g / n] += x;
      squares[run * g / n] += x * x;
    }
  }
  // The curve: survivors to each month, from the failure months.
  for (std::size_t c = 0; c < res.curve_months.size(); ++c) {
    std::int64_t alive[2] = {0, 0};  // in the first and the second half of the runs
    for (std::size_t run = 0; run < n; ++run) {
      const double fm = r[run * width + a.cols.failure_month];
      alive[run < n / 2 ? 0 : 1] += fm == 0 || fm > res.curve_months[c] ? 1 : 0;
    }
    if (a.o.shared_runs) {
      curve[c].mean[kk] = static_cast<double>(alive[0] + alive[1]) / static_cast<double>(n);
    } else {
      curve[c].sum[kk * 2] = static_cast<double>(alive[0]);
      curve[c].sum[kk * 2 + 1] = static_cast<double>(alive[1]);
    }
  }
}

/// Rank 0's estimate at `rows` rows, and whether to double the design: while the widest
/// interval is wider than asked and more rows can still narrow it.
bool estimate_and_decide(const Analysis& a, tbb::task_arena& arena, const std::vector<sobol::PointValues>& headline,
                         std::int64_t rows, SensitivityResult& res) {
  const SensitivityOptions& o = a.o;
  arena.execute([&] { res.indices = sobol::estimate(headline, a.d, rows, o.bootstrap, a.sc.simulation.seed); });
  if (!o.precision) return false;
  const double widest = widest_total_half_width(res.indices);
  res.convergence.emplace_back(rows, widest);
  if (widest <= *o.precision) return false;
  // Doubling the rows shrinks the rows' part of the error by 1/sqrt(2); with every
  // point on the same runs, the part of those R runs stays. If the widest interval
  // shrank by less than a tenth, that part dominates: more rows will not help, more
  // replicates will. (With each row its own runs, both parts shrink with the rows.)
  res.precision_met = false;
  if (o.shared_runs && res.convergence.size() >= 2 && widest > 0.9 * res.convergence[res.convergence.size() - 2].second) {
    res.precision_limit = "replicates";
    return false;
  }
  if (rows * 2 > o.max_samples) {
    res.precision_limit = "max_samples";
    return false;
  }
  res.precision_met = true;
  return true;
}

/// The Sobol' design, grown by doubling while the intervals are wider than asked; the
/// curve's per-point values are left in `curve` for the estimate after the tornado.
void run_sobol(const Analysis& a, const RunValues& run_values, DesignRunConfig& cfg, tbb::task_arena& arena,
               std::vector<sobol::PointValues>& curve, SensitivityResult& res) {
  const SensitivityOptions& o = a.o;
  std::vector<sobol::PointValues> headline(run_values.outputs());
  curve.assign(res.curve_months.size(), {});
  const int groups = static_cast<int>(std::min<std::int64_t>(o.replicates, kGroups));
  std::vector<double> group_runs(static_cast<std::size_t>(groups), 0.0);
  for (std::int64_t run = 0; run < o.replicates; ++run) group_runs[static_cast<std::size_t>(run * groups / o.replicates)] += 1;
  std::int64_t rows = o.samples, done_points = 0;
  for (;;) {
    const sobol::UnitDesign u = sobol::unit_design(a.d, rows, o.sequence, a.sc.simulation.seed);
    const std::int64_t points = u.points();
    size_point_values(a, points, groups, group_runs, headline, curve);
    // This rank's share of the new points (all of them in one process).
    const auto [mine, mine_end] = a.ranks.block_range(points - done_points, a.ranks.rank());
    Progress progress("sobol " + std::to_string(rows) + " rows", (mine_end - mine) * o.replicates, a.show);
    cfg.progress = &progress;
    tbb::enumerable_thread_specific<std::vector<double>> scratch;
    run_design<firm::Firm>(
        done_points + mine, mine_end - mine, cfg,
        [&](std::int64_t k) { return a.spec_at([&](int i) { return a.factors[static_cast<std::size_t>(i)].value(u.point(k, i)); }); },
        [&](std::int64_t k, std::span<const double> r, std::size_t width) {
          std::vector<double>& values = scratch.local();
          run_values(r, width, o.replicates, values);
          record_point(a, res, k, r, width, values, groups, headline, curve);
        });
    progress.finish();
    std::vector<Part> parts;
    for (auto& p : headline) parts.insert(parts.end(), {{&p.sum, p.sum.size() / static_cast<std::size_t>(points)},
                                                       {&p.squares, p.squares.size() / static_cast<std::size_t>(points)}});
    for (auto& p : curve) {
      auto& values = o.shared_runs ? p.mean : p.sum;
      parts.push_back({&values, values.size() / static_cast<std::size_t>(points)});
    }
    gather_points(a.ranks, "design points", done_points, points - done_points, parts);
    done_points = points;
    res.rows = rows;
    // Rank 0 estimates and decides whether to grow the design; the others follow.
    if (!a.ranks.broadcast(a.ranks.root() && estimate_and_decide(a, arena, headline, rows, res))) break;
    rows *= 2;
  }
  res.runs = done_points * o.replicates;
}

/// The tornado's per-run values (point, output, run): point 0 has every parameter at its
/// median, point 1 + 2i parameter i at its low quantile and 2 + 2i at its high one, all
/// on the same runs.
std::vector<double> run_tornado(const Analysis& a, const RunValues& run_values, DesignRunConfig& cfg) {
  const SensitivityOptions& o = a.o;
  const std::int64_t tornado_points = 1 + 2 * static_cast<std::int64_t>(a.d);
  const std::size_t outputs = run_values.outputs();
  const auto n = static_cast<std::size_t>(o.tornado_runs);
  std::vector<double> tv(static_cast<std::size_t>(tornado_points) * outputs * n);
  {
    const auto [mine, mine_end] = a.ranks.block_range(tornado_points, a.ranks.rank());
    Progress progress("tornado", (mine_end - mine) * o.tornado_runs, a.show);
    cfg.runs = o.tornado_runs;
    cfg.row_points = 0;  // one set of runs for every bar: paired differences
    cfg.progress = &progress;
    tbb::enumerable_thread_specific<std::vector<double>> scratch;
    run_design<firm::Firm>(
        mine, mine_end - mine, cfg,
        [&](std::int64_t k) {
          return a.spec_at([&](int i) {
            const auto& f = a.factors[static_cast<std::size_t>(i)];
            if (k > 0 && (k - 1) / 2 == i) return f.value(k % 2 == 1 ? o.tornado_quantile : 1.0 - o.tornado_quantile);
            return f.value(0.5);
          });
        },
        [&](std::int64_t k, std::span<const double> r, std::size_t width) {
          std::vector<double>& values = scratch.local();
          run_values(r, width, o.tornado_runs, values);
          std::copy(values.begin(), values.end(), tv.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(k) * outputs * n));
        });
    progress.finish();
  }
  gather_points(a.ranks, "tornado points", 0, tornado_points, {{&tv, outputs * n}});
  return tv;
}

/// The curve's indices and the tornado's bars, on rank 0.
void estimate_curve_and_tornado(const Analysis& a, tbb::task_arena& arena, const std::vector<sobol::PointValues>& curve,
                                const std::vector<double>& tv, std::size_t outputs, SensitivityResult& res) {
  // The curve's bands from fewer resamples: a band drawn month by month needs less than
  // the headline intervals, and the curve has a hundred and more outputs.
  res.curve_bootstrap = std::min(a.o.bootstrap, kCurveBootstrap);
  // A few months at a time: the estimator keeps each output's values at every row for
  // its resamples, and the resamples do not depend on the outputs, so the same numbers.
  for (std::size_t c = 0; c < curve.size(); c += kCurveChunk) {
    const auto chunk = std::span<const sobol::PointValues>(curve).subspan(c, std::min(kCurveChunk, curve.size() - c));
    arena.execute([&] {
      for (auto& x : sobol::estimate(chunk, a.d, res.rows, res.curve_bootstrap, a.sc.simulation.seed)) res.curve.push_back(std::move(x));
    });
  }
  const auto n = static_cast<std::size_t>(a.o.tornado_runs);
  for (std::size_t out = 0; out < outputs; ++out) {
    auto slice = [&](std::int64_t k) {
      return std::span<const double>(&tv[(static_cast<std::size_t>(k) * outputs + out) * n], n);
    };
    TornadoOutput t;
    double s = 0;
    for (double x : slice(0)) s += x;
    t.center = s / static_cast<double>(n);
    for (int i = 0; i < a.d; ++i) {
      const auto lo = slice(1 + 2 * i), hi = slice(2 + 2 * i);
      t.bars.push_back({paired(lo, slice(0)), paired(hi, slice(0)), paired(hi, lo)});
    }
    res.tornado.push_back(std::move(t));
  }
}
}  // namespace

SensitivityResult run_sensitivity(const scenario::Scenario& sc, std::size_t variant, const SensitivityOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  check_sensitivity(sc, variant, o);
  const scenario::Variant& v = sc.variants.at(variant);
  const ModelSchema schema = firm::Firm::schema(v.spec);
  const Ranks& ranks = Ranks::world();
  Analysis a{sc, o, v.spec, uncertain_factors(v.spec), 0, sc.simulation.months,
             o.threads > 0 ? o.threads : tbb::info::default_concurrency(), ranks,
             o.progress && ranks.root() && Progress::stderr_is_terminal(), columns_of(schema), {}};
  a.d = static_cast<int>(a.factors.size());
  for (int m : {12, 24, 60, 120})
    if (m < a.months) a.horizons.push_back(m);
  a.horizons.push_back(a.months);
  SensitivityResult res = describe(a, v.name, schema);
  const RunValues run_values(a.horizons, a.months, a.cols);

  tbb::task_arena arena(a.threads);
  DesignRunConfig cfg;
  cfg.seed = sc.simulation.seed;
  cfg.runs = o.replicates;
  cfg.row_points = o.shared_runs ? 0 : a.d + 2;
  cfg.months = a.months;
  cfg.threads = a.threads;
  std::vector<sobol::PointValues> curve;
  run_sobol(a, run_values, cfg, arena, curve, res);
  const std::vector<double> tv = run_tornado(a, run_values, cfg);
  // Rank 0 alone estimates from here on, after the last exchange: the others are done.
  if (!ranks.root()) return res;
  estimate_curve_and_tornado(a, arena, curve, tv, run_values.outputs(), res);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return res;
}

}  // namespace smbsim::cli
