#include "engine/binning.hpp"
#include "engine/monthly_stats.hpp"
#include "engine/proportion.hpp"
#include "engine/random_stream.hpp"

#include <boost/math/distributions/normal.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <span>
#include <vector>

using namespace smbsim;

namespace {
std::vector<QuantitySpec> specs() {
  return {{"x", "1", "uniform", Binning::linear(0, 1, 100)},
          {"money", "USD", "signed money", Binning::money(1e5)}};
}
}  // namespace

TEST_CASE("money bins cover both signs with edges that bracket their values") {
  for (const double scale : {1.0, 1.44e5, 1e14}) {
    INFO("scale " << scale);
    const Binning b = Binning::money(scale);
    const int zero = b.bins() / 2;
    // From about scale x 2^-24 to scale x 2^20; beyond it, the end bins.
    CHECK(b.upper_edge(zero) <= scale * 0x1p-24);
    CHECK(b.upper_edge(zero) > scale * 0x1p-25);
    CHECK(b.upper_edge(b.bins() - 1) <= scale * 0x1p20);
    CHECK(b.upper_edge(b.bins() - 1) > scale * 0x1p19);
    CHECK(b.index(scale * 0x1p21) == b.bins() - 1);
    CHECK(b.index(-scale * 0x1p21) == 0);
    for (double r : {-3.7e5, -12345.0, -1.5, -1e-6, 0.0, 1e-9, 0.3, 1.0, 2.0, 999.0, 1e5}) {
      const double x = r * scale;
      const int i = b.index(x);
      REQUIRE(i >= 0);
      REQUIRE(i < b.bins());
      CHECK(b.lower_edge(i) <= x);
      CHECK(x <= b.upper_edge(i));
      // Every scale's edges lie on one grid: a value in range of two scales gets the
      // same bin edges from both.
      const Binning wider = Binning::money(8 * scale);
      if (i != zero && wider.index(x) != zero) {
        CHECK(wider.lower_edge(wider.index(x)) == b.lower_edge(i));
        CHECK(wider.upper_edge(wider.index(x)) == b.upper_edge(i));
      }
    }
    CHECK(b.index(-1e3 * scale) < b.index(-scale));
    CHECK(b.index(-scale) <= b.index(0));
    CHECK(b.index(0) < b.index(5 * scale));
    // Adjacent bins share edges.
    for (int i = 0; i + 1 < b.bins(); ++i) REQUIRE(b.upper_edge(i) == b.lower_edge(i + 1));
  }
  // A scale that is not a positive finite number counts as 1.
  for (const double bad : {0.0, -5.0, double(NAN), double(HUGE_VAL)})
    CHECK(Binning::money(bad).upper_edge(Binning::kHalf) == Binning::money(1.0).upper_edge(Binning::kHalf));
}

TEST_CASE("merging block statistics in a fixed order is exact and reproducible") {
  const int months = 3;
  MonthlyStats whole(months, specs(), 2), a(months, specs(), 2), b(months, specs(), 2);
  std::vector<double> obs(2);
  for (int r = 0; r < 1000; ++r) {
    RandomStream s(1, static_cast<std::uint64_t>(r), 0, 0);
    MonthlyStats& part = r < 400 ? a : b;
    for (MonthlyStats* target : {&whole, &part}) target->add_runs(1);
    for (int m = 1; m <= months; ++m) {
      obs = {s.uniform(), (s.uniform() - 0.3) * 1e5};
      if (obs[0] < 0.05) {
        whole.record_failure(m, 1);
        part.record_failure(m, 1);
        break;
      }
      whole.record_alive(m, obs);
      part.record_alive(m, obs);
    }
  }
  MonthlyStats merged(months, specs(), 2), merged_again(months, specs(), 2);
  merged.merge(a);
  merged.merge(b);
  merged_again.merge(a);
  merged_again.merge(b);
  for (int m = 1; m <= months; ++m) {
    CHECK(merged.alive(m) == whole.alive(m));
    CHECK(merged.failures(m, 1) == whole.failures(m, 1));
    for (std::size_t q = 0; q < 2; ++q) {
      const auto h1 = merged.histogram(m, q), h2 = whole.histogram(m, q);
      CHECK(std::equal(h1.begin(), h1.end(), h2.begin()));
      // Same order, same bits.
      const double x = merged.moments(m, q).mean(), y = merged_again.moments(m, q).mean();
      CHECK(std::memcmp(&x, &y, sizeof x) == 0);
      // Any order agrees to rounding.
      CHECK(merged.moments(m, q).mean() == Approx(whole.moments(m, q).mean()).epsilon(1e-12));
      CHECK(merged.moments(m, q).variance() == Approx(whole.moments(m, q).variance()).epsilon(1e-10));
    }
  }
  CHECK(merged.runs() == 1000);
}

