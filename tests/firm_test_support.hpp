#pragma once
// Helpers for the firm-model property tests: build a spec from scenario YAML, run it
// through the engine keeping every outcome row, and compare two variants run by run.
#include "engine/runner.hpp"
#include "models/firm/firm.hpp"
#include "models/scenario/scenario.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace smbsim::test {

struct Simulated {
  MonthlyStats stats;
  ModelSchema schema;
  std::vector<double> rows;

  std::size_t column(const std::string& name) const {
    for (std::size_t i = 0; i < schema.outcome_columns.size(); ++i)
      if (schema.outcome_columns[i].name == name) return i;
    throw std::runtime_error("no column " + name);
  }
  double at(std::size_t run, const std::string& name) const {
    return rows[run * schema.outcome_columns.size() + column(name)];
  }
  std::size_t runs() const { return rows.size() / schema.outcome_columns.size(); }
  int cause_index(const std::string& name) const {
    for (std::size_t i = 0; i < schema.causes.size(); ++i)
      if (schema.causes[i] == name) return static_cast<int>(i);
    throw std::runtime_error("no cause " + name);
  }
};

inline firm::FirmSpec spec_of(const std::string& yaml) {
  return scenario::load_scenario(yaml, "test.yaml").variants.front().spec;
}

inline Simulated simulate_firm(const firm::FirmSpec& spec, std::int64_t runs = 4000, int months = 120,
                               std::uint64_t seed = 11, std::int64_t block_size = 1000) {
  struct Keep final : OutcomeSink {
    std::vector<double> rows;
    void append_outcomes(std::int64_t, std::int64_t, std::span<const double> r) override {
      rows.insert(rows.end(), r.begin(), r.end());
    }
    void append_path(std::int64_t, std::span<const double>) override {}
  } sink;
  RunConfig cfg;
  cfg.seed = seed;
  cfg.runs = runs;
  cfg.months = months;
  cfg.block_size = block_size;
  MonthlyStats stats = simulate<firm::Firm>(spec, cfg, sink);
  return {std::move(stats), firm::Firm::schema(spec), std::move(sink.rows)};
}

/// Mean over runs of (b - a) for a column, with its standard error: the runs share
/// random numbers, so the difference isolates the changed mechanism.
struct Paired {
  double mean = 0, se = 0;
  double z() const { return se > 0 ? mean / se : (mean == 0 ? 0 : mean * INFINITY); }
};

inline Paired paired(const Simulated& a, const Simulated& b, const std::string& column) {
  Moments d;
  for (std::size_t r = 0; r < a.runs(); ++r) {
    const double x = a.at(r, column), y = b.at(r, column);
    if (!std::isnan(x) && !std::isnan(y)) d.add(y - x);
  }
  return {d.mean(), d.sem()};
}

/// Mean of a column over runs where it is defined, with its standard error.
inline Moments column_moments(const Simulated& s, const std::string& column) {
  Moments m;
  for (std::size_t r = 0; r < s.runs(); ++r)
    if (double x = s.at(r, column); !std::isnan(x)) m.add(x);
  return m;
}

}  // namespace smbsim::test
