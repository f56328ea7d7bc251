// Sobol' indices (engine/sobol.hpp), the design runner (engine/design_runner.hpp) and
// the inverse distribution functions they rest on (Uncertain::quantile).
#include "engine/design_runner.hpp"
#include "engine/runner.hpp"
#include "engine/sobol.hpp"
#include "engine/uncertain.hpp"
#include "models/firm/firm.hpp"
#include "models/scenario/scenario.hpp"
#include "models/testing/ishigami.hpp"
#include "models/testing/random_walk.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <numbers>
#include <vector>

using namespace smbsim;

namespace {
constexpr double kPi = std::numbers::pi;

/// The interval holds the value, with a little room for rounding.
bool holds(const Interval& iv, double x) { return iv.lo - 1e-12 <= x && x <= iv.hi + 1e-12; }

class MemorySink final : public OutcomeSink {
 public:
  std::vector<double> rows;
  void append_outcomes(std::int64_t, std::int64_t, std::span<const double> r) override {
    rows.insert(rows.end(), r.begin(), r.end());
  }
  void append_path(std::int64_t, std::span<const double>) override {}
};

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

/// The deterministic Ishigami function at every point of a design of `rows` rows.
sobol::PointValues ishigami_values(const sobol::UnitDesign& u) {
  sobol::PointValues v;
  for (std::int64_t k = 0; k < u.points(); ++k)
    v.mean.push_back(sobol::ishigami(-kPi + 2 * kPi * u.point(k, 0), -kPi + 2 * kPi * u.point(k, 1),
                                     -kPi + 2 * kPi * u.point(k, 2)));
  return v;
}

/// Ishigami plus noise (models/testing/ishigami.hpp) at every point of `u` through the
/// design runner (cfg: seed, runs per point, rows), each point's runs in `groups` blocks;
/// `common`: on common random numbers, else each point noise of its own.
sobol::PointValues noisy_ishigami(const sobol::UnitDesign& u, double noise, int groups, DesignRunConfig cfg, bool common) {
  sobol::PointValues v;
  v.groups = groups;
  v.group_runs.assign(static_cast<std::size_t>(groups), static_cast<double>(cfg.runs / groups));
  v.sum.resize(static_cast<std::size_t>(u.points() * groups));
  v.squares = v.sum;
  cfg.months = 1;
  run_design<testing::Ishigami>(
      0, u.points(), cfg,
      [&](std::int64_t k) {
        testing::Ishigami::Params p;
        for (int i = 0; i < u.dims; ++i) p.x[i] = -kPi + 2 * kPi * u.point(k, i);
        p.noise = noise;
        p.salt = common ? 0 : static_cast<std::uint64_t>(k) + 1;
        return p;
      },
      [&](std::int64_t k, std::span<const double> r, std::size_t width) {
        for (std::int64_t i = 0; i < cfg.runs; ++i) {
          const double y = r[static_cast<std::size_t>(i) * width];
          const auto slot = static_cast<std::size_t>(k * groups + i * groups / cfg.runs);
          v.sum[slot] += y;
          v.squares[slot] += y * y;
        }
      });
  return v;
}

/// The indices of noisy_ishigami() with an inert x4: x1..x3's intervals hold the closed
/// form, x4's are exactly 0.
void check_noisy_ishigami(const sobol::OutputIndices& r) {
  const auto truth = sobol::ishigami_indices();
  for (int i = 0; i < 3; ++i) {
    INFO("x" << i + 1 << ": first " << r.first[i].estimate << " [" << r.first[i].lo << ", " << r.first[i].hi
             << "] total " << r.total[i].estimate << " [" << r.total[i].lo << ", " << r.total[i].hi << "]");
    CHECK(holds(r.first[i], truth.first[i]));
    CHECK(holds(r.total[i], truth.total[i]));
  }
  CHECK(r.total[3].estimate == 0.0);
  CHECK(r.total[3].hi == 0.0);
  CHECK(r.first[3].estimate == 0.0);
}
}  // namespace

