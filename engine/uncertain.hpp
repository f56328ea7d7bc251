#pragma once
// A model parameter that is either a fixed number or a distribution sampled once per
// run from the run's parameter stream. The distributions are Boost.Random's, built
// once when the scenario is read, so sampling allocates nothing.
#include "engine/random_stream.hpp"

#include <boost/random/beta_distribution.hpp>
#include <boost/random/discrete_distribution.hpp>
#include <boost/random/lognormal_distribution.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/triangle_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>

#include <cmath>
#include <iterator>
#include <string>
#include <variant>
#include <vector>

namespace smbsim {

class Uncertain {
 public:
  struct Discrete {
    std::vector<double> values;
    boost::random::discrete_distribution<int, double> pick;
    std::vector<double> cumulative;  ///< running sums of the normalised weights (quantile)
  };

  Uncertain(double fixed = 0.0) : dist_(fixed) {}  // NOLINT: a number converts

  static Uncertain normal(double mean, double sd) {
    return Uncertain(boost::random::normal_distribution<double>(mean, sd));
  }
  /// Lognormal given by its median and the sd of log(x).
  static Uncertain lognormal(double median, double sigma) {
    return Uncertain(boost::random::lognormal_distribution<double>(std::log(median), sigma));
  }
  static Uncertain uniform(double low, double high) {
    return Uncertain(boost::random::uniform_real_distribution<double>(low, high));
  }
  static Uncertain triangular(double low, double mode, double high) {
    return Uncertain(boost::random::triangle_distribution<double>(low, mode, high));
  }
  static Uncertain beta(double a, double b) {
    return Uncertain(boost::random::beta_distribution<double>(a, b));
  }
  static Uncertain discrete(std::vector<double> values, const std::vector<double>& weights) {
    Discrete d{std::move(values), {weights.begin(), weights.end()}, {}};
    double sum = 0.0;
    for (const double p : d.pick.probabilities()) d.cumulative.push_back(sum += p);
    return Uncertain(std::move(d));
  }

  bool is_fixed() const { return std::holds_alternative<double>(dist_); }
  /// The fixed value, or a representative one (mean, median, mode) of a distribution.
  double nominal() const;
  /// The smallest and largest values a sample can take (infinite for unbounded ones).
  double lowest() const;
  double highest() const;
  /// The inverse CDF: the value below which a share u in (0, 1) of samples fall (for a
  /// discrete distribution, the smallest value whose cumulative weight reaches u).
  /// Boost.Math's quantile functions; allocates nothing.
  double quantile(double u) const;
  /// As written in a scenario, e.g. "triangular(low=0.1, mode=0.2, high=0.4)" or "0.5".
  std::string describe() const;

  /// Which distribution (the index of Variant's alternatives, 0 = fixed); bench/ counts
  /// and times samples by kind.
  std::size_t kind() const { return dist_.index(); }
  static constexpr const char* kKindNames[] = {"fixed", "normal", "lognormal", "uniform", "triangular", "beta", "discrete"};

  double sample(RandomStream& rng) const {
    SMBSIM_COUNT_WHOLE(samples[dist_.index()], 1);
    return std::visit(
        [&rng](const auto& d) -> double {
          using D = std::decay_t<decltype(d)>;
          if constexpr (std::is_same_v<D, double>) {
            return d;
          } else if constexpr (std::is_same_v<D, Discrete>) {
            return d.values[static_cast<std::size_t>(d.pick(rng))];
          } else {
            D copy = d;  // some Boost distributions keep state in operator()
            return copy(rng);
          }
        },
        dist_);
  }

 private:
  using Variant = std::variant<double, boost::random::normal_distribution<double>,
                               boost::random::lognormal_distribution<double>,
                               boost::random::uniform_real_distribution<double>,
                               boost::random::triangle_distribution<double>,
                               boost::random::beta_distribution<double>, Discrete>;
  template <class D>
  explicit Uncertain(D d) : dist_(std::move(d)) {}
  Variant dist_;
  static_assert(std::size(kKindNames) == std::variant_size_v<Variant>);
#ifdef SMBSIM_COUNT_DRAWS
  static_assert(std::size(kKindNames) <= std::size(DrawCounts{}.samples));
#endif
};

}  // namespace smbsim
