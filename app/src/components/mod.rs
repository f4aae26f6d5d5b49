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
        // Times the server wrote in UTC outside any island, in the reader's own zone now.
        #[cfg(feature = "hydrate")]
        browser::localise_times();
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "");
        }
    });
}

/// Puts `text` on the clipboard (the asynchronous Clipboard API, called through JavaScript
/// reflection so no unstable web-sys API is needed). False where the browser refuses.
pub fn copy_text(text: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::{JsCast, JsValue};
        let clipboard = js_sys::Reflect::get(&window().navigator(), &JsValue::from_str("clipboard"));
        let Ok(clipboard) = clipboard else { return false };
        let write = js_sys::Reflect::get(&clipboard, &JsValue::from_str("writeText")).ok();
        match write.and_then(|w| w.dyn_into::<js_sys::Function>().ok()) {
            Some(write) => write.call1(&clipboard, &JsValue::from_str(text)).is_ok(),
            None => false,
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        false
    }
}

/// A time as the server writes it (UTC), marked for the browser to rewrite in local time
/// once the page is interactive (`browser::localise_times`).
#[component]
pub fn Time(at: DateTime<Utc>) -> impl IntoView {
    view! { <time datetime=at.to_rfc3339() data-local="">{format_time(at)}</time> }
}

pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// How long from `now` until `then`, as a reader says it: "6 days", "5 hours", "1 minute".
pub fn time_left(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let seconds = (then - now).num_seconds().max(0);
    let (n, unit) = match seconds {
        s if s >= 2 * 86_400 => (s / 86_400, "day"),
        s if s >= 3_600 => (s / 3_600, "hour"),
        s if s >= 60 => (s / 60, "minute"),
        _ => return "under a minute".to_owned(),
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
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

    #[test]
    fn time_left_reads_like_a_countdown() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let left = |seconds: i64| super::time_left(now, now + chrono::Duration::seconds(seconds));
        assert_eq!(left(6 * 86_400 + 3_600), "6 days");
        assert_eq!(left(2 * 86_400), "2 days");
        // Under two days, hours say more than "1 day".
        assert_eq!(left(86_400 + 5 * 3_600), "29 hours");
        assert_eq!(left(3_600), "1 hour");
        assert_eq!(left(12 * 60 + 30), "12 minutes");
        assert_eq!(left(59), "under a minute");
        assert_eq!(left(-5), "under a minute");
    }
}
