//! The simulator's inputs: defaults from the article, bounds, and parsing from URL query
//! parameters (the names of `simulator/MODEL.md`), one field at a time so a page can flag just the bad one.

use super::constants::Chip;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Growth {
    /// Doubles in steps: N0 · 2^floor(t / Td).
    Discrete,
    /// Grows smoothly: N0 · e^(λt), λ = ln 2 / Td.
    Continuous,
}

/// Article mode prices a cluster at its chips alone; full cost adds servers and networking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CostMode {
    Article,
    Full,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inputs {
    pub start_gpus: f64,
    pub chip: Chip,
    pub price_per_gpu: f64,
    pub doubling_months: f64,
    pub growth: Growth,
    pub horizon_months: f64,
    pub mode: CostMode,
    pub server_multiplier: f64,
    pub networking_share: f64,
    pub server_power_ratio: f64,
    pub in_use_share: f64,
    pub pue: f64,
    pub electricity_per_kwh: f64,
    pub mfu: f64,
    pub budget: f64,
    pub rent_per_gpu_hour: f64,
    pub hardware_life_years: f64,
    /// Bitcoin hashprice, $ per PH/s per day.
    pub hashprice: f64,
    /// Miner efficiency, J/TH.
    pub miner_efficiency: f64,
    /// What an AI tenant pays per MW-year of hosting.
    pub ai_hosting_per_mw_year: f64,
}

/// The article's scenario: 8,000 A100s at $10,000, doubling every two months.
impl Default for Inputs {
    fn default() -> Self {
        Inputs {
            start_gpus: 8_000.0,
            chip: Chip::A100,
            price_per_gpu: 10_000.0,
            doubling_months: 2.0,
            growth: Growth::Discrete,
            horizon_months: 24.0,
            mode: CostMode::Article,
            server_multiplier: 1.0,
            networking_share: 0.0,
            server_power_ratio: Chip::A100.spec().server_power_ratio,
            in_use_share: 0.75,
            pue: 1.25,
            electricity_per_kwh: 0.0806,
            mfu: 0.375,
            budget: 1e9,
            rent_per_gpu_hour: 1.29,
            hardware_life_years: 5.0,
            hashprice: 50.0,
            miner_efficiency: 18.0,
            ai_hosting_per_mw_year: 1_460_000.0,
        }
    }
}

/// A bad input, named by its query parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InputError {
    pub field: String,
    pub message: String,
}

impl InputError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        InputError { field: field.to_owned(), message: message.into() }
    }
}

/// A numeric input: its parameter name, how the page labels it, and its bounds.
pub struct NumberField {
    pub name: &'static str,
    pub label: &'static str,
    pub min: f64,
    pub max: f64,
    pub step: f64,
    pub whole: bool,
    pub get: fn(&Inputs) -> f64,
    pub set: fn(&mut Inputs, f64),
}

/// A macro because a field's getter and setter are written by its name (`i.$name`), which a
/// function cannot take.
macro_rules! field {
    ($name:ident, $label:literal, $min:expr, $max:expr, $step:expr, $whole:expr) => {
        NumberField {
            name: stringify!($name),
            label: $label,
            min: $min,
            max: $max,
            step: $step,
            whole: $whole,
            get: |i| i.$name,
            set: |i, v| i.$name = v,
        }
    };
}

