#include "engine/prim.hpp"

#include <boost/math/special_functions/beta.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace smbsim::prim {

double binomial_upper_tail(std::int64_t k, std::int64_t n, double p) {
  if (k <= 0) return 1.0;
  if (k > n) return 0.0;
  if (p <= 0) return 0.0;
  if (p >= 1) return 1.0;
  // P(X >= k) = I_p(k, n - k + 1).
  return boost::math::ibeta(static_cast<double>(k), static_cast<double>(n - k + 1), p);
}

double peel_quantile(std::vector<double> values, double q) {
  if (values.empty()) return NAN;
  const std::size_t n = values.size();
  const double i = static_cast<double>(n - 1) * q;
  if (q < 0.5) {
    // The value at floor(i), then the next larger distinct value: their midpoint.
    const auto at = static_cast<std::size_t>(std::floor(i));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(at), values.end());
    const double v = values[at];
    double next = v;
    bool found = false;
    for (std::size_t j = at + 1; j < n; ++j)
      if (values[j] > v && (!found || values[j] < next)) next = values[j], found = true;
    return (v + next) / 2;
  }
  const auto at = static_cast<std::size_t>(std::ceil(i));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(at), values.end());
  const double v = values[at];
  double prev = v;
  bool found = false;
  for (std::size_t j = 0; j < at; ++j)
    if (values[j] < v && (!found || values[j] > prev)) prev = values[j], found = true;
  return (prev + v) / 2;
}