TEST_CASE("histogram quantiles recover a known distribution within a bin") {
  MonthlyStats s(1, specs(), 1);
  const int n = 20000;
  std::vector<double> obs(2);
  for (int i = 0; i < n; ++i) {
    obs = {(i + 0.5) / n, 1000.0 * (i + 1)};  // exact uniform grid on (0,1) and on (0, 2e7]
    s.add_runs(1);
    s.record_alive(1, obs);
  }
  for (double p : {0.05, 0.5, 0.95}) {
    const Interval q = s.quantile(1, 0, p);
    CHECK(q.estimate == Approx(p).margin(0.01));  // one linear bin
    CHECK(q.lo <= q.estimate);
    CHECK(q.hi >= q.estimate);
    const Interval m = s.quantile(1, 1, p);
    CHECK(m.estimate == Approx(p * n * 1000.0).epsilon(0.045));  // one log-linear bin
  }
}

TEST_CASE("money quantiles are exact to within one bin at every scale") {
  // Lognormal values around the scale (and a tenth of them negative, like losses), at
  // the scale of a one-person side business up to 1e6 people x 1e8 USD each.
  for (const double scale : {1.0, 1e4, 1e9, 1e14}) {
    INFO("scale " << scale);
    const Binning b = Binning::money(scale);
    MonthlyStats s(1, {{"money", "USD", "signed money", b}}, 1);
    RandomStream rng(7, 0, 0, 0);
    std::vector<double> sample;
    for (int i = 0; i < 20000; ++i) {
      const double x = scale * std::exp(1.5 * rng.normal());
      sample.push_back(rng.uniform() < 0.1 ? -x : x);
      s.add_runs(1);
      s.record_alive(1, std::span<const double>(&sample.back(), 1));
    }
    std::sort(sample.begin(), sample.end());
    for (const double p : {0.05, 0.25, 0.5, 0.75, 0.95}) {
      // The histogram's rank p*n (a whole number here) is the sample's value at it.
      const double exact = sample[static_cast<std::size_t>(p * static_cast<double>(sample.size())) - 1];
      const double estimate = s.quantile(1, 0, p).estimate;
      INFO("p " << p << ": exact " << exact << ", from the histogram " << estimate);
      const int bin = b.index(exact);
      CHECK(b.lower_edge(bin) <= estimate);
      CHECK(estimate <= b.upper_edge(bin));
      CHECK(std::fabs(estimate - exact) <= std::fabs(exact) / Binning::kSub);  // one bin: 3.1-6.25%
    }
  }
}

namespace {
/// The value of one rank by its own scan of the histogram: the definition that
/// quantiles() computes for many ranks in one pass.
double value_at_rank_by_scan(std::span<const std::int64_t> hist, const Binning& b, double rank) {
  double below = 0.0;
  for (std::size_t i = 0; i < hist.size(); ++i) {
    const auto c = static_cast<double>(hist[i]);
    if (c > 0 && below + c >= rank) {
      const double f = std::clamp((rank - below) / c, 0.0, 1.0);
      const int bin = static_cast<int>(i);
      return b.lower_edge(bin) + f * (b.upper_edge(bin) - b.lower_edge(bin));
    }
    below += c;
  }
  return NAN;
}
}  // namespace

