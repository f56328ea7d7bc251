#include "models/firm/parameters.hpp"

#include <cmath>
#include <limits>
#include <tuple>

namespace smbsim::firm {

namespace {
constexpr double kBig = 1e12;
/// The default of a key in the units of the books: derived from the shares unless given.
constexpr double kDerived = std::numeric_limits<double>::quiet_NaN();
constexpr std::array<double, 4> kDerivedDefaults{kDerived, kDerived, kDerived, kDerived};
// Sources, cited by short name (full references in docs/model.md):
//   [A] seed 000 (alignment matters more for SMBs), [B] seed 002 (achieving alignment),
//   [BLS] establishment survival, [JPMC] cash buffer days, [Fed] SBCS 2020, [cal] fitted
//   in docs/calibration.md, [assume] modelling assumption stated in docs/model.md.
constexpr std::array<ParamInfo, kParamCount> kTable{{
    {Param::headcount, "firm.headcount", "people", {3, 12, 80, 500}, 1, 1e6, true,
     "Employees. Sets revenue scale and how much one key person carries.", "[assume] size classes"},
    {Param::revenue_per_employee, "firm.revenue_per_employee", "USD/person/month", {12000, 12000, 12000, 12000}, 1, 1e8, false,
     "Planned monthly revenue per employee at full demand and parity value.", "[assume] about 145k USD/year"},
    {Param::fixed_cost_share, "firm.fixed_cost_share", "1", {0.30, 0.30, 0.30, 0.30}, 0, 10, false,
     "Payroll and premises at planned capacity, as a share of planned revenue; they follow capacity as the firm hires or sheds staff.", "[cal]"},
    {Param::variable_cost_share, "firm.variable_cost_share", "1", {0.42, 0.42, 0.42, 0.42}, 0, 1, false,
     "Variable costs as a share of revenue (materials, cost of sales).", "[cal]"},
    {Param::bureaucracy, "firm.bureaucracy", "1", {0.0, 0.005, 0.015, 0.03}, 0, 1, false,
     "Overhead of formal structures, as a share of planned revenue, paid monthly.", "[A] 'bureaucracy and inertia'"},
    {Param::owner_pay_share, "firm.owner_pay_share", "1", {0.06, 0.035, 0.015, 0.004}, 0, 10, false,
     "The owner's salary, a fixed monthly cost, as a share of planned revenue (a market wage for running the firm).", "[assume] about 2-7k USD/month on top of payroll (in a micro firm the owner is one of the heads, paid partly as payroll); a salaried manager in larger ones"},
    {Param::payroll_share, "firm.payroll_share", "1", {0.6, 0.6, 0.6, 0.6}, 0, 1, false,
     "Share of payroll in fixed costs: payroll follows staff; the rest (premises, leases) grows with staff at once and shrinks only as leases run out.", "[assume]"},
    {Param::capacity_headroom, "firm.capacity_headroom", "1", {0.15, 0.15, 0.15, 0.15}, 0, 10, false,
     "How far above planned output the current staff can stretch (overtime, slack), as a share.", "[assume]"},
    {Param::hiring_months, "firm.hiring_months", "months", {3, 3, 3, 3}, 1, 1200, false,
     "Time constant of hiring toward the staff that demand needs (payroll and premises follow).", "[assume] time to fill a post"},
    {Param::hiring_cost, "firm.hiring_cost", "months", {1.0, 1.0, 1.0, 1.0}, 0, 1200, false,
     "Cost of recruiting and training a new hire, in months of the hire's payroll, paid the month after hiring (lay-offs cost a month's severance when a rule makes them): staff that is cut and hired back costs money.", "[assume] SHRM cost per hire about 4,700 USD (2022), one to two months of a small firm's wage"},
    {Param::layoff_months, "firm.layoff_months", "months", {12, 12, 12, 12}, 1, 1200, false,
     "Time constant of shedding staff and premises when demand falls short of capacity.", "[assume] notice periods, leases"},
    {Param::lease_months, "firm.lease_months", "months", {36, 36, 36, 36}, 1, 1200, false,
     "Time constant with which premises shrink after staff has fallen (leases run out); they grow at once with staff.", "[assume] 3-year leases"},
    {Param::ramp_start, "firm.ramp_start", "1", {0.6, 0.6, 0.6, 0.6}, 0, 1, false,
     "A new firm's demand in its first month, as a share of what it reaches once customers have found it.", "[cal] BLS hazard in year 1"},
    {Param::ramp_months, "firm.ramp_months", "months", {6, 6, 6, 6}, 0, 1200, false,
     "Time constant of a new firm's customer ramp-up (0 = an established firm at full demand).", "[cal] BLS hazard in year 1"},
    {Param::cash_buffer_days, "firm.cash_buffer_days", "day", {27, 30, 45, 60}, 0, 36500, false,
     "Starting cash, in days of planned outflows (for a new venture: its founding capital, which must carry the ramp-up).", "[cal] BLS hazard in year 1 (default scenario); [JPMC] all small businesses 27 days (micro); [cal] BDS exit by size (larger presets)"},
    {Param::credit_limit_months, "firm.credit_limit_months", "months", {1.0, 2.5, 2.5, 3.0}, 0, 1200, false,
     "Credit line limit, in months of planned revenue.", "[A] 'thinner margin for error'; [Fed]; [cal] BDS exit by size"},
    {Param::credit_growth, "firm.credit_growth", "months/year", kDerivedDefaults, 0, 100, false,
     "Credit the bank adds after a profitable year that ends with the line repaid, in months of that year's revenue (a track record). Default: 0.2, or 0 when firm.credit_line is given in USD (the line as granted).", "[PR94] relationship lending; [BU98] the financial growth cycle; [cal] BLS survival at 5 and 10 years"},
    {Param::credit_max_months, "firm.credit_max_months", "months", {3.0, 3.0, 3.0, 3.0}, 0, 1200, false,
     "Largest credit line a track record earns, in months of planned revenue (a larger starting line is kept).", "[assume] the large preset's line"},
    {Param::interest_rate, "firm.interest_rate", "1/year", {0.12, 0.10, 0.08, 0.06}, 0, 5, false,
     "Annual interest on the drawn credit line.", "[assume]"},
    {Param::repay_share, "firm.repay_share", "1", {0.25, 0.25, 0.25, 0.25}, 0, 1, false,
     "Share of positive cash used each month to pay down the credit line.", "[assume]"},
    {Param::reserve_months, "firm.reserve_months", "months", {0.3, 0.4, 0.6, 1.0}, 0, 1200, false,
     "Cash the owners keep in the firm, in months of planned outflows: below it they draw nothing.", "[cal] [JPMC] employer firms hold 18 days"},
    {Param::payout_share, "firm.payout_share", "1", {0.95, 0.95, 0.95, 0.95}, 0, 1, false,
     "Share of a month's profit the owners draw while cash is above the reserve; cash already in the firm stays.", "[assume]; [JPMC] buffers stay thin"},
    {Param::monthly_revenue, "firm.monthly_revenue", "USD/month", kDerivedDefaults, 1, kBig, false,
     "Revenue of a normal month, in the books' units (replaces firm.revenue_per_employee: revenue per employee is this over firm.headcount). Default: headcount x revenue per employee.", "the client's books"},
    {Param::gross_margin, "firm.gross_margin", "1", kDerivedDefaults, 0, 1, false,
     "Share of revenue left after variable costs (replaces firm.variable_cost_share = 1 - gross margin). Default: 1 - variable cost share.", "the client's books"},
    {Param::fixed_costs, "firm.fixed_costs", "USD/month", kDerivedDefaults, 0, kBig, false,
     "Payroll, rent and other fixed costs a month, excluding the owner's salary and the capability budget (replaces firm.fixed_cost_share). Default: fixed cost share x monthly revenue.", "the client's books"},
    {Param::owner_salary, "firm.owner_salary", "USD/month", kDerivedDefaults, 0, kBig, false,
     "The owner's monthly salary (replaces firm.owner_pay_share). Default: owner pay share x monthly revenue.", "the client's books"},
    {Param::cash, "firm.cash", "USD", kDerivedDefaults, 0, 1e13, false,
     "Cash in the bank at the start (replaces firm.cash_buffer_days). Default: cash buffer days of planned outflows.", "the client's books"},
    {Param::credit_line, "firm.credit_line", "USD", kDerivedDefaults, 0, 1e13, false,
     "Credit line granted today, as it is (replaces firm.credit_limit_months; legitimacy does not scale a line entered in USD). Default: credit limit months x monthly revenue x legitimacy.", "the client's books"},
    {Param::segments, "firm.segments", "count", {2, 4, 6, 8}, 1, 16, true,
     "Market segments served, equally weighted: 1 is a niche, many is diversified.", "[A] 'SMBs lack this diversification'; [cal] BDS exit by size"},
    {Param::coupling, "firm.coupling", "1", {0.9, 0.55, 0.35, 0.1}, 0, 1, false,
     "How much each team's work depends on the other teams (people wear many hats).", "[A] 'misalignment cascades'"},
    {Param::agility, "firm.agility", "1/month", {0.5, 0.4, 0.25, 0.12}, 0, 1, false,
     "Share of the gap to the intended allocation closed each month.", "[A] 'Agility as a Double-Edged Sword'"},
    {Param::formality, "firm.formality", "1", {0.0, 0.2, 0.5, 0.8}, 0, 1, false,
     "Formal structures (documented plans, hierarchy): slow the drift of alignment.", "[A] 'formal channels'"},
    {Param::friction_overhead, "firm.friction_overhead", "1", {0.1, 0.1, 0.1, 0.1}, 0, 10, false,
     "Extra fixed cost at full coordination friction, as a share of fixed costs.", "[A] 'duplicated efforts'"},
    {Param::friction_waste, "firm.friction_waste", "1", {0.25, 0.25, 0.25, 0.25}, 0, 1, false,
     "Share of capability-building effort lost at full coordination friction.", "[A] 'wasted effort'"},
    {Param::change_cost, "firm.change_cost", "1", {1.0, 1.0, 1.0, 1.0}, 0, 100, false,
     "Cost of moving budget between capabilities, per unit of budget moved.", "[A] 'chaotic motion'"},
    {Param::budget_share, "strategy.budget_share", "1", {0.08, 0.08, 0.08, 0.08}, 0, 1, false,
     "Monthly spend on building capabilities, as a share of planned revenue.", "[assume]"},
    {Param::budget, "strategy.budget", "USD/month", kDerivedDefaults, 0, kBig, false,
     "Monthly spend on building capabilities (marketing, product, service, ...) in the books' units (replaces strategy.budget_share). Default: budget share x monthly revenue.", "the client's books"},
    {Param::depreciation, "strategy.depreciation", "1/month", {0.04, 0.04, 0.04, 0.04}, 0, 1, false,
     "Monthly decay of capabilities without spend.", "[assume] ~2 year life"},
    {Param::revision, "strategy.revision", "1", {0.3, 0.3, 0.3, 0.3}, 0, 1, false,
     "Share of the gap between the strategy's target and the market's mix as sensed that each review closes (0 = a rigid plan).", "[B] 'Rigidity Versus Agility'"},
    {Param::sensing_noise, "strategy.sensing_noise", "1", {0.2, 0.2, 0.2, 0.2}, 0, 5, false,
     "Error in how a review reads the market's mix (sd of log of each sensed weight).", "[B] 'confirmation bias'; [assume]"},
    {Param::alignment_level, "alignment.level", "1", {0.6, 0.6, 0.6, 0.6}, 0, 1, false,
     "How deeply the strategy is ingrained: starting team alignment, the level reviews restore, and (1 - level) scales drift.", "[A], [B]"},
    {Param::alignment_drift, "alignment.drift", "1/month", {0.10, 0.10, 0.10, 0.10}, 0, 1, false,
     "Monthly erosion of team alignment at alignment.level 0 and no formality.", "[B] 'Lack of Communication'"},
    {Param::alignment_noise, "alignment.noise", "1/sqrt(month)", {0.03, 0.03, 0.03, 0.03}, 0, 1, false,
     "Random month-to-month movement of each team's alignment.", "[assume]"},
    {Param::review_months, "alignment.review_months", "months", {6, 6, 6, 6}, 1, 1200, true,
     "Months between strategic reviews.", "[B] 'regularly review and adjust'"},
    {Param::communication, "alignment.communication", "1", {0.7, 0.7, 0.7, 0.7}, 0, 1, false,
     "Share of the alignment gap a review closes.", "[B] 'communicate these goals clearly'"},
    {Param::review_cost, "alignment.review_cost", "months", {0.02, 0.02, 0.02, 0.02}, 0, 100, false,
     "Management time one strategic review takes, in months of planned revenue.", "[B] reviews take time; [assume]"},
    {Param::chaos, "alignment.chaos", "1", {0.3, 0.3, 0.3, 0.3}, 0, 10, false,
     "Random reallocation per unit of agility and misalignment.", "[A] 'turning potential speed into chaotic motion'"},
    {Param::initiative_rate, "alignment.initiative_rate", "1/year", {1.0, 1.0, 1.0, 1.0}, 0, 100, false,
     "Initiatives beyond the routine budget (a campaign, a product, a site, a system) launched per year; one flops unless what it serves (the strategy, or its team's own priorities) is what the market values.", "[A] 'a misaligned marketing campaign, a poorly chosen location ... deplete their limited cash reserves'; [assume]"},
    {Param::misstep_cost, "alignment.misstep_cost", "months", {0.25, 0.25, 0.25, 0.25}, 0, 100, false,
     "Mean one-off loss of a flopped initiative, in months of planned revenue at current staff (exponentially distributed).", "[A] 'a new menu item that flops'; [assume]"},
    {Param::market_growth, "market.growth", "1/year", {0.02, 0.02, 0.02, 0.02}, -1, 1, false,
     "Trend of demand.", "[assume]"},
    {Param::market_volatility, "market.volatility", "1/sqrt(year)", {0.34, 0.34, 0.34, 0.34}, 0, 5, false,
     "Volatility of demand (geometric Brownian motion).", "[cal] BLS survival at 5 and 10 years"},
    {Param::market_fit, "market.fit", "1", {1.0, 1.0, 1.0, 1.0}, 0.001, 1000, false,
     "Mean product-market fit of a segment (1 = plan): its dispersion changes risk, not expected demand.", "[cal]"},
    {Param::market_fit_sigma, "market.fit_sigma", "1", {0.68, 0.68, 0.68, 0.68}, 0, 5, false,
     "Dispersion (sd of log) of each segment's fit, drawn per run.", "[cal]; Jovanovic (1982)"},
    {Param::fit_learning_months, "market.fit_learning_months", "months", {4, 4, 4, 4}, 0, 1200, false,
     "Time constant with which a new firm's true fit shows in its demand (0 = at once): customers and owner learn it after entry.", "[cal] Jovanovic (1982); BLS hazard by age"},
    {Param::elasticity, "market.elasticity", "1", {1.0, 1.0, 1.0, 1.0}, 0, 20, false,
     "Market share responds to relative value as value^elasticity.", "[assume]"},
    {Param::response, "market.response", "1/month", {0.15, 0.15, 0.15, 0.15}, 0, 1, false,
     "Share of the gap to the value-implied market share closed each month.", "[assume]"},
    {Param::price_elasticity, "market.price_elasticity", "1", kDerivedDefaults, 0, 20, false,
     "How customers answer a price change made by a rule: the market share the firm's value earns is scaled by (price / starting price)^-elasticity, reached with market.response. Default: 1 / the margin over costs that follow volume (variable costs, payroll, premises), at least 0.05: a firm that prices well.", "[assume] the Lerner condition: a firm pricing well has margin = 1 / elasticity"},
    {Param::competitor_budget_share, "market.competitor_budget_share", "1", {0.08, 0.08, 0.08, 0.08}, 0.001, 1, false,
     "What competitors spend on building capabilities, as a share of revenue: the yardstick of the firm's own spend.", "[assume]"},
    {Param::base_value, "market.base_value", "1", {0.3, 0.3, 0.3, 0.3}, 0, 1, false,
     "Share of customer value that does not depend on capability spend (the offer exists, location, habit).", "[assume]"},
    {Param::taste_drift, "market.taste_drift", "1/sqrt(year)", {0.1, 0.1, 0.1, 0.1}, 0, 5, false,
     "Random drift of what customers value (sd of log of each value weight per sqrt(year)).", "[B] markets change; [assume]"},
    {Param::segment_correlation, "market.segment_correlation", "1", {0.4, 0.4, 0.4, 0.4}, 0, 1, false,
     "Correlation between the firm's segments, of their demand and of their fit: diversification damps risk only as far as segments differ.", "[A] 'diversified product lines'; [assume]"},
    {Param::niche_premium, "market.niche_premium", "1", {0.06, 0.06, 0.06, 0.06}, 0, 1, false,
     "Price premium of a specialist serving one segment; a firm serving n segments earns premium / n.", "[A] 'niche markets'"},
    {Param::isomorphism, "market.isomorphism", "1", {0.2, 0.2, 0.2, 0.2}, 0, 1, false,
     "Share of the firm's spend that imitates the industry's average mix (which follows the market with a lag).", "[A] 'Organizational Isomorphism'"},
    {Param::price_pressure, "market.price_pressure", "1", {0.1, 0.1, 0.1, 0.1}, 0, 1, false,
     "Price cut at full isomorphism: an undifferentiated firm competes on price.", "[A] 'indistinguishable from larger competitors'"},
    {Param::legitimacy, "market.legitimacy", "1", {0.5, 0.5, 0.5, 0.5}, 0, 10, false,
     "What conforming buys at full isomorphism: a credit line (1 + legitimacy) times larger and customers who find the firm (1 + legitimacy) times faster.", "[A] 'Organizational Isomorphism' (legitimacy, resource access)"},
    {Param::imitation_lag, "market.imitation_lag", "months", {12, 12, 12, 12}, 1, 1200, false,
     "Time constant with which the industry's average mix (what imitators copy) follows the market's.", "[A] 'Organizational Isomorphism'"},
    {Param::disruption_month, "disruption.month", "month", {0, 0, 0, 0}, 0, 1200, true,
     "Month a disruption shifts the market's value weights (0 = none scheduled).", "[B] 'Disruptive Innovation'"},
    {Param::disruption_rate, "disruption.rate", "1/year", {0, 0, 0, 0}, 0, 12, false,
     "Rate of an unscheduled disruption (at most one per run).", "[B]"},
    {Param::sense_months, "disruption.sense_months", "months", {3, 3, 3, 3}, 0, 1200, false,
     "Mean months to notice a disruption, before bias.", "[B] 'confirmation bias'"},
    {Param::decide_months, "disruption.decide_months", "months", {3, 3, 3, 3}, 0, 1200, false,
     "Mean months from noticing to deciding to realign, before bias.", "[B] 'sunk cost fallacy', 'groupthink'"},
    {Param::confirmation_bias, "disruption.confirmation_bias", "1", {0.3, 0.3, 0.3, 0.3}, 0, 10, false,
     "Stretches the sensing lag by (1 + 2 x bias).", "[B]"},
    {Param::sunk_cost_bias, "disruption.sunk_cost_bias", "1", {0.3, 0.3, 0.3, 0.3}, 0, 10, false,
     "Stretches the decision lag by 2 x bias.", "[B]"},
    {Param::groupthink, "disruption.groupthink", "1", {0.3, 0.3, 0.3, 0.3}, 0, 10, false,
     "Stretches the decision lag by 2 x groupthink x coupling (close-knit teams).", "[B] 'particularly prevalent in close-knit SMB teams'"},
    {Param::automation_month, "automation.month", "month", {0, 0, 0, 0}, 0, 1200, true,
     "Month an automation investment is made (0 = none).", "[A] 'Navigating Automation'"},
    {Param::automation_cost_months, "automation.cost_months", "months", {1.0, 1.0, 1.0, 1.0}, 0, 1200, false,
     "Upfront cost, in months of planned revenue.", "[assume]"},
    {Param::automation_dip, "automation.dip", "1", {0.1, 0.1, 0.1, 0.1}, 0, 1, false,
     "Revenue capacity lost during implementation.", "[A] 'operational disruptions'"},
    {Param::automation_dip_months, "automation.dip_months", "months", {3, 3, 3, 3}, 0, 1200, true,
     "Length of the implementation dip.", "[assume]"},
    {Param::automation_cost_reduction, "automation.cost_reduction", "1", {0.15, 0.15, 0.15, 0.15}, 0, 1, false,
     "Cut in variable costs when the automated capability is valued and the firm aligned.", "[A] 'reduce costs'"},
    {Param::automation_boost, "automation.capability_boost", "1", {0.1, 0.1, 0.1, 0.1}, 0, 10, false,
     "Capability stock added to the automated capability.", "[assume]"},
}};
}  // namespace

const std::array<ParamInfo, kParamCount>& param_table() { return kTable; }
const ParamInfo& info(Param p) { return kTable[static_cast<std::size_t>(p)]; }

std::optional<Param> param_from_path(std::string_view path) {
  for (const auto& p : kTable)
    if (p.path == path) return p.id;
  return std::nullopt;
}

std::optional<Size> size_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kSizeNames.size(); ++i)
    if (kSizeNames[i] == name) return static_cast<Size>(i);
  return std::nullopt;
}

