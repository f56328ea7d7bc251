#pragma once
// A test model with known Sobol' indices: a run's outcome is the Ishigami function of
// its parameters x1..x3 (uniform on [-pi, pi] in a design) plus noise of the run's own,
// whose size depends on x1: y = f(x1, x2, x3) + noise (1 + |x1| / pi) Z, Z ~ N(0, 1)
// from the run's stream. x4 has no effect at all. So E[y | x] is the Ishigami function
// (its indices in closed form: sobol::ishigami_indices), and the share of the variance
// of single runs that is their own randomness is
//   noise^2 E[(1 + U)^2] / (noise^2 E[(1 + U)^2] + V) = (7/3) noise^2 / ((7/3) noise^2 + V)
// with U uniform on [0, 1] and V the Ishigami variance. One month, never fails.
#include "engine/model_schema.hpp"
#include "engine/random_stream.hpp"
#include "engine/sobol.hpp"

#include <cmath>
#include <numbers>
#include <span>

namespace smbsim::testing {

class Ishigami {
 public:
  struct Params {
    double x[4] = {0, 0, 0, 0};
    double noise = 0.0;
    /// Keys the noise's stream: 0 at every point gives common random numbers; a
    /// different salt per point gives each point noise of its own (tests show why not).
    std::uint64_t salt = 0;
  };

  static ModelSchema schema(const Params&) {
    return {{{"y", "1", "The outcome.", Binning::linear(-20.0, 30.0, 100)}},
            {{"y", "1", "Ishigami function plus the run's noise.", ColumnSpec::Type::f64},
             {"failure_month", "month", "Never fails: 0.", ColumnSpec::Type::i32, "failure_month"}},
            {"none"},
            {},
            {}};
  }

  /// The share of single runs' variance that is their own noise, in closed form.
  static double randomness_share(double noise, double a = 7.0, double b = 0.1) {
    const double w = 7.0 / 3.0 * noise * noise;
    return w / (w + sobol::ishigami_indices(a, b).variance);
  }

  explicit Ishigami(const Params& p) : p_(p) {}

  void start(const RunRandom& random) {
    auto z = random.stream(1, 0, p_.salt);
    y_ = sobol::ishigami(p_.x[0], p_.x[1], p_.x[2]) +
         p_.noise * (1.0 + std::abs(p_.x[0]) / std::numbers::pi) * z.normal();
  }
  void step(int, const RunRandom&) {}
  bool failed() const { return false; }
  int cause() const { return 0; }
  void observe(std::span<double> out) const { out[0] = y_; }
  void outcome(std::span<double> out) const {
    out[0] = y_;
    out[1] = 0;
  }

 private:
  Params p_;
  double y_ = 0.0;
};

}  // namespace smbsim::testing
