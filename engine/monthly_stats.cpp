#include "engine/monthly_stats.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

namespace smbsim {

template <class Count>
BasicMonthlyStats<Count>::BasicMonthlyStats(int months, const std::vector<QuantitySpec>& quantities, int causes)
    : months_(months),
      quantity_count_(quantities.size()),
      cause_count_(static_cast<std::size_t>(causes)) {
  for (const auto& q : quantities) {
    binnings_.push_back(q.binning);
    bin_offset_.push_back(bins_per_month_);
    bins_per_month_ += static_cast<std::size_t>(q.binning.bins());
  }
  const auto m = static_cast<std::size_t>(months);
  alive_.assign(m, 0);
  failures_.assign(m * cause_count_, 0);
  moments_.assign(m * quantity_count_, Moments{});
  histograms_.assign(m * bins_per_month_, 0);
  lane_bins_.assign(quantity_count_ * kMaxTileLanes, 0);
}

template <class Count>
void BasicMonthlyStats<Count>::record_alive_lanes(int month, const double* rows, std::size_t row_stride, int lanes) {
  assert(lanes <= kMaxTileLanes);
  const std::size_t m = static_cast<std::size_t>(month - 1);
  const std::size_t quantities = quantity_count_;
  std::int32_t* bins = lane_bins_.data();
  Moments* mom = &moments_[m * quantities];
  for (std::size_t q = 0; q < quantities; ++q) {
    binnings_[q].indices(rows + q * row_stride, lanes, static_cast<std::int32_t>(bin_offset_[q]),
                         bins + q * kMaxTileLanes);
    mom[q].add_all(rows + q * row_stride, lanes);
  }
  Count* hist = &histograms_[m * bins_per_month_];
  // Lanes outer, quantities inner: consecutive increments go to different histograms,
  // so they do not wait on each other.
  for (int lane = 0; lane < lanes; ++lane)
    for (std::size_t q = 0; q < quantities; ++q) ++hist[bins[q * kMaxTileLanes + static_cast<std::size_t>(lane)]];
  alive_[m] += lanes;
}

template <class Count>
template <class OtherCount>
void BasicMonthlyStats<Count>::merge(const BasicMonthlyStats<OtherCount>& o) {
  merge_counts(o);
  merge_moments(o.moments_);
}

template <class Count>
template <class OtherCount>
void BasicMonthlyStats<Count>::merge_counts(const BasicMonthlyStats<OtherCount>& o) {
  runs_ += o.runs_;
  for (std::size_t i = 0; i < alive_.size(); ++i) alive_[i] += o.alive_[i];
  for (std::size_t i = 0; i < failures_.size(); ++i) failures_[i] += o.failures_[i];
  for (std::size_t i = 0; i < histograms_.size(); ++i) histograms_[i] += static_cast<Count>(o.histograms_[i]);
}

template <class Count>
void BasicMonthlyStats<Count>::merge_moments(std::span<const Moments> o) {
  assert(o.size() == moments_.size());
  for (std::size_t i = 0; i < moments_.size(); ++i) moments_[i].merge(o[i]);
}

template <class Count>
std::vector<std::int64_t> BasicMonthlyStats<Count>::counts() const {
  std::vector<std::int64_t> out;
  out.reserve(counts_size());
  out.push_back(runs_);
  out.insert(out.end(), alive_.begin(), alive_.end());
  out.insert(out.end(), failures_.begin(), failures_.end());
  out.insert(out.end(), histograms_.begin(), histograms_.end());
  return out;
}

template <class Count>
void BasicMonthlyStats<Count>::add_counts(std::span<const std::int64_t> c) {
  assert(c.size() == counts_size());
  std::size_t k = 0;
  runs_ += c[k++];
  for (auto& a : alive_) a += c[k++];
  for (auto& f : failures_) f += c[k++];
  for (auto& h : histograms_) h += static_cast<Count>(c[k++]);
}

template <class Count>
void BasicMonthlyStats<Count>::clear() {
  runs_ = 0;
  std::fill(alive_.begin(), alive_.end(), 0);
  std::fill(failures_.begin(), failures_.end(), 0);
  std::fill(moments_.begin(), moments_.end(), Moments{});
  std::fill(histograms_.begin(), histograms_.end(), 0);
}

template <class Count>
std::span<const Count> BasicMonthlyStats<Count>::histogram(int month, std::size_t q) const {
  const std::size_t start =
      static_cast<std::size_t>(month - 1) * bins_per_month_ + bin_offset_[q];
  return {histograms_.data() + start, static_cast<std::size_t>(binnings_[q].bins())};
}

template <class Count>
void BasicMonthlyStats<Count>::values_at_ranks(int month, std::size_t q, std::span<const double> ranks,
                                               std::span<double> out) const {
  assert(out.size() == ranks.size());
  std::vector<std::size_t> order(ranks.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ranks[a] < ranks[b]; });
  std::fill(out.begin(), out.end(), NAN);
  const auto hist = histogram(month, q);
  const Binning& b = binnings_[q];
  // Rank r falls in the first non-empty bin whose cumulative count reaches r; the
  // cumulative count only grows, so ascending ranks fall in ascending bins.
  std::size_t next = 0;
  double below = 0.0;
  for (std::size_t i = 0; i < hist.size() && next < order.size(); ++i) {
    const auto c = static_cast<double>(hist[i]);
    for (; c > 0 && next < order.size() && below + c >= ranks[order[next]]; ++next) {
      const double f = std::clamp((ranks[order[next]] - below) / c, 0.0, 1.0);
      const int bin = static_cast<int>(i);
      out[order[next]] = b.lower_edge(bin) + f * (b.upper_edge(bin) - b.lower_edge(bin));
    }
    below += c;
  }
}

template <class Count>
void BasicMonthlyStats<Count>::quantiles(int month, std::size_t q, std::span<const double> levels,
                                         std::span<Interval> out) const {
  assert(out.size() == levels.size());
  const std::int64_t n = alive(month);
  if (n == 0) {
    std::fill(out.begin(), out.end(), Interval{NAN, NAN, NAN});
    return;
  }
  const double nn = static_cast<double>(n);
  std::vector<double> ranks, values(3 * levels.size());
  for (const double p : levels) {
    const Interval r = quantile_rank_interval(p, n);
    ranks.insert(ranks.end(), {p * nn, std::max(r.lo * nn, 0.5), std::min(r.hi * nn, nn)});
  }
  values_at_ranks(month, q, ranks, values);
  // With few runs alive the lower rank is held at 0.5, above p n: the bound may pass the estimate.
  for (std::size_t k = 0; k < levels.size(); ++k)
    out[k] = containing_estimate({values[3 * k], values[3 * k + 1], values[3 * k + 2]});
}

template <class Count>
Interval BasicMonthlyStats<Count>::quantile(int month, std::size_t q, double p) const {
  Interval out;
  quantiles(month, q, std::span<const double>(&p, 1), std::span<Interval>(&out, 1));
  return out;
}

template class BasicMonthlyStats<std::int64_t>;
template class BasicMonthlyStats<std::uint16_t>;
template void MonthlyStats::merge(const BlockStats&);
template void MonthlyStats::merge(const MonthlyStats&);
template void MonthlyStats::merge_counts(const BlockStats&);

}  // namespace smbsim
