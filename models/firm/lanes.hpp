#pragma once
// The memory layout of a tile of firms: one row per per-run value, one column (lane) per
// run. Every month step is a handful of loops over lanes doing the same arithmetic for
// every run, which the compiler turns into SIMD code; the per-run arithmetic and its
// order are exactly those of docs/model.md, so a run's history does not depend on
// which lane or tile it lands in. Rows are numbered, not named members, so that
// dropping failed runs (Firm::compact) moves every row and cannot forget one (it
// leaves only rows that cannot differ between lanes: fixed parameters, absent shocks).
#include "models/firm/capabilities.hpp"
#include "models/firm/parameters.hpp"

#include <cstdint>

namespace smbsim::firm {

/// The lane loops are compiled for AVX-512, AVX2 and plain x86-64 and the CPU's best is
/// chosen at run time. Vector and scalar IEEE add, multiply, divide, min and max give
/// the same bits (no FMA contraction: -ffp-contract=off), so results do not depend on it.
#define SMBSIM_LANE_LOOPS __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

/// Runs per tile. Measured on the 2-core AMD EPYC of bench/ (1 MB L2 per core, 10
/// alternating runs of `smbsim_bench_floor compute 100000 1`): 384 lanes (state ~700 KB)
/// ran 4% faster than 256, and 512 slower; per-tile-month costs (a month's histograms,
/// loop set-up) spread over more runs until the state no longer fits in L2.
inline constexpr int kLanes = 384;

/// Rows of doubles. Rows [0, kParamCount) are the run's sampled parameters (Param order).
enum DoubleRow : int {
  // Per-run constants [M§1, M§4, M§6, M§8].
  rPlannedRevenue = kParamCount, rPlannedOutflows, rFixedCosts, rBudget, rOwnerPay, rCreditStep, rCreditCap,
  rReserve, rPrice, rFit, rKeyPersonExposure, rSenseLag, rDecideLag, rCouplingSame,
  rCouplingCross, rDrift, rNoise, rStartBufferDays, rDemandDrift, rDemandSigma, rRampKeep,
  rSpendRatio, rReviewCost, rFitKeep, rVolumeScale, rShareStart, rFrictionBase,
  // State.
  rCash, rDebt, rDemand, rShare, rStaff, rPremises, rRampGap, rFitGap, rRealignThreshold, rAutomationFit,
  rPriceIndex, rPriceDemand, rLoansOwed, rHiringBill, rCreditLimit,
  // This month's values.
  rRevenue, rBaseRevenue, rProfit, rBufferDays, rAlignment, rProjectAlignment, rValue,
  rFriction, rChurn, rOutflows, rRunway,
  // Running KPIs [M§11].
  rCumulativeProfit, rPeakNetCash, rMaxDrawdown, rSumAlignment, rSumProject, rSumValue,
  rSumFriction, rWasteEma, rDeficitEma, rPayouts, rMissteps, rYearProfit, rYearRevenue, rLastYearProfit,
  rLastYearRevenue,
  // Vectors: capability mixes, team alignment, shock severities.
  rWeights, rTarget = rWeights + kCapabilities, rIndustry = rTarget + kCapabilities,
  rAllocation = rIndustry + kCapabilities,
  rCapability = rAllocation + kCapabilities, rTeamAlignment = rCapability + kCapabilities,
  rShockSeverity = rTeamAlignment + kTeams,
  // Loans [M§16]: principal, instalment, outstanding principal, monthly rate.
  rLoanPrincipal = rShockSeverity + kMaxShocks, rLoanPayment = rLoanPrincipal + kMaxLoans,
  rLoanBalance = rLoanPayment + kMaxLoans, rLoanRate = rLoanBalance + kMaxLoans,
  // Plans [M§16]: revenue at maturity, added fixed costs, one-off cost, ramp (the share
  // of the gap kept each month, the gap left), the plan's own net cash so far, its
  // revenue last month.
  rPlanRevenue = rLoanRate + kMaxLoans, rPlanFixed = rPlanRevenue + kMaxPlans, rPlanCost = rPlanFixed + kMaxPlans,
  rPlanKeep = rPlanCost + kMaxPlans, rPlanGap = rPlanKeep + kMaxPlans, rPlanNet = rPlanGap + kMaxPlans,
  rPlanLastRevenue = rPlanNet + kMaxPlans,
  kDoubleRows = rPlanLastRevenue + kMaxPlans
};

/// Rows of integers (months count from 1; 0 means "not yet" or "none").
enum IntRow : int {
  iShockNextArrival = 0, iShockActiveUntil = kMaxShocks, iShockFiredNow = 2 * kMaxShocks,
  iSegments = 3 * kMaxShocks, iReviewMonths, iNextReview, iDisruptionMonth, iSensedMonth,
  iDecidedMonth, iRealignedMonth, iAutomationMonth, iAutomationDipEnd, iAutomationDone,
  iMonths, iFailureMonth, iCause, iNextInitiative,
  // Loans: the month the principal arrives (0 = not drawn yet / never).
  iLoanStart,
  // Plans: the month due (0 = cancelled), the month it started (0 = not yet).
  iPlanDue = iLoanStart + kMaxLoans, iPlanStarted = iPlanDue + kMaxPlans,
  // Rules: months the condition has held in a row, the month last fired, times fired,
  // the month first fired.
  iRuleHeld = iPlanStarted + kMaxPlans, iRuleLast = iRuleHeld + kMaxRules, iRuleTimes = iRuleLast + kMaxRules,
  iRuleFirst = iRuleTimes + kMaxRules,
  kIntRows = iRuleFirst + kMaxRules
};

/// Per-month scratch rows: recomputed every month, never carried over (not compacted).
enum ScratchRow : int {
  // The month's standard normals, drawn in one call (so in this order, contiguous):
  // market demand, team alignment noise, the allocation's random motion.
  zMarket = 0, zTeam, zChaos = zTeam + kTeams, kNormalRows = zChaos + kCapabilities,
  // Drawn in calls of their own, only in months that need them: the market's tastes
  // drift (each quarter) [M§6]; a review reads the market's mix [M§3].
  zTaste = kNormalRows, zSensing = zTaste + kCapabilities, kScratchNormalsEnd = zSensing + kCapabilities,
  // Shock effects [M§7].
  fxDemand = kScratchNormalsEnd, fxSegmentLoss, fxInputCost, fxCreditLimit, fxInterest,
  fxCapacity, fxOneOff, sMisstep,
  sCostCut, sVolume,
  // The cash step's results the KPI step reads [M§11].
  sOutflows, sLimit, sWaste,
  // Decisions [M§16]: plans' revenue and costs, loans' flows this month; what a rule
  // reads that is not a row of its own.
  sPlanRevenue, sPlanCosts, sLoanInflow, sLoanInterest, sLoanRepaid, sNetCash, sRevenueVsPlan, sMonth,
  sIntended,  // the intended allocation, for the start of a run (Firm::settle)
  kScratchRows = sIntended + kCapabilities
};

/// Each row is padded (by one cache line of ints, two of doubles), so that rows are not
/// a power of two apart: such rows all map to the same few cache sets, and a loop
/// reading a dozen of them evicts its own data.
inline constexpr int kRowLength = kLanes + 64 / sizeof(std::int32_t);

struct LaneState {
  alignas(64) double d[kDoubleRows][kRowLength];
  alignas(64) std::int32_t i[kIntRows][kRowLength];
  alignas(64) double s[kScratchRows][kRowLength];
  alignas(64) std::uint64_t run[kLanes];
  alignas(64) std::uint8_t flags[kLanes];  // scratch: lanes a rare event touches this month

  double* param(Param p) { return d[static_cast<int>(p)]; }
  const double* param(Param p) const { return d[static_cast<int>(p)]; }
};

}  // namespace smbsim::firm
