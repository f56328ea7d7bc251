#pragma once
// The simulated firm: one run is one possible future of one firm, month by month.
// Equations, units and sources: docs/model.md (section numbers cited below as [M§n]).
// All per-month state is fixed-size (Eigen fixed matrices, std::array): step() never
// allocates.
#include "engine/model_schema.hpp"
#include "engine/random_stream.hpp"
#include "models/firm/parameters.hpp"

#include <array>
#include <span>

namespace smbsim::firm {

inline constexpr int kMaxSegments = 16;

/// Fixed failure causes; shock causes follow, named after the catalogue's shocks.
enum Cause : int { kCauseChronicLoss, kCauseMisalignment, kCauseDisruption, kCauseAutomation, kFirstShockCause };

/// Random stream purposes: each subsystem draws from its own stream.
enum Purpose : std::uint32_t {
  kParameters = 0, kMarket = 1, kFirmInternal = 2, kDisruptionTiming = 3, kShockBase = 16
};

/// Observed quantities, in schema order.
enum Observed : int {
  kCash, kRevenue, kProfit, kAlignment, kProjectAlignment, kCustomerValue, kFriction, kObservedCount
};

class Firm {
 public:
  using Params = FirmSpec;
  static ModelSchema schema(const FirmSpec& spec);

  explicit Firm(const FirmSpec& spec);
  void start(const RunRandom& random);
  void step(int month, const RunRandom& random);
  bool failed() const { return failure_month_ > 0; }
  int cause() const { return cause_; }
  void observe(std::span<double> out) const;
  void outcome(std::span<double> out) const;

 private:
  struct ShockState {
    int next_arrival = 0;  // month of the next Poisson arrival, 0 = none
    int active_until = 0;  // last month the event is active
    double severity = 0.0;
    bool fired_now = false;
  };
  struct ShockEffects {
    double demand = 1.0, segment_loss = 0.0, input_cost = 1.0, credit_limit = 1.0,
           interest = 1.0, capacity = 1.0, one_off = 0.0;
  };

  void update_market(int month, const RunRandom& random);
  ShockEffects update_shocks(int month, const RunRandom& random);
  void fire_shock(int k, int month, RandomStream& rng);
  void update_alignment(int month, RandomStream& rng);
  Mix intended_allocation() const;
  void update_allocation(RandomStream& rng);
  void update_disruption(int month);
  int attribute_failure(double base_revenue, int month) const;

  // Scenario (shared, read-only, outlives the model) and per-run constants.
  const FirmSpec* spec_;
  RunParams p_;
  TeamMatrix coupling_;
  TeamPriorities priorities_;
  double planned_revenue_ = 0, planned_outflows_ = 0, fixed_costs_ = 0, budget_ = 0, credit_limit_ = 0;
  double fit_ = 1, key_person_exposure_ = 0;
  int segments_ = 1;
  int disruption_month_ = 0;
  double sense_lag_ = 0, decide_lag_ = 0;

  // State.
  double cash_ = 0, debt_ = 0, demand_ = 1, share_ = 1;
  Mix weights_, target_, allocation_;
  CapabilityVector capability_;
  TeamVector team_alignment_;
  std::array<ShockState, kMaxShocks> shocks_{};
  int sensed_month_ = 0, decided_month_ = 0, realigned_month_ = 0;
  double realign_threshold_ = 0;
  bool automation_done_ = false;
  double automation_fit_ = 0;

  // This month's values (observed) and the run's running KPIs.
  double revenue_ = 0, profit_ = 0, alignment_ = 0, project_alignment_ = 0, value_ = 0,
         friction_ = 0, churn_ = 0;
  double cumulative_profit_ = 0, peak_net_cash_ = 0, max_drawdown_ = 0;
  double sum_alignment_ = 0, sum_project_ = 0, sum_value_ = 0, sum_friction_ = 0;
  double waste_ema_ = 0, deficit_ema_ = 0;
  int months_ = 0;
  int failure_month_ = 0;
  int cause_ = -1;
  double start_buffer_days_ = 0;
  double payouts_ = 0;
};

static_assert(SimulationModel<Firm>);

/// Customer value of a capability stock against the market's value weights [M§6]:
/// sum_i w_i g(K_i / w_i) with g(x) = 2x / (1 + x), so parity (K = w) gives 1.
double customer_value(const CapabilityVector& capability, const Mix& weights);

/// Friction from others' misalignment [M§4]: 1 - mean_j prod_{k != j} (1 - C_jk m_k).
double coordination_friction(const TeamMatrix& coupling, const TeamVector& misalignment);

/// The coupling matrix for a coupling strength c [M§4]: c within a department block
/// ({commercial, service}, {product, operations}), c^2 between blocks.
TeamMatrix coupling_matrix(double c);

}  // namespace smbsim::firm
