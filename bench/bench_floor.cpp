// The random-number floor: what the draws alone cost per firm-month.
//   smbsim_bench_floor           ns per stream, per 64-bit word, per uniform, per normal,
//                                per batch normal (standard_normals, a tile x 11), per
//                                exponential, and per sample of each kind of distribution
//                                in the default scenario
//   smbsim_bench_floor compute RUNS THREADS
//                                the default scenario simulated without any output (no
//                                HDF5), best of 3: seconds and firm-months
//   smbsim_bench_draws           draws per firm-month of the default scenario (a build of
//                                the model with draw counting compiled in)
// Both print one JSON object; bench/run combines them with the measured ns per firm-month.
#include "engine/normal_batch.hpp"
#include "engine/runner.hpp"
#include "models/firm/firm.hpp"
#include "models/scenario/scenario.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace smbsim;

namespace {
volatile double g_sink;  // keeps the timed loops from being optimised away

template <class F>
double ns_per_call(F f, std::int64_t n) {
  double best = 1e300;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    double acc = 0;
    for (std::int64_t i = 0; i < n; ++i) acc += f(i);
    const auto t1 = std::chrono::steady_clock::now();
    g_sink = acc;
    best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(n));
  }
  return best;
}
}  // namespace

int main(int argc, char** argv) {
  const auto sc = scenario::load_scenario(scenario::default_scenario_text(), "<default>");
#ifdef SMBSIM_COUNT_DRAWS
  (void)argc;
  (void)argv;
  RunConfig cfg;
  cfg.runs = 20000;
  cfg.months = sc.simulation.months;
  cfg.threads = 1;
  NullSink sink;
  const MonthlyStats s = simulate<firm::Firm>(sc.variants.front().spec, cfg, sink);
  double firm_months = static_cast<double>(cfg.runs);  // month 1 of every run
  for (int m = 1; m < cfg.months; ++m) firm_months += static_cast<double>(s.alive(m));
  const DrawCounts& c = g_draw_counts;
  std::printf("{\"firm_months\": %.0f, \"streams\": %.4f, \"words\": %.4f, \"normals\": %.4f, \"uniforms\": %.4f, "
              "\"batch_normals\": %.4f, \"exponentials\": %.4f, \"samples\": {",
              firm_months, c.streams / firm_months, c.words / firm_months, c.normals / firm_months,
              c.uniforms / firm_months, c.batch_normals / firm_months, c.exponentials / firm_months);
  for (std::size_t kind = 0; kind < std::size(Uncertain::kKindNames); ++kind)
    std::printf("%s\"%s\": %.4f", kind ? ", " : "", Uncertain::kKindNames[kind], c.samples[kind] / firm_months);
  std::printf("}}\n");
#else
  if (argc == 4 && std::string(argv[1]) == "compute") {
    RunConfig cfg;
    cfg.runs = std::stoll(argv[2]);
    cfg.threads = std::stoi(argv[3]);
    cfg.months = sc.simulation.months;
    cfg.seed = sc.simulation.seed;
    NullSink sink;
    double best = 1e300, firm_months = 0;
    for (int rep = 0; rep < 3; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      const MonthlyStats s = simulate<firm::Firm>(sc.variants.front().spec, cfg, sink);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      firm_months = static_cast<double>(cfg.runs);
      for (int m = 1; m < cfg.months; ++m) firm_months += static_cast<double>(s.alive(m));
    }
    std::printf("{\"seconds\": %.4f, \"firm_months\": %.0f}\n", best, firm_months);
    return 0;
  }
  const std::int64_t n = 20'000'000;
  const double stream = ns_per_call([](std::int64_t i) { return double(RandomStream(1, i, 2, 7)()); }, n);
  RandomStream rng(1, 2, 3, 4);
  const double word = ns_per_call([&](std::int64_t) { return double(rng() >> 11); }, n);
  const double uniform = ns_per_call([&](std::int64_t) { return rng.uniform(); }, n);
  const double normal = ns_per_call([&](std::int64_t) { return rng.normal(); }, n);
  // A tile's monthly draws as the model makes them: 11 normals for each of its runs.
  std::vector<std::uint64_t> runs(firm::kLanes);
  std::vector<double> out(firm::kNormalRows * runs.size());
  std::vector<double*> rows;
  for (std::size_t k = 0; k < firm::kNormalRows; ++k) rows.push_back(&out[k * runs.size()]);
  const double per_tile = ns_per_call([&](std::int64_t i) {
    for (std::size_t r = 0; r < runs.size(); ++r) runs[r] = static_cast<std::uint64_t>(i) * runs.size() + r;
    standard_normals({1, 2, 7}, runs, rows);
    return out[static_cast<std::size_t>(i) % out.size()];
  }, n / 2560);
  const double batch_normal = per_tile / static_cast<double>(out.size());
  const double exponential = ns_per_call([&](std::int64_t) { return rng.exponential(); }, n);
  std::printf("{\"stream_ns\": %.3f, \"word_ns\": %.3f, \"uniform_ns\": %.3f, \"normal_ns\": %.3f, "
              "\"batch_normal_ns\": %.3f, \"exponential_ns\": %.3f, \"sample_ns\": {",
              stream, word, uniform, normal, batch_normal, exponential);
  // Each kind of distribution timed on the default scenario's first one of that kind
  // (what smbsim_bench_draws counts by kind).
  const firm::FirmSpec& spec = sc.variants.front().spec;
  std::vector<const Uncertain*> distributions;
  for (const auto& info : firm::param_table()) distributions.push_back(&spec[info.id]);
  for (const auto& shock : spec.shocks) distributions.insert(distributions.end(), {&shock.severity, &shock.duration});
  bool first = true;
  for (std::size_t kind = 1; kind < std::size(Uncertain::kKindNames); ++kind) {
    const auto it = std::find_if(distributions.begin(), distributions.end(),
                                 [&](const Uncertain* d) { return d->kind() == kind; });
    if (it == distributions.end()) continue;
    const double ns = ns_per_call([&](std::int64_t) { return (*it)->sample(rng); }, n / 4);
    std::printf("%s\"%s\": %.3f", first ? "" : ", ", Uncertain::kKindNames[kind], ns);
    first = false;
  }
  std::printf("}}\n");
#endif
  return 0;
}
