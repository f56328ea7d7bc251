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

namespace {
/// A run's change of state still being narrowed down: it has `state_at_hi` at hi and the
/// other state at lo.
struct OpenChange {
  std::int64_t run;
  double lo, hi;
  bool state_at_hi;
};

/// Bisection of every open change. Runs whose intervals share a midpoint are simulated
/// together: they lie in one grid interval, where a run has at most one open change, and
/// come in ascending order, as `open` lists them.
template <typename Event>
void narrow(std::vector<OpenChange>& open, int bisections, const Event& event) {
  for (int step = 0; step < bisections; ++step) {
    std::map<double, std::vector<std::size_t>> by_mid;
    for (std::size_t k = 0; k < open.size(); ++k) by_mid[(open[k].lo + open[k].hi) / 2].push_back(k);
    for (const auto& [mid, members] : by_mid) {
      std::vector<std::int64_t> runs;
      for (auto k : members) runs.push_back(open[k].run);
      const auto happened = event(mid, runs);
      for (std::size_t m = 0; m < members.size(); ++m) {
        OpenChange& c = open[members[m]];
        ((happened[m] != 0) == c.state_at_hi ? c.hi : c.lo) = mid;
      }
    }
  }
}

bool before(const Change& a, const Change& b) { return a.at < b.at || (a.at == b.at && a.delta < b.delta); }
}  // namespace

StressResult search_changes(const Search& search, const StressSettings& st) {
  // Under MPI each rank searches one contiguous range of the runs (a run's fate does not
  // depend on which runs it is simulated with); rank 0 gathers the changes and adds up the
  // counts, integers, and sorts the changes, so the result is one process's to the bit.
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

  // Every run at every grid value: the event's curve, evaluated directly, and where
  // each run's state differs between neighbouring grid values (grid interval by grid
  // interval, runs ascending within each).
  std::vector<double> counts(grid.size() + 1, 0.0);  // events per grid value, then non-monotone runs
  std::vector<unsigned char> previous, ever(n, 0), lost_above(n, 0);  // lost: no event above a grid value with it
  std::vector<OpenChange> open;
  for (std::size_t g = 0; g < grid.size(); ++g) {
    const auto happened = event(grid[g], all);
    for (std::size_t i = 0; i < n; ++i) {
      counts[g] += happened[i];
      if (g > 0 && happened[i] != previous[i]) open.push_back({all[i], grid[g - 1], grid[g], happened[i] != 0});
      if (!happened[i] && ever[i]) lost_above[i] = 1;
      ever[i] = ever[i] || happened[i];
    }
    previous = happened;
  }
  for (auto s : lost_above) counts.back() += s;

  // Bisection inside every grid interval where a run's state changes: where the event
  // starts, and, for a non-monotone run, where it stops and starts again.
  narrow(open, st.bisections, event);
  std::vector<double> at, delta;
  for (const auto& c : open) at.push_back(c.hi), delta.push_back(c.state_at_hi ? 1.0 : -1.0);
  if (ranks.distributed()) {
    at = ranks.gather(at);
    delta = ranks.gather(delta);
    const std::vector<double> parts = ranks.gather(counts);
    std::fill(counts.begin(), counts.end(), 0.0);
    for (std::size_t k = 0; k < parts.size(); ++k) counts[k % counts.size()] += parts[k];  // whole numbers: exact
  }
  StressResult r;
  r.runs = st.runs;
  r.first = grid.front();
  r.at_first = static_cast<std::int64_t>(counts.front());
  for (std::size_t k = 0; k < at.size(); ++k) r.changes.push_back({at[k], delta[k] > 0 ? 1 : -1});
  std::sort(r.changes.begin(), r.changes.end(), before);
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
  return search_changes(s, st);
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
  return search_changes(s, st);
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

namespace {
/// Calls visit(x, count) at the grid's first value and then at each value where changes
/// fall, in ascending order, with the count of runs with the event from x on (until the
/// next such value); stops early when visit returns true.
template <typename Visit>
void walk_count(const StressResult& r, const Visit& visit) {
  std::int64_t count = r.at_first;
  if (visit(r.first, count)) return;
  for (std::size_t k = 0; k < r.changes.size();) {
    const double x = r.changes[k].at;
    for (; k < r.changes.size() && r.changes[k].at == x; ++k) count += r.changes[k].delta;
    if (visit(x, count)) return;
  }
}

/// The smallest value at which at least m runs have the event; infinite if none.
double first_reaching(const StressResult& r, std::int64_t m) {
  double out = std::numeric_limits<double>::infinity();
  walk_count(r, [&](double x, std::int64_t count) {
    if (count < m) return false;
    out = x;
    return true;
  });
  return out;
}

/// The value from which on at least m runs have the event; infinite if the grid's last
/// value has fewer.
double settled_from(const StressResult& r, std::int64_t m) {
  double since = std::numeric_limits<double>::infinity();
  walk_count(r, [&](double x, std::int64_t count) {
    if (count < m) since = std::numeric_limits<double>::infinity();
    else if (!std::isfinite(since)) since = x;
    return false;
  });
  return since;
}
}  // namespace

Interval value_at_probability(const StressResult& result, double p) {
  const std::int64_t n = result.runs;
  if (n == 0) return {NAN, NAN, NAN};
  const auto k = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil(p * static_cast<double>(n) - 1e-9)), 1, n);
  const auto [r, s] = quantile_ranks(n, p);
  // The binomial test of the count at x accepts p where r <= count < s: every such x lies
  // between lo and hi, and so does the true value with at least 95%.
  return {first_reaching(result, k), r >= 1 ? first_reaching(result, r) : result.first,
          s <= n ? settled_from(result, s) : std::numeric_limits<double>::infinity()};
}

}  // namespace smbsim::cli