namespace {

using Index = std::vector<std::int64_t>;

struct Data {
  const Eigen::MatrixXd& x;
  const std::vector<unsigned char>& y;
  std::int64_t n;           // all points
  std::int64_t total_cases; // all cases of interest
  std::vector<double> init_lo, init_hi;
};

std::int64_t cases_in(const Data& d, const Index& idx) {
  std::int64_t c = 0;
  for (auto i : idx) c += d.y[static_cast<std::size_t>(i)];
  return c;
}

bool inside(const Data& d, std::int64_t i, const std::vector<double>& lo, const std::vector<double>& hi) {
  for (Eigen::Index j = 0; j < d.x.cols(); ++j) {
    const double v = d.x(i, j);
    if (v < lo[static_cast<std::size_t>(j)] || v > hi[static_cast<std::size_t>(j)]) return false;
  }
  return true;
}

Box make_box(const Data& d, const std::vector<double>& lo, const std::vector<double>& hi, std::int64_t points,
             std::int64_t cases) {
  Box b{lo, hi, points, cases, 0, 0, 0, 0};
  b.coverage = d.total_cases > 0 ? double(cases) / double(d.total_cases) : 0;
  b.density = points > 0 ? double(cases) / double(points) : 0;
  b.mass = double(points) / double(d.n);
  for (std::size_t j = 0; j < lo.size(); ++j)
    b.restricted += (lo[j] != d.init_lo[j] || hi[j] != d.init_hi[j]) ? 1 : 0;
  return b;
}

/// EMA's lenient1 objective: the change in mean per point removed or added.
double objective(double mean_old, std::int64_t n_old, double mean_new, std::int64_t n_new) {
  if (mean_old == mean_new || n_old == n_new) return 0;
  return (mean_new - mean_old) / double(std::abs(n_old - n_new));
}

struct Candidate {
  double score = -std::numeric_limits<double>::infinity();
  int unrestricted = -1;
  std::vector<double> lo, hi;
  Index idx;
  std::int64_t cases = 0;
  bool better_than(double s, int u) const { return s > score || (s == score && u > unrestricted); }
};

int unrestricted_count(const Data& d, const std::vector<double>& lo, const std::vector<double>& hi) {
  int u = 0;
  for (std::size_t j = 0; j < lo.size(); ++j) u += (lo[j] == d.init_lo[j] && hi[j] == d.init_hi[j]) ? 1 : 0;
  return u;
}

/// Peels until no peel gains or the box would fall below mass_min; every box visited
/// goes to the trajectory. The candidates are visited in EMA Workbench's order (its
/// _peel and _real_peel): input by input, the upper side before the lower; the best
/// gain wins, then fewer restricted inputs, then the first visited (EMA sorts its
/// candidates by these two keys, stably, and takes the first).
void peel(const Data& d, const Options& o, std::vector<double>& lo, std::vector<double>& hi, Index& idx,
          std::int64_t& cases, std::vector<Box>& trajectory) {
  const auto dims = d.x.cols();
  std::vector<double> column;
  for (;;) {
    const double mean_old = idx.empty() ? 0 : double(cases) / double(idx.size());
    Candidate best;
    for (Eigen::Index j = 0; j < dims; ++j) {
      column.resize(idx.size());
      for (std::size_t k = 0; k < idx.size(); ++k) column[k] = d.x(idx[k], j);
      for (const int side : {1, 0}) {  // 1: the upper side, 0: the lower
        const double cut = peel_quantile(column, side == 0 ? o.peel_alpha : 1 - o.peel_alpha);
        Index kept;
        kept.reserve(idx.size());
        std::int64_t c = 0;
        for (std::size_t k = 0; k < idx.size(); ++k)
          if (side == 0 ? column[k] >= cut : column[k] <= cut) kept.push_back(idx[k]), c += d.y[std::size_t(idx[k])];
        const double mean_new = kept.empty() ? 0 : double(c) / double(kept.size());
        const double s = objective(mean_old, std::int64_t(idx.size()), mean_new, std::int64_t(kept.size()));
        std::vector<double> nlo = lo, nhi = hi;
        (side == 0 ? nlo : nhi)[std::size_t(j)] = cut;
        const int u = unrestricted_count(d, nlo, nhi);
        if (best.better_than(s, u)) best = {s, u, std::move(nlo), std::move(nhi), std::move(kept), c};
      }
    }
    const double mass_new = double(best.idx.size()) / double(d.n);
    if (!(best.score > 0 && mass_new >= o.mass_min && best.idx.size() < idx.size())) return;
    lo = std::move(best.lo), hi = std::move(best.hi), idx = std::move(best.idx), cases = best.cases;
    trajectory.push_back(make_box(d, lo, hi, std::int64_t(idx.size()), cases));
  }
}

/// Pastes (grows restricted limits back over the remaining points) while that gains.
/// EMA's _real_paste visits the lower side first, then the upper; ties as in peel().
void paste(const Data& d, const Options& o, const Index& remaining, std::vector<double>& lo, std::vector<double>& hi,
           Index& idx, std::int64_t& cases, std::vector<Box>& trajectory) {
  const auto dims = d.x.cols();
  for (;;) {
    const double mean_old = idx.empty() ? 0 : double(cases) / double(idx.size());
    Candidate best;
    for (Eigen::Index j = 0; j < dims; ++j) {
      const auto jj = std::size_t(j);
      for (int side = 0; side < 2; ++side) {
        if (side == 0 ? lo[jj] == d.init_lo[jj] : hi[jj] == d.init_hi[jj]) continue;
        // The points inside the box in every other input, beyond this limit.
        std::vector<double> slab_lo = lo, slab_hi = hi;
        if (side == 0) slab_lo[jj] = d.init_lo[jj], slab_hi[jj] = lo[jj];
        else slab_lo[jj] = hi[jj], slab_hi[jj] = d.init_hi[jj];
        std::vector<double> beyond;
        for (auto i : remaining)
          if (inside(d, i, slab_lo, slab_hi)) beyond.push_back(d.x(i, j));
        double limit = side == 0 ? d.init_lo[jj] : d.init_hi[jj];
        if (!beyond.empty()) limit = peel_quantile(beyond, side == 0 ? 1 - o.paste_alpha : o.paste_alpha);
        std::vector<double> nlo = lo, nhi = hi;
        (side == 0 ? nlo : nhi)[jj] = limit;
        Index kept;
        std::int64_t c = 0;
        for (auto i : remaining)
          if (inside(d, i, nlo, nhi)) kept.push_back(i), c += d.y[std::size_t(i)];
        const double mean_new = kept.empty() ? 0 : double(c) / double(kept.size());
        const double s = objective(mean_old, std::int64_t(idx.size()), mean_new, std::int64_t(kept.size()));
        const int u = unrestricted_count(d, nlo, nhi);
        if (best.better_than(s, u)) best = {s, u, std::move(nlo), std::move(nhi), std::move(kept), c};
      }
    }
    if (best.idx.empty() && best.score == -std::numeric_limits<double>::infinity()) return;
    const double mean_new = double(best.cases) / double(std::max<std::size_t>(best.idx.size(), 1));
    const double mass_new = double(best.idx.size()) / double(d.n);
    if (!(best.score > 0 && mass_new >= o.mass_min && best.idx.size() > idx.size() && mean_new > mean_old)) return;
    lo = std::move(best.lo), hi = std::move(best.hi), idx = std::move(best.idx), cases = best.cases;
    trajectory.push_back(make_box(d, lo, hi, std::int64_t(idx.size()), cases));
  }
}

/// Quasi-p-values (EMA's _calculate_quasi_p): for each restricted limit, the share p of
/// cases in the box with that limit released (over the remaining points), and
/// P(Binomial(points in box, p) >= cases in box).
std::vector<Limit> quasi_p(const Data& d, const Index& remaining, const Box& box) {
  std::vector<Limit> out;
  for (std::size_t j = 0; j < box.lo.size(); ++j) {
    Limit l;
    l.input = int(j);
    l.lower_restricted = box.lo[j] != d.init_lo[j];
    l.upper_restricted = box.hi[j] != d.init_hi[j];
    if (!l.lower_restricted && !l.upper_restricted) continue;
    for (int side = 0; side < 2; ++side) {
      if (!(side == 0 ? l.lower_restricted : l.upper_restricted)) continue;
      std::vector<double> lo = box.lo, hi = box.hi;
      (side == 0 ? lo : hi)[j] = side == 0 ? d.init_lo[j] : d.init_hi[j];
      std::int64_t t = 0, h = 0;
      for (auto i : remaining)
        if (inside(d, i, lo, hi)) ++t, h += d.y[std::size_t(i)];
      const double p = t > 0 ? double(h) / double(t) : 0;
      (side == 0 ? l.qp_lower : l.qp_upper) = binomial_upper_tail(box.cases, box.points, p);
    }
    out.push_back(l);
  }
  auto worst = [](const Limit& l) {
    return std::max(std::isnan(l.qp_lower) ? 0.0 : l.qp_lower, std::isnan(l.qp_upper) ? 0.0 : l.qp_upper);
  };
  std::stable_sort(out.begin(), out.end(), [&](const Limit& a, const Limit& b) { return worst(a) < worst(b); });
  return out;
}

/// The box the analyst would pick from the trade-off curve. With a density target, the
/// box of largest coverage that reaches it (the densest if none does); otherwise the box
/// with the largest coverage x (density - overall share): how many of the cases it holds
/// times how much likelier they are inside. Fewer restricted inputs on a tie.
int choose(const std::vector<Box>& trajectory, double overall, double min_density) {
  auto score = [&](const Box& b) {
    if (std::isnan(min_density)) return b.coverage * (b.density - overall);
    return b.density >= min_density ? 1.0 + b.coverage : b.density - 1.0;
  };
  int best = 0;
  for (std::size_t i = 1; i < trajectory.size(); ++i) {
    const double s = score(trajectory[i]), b = score(trajectory[std::size_t(best)]);
    if (s > b || (s == b && trajectory[i].restricted < trajectory[std::size_t(best)].restricted)) best = int(i);
  }
  return best;
}

}  // namespace

