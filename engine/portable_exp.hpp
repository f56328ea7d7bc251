#pragma once
// e^x for lane loops: the same bits on every CPU, and vectorised when inlined.
// glibc's exp is scalar and takes an FMA or a non-FMA path depending on the CPU, and
// libmvec's vector variants differ between instruction sets; this one uses only IEEE
// +, - and * (no FMA: -ffp-contract=off) and exponent bits.
//
// Method (as fdlibm's e_exp.c reduces): x = n ln2 + r with |r| <= ln2/2, ln2 split in a
// high part with trailing zero bits (so n * high is exact) and a low part; e^r by its
// Taylor polynomial to degree 13 (truncation below 5e-18 relative) in Horner form;
// then scaled by 2^n built in the exponent field. Error within 1.2 ulp of e^x on
// [-708, 709] (tests/test_portable_exp.cpp); 0 below, +inf above, NaN for NaN.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace smbsim {

[[gnu::always_inline]] inline double portable_exp(double x) {
  constexpr double kLog2e = 0x1.71547652b82fep0;
  constexpr double kShifter = 0x1.8p52;  // adding it rounds to an integer, in the low bits
  constexpr double kLn2High = 0x1.62e42fee00000p-1;
  constexpr double kLn2Low = 0x1.a39ef35793c76p-33;
  constexpr double kLowest = -708.0, kHighest = 709.0;  // 2^n stays a normal double
  const double clamped = std::min(std::max(x, kLowest), kHighest);  // NaN stays NaN
  const double shifted = clamped * kLog2e + kShifter;
  const double n = shifted - kShifter;
  const double r = (clamped - n * kLn2High) - n * kLn2Low;
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // n sits in the low bits of `shifted`, two's complement relative to the shifter.
  const std::uint64_t n_bits = std::bit_cast<std::uint64_t>(shifted) - std::bit_cast<std::uint64_t>(kShifter);
  const double two_to_n = std::bit_cast<double>((n_bits + 1023) << 52);
  double y = p * two_to_n;
  y = x < kLowest ? 0.0 : y;
  y = x > kHighest ? HUGE_VAL : y;
  return y;
}

}  // namespace smbsim
