// Designs of uncertain inputs (docs/model.md §12): inverse CDFs, Latin hypercube and
// scrambled Sobol' stratification, the Gaussian copula's rank correlations, and the
// firm's per-run inputs as the runner streams them.
#include "engine/design.hpp"
#include "engine/runner.hpp"
#include "engine/uncertain.hpp"
#include "models/firm/firm.hpp"
#include "models/scenario/scenario.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <set>
#include <vector>

using namespace smbsim;

namespace {
std::vector<double> ranks(const std::vector<double>& x) {
  std::vector<std::size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  std::vector<double> r(x.size());
  for (std::size_t i = 0; i < order.size(); ++i) r[order[i]] = static_cast<double>(i);
  return r;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  const auto ra = ranks(a), rb = ranks(b);
  const double n = static_cast<double>(a.size()), mean = (n - 1) / 2;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (ra[i] - mean) * (rb[i] - mean);
    saa += (ra[i] - mean) * (ra[i] - mean);
    sbb += (rb[i] - mean) * (rb[i] - mean);
  }
  return sab / std::sqrt(saa * sbb);
}

/// Each run's point in `dims` dimensions, runs 0 .. n-1, by dimension.
std::vector<std::vector<double>> points(const DesignSpec& spec, std::size_t dims, std::int64_t n, std::uint64_t seed = 7) {
  std::vector<std::string> names;
  std::vector<std::uint64_t> streams;
  for (std::size_t j = 0; j < dims; ++j) {
    names.push_back("p" + std::to_string(j));
    streams.push_back(substream_id(names.back()));
  }
  Design design(spec, names, streams, 0);
  std::vector<std::vector<double>> out(dims, std::vector<double>(static_cast<std::size_t>(n)));
  std::vector<double> u(dims);
  for (std::int64_t r = 0; r < n; ++r) {
    design.point(seed, static_cast<std::uint64_t>(r), u);
    for (std::size_t j = 0; j < dims; ++j) out[j][static_cast<std::size_t>(r)] = u[j];
  }
  return out;
}

/// Whether every one of n equal strata of (0, 1) holds exactly one of the values.
bool one_per_stratum(const std::vector<double>& u) {
  const auto n = u.size();
  std::vector<int> hits(n, 0);
  for (double x : u) {
    if (!(x > 0 && x < 1)) return false;
    ++hits[std::min(n - 1, static_cast<std::size_t>(x * static_cast<double>(n)))];
  }
  return std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; });
}

class InputSink final : public OutcomeSink {
 public:
  std::vector<double> inputs;
  void append_outcomes(std::int64_t, std::int64_t, std::span<const double>) override {}
  void append_path(std::int64_t, std::span<const double>) override {}
  void append_inputs(std::int64_t, std::int64_t, std::span<const double> rows) override {
    inputs.insert(inputs.end(), rows.begin(), rows.end());
  }
};
}  // namespace

TEST_CASE("inverse CDFs of every distribution") {
  CHECK(Uncertain(3.0).quantile(0.3) == 3.0);
  CHECK(Uncertain::normal(10, 2).quantile(0.975) == Approx(10 + 2 * 1.959963985).epsilon(1e-9));
  CHECK(Uncertain::normal(10, 0).quantile(0.2) == 10);
  CHECK(Uncertain::lognormal(5, 0.5).quantile(0.5) == Approx(5).epsilon(1e-12));
  CHECK(Uncertain::uniform(2, 6).quantile(0.25) == Approx(3));
  // Triangular (0, 1, 1): F(x) = x^2, so the quantile of u is sqrt(u).
  CHECK(Uncertain::triangular(0, 1, 1).quantile(0.49) == Approx(0.7).epsilon(1e-12));
  CHECK(Uncertain::triangular(1, 2, 4).quantile(1.0 / 3.0) == Approx(2).epsilon(1e-12));
  // Beta(2, 1): F(x) = x^2.
  CHECK(Uncertain::beta(2, 1).quantile(0.64) == Approx(0.8).epsilon(1e-10));
  const Uncertain d = Uncertain::discrete({1, 2, 5}, {1, 2, 1});
  CHECK(d.quantile(0.2) == 1);
  CHECK(d.quantile(0.26) == 2);
  CHECK(d.quantile(0.74) == 2);
  CHECK(d.quantile(0.76) == 5);
  // Never infinite at the ends.
  CHECK(std::isfinite(Uncertain::normal(0, 1).quantile(0.0)));
  CHECK(std::isfinite(Uncertain::normal(0, 1).quantile(1.0)));
  CHECK(Uncertain::triangular(0.1, 0.2, 0.4).describe() == "triangular(low=0.1, mode=0.2, high=0.4)");
}

