//! One component per route: readers' pages, the simulator, and the editor workspace under `/editor`.
//!
//! Pages are server components; what a page does in the browser lives in its islands. The
//! editor's and the simulator's islands are `lazy` (their own WASM chunks under `--split`),
//! so a reader's page never downloads them.

pub mod editor;
mod reader;
mod simulator;

pub use reader::{ArchivePage, HomePage, NotFound, PollPage};
pub use simulator::SimulatorPage;
