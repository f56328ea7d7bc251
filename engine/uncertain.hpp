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

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numeric>
#include <string>
#include <variant>
#include <vector>

namespace smbsim {

class Uncertain {
 public:
  struct Discrete {
    std::vector<double> values;
    boost::random::discrete_distribution<int, double> pick;
    std::vector<std::size_t> by_value;  ///< indices of `values` in increasing order of value
    std::vector<double> cumulative;     ///< running sums of the weights in that order (quantile)
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
    Discrete d{std::move(values), {weights.begin(), weights.end()}, {}, {}};
    d.by_value.resize(d.values.size());
    std::iota(d.by_value.begin(), d.by_value.end(), std::size_t{0});
    std::stable_sort(d.by_value.begin(), d.by_value.end(),
                     [&](std::size_t a, std::size_t b) { return d.values[a] < d.values[b]; });
    const auto p = d.pick.probabilities();
    double sum = 0.0;
    for (const std::size_t k : d.by_value) d.cumulative.push_back(sum += p[k]);
    return Uncertain(std::move(d));
  }

  bool is_fixed() const { return std::holds_alternative<double>(dist_); }
  /// The fixed value, or a representative one (mean, median, mode) of a distribution.
  double nominal() const;
  /// The smallest and largest values a sample can take (infinite for unbounded ones).
  double lowest() const;
  double highest() const;
  /// The inverse CDF (Boost.Math): the value below which a share u of samples falls, u
  /// clamped to [2^-53, 1 - 2^-53] so unbounded tails stay finite. A discrete
  /// distribution gives the smallest value whose cumulative weight, in increasing order of
  /// value, reaches u, so the function is monotone (`sensitivity`'s tornado and designs
  /// rely on it). Allocates nothing and never throws: where Boost.Math cannot evaluate
  /// it, it is NaN (the scenario reader refuses such parameters; the runner stops at a
  /// non-finite input).
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
  double boost_quantile(double u) const;  ///< quantile(), u already clamped; may throw
  Variant dist_;
  static_assert(std::size(kKindNames) == std::variant_size_v<Variant>);
#ifdef SMBSIM_COUNT_DRAWS
  static_assert(std::size(kKindNames) <= std::size(DrawCounts{}.samples));
#endif
};

}  // namespace smbsim