pub const NUMBER_FIELDS: &[NumberField] = &[
    field!(start_gpus, "Starting GPUs", 1.0, 1e7, 1.0, true),
    field!(price_per_gpu, "Price per GPU ($)", 0.0, 1e6, 100.0, false),
    field!(doubling_months, "Doubling period (months)", 0.5, 120.0, 0.5, false),
    field!(horizon_months, "Horizon (months)", 1.0, 240.0, 1.0, true),
    field!(server_multiplier, "Server cost ÷ chip price", 1.0, 5.0, 0.01, false),
    field!(networking_share, "Networking share of cluster cost", 0.0, 0.9, 0.01, false),
    field!(server_power_ratio, "Server power ÷ chip TDP", 0.5, 5.0, 0.01, false),
    field!(in_use_share, "Share of power drawn while training", 0.0, 1.0, 0.01, false),
    field!(pue, "Power usage effectiveness (PUE)", 1.0, 3.0, 0.01, false),
    field!(electricity_per_kwh, "Electricity ($/kWh)", 0.0, 1.0, 0.001, false),
    field!(mfu, "Model FLOP utilisation", 0.01, 1.0, 0.005, false),
    field!(budget, "Budget ($)", 1.0, 1e13, 1e8, false),
    field!(rent_per_gpu_hour, "Cloud rent ($ per GPU-hour)", 0.0, 100.0, 0.01, false),
    field!(hardware_life_years, "Hardware life (years)", 0.5, 20.0, 0.5, false),
    field!(hashprice, "Hashprice ($ per PH/s per day)", 0.0, 10_000.0, 1.0, false),
    field!(miner_efficiency, "Miner efficiency (J/TH)", 1.0, 200.0, 0.5, false),
    field!(ai_hosting_per_mw_year, "AI hosting ($ per MW-year)", 0.0, 1e8, 10_000.0, false),
];

/// Every query parameter the simulator reads, in the order links write them.
pub fn parameter_names() -> impl Iterator<Item = &'static str> {
    ["chip", "mode", "growth"].into_iter().chain(NUMBER_FIELDS.iter().map(|f| f.name))
}

fn number(field: &NumberField, raw: &str) -> Result<f64, InputError> {
    let value: f64 = raw
        .trim()
        .replace('_', "")
        .parse()
        .map_err(|_| InputError::new(field.name, format!("{raw:?} is not a number")))?;
    let shown = |v: f64| if v.abs() >= 1e6 { format!("{v:e}") } else { format!("{v}") };
    if !value.is_finite() || value < field.min || value > field.max {
        return Err(InputError::new(
            field.name,
            format!("must be between {} and {} (got {raw})", shown(field.min), shown(field.max)),
        ));
    }
    if field.whole && value.fract() != 0.0 {
        return Err(InputError::new(field.name, format!("must be a whole number (got {raw})")));
    }
    Ok(value)
}

impl Inputs {
    /// Sets one input from its query parameter. A chip or mode brings its own defaults for
    /// the inputs that depend on it, so apply those first (as `from_query` does).
    pub fn apply(&mut self, name: &str, raw: &str) -> Result<(), InputError> {
        match name {
            "chip" => {
                let chip = Chip::parse(raw.trim())
                    .ok_or_else(|| InputError::new("chip", "must be one of a100, h100, h200, b200"))?;
                let spec = chip.spec();
                self.chip = chip;
                self.price_per_gpu = spec.price;
                self.server_power_ratio = spec.server_power_ratio;
                self.rent_per_gpu_hour = spec.rent_per_hour;
            }
            "mode" => {
                self.mode = match raw.trim() {
                    "article" => CostMode::Article,
                    "full" => CostMode::Full,
                    _ => return Err(InputError::new("mode", "must be article or full")),
                };
                (self.server_multiplier, self.networking_share) = match self.mode {
                    CostMode::Article => (1.0, 0.0),
                    CostMode::Full => (1.66, 0.19),
                };
            }
            "growth" => {
                self.growth = match raw.trim() {
                    "discrete" => Growth::Discrete,
                    "continuous" => Growth::Continuous,
                    _ => return Err(InputError::new("growth", "must be discrete or continuous")),
                }
            }
            _ => {
                let field = NUMBER_FIELDS
                    .iter()
                    .find(|f| f.name == name)
                    .ok_or_else(|| InputError::new(name, "is not an input of the simulator"))?;
                (field.set)(self, number(field, raw)?);
            }
        }
        Ok(())
    }

    /// Inputs from query pairs, strictly: the first bad or unknown parameter is the error.
    pub fn from_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, InputError> {
        let (good, errors) = Self::from_query_lenient(pairs, true);
        match errors.into_iter().next() {
            Some(error) => Err(error),
            None => Ok(good),
        }
    }

