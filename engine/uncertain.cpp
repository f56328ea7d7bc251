#include "engine/uncertain.hpp"

#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/lognormal.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/triangular.hpp>

#include <algorithm>
#include <limits>
#include <numeric>

namespace smbsim {
namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
template <class... F>
struct Overload : F... {
  using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;
}  // namespace

double Uncertain::nominal() const {
  return std::visit(
      Overload{[](double v) { return v; },
               [](const boost::random::normal_distribution<double>& d) { return d.mean(); },
               [](const boost::random::lognormal_distribution<double>& d) {
                 return std::exp(d.m());
               },
               [](const boost::random::uniform_real_distribution<double>& d) {
                 return 0.5 * (d.a() + d.b());
               },
               [](const boost::random::triangle_distribution<double>& d) { return d.b(); },
               [](const boost::random::beta_distribution<double>& d) {
                 return d.alpha() / (d.alpha() + d.beta());
               },
               [](const Discrete& d) {
                 double mean = 0.0;
                 auto p = d.pick.probabilities();
                 for (std::size_t i = 0; i < d.values.size(); ++i) mean += p[i] * d.values[i];
                 return mean;
               }},
      dist_);
}

double Uncertain::lowest() const {
  return std::visit(
      Overload{[](double v) { return v; },
               [](const boost::random::normal_distribution<double>& d) {
                 return d.sigma() > 0 ? -kInf : d.mean();
               },
               [](const boost::random::lognormal_distribution<double>&) { return 0.0; },
               [](const boost::random::uniform_real_distribution<double>& d) { return d.a(); },
               [](const boost::random::triangle_distribution<double>& d) { return d.a(); },
               [](const boost::random::beta_distribution<double>&) { return 0.0; },
               [](const Discrete& d) { return *std::min_element(d.values.begin(), d.values.end()); }},
      dist_);
}

double Uncertain::highest() const {
  return std::visit(
      Overload{[](double v) { return v; },
               [](const boost::random::normal_distribution<double>& d) {
                 return d.sigma() > 0 ? kInf : d.mean();
               },
               [](const boost::random::lognormal_distribution<double>&) { return kInf; },
               [](const boost::random::uniform_real_distribution<double>& d) { return d.b(); },
               [](const boost::random::triangle_distribution<double>& d) { return d.c(); },
               [](const boost::random::beta_distribution<double>&) { return 1.0; },
               [](const Discrete& d) { return *std::max_element(d.values.begin(), d.values.end()); }},
      dist_);
}

double Uncertain::quantile(double u) const {
  u = std::clamp(u, 0.0, 1.0);
  // Unbounded tails: the last representable shares short of 0 and 1 that Boost.Math
  // inverts without overflow, far beyond any design's points.
  const double open_u = std::clamp(u, 1e-12, 1.0 - 1e-12);
  return std::visit(
      Overload{[](double v) { return v; },
               [&](const boost::random::normal_distribution<double>& d) {
                 if (!(d.sigma() > 0)) return d.mean();
                 return boost::math::quantile(boost::math::normal_distribution<double>(d.mean(), d.sigma()), open_u);
               },
               [&](const boost::random::lognormal_distribution<double>& d) {
                 if (!(d.s() > 0)) return std::exp(d.m());
                 return boost::math::quantile(boost::math::lognormal_distribution<double>(d.m(), d.s()), open_u);
               },
               [&](const boost::random::uniform_real_distribution<double>& d) {
                 return d.a() + u * (d.b() - d.a());
               },
               [&](const boost::random::triangle_distribution<double>& d) {
                 return boost::math::quantile(boost::math::triangular_distribution<double>(d.a(), d.b(), d.c()), u);
               },
               [&](const boost::random::beta_distribution<double>& d) {
                 return boost::math::quantile(boost::math::beta_distribution<double>(d.alpha(), d.beta()), u);
               },
               [&](const Discrete& d) {
                 // Values in increasing order with their weights, so the function is monotone.
                 const auto p = d.pick.probabilities();
                 std::vector<std::size_t> order(d.values.size());
                 std::iota(order.begin(), order.end(), std::size_t{0});
                 std::stable_sort(order.begin(), order.end(),
                                  [&](std::size_t a, std::size_t b) { return d.values[a] < d.values[b]; });
                 double cumulative = 0.0;
                 for (std::size_t k : order) {
                   cumulative += p[k];
                   if (p[k] > 0 && cumulative >= u * (1.0 - 1e-12)) return d.values[k];
                 }
                 return d.values[order.back()];
               }},
      dist_);
}

}  // namespace smbsim
