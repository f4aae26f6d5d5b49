//! Personal data stays on the server: before comment text goes to an outside model (the
//! `openai` backend), email addresses and phone numbers become placeholders. Quotes are
//! still checked against the original comments, so a placeholder can never pass as a
//! reader's words.

use regex::Regex;
use std::sync::LazyLock;

static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}").expect("email pattern"));
/// Candidates for phone numbers; `is_phone` decides.
static PHONE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\+?\(?\d[\d ().-]{6,}\d").expect("phone pattern"));

pub const EMAIL_MASK: &str = "[email]";
pub const PHONE_MASK: &str = "[phone]";

/// 9 to 15 digits (E.164 allows 15), written like a phone number: with an international
/// prefix, a leading 0, or separators. Dates, prices and counts ("2023-11-14", "1,234,567",
/// "100000 GPUs") stay as they are.
fn is_phone(candidate: &str) -> bool {
    let digits = candidate.chars().filter(char::is_ascii_digit).count();
    let separated = candidate.contains([' ', '(', ')', '-', '.']);
    (9..=15).contains(&digits)
        && (candidate.starts_with('+') || candidate.starts_with('0') || separated)
        && !is_date(candidate)
}

fn is_date(candidate: &str) -> bool {
    let parts: Vec<&str> = candidate.split(['-', '.', ' ']).collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.len() <= 4 && p.chars().all(|c| c.is_ascii_digit()))
}

/// `text` with email addresses and phone numbers replaced by placeholders.
pub fn mask(text: &str) -> String {
    let text = EMAIL.replace_all(text, EMAIL_MASK);
    PHONE
        .replace_all(&text, |caps: &regex::Captures<'_>| {
            let candidate = &caps[0];
            if is_phone(candidate.trim_end()) {
                PHONE_MASK.to_owned()
            } else {
                candidate.to_owned()
            }
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_phone_numbers_are_masked() {
        assert_eq!(mask("Write to jane.doe+ai@news.example.co.uk today"), "Write to [email] today");
        assert_eq!(mask("Call +44 20 7946 0958 or (555) 123-4567."), "Call [phone] or [phone].");
        assert_eq!(mask("my mobile is 07700 900123"), "my mobile is [phone]");
        assert_eq!(mask("+1-202-555-0143!"), "[phone]!");
    }

    #[test]
    fn figures_that_are_not_phone_numbers_stay() {
        for text in [
            "xAI went from 8,000 A100s to 100000 GPUs",
            "Since 2023-11-14 the price fell 1,234,567 times",
            "It costs $14.5 billion and 15.4 MW",
            "GPT-4 and H100 are names",
            "the date 14.11.2023 again",
        ] {
            assert_eq!(mask(text), text);
        }
    }
}