TEST_CASE("the keyed permutation is a bijection") {
  for (std::uint64_t n : {1u, 2u, 3u, 7u, 64u, 1000u, 4097u}) {
    std::set<std::uint64_t> seen;
    for (std::uint64_t i = 0; i < n; ++i) seen.insert(permute(i, n, 12345));
    CHECK(seen.size() == n);
    CHECK(*seen.rbegin() == n - 1);
  }
  // Different keys, different permutations.
  int same = 0;
  for (std::uint64_t i = 0; i < 1000; ++i) same += permute(i, 1000, 1) == permute(i, 1000, 2);
  CHECK(same < 20);
}

TEST_CASE("a Latin hypercube puts one run in each stratum of every input") {
  for (std::int64_t n : {1, 10, 1000, 3001}) {
    const auto u = points({Sampling::lhs, n, {}, nullptr}, 5, n);
    for (const auto& dim : u) CHECK(one_per_stratum(dim));
  }
  // The strata of two inputs are not paired: rank correlation near 0.
  const auto u = points({Sampling::lhs, 5000, {}, nullptr}, 2, 5000);
  CHECK(std::abs(spearman(u[0], u[1])) < 0.05);
}

TEST_CASE("scrambled Sobol' points stratify every input and differ by seed") {
  const auto u = points({Sampling::sobol, 0, {}, nullptr}, 10, 1024);
  for (const auto& dim : u) CHECK(one_per_stratum(dim));
  // 2-D: the first 1024 points fill the 32 x 32 grid's cells evenly (a (t, m, s)-net).
  std::vector<int> cells(32 * 32, 0);
  for (std::size_t i = 0; i < 1024; ++i) ++cells[static_cast<std::size_t>(u[0][i] * 32) * 32 + static_cast<std::size_t>(u[1][i] * 32)];
  CHECK(*std::max_element(cells.begin(), cells.end()) == 1);
  const auto v = points({Sampling::sobol, 0, {}, nullptr}, 10, 16, 8);
  CHECK(v[0][3] != u[0][3]);
  // A run's point does not depend on which runs came before it.
  std::vector<std::string> names{"p0", "p1"};
  Design design({Sampling::sobol, 0, {}, nullptr}, names, {substream_id("p0"), substream_id("p1")}, 0);
  std::vector<double> x(2), y(2);
  design.point(7, 900, x);
  design.point(7, 3, y);
  design.point(7, 900, y);
  CHECK(x == y);
  CHECK(x[0] == u[0][900]);
}

TEST_CASE("the Gaussian copula gives the requested rank correlations") {
  const std::vector<Correlation> c{{"p0", "p1", 0.7}, {"p1", "p2", -0.4}};
  for (Sampling s : {Sampling::random, Sampling::lhs, Sampling::sobol}) {
    const std::int64_t n = 20000;
    const auto u = points({s, n, c, nullptr}, 4, n);
    // Spearman's rho of n pairs has sd about (1 - r^2) / sqrt(n) < 0.01: within 0.03.
    CHECK(spearman(u[0], u[1]) == Approx(0.7).margin(0.03));
    CHECK(spearman(u[1], u[2]) == Approx(-0.4).margin(0.03));
    CHECK(std::abs(spearman(u[0], u[3])) < 0.03);
    // Margins stay uniform: the mean and the share below 0.1.
    for (const auto& dim : u) {
      CHECK(std::accumulate(dim.begin(), dim.end(), 0.0) / n == Approx(0.5).margin(0.01));
      CHECK(std::count_if(dim.begin(), dim.end(), [](double x) { return x < 0.1; }) / double(n) == Approx(0.1).margin(0.01));
    }
  }
  CHECK(normal_score_correlation(0.5) == Approx(0.5176).margin(1e-4));
  CHECK(positive_definite(normal_score_matrix({"a", "b", "c"}, {{"a", "b", 0.6}, {"a", "c", 0.6}})));
  CHECK_FALSE(positive_definite(normal_score_matrix({"a", "b", "c"}, {{"a", "b", 0.9}, {"a", "c", 0.9}})));
  CHECK_FALSE(positive_definite(normal_score_matrix({"a", "b", "c"}, {{"a", "b", 0.9}, {"a", "c", 0.9}, {"b", "c", -0.9}})));
}

