// Firm model 2 (docs/model.md): money buys capability with diminishing returns, cash
// the user enters stays, capacity bounds revenue, a new firm ramps up, and each
// mechanism the texts call double-edged can help in one setting and hurt in another.
// Every comparison is paired on common random numbers and must exceed 4 standard errors
// of the paired difference (deterministic for the fixed seed; the margin says the effect
// is real, not noise).
#include "firm_test_support.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace smbsim;
using namespace smbsim::test;

namespace {
constexpr double kZ = 4.0;
const std::string kNoShocks = "shocks: []\n";

Simulated run(const std::string& yaml, int months = 120, std::int64_t runs = 4000) {
  return simulate_firm(spec_of(yaml), runs, months);
}

void check_gain(const Simulated& a, const Simulated& b, const char* column, const char* what) {
  const Paired d = paired(a, b, column);
  INFO(what << ": " << column << " changes by " << d.mean << " +- " << d.se);
  CHECK(d.z() > kZ);
}

void check_loss(const Simulated& a, const Simulated& b, const char* column, const char* what) {
  const Paired d = paired(a, b, column);
  INFO(what << ": " << column << " changes by " << d.mean << " +- " << d.se);
  CHECK(d.z() < -kZ);
}
}  // namespace

TEST_CASE("money: survival has an interior optimum in capability spend") {
  const auto none = run("strategy: {budget_share: 0}\n");
  const auto plan = run("strategy: {budget_share: 0.08}\n");
  const auto lavish = run("strategy: {budget_share: 0.4}\n");
  check_gain(none, plan, "survived", "0 -> 8% of revenue");
  check_loss(plan, lavish, "survived", "8% -> 40% of revenue");
  // Spend buys value with diminishing returns: 5x the spend does not buy 5x the value.
  const double v0 = column_moments(none, "mean_customer_value").mean();
  const double v1 = column_moments(plan, "mean_customer_value").mean();
  const double v5 = column_moments(lavish, "mean_customer_value").mean();
  INFO("customer value at 0, 8%, 40%: " << v0 << ", " << v1 << ", " << v5);
  CHECK(v0 < v1);
  CHECK(v1 < v5);
  CHECK(v5 - v1 < v1 - v0);
}

TEST_CASE("money: cash the owner enters stays in the firm") {
  // Ten years of outflows in the bank: the payout policy takes only profit, so the firm
  // survives five years almost surely.
  const auto rich = run("firm: {cash_buffer_days: 3650}\n", 60);
  const Interval s = rich.stats.survival(60);
  INFO("5-year survival with 10 years of cash: " << s.estimate << " [" << s.lo << ", " << s.hi << "]");
  CHECK(s.lo >= 0.95);
  const auto thin = run("firm: {cash_buffer_days: 10}\n", 60);
  check_gain(thin, run("firm: {cash_buffer_days: 180}\n", 60), "survived", "10 -> 180 days of cash");
}

TEST_CASE("money: survivors' margins are those of real small firms, not unbounded") {
  const auto s = run("");
  Moments margin;
  for (std::size_t r = 0; r < s.runs(); ++r) {
    if (s.at(r, "survived") != 1.0) continue;
    const double revenue = s.at(r, "last_year_revenue");
    if (revenue > 0) margin.add(std::clamp(s.at(r, "last_year_profit") / revenue, -1.0, 1.0));
  }
  INFO("mean net margin of 10-year survivors " << margin.mean() << " +- " << margin.sem());
  REQUIRE(margin.count() > 500);
  // Sageworks: 5.9-8.9% on average for private firms (docs/calibration.md); a few points
  // either side is allowed, an unbounded model (27% before) is not.
  CHECK(margin.mean() > 0.02);
  CHECK(margin.mean() < 0.13);
}

TEST_CASE("a new firm ramps up: failures start in the first quarter, revenue starts below plan") {
  // The default scenario: founders' capital varies (lognormal), so the thinnest fail early.
  const auto sc = scenario::load_scenario(scenario::default_scenario_text(), "<default>");
  const auto s = simulate_firm(sc.variants.front().spec, 20000, 12, sc.simulation.seed);
  std::int64_t early = 0;
  for (int m = 1; m <= 3; ++m)
    for (int c = 0; c < static_cast<int>(s.schema.causes.size()); ++c) early += s.stats.failures(m, c);
  INFO("failures in months 1-3: " << early);
  CHECK(early > 0);
  check_gain(run("", 12), run("firm: {ramp_months: 0}\n", 12), "cumulative_profit", "new venture -> established firm");
}

TEST_CASE("product-market fit has mean 1: its dispersion changes risk, not expected demand") {
  for (const char* sigma : {"0.3", "0.8", "1.5"}) {
    const auto s = run(std::string("market: {fit_sigma: ") + sigma + "}\nfirm: {segments: 1}\n", 1, 20000);
    const Moments fit = column_moments(s, "market_fit");
    INFO("fit_sigma " << sigma << ": mean fit " << fit.mean() << " +- " << fit.sem());
    CHECK(std::abs(fit.mean() - 1.0) < 4 * fit.sem());
  }
}

