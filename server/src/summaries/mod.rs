//! The comment summariser (`api.md`, "Summaries"): a room of its own. So far: the grounding
//! checks every summary must pass, whichever backend wrote it (`checks`). The pipeline,
//! backends and jobs build on them.

pub mod checks;
