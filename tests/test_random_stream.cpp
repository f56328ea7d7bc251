#include "engine/random_stream.hpp"
#include "engine/uncertain.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using smbsim::RandomStream;
using smbsim::RunRandom;

TEST_CASE("a stream is a pure function of seed and run and purpose and month") {
  RandomStream a(42, 7, 3, 11), b(42, 7, 3, 11);
  for (int i = 0; i < 100; ++i) REQUIRE(a() == b());
}

TEST_CASE("streams differ when any key part differs") {
  const auto first = [](RandomStream s) { return s(); };
  const auto base = first(RandomStream(1, 2, 3, 4));
  CHECK(base != first(RandomStream(2, 2, 3, 4)));
  CHECK(base != first(RandomStream(1, 3, 3, 4)));
  CHECK(base != first(RandomStream(1, 2, 4, 4)));
  CHECK(base != first(RandomStream(1, 2, 3, 5)));
  CHECK(base != first(RandomStream(1, 2 + (1ull << 32), 3, 4)));
}

TEST_CASE("uniforms and normals have the right first two moments") {
  // 10^5 draws: the sample mean's standard error is 1/sqrt(12 n) = 0.0009 for uniforms
  // and 1/sqrt(n) = 0.0032 for normals; 5 standard errors never flake.
  const int n = 100000;
  double su = 0, su2 = 0, sn = 0, sn2 = 0;
  for (int i = 0; i < n; ++i) {
    RandomStream s(9, static_cast<std::uint64_t>(i), 1, 1);
    const double u = s.uniform(), z = s.normal();
    REQUIRE(u > 0.0);
    REQUIRE(u < 1.0);
    su += u;
    su2 += u * u;
    sn += z;
    sn2 += z * z;
  }
  CHECK(std::abs(su / n - 0.5) < 5 * std::sqrt(1.0 / 12 / n));
  CHECK(std::abs(sn / n) < 5 / std::sqrt(n * 1.0));
  // var of the sample variance of N(0,1) is 2/n.
  CHECK(std::abs(sn2 / n - 1.0) < 5 * std::sqrt(2.0 / n));
  CHECK(std::abs(su2 / n - 1.0 / 3) < 5 * std::sqrt(4.0 / 45 / n));
}

TEST_CASE("uncertain parameters sample their distribution and report their range") {
  using smbsim::Uncertain;
  CHECK(Uncertain(3.5).is_fixed());
  CHECK(Uncertain(3.5).nominal() == 3.5);
  const Uncertain tri = Uncertain::triangular(1, 2, 6);
  CHECK(tri.lowest() == 1);
  CHECK(tri.highest() == 6);
  const Uncertain disc = Uncertain::discrete({1, 10}, {3, 1});
  CHECK(disc.nominal() == Approx(3.25));
  const Uncertain logn = Uncertain::lognormal(100, 0.5);
  CHECK(logn.nominal() == Approx(100));
  // Mean of a beta(2, 6) is 0.25, its sd sqrt(ab/((a+b)^2 (a+b+1))) = 0.144.
  const Uncertain beta = Uncertain::beta(2, 6);
  double s = 0;
  int tens = 0;
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    RandomStream rng(5, static_cast<std::uint64_t>(i), 0, 0);
    const double x = beta.sample(rng);
    REQUIRE(x >= 0.0);
    REQUIRE(x <= 1.0);
    s += x;
    RandomStream rng2(6, static_cast<std::uint64_t>(i), 0, 0);
    tens += disc.sample(rng2) == 10 ? 1 : 0;
  }
  CHECK(std::abs(s / n - 0.25) < 5 * 0.144 / std::sqrt(n));
  // P(10) = 1/4; binomial sd sqrt(p(1-p)/n) = 0.0022.
  CHECK(std::abs(tens / double(n) - 0.25) < 5 * 0.0022);
}
