//! The compute-doubling simulator: "8,000 A100s doubling every couple of months — what does
//! that cost?" Pure Rust with no web or I/O, so the browser (WASM), the server's
//! `/api/v1/simulate` and the tests all run the same code. Model and figures:
//! `MODEL.md`.

pub mod constants;
pub mod inputs;
pub mod model;
pub mod notable;

pub use constants::{Chip, ChipSpec, RECEIPTS, XAI_TIMELINE};
pub use inputs::{CostMode, Growth, InputError, Inputs, NumberField, NUMBER_FIELDS};
pub use model::{h100_equivalents_at, simulate, training_flop, MonthPoint, Outputs, Trainable};
