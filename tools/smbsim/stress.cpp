#include "tools/smbsim/stress.hpp"

#include "engine/ranks_runner.hpp"
#include "models/firm/books.hpp"
#include "models/firm/firm.hpp"

#include <boost/math/special_functions/beta.hpp>
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>

namespace smbsim::cli {

firm::FirmSpec with_forced_shock(const firm::FirmSpec& spec, int shock, int month, double severity) {
  firm::FirmSpec out = spec;
  firm::ShockSpec forced = spec.shocks.at(static_cast<std::size_t>(shock));
  forced.name += "_stress";
  forced.rate = 0;
  forced.month = month;
  forced.severity = severity;
  forced.triggered_by = -1;
  forced.trigger_probability = 0;
  out.shocks.push_back(std::move(forced));
  return out;
}

namespace {
struct Tile {
  std::int64_t first;  // run index
  int count;
  std::size_t at;      // position of its first run in the caller's list
};
}  // namespace

std::vector<unsigned char> runs_fail(const firm::FirmSpec& spec, std::uint64_t seed, int months,
                                     const std::vector<std::int64_t>& runs, int threads) {
  // Contiguous stretches of runs step together in tiles of up to kLanes, as in the
  // engine's runner; a run's fate does not depend on which runs share its tile.
  std::vector<Tile> tiles;
  for (std::size_t i = 0; i < runs.size();) {
    std::size_t j = i + 1;
    while (j < runs.size() && runs[j] == runs[j - 1] + 1 && j - i < static_cast<std::size_t>(firm::Firm::kLanes)) ++j;
    tiles.push_back({runs[i], static_cast<int>(j - i), i});
    i = j;
  }
  std::vector<unsigned char> failed(runs.size(), 0);
  tbb::enumerable_thread_specific<std::unique_ptr<firm::Firm>> models;
  auto body = [&](const tbb::blocked_range<std::size_t>& range) {
    auto& model = models.local();
    if (!model) model = std::make_unique<firm::Firm>(spec);
    for (std::size_t t = range.begin(); t != range.end(); ++t) {
      const Tile& tile = tiles[t];
      model->start(seed, static_cast<std::uint64_t>(tile.first), tile.count);
      for (int month = 1; month <= months && model->lanes() > 0; ++month) {
        model->step(month);
        bool any = false;
        for (int lane = 0; lane < model->lanes(); ++lane)
          if (model->failure_month(lane) == month) {
            failed[tile.at + static_cast<std::size_t>(static_cast<std::int64_t>(model->run(lane)) - tile.first)] = 1;
            any = true;
          }
        if (any) model->compact();
      }
    }
  };
  std::optional<tbb::global_control> allow;
  if (threads > 0) allow.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
  tbb::task_arena arena(threads > 0 ? threads : tbb::task_arena::automatic);
  arena.execute([&] { tbb::parallel_for(tbb::blocked_range<std::size_t>(0, tiles.size(), 1), body); });
  return failed;
}

StressResult critical_values(const Search& search, const StressSettings& st) {
  // Under MPI each rank searches one contiguous range of the runs (a run's fate does not
  // depend on which runs it is simulated with); rank 0 gathers the critical values in run
  // order and adds up the counts, integers, so the result is one process's to the bit.
  const Ranks& ranks = Ranks::world();
  const auto [first_run, end_run] = ranks.block_range(st.runs, ranks.rank());
  if (ranks.distributed())
    detail::RankTiming().say("smbsim: rank %d of %d: runs %lld-%lld of 0-%lld\n", ranks.rank(), ranks.size(),
                             static_cast<long long>(first_run), static_cast<long long>(end_run - 1),
                             static_cast<long long>(st.runs - 1));
  const auto n = static_cast<std::size_t>(end_run - first_run);
  const std::vector<double>& grid = search.grid;
  std::vector<std::int64_t> all(n);
  for (std::size_t i = 0; i < n; ++i) all[i] = first_run + static_cast<std::int64_t>(i);
  auto event = [&](double x, const std::vector<std::int64_t>& runs) {
    auto failed = runs_fail(search.spec_at(x), st.seed, st.months, runs, st.threads);
    if (search.survival)
      for (auto& f : failed) f = !f;
    return failed;
  };

  // Every run at every grid value: the event's curve, evaluated directly, and each
  // run's first grid value with the event.
  StressResult r;
  std::vector<int> first(n, -1);
  std::vector<unsigned char> lost_above(n, 0);  // no event at some grid value above its first
  std::vector<double> counts(grid.size() + 1, 0.0);  // events per grid value, then non-monotone runs
  for (std::size_t g = 0; g < grid.size(); ++g) {
    const auto happened = event(grid[g], all);
    for (std::size_t i = 0; i < n; ++i) {
      counts[g] += happened[i];
      if (happened[i] && first[i] < 0) first[i] = static_cast<int>(g);
      if (!happened[i] && first[i] >= 0) lost_above[i] = 1;
    }
  }
  for (auto s : lost_above) counts.back() += s;

  // Bisection inside the first interval with the event (none at lo, the event at hi).
  // Runs that share an interval share its midpoint, so they are simulated together.
  r.critical.assign(n, std::numeric_limits<double>::infinity());
  std::vector<double> lo(n), hi(n);
  std::vector<std::int64_t> open;  // run indices
  auto at = [&](std::int64_t run) { return static_cast<std::size_t>(run - first_run); };
  for (std::size_t i = 0; i < n; ++i) {
    if (first[i] == 0) r.critical[i] = grid.front();
    if (first[i] <= 0) continue;
    lo[i] = grid[static_cast<std::size_t>(first[i] - 1)];
    hi[i] = grid[static_cast<std::size_t>(first[i])];
    open.push_back(all[i]);
  }
  for (int step = 0; step < st.bisections; ++step) {
    std::map<double, std::vector<std::int64_t>> by_mid;  // ascending runs within each
    for (auto run : open) by_mid[(lo[at(run)] + hi[at(run)]) / 2].push_back(run);
    for (const auto& [mid, runs] : by_mid) {
      const auto happened = event(mid, runs);
      for (std::size_t k = 0; k < runs.size(); ++k) (happened[k] ? hi : lo)[at(runs[k])] = mid;
    }
  }
  for (auto run : open) r.critical[at(run)] = hi[at(run)];
  if (ranks.distributed()) {
    r.critical = ranks.gather(r.critical);
    const std::vector<double> parts = ranks.gather(counts);
    std::fill(counts.begin(), counts.end(), 0.0);
    for (std::size_t k = 0; k < parts.size(); ++k) counts[k % counts.size()] += parts[k];  // whole numbers: exact
  }
  for (std::size_t g = 0; g < grid.size(); ++g)
    r.curve.push_back({grid[g], wilson_interval(static_cast<std::int64_t>(counts[g]), st.runs)});
  r.non_monotone = static_cast<std::int64_t>(counts.back());
  for (std::size_t g = 1; g < grid.size(); ++g)
    r.resolution = std::max(r.resolution, (grid[g] - grid[g - 1]) / std::pow(2.0, st.bisections));
  return r;
}

StressResult stress_test(const firm::FirmSpec& spec, const StressSettings& st) {
  Search s;
  s.spec_at = [&](double severity) { return with_forced_shock(spec, st.shock, st.month, severity); };
  for (int g = 0; g <= st.grid; ++g) s.grid.push_back(static_cast<double>(g) / st.grid);
  return critical_values(s, st);
}

StressResult cash_test(const firm::FirmSpec& spec, const StressSettings& st) {
  Search s;
  s.survival = true;
  s.spec_at = [&](double cash) {
    firm::FirmSpec out = spec;
    out[firm::Param::cash] = cash;
    return out;
  };
  const double outflows = firm::nominal_books(spec).outflows;
  for (double months : {0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 18.0, 24.0, 36.0})
    s.grid.push_back(months * outflows);
  return critical_values(s, st);
}

std::pair<std::int64_t, std::int64_t> quantile_ranks(std::int64_t n, double p) {
  // P(B <= m) for B ~ Binomial(n, p).
  auto cdf = [&](std::int64_t m) -> double {
    if (m < 0) return 0.0;
    if (m >= n) return 1.0;
    return boost::math::ibetac(static_cast<double>(m + 1), static_cast<double>(n - m), p);
  };
  // The largest m with cdf(m) <= 0.025, and the smallest with cdf(m) >= 0.975.
  std::int64_t a = -1, b = n;  // cdf(a) <= 0.025 < cdf(b)
  while (b - a > 1) {
    const std::int64_t m = a + (b - a) / 2;
    (cdf(m) <= 0.025 ? a : b) = m;
  }
  std::int64_t c = -1, d = n;  // cdf(c) < 0.975 <= cdf(d)
  while (d - c > 1) {
    const std::int64_t m = c + (d - c) / 2;
    (cdf(m) >= 0.975 ? d : c) = m;
  }
  return {a + 1, d + 1};  // r = a + 1 (0: no lower order statistic), s = d + 1 (n + 1: none)
}

Interval critical_quantile(std::vector<double> critical, double p) {
  const auto n = static_cast<std::int64_t>(critical.size());
  if (n == 0) return {NAN, NAN, NAN};
  std::sort(critical.begin(), critical.end());
  const double inf = std::numeric_limits<double>::infinity();
  const auto k = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil(p * static_cast<double>(n) - 1e-9)), 1, n);
  const auto [r, s] = quantile_ranks(n, p);
  auto at = [&](std::int64_t rank) { return critical[static_cast<std::size_t>(rank - 1)]; };
  return {at(k), r >= 1 ? at(r) : 0.0, s <= n ? at(s) : inf};
}

}  // namespace smbsim::cli
