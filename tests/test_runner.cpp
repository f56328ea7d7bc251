#include "engine/ranks.hpp"
#include "engine/runner.hpp"
#include "models/testing/random_walk.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

using namespace smbsim;
using smbsim::testing::RandomWalk;

namespace {
/// Keeps every outcome row, to compare whole datasets.
class MemorySink final : public OutcomeSink {
 public:
  std::vector<double> rows;
  std::vector<std::int64_t> order;
  std::vector<double> paths;
  void append_outcomes(std::int64_t first, std::int64_t, std::span<const double> r) override {
    order.push_back(first);
    rows.insert(rows.end(), r.begin(), r.end());
  }
  void append_path(std::int64_t, std::span<const double> p) override {
    paths.insert(paths.end(), p.begin(), p.end());
  }
};

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

struct Result {
  MonthlyStats stats;
  MemorySink sink;
};

constexpr RandomWalk::Params kWalk{1.0, 0.01, 0.15};

RunConfig config(int threads, std::uint64_t seed, std::int64_t runs = 20000, std::int64_t block = 1000) {
  RunConfig cfg;
  cfg.seed = seed;
  cfg.runs = runs;
  cfg.months = 60;
  cfg.threads = threads;
  cfg.block_size = block;
  cfg.paths = 3;
  return cfg;
}

Result run(int threads, std::uint64_t seed, std::int64_t runs = 20000, std::int64_t block = 1000) {
  MemorySink sink;
  MonthlyStats s = simulate<RandomWalk>(kWalk, config(threads, seed, runs, block), sink);
  return {std::move(s), std::move(sink)};
}
}  // namespace

TEST_CASE("absorbed random walk survival agrees with the closed form within its CI") {
  const RandomWalk::Params p{1.0, 0.01, 0.15};
  const Result r = run(0, 2024, 40000);
  for (int month : {6, 12, 24, 60}) {
    const double theory = 1.0 - RandomWalk::first_passage_probability(p, month);
    // A 99.99% Wilson interval (z = 3.89): a correct engine fails this about once in
    // 10^4 runs of the suite; a wrong one (e.g. a missed bridge crossing, ~3 points)
    // fails it always.
    const Interval w = wilson_interval(r.stats.alive(month), r.stats.runs(), 3.89);
    INFO("month " << month << " theory " << theory << " estimate " << w.estimate);
    CHECK(w.lo <= theory);
    CHECK(theory <= w.hi);
  }
  // Without the bridge the walk would be monitored monthly and survive visibly longer:
  // the test can tell.
  CHECK(1.0 - RandomWalk::first_passage_probability(p, 60) < r.stats.survival(60).hi);
}

TEST_CASE("one or two or four threads give identical bits but another seed does not") {
  const Result one = run(1, 7), two = run(2, 7), four = run(4, 7);
  CHECK(same_bits(one.sink.rows, four.sink.rows));
  CHECK(same_bits(one.sink.rows, two.sink.rows));
  CHECK(same_bits(one.sink.paths, four.sink.paths));
  for (int m = 1; m <= 60; ++m) {
    REQUIRE(one.stats.alive(m) == four.stats.alive(m));
    const double a = one.stats.moments(m, 0).mean(), b = four.stats.moments(m, 0).mean();
    REQUIRE(std::memcmp(&a, &b, sizeof a) == 0);
    const double va = one.stats.moments(m, 0).variance(), vb = four.stats.moments(m, 0).variance();
    REQUIRE(std::memcmp(&va, &vb, sizeof va) == 0);
  }
  const Result other = run(4, 8);
  CHECK_FALSE(same_bits(one.sink.rows, other.sink.rows));
}

TEST_CASE("outcomes arrive in run order and a run's result does not depend on its block") {
  const Result r = run(4, 7, 5000, 300);
  for (std::size_t i = 1; i < r.sink.order.size(); ++i) REQUIRE(r.sink.order[i] == r.sink.order[i - 1] + 300);
  const Result big_blocks = run(4, 7, 5000, 4096);
  CHECK(same_bits(r.sink.rows, big_blocks.sink.rows));
  CHECK(r.sink.paths.size() == 3u * 60u);
}

TEST_CASE("rank ranges are contiguous, in rank order and differ by at most one block") {
  for (int ranks = 1; ranks <= 5; ++ranks)
    for (std::int64_t blocks : {0, 1, 2, 3, 5, 7, 64, 1000003}) {
      std::int64_t next = 0, least = blocks, most = 0;
      for (int r = 0; r < ranks; ++r) {
        const auto [first, end] = rank_blocks(blocks, r, ranks);
        REQUIRE(first == next);
        least = std::min(least, end - first);
        most = std::max(most, end - first);
        next = end;
      }
      CHECK(next == blocks);
      CHECK(most - least <= 1);
    }
}

TEST_CASE("the ranks' merge (moments in block order, counts summed) gives one process's bits") {
  // What simulate_on_ranks() does across processes, done in one: each "rank" simulates
  // its range; rank 0 merges its own blocks whole, then the others' moments in rank
  // order, and adds their summed integer parts.
  const Result plain = run(2, 7);
  const RunConfig cfg = config(2, 7);
  const RandomWalk::Params p = kWalk;
  const ModelSchema schema = RandomWalk::schema(p);
  for (int ranks : {2, 3, 7}) {
    INFO(ranks << " ranks");
    MonthlyStats total(60, schema.quantities, static_cast<int>(schema.causes.size()));
    MonthlyStats others(60, schema.quantities, static_cast<int>(schema.causes.size()));
    MemorySink sink;
    for (int r = 0; r < ranks; ++r) {
      const auto [first, end] = rank_blocks(block_count(cfg), r, ranks);
      simulate_blocks<RandomWalk>(p, schema, cfg, first, end, [&](const FinishedBlock& b) {
        if (r == 0) {
          total.merge(b.stats);
        } else {
          total.merge_moments(b.stats.all_moments());
          others.merge_counts(b.stats);
        }
        deliver(sink, b);
      });
    }
    total.add_counts(others.counts());
    CHECK(same_bits(sink.rows, plain.sink.rows));
    CHECK(same_bits(sink.paths, plain.sink.paths));
    CHECK(total.counts() == plain.stats.counts());
    for (int m = 1; m <= 60; ++m) {
      const double a = total.moments(m, 0).mean(), b = plain.stats.moments(m, 0).mean();
      REQUIRE(std::memcmp(&a, &b, sizeof a) == 0);
      const double va = total.moments(m, 0).variance(), vb = plain.stats.moments(m, 0).variance();
      REQUIRE(std::memcmp(&va, &vb, sizeof va) == 0);
    }
  }
}
