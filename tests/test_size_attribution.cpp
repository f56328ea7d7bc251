// Issue "Firm model 2": no single preset parameter carries most of the size gradient of
// the value of alignment. The gradient is the micro preset's survival gain from
// alignment.level 0.3 -> 0.9 minus the large preset's; each parameter that differs
// between the presets is switched from its micro to its large value, in every order
// (Shapley values: the average over all orders of what switching it changes), so the
// shares add up to the whole difference and interactions are shared fairly. Each run is
// evaluated in all 2^n coalitions on common random numbers, so a share's standard error
// is that of a ratio of run-level means (delta method). docs/model.md §10 has the table
// (tools/size-gain --attribute) and how it moves with the assumed friction and flop
// costs: at the friction weights used before flops were a mechanism, coupling carries
// most, so this test guards the model as specified, not a law. Built without the
// sanitizers (16 million runs, about 2 minutes on 2 cores).
#include "firm_test_support.hpp"

#include "models/firm/parameters.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <vector>

using namespace smbsim;
using namespace smbsim::test;

namespace {

/// The parameters whose micro and large defaults differ, read from the preset table.
std::vector<const firm::ParamInfo*> size_parameters() {
  std::vector<const firm::ParamInfo*> out;
  for (const auto& p : firm::param_table()) {
    const double micro = p.defaults[static_cast<int>(firm::Size::micro)];
    const double large = p.defaults[static_cast<int>(firm::Size::large)];
    if (micro == large || std::isnan(micro)) continue;
    out.push_back(&p);
  }
  return out;
}

double share(const std::vector<double>& phi, const std::vector<double>& total, double& se) {
  Moments p, t;
  for (std::size_t r = 0; r < phi.size(); ++r) p.add(phi[r]), t.add(total[r]);
  const double ratio = p.mean() / t.mean();
  Moments residual;  // phi - ratio * total, the linearised ratio estimator
  for (std::size_t r = 0; r < phi.size(); ++r) residual.add(phi[r] - ratio * total[r]);
  se = residual.sem() / std::fabs(t.mean());
  return ratio;
}

}  // namespace

TEST_CASE("mechanism 10: no single preset parameter carries most of the size gradient of alignment's value") {
  constexpr std::int64_t kRuns = 4000;
  constexpr std::array<int, 2> kMonths = {60, 120};
  const auto params = size_parameters();
  const int n = static_cast<int>(params.size());
  REQUIRE(n >= 8);  // headcount, cash, credit, segments, owner pay, coupling, agility, ...
  const std::size_t coalitions = std::size_t{1} << n;
  // gain[m][S][r]: alive at 0.9 minus alive at 0.3 at horizon m, coalition S, run r.
  std::vector<std::vector<std::int8_t>> gain[kMonths.size()];
  for (auto& g : gain) g.resize(coalitions);
  for (std::size_t s = 0; s < coalitions; ++s) {
    std::ostringstream firm;
    firm << "firm: {size: micro}\n";
    for (int i = 0; i < n; ++i)
      if (s >> i & 1) firm << params[i]->path << ": " << params[i]->defaults[static_cast<int>(firm::Size::large)] << "\n";
    const auto low = simulate_firm(spec_of(firm.str() + "alignment.level: 0.3\n"), kRuns, 120, 11, kRuns / 4);
    const auto high = simulate_firm(spec_of(firm.str() + "alignment.level: 0.9\n"), kRuns, 120, 11, kRuns / 4);
    for (std::size_t m = 0; m < kMonths.size(); ++m) {
      auto alive = [&](const Simulated& x, std::size_t r) {
        const double f = x.at(r, "failure_month");
        return (f == 0 || f > kMonths[m]) ? 1 : 0;
      };
      gain[m][s].resize(kRuns);
      for (std::size_t r = 0; r < static_cast<std::size_t>(kRuns); ++r)
        gain[m][s][r] = static_cast<std::int8_t>(alive(high, r) - alive(low, r));
    }
  }
  // Shapley weights |S|! (n - |S| - 1)! / n!, by coalition size.
  std::vector<double> weight(n);
  for (int k = 0; k < n; ++k) weight[k] = std::tgamma(k + 1) * std::tgamma(n - k) / std::tgamma(n + 1);
  for (std::size_t m = 0; m < kMonths.size(); ++m) {
    std::vector<double> total(kRuns);
    for (std::size_t r = 0; r < total.size(); ++r) total[r] = gain[m][coalitions - 1][r] - gain[m][0][r];
    double sum_of_shares = 0;
    for (int i = 0; i < n; ++i) {
      std::vector<double> phi(kRuns, 0.0);
      for (std::size_t s = 0; s < coalitions; ++s) {
        if (s >> i & 1) continue;
        const double w = weight[static_cast<std::size_t>(__builtin_popcountll(s))];
        const auto& without = gain[m][s];
        const auto& with = gain[m][s | std::size_t{1} << i];
        for (std::size_t r = 0; r < phi.size(); ++r) phi[r] += w * (with[r] - without[r]);
      }
      double se = 0;
      const double carried = share(phi, total, se);
      sum_of_shares += carried;
      INFO(params[i]->path << " carries " << carried << " +- " << se << " of the micro-large difference at month "
                           << kMonths[m]);
      CHECK(carried + 4 * se < 0.5);
    }
    CHECK(sum_of_shares == Approx(1.0).margin(1e-9));  // Shapley values add up to the whole
    Moments difference;
    for (double t : total) difference.add(t);
    INFO("large minus micro gain " << difference.mean() << " +- " << difference.sem());
    CHECK(-difference.mean() > 4 * difference.sem());  // the gradient itself is real
  }
}
