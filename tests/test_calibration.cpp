// The default scenario reproduces BLS establishment survival within 3 points at 1, 2,
// 5 and 10 years (../shared/calibration/establishment-survival.csv; docs/calibration.md),
// starts at the JPMC median cash buffer, and the large preset survives far better.
#include "firm_test_support.hpp"

#include <catch2/catch.hpp>

using namespace smbsim;
using namespace smbsim::test;

TEST_CASE("default scenario matches BLS establishment survival within 3 points") {
  const auto sc = scenario::load_scenario(scenario::default_scenario_text(), "<default>");
  const auto s = simulate_firm(sc.variants.front().spec, 20000, 120, sc.simulation.seed);
  const std::pair<int, double> bls[] = {{12, 0.794}, {24, 0.677}, {60, 0.489}, {120, 0.337}};
  for (const auto& [month, share] : bls) {
    const Interval model = s.stats.survival(month);
    INFO("month " << month << ": model " << model.estimate << " [" << model.lo << ", " << model.hi << "], BLS " << share);
    // 3 points, less the model's own 95% half-width, so the whole interval is within 3.
    CHECK(std::abs(model.estimate - share) + (model.hi - model.lo) / 2 <= 0.03);
  }
  CHECK(column_moments(s, "start_buffer_days").mean() == Approx(27));
}
