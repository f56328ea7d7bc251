// PRIM scenario discovery (engine/prim.hpp): recovers planted boxes, ignores noise.
#include "engine/prim.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace smbsim;

namespace {
/// n points uniform on [0, 1]^d; y = 1 with probability `inside` in the box
/// x0 < 0.3, x1 > 0.6 (mass 0.12), `outside` elsewhere.
struct Planted {
  Eigen::MatrixXd x;
  std::vector<unsigned char> y;
};
Planted planted(int n, int d, double inside, double outside, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Planted p{Eigen::MatrixXd(n, d), std::vector<unsigned char>(static_cast<std::size_t>(n))};
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) p.x(i, j) = u(rng);
    const bool in = p.x(i, 0) < 0.3 && p.x(i, 1) > 0.6;
    p.y[static_cast<std::size_t>(i)] = u(rng) < (in ? inside : outside);
  }
  return p;
}
}  // namespace

TEST_CASE("peel quantiles are EMA's: midpoints to the next distinct value") {
  std::vector<double> v{5, 1, 4, 2, 3, 2};
  // sorted 1 2 2 3 4 5; (n-1) * 0.05 = 0.25 -> floor 0: 1, next distinct 2 -> 1.5
  CHECK(prim::peel_quantile(v, 0.05) == Approx(1.5));
  // ceil(4.75) = 5: 5, previous distinct 4 -> 4.5
  CHECK(prim::peel_quantile(v, 0.95) == Approx(4.5));
  CHECK(prim::peel_quantile({2, 2, 2}, 0.05) == 2);
}

TEST_CASE("binomial upper tail") {
  CHECK(prim::binomial_upper_tail(0, 10, 0.3) == 1.0);
  CHECK(prim::binomial_upper_tail(11, 10, 0.3) == 0.0);
  // P(B >= 10 | 10, 0.5) = 2^-10
  CHECK(prim::binomial_upper_tail(10, 10, 0.5) == Approx(1.0 / 1024));
  // P(B >= 1 | 3, 0.5) = 7/8
  CHECK(prim::binomial_upper_tail(1, 3, 0.5) == Approx(0.875));
}

TEST_CASE("PRIM recovers a planted box among noise inputs") {
  const Planted p = planted(20000, 5, 0.9, 0.05, 7);
  const prim::Result r = prim::discover(p.x, p.y);
  REQUIRE(!r.boxes.empty());
  const prim::Found& f = r.boxes.front();
  // The two planted limits, within a couple of peels of the truth.
  CHECK(f.box.lo[0] == r.lo[0]);
  CHECK(f.box.hi[0] == Approx(0.3).margin(0.03));
  CHECK(f.box.lo[1] == Approx(0.6).margin(0.03));
  CHECK(f.box.hi[1] == r.hi[1]);
  // Noise inputs are left unrestricted (insignificant restrictions are dropped).
  for (int j = 2; j < 5; ++j) {
    CHECK(f.box.lo[std::size_t(j)] == r.lo[std::size_t(j)]);
    CHECK(f.box.hi[std::size_t(j)] == r.hi[std::size_t(j)]);
  }
  CHECK(f.box.restricted == 2);
  CHECK(f.box.density > 0.85);
  CHECK(f.box.coverage > 0.6);  // 0.12 * 0.9 of 0.12 * 0.9 + 0.88 * 0.05 ~ 0.71
  CHECK(f.box.mass == Approx(0.12).margin(0.015));
  REQUIRE(f.limits.size() == 2);
  for (const auto& l : f.limits) CHECK(std::max(std::isnan(l.qp_lower) ? 0 : l.qp_lower, std::isnan(l.qp_upper) ? 0 : l.qp_upper) < 1e-6);
  // The trajectory starts at the whole space and the chosen box is on it.
  CHECK(f.trajectory.front().mass == 1.0);
  CHECK(f.trajectory.front().coverage == 1.0);
}

TEST_CASE("PRIM finds no box where the outcome does not depend on the inputs") {
  const Planted p = planted(5000, 4, 0.2, 0.2, 11);
  const prim::Result r = prim::discover(p.x, p.y);
  // A box may pass a 5% test by chance; it must then be weak.
  if (!r.boxes.empty()) CHECK(r.boxes.front().box.density < 0.3);
}

TEST_CASE("PRIM's second box covers a second planted region") {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  const int n = 20000;
  Eigen::MatrixXd x(n, 3);
  std::vector<unsigned char> y(n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < 3; ++j) x(i, j) = u(rng);
    const bool a = x(i, 0) < 0.25, b = x(i, 2) > 0.8;
    y[std::size_t(i)] = u(rng) < (a || b ? 0.9 : 0.05);
  }
  const prim::Result r = prim::discover(x, y);
  REQUIRE(r.boxes.size() >= 2);
  const auto& b1 = r.boxes[0].box;
  const auto& b2 = r.boxes[1].box;
  // One box is x0 < 0.25, the other x2 > 0.8 (in either order).
  const bool first_is_a = b1.hi[0] < 0.5;
  const auto& a = first_is_a ? b1 : b2;
  const auto& b = first_is_a ? b2 : b1;
  CHECK(a.hi[0] == Approx(0.25).margin(0.03));
  CHECK(b.lo[2] == Approx(0.8).margin(0.03));
  CHECK(r.boxes[0].box.coverage + r.boxes[1].box.coverage > 0.8);
}

TEST_CASE("PRIM breaks ties as EMA Workbench does: the first input's upper side first") {
  // Two equal inputs 0..99, cases from 10 to 89: the four first peels (either side of
  // either input) each remove five non-cases. EMA visits input by input, the upper side
  // before the lower, and takes the first of equal candidates.
  Eigen::MatrixXd x(100, 2);
  std::vector<unsigned char> y(100);
  for (int i = 0; i < 100; ++i) {
    x(i, 0) = x(i, 1) = i;
    y[static_cast<std::size_t>(i)] = i >= 10 && i < 90;
  }
  const prim::Result r = prim::discover(x, y);
  REQUIRE(!r.boxes.empty());
  const auto& step = r.boxes[0].trajectory.at(1);
  CHECK(step.lo == std::vector<double>{0, 0});
  CHECK(step.hi == std::vector<double>{94.5, 99});  // (n-1) 0.95 = 94.05: 95, previous 94
}
