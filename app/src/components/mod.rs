//! Views shared by the pages. They render data; they hold no rules of their own.

mod poll_card;
mod results;

pub use poll_card::PollCard;
pub use results::{winner_sentence, ResultsBars};

use chrono::{DateTime, Utc};

pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%-d %b %Y, %H:%M UTC").to_string()
}
