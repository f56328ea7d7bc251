// The tile layout is an implementation detail: a run's whole history must not depend on
// which lane or tile it lands in, nor on which runs failed beside it (compaction moves
// lanes around). Checked bit for bit against every run simulated alone.
#include "firm_test_support.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using namespace smbsim;
using namespace smbsim::test;

TEST_CASE("a run's outcome does not depend on its tile, its lane or its neighbours' failures") {
  // Sampled parameters (so rows differ between lanes), every shock type, a random
  // disruption, automation, and thin cash so that many lanes fail and are compacted away.
  const auto spec = spec_of(
      "firm: {cash_buffer_days: {dist: uniform, low: 5, high: 60}, agility: {dist: triangular, low: 0.1, mode: 0.4, high: 0.9},\n"
      "       headcount: {dist: lognormal, median: 10, sigma: 0.8}, coupling: {dist: beta, a: 2, b: 2}}\n"
      "alignment: {level: {dist: uniform, low: 0.2, high: 0.95}, chaos: 0.5}\n"
      "disruption: {rate: 0.2, new_weights: {product: 0.25, marketing: 0.10, sales: 0.10, operations: 0.05, automation: 0.40, service: 0.10}}\n"
      "automation: {month: 6, capability: operations, cost_months: 1.0, dip: 0.1, dip_months: 3, cost_reduction: 0.2, capability_boost: 0.15}\n"
      "shocks:\n"
      "  - {name: slump, type: demand, rate: 0.5, severity: {dist: uniform, low: 0.1, high: 0.5}, duration: 6}\n"
      "  - {name: crunch, type: credit, triggered_by: slump, trigger_probability: 0.5, severity: 0.6, duration: 6}\n"
      "  - {name: niche, type: segment, rate: 0.3, severity: {dist: beta, a: 2, b: 3}, duration: 4}\n"
      "  - {name: costs, type: input_cost, rate: 0.3, severity: 0.2, duration: 3}\n"
      "  - {name: leaves, type: key_person, rate: 0.3, severity: 0.6, duration: 3}\n"
      "  - {name: supplier, type: supplier, rate: 0.2, severity: 0.3, duration: 2}\n");
  const std::int64_t runs = 600;
  const auto together = simulate_firm(spec, runs, 60);
  const auto alone = simulate_firm(spec, runs, 60, 11, /*block_size=*/1);
  REQUIRE(together.rows.size() == alone.rows.size());
  const double survived = together.stats.alive(60) / static_cast<double>(runs);
  INFO("survival " << survived);
  CHECK(survived < 0.7);  // enough failures for compaction to move lanes around
  CHECK(survived > 0.05);
  // Bit for bit (NaN included): memcmp of every outcome of every run.
  CHECK(std::memcmp(together.rows.data(), alone.rows.data(), together.rows.size() * sizeof(double)) == 0);
}
