#pragma once
// Counter-based random streams: a run's randomness is a pure function of
// (seed, run index, purpose, month), never of the thread or the order of work.
// Philox4x64-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11)
// keyed by the seed; the counter is {run, purpose<<16 | month, substream, draw}. 64-bit words
// let Boost's ziggurat make a normal from one word.
// Constructing a stream costs a few stores (no seeding), so every (run, purpose, month)
// gets its own: a subsystem that draws more numbers never shifts another's draws, and
// variants of a scenario see the same market and shocks for the same run (common
// random numbers).
// philox.h sets up the feature macros MicroURNG.hpp needs: it must come first.
#include <Random123/philox.h>
#include <Random123/MicroURNG.hpp>
#include <boost/random/normal_distribution.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

namespace smbsim {

#ifdef SMBSIM_COUNT_DRAWS
/// Draw counts, compiled in only for bench/ (the random-number floor): never in smbsim.
struct DrawCounts {
  std::uint64_t streams = 0, words = 0, normals = 0, uniforms = 0;
  std::uint64_t batch_normals = 0;  ///< from standard_normals (engine/normal_batch.hpp)
  std::uint64_t exponentials = 0;   ///< RandomStream::exponential
  std::uint64_t samples[8] = {};    ///< Uncertain::sample, by kind (Uncertain::kind)
};
inline thread_local DrawCounts g_draw_counts;
/// Counts n variates of one kind as wholes: the words, uniforms and normals drawn inside
/// the scope are part of their cost, not counted again (bench/ times them whole).
class CountWhole {
 public:
  CountWhole(std::uint64_t& field, std::uint64_t n) : before_(g_draw_counts), field_(field), n_(n) {}
  ~CountWhole() {
    g_draw_counts = before_;
    field_ += n_;
  }
  CountWhole(const CountWhole&) = delete;
  CountWhole& operator=(const CountWhole&) = delete;

 private:
  DrawCounts before_;
  std::uint64_t& field_;  // a field of g_draw_counts
  std::uint64_t n_;
};
#define SMBSIM_COUNT(field) (++::smbsim::g_draw_counts.field)
#define SMBSIM_COUNT_WHOLE(field, n) const ::smbsim::CountWhole count_whole_{::smbsim::g_draw_counts.field, (n)}
#else
#define SMBSIM_COUNT(field) ((void)0)
#define SMBSIM_COUNT_WHOLE(field, n) ((void)0)
#endif

/// One stream of 64-bit random integers; a Boost.Random/C++ URNG.
class RandomStream {
 public:
  using result_type = std::uint64_t;
  static constexpr std::uint32_t kMaxMonth = 0xFFFF;
  static constexpr std::uint32_t kMaxPurpose = 0xFFFF;

  /// `substream` tells apart streams of one (purpose, month), e.g. one per parameter
  /// path (a hash), so that no stream's draws depend on how many others there are.
  RandomStream(std::uint64_t seed, std::uint64_t run, std::uint32_t purpose,
               std::uint32_t month, std::uint64_t substream = 0)
      : urng_(counter(run, purpose, month, substream), key(seed)) {
    SMBSIM_COUNT(streams);
  }

  result_type operator()() {
    SMBSIM_COUNT(words);
    return urng_();
  }
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  /// Uniform on the open interval (0, 1), 53 bits of resolution.
  double uniform() {
    SMBSIM_COUNT(uniforms);
    return (static_cast<double>((*this)() >> 11) + 0.5) * 0x1p-53;
  }
  /// Exponential with mean 1, by inversion: -log(U).
  double exponential() {
    SMBSIM_COUNT_WHOLE(exponentials, 1);
    return -std::log(uniform());
  }
  /// Standard normal (Boost's ziggurat).
  double normal() {
    SMBSIM_COUNT(normals);
    return boost::random::normal_distribution<double>()(*this);
  }

 private:
  using Philox = r123::Philox4x64;
  static Philox::ctr_type counter(std::uint64_t run, std::uint32_t purpose,
                                  std::uint32_t month, std::uint64_t substream) {
    // The last word stays zero: MicroURNG counts its draws in its high half.
    return {{run, (static_cast<std::uint64_t>(purpose & kMaxPurpose) << 16) | (month & kMaxMonth), substream, 0u}};
  }
  static Philox::ukey_type key(std::uint64_t seed) { return {{seed, 0u}}; }
  r123::MicroURNG<Philox> urng_;
};

/// The random streams of one run: hands out a fresh stream per (purpose, month).
class RunRandom {
 public:
  RunRandom(std::uint64_t seed, std::uint64_t run) : seed_(seed), run_(run) {}
  RandomStream stream(std::uint32_t purpose, std::uint32_t month, std::uint64_t substream = 0) const {
    return RandomStream(seed_, run_, purpose, month, substream);
  }

 private:
  std::uint64_t seed_;
  std::uint64_t run_;
};

/// A stable 64-bit name for a substream (FNV-1a of a text such as a parameter path):
/// the same text always gives the same stream, whatever else the scenario contains.
constexpr std::uint64_t substream_id(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

}  // namespace smbsim