TEST_CASE("quantile inverts each distribution as its sampler draws it") {
  const std::vector<std::pair<const char*, Uncertain>> dists{
      {"normal", Uncertain::normal(3, 2)},          {"lognormal", Uncertain::lognormal(100, 0.5)},
      {"uniform", Uncertain::uniform(-1, 4)},       {"triangular", Uncertain::triangular(5, 20, 80)},
      {"beta", Uncertain::beta(2, 6)},              {"discrete", Uncertain::discrete({10, 1, 5}, {1, 3, 2})}};
  const int n = 20000;
  for (const auto& [name, d] : dists) {
    INFO(name);
    std::vector<double> x;
    for (int i = 0; i < n; ++i) {
      RandomStream rng(11, static_cast<std::uint64_t>(i), 0, 0);
      x.push_back(d.sample(rng));
    }
    double previous = -INFINITY;
    for (double u : {0.05, 0.25, 0.5, 0.75, 0.95}) {
      const double q = d.quantile(u);
      CHECK(q >= previous);  // non-decreasing
      previous = q;
      double below = 0, at_or_below = 0;
      for (double s : x) {
        below += s < q ? 1 : 0;
        at_or_below += s <= q ? 1 : 0;
      }
      // P(X < q) <= u <= P(X <= q), each within 5 binomial sd.
      const double sd = std::sqrt(u * (1 - u) / n);
      CHECK(below / n <= u + 5 * sd);
      CHECK(at_or_below / n >= u - 5 * sd);
    }
  }
  CHECK(Uncertain(2.5).quantile(0.3) == 2.5);
  CHECK(Uncertain::normal(3, 0).quantile(0.9) == 3);
  CHECK(Uncertain::uniform(2, 4).quantile(0.25) == 2.5);
  CHECK(Uncertain::triangular(0, 0.5, 1).quantile(0.5) == Approx(0.5));
  CHECK(Uncertain::discrete({1, 10}, {3, 1}).quantile(0.75) == 1);
  CHECK(Uncertain::discrete({1, 10}, {3, 1}).quantile(0.76) == 10);
  CHECK(std::isfinite(Uncertain::normal(0, 1).quantile(0.0)));
  CHECK(std::isfinite(Uncertain::lognormal(1, 1).quantile(1.0)));
}

TEST_CASE("designs are in the open unit cube, reproducible, and a longer one extends a shorter") {
  for (auto seq : {sobol::Sequence::sobol, sobol::Sequence::random}) {
    const auto u = sobol::unit_design(3, 256, seq, 7);
    const auto longer = sobol::unit_design(3, 512, seq, 7);
    const auto other = sobol::unit_design(3, 256, seq, 8);
    REQUIRE(u.a.size() == 256 * 3);
    double mean = 0;
    for (double x : u.a) {
      REQUIRE(x > 0.0);
      REQUIRE(x < 1.0);
      mean += x;
    }
    CHECK(mean / 768 == Approx(0.5).margin(0.05));
    CHECK(std::equal(u.a.begin(), u.a.end(), longer.a.begin()));
    CHECK(std::equal(u.b.begin(), u.b.end(), longer.b.begin()));
    CHECK(same_bits(u.a, sobol::unit_design(3, 256, seq, 7).a));
    CHECK(!same_bits(u.a, other.a));
    // AB_i: A with column i from B.
    CHECK(u.point(5 * 5 + 0, 1) == u.A(5, 1));
    CHECK(u.point(5 * 5 + 1, 1) == u.B(5, 1));
    CHECK(u.point(5 * 5 + 2 + 1, 1) == u.B(5, 1));
    CHECK(u.point(5 * 5 + 2 + 1, 2) == u.A(5, 2));
  }
  // The Sobol' design is stratified: each half of [0, 1) holds exactly half of the first
  // 2^k points in every coordinate (the digital shift keeps this).
  const auto s = sobol::unit_design(4, 1024, sobol::Sequence::sobol, 3);
  for (int i = 0; i < 4; ++i) {
    int low = 0;
    for (std::int64_t j = 0; j < 1024; ++j) low += s.A(j, i) < 0.5 ? 1 : 0;
    CHECK(low == 512);
  }
}

