#pragma once
// The simulated firm: one run is one possible future of one firm, month by month.
// Equations, units and sources: docs/model.md (section numbers cited below as [M§n]).
// A Firm steps a tile of up to kLanes runs together (models/firm/lanes.hpp): the same
// equations for every run, laid out so the compiler vectorises them. All state is
// allocated once in the constructor: start() and step() never allocate.
#include "engine/model_schema.hpp"
#include "engine/random_stream.hpp"
#include "models/firm/lanes.hpp"
#include "models/firm/parameters.hpp"

#include <array>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace smbsim::firm {

struct Books;

inline constexpr int kMaxSegments = 16;
/// Months between steps of the market's tastes [M§6].
inline constexpr int kTasteStepMonths = 3;

/// Fixed failure causes; shock causes follow, named after the catalogue's shocks.
/// `closed` is an orderly closure by a management rule: an exit, not an insolvency.
enum Cause : int {
  kCauseChronicLoss, kCauseMisalignment, kCauseDisruption, kCauseAutomation, kCauseClosed, kFirstShockCause
};
/// A closure decided this month, not yet known to be orderly (iCause while pending).
inline constexpr int kClosing = -2;
/// The fixed causes' names, in Cause order (the file's monthly/cause labels).
inline constexpr std::array<const char*, kFirstShockCause> kFixedCauseNames{
    "chronic_loss", "misalignment", "disruption", "automation", "closed"};

/// Random stream purposes: each subsystem draws from its own stream.
enum Purpose : std::uint32_t {
  kParameters = 0, kMarket = 1, kMonthlyNormals = 2, kDisruptionTiming = 3, kTasteNormals = 4,
  kReviewSensing = 5, kInitiatives = 6, kShockBase = 16
};

/// Observed quantities, in schema order.
enum Observed : int {
  kCash, kRevenue, kProfit, kBufferDays, kHeadcount, kAlignment, kProjectAlignment, kCustomerValue,
  kFriction, kObservedCount
};

class Firm {
 public:
  using Params = FirmSpec;
  static constexpr int kLanes = firm::kLanes;
  static ModelSchema schema(const FirmSpec& spec);

  explicit Firm(const FirmSpec& spec);

  /// Begins runs first_run, ..., first_run + count - 1 (count <= kLanes) in lanes 0.. .
  void start(std::uint64_t seed, std::uint64_t first_run, int count);
  /// Advances every lane one month (months count from 1). A lane that failed and was
  /// not yet dropped (compact()) is stepped too, but its results stay frozen at
  /// failure: read them in the month it fails.
  void step(int month);
  /// Drops failed lanes: the last live lanes fill the gaps (the order depends only on
  /// which runs failed).
  void compact();

  int lanes() const { return lanes_; }
  std::uint64_t run(int lane) const { return s_->run[lane]; }
  /// Month the lane's firm could not pay, 0 while it is alive.
  int failure_month(int lane) const { return s_->i[iFailureMonth][lane]; }
  int cause(int lane) const { return s_->i[iCause][lane]; }
  /// Quantity q (Observed order) of lane i goes to rows[q * kLanes + i].
  void observe_lanes(std::span<double> rows) const;
  void outcome(int lane, std::span<double> out) const;
  /// The run's sampled inputs (schema().inputs order), as the model uses them (clamped
  /// into range); valid after start() and before the first step().
  void inputs(int lane, std::span<double> out) const;