namespace {
scenario::Scenario designed(const std::string& sampling, const std::string& extra = "") {
  return scenario::load_scenario("simulation: {runs: 2000, months: 12, sampling: " + sampling + "}\n"
                                 "firm: {cash_buffer_days: {dist: uniform, low: 10, high: 60}}\n"
                                 "market: {fit: {dist: lognormal, median: 1, sigma: 0.3}, growth: {dist: normal, mean: 0.02, sd: 0.05}}\n"
                                 "plans:\n  - {name: site, month: 3, revenue: {dist: triangular, low: 0, mode: 5000, high: 9000}}\n" +
                                     extra,
                                 "t.yaml");
}

std::vector<double> run_inputs(const firm::FirmSpec& spec, std::int64_t runs, int threads, std::int64_t block = 4096) {
  RunConfig cfg;
  cfg.seed = 3;
  cfg.runs = runs;
  cfg.months = 12;
  cfg.threads = threads;
  cfg.block_size = block;
  InputSink sink;
  simulate<firm::Firm>(spec, cfg, sink);
  return sink.inputs;
}

std::vector<double> column(const std::vector<double>& rows, std::size_t width, std::size_t k) {
  std::vector<double> out;
  for (std::size_t i = k; i < rows.size(); i += width) out.push_back(rows[i]);
  return out;
}
}  // namespace

TEST_CASE("the firm reports its uncertain inputs, in schema order") {
  const auto sc = designed("random");
  const firm::FirmSpec& spec = sc.variants.front().spec;
  const ModelSchema schema = firm::Firm::schema(spec);
  REQUIRE(schema.inputs.size() == 4);
  CHECK(schema.inputs[0].name == "firm.cash_buffer_days");
  CHECK(schema.inputs[0].units == "day");
  CHECK(schema.inputs[1].name == "market.growth");
  CHECK(schema.inputs[2].name == "market.fit");
  CHECK(schema.inputs[3].name == "plans.site.revenue");
  CHECK(schema.inputs[3].distribution == "triangular(low=0, mode=5000, high=9000)");
  const auto rows = run_inputs(spec, 2000, 2);
  REQUIRE(rows.size() == 2000 * 4);
  const auto cash = column(rows, 4, 0), revenue = column(rows, 4, 3);
  CHECK(*std::min_element(cash.begin(), cash.end()) >= 10);
  CHECK(*std::max_element(cash.begin(), cash.end()) <= 60);
  CHECK(std::accumulate(revenue.begin(), revenue.end(), 0.0) / 2000 == Approx((0 + 5000 + 9000) / 3.0).epsilon(0.03));
  // Random sampling draws what the model always drew: each input from its own stream.
  RandomStream own(3, 17, firm::kParameters, 0, substream_id("firm.cash_buffer_days"));
  CHECK(cash[17] == spec[firm::Param::cash_buffer_days].sample(own));
}

TEST_CASE("designs reach the firm's inputs, the same with any threads and blocks") {
  for (const char* sampling : {"lhs", "sobol"}) {
    const auto sc = designed(sampling);
    const firm::FirmSpec& spec = sc.variants.front().spec;
    const auto rows = run_inputs(spec, 2000, 2);
    CHECK(rows == run_inputs(spec, 2000, 1, 333));
    // The uniform input maps back to one run per stratum under LHS; Sobol' with 2000 runs
    // (not a power of two) has at most two per stratum.
    const auto cash = column(rows, 4, 0);
    std::vector<int> hits(2000, 0);
    for (double x : cash) ++hits[std::min<std::size_t>(1999, static_cast<std::size_t>((x - 10) / 50 * 2000))];
    CHECK(*std::max_element(hits.begin(), hits.end()) <= (std::string(sampling) == "lhs" ? 1 : 2));
  }
}

TEST_CASE("a quantile is a number in the support or NaN and never a raw Boost.Math error") {
  // Boost's Newton iteration throws here under its own default policy (issue 27, item 4).
  CHECK(std::isnan(Uncertain::beta(3, 1e17).quantile(0.5)));
  // Boost 1.74's inverse gives inf at the design's smallest point when a is 0.5; the tail's
  // leading term, (u a B(a, b))^(1/a), is exact there: B(0.5, 2) = 4/3.
  const double u = 0x1p-53, expected = std::pow(u * 0.5 * 4.0 / 3.0, 2.0);
  CHECK(Uncertain::beta(0.5, 2).quantile(u) == Approx(expected).epsilon(1e-12));
  CHECK(Uncertain::beta(2, 0.5).quantile(1 - u) == 1.0);  // 1 - 5e-33
  CHECK(Uncertain::beta(0.5, 2).quantile(0.5) == Approx(0.1206147584).epsilon(1e-9));
}

