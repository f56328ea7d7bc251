#include "engine/moments.hpp"

#include <cstring>

namespace smbsim {

namespace {
constexpr int kPartialSums = 8;

/// Eight doubles as one GCC vector: one AVX-512 register, two AVX2 or four SSE2
/// registers, with the same IEEE operation on every element whichever it is.
using Eight = double __attribute__((vector_size(kPartialSums * sizeof(double))));

/// s1[j] and s2[j] accumulate (x - shift) and its square over i = j (mod 8). Cloned
/// per ISA: each partial sum sees the same IEEE operations in the same order in every
/// clone (no FMA: -ffp-contract=off), so the bits do not depend on the CPU.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
void deviation_sums(const double* __restrict x, int n, double shift, double* __restrict s1,
                    double* __restrict s2) {
  Eight a1 = {}, a2 = {};
  int i = 0;
  for (; i + kPartialSums <= n; i += kPartialSums) {
    Eight v;
    std::memcpy(&v, x + i, sizeof v);
    const Eight d = v - shift;
    a1 += d;
    a2 += d * d;
  }
  for (int j = 0; i < n; ++i, ++j) {
    const double d = x[i] - shift;
    a1[j] += d;
    a2[j] += d * d;
  }
  for (int j = 0; j < kPartialSums; ++j) {
    s1[j] = a1[j];
    s2[j] = a2[j];
  }
}

double pairwise_total(const double* s) {
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}
}  // namespace

void Moments::add_all(const double* x, int n) {
  if (n <= 0) return;
  if (n_ == 0) shift_ = x[0];  // the shift is the first value added
  double s1[kPartialSums] = {}, s2[kPartialSums] = {};
  deviation_sums(x, n, shift_, s1, s2);
  n_ += n;
  s1_ += pairwise_total(s1);
  s2_ += pairwise_total(s2);
}

}  // namespace smbsim
