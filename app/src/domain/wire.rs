//! How the browser build reads what the server sends.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

/// An RFC 3339 time, as the server writes it. The browser build reads times with this instead
/// of chrono's general parser (its `FromStr` also accepts RFC 2822 and relaxed forms), which
/// would be a sizeable part of the readers' WASM bundle.
pub fn rfc3339<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
    DateTime::parse_from_rfc3339(&text).map(|t| t.with_timezone(&Utc)).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    #[derive(serde::Deserialize)]
    struct At {
        #[serde(deserialize_with = "super::rfc3339")]
        at: DateTime<Utc>,
    }

    #[test]
    fn reads_what_the_server_writes() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T22:00:01.250+01:00").unwrap().with_timezone(&Utc);
        let written = serde_json::json!({ "at": now }).to_string();
        let read: At = serde_json::from_str(&written).unwrap();
        assert_eq!(read.at, now);
        assert!(serde_json::from_str::<At>(r#"{"at":"26 Nov 2026"}"#).is_err());
    }
}