Result discover(const Eigen::MatrixXd& x, const std::vector<unsigned char>& y, const Options& o) {
  if (static_cast<std::size_t>(x.rows()) != y.size()) throw std::invalid_argument("prim: x and y differ in length");
  Result r;
  r.points = x.rows();
  for (auto v : y) r.cases += v ? 1 : 0;
  if (r.points == 0 || x.cols() == 0) return r;
  r.lo.resize(std::size_t(x.cols())), r.hi.resize(std::size_t(x.cols()));
  for (Eigen::Index j = 0; j < x.cols(); ++j) r.lo[std::size_t(j)] = x.col(j).minCoeff(), r.hi[std::size_t(j)] = x.col(j).maxCoeff();
  std::vector<unsigned char> y01(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) y01[i] = y[i] ? 1 : 0;
  const Data d{x, y01, r.points, r.cases, r.lo, r.hi};
  const double overall = double(r.cases) / double(r.points);
  Index remaining(static_cast<std::size_t>(r.points));
  for (std::size_t i = 0; i < remaining.size(); ++i) remaining[i] = std::int64_t(i);
  for (int b = 0; b < o.max_boxes && !remaining.empty(); ++b) {
    std::vector<double> lo = r.lo, hi = r.hi;
    Index idx = remaining;
    std::int64_t cases = cases_in(d, idx);
    if (cases == 0) break;
    Found f;
    f.trajectory.push_back(make_box(d, lo, hi, std::int64_t(idx.size()), cases));
    peel(d, o, lo, hi, idx, cases, f.trajectory);
    paste(d, o, remaining, lo, hi, idx, cases, f.trajectory);
    f.chosen = choose(f.trajectory, overall, o.min_density);
    f.box = f.trajectory[std::size_t(f.chosen)];
    f.limits = quasi_p(d, remaining, f.box);
    // Restrictions that do not earn their place (quasi-p at or above the significance
    // level) are released one at a time, least significant first, as an analyst would
    // with EMA's drop_restriction.
    while (o.drop_insignificant && !f.limits.empty()) {
      const Limit& weakest = f.limits.back();
      const double qp = std::max(std::isnan(weakest.qp_lower) ? 0.0 : weakest.qp_lower,
                                 std::isnan(weakest.qp_upper) ? 0.0 : weakest.qp_upper);
      if (qp < o.significance) break;
      std::vector<double> lo2 = f.box.lo, hi2 = f.box.hi;
      const auto j = std::size_t(weakest.input);
      if (std::isnan(weakest.qp_lower) ? false : weakest.qp_lower >= o.significance) lo2[j] = d.init_lo[j];
      if (std::isnan(weakest.qp_upper) ? false : weakest.qp_upper >= o.significance) hi2[j] = d.init_hi[j];
      std::int64_t points = 0, cases2 = 0;
      for (auto i : remaining)
        if (inside(d, i, lo2, hi2)) ++points, cases2 += d.y[std::size_t(i)];
      f.box = make_box(d, lo2, hi2, points, cases2);
      f.limits = quasi_p(d, remaining, f.box);
    }
    f.p_value = binomial_upper_tail(f.box.cases, f.box.points, overall);
    if (f.box.restricted == 0 || f.box.density <= overall || !(f.p_value < o.significance)) break;
    Index rest;
    for (auto i : remaining)
      if (!inside(d, i, f.box.lo, f.box.hi)) rest.push_back(i);
    remaining = std::move(rest);
    r.boxes.push_back(std::move(f));
  }
  return r;
}

}  // namespace smbsim::prim