TEST_CASE("quantiles in one pass equal each rank found by its own scan") {
  // Few runs (many ranks in one bin) and many; levels out of order and repeated.
  const std::vector<double> levels = {0.95, 0.05, 0.5, 0.25, 0.75, 0.5, 0.01, 0.99};
  for (const int n : {1, 2, 7, 5000}) {
    MonthlyStats s(2, specs(), 1);
    RunRandom random(7, static_cast<std::uint64_t>(n));
    auto rng = random.stream(0, 0);
    for (int i = 0; i < n; ++i) {
      s.add_runs(1);
      s.record_alive(1, std::vector<double>{rng.uniform(), 1e4 * (rng.normal() + 0.5)});
    }
    std::vector<Interval> got(levels.size());
    for (std::size_t q = 0; q < 2; ++q) {
      s.quantiles(1, q, levels, got);
      const Binning b = specs()[q].binning;
      for (std::size_t k = 0; k < levels.size(); ++k) {
        const Interval r = quantile_rank_interval(levels[k], n);
        const double nn = n;
        const auto hist = s.histogram(1, q);
        CHECK(got[k].estimate == value_at_rank_by_scan(hist, b, levels[k] * nn));
        // Each bound at its rank, widened to the estimate where few runs put the rank past it.
        CHECK(got[k].lo == std::min(value_at_rank_by_scan(hist, b, std::max(r.lo * nn, 0.5)), got[k].estimate));
        CHECK(got[k].hi == std::max(value_at_rank_by_scan(hist, b, std::min(r.hi * nn, nn)), got[k].estimate));
        CHECK(got[k].lo <= got[k].estimate);
        CHECK(got[k].estimate <= got[k].hi);
        CHECK(s.quantile(1, q, levels[k]).estimate == got[k].estimate);
      }
      s.quantiles(2, q, levels, got);  // month 2: nobody alive
      for (const Interval& iv : got) CHECK(std::isnan(iv.estimate));
    }
  }
}

TEST_CASE("the one 95% normal quantile is Boost's") {
  CHECK(smbsim::kZ95 == Approx(boost::math::quantile(boost::math::normal(), 0.975)).epsilon(1e-15));
}

TEST_CASE("the Wilson interval matches published values") {
  // Brown, Cai & DasGupta (2001), and any calculator: 0 of 10 -> [0, 0.2775].
  const Interval z = wilson_interval(0, 10);
  CHECK(z.lo == 0.0);
  CHECK(z.hi == Approx(0.2775).margin(1e-4));
  const Interval h = wilson_interval(50, 100);
  CHECK(h.lo == Approx(0.4038).margin(1e-4));
  CHECK(h.hi == Approx(0.5962).margin(1e-4));
}

TEST_CASE("the Wilson interval contains its estimate exactly at 0 and 1 too") {
  // The formula's bound at k = 0 is 0 only up to rounding (8.7e-19 at 1000 runs), and at
  // k = n 1 only up to rounding (0.9999999999999998): a plotted error bar of negative
  // length, which matplotlib refuses (issue 27).
  for (std::int64_t n = 1; n <= 3000; ++n) {
    const Interval none = wilson_interval(0, n), all = wilson_interval(n, n);
    REQUIRE(none.estimate == 0.0);
    REQUIRE(none.lo == 0.0);
    REQUIRE(all.estimate == 1.0);
    REQUIRE(all.hi == 1.0);
    for (const std::int64_t k : {std::int64_t{1}, n / 3, n / 2, n - 1}) {
      const Interval w = wilson_interval(k, n);
      REQUIRE(w.lo <= w.estimate);
      REQUIRE(w.estimate <= w.hi);
      REQUIRE(0.0 <= w.lo);
      REQUIRE(w.hi <= 1.0);
    }
  }
}

TEST_CASE("an interval beside its estimate is widened to it and a NaN is kept") {
  constexpr Interval below = containing_estimate({0.5, 0.6, 0.9}), above = containing_estimate({0.5, 0.1, 0.4});
  STATIC_REQUIRE(below.lo == 0.5);
  STATIC_REQUIRE(below.hi == 0.9);
  STATIC_REQUIRE(above.lo == 0.1);
  STATIC_REQUIRE(above.hi == 0.5);
  const Interval none = containing_estimate({NAN, 0.1, 0.4});
  CHECK((std::isnan(none.estimate) && none.lo == 0.1 && none.hi == 0.4));
  const Interval open = containing_estimate({0.5, NAN, NAN});
  CHECK((std::isnan(open.lo) && std::isnan(open.hi)));
}

