//! The comment summariser (`api.md`, "Summaries"): a room of its own. So far: the grounding
//! checks every summary must pass, whichever backend wrote it (`checks`), and the masking of
//! personal data before text leaves the server (`privacy`). The pipeline, backends and jobs
//! build on them.

pub mod checks;
pub mod privacy;
