//! One component per route: readers' pages, and the editor workspace under `/editor`.

pub mod editor;
mod reader;

pub use reader::{ArchivePage, HomePage, NotFound, PollPage};
