#pragma once
// Per-month aggregates over runs whose memory depends on months and quantities, never
// on the number of runs: live count, failures by cause, and for every observed quantity
// its moments and a fixed-bin histogram (for quantiles). Merging is exact for the
// integer parts and bit-reproducible for the moments when done in a fixed order.
#include "engine/model_schema.hpp"
#include "engine/moments.hpp"
#include "engine/proportion.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace smbsim {

/// Most lanes record_alive_lanes() takes at once.
inline constexpr int kMaxTileLanes = 1024;

/// `Count` is the histogram counter: 16 bits for the per-block statistics (a block has
/// at most 65535 runs, so a bin cannot overflow; it keeps a block's histograms small
/// enough to stay in cache), 64 bits for the totals.
template <class Count>
class BasicMonthlyStats {
 public:
  BasicMonthlyStats(int months, const std::vector<QuantitySpec>& quantities, int causes);

  /// A run still alive at the end of `month` (1-based) with this observation.
  void record_alive(int month, std::span<const double> observation) {
    const std::size_t m = static_cast<std::size_t>(month - 1);
    ++alive_[m];
    Moments* mom = &moments_[m * quantity_count_];
    Count* hist = &histograms_[m * bins_per_month_];
    for (std::size_t q = 0; q < quantity_count_; ++q) {
      mom[q].add(observation[q]);
      ++hist[bin_offset_[q] + static_cast<std::size_t>(binnings_[q].index(observation[q]))];
    }
  }
  /// The `lanes` runs of a tile alive at the end of `month`: quantity q of lane i is
  /// rows[q * row_stride + i]. The same counts as record_alive() for each lane, and the
  /// same moments up to rounding (Moments::add_all sums in eight parts, vectorised).
  void record_alive_lanes(int month, const double* rows, std::size_t row_stride, int lanes);
  /// Starts loading month's histograms into the cache (for a caller about to spend a
  /// while on other work before recording that month).
  void prefetch(int month) const {
    const auto* first = reinterpret_cast<const char*>(&histograms_[static_cast<std::size_t>(month - 1) * bins_per_month_]);
    const std::size_t bytes = bins_per_month_ * sizeof(Count);
    for (std::size_t offset = 0; offset < bytes; offset += 64) __builtin_prefetch(first + offset, 1);
  }
  /// A run that failed in `month` with this cause code.
  void record_failure(int month, int cause) {
    ++failures_[static_cast<std::size_t>(month - 1) * cause_count_ + static_cast<std::size_t>(cause)];
  }
  void add_runs(std::int64_t n) { runs_ += n; }

  /// merge_counts() then merge_moments(): the integer parts add exactly in any order;
  /// the moments give the same bits only when merged in the same order.
  template <class OtherCount>
  void merge(const BasicMonthlyStats<OtherCount>& other);
  /// The integer parts only: runs, live counts, failures and histograms.
  template <class OtherCount>
  void merge_counts(const BasicMonthlyStats<OtherCount>& other);
  /// The moments only, from another's all_moments() (months x quantities).
  void merge_moments(std::span<const Moments> other);
  void clear();

  /// Every moment, month-major (months x quantities): what merge_moments() takes.
  std::span<const Moments> all_moments() const { return moments_; }
  /// The integer parts as one array (for exact sums across processes): runs, live
  /// counts, failures, histograms. add_counts() adds such an array.
  std::vector<std::int64_t> counts() const;
  void add_counts(std::span<const std::int64_t> counts);
  std::size_t counts_size() const { return 1 + alive_.size() + failures_.size() + histograms_.size(); }

  std::int64_t runs() const { return runs_; }
  std::size_t quantity_count() const { return quantity_count_; }
  std::size_t cause_count() const { return cause_count_; }
  std::int64_t alive(int month) const { return alive_[static_cast<std::size_t>(month - 1)]; }
  std::int64_t failures(int month, int cause) const {
    return failures_[static_cast<std::size_t>(month - 1) * cause_count_ + static_cast<std::size_t>(cause)];
  }
  /// Share of all runs alive at the end of `month`, with its 95% Wilson interval.
  Interval survival(int month) const { return wilson_interval(alive(month), runs_); }
  const Moments& moments(int month, std::size_t q) const {
    return moments_[static_cast<std::size_t>(month - 1) * quantity_count_ + q];
  }
  /// The p-quantile of quantity q over runs alive at `month`, from its histogram by
  /// linear interpolation within the bin (resolution: one bin), and a 95% interval.
  Interval quantile(int month, std::size_t q, double p) const;
  /// quantile() at each of `levels` (out[k] for levels[k]), from one pass over the
  /// histogram: the same values, for a fraction of the work.
  void quantiles(int month, std::size_t q, std::span<const double> levels, std::span<Interval> out) const;
  std::span<const Count> histogram(int month, std::size_t q) const;

 private:
  /// out[k] = the value of rank ranks[k] (1-based, interpolated within its bin), NaN if
  /// no bin reaches it. One pass over the histogram, the ranks taken in ascending order.
  void values_at_ranks(int month, std::size_t q, std::span<const double> ranks, std::span<double> out) const;

  int months_;
  std::size_t quantity_count_;
  std::size_t cause_count_;
  std::vector<Binning> binnings_;
  std::vector<std::size_t> bin_offset_;
  std::size_t bins_per_month_ = 0;
  std::int64_t runs_ = 0;
  std::vector<std::int64_t> alive_;
  std::vector<std::int64_t> failures_;
  std::vector<Moments> moments_;
  std::vector<Count> histograms_;
  std::vector<std::int32_t> lane_bins_;  // scratch for record_alive_lanes: quantities x kMaxTileLanes

  template <class>
  friend class BasicMonthlyStats;
};

using MonthlyStats = BasicMonthlyStats<std::int64_t>;
using BlockStats = BasicMonthlyStats<std::uint16_t>;
inline constexpr std::int64_t kMaxBlockRuns = 65535;

extern template class BasicMonthlyStats<std::int64_t>;
extern template class BasicMonthlyStats<std::uint16_t>;
extern template void MonthlyStats::merge(const BlockStats&);
extern template void MonthlyStats::merge(const MonthlyStats&);
extern template void MonthlyStats::merge_counts(const BlockStats&);

}  // namespace smbsim
