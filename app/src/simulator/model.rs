//! The model of `simulator/MODEL.md`: a cluster that doubles, what it costs to buy and run, what it
//! can train, and what its megawatts would earn mining bitcoin instead. Pure functions.

use super::constants::{H100_BF16_TFLOPS, HOURS_PER_MONTH, HOURS_PER_YEAR};
use super::inputs::{Growth, Inputs};
use super::notable::{notable_models, NotableModel};
use serde::{Deserialize, Serialize};

/// How far months-to-budget looks before saying "not within a century".
const BUDGET_SEARCH_MONTHS: f64 = 1_200.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outputs {
    /// At the horizon.
    pub gpus: f64,
    pub h100_equivalents: f64,
    pub capex: f64,
    pub capex_per_gpu: f64,
    pub power_capacity_mw: f64,
    pub average_draw_mw: f64,
    pub energy_cost_per_month: f64,
    pub running_cost_per_gpu_hour: f64,
    /// Cumulative, from month 0 to the horizon.
    pub gpu_hours: f64,
    pub running_cost: f64,
    pub training_flop: f64,
    /// When capex plus running costs first reach the budget; `None` beyond a century.
    pub months_to_budget: Option<f64>,
    /// When renting would have cost as much as owning one GPU; `None` if rent never covers running it.
    pub breakeven_months: Option<f64>,
    pub owned_cost_per_gpu_hour: f64,
    pub series: Vec<MonthPoint>,
    pub trainable: Vec<Trainable>,
    pub miner: MinersChoice,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthPoint {
    pub month: u32,
    pub gpus: f64,
    pub capex: f64,
    /// Capex plus running costs so far.
    pub spend: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trainable {
    pub model: String,
    pub organization: String,
    pub publication_date: String,
    pub training_flop: f64,
    /// Days the horizon's cluster needs for the model's training compute.
    pub days: f64,
}

/// The same megawatts, two businesses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinersChoice {
    pub megawatts: f64,
    pub bitcoin_per_mw_year: f64,
    pub ai_hosting_per_mw_year: f64,
    pub bitcoin_per_year: f64,
    pub ai_hosting_per_year: f64,
}

struct Model<'a> {
    inputs: &'a Inputs,
    /// Capex per GPU: chip price, plus servers and networking in full-cost mode.
    unit_capex: f64,
    /// Running cost per GPU-hour, $.
    running: f64,
    lambda: f64,
    peak_flops: f64,
}

impl<'a> Model<'a> {
    fn new(inputs: &'a Inputs) -> Self {
        let chip = inputs.chip.spec();
        let tdp_kw = chip.tdp_watts / 1_000.0;
        Model {
            inputs,
            unit_capex: inputs.price_per_gpu * inputs.server_multiplier / (1.0 - inputs.networking_share),
            running: tdp_kw * inputs.server_power_ratio * inputs.in_use_share * inputs.pue * inputs.electricity_per_kwh,
            lambda: std::f64::consts::LN_2 / inputs.doubling_months,
            peak_flops: chip.bf16_tflops * 1e12,
        }
    }

    /// Whole doublings completed by month `t` (with slack for rounding at exact multiples).
    fn doublings(&self, t: f64) -> f64 {
        (t / self.inputs.doubling_months + 1e-9).floor()
    }

    fn gpus(&self, t: f64) -> f64 {
        let n0 = self.inputs.start_gpus;
        match self.inputs.growth {
            Growth::Discrete => n0 * 2f64.powf(self.doublings(t)),
            Growth::Continuous => n0 * (self.lambda * t).exp(),
        }
    }

    /// GPU-hours from month 0 to month `t`: the integral of the GPU count.
    fn gpu_hours(&self, t: f64) -> f64 {
        let (n0, td) = (self.inputs.start_gpus, self.inputs.doubling_months);
        let gpu_months = match self.inputs.growth {
            Growth::Discrete => {
                let k = self.doublings(t);
                // Full periods: n0·td·(1 + 2 + … + 2^(k−1)); then the part of period k.
                n0 * td * (2f64.powf(k) - 1.0) + n0 * 2f64.powf(k) * (t - k * td).max(0.0)
            }
            Growth::Continuous => n0 * (self.lambda * t).exp_m1() / self.lambda,
        };
        gpu_months * HOURS_PER_MONTH
    }

