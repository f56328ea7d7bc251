#pragma once
// Counter-based random streams: a run's randomness is a pure function of
// (seed, run index, purpose, month), never of the thread or the order of work.
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11)
// keyed by the seed; the counter is {run low, run high, purpose<<16 | month, draw}.
// Constructing a stream costs a few stores (no seeding), so every (run, purpose, month)
// gets its own: a subsystem that draws more numbers never shifts another's draws, and
// variants of a scenario see the same market and shocks for the same run (common
// random numbers).
// philox.h sets up the feature macros MicroURNG.hpp needs: it must come first.
#include <Random123/philox.h>
#include <Random123/MicroURNG.hpp>
#include <boost/random/normal_distribution.hpp>

#include <cstdint>
#include <limits>

namespace smbsim {

/// One stream of 32-bit random integers; a Boost.Random/C++ URNG.
class RandomStream {
 public:
  using result_type = std::uint32_t;
  static constexpr std::uint32_t kMaxMonth = 0xFFFF;
  static constexpr std::uint32_t kMaxPurpose = 0xFFFF;

  RandomStream(std::uint64_t seed, std::uint64_t run, std::uint32_t purpose,
               std::uint32_t month)
      : urng_(counter(run, purpose, month), key(seed)) {}

  result_type operator()() { return urng_(); }
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  /// Uniform on the open interval (0, 1), 32 bits of resolution.
  double uniform() { return (static_cast<double>(urng_()) + 0.5) * 0x1p-32; }
  /// Standard normal (Boost's ziggurat).
  double normal() { return boost::random::normal_distribution<double>()(*this); }

 private:
  using Philox = r123::Philox4x32;
  static Philox::ctr_type counter(std::uint64_t run, std::uint32_t purpose,
                                  std::uint32_t month) {
    // The last word stays zero: MicroURNG counts its draws there.
    return {{static_cast<std::uint32_t>(run), static_cast<std::uint32_t>(run >> 32),
             ((purpose & kMaxPurpose) << 16) | (month & kMaxMonth), 0u}};
  }
  static Philox::ukey_type key(std::uint64_t seed) {
    return {{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
  }
  r123::MicroURNG<Philox> urng_;
};

/// The random streams of one run: hands out a fresh stream per (purpose, month).
class RunRandom {
 public:
  RunRandom(std::uint64_t seed, std::uint64_t run) : seed_(seed), run_(run) {}
  RandomStream stream(std::uint32_t purpose, std::uint32_t month) const {
    return RandomStream(seed_, run_, purpose, month);
  }
  std::uint64_t run() const { return run_; }

 private:
  std::uint64_t seed_;
  std::uint64_t run_;
};

}  // namespace smbsim
