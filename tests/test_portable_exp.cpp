#include "engine/portable_exp.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using smbsim::portable_exp;

namespace {
/// Error of `got` in units in the last place of e^x, against long double expl.
double ulp_error(double got, double x) {
  const long double exact = expl(static_cast<long double>(x));
  const double rounded = static_cast<double>(exact);
  const double ulp = std::nextafter(rounded, HUGE_VAL) - rounded;
  return static_cast<double>((static_cast<long double>(got) - exact) / ulp);
}

/// The lane loops' way of calling it: vectorised in the AVX-512, AVX2 and SSE2 clones.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
void exp_lanes(const double* __restrict x, int n, double* __restrict out) {
  for (int i = 0; i < n; ++i) out[i] = portable_exp(x[i]);
}
}  // namespace

TEST_CASE("portable_exp is within 1.2 ulp of e^x over the whole normal range") {
  double worst = 0.0;
  for (double x = -708.0; x <= 709.0; x += 0.0071) worst = std::max(worst, std::fabs(ulp_error(portable_exp(x), x)));
  // Densely where the model uses it (monthly demand moves), with the reduction's edges.
  for (double x = -3.0; x <= 3.0; x += 1.7e-6) worst = std::max(worst, std::fabs(ulp_error(portable_exp(x), x)));
  CHECK(worst < 1.2);
  CHECK(worst > 0.5);  // a correctly rounded result would be a surprise: the check measures
}

TEST_CASE("portable_exp is exact where e^x is, and saturates outside its range") {
  CHECK(portable_exp(0.0) == 1.0);
  CHECK(portable_exp(-0.0) == 1.0);
  CHECK(portable_exp(1.0) == Approx(2.718281828459045).epsilon(1e-16));
  CHECK(portable_exp(-710.0) == 0.0);
  CHECK(portable_exp(-HUGE_VAL) == 0.0);
  CHECK(portable_exp(710.0) == HUGE_VAL);
  CHECK(portable_exp(HUGE_VAL) == HUGE_VAL);
  CHECK(std::isnan(portable_exp(NAN)));
}

TEST_CASE("portable_exp gives the same bits vectorised as one value at a time") {
  std::vector<double> x;
  for (double v = -40.0; v <= 40.0; v += 0.0137) x.push_back(v);
  x.insert(x.end(), {0.0, -0.0, 708.9, -707.9, 1e-300, -1e-300, 0.34657359027997264, -0.34657359027997264});
  std::vector<double> lanes(x.size());
  exp_lanes(x.data(), static_cast<int>(x.size()), lanes.data());
  for (std::size_t i = 0; i < x.size(); ++i) {
    volatile double one = x[i];  // keeps the scalar call out of any vector loop
    CHECK(lanes[i] == portable_exp(one));
  }
}