TEST_CASE("randomness: each uncertain parameter has its own stream") {
  // A headcount drawn from uniform(11.6, 12.4) is always 12: the runs must be identical
  // to fixed 12, and the volatility's draws must not shift because one more parameter
  // draws (with one stream in table order, they did: 1,946 of 4,000 runs changed fate).
  const std::string vol = "market: {volatility: {dist: uniform, low: 0.1, high: 0.5}}\n";
  const auto fixed = run(vol, 60, 2000);
  const auto drawn = run(vol + "firm: {headcount: {dist: uniform, low: 11.6, high: 12.4}}\n", 60, 2000);
  REQUIRE(fixed.rows.size() == drawn.rows.size());
  std::size_t differ = 0;
  for (std::size_t i = 0; i < fixed.rows.size(); ++i) {
    const double a = fixed.rows[i], b = drawn.rows[i];
    differ += !(a == b || (std::isnan(a) && std::isnan(b)));
  }
  CHECK(differ == 0);
}

TEST_CASE("an aligned firm's realignment after a disruption is measured") {
  const auto s = run(kNoShocks + "alignment: {level: 1.0}\ndisruption: {month: 12}\n", 72, 2000);
  const Moments months = column_moments(s, "months_to_realign");
  INFO("defined for " << months.count() << " runs, mean " << months.mean());
  CHECK(months.count() > 1000);
}

TEST_CASE("trade-off: imitation buys legitimacy and costs differentiation") {
  // Helps: a thin-cash new venture in a market that barely punishes conformity gets
  // credit and customers sooner; and a rigid firm aimed at the wrong mix is pulled toward
  // what the industry does. Hurts: an established, well-funded firm pays the price cut.
  const std::string venture = "firm: {cash_buffer_days: 10, ramp_start: 0.4}\nmarket: {price_pressure: 0.02, isomorphism: ";
  check_gain(run(venture + "0}\n", 36), run(venture + "0.6}\n", 36), "survived", "imitating, thin-cash venture");
  const std::string misaimed = kNoShocks +
      "strategy: {revision: 0, target: {automation: 0.5, operations: 0.5}}\nalignment: {level: 0.9}\nmarket: {isomorphism: ";
  check_gain(run(misaimed + "0}\n", 60), run(misaimed + "0.6}\n", 60), "survived", "imitating, misaimed rigid firm");
  const std::string established = "firm: {ramp_months: 0, cash_buffer_days: 180}\nmarket: {isomorphism: ";
  check_loss(run(established + "0}\n", 60), run(established + "0.6}\n", 60), "cumulative_profit",
             "imitating, established firm");
}

TEST_CASE("trade-off: a rigid plan holds in a stable market and fails in a drifting one") {
  const std::string drifting = kNoShocks + "market: {taste_drift: 0.5}\nstrategy: {revision: ";
  check_gain(run(drifting + "0}\n"), run(drifting + "0.6}\n"), "survived", "revising, drifting market");
  const std::string stable = kNoShocks + "market: {taste_drift: 0}\nstrategy: {sensing_noise: 0.6, revision: ";
  check_loss(run(stable + "0}\n"), run(stable + "0.6}\n"), "cumulative_profit", "revising on noise, stable market");
}

TEST_CASE("trade-off: a niche earns a premium and carries concentration risk") {
  const std::string calm = kNoShocks + "market: {fit_sigma: 0.3, segment_correlation: 1}\nfirm: {segments: ";
  check_gain(run(calm + "4}\n", 60), run(calm + "1}\n", 60), "cumulative_profit", "niche, calm correlated market");
  const std::string shaken = "shocks:\n  - {name: lost_customers, type: segment, rate: 0.5, severity: 0.8, duration: 12}\n"
                             "market: {fit_sigma: 0.3}\nfirm: {segments: ";
  check_loss(run(shaken + "4}\n", 60), run(shaken + "1}\n", 60), "survived", "niche, segment shocks");
}

TEST_CASE("trade-off: reviews cost management time and stop drift") {
  // Tightly coupled teams (a new firm's people wear many hats), where drift cascades.
  const std::string drifting = "firm: {coupling: 0.8}\nalignment: {level: 0.6, review_months: ";
  check_gain(run(drifting + "24}\n"), run(drifting + "3}\n"), "survived", "frequent reviews, drifting teams");
  const std::string ingrained = "firm: {formality: 0.8}\nalignment: {level: 0.95, review_months: ";
  check_loss(run(ingrained + "12}\n"), run(ingrained + "1}\n"), "survived", "monthly reviews, ingrained strategy");
}

TEST_CASE("trade-off: more alignment loses when the strategy is wrong and rigid") {
  // Customers who care about value (elasticity 2), a strategy aimed at what they do not
  // value, never revised: the aligned firm executes the mistake faithfully.
  const std::string wrong = kNoShocks +
      "market: {elasticity: 2}\nstrategy: {revision: 0, target: {automation: 0.7, operations: 0.3}}\nalignment: {level: ";
  check_loss(run(wrong + "0.4}\n"), run(wrong + "0.9}\n"), "survived", "aligned to a wrong, rigid plan");
  const std::string right = kNoShocks + "alignment: {level: ";
  check_gain(run(right + "0.4}\n"), run(right + "0.9}\n"), "survived", "aligned to a right plan");
}