TEST_CASE("a non-finite input stops the study instead of counting as a survivor") {
  // The reader refuses these shapes; built by hand, they reach the runner's last guard.
  auto sc = designed("random");
  firm::FirmSpec spec = sc.variants.front().spec;
  spec[firm::Param::alignment_level] = Uncertain::beta(0.001, 0.001);  // 0/0 in 22% of draws
  CHECK_THROWS_WITH(run_inputs(spec, 2000, 2), Catch::Contains("the input alignment.level, drawn from beta(a=0.001, b=0.001), is NaN"));
  auto lhs = designed("lhs");
  firm::FirmSpec huge = lhs.variants.front().spec;
  huge[firm::Param::alignment_level] = Uncertain::beta(3, 1e17);  // Boost's Newton iteration fails
  CHECK_THROWS_WITH(run_inputs(huge, 200, 1), Catch::Contains("the input alignment.level, drawn from beta(a=3, b=1e+17), is NaN"));
}

TEST_CASE("correlated firm inputs show the requested rank correlation") {
  const auto sc = designed("lhs", "correlations:\n  - [market.fit, firm.cash_buffer_days, -0.6]\n  - [plans.site.revenue, market.growth, 0.5]\n");
  const firm::FirmSpec& spec = sc.variants.front().spec;
  const auto rows = run_inputs(spec, 2000, 2);
  // n = 2000: Spearman's sd is about (1 - r^2) / sqrt(n) <= 0.02, so within 0.05.
  CHECK(spearman(column(rows, 4, 2), column(rows, 4, 0)) == Approx(-0.6).margin(0.05));
  CHECK(spearman(column(rows, 4, 3), column(rows, 4, 1)) == Approx(0.5).margin(0.05));
  CHECK(std::abs(spearman(column(rows, 4, 0), column(rows, 4, 1))) < 0.07);
}