    fn spend(&self, t: f64) -> f64 {
        self.gpus(t) * self.unit_capex + self.gpu_hours(t) * self.running
    }

    fn months_to_budget(&self) -> Option<f64> {
        let budget = self.inputs.budget;
        match self.inputs.growth {
            Growth::Discrete => {
                // Spend jumps at each doubling (new GPUs bought) and rises linearly between.
                let td = self.inputs.doubling_months;
                let mut k = 0.0;
                while k * td <= BUDGET_SEARCH_MONTHS {
                    let start = k * td;
                    let at_start = self.spend(start);
                    if at_start >= budget {
                        return Some(start);
                    }
                    let rate = self.gpus(start) * self.running * HOURS_PER_MONTH;
                    if rate > 0.0 {
                        let t = start + (budget - at_start) / rate;
                        if t < start + td {
                            return (t <= BUDGET_SEARCH_MONTHS).then_some(t);
                        }
                    }
                    k += 1.0;
                }
                None
            }
            Growth::Continuous => {
                if self.spend(0.0) >= budget {
                    return Some(0.0);
                }
                if self.spend(BUDGET_SEARCH_MONTHS) < budget {
                    return None;
                }
                let (mut low, mut high) = (0.0, BUDGET_SEARCH_MONTHS);
                for _ in 0..100 {
                    let mid = (low + high) / 2.0;
                    if self.spend(mid) >= budget {
                        high = mid;
                    } else {
                        low = mid;
                    }
                }
                Some(high)
            }
        }
    }
}

/// Runs the model. Inputs are assumed valid (see `Inputs::apply`).
pub fn simulate(inputs: &Inputs) -> Outputs {
    let model = Model::new(inputs);
    let chip = inputs.chip.spec();
    let horizon = inputs.horizon_months;
    let gpus = model.gpus(horizon);
    let tdp_kw = chip.tdp_watts / 1_000.0;
    let power_capacity_kw = gpus * tdp_kw * inputs.server_power_ratio * inputs.pue;
    let average_draw_kw = power_capacity_kw * inputs.in_use_share;
    let gpu_hours = model.gpu_hours(horizon);
    let flops_per_second = gpus * model.peak_flops * inputs.mfu;
    let margin = inputs.rent_per_gpu_hour - model.running;
    let megawatts = power_capacity_kw / 1_000.0;
    let bitcoin_per_mw_year = inputs.hashprice * 1_000.0 / inputs.miner_efficiency * 365.0;
    Outputs {
        gpus,
        h100_equivalents: gpus * chip.bf16_tflops / H100_BF16_TFLOPS,
        capex: gpus * model.unit_capex,
        capex_per_gpu: model.unit_capex,
        power_capacity_mw: megawatts,
        average_draw_mw: average_draw_kw / 1_000.0,
        energy_cost_per_month: average_draw_kw * HOURS_PER_MONTH * inputs.electricity_per_kwh,
        running_cost_per_gpu_hour: model.running,
        gpu_hours,
        running_cost: gpu_hours * model.running,
        training_flop: gpu_hours * 3_600.0 * model.peak_flops * inputs.mfu,
        months_to_budget: model.months_to_budget(),
        breakeven_months: (margin > 0.0).then(|| model.unit_capex / (margin * HOURS_PER_MONTH)),
        owned_cost_per_gpu_hour: model.unit_capex / (inputs.hardware_life_years * HOURS_PER_YEAR) + model.running,
        series: (0..=horizon as u32)
            .map(|month| {
                let t = f64::from(month);
                MonthPoint {
                    month,
                    gpus: model.gpus(t),
                    capex: model.gpus(t) * model.unit_capex,
                    spend: model.spend(t),
                }
            })
            .collect(),
        trainable: notable_models()
            .iter()
            .map(|m: &NotableModel| Trainable {
                model: m.model.clone(),
                organization: m.organization.clone(),
                publication_date: m.publication_date.clone(),
                training_flop: m.training_flop,
                days: m.training_flop / (flops_per_second * 86_400.0),
            })
            .collect(),
        miner: MinersChoice {
            megawatts,
            bitcoin_per_mw_year,
            ai_hosting_per_mw_year: inputs.ai_hosting_per_mw_year,
            bitcoin_per_year: bitcoin_per_mw_year * megawatts,
            ai_hosting_per_year: inputs.ai_hosting_per_mw_year * megawatts,
        },
    }
}

