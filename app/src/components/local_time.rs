//! Times in the reader's or editor's own time zone. The server renders UTC; once the page
//! is hydrated the browser rewrites it in local time.

use chrono::{DateTime, Utc};
#[cfg(any(feature = "ssr", not(feature = "reader-bundle")))]
use leptos::prelude::*;

/// A lazy island of its own on server-rendered pages (the editor's tables); inside another
/// island it is an ordinary part of that island.
#[cfg(any(feature = "ssr", not(feature = "reader-bundle")))]
#[island(lazy)]
pub fn LocalTime(at: DateTime<Utc>) -> impl IntoView {
    let text = RwSignal::new(super::format_time(at));
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        text.set(browser::display(at));
    });
    view! { <time datetime=at.to_rfc3339()>{text}</time> }
}

/// `datetime-local` input text for `at`: UTC on the server, local time in the browser.
pub fn input_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M").to_string()
}

#[cfg(feature = "hydrate")]
pub mod browser {
    use chrono::{DateTime, NaiveDateTime, Utc};
    use chrono::{Datelike, Timelike};
    use wasm_bindgen::JsValue;

    fn date(at: DateTime<Utc>) -> js_sys::Date {
        js_sys::Date::new(&JsValue::from_f64(at.timestamp_millis() as f64))
    }

    pub fn input_time(at: DateTime<Utc>) -> String {
        let d = date(at);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}",
            d.get_full_year(),
            d.get_month() + 1,
            d.get_date(),
            d.get_hours(),
            d.get_minutes()
        )
    }

    /// The UTC instant of a `datetime-local` value read in the browser's time zone.
    pub fn from_input(local: &str) -> Option<DateTime<Utc>> {
        let t = NaiveDateTime::parse_from_str(local.trim(), "%Y-%m-%dT%H:%M").ok()?;
        let d = js_sys::Date::new_with_year_month_day_hr_min(
            t.year() as u32,
            t.month0() as i32,
            t.day() as i32,
            t.hour() as i32,
            t.minute() as i32,
        );
        let ms = d.get_time();
        if ms.is_nan() {
            None
        } else {
            DateTime::from_timestamp_millis(ms as i64)
        }
    }

    pub fn display(at: DateTime<Utc>) -> String {
        const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let d = date(at);
        format!(
            "{} {} {}, {:02}:{:02}",
            d.get_date(),
            MONTHS[(d.get_month() as usize).min(11)],
            d.get_full_year(),
            d.get_hours(),
            d.get_minutes()
        )
    }

    /// Rewrites every `<time data-local datetime="…">` in the page in the reader's own zone
    /// and way of writing dates ("3 Dec 2026, 10:00 CET"), by the browser's own `Intl`: the
    /// readers' bundle carries no date formatting of its own.
    pub fn localise_times() {
        use wasm_bindgen::JsCast;
        let Ok(times) = leptos::prelude::document().query_selector_all("time[data-local]") else { return };
        let options = js_sys::Object::new();
        for (key, value) in
            [("day", "numeric"), ("month", "short"), ("year", "numeric"), ("hour", "2-digit"), ("minute", "2-digit")]
                .into_iter()
                .chain([("timeZoneName", "short")])
        {
            let _ = js_sys::Reflect::set(&options, &JsValue::from_str(key), &JsValue::from_str(value));
        }
        for i in 0..times.length() {
            let Some(time) = times.item(i).and_then(|node| node.dyn_into::<web_sys::Element>().ok()) else {
                continue;
            };
            let Some(at) = time.get_attribute("datetime") else { continue };
            let date = js_sys::Date::new(&JsValue::from_str(&at));
            if !date.get_time().is_nan() {
                let text = date.to_locale_string("en-GB", &options);
                time.set_text_content(text.as_string().as_deref());
            }
        }
    }

    /// The browser's time zone, as `Europe/London (UTC+00:00)`.
    pub fn zone() -> String {
        let offset = -(js_sys::Date::new_0().get_timezone_offset() as i64);
        let sign = if offset < 0 { '-' } else { '+' };
        let utc = format!("UTC{sign}{:02}:{:02}", offset.abs() / 60, offset.abs() % 60);
        let options =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new()).resolved_options();
        match js_sys::Reflect::get(&options, &JsValue::from_str("timeZone")).ok().and_then(|v| v.as_string()) {
            Some(name) => format!("{name} ({utc})"),
            None => utc,
        }
    }
}
