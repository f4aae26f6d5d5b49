//! Views shared by the pages. They render data; they hold no rules of their own.

mod live;
mod local_time;
mod poll_card;
mod results;
mod summary;

pub use live::{follow_events, follow_live, LiveResults};
#[cfg(feature = "hydrate")]
pub use local_time::browser;
pub use local_time::input_time;
#[cfg(any(feature = "ssr", not(feature = "reader-bundle")))]
pub use local_time::LocalTime;
pub use poll_card::PollCard;
pub use results::{winner_sentence, ResultsBars};
pub use summary::{comments, ReaderSummary};

use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// Marks the page interactive (`<body data-hydrated>`) for browser tests and curious readers.
/// Islands hydrate in document order, each awaited (lazy ones once their code is in), so this
/// last one runs after every island above it.
#[island]
pub fn Hydrated() -> impl IntoView {
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "");
        }
    });
}

pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

/// Dollars as people say them: "$10,000", "$640 million", "$1.28 billion".
pub fn format_money(dollars: f64) -> String {
    let (value, unit) = match dollars.abs() {
        d if d >= 1e12 => (dollars / 1e12, " trillion"),
        d if d >= 1e9 => (dollars / 1e9, " billion"),
        d if d >= 1e6 => (dollars / 1e6, " million"),
        _ => {
            let whole = dollars.round() as i64;
            return format!("{}${}", if whole < 0 { "-" } else { "" }, thousands(whole.unsigned_abs()));
        }
    };
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("${text}{unit}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn money_reads_like_a_newsletter() {
        assert_eq!(super::format_money(10_000.0), "$10,000");
        assert_eq!(super::format_money(640_000_000.0), "$640 million");
        assert_eq!(super::format_money(1_280_000_000.0), "$1.28 billion");
        assert_eq!(super::format_money(2_870_400.0), "$2.87 million");
        assert_eq!(super::format_money(-1_234.4), "-$1,234");
    }
}
