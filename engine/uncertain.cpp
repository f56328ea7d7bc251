#include "engine/uncertain.hpp"

#include <algorithm>
#include <limits>

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

}  // namespace smbsim
