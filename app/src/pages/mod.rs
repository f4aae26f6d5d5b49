//! One component per route: readers' pages, the simulator, and the editor workspace under `/editor`.

pub mod editor;
mod reader;
mod simulator;

pub use reader::{ArchivePage, HomePage, NotFound, PollPage};
pub use simulator::SimulatorPage;