 private:
  void start_lane(int lane, const RunRandom& random);
  // start_lane's parts, in the model's sections.
  void start_parameters(int lane, const RunRandom& random);  // [M§12]
  Books start_books(int lane);                                // [M§1]
  void start_alignment(int lane);                             // [M§3]
  void start_fit(int lane, const RunRandom& random);         // [M§6]
  void start_shocks(int lane, const RunRandom& random);      // [M§7]
  void start_disruption(int lane, const RunRandom& random);  // [M§8]
  /// Input j's value for this run: drawn from its own stream, or the design's point
  /// through its inverse CDF; recorded for inputs().
  double draw_input(std::size_t j, const Uncertain& u, RandomStream stream);
  void settle();
  void draw_normals(int month);
  void update_market();
  void update_tastes(int month);
  void review_strategy(int month);
  bool mark_reviews(int month);
  void revise_targets();
  void update_industry();
  void update_shocks(int month);
  void fire_shocks(int k, int month);
  void update_alignment(int month);
  void update_initiatives(int month);
  void update_disruption(int month);
  void intend_allocation();
  void update_allocation();
  void update_automation(int month);
  // Decisions [M§16] (firm_decisions.cpp).
  void start_decisions(int lane, const RunRandom& random);
  void apply_rules(int month);
  void fire_rule(int r, int lane, int month);
  void update_plans(int month);
  void plan_flows(double season);
  void loan_flows(int month);
  /// Plans' and loans' flows of the month into their scratch rows (zeros without any).
  void decision_flows(int month, double season);
  void update_capabilities();
  void update_customers();
  void update_cash(int month);
  void update_kpis(int month);
  /// The cause of each failure of this month: a rule's orderly closure, or the
  /// attributed cause [M§7].
  void record_failures(int month);
  void update_staff();
  int attribute_failure(int lane, int month) const;

  const FirmSpec* spec_;  // shared, read-only, outlives the model
  double own_priority_[kCapabilities][kTeams];  // team_priorities(), by capability [M§2]
  // Parameters split once: fixed ones fill their rows for a whole tile; only the
  // distributions are sampled run by run, each from its own stream (keyed by its path),
  // so adding or removing one never shifts another's draws [M§12].
  std::vector<std::pair<Param, double>> fixed_params_;
  std::vector<std::pair<const ParamInfo*, std::uint64_t>> sampled_params_;
  // The streams of loans' and plans' uncertain amounts, keyed by their paths
  // ("plans.second_site.revenue"), in the order start_decisions() draws them.
  std::vector<std::uint64_t> decision_streams_;
  // The uncertain inputs [M§12]: sampled parameters first (as sampled_params_), then the
  // loans' and plans' uncertain amounts; decision_input_[k] is the input that
  // decision_streams_[k] feeds (-1: a fixed amount). The design gives each run's point
  // when it is not plain random sampling; input_values_ holds a tile's draws (lanes x
  // inputs) until the runner reads them.
  std::vector<int> decision_input_;
  Design design_;
  std::vector<double> point_;
  std::vector<double> input_values_;
  std::size_t input_count_ = 0;
  std::vector<int> moved_double_rows_, moved_int_rows_;  // what compact() moves
  std::unique_ptr<LaneState> s_;
  std::uint64_t seed_ = 0;
  int lanes_ = 0;
  // Per-tile switches: skip the scalar loops of mechanisms no run in the tile uses.
  bool any_disruption_ = false, any_automation_ = false, any_elasticity_ = false;
  bool any_taste_drift_ = false, any_revision_ = false, any_initiatives_ = false;
  // Decisions in the scenario (the same for every tile).
  int loans_ = 0, plans_ = 0, rules_ = 0;
};

static_assert(LaneModel<Firm>);

/// Customer value of a capability stock against the market's value weights [M§2]:
/// b + (1 - b) sum_i w_i g(K_i / w_i) with g(x) = 2x / (1 + x) and b the base value,
/// so parity with competitors' spend (K = w) gives 1.
double customer_value(const CapabilityVector& capability, const Mix& weights, double base_value);

/// Friction from others' misalignment [M§4]: 1 - mean_j prod_{k != j} (1 - C_jk m_k).
double coordination_friction(const TeamMatrix& coupling, const TeamVector& misalignment);

/// The coupling matrix for a coupling strength c [M§4]: c within a department block
/// ({commercial, service}, {product, operations}), c^2 between blocks.
TeamMatrix coupling_matrix(double c);

}  // namespace smbsim::firm
