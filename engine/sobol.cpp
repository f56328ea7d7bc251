#include "engine/sobol.hpp"

#include "engine/random_stream.hpp"

#include <boost/random/sobol.hpp>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>

namespace smbsim::sobol {

namespace {
/// Streams of the design and the bootstrap: a run index no simulation reaches, and a
/// purpose of their own, so they never coincide with a run's draws.
constexpr std::uint64_t kDesignRun = ~std::uint64_t{0};
constexpr std::uint32_t kDesignPurpose = RandomStream::kMaxPurpose;
constexpr std::uint32_t kShiftMonth = 1, kRandomMonth = 2, kBootstrapMonth = 3, kGroupMonth = 4;

double to_unit(std::uint64_t word) { return (static_cast<double>(word >> 11) + 0.5) * 0x1p-53; }

/// Linear interpolation between order statistics (type 7 quantile) of sorted values.
double sorted_quantile(const std::vector<double>& sorted, double p) {
  const double h = p * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

/// The statistics of one (re)sample, in the order of Stat.
enum Stat : int { kMean, kVariance, kNoise, kRandomness, kFirst0 };

/// A (re)sample's values at its rows' points, row after row (stride d + 2): the point
/// value, the scaled half difference and the variance between runs (the last two NaN
/// for a deterministic model).
struct Sample {
  std::vector<double> y, h, w;
  bool replicated = false;
  /// Each row its own runs: per row (stride 1 + 2d) the replicate noise to remove, from
  /// the row's own blocks: the noise variance of A plus that of B, then per parameter
  /// Cov(noise B, noise AB_i - noise A), then Var(noise A - noise AB_i). Empty otherwise.
  std::vector<double> c;
};

/// The noise terms of every row of a design with its own runs per row (Sample::c). With
/// G blocks of n_g runs (N in all) and block means m_g of a point whose mean is m,
/// sum_g n_g (m_g - m)(m'_g - m') / ((G - 1) N) estimates the covariance of the noise in
/// two points' means without bias (one-way ANOVA: the blocks are independent runs).
void row_noise(const PointValues& v, int d, std::vector<double>& c) {
  if (v.groups < 2) throw std::logic_error("sobol: a design with its own runs per row needs at least 2 blocks of runs");
  const auto g = static_cast<std::size_t>(v.groups), stride = static_cast<std::size_t>(d + 2);
  const std::size_t n = v.sum.size() / g / stride, cs = static_cast<std::size_t>(1 + 2 * d);
  double runs = 0;
  for (double r : v.group_runs) runs += r;
  const double scale = 1.0 / (static_cast<double>(g - 1) * runs);
  c.assign(n * cs, 0.0);
  std::vector<double> dev(stride * g);
  for (std::size_t t = 0; t < n; ++t) {
    for (std::size_t m = 0; m < stride; ++m) {
      const double* sum = &v.sum[(t * stride + m) * g];
      double total = 0;
      for (std::size_t q = 0; q < g; ++q) total += sum[q];
      for (std::size_t q = 0; q < g; ++q) dev[m * g + q] = sum[q] / v.group_runs[q] - total / runs;
    }
    auto form = [&](auto&& term) {
      double x = 0;
      for (std::size_t q = 0; q < g; ++q) x += v.group_runs[q] * term(q);
      return x * scale;
    };
    const double* a = &dev[0];
    const double* b = &dev[g];
    double* out = &c[t * cs];
    out[0] = form([&](std::size_t q) { return a[q] * a[q] + b[q] * b[q]; });
    for (std::size_t i = 0; i < static_cast<std::size_t>(d); ++i) {
      const double* ab = &dev[(2 + i) * g];
      out[1 + i] = form([&](std::size_t q) { return b[q] * (ab[q] - a[q]); });
      out[1 + static_cast<std::size_t>(d) + i] = form([&](std::size_t q) { return (a[q] - ab[q]) * (a[q] - ab[q]); });
    }
  }
}

/// Fills `s` from rows `rows` (identity: 0, 1, ...) and, for replicated values, the
/// blocks `draws` (their first half against their second for the noise); `noise` is
/// row_noise() of a design with its own runs per row (whose draws are every block).
void materialize(const PointValues& v, int d, std::span<const std::uint32_t> rows, bool identity,
                 std::span<const std::uint32_t> draws, std::span<const double> noise, Sample& s) {
  const std::size_t n = rows.size(), stride = static_cast<std::size_t>(d + 2);
  s.y.resize(n * stride);
  s.replicated = v.groups > 0;
  s.c.clear();
  if (!s.replicated) {
    for (std::size_t t = 0; t < n; ++t) {
      const std::size_t k = (identity ? t : rows[t]) * stride;
      std::copy_n(&v.mean[k], stride, &s.y[t * stride]);
    }
    return;
  }
  s.h.resize(n * stride);
  s.w.resize(n * stride);
  const auto g = static_cast<std::size_t>(v.groups);
  const std::size_t half = draws.size() / 2;
  double n1 = 0, n2 = 0;
  for (std::size_t q = 0; q < draws.size(); ++q) (q < half ? n1 : n2) += v.group_runs[draws[q]];
  const double runs = n1 + n2;
  // Halves of n1 and n2 runs: the difference of their means, scaled so that its
  // variance over 4 is the noise variance of the mean of all runs.
  const double scale = 2.0 / std::sqrt(runs * (1.0 / n1 + 1.0 / n2));
  if (v.runs_per_row) {
    const auto cs = static_cast<std::size_t>(1 + 2 * d);
    s.c.resize(n * cs);
    for (std::size_t t = 0; t < n; ++t) std::copy_n(&noise[(identity ? t : rows[t]) * cs], cs, &s.c[t * cs]);
  }
  for (std::size_t t = 0; t < n; ++t)
    for (std::size_t m = 0; m < stride; ++m) {
      const std::size_t k = (identity ? t : rows[t]) * stride + m;
      const double* sum = &v.sum[k * g];
      const double* sq = v.binary ? sum : &v.squares[k * g];
      double s1 = 0, s2 = 0, q2 = 0;
      for (std::size_t q = 0; q < draws.size(); ++q) {
        (q < half ? s1 : s2) += sum[draws[q]];
        q2 += sq[draws[q]];
      }
      const double mean = (s1 + s2) / runs;
      s.y[t * stride + m] = mean;
      s.h[t * stride + m] = scale * (s1 / n1 - s2 / n2);
      s.w[t * stride + m] = std::max(0.0, (q2 - runs * mean * mean) / (runs - 1.0));
    }
}

/// Rows `rows` of a design whose rows have their own runs (`full`: every row, in order).
void pick_rows(const Sample& full, int d, std::span<const std::uint32_t> rows, Sample& s) {
  const auto stride = static_cast<std::size_t>(d + 2), cs = static_cast<std::size_t>(1 + 2 * d);
  const std::size_t n = rows.size();
  s.replicated = full.replicated;
  s.h.clear();
  s.y.resize(n * stride);
  s.w.resize(n * stride);
  s.c.resize(n * cs);
  for (std::size_t t = 0; t < n; ++t) {
    std::copy_n(&full.y[rows[t] * stride], stride, &s.y[t * stride]);
    std::copy_n(&full.w[rows[t] * stride], stride, &s.w[t * stride]);
    std::copy_n(&full.c[rows[t] * cs], cs, &s.c[t * cs]);
  }
}

void statistics(const Sample& s, int d, std::vector<double>& out) {
  const auto stride = static_cast<std::size_t>(d + 2);
  const std::size_t n = s.y.size() / stride;
  const double* y = s.y.data();
  const double two_n = 2.0 * static_cast<double>(n);
  out.assign(static_cast<std::size_t>(kFirst0 + 2 * d), std::numeric_limits<double>::quiet_NaN());

  // Mean and variance (divisor 2n) of a per-point series over the A and B points.
  auto moments = [&](const double* x, double& m, double& v) {
    m = 0.0;
    for (std::size_t t = 0; t < n; ++t) m += x[t * stride] + x[t * stride + 1];
    m /= two_n;
    v = 0.0;
    for (std::size_t t = 0; t < n; ++t) {
      const double a = x[t * stride] - m, b = x[t * stride + 1] - m;
      v += a * a + b * b;
    }
    v /= two_n;
  };
  double mean = 0.0, var = 0.0;
  moments(y, mean, var);
  out[kMean] = mean;
  out[kVariance] = var;
  if (!s.c.empty()) {
    // Each row its own runs: every term less the row's own replicate noise.
    const auto cs = static_cast<std::size_t>(1 + 2 * d);
    double noise_var = 0.0, within = 0.0, unused = 0.0;
    for (std::size_t t = 0; t < n; ++t) noise_var += s.c[t * cs];
    noise_var /= two_n;
    if (var > 0) out[kNoise] = noise_var / var;
    moments(s.w.data(), within, unused);
    const double between = var - noise_var;
    if (within + std::max(0.0, between) > 0) out[kRandomness] = within / (within + std::max(0.0, between));
    if (!(between > 0)) return;
    for (int i = 0; i < d; ++i) {
      const auto ii = static_cast<std::size_t>(i);
      double first = 0.0, total = 0.0;
      for (std::size_t t = 0; t < n; ++t) {
        const std::size_t k = t * stride;
        const double a = y[k], b = y[k + 1] - mean, ab = y[k + 2 + ii];
        first += b * (ab - a) - s.c[t * cs + 1 + ii];
        total += (a - ab) * (a - ab) - s.c[t * cs + 1 + static_cast<std::size_t>(d) + ii];
      }
      out[static_cast<std::size_t>(kFirst0 + i)] = first / static_cast<double>(n) / between;
      out[static_cast<std::size_t>(kFirst0 + d + i)] = total / two_n / between;
    }
    return;
  }
  if (s.replicated) {
    double m = 0.0, v = 0.0, within = 0.0, unused = 0.0;
    moments(s.h.data(), m, v);
    const double noise_var = v / 4.0;
    if (var > 0) out[kNoise] = noise_var / var;
    moments(s.w.data(), within, unused);
    const double between = std::max(0.0, var - noise_var);
    if (within + between > 0) out[kRandomness] = within / (within + between);
  }
  if (!(var > 0)) return;
  for (int i = 0; i < d; ++i) {
    double first = 0.0, total = 0.0;
    for (std::size_t t = 0; t < n; ++t) {
      const std::size_t k = t * stride;
      const double a = y[k], b = y[k + 1] - mean, ab = y[k + 2 + static_cast<std::size_t>(i)];
      first += b * (ab - a);
      total += (a - ab) * (a - ab);
    }
    out[static_cast<std::size_t>(kFirst0 + i)] = first / static_cast<double>(n) / var;
    out[static_cast<std::size_t>(kFirst0 + d + i)] = total / two_n / var;
  }
}
}  // namespace

const char* sequence_name(Sequence s) { return s == Sequence::sobol ? "sobol" : "random"; }

double UnitDesign::point(std::int64_t k, int i) const {
  const std::int64_t j = k / (dims + 2);
  const auto m = static_cast<int>(k % (dims + 2));
  if (m == 0) return A(j, i);
  if (m == 1) return B(j, i);
  return m - 2 == i ? B(j, i) : A(j, i);
}

UnitDesign unit_design(int dims, std::int64_t rows, Sequence sequence, std::uint64_t seed) {
  UnitDesign u;
  u.dims = dims;
  u.rows = rows;
  const auto d = static_cast<std::size_t>(dims);
  u.a.resize(static_cast<std::size_t>(rows) * d);
  u.b.resize(static_cast<std::size_t>(rows) * d);
  if (sequence == Sequence::sobol) {
    boost::random::sobol gen(2 * d);
    static_assert(boost::random::sobol::max() == ~std::uint64_t{0});
    std::vector<std::uint64_t> shift(2 * d);
    RandomStream shifts(seed, kDesignRun, kDesignPurpose, kShiftMonth);
    for (auto& s : shift) s = shifts();
    for (std::int64_t j = 0; j < rows; ++j)
      for (std::size_t c = 0; c < 2 * d; ++c) {
        const double x = to_unit(static_cast<std::uint64_t>(gen()) ^ shift[c]);
        (c < d ? u.a : u.b)[static_cast<std::size_t>(j) * d + c % d] = x;
      }
  } else {
    for (std::int64_t j = 0; j < rows; ++j) {
      RandomStream row(seed, kDesignRun, kDesignPurpose, kRandomMonth, static_cast<std::uint64_t>(j));
      for (std::size_t c = 0; c < 2 * d; ++c) (c < d ? u.a : u.b)[static_cast<std::size_t>(j) * d + c % d] = to_unit(row());
    }
  }
  return u;
}

void bootstrap_rows(std::uint64_t seed, int b, std::int64_t rows, std::vector<std::uint32_t>& out) {
  out.resize(static_cast<std::size_t>(rows));
  RandomStream draw(seed, kDesignRun, kDesignPurpose, kBootstrapMonth, static_cast<std::uint64_t>(b));
  for (auto& r : out)  // Lemire's multiply-shift: a row in [0, rows)
    r = static_cast<std::uint32_t>((static_cast<unsigned __int128>(draw()) * static_cast<std::uint64_t>(rows)) >> 64);
}

void bootstrap_groups(std::uint64_t seed, int b, int groups, std::vector<std::uint32_t>& out) {
  out.resize(static_cast<std::size_t>(groups));
  RandomStream draw(seed, kDesignRun, kDesignPurpose, kGroupMonth, static_cast<std::uint64_t>(b));
  for (auto& g : out)
    g = static_cast<std::uint32_t>((static_cast<unsigned __int128>(draw()) * static_cast<std::uint64_t>(groups)) >> 64);
}

std::vector<OutputIndices> estimate(std::span<const PointValues> outputs, int dims, std::int64_t rows,
                                    int replicates, std::uint64_t seed, double level) {
  const std::size_t stats = static_cast<std::size_t>(kFirst0 + 2 * dims);
  const std::size_t count = outputs.size();
  const auto reps = static_cast<std::size_t>(std::max(replicates, 0));
  int groups = 0;
  for (const auto& o : outputs) groups = std::max(groups, o.groups);
  const std::vector<std::uint32_t> all(static_cast<std::size_t>(rows));
  std::vector<std::uint32_t> in_order(static_cast<std::size_t>(groups));
  for (std::size_t g = 0; g < in_order.size(); ++g) in_order[g] = static_cast<std::uint32_t>(g);
  auto every_block = [&](std::size_t o) {
    return std::span<const std::uint32_t>(in_order).first(static_cast<std::size_t>(outputs[o].groups));
  };
  std::vector<std::vector<double>> point(count);
  std::vector<Sample> whole(count);  // each row its own runs: the design's values, kept for the resamples
  {
    Sample sample;
    std::vector<double> noise;
    for (std::size_t o = 0; o < count; ++o) {
      if (outputs[o].runs_per_row) row_noise(outputs[o], dims, noise);
      Sample& x = outputs[o].runs_per_row ? whole[o] : sample;
      materialize(outputs[o], dims, all, true, every_block(o), noise, x);
      statistics(x, dims, point[o]);
    }
  }
  // boot[(o * stats + s) * reps + b]: statistic s of output o on resample b.
  std::vector<double> boot(count * stats * reps);
  struct Scratch {
    std::vector<std::uint32_t> rows, draws;
    Sample sample;
    std::vector<double> one;
  };
  tbb::enumerable_thread_specific<Scratch> scratch;
  tbb::parallel_for(tbb::blocked_range<int>(0, replicates, 1), [&](const auto& range) {
    Scratch& x = scratch.local();
    for (int b = range.begin(); b < range.end(); ++b) {
      bootstrap_rows(seed, b, rows, x.rows);
      bootstrap_groups(seed, b, groups, x.draws);
      for (std::size_t o = 0; o < count; ++o) {
        // A row with its own runs is resampled whole, runs and all: nothing to recompute.
        if (outputs[o].runs_per_row)
          pick_rows(whole[o], dims, x.rows, x.sample);
        else
          materialize(outputs[o], dims, x.rows, false, x.draws, {}, x.sample);
        statistics(x.sample, dims, x.one);
        for (std::size_t s = 0; s < stats; ++s) boot[(o * stats + s) * reps + static_cast<std::size_t>(b)] = x.one[s];
      }
    }
  });
  std::vector<OutputIndices> result(count);
  std::vector<double> sample;
  for (std::size_t o = 0; o < count; ++o) {
    auto interval = [&](std::size_t s) {
      Interval iv{point[o][s], NAN, NAN};
      sample.clear();
      for (std::size_t b = 0; b < reps; ++b)
        if (const double x = boot[(o * stats + s) * reps + b]; !std::isnan(x)) sample.push_back(x);
      // An interval only where (almost) every resample defines the statistic.
      if (!std::isnan(iv.estimate) && !sample.empty() && sample.size() * 100 >= reps * 99) {
        std::sort(sample.begin(), sample.end());
        iv.lo = sorted_quantile(sample, (1.0 - level) / 2.0);
        iv.hi = sorted_quantile(sample, (1.0 + level) / 2.0);
      }
      return containing_estimate(iv);  // a percentile interval of a skewed statistic may miss it
    };
    OutputIndices& r = result[o];
    r.mean = interval(kMean);
    r.variance = interval(kVariance);
    r.noise = interval(kNoise);
    r.randomness = interval(kRandomness);
    for (int i = 0; i < dims; ++i) {
      r.first.push_back(interval(static_cast<std::size_t>(kFirst0 + i)));
      r.total.push_back(interval(static_cast<std::size_t>(kFirst0 + dims + i)));
    }
  }
  return result;
}

double ishigami(double x1, double x2, double x3, double a, double b) {
  const double s2 = std::sin(x2);
  return std::sin(x1) + a * s2 * s2 + b * std::pow(x3, 4) * std::sin(x1);
}

ClosedForm ishigami_indices(double a, double b) {
  const double pi4 = std::pow(std::numbers::pi, 4), pi8 = pi4 * pi4;
  const double v1 = 0.5 + b * pi4 / 5.0 + b * b * pi8 / 50.0;
  const double v2 = a * a / 8.0;
  const double v13 = b * b * pi8 / 18.0 - b * b * pi8 / 50.0;
  const double v = v1 + v2 + v13;
  return {v, {v1 / v, v2 / v, 0.0}, {(v1 + v13) / v, v2 / v, v13 / v}};
}

}  // namespace smbsim::sobol