TEST_CASE("the scenario reads sampling and correlations, and rejects bad ones") {
  CHECK(designed("sobol").variants.front().spec.design.sampling == Sampling::sobol);
  CHECK(designed("lhs").variants.front().spec.design.runs == 2000);
  auto problem = [](const std::string& text) {
    try {
      scenario::load_scenario(text, "c.yaml");
    } catch (const scenario::ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string two = "market: {fit: {dist: uniform, low: 0.5, high: 1.5}, growth: {dist: uniform, low: 0, high: 0.1}}\n";
  CHECK_THAT(problem("simulation: {sampling: halton}\n"), Catch::Contains("c.yaml:1:24: simulation.sampling: expected one of random, lhs, sobol"));
  CHECK_THAT(problem(two + "correlations: [[market.fit, market.growth, 1]]\n"), Catch::Contains("c.yaml:2:44: correlations[0]: expected a rank correlation in (-1, 1)"));
  CHECK_THAT(problem(two + "correlations: [[market.fit, alignment.level, 0.5]]\n"), Catch::Contains("alignment.level, which is fixed"));
  CHECK_THAT(problem(two + "correlations: [[market.fitt, market.growth, 0.5]]\n"), Catch::Contains("unknown parameter market.fitt (did you mean market.fit?)"));
  CHECK_THAT(problem(two + "correlations: [[market.fit, market.fit, 0.5]]\n"), Catch::Contains("two different parameters"));
  CHECK_THAT(problem(two + "correlations: [[market.fit, market.growth, 0.5], [market.growth, market.fit, 0.2]]\n"), Catch::Contains("each pair once"));
  CHECK_THAT(problem(two + "correlations: [market.fit]\n"), Catch::Contains("expected [parameter.path, parameter.path, rank_correlation]"));
  CHECK_THAT(problem("market: {fit: {dist: uniform, low: 0.5, high: 1.5}, growth: {dist: uniform, low: 0, high: 0.1}, volatility: {dist: uniform, low: 0.1, high: 0.3}}\n"
                     "correlations: [[market.fit, market.growth, 0.95], [market.fit, market.volatility, 0.95], [market.growth, market.volatility, -0.95]]\n"),
             Catch::Contains("c.yaml:2:15: correlations: expected correlations that can hold together (a positive definite matrix)"));
}

TEST_CASE("a shock's fields are addressable by name") {
  using scenario::load_scenario;
  const auto sc = load_scenario("", "d.yaml", {{"shocks.recession.severity", "0.4", "--set shocks.recession.severity=0.4"},
                                               {"shocks.recession.rate", "0.05", "--set shocks.recession.rate=0.05"}});
  const auto& shocks = sc.variants.front().spec.shocks;
  REQUIRE(shocks.front().name == "recession");
  CHECK(shocks.front().severity.is_fixed());
  CHECK(shocks.front().severity.nominal() == 0.4);
  CHECK(shocks.front().rate == 0.05);
  CHECK(shocks[1].rate == 0.03);  // the others as they were
  // In a variant, over a list the file writes.
  const auto v = load_scenario("shocks:\n  - {name: slump, type: demand, rate: 1}\nvariants:\n  base: {}\n  worse: {shocks.slump.rate: 3}\n", "v.yaml");
  CHECK(v.variants[0].spec.shocks[0].rate == 1);
  CHECK(v.variants[1].spec.shocks[0].rate == 3);
  auto problem = [](const std::vector<scenario::Override>& o) {
    try {
      load_scenario("", "d.yaml", o);
    } catch (const scenario::ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(problem({{"shocks.recesion.rate", "0.1", "--set shocks.recesion.rate=0.1"}}),
             Catch::Contains("--set shocks.recesion.rate=0.1: shocks.recesion.rate: unknown shock recesion (did you mean recession?)"));
  CHECK_THAT(problem({{"shocks.recession.sevrity", "0.1", "--set shocks.recession.sevrity=0.1"}}),
             Catch::Contains("expected shocks.recession.FIELD with FIELD one of type, rate, month, severity"));
  CHECK_THAT(problem({{"shocks.recession.severity", "2", "--set shocks.recession.severity=2"}}),
             Catch::Contains("--set shocks.recession.severity=2: shocks[0].severity: expected"));
}

namespace {
/// A run-at-a-time model with one uncertain input: the engine's other path.
class Draw {
 public:
  struct Params {};
  static ModelSchema schema(const Params&) {
    ModelSchema s;
    s.quantities = {{"x", "1", "The draw.", Binning::linear(0.0, 1.0, 10)}};
    s.outcome_columns = {{"x", "1", "The draw.", ColumnSpec::Type::f64}};
    s.causes = {"none"};
    s.inputs = {{"draw.x", "1", "The run's draw.", "uniform(low=0, high=1)"}};
    return s;
  }
  explicit Draw(const Params&) {}
  void start(const RunRandom& r) { x_ = r.stream(0, 0).uniform(); }
  void step(int, const RunRandom&) {}
  bool failed() const { return false; }
  int cause() const { return 0; }
  void observe(std::span<double> out) const { out[0] = x_; }
  void outcome(std::span<double> out) const { out[0] = x_; }
  void inputs(std::span<double> out) const { out[0] = x_; }

 private:
  double x_ = 0;
};
static_assert(SimulationModel<Draw> && ReportsInputs<Draw>);
}  // namespace

TEST_CASE("a run-at-a-time model's inputs stream in run order") {
  for (int threads : {1, 2}) {
    RunConfig cfg;
    cfg.seed = 9;
    cfg.runs = 1000;
    cfg.months = 2;
    cfg.threads = threads;
    cfg.block_size = 64;
    InputSink sink;
    simulate<Draw>(Draw::Params{}, cfg, sink);
    REQUIRE(sink.inputs.size() == 1000);
    for (std::uint64_t run : {0u, 63u, 64u, 999u})
      CHECK(sink.inputs[run] == RunRandom(9, run).stream(0, 0).uniform());
  }
}

TEST_CASE("a program can give the points itself") {
  // As a sensitivity analysis would: its own matrix of uniforms, one row per run.
  const auto sc = designed("random");
  firm::FirmSpec spec = sc.variants.front().spec;
  auto points = std::make_shared<std::vector<double>>();
  for (int r = 0; r < 10; ++r)
    for (double u : {0.1 * r + 0.05, 0.5, 0.5, 0.25}) points->push_back(u);
  spec.design.given = points;
  const auto rows = run_inputs(spec, 20, 2, 7);
  REQUIRE(rows.size() == 80);
  CHECK(rows[0] == Approx(10 + 0.05 * 50));    // firm.cash_buffer_days: uniform(10, 60)
  CHECK(rows[4 * 3] == Approx(10 + 0.35 * 50));
  CHECK(rows[4 * 13] == rows[4 * 3]);           // run 13 takes row 3 again
  CHECK(rows[1] == Approx(0.02));               // market.growth: the normal's median
  CHECK(rows[2] == Approx(1.0));                // market.fit: the lognormal's median
  CHECK(rows[3] == Approx(Uncertain::triangular(0, 5000, 9000).quantile(0.25)));
}