TEST_CASE("Ishigami: the estimators' intervals hold the closed-form indices") {
  const auto truth = sobol::ishigami_indices();
  CHECK(truth.first[0] == Approx(0.3139).epsilon(1e-3));
  CHECK(truth.first[1] == Approx(0.4424).epsilon(1e-3));
  CHECK(truth.total[0] == Approx(0.5576).epsilon(1e-3));
  CHECK(truth.total[2] == Approx(0.2437).epsilon(1e-3));
  SECTION("the Sobol' design: every interval holds its index") {
    const std::int64_t rows = 4096;
    const auto u = sobol::unit_design(3, rows, sobol::Sequence::sobol, 2024);
    const std::vector<sobol::PointValues> values{ishigami_values(u)};
    const auto r = sobol::estimate(values, 3, rows, 500, 2024)[0];
    for (int i = 0; i < 3; ++i) {
      INFO("x" << i + 1 << ": first " << r.first[i].estimate << " [" << r.first[i].lo << ", " << r.first[i].hi
               << "] total " << r.total[i].estimate << " [" << r.total[i].lo << ", " << r.total[i].hi << "]");
      CHECK(holds(r.first[i], truth.first[i]));
      CHECK(holds(r.total[i], truth.total[i]));
      CHECK(r.first[i].hi - r.first[i].lo < 0.1);
      CHECK(r.total[i].hi - r.total[i].lo < 0.1);
      // Quasi-random points converge faster than the bootstrap (which treats them as
      // independent) allows for: the intervals are conservative.
      CHECK(r.first[i].estimate == Approx(truth.first[i]).margin(0.01));
      CHECK(r.total[i].estimate == Approx(truth.total[i]).margin(0.01));
    }
    CHECK(holds(r.variance, truth.variance));
    CHECK(std::isnan(r.noise.estimate));  // no replicates, no noise estimate
    CHECK(std::isnan(r.randomness.estimate));
  }
  SECTION("the random design: the 95% intervals cover about 95% of the time") {
    // 20 independent designs: each index must be covered at least 15 times (a correct
    // 95% interval fails that with probability 3e-4; with random points the
    // Saltelli first-order interval covers about 90%, measured over 40 seeds).
    const int trials = 20;
    std::vector<int> covered(7, 0);
    for (int seed = 1; seed <= trials; ++seed) {
      const std::int64_t rows = 1024;
      const auto u = sobol::unit_design(3, rows, sobol::Sequence::random, static_cast<std::uint64_t>(seed));
      const auto r = sobol::estimate(std::vector<sobol::PointValues>{ishigami_values(u)}, 3, rows, 200,
                                     static_cast<std::uint64_t>(seed))[0];
      for (int i = 0; i < 3; ++i) {
        covered[static_cast<std::size_t>(i)] += holds(r.first[i], truth.first[i]) ? 1 : 0;
        covered[static_cast<std::size_t>(3 + i)] += holds(r.total[i], truth.total[i]) ? 1 : 0;
      }
      covered[6] += holds(r.variance, truth.variance) ? 1 : 0;
    }
    for (int c : covered) CHECK(c >= 15);
  }
}

