#include "engine/uncertain.hpp"

#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/lognormal.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/triangular.hpp>
#include <boost/math/special_functions/gamma.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace smbsim {
namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
template <class... F>
struct Overload : F... {
  using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;
/// Quantiles that never throw (a value out of the domain gives NaN, not an exception),
/// computed in double, not promoted to long double: the beta's inverse, the costliest
/// step of starting a run under a design, takes 0.8 us instead of 5.4 (bench/README.md).
using Quiet = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>,
    boost::math::policies::promote_double<false>>;

/// The beta's quantile far in a tail, from the leading term of its CDF there:
/// F(x) = x^a / (a B(a, b)) (1 + O(x)), so x = (u a B(a, b))^(1/a), and likewise at 1.
/// Boost 1.74's inverse gives +-inf within about 1e-16 of 0 or 1 when a or b is exactly
/// 0.5 (its Student's t route; beta(0.5, 2) at u = 2^-53), where this term is exact to
/// double precision. Anywhere it is not (x above 1e-8), NaN: the caller refuses it.
double beta_tail_quantile(double a, double b, double u) {
  const bool lower = u <= 0.5;
  const double shape = lower ? a : b, tail = lower ? u : 1.0 - u;
  const double log_beta = boost::math::lgamma(a, Quiet()) + boost::math::lgamma(b, Quiet()) - boost::math::lgamma(a + b, Quiet());
  const double x = std::exp((std::log(tail) + std::log(shape) + log_beta) / shape);
  if (!(x <= 1e-8)) return std::numeric_limits<double>::quiet_NaN();
  return lower ? x : 1.0 - x;
}
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
  // Boost.Math's root finders raise some errors under their own default policy, not
  // Quiet (newton_raphson_iterate for beta(3, 1e17)): such a failure is NaN too, which
  // the scenario reader's probe refuses and the runner never lets through.
  try {
    return boost_quantile(std::clamp(u, 0x1p-53, 1.0 - 0x1p-53));
  } catch (const std::exception&) {
    return std::numeric_limits<double>::quiet_NaN();
  }
}

double Uncertain::boost_quantile(double u) const {
  namespace bm = boost::math;
  return std::visit(
      Overload{[](double v) { return v; },
               [u](const boost::random::normal_distribution<double>& d) {
                 return d.sigma() > 0 ? bm::quantile(bm::normal_distribution<double, Quiet>(d.mean(), d.sigma()), u) : d.mean();
               },
               [u](const boost::random::lognormal_distribution<double>& d) {
                 return d.s() > 0 ? bm::quantile(bm::lognormal_distribution<double, Quiet>(d.m(), d.s()), u) : std::exp(d.m());
               },
               [u](const boost::random::uniform_real_distribution<double>& d) { return d.a() + u * (d.b() - d.a()); },
               [u](const boost::random::triangle_distribution<double>& d) {
                 return d.a() < d.c() ? bm::quantile(bm::triangular_distribution<double, Quiet>(d.a(), d.b(), d.c()), u) : d.b();
               },
               [u](const boost::random::beta_distribution<double>& d) {
                 const double x = bm::quantile(bm::beta_distribution<double, Quiet>(d.alpha(), d.beta()), u);
                 return x >= 0.0 && x <= 1.0 ? x : beta_tail_quantile(d.alpha(), d.beta(), u);
               },
               [u](const Discrete& d) {
                 for (std::size_t i = 0; i + 1 < d.by_value.size(); ++i)
                   if (u <= d.cumulative[i]) return d.values[d.by_value[i]];
                 return d.values[d.by_value.back()];
               }},
      dist_);
}

std::string Uncertain::describe() const {
  std::ostringstream s;
  s.precision(10);
  std::visit(
      Overload{[&](double v) { s << v; },
               [&](const boost::random::normal_distribution<double>& d) {
                 s << "normal(mean=" << d.mean() << ", sd=" << d.sigma() << ")";
               },
               [&](const boost::random::lognormal_distribution<double>& d) {
                 s << "lognormal(median=" << std::exp(d.m()) << ", sigma=" << d.s() << ")";
               },
               [&](const boost::random::uniform_real_distribution<double>& d) {
                 s << "uniform(low=" << d.a() << ", high=" << d.b() << ")";
               },
               [&](const boost::random::triangle_distribution<double>& d) {
                 s << "triangular(low=" << d.a() << ", mode=" << d.b() << ", high=" << d.c() << ")";
               },
               [&](const boost::random::beta_distribution<double>& d) {
                 s << "beta(a=" << d.alpha() << ", b=" << d.beta() << ")";
               },
               [&](const Discrete& d) {
                 const auto p = d.pick.probabilities();
                 s << "discrete(values=[";
                 for (std::size_t i = 0; i < d.values.size(); ++i) s << (i ? ", " : "") << d.values[i];
                 s << "], weights=[";
                 for (std::size_t i = 0; i < p.size(); ++i) s << (i ? ", " : "") << p[i];
                 s << "])";
               }},
      dist_);
  return s.str();
}

}  // namespace smbsim