    /// Inputs from query pairs, keeping every good value; the bad ones come back as errors.
    /// Unknown parameters (a newsletter's tracking tags) are errors only when `strict`.
    pub fn from_query_lenient<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        strict: bool,
    ) -> (Self, Vec<InputError>) {
        let mut inputs = Inputs::default();
        let mut errors = Vec::new();
        // Chip and mode first: they set defaults that explicit values then override.
        let mut ordered: Vec<(&str, &str)> = pairs.into_iter().collect();
        ordered.sort_by_key(|(name, _)| !matches!(*name, "chip" | "mode"));
        for (name, raw) in ordered {
            let known = parameter_names().any(|n| n == name);
            if !known && !strict {
                continue;
            }
            if let Err(e) = inputs.apply(name, raw) {
                errors.push(e);
            }
        }
        (inputs, errors)
    }

    /// Query pairs that reproduce these inputs: only what differs from the defaults that
    /// the chip and mode imply, so links stay short.
    pub fn to_query(&self) -> Vec<(&'static str, String)> {
        let mut base = Inputs::default();
        let mut out = Vec::new();
        if self.chip != base.chip {
            let _ = base.apply("chip", self.chip.id());
            out.push(("chip", self.chip.id().to_owned()));
        }
        if self.mode != base.mode {
            let _ = base.apply("mode", "full");
            out.push(("mode", "full".to_owned()));
        }
        if self.growth != base.growth {
            out.push(("growth", "continuous".to_owned()));
        }
        for field in NUMBER_FIELDS {
            let value = (field.get)(self);
            if value != (field.get)(&base) {
                out.push((field.name, format!("{value}")));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_set_inputs_and_name_bad_fields() {
        let inputs = Inputs::from_query([("start_gpus", "16000"), ("growth", "continuous"), ("chip", "H100")]).unwrap();
        assert_eq!((inputs.start_gpus, inputs.growth, inputs.chip), (16_000.0, Growth::Continuous, Chip::H100));
        assert_eq!(inputs.price_per_gpu, 33_600.0, "the chip brings its price");
        let priced = Inputs::from_query([("price_per_gpu", "20000"), ("chip", "h100")]).unwrap();
        assert_eq!(priced.price_per_gpu, 20_000.0, "an explicit price wins over the chip's, in any order");
        let full = Inputs::from_query([("mode", "full")]).unwrap();
        assert_eq!((full.server_multiplier, full.networking_share), (1.66, 0.19));

        for (name, raw, expected) in [
            ("start_gpus", "-5", "start_gpus: must be between 1"),
            ("start_gpus", "1.5", "start_gpus: must be a whole number"),
            ("pue", "NaN", "pue: must be between"),
            ("mfu", "lots", "mfu: \"lots\" is not a number"),
            ("doubling_months", "0", "doubling_months: must be between 0.5"),
            ("chip", "tpu", "chip: must be one of"),
            ("growth", "exponential", "growth: must be discrete or continuous"),
            ("gpus", "5", "gpus: is not an input"),
        ] {
            let error = Inputs::from_query([(name, raw)]).unwrap_err();
            assert_eq!(error.field, name);
            assert!(error.to_string().starts_with(expected), "{error}");
        }
    }

    #[test]
    fn lenient_parsing_keeps_the_good_values() {
        let (inputs, errors) =
            Inputs::from_query_lenient([("start_gpus", "4000"), ("pue", "9"), ("utm_source", "email")], false);
        assert_eq!(inputs.start_gpus, 4_000.0);
        assert_eq!(inputs.pue, Inputs::default().pue);
        assert_eq!(errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["pue"]);
    }

    #[test]
    fn links_round_trip_and_stay_short() {
        assert!(Inputs::default().to_query().is_empty());
        let mut inputs = Inputs::from_query([("chip", "b200"), ("mode", "full"), ("growth", "continuous")]).unwrap();
        inputs.start_gpus = 12_345.0;
        inputs.mfu = 0.4;
        let query = inputs.to_query();
        let pairs: Vec<(&str, &str)> = query.iter().map(|(n, v)| (*n, v.as_str())).collect();
        assert_eq!(Inputs::from_query(pairs).unwrap(), inputs);
        assert_eq!(query.len(), 5, "{query:?}");
    }
}