TEST_CASE("Ishigami through the engine: replicates on common random numbers") {
  using testing::Ishigami;
  const double noise = 2.0;
  const std::int64_t rows = 512, runs = 256;
  const int dims = 4;  // x4 has no effect
  const auto u = sobol::unit_design(dims, rows, sobol::Sequence::sobol, 99);
  auto analyse = [&](bool common) {
    DesignRunConfig cfg;
    cfg.seed = 5;
    cfg.runs = runs;
    const auto v = noisy_ishigami(u, noise, 8, cfg, common);  // blocks of runs / 8 runs
    return sobol::estimate(std::vector<sobol::PointValues>{v}, dims, rows, 500, 5)[0];
  };
  const auto truth = sobol::ishigami_indices();
  const auto r = analyse(true);
  // Every index within its interval; the inert x4: on common random numbers its points
  // are the same runs, so its indices are exactly 0.
  check_noisy_ishigami(r);
  // The runs' own randomness, against its closed form; the replicate noise left in the
  // point means is small (it scales with 1/runs; x1 sets the noise's size).
  INFO("randomness " << r.randomness.estimate << " [" << r.randomness.lo << ", " << r.randomness.hi << "], closed form "
                     << Ishigami::randomness_share(noise) << "; noise " << r.noise.estimate);
  CHECK(holds(r.randomness, Ishigami::randomness_share(noise)));
  CHECK(r.noise.estimate < 0.01);
  CHECK(r.noise.estimate > 0.0);
  // Without common random numbers every point has noise of its own: the inert parameter
  // takes the noise's share as its total index (about 2 Var(noise mean) / 2V), and the
  // split-half estimate sees that noise.
  const auto independent = analyse(false);
  const double noise_var = 7.0 / 3.0 * noise * noise / runs;
  INFO("independent: x4 total " << independent.total[3].estimate << ", noise " << independent.noise.estimate);
  CHECK(independent.total[3].estimate > 0.5 * noise_var / (truth.variance + noise_var));
  CHECK(independent.noise.estimate == Approx(noise_var / (truth.variance + noise_var)).epsilon(0.25));
}

TEST_CASE("Ishigami through the engine: each row its own runs, the replicate noise removed") {
  using testing::Ishigami;
  // Much noise and few runs per point: the noise is a quarter of the design's variance.
  const double noise = 4.0;
  const std::int64_t rows = 2048, runs = 8;
  const int dims = 4;
  const auto u = sobol::unit_design(dims, rows, sobol::Sequence::sobol, 7);
  DesignRunConfig cfg;
  cfg.seed = 11;
  cfg.runs = runs;
  cfg.row_points = dims + 2;  // row j runs [j runs, (j + 1) runs)
  sobol::PointValues v = noisy_ishigami(u, noise, 8, cfg, true);
  const auto truth = sobol::ishigami_indices();
  v.runs_per_row = true;
  const auto r = sobol::estimate(std::vector<sobol::PointValues>{v}, dims, rows, 500, 5)[0];
  // Within a row the inert x4's points are the same runs: exactly 0, noise and all.
  check_noisy_ishigami(r);
  const double noise_var = 7.0 / 3.0 * noise * noise / runs;
  INFO("noise " << r.noise.estimate << " [" << r.noise.lo << ", " << r.noise.hi << "]");
  CHECK(holds(r.noise, noise_var / (truth.variance + noise_var)));
  CHECK(holds(r.randomness, Ishigami::randomness_share(noise)));
  // The same values taken as the means of shared runs, the noise left in: x2's indices
  // shrink by the noise's share, far outside their intervals.
  v.runs_per_row = false;
  const auto raw = sobol::estimate(std::vector<sobol::PointValues>{v}, dims, rows, 200, 5)[0];
  INFO("uncorrected x2 total " << raw.total[1].estimate << " [" << raw.total[1].lo << ", " << raw.total[1].hi << "]");
  CHECK(raw.total[1].hi < truth.total[1] - 0.05);
}

namespace {
/// The runner's outcome rows (blocks of `block` runs) against the design runner's.
template <class M>
bool same_outcomes(const typename M::Params& p, std::uint64_t seed, std::int64_t runs, int months, std::int64_t block) {
  RunConfig cfg;
  cfg.seed = seed;
  cfg.runs = runs;
  cfg.months = months;
  cfg.block_size = block;
  MemorySink sink;
  simulate<M>(p, cfg, sink);
  std::vector<double> rows;
  run_outcomes<M>(p, seed, 0, runs, months, rows);
  return same_bits(rows, sink.rows);
}
}  // namespace

TEST_CASE("the design runner's outcomes are the runner's, run for run") {
  CHECK(same_outcomes<testing::RandomWalk>({1.0, 0.01, 0.15}, 3, 700, 60, 256));
  const auto sc = scenario::load_scenario(scenario::default_scenario_text(), "<default>");
  CHECK(same_outcomes<firm::Firm>(sc.variants[0].spec, 9, 1000, 120, 500));
}
