#pragma once
// The design of a study: how each run's values of a model's uncertain inputs are chosen
// (docs/model.md §12). `random` draws each input from its own stream, independently;
// `lhs` stratifies every input into as many equal-probability strata as there are
// runs (a Latin hypercube); `sobol` takes the run's point of a scrambled Sobol'
// sequence. Rank correlations between inputs are imposed with a Gaussian copula on
// the points' normal scores. A run's point depends only on (seed, run index, run
// count), never on threads or the order of work. Points are uniforms in (0, 1)^d; the
// model maps each through its input's inverse CDF (Uncertain::quantile).
#include <Eigen/Core>
#include <boost/random/sobol.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace smbsim {

enum class Sampling : int { random, lhs, sobol };
inline constexpr std::array<std::string_view, 3> kSamplingNames{"random", "lhs", "sobol"};
std::optional<Sampling> sampling_from_name(std::string_view name);

/// A requested Spearman rank correlation between two inputs, named as the model names
/// them (their parameter paths).
struct Correlation {
  std::string a;
  std::string b;
  double rank = 0.0;
};

struct DesignSpec {
  Sampling sampling = Sampling::random;
  std::int64_t runs = 0;  ///< the study's run count: LHS has one stratum per run
  std::vector<Correlation> correlations;
  /// Points chosen by a program, not the scenario (e.g. a sensitivity analysis's
  /// sample matrices): row-major, one row of d uniforms in (0, 1) per run, in the
  /// model's input order; run r takes row r mod rows. When set, `sampling` is ignored
  /// (correlations still apply: give independent uniforms).
  std::shared_ptr<const std::vector<double>> given;
};

/// The correlation of the normal scores that gives Spearman rank correlation r under a
/// Gaussian copula: 2 sin(pi r / 6) (Pearson 1907; Kruskal 1958).
double normal_score_correlation(double rank);

/// The normal scores' correlation matrix over `names` (identity where no pair is
/// given), and whether it is positive definite (Eigen's Cholesky succeeds).
Eigen::MatrixXd normal_score_matrix(const std::vector<std::string>& names,
                                    const std::vector<Correlation>& correlations);
bool positive_definite(const Eigen::MatrixXd& m);

/// A keyed bijection of [0, n): a Feistel network on the next even power of two,
/// cycle-walked into range. Pure; O(1) memory, so a run's LHS stratum needs no table.
std::uint64_t permute(std::uint64_t index, std::uint64_t n, std::uint64_t key);

/// The points of one study's uncertain inputs. Built once per model instance (it may
/// allocate then); point() allocates nothing.
class Design {
 public:
  Design() = default;
  /// `names` and `substreams` describe the d inputs in the model's order: each input's
  /// stream (purpose, month 0, substream) gives its jitter (lhs) or its uniform (random).
  Design(const DesignSpec& spec, const std::vector<std::string>& names,
         std::vector<std::uint64_t> substreams, std::uint32_t purpose);

  /// True when the model should sample as it always has: random sampling and no
  /// correlations, each input through its own distribution's sampler (the bits of
  /// results from before designs existed).
  bool plain() const { return plain_; }
  std::size_t dimensions() const { return substreams_.size(); }
  /// The run's point, one uniform in (0, 1) per input (none when there are no inputs).
  void point(std::uint64_t seed, std::uint64_t run, std::span<double> u);

 private:
  Sampling sampling_ = Sampling::random;
  bool plain_ = true;
  std::uint64_t runs_ = 0;
  std::uint32_t purpose_ = 0;
  std::vector<std::uint64_t> substreams_;
  Eigen::MatrixXd cholesky_;  ///< lower factor of the normal scores' correlation (empty: none)
  Eigen::VectorXd scores_;    ///< scratch
  std::optional<boost::random::sobol_engine<std::uint64_t, 64>> sobol_;
  std::shared_ptr<const std::vector<double>> given_;
};

}  // namespace smbsim
