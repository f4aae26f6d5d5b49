//! Views shared by the pages. They render data; they hold no rules of their own.

mod local_time;
mod poll_card;
mod results;

#[cfg(feature = "hydrate")]
pub use local_time::browser;
pub use local_time::{input_time, LocalTime};
pub use poll_card::PollCard;
pub use results::{winner_sentence, ResultsBars};

use chrono::{DateTime, Utc};

pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%-d %b %Y, %H:%M UTC").to_string()
}
