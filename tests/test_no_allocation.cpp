// "No heap allocation in the per-month step": this binary replaces operator new to
// count allocations, then steps firms month by month and records their statistics the
// way the runner does, and asserts that none of it allocated.
#include "engine/monthly_stats.hpp"
#include "models/firm/firm.hpp"
#include "models/scenario/scenario.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace {
std::atomic<long> g_allocations{0};

void* counted(std::size_t n, std::size_t align = 0) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  n = n ? n : 1;
  if (align <= alignof(std::max_align_t)) return std::malloc(n);
  return std::aligned_alloc(align, (n + align - 1) / align * align);
}

void* counted_or_throw(std::size_t n, std::size_t align = 0) {
  if (void* p = counted(n, align)) return p;
  throw std::bad_alloc();
}
}  // namespace

// Every replaceable form, so that each allocation is counted and each pair of new and
// delete meets the same malloc and free: replacing only some (as before) left the
// nothrow and array forms to the library (or to AddressSanitizer, which then reported
// an alloc-dealloc mismatch).
void* operator new(std::size_t n) { return counted_or_throw(n); }
void* operator new[](std::size_t n) { return counted_or_throw(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_or_throw(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_or_throw(n, static_cast<std::size_t>(a)); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

using namespace smbsim;

TEST_CASE("the month step and the statistics allocate nothing") {
  // Everything a shock, a disruption, automation, a loan, a plan and a rule can touch is
  // switched on.
  const auto sc = scenario::load_scenario(
      "disruption: {month: 20}\nautomation: {month: 10}\n"
      "firm: {established: true, seasonality: [0.9, 0.9, 1, 1, 1.1, 1.1, 1, 1, 1, 1, 1, 1]}\n"
      "loans:\n  - {name: bank, principal: {dist: uniform, low: 1000, high: 9000}, term_months: 12, month: -2}\n"
      "plans:\n  - {name: site, month: 5, cost: 1000, fixed_costs: 100, revenue: {dist: uniform, low: 0, high: 9000}, loan: {principal: 1000, term_months: 6}}\n"
      "rules:\n  - {name: cut, when: runway_months < 3 or cash < 0, do: {capability_budget: -0.1, owner_salary: -0.1, staff: -0.1, price: 0.01, postpone: {site: 1}, loan: {principal: 100, term_months: 3}}, cooldown: 1}\n"
      "  - {name: stop, when: month > 40 and profit < 0, do: close}\n"
      "shocks:\n  - {name: slump, type: demand, rate: 2, severity: {dist: beta, a: 2, b: 3}, duration: {dist: uniform, low: 1, high: 6}}\n"
      "  - {name: crunch, type: credit, triggered_by: slump, trigger_probability: 0.5, severity: 0.5}\n"
      "  - {name: leaves, type: key_person, rate: 2}\n  - {name: partner, type: supplier, rate: 2}\n"
      "  - {name: niche, type: segment, rate: 2}\n  - {name: costs, type: input_cost, rate: 2}\n",
      "test.yaml");
  const firm::FirmSpec& spec = sc.variants.front().spec;
  const ModelSchema schema = firm::Firm::schema(spec);
  firm::Firm model(spec);
  BlockStats stats(60, schema.quantities, static_cast<int>(schema.causes.size()));
  std::vector<double> rows(schema.quantities.size() * firm::Firm::kLanes), outcome(schema.outcome_columns.size());
  long months = 0;
  const long before = g_allocations.load();
  for (std::uint64_t first = 0; first < 600; first += firm::Firm::kLanes) {
    model.start(5, first, firm::Firm::kLanes);
    for (int month = 1; month <= 60; ++month) {
      model.step(month);
      bool failed = false;
      for (int lane = 0; lane < model.lanes(); ++lane) {
        ++months;  // failed lanes were dropped the month they failed
        if (model.failure_month(lane) == month) {
          stats.record_failure(month, model.cause(lane));
          model.outcome(lane, outcome);
          failed = true;
        }
      }
      if (failed) model.compact();
      model.observe_lanes(rows);
      stats.record_alive_lanes(month, rows.data(), firm::Firm::kLanes, model.lanes());
    }
  }
  const long after = g_allocations.load();
  INFO(months << " firm-months");
  CHECK(months > 3000);
  CHECK(after - before == 0);
}

TEST_CASE("starting runs from a design allocates nothing") {
  // Designs and correlations map each run's point through inverse CDFs (Boost.Math) as
  // runs start: every kind of distribution, every design.
  for (const char* sampling : {"random", "lhs", "sobol"}) {
    const auto sc = scenario::load_scenario(
        std::string("simulation: {runs: 1000, sampling: ") + sampling + "}\n"
        "firm: {cash_buffer_days: {dist: triangular, low: 5, mode: 20, high: 80}, segments: {dist: discrete, values: [1, 2, 4], weights: [1, 1, 1]}}\n"
        "market: {fit: {dist: lognormal, median: 1, sigma: 0.3}, growth: {dist: normal, mean: 0.02, sd: 0.05}, base_value: {dist: beta, a: 2, b: 5}}\n"
        "alignment: {level: {dist: uniform, low: 0.3, high: 0.9}}\n"
        "loans:\n  - {name: bank, principal: {dist: uniform, low: 1000, high: 9000}, term_months: 12, month: 2}\n"
        "correlations:\n  - [market.fit, firm.cash_buffer_days, 0.5]\n  - [loans.bank.principal, alignment.level, -0.3]\n",
        "design.yaml");
    const firm::FirmSpec& spec = sc.variants.front().spec;
    firm::Firm model(spec);
    std::vector<double> inputs(firm::Firm::schema(spec).inputs.size());
    const long before = g_allocations.load();
    for (std::uint64_t first = 0; first < 1000; first += firm::Firm::kLanes) {
      model.start(5, first, firm::Firm::kLanes);
      for (int lane = 0; lane < model.lanes(); ++lane) model.inputs(lane, inputs);
      model.step(1);
    }
    const long after = g_allocations.load();  // before INFO, which may allocate
    INFO(sampling);
    CHECK(after - before == 0);
  }
}
