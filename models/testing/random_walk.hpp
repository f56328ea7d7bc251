#pragma once
// A test model with a closed-form answer: Brownian motion with drift mu and volatility
// sigma per month, started at x0 > 0 and absorbed at 0. Each month draws the end point
// exactly, then decides whether the path crossed zero inside the month with the
// Brownian-bridge crossing probability exp(-2 x_start x_end / (sigma^2)) (e.g. Glasserman,
// Monte Carlo Methods in Financial Engineering, 6.4), so absorption is continuous and
// P(absorbed by T) has the closed form of first_passage_probability().
#include "engine/model_schema.hpp"
#include "engine/random_stream.hpp"

#include <cmath>
#include <span>

namespace smbsim::testing {

class RandomWalk {
 public:
  struct Params {
    double x0 = 1.0;
    double mu = 0.0;
    double sigma = 0.2;
  };
  enum Purpose : std::uint32_t { kMove = 1, kBridge = 2 };

  static ModelSchema schema(const Params&) {
    return {{{"position", "1", "Position of the walk.", Binning::linear(0.0, 10.0, 1000)}},
            {{"survived", "1", "1 if never absorbed.", ColumnSpec::Type::u8, "survival"},
             {"failure_month", "month", "Month of absorption, 0 if never.", ColumnSpec::Type::i32, "failure_month"},
             {"final_position", "1", "Position at the end (0 once absorbed).", ColumnSpec::Type::f64}},
            {"absorbed"},
            {},
            {}};
  }

  explicit RandomWalk(const Params& p) : p_(p) {}

  void start(const RunRandom&) {
    x_ = p_.x0;
    failed_month_ = 0;
  }

  void step(int month, const RunRandom& random) {
    auto move = random.stream(kMove, static_cast<std::uint32_t>(month));
    const double next = x_ + p_.mu + p_.sigma * move.normal();
    auto bridge = random.stream(kBridge, static_cast<std::uint32_t>(month));
    const bool crossed =
        next <= 0.0 || bridge.uniform() < std::exp(-2.0 * x_ * next / (p_.sigma * p_.sigma));
    x_ = crossed ? 0.0 : next;
    if (crossed) failed_month_ = month;
  }

  bool failed() const { return failed_month_ > 0; }
  int cause() const { return 0; }
  void observe(std::span<double> out) const { out[0] = x_; }
  void outcome(std::span<double> out) const {
    out[0] = failed() ? 0.0 : 1.0;
    out[1] = failed_month_;
    out[2] = x_;
  }

  /// P(absorbed by month T) for Brownian motion with drift (Karlin & Taylor, A First
  /// Course in Stochastic Processes, 7.5; inverse Gaussian first-passage distribution).
  static double first_passage_probability(const Params& p, double months) {
    const double s = p.sigma * std::sqrt(months);
    auto phi = [](double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); };
    return phi((-p.x0 - p.mu * months) / s) +
           std::exp(-2.0 * p.mu * p.x0 / (p.sigma * p.sigma)) * phi((-p.x0 + p.mu * months) / s);
  }

 private:
  Params p_;
  double x_ = 0.0;
  int failed_month_ = 0;
};

}  // namespace smbsim::testing