/// The cluster at month `t` in H100-equivalents (BF16 throughput), without the full run.
pub fn h100_equivalents_at(inputs: &Inputs, t: f64) -> f64 {
    Model::new(inputs).gpus(t) * inputs.chip.spec().bf16_tflops / H100_BF16_TFLOPS
}

/// Training compute from the 6·N·D rule.
pub fn training_flop(parameters: f64, tokens: f64) -> f64 {
    6.0 * parameters * tokens
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::constants::Chip;
    use proptest::prelude::*;

    fn close(actual: f64, expected: f64) {
        assert!(((actual - expected) / expected).abs() < 0.001, "{actual} is not within 0.1% of {expected}");
    }

    fn article(change: impl FnOnce(&mut Inputs)) -> Outputs {
        let mut inputs = Inputs::default();
        change(&mut inputs);
        simulate(&inputs)
    }

    #[test]
    fn case_1_discrete_doubling_and_capex() {
        let six = article(|i| i.horizon_months = 6.0);
        close(six.gpus, 64_000.0);
        close(six.capex, 640_000_000.0);
        let twelve = article(|i| i.horizon_months = 12.0);
        close(twelve.gpus, 512_000.0);
        close(twelve.capex, 5_120_000_000.0);
    }

    #[test]
    fn case_2_months_to_a_billion_without_running_costs() {
        let discrete = article(|i| i.electricity_per_kwh = 0.0);
        close(discrete.months_to_budget.unwrap(), 8.0);
        close(article(|i| i.horizon_months = 8.0).capex, 1_280_000_000.0);
        let continuous = article(|i| {
            i.electricity_per_kwh = 0.0;
            i.growth = Growth::Continuous;
        });
        close(continuous.months_to_budget.unwrap(), 2.0 * 12.5f64.log2());
        close(continuous.months_to_budget.unwrap(), 7.288);
    }

    #[test]
    fn case_3_power_and_energy_of_64000_a100s() {
        let out = article(|i| i.horizon_months = 6.0);
        close(out.power_capacity_mw, 65.0);
        close(out.average_draw_mw, 48.75);
        close(out.energy_cost_per_month, 2_870_000.0);
    }

    #[test]
    fn case_4_six_n_d() {
        close(training_flop(405e9, 15.6e12), 3.79e25);
        close(training_flop(175e9, 300e9), 3.15e23);
    }

    #[test]
    fn published_numbers_hold() {
        // Colossus: 100k H100 drawing about 150 MW (xAI, Sep 2024); our facility figure for
        // 100k H100 at PUE 1.25 is within a quarter of that.
        let colossus = article(|i| {
            let _ = i.apply("chip", "h100");
            i.start_gpus = 100_000.0;
            i.horizon_months = 1.0;
            i.doubling_months = 120.0;
        });
        assert!((colossus.power_capacity_mw - 150.0).abs() / 150.0 < 0.25, "{}", colossus.power_capacity_mw);
        // Owning an A100 at $10,000 over five years: about $0.23 + running ≈ $0.29 per hour,
        // so Lambda's $1.29 pays for the chip in about 11 months.
        let a100 = article(|_| {});
        close(a100.owned_cost_per_gpu_hour, 10_000.0 / (5.0 * 8_766.0) + a100.running_cost_per_gpu_hour);
        close(a100.breakeven_months.unwrap(), 10_000.0 / ((1.29 - a100.running_cost_per_gpu_hour) * 730.5));
        // IREN's guidance: about $1.02M per MW-year at $50/PH/day and 18 J/TH.
        assert!((a100.miner.bitcoin_per_mw_year - 1.02e6).abs() / 1.02e6 < 0.01);
        // Llama 3.1-405B (3.8e25 FLOP) on the article's 8,000 A100s at MFU 0.375: ~470 days.
        let now = article(|i| i.horizon_months = 0.0);
        let llama = now.trainable.iter().find(|m| m.model.starts_with("Llama 3.1-405B")).expect("in the data");
        close(llama.days, llama.training_flop / (8_000.0 * 312e12 * 0.375 * 86_400.0));
    }

    #[test]
    fn h100_equivalents_follow_the_curve() {
        let defaults = Inputs::default();
        close(h100_equivalents_at(&defaults, 0.0), 8_000.0 * 312.0 / 989.4);
        close(h100_equivalents_at(&defaults, 10.0), 256_000.0 * 312.0 / 989.4);
        close(h100_equivalents_at(&defaults, 6.0), article(|i| i.horizon_months = 6.0).h100_equivalents);
    }

    #[test]
    fn full_cost_mode_adds_servers_and_networking() {
        let full = article(|i| {
            let _ = i.apply("mode", "full");
            i.horizon_months = 6.0;
        });
        close(full.capex, 64_000.0 * 10_000.0 * 1.66 / 0.81);
    }

    /// Inputs across the ranges a reader can choose: any chip, 1 to 100,000 GPUs, doubling
    /// every half month to two years, up to ten years, electricity up to $0.30, either growth.
    fn any_inputs() -> impl Strategy<Value = Inputs> {
        (0..Chip::ALL.len(), 1.0..100_000f64, 0.5..24f64, 1.0..120f64, 0.0..0.3f64, any::<bool>()).prop_map(
            |(chip, gpus, doubling, horizon, electricity, discrete)| {
                let mut inputs = Inputs::default();
                let _ = inputs.apply("chip", Chip::ALL[chip].id());
                inputs.start_gpus = gpus.round();
                inputs.doubling_months = doubling;
                inputs.horizon_months = horizon.round();
                inputs.electricity_per_kwh = electricity;
                inputs.growth = if discrete { Growth::Discrete } else { Growth::Continuous };
                inputs
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn gpus_never_decrease_and_spend_only_grows(inputs in any_inputs()) {
            let out = simulate(&inputs);
            for pair in out.series.windows(2) {
                prop_assert!(pair[1].gpus >= pair[0].gpus, "{:?}", pair);
                prop_assert!(pair[1].spend >= pair[0].spend, "{:?}", pair);
            }
        }

        #[test]
        fn continuous_and_discrete_agree_at_whole_doubling_periods(mut inputs in any_inputs(), periods in 0..=10u32) {
            inputs.horizon_months = f64::from(periods) * inputs.doubling_months;
            inputs.growth = Growth::Discrete;
            let discrete = Model::new(&inputs).gpus(inputs.horizon_months);
            inputs.growth = Growth::Continuous;
            let continuous = Model::new(&inputs).gpus(inputs.horizon_months);
            prop_assert!((discrete - continuous).abs() / discrete < 1e-9, "{} vs {}", discrete, continuous);
        }

        #[test]
        fn budget_month_is_where_spend_first_reaches_the_budget(mut inputs in any_inputs(), budget in 1e7..1e11f64) {
            inputs.budget = budget;
            let model = Model::new(&inputs);
            if let Some(t) = model.months_to_budget() {
                prop_assert!(model.spend(t + 1e-6) >= inputs.budget * (1.0 - 1e-9));
                prop_assert!(t == 0.0 || model.spend(t - 1e-3) < inputs.budget, "{:?} at {}", inputs, t);
            }
        }
    }
}