Mix default_value_weights() {
  Mix w;
  //   product marketing sales operations automation service
  w << 0.25, 0.15, 0.20, 0.15, 0.05, 0.20;
  return w;
}

Mix default_disruption_weights() {
  Mix w;
  w << 0.25, 0.10, 0.10, 0.10, 0.30, 0.15;
  return w;
}

std::vector<UncertainInput> uncertain_inputs(const FirmSpec& spec) {
  std::vector<UncertainInput> out;
  for (const auto& p : kTable)
    if (!spec[p.id].is_fixed())
      out.push_back({std::string(p.path), std::string(p.unit), std::string(p.description), &spec[p.id], p.id});
  // A loan's or plan's field: (its Uncertain, field, units, what it is; "@" is the name).
  auto fields = [&](const std::string& kind, const std::string& name,
                    std::initializer_list<std::tuple<const Uncertain*, const char*, const char*, const char*>> list) {
    for (const auto& [u, field, units, what] : list) {
      if (u->is_fixed()) continue;
      std::string text = what;
      text.replace(text.find('@'), 1, name);
      out.push_back({kind + "." + name + "." + field, units, text, u, {}});
    }
  };
  for (const auto& loan : spec.decisions.loans)
    fields("loans", loan.name,
           {{&loan.principal, "principal", "USD", "Principal of the loan @."},
            {&loan.rate, "rate", "1/year", "Annual interest rate of the loan @."}});
  for (const auto& plan : spec.decisions.plans)
    fields("plans", plan.name,
           {{&plan.cost, "cost", "USD", "One-off cost of the plan @, paid in its month."},
            {&plan.fixed_costs, "fixed_costs", "USD/month", "Fixed costs the plan @ adds each month."},
            {&plan.revenue, "revenue", "USD/month", "Monthly revenue of the plan @ at maturity, in today's market."},
            {&plan.ramp_months, "ramp_months", "months", "Time constant of the plan @'s revenue ramp."}});
  return out;
}

FirmSpec preset(Size size) {
  FirmSpec s;
  s.size = size;
  for (const auto& p : kTable)
    s[p.id] = Uncertain(p.defaults[static_cast<std::size_t>(size)]);
  s.value_weights = default_value_weights();
  s.strategy_target = s.value_weights;
  s.disruption_weights = default_disruption_weights();
  return s;
}

}  // namespace smbsim::firm