TEST_CASE("tile binning gives the same bins as binning one value at a time") {
  // Values around every edge case: both signs, the zero bin's edge, bin edges,
  // out-of-range, huge, infinite and NaN values, and a random spread.
  std::vector<double> x = {0.0, -0.0, 0.999999, 1.0, -1.0, 1.0000001, 0.5, -0.5, 1e300, -1e300,
                           HUGE_VAL, -HUGE_VAL, NAN, -NAN, 0x1p44, 0x1p45, -0x1p44, 2.5, 3.0,
                           -7.0, 0.005, 0.995, 1.5, 1e-300, 5e-324};
  RandomStream s(3, 0, 0, 0);
  for (int i = 0; i < 5000; ++i) x.push_back((s.uniform() - 0.3) * std::ldexp(1.0, static_cast<int>(s.uniform() * 140) - 40));
  for (const Binning& b : {Binning::linear(0, 1, 200), Binning::linear(0, 2.5, 250), Binning::linear(-3, 5, 7),
                           Binning::money(1.0), Binning::money(1.44e5), Binning::money(1e14),
                           Binning::money(1e-300), Binning::money(1e300)}) {
    // Each binning's own edges: the zero bin's, either side, and the top one.
    for (const int i : {b.bins() / 2, b.bins() - 1})
      for (const double e : {b.lower_edge(i), b.upper_edge(i)})
        x.insert(x.end(), {e, std::nextafter(e, 0.0), std::nextafter(e, HUGE_VAL), -e});
    std::vector<std::int32_t> bins(x.size());
    b.indices(x.data(), static_cast<int>(x.size()), 11, bins.data());
    for (std::size_t i = 0; i < x.size(); ++i) {
      INFO("x = " << x[i]);
      REQUIRE(bins[i] == 11 + b.index(x[i]));
      REQUIRE(b.index(x[i]) >= 0);
      REQUIRE(b.index(x[i]) < b.bins());
    }
  }
}

TEST_CASE("moments added a tile at a time agree with one at a time, same bits every time") {
  std::vector<double> x(203);
  RandomStream s(5, 0, 0, 0);
  Moments one_by_one, a, b;
  for (double& v : x) v = 1e6 + s.uniform();
  for (int pass = 0; pass < 3; ++pass) {  // added in pieces: the first sets the shift
    const int n = pass == 0 ? 13 : static_cast<int>(x.size());
    a.add_all(x.data(), n);
    b.add_all(x.data(), n);
    for (int i = 0; i < n; ++i) one_by_one.add(x[static_cast<std::size_t>(i)]);
  }
  a.add_all(x.data(), 0);
  CHECK(a.count() == one_by_one.count());
  // Values near 1e6 with spread 0.29: a naive sum of squares would lose the spread.
  CHECK(a.mean() == Approx(one_by_one.mean()).epsilon(1e-15));
  CHECK(a.variance() == Approx(one_by_one.variance()).epsilon(1e-9));
  CHECK(a.variance() == Approx(1.0 / 12).epsilon(0.15));
  const double va = a.variance(), vb = b.variance();
  CHECK(std::memcmp(&va, &vb, sizeof va) == 0);
}

TEST_CASE("recording a tile of lanes equals recording its lanes one by one") {
  const int months = 2, lanes = 300;
  BlockStats tile(months, specs(), 2), one_by_one(months, specs(), 2);
  std::vector<double> rows(2 * kMaxTileLanes);
  RandomStream s(4, 0, 0, 0);
  for (int m = 1; m <= months; ++m) {
    for (int lane = 0; lane < lanes; ++lane) {
      rows[lane] = s.uniform() * 1.2 - 0.1;
      rows[kMaxTileLanes + lane] = (s.uniform() - 0.4) * 1e6;
      one_by_one.record_alive(m, std::vector<double>{rows[lane], rows[kMaxTileLanes + lane]});
    }
    tile.record_alive_lanes(m, rows.data(), kMaxTileLanes, lanes);
    CHECK(tile.alive(m) == one_by_one.alive(m));
    CHECK(tile.alive(m) == lanes);
    for (std::size_t q = 0; q < 2; ++q) {
      const auto h1 = tile.histogram(m, q), h2 = one_by_one.histogram(m, q);
      CHECK(std::equal(h1.begin(), h1.end(), h2.begin()));
      CHECK(tile.moments(m, q).count() == one_by_one.moments(m, q).count());
      CHECK(tile.moments(m, q).mean() == Approx(one_by_one.moments(m, q).mean()).epsilon(1e-13));
      CHECK(tile.moments(m, q).variance() == Approx(one_by_one.moments(m, q).variance()).epsilon(1e-12));
    }
  }
}
