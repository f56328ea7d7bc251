#include "engine/normal_batch.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

using smbsim::NormalDraws;
using smbsim::standard_normals;

namespace {
/// Draws `rows` normals for each of `runs`, returned as rows x runs.
std::vector<std::vector<double>> draw(const NormalDraws& key, const std::vector<std::uint64_t>& runs, int rows) {
  std::vector<std::vector<double>> out(static_cast<std::size_t>(rows), std::vector<double>(runs.size()));
  std::vector<double*> pointers;
  for (auto& row : out) pointers.push_back(row.data());
  standard_normals(key, runs, pointers);
  return out;
}
}  // namespace

TEST_CASE("a batch normal depends only on seed, run, purpose, month and draw, not on its lane") {
  const NormalDraws key{42, 2, 17};
  std::vector<std::uint64_t> many(300);
  std::iota(many.begin(), many.end(), 1000);
  const auto all = draw(key, many, 11);
  const auto one = draw(key, {1123}, 11);      // run 1123 was lane 123 above
  const auto fewer = draw(key, {1123}, 3);     // fewer draws do not change the first ones
  for (int k = 0; k < 11; ++k) CHECK(std::memcmp(&all[k][123], &one[k][0], sizeof(double)) == 0);
  for (int k = 0; k < 3; ++k) CHECK(one[k][0] == fewer[k][0]);
  // Any part of the key changes the draws.
  CHECK(draw({43, 2, 17}, {1123}, 1)[0][0] != one[0][0]);
  CHECK(draw({42, 3, 17}, {1123}, 1)[0][0] != one[0][0]);
  CHECK(draw({42, 2, 18}, {1123}, 1)[0][0] != one[0][0]);
  CHECK(one[0][0] != one[1][0]);
}

TEST_CASE("batch normals are standard normal: moments, 50 equiprobable bins and the tails") {
  // 1024 runs x 8 draws x 64 months = 524288 draws. Thresholds: 5 standard errors for
  // the moments and the tail counts; chi-square with 49 degrees of freedom above 105
  // has probability below 1e-6. A wrong fast path, wedge or tail moves these by far more.
  std::vector<std::uint64_t> runs(1024);
  std::iota(runs.begin(), runs.end(), 0);
  constexpr int kBins = 50;
  std::array<double, kBins - 1> edges{};
  for (int b = 1; b < kBins; ++b) {
    // Normal quantile by bisection on erfc: edges of equiprobable bins.
    double lo = -10, hi = 10;
    for (int it = 0; it < 200; ++it) {
      const double mid = 0.5 * (lo + hi);
      (0.5 * std::erfc(-mid / std::sqrt(2.0)) < static_cast<double>(b) / kBins ? lo : hi) = mid;
    }
    edges[static_cast<std::size_t>(b - 1)] = lo;
  }
  std::array<long, kBins> counts{};
  double n = 0, sum = 0, sum2 = 0, sum4 = 0;
  long beyond3 = 0;
  for (std::uint32_t month = 1; month <= 64; ++month)
    for (const auto& row : draw({7, 1, month}, runs, 8))
      for (const double z : row) {
        REQUIRE(std::isfinite(z));
        ++counts[static_cast<std::size_t>(std::upper_bound(edges.begin(), edges.end(), z) - edges.begin())];
        n += 1;
        sum += z;
        sum2 += z * z;
        sum4 += z * z * z * z;
        beyond3 += std::fabs(z) > 3.0;
      }
  const double mean = sum / n, variance = sum2 / n - mean * mean;
  CHECK(std::fabs(mean) < 5.0 / std::sqrt(n));
  CHECK(std::fabs(variance - 1.0) < 5.0 * std::sqrt(2.0 / n));
  CHECK(std::fabs(sum4 / n - 3.0) < 5.0 * std::sqrt(96.0 / n));  // Var(z^4) = 105 - 9
  double chi2 = 0;
  for (const long c : counts) chi2 += (c - n / kBins) * (c - n / kBins) / (n / kBins);
  CHECK(chi2 < 105.0);
  const double p3 = std::erfc(3.0 / std::sqrt(2.0));  // P(|z| > 3) = 0.0027
  CHECK(std::fabs(beyond3 - n * p3) < 5.0 * std::sqrt(n * p3 * (1 - p3)));
}
