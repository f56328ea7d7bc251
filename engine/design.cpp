#include "engine/design.hpp"

#include "engine/random_stream.hpp"

#include <Eigen/Cholesky>
#include <boost/math/distributions/normal.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace smbsim {

namespace {
/// SplitMix64's finaliser (Steele, Lea & Flood 2014): a good 64-bit mix.
constexpr std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
/// A 64-bit integer as a uniform in (0, 1), 53 bits, never 0 or 1.
double open_unit(std::uint64_t x) { return (static_cast<double>(x >> 11) + 0.5) * 0x1p-53; }
constexpr double kTiny = 0x1p-53;
}  // namespace

std::optional<Sampling> sampling_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kSamplingNames.size(); ++i)
    if (kSamplingNames[i] == name) return static_cast<Sampling>(i);
  return std::nullopt;
}

double normal_score_correlation(double rank) { return 2.0 * std::sin(std::numbers::pi * rank / 6.0); }

Eigen::MatrixXd normal_score_matrix(const std::vector<std::string>& names, const std::vector<Correlation>& correlations) {
  const auto d = static_cast<Eigen::Index>(names.size());
  Eigen::MatrixXd m = Eigen::MatrixXd::Identity(d, d);
  auto index = [&](const std::string& n) {
    return static_cast<Eigen::Index>(std::find(names.begin(), names.end(), n) - names.begin());
  };
  for (const auto& c : correlations) {
    const Eigen::Index i = index(c.a), j = index(c.b);
    if (i >= d || j >= d || i == j) continue;
    m(i, j) = m(j, i) = normal_score_correlation(c.rank);
  }
  return m;
}

bool positive_definite(const Eigen::MatrixXd& m) {
  if (m.rows() == 0) return true;
  if (!m.isApprox(m.transpose())) return false;
  const Eigen::LLT<Eigen::MatrixXd> llt(m);
  // Eigen's LLT succeeds on matrices that are only just semi-definite; ask for a pivot
  // clearly above zero so that the copula's factor is well conditioned.
  return llt.info() == Eigen::Success && llt.matrixL().toDenseMatrix().diagonal().minCoeff() > 1e-6;
}

std::uint64_t permute(std::uint64_t index, std::uint64_t n, std::uint64_t key) {
  if (n <= 1) return 0;
  int half = 1;
  while (half < 32 && (std::uint64_t{1} << (2 * half)) < n) ++half;
  const std::uint64_t mask = (std::uint64_t{1} << half) - 1;
  std::uint64_t x = index;
  do {  // cycle-walking: a bijection of [0, 4^half) restricted to [0, n)
    std::uint64_t left = x >> half, right = x & mask;
    for (std::uint64_t round = 0; round < 6; ++round) {
      const std::uint64_t f = mix(right ^ mix(key + round)) & mask;
      const std::uint64_t next = left ^ f;
      left = right;
      right = next;
    }
    x = (left << half) | right;
  } while (x >= n);
  return x;
}

Design::Design(const DesignSpec& spec, const std::vector<std::string>& names, std::vector<std::uint64_t> substreams,
               std::uint32_t purpose)
    : sampling_(spec.sampling),
      runs_(static_cast<std::uint64_t>(std::max<std::int64_t>(spec.runs, 1))),
      purpose_(purpose),
      substreams_(std::move(substreams)),
      given_(spec.given) {
  const auto d = static_cast<Eigen::Index>(substreams_.size());
  const Eigen::MatrixXd corr = normal_score_matrix(names, spec.correlations);
  const bool correlated = !corr.isIdentity();
  plain_ = sampling_ == Sampling::random && !correlated && !given_;
  if (correlated) cholesky_ = Eigen::LLT<Eigen::MatrixXd>(corr).matrixL().toDenseMatrix();
  scores_.resize(d);
  if (sampling_ == Sampling::sobol && d > 0) sobol_.emplace(static_cast<std::size_t>(d));  // Boost's needs d >= 1
}

void Design::point(std::uint64_t seed, std::uint64_t run, std::span<double> u) {
  const std::size_t d = substreams_.size();
  // No inputs, no point: a design of no dimensions has no Sobol' engine to seed (a
  // variant that draws nothing beside one that does shares the study's design spec).
  if (d == 0) return;
  if (given_) {
    const std::size_t rows = given_->size() / d;
    const double* row = given_->data() + (run % rows) * d;
    for (std::size_t j = 0; j < d; ++j) u[j] = std::clamp(row[j], kTiny, 1.0 - kTiny);
  } else {
    switch (sampling_) {
    case Sampling::random:
      for (std::size_t j = 0; j < d; ++j) u[j] = RandomStream(seed, run, purpose_, 0, substreams_[j]).uniform();
      break;
    case Sampling::lhs:
      // Input j's stratum is a keyed permutation of the runs (a fresh one every runs_
      // runs), jittered uniformly within the stratum by the input's own stream.
      for (std::size_t j = 0; j < d; ++j) {
        const std::uint64_t key = mix(seed ^ mix(substreams_[j] ^ mix(run / runs_)));
        const auto stratum = static_cast<double>(permute(run % runs_, runs_, key));
        const double jitter = RandomStream(seed, run, purpose_, 0, substreams_[j]).uniform();
        u[j] = std::clamp((stratum + jitter) / static_cast<double>(runs_), kTiny, 1.0 - kTiny);
      }
      break;
    case Sampling::sobol:
      // A point of Sobol's sequence (Boost's, Joe & Kuo's direction numbers),
      // scrambled by a random digital shift per dimension from the seed (Owen 2003):
      // the shifted points keep their stratification and are unbiased.
      // Run r is the sequence's point r in Gray-code order: run 0 the origin, run r >= 1
      // what Boost's engine, which starts after the origin, gives after seed(r - 1). So
      // runs 0 .. 2^m - 1 are a (t, m, s)-net, as Sobol' meant.
      if (run > 0) sobol_->seed(run - 1);
      for (std::size_t j = 0; j < d; ++j) u[j] = open_unit((run > 0 ? (*sobol_)() : 0) ^ mix(seed ^ mix(substreams_[j])));
      break;
  }
  }
  if (cholesky_.size() == 0) return;
  // Gaussian copula: the normal scores, correlated by the Cholesky factor, back to
  // uniforms. Rank correlations follow; each margin stays uniform.
  const boost::math::normal_distribution<double> normal;
  for (std::size_t j = 0; j < d; ++j) scores_[static_cast<Eigen::Index>(j)] = boost::math::quantile(normal, u[j]);
  for (std::size_t j = d; j-- > 0;) {
    double z = 0.0;
    for (std::size_t k = 0; k <= j; ++k)
      z += cholesky_(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(k)) * scores_[static_cast<Eigen::Index>(k)];
    u[j] = std::clamp(boost::math::cdf(normal, z), kTiny, 1.0 - kTiny);
  }
}

}  // namespace smbsim
