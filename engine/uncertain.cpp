#include "engine/uncertain.hpp"

#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/lognormal.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/triangular.hpp>

#include <algorithm>
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
  namespace bm = boost::math;
  u = std::clamp(u, 0x1p-53, 1.0 - 0x1p-53);
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
                 return bm::quantile(bm::beta_distribution<double, Quiet>(d.alpha(), d.beta()), u);
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
