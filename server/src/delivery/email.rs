//! One-click votes from the newsletter. Each option gets a link that names the poll, the
//! option and the subscriber (the ESP's merge tag, filled in when the email is sent), signed
//! over poll and option: an edited option or a forged link fails the signature. The
//! subscriber id cannot be signed (it does not exist until the ESP sends), so it only ever
//! adds a limit — one vote per subscriber on top of one per browser — and is stored as a
//! keyed hash, never as the ESP's id.

use crate::html::escape;
use app::domain::{Esp, PollView};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

/// Signature bytes in a link: 128 bits, so links stay short.
const SIGNATURE_BYTES: usize = 16;

/// The current key signs; keys retired by a rotation still verify, so links in issues
/// already sent keep working until the retired key is dropped.
#[derive(Clone)]
pub struct LinkKey(Vec<Hmac<Sha256>>);

impl LinkKey {
    /// `secrets[0]` is the current server secret, the rest retired ones.
    pub fn new(secrets: &[&str]) -> Self {
        let key = |secret: &&str| {
            Hmac::new_from_slice(format!("email-links:{secret}").as_bytes()).expect("HMAC takes keys of any length")
        };
        assert!(!secrets.is_empty(), "a link key needs a secret");
        LinkKey(secrets.iter().map(key).collect())
    }

    fn mac(&self, parts: &[&str]) -> Hmac<Sha256> {
        Self::mac_with(&self.0[0], parts)
    }

    fn mac_with(key: &Hmac<Sha256>, parts: &[&str]) -> Hmac<Sha256> {
        let mut mac = key.clone();
        for part in parts {
            // Length-prefixed, so no two different part lists sign the same bytes.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }

    pub fn sign(&self, slug: &str, option: &str) -> String {
        let bytes = self.mac(&["email-vote", slug, option]).finalize().into_bytes();
        URL_SAFE_NO_PAD.encode(&bytes[..SIGNATURE_BYTES])
    }

    /// True when `signature` is this server's for (poll, option); compared in constant time.
    pub fn verify(&self, slug: &str, option: &str, signature: &str) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(signature) else { return false };
        bytes.len() == SIGNATURE_BYTES
            && self
                .0
                .iter()
                .any(|key| Self::mac_with(key, &["email-vote", slug, option]).verify_truncated_left(&bytes).is_ok())
    }

    /// What is stored for a subscriber id: a keyed hash, stable per server secret.
    pub fn subscriber(&self, id: &str) -> String {
        URL_SAFE_NO_PAD.encode(&self.mac(&["subscriber", id]).finalize().into_bytes()[..SIGNATURE_BYTES])
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Link {
    pub option: String,
    pub url: String,
}

/// `GET /api/v1/editor/polls/{id}/email-block`: HTML for the email, a plain-text part, and
/// the links on their own.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EmailBlock {
    pub html: String,
    pub text: String,
    pub links: Vec<Link>,
}

pub fn vote_link(origin: &str, key: &LinkKey, slug: &str, option: &str, esp: Esp) -> String {
    // The merge tag goes in as it is: encoded, the ESP would no longer recognise it.
    format!(
        "{origin}/polls/{slug}/email-vote?option={option}&sub={tag}&sig={sig}",
        tag = esp.merge_tag(),
        sig = key.sign(slug, option)
    )
}

/// An email-safe block: one table, inline styles only, a button-like link per option and
/// the results image linking to the poll page.
pub fn block(origin: &str, key: &LinkKey, poll: &PollView, esp: Esp) -> EmailBlock {
    let slug = poll.slug.as_str();
    let links: Vec<Link> = poll
        .options
        .iter()
        .map(|o| Link { option: o.id.to_string(), url: vote_link(origin, key, slug, o.id.as_str(), esp) })
        .collect();
    let page = format!("{origin}/polls/{slug}");
    let font = "font-family:Arial,Helvetica,sans-serif";
    let mut html = format!(
        "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
         style=\"max-width:600px;border-collapse:collapse;{font}\">\
         <tr><td style=\"padding:0 0 4px;font-size:12px;font-weight:bold;letter-spacing:1px;color:#4f46e5\">THIS WEEK'S POLL</td></tr>\
         <tr><td style=\"padding:0 0 14px;font-size:22px;line-height:1.3;font-weight:bold;color:#111827\">{question}</td></tr>",
        question = escape(&poll.question)
    );
    for (option, link) in poll.options.iter().zip(&links) {
        html.push_str(&format!(
            "<tr><td style=\"padding:0 0 8px\"><a href=\"{url}\" style=\"display:block;padding:12px 16px;\
             border:2px solid #4f46e5;border-radius:6px;background:#ffffff;color:#3730a3;font-size:17px;\
             font-weight:bold;text-decoration:none;{font}\">{label}</a></td></tr>",
            url = escape(&link.url),
            label = escape(&option.label)
        ));
    }
    html.push_str(&format!(
        "<tr><td style=\"padding:4px 0 14px;font-size:13px;color:#4b5563\">One click opens the poll with your answer \
         chosen; press Confirm there. Your vote counts once.</td></tr>\
         <tr><td><a href=\"{page}\"><img src=\"{origin}/polls/{slug}/results.png\" width=\"600\" \
         alt=\"Results so far: {question}\" style=\"display:block;width:100%;max-width:600px;height:auto;border:0\"></a></td></tr>\
         </table>",
        question = escape(&poll.question)
    ));
    let mut text = format!("THIS WEEK'S POLL\n{}\n\n", poll.question);
    for (option, link) in poll.options.iter().zip(&links) {
        text.push_str(&format!("{}: {}\n", option.label, link.url));
    }
    text.push_str(&format!("\nResults: {page}\n"));
    EmailBlock { html, text, links }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_poll_and_option() {
        let key = LinkKey::new(&["a-secret-that-is-long-enough-for-tests"]);
        let sig = key.sign("ai-stocks", "no");
        assert!(key.verify("ai-stocks", "no", &sig));
        assert!(!key.verify("ai-stocks", "yes", &sig));
        assert!(!key.verify("other-poll", "no", &sig));
        assert!(!key.verify("ai-stocks", "no", "forged"));
        assert!(!key.verify("ai-stocks", "no", ""));
        assert!(!LinkKey::new(&["another-secret-another-secret-xx"]).verify("ai-stocks", "no", &sig));
        // Links sent before a rotation keep working while the old key is listed as retired.
        let rotated = LinkKey::new(&["another-secret-another-secret-xx", "a-secret-that-is-long-enough-for-tests"]);
        assert!(rotated.verify("ai-stocks", "no", &sig));
        assert_ne!(rotated.sign("ai-stocks", "no"), sig);
        // Boundaries between parts matter.
        assert_ne!(key.sign("a-b", "c"), key.sign("a", "b-c"));
        assert_eq!(key.subscriber("42"), key.subscriber("42"));
        assert_ne!(key.subscriber("42"), key.subscriber("43"));
    }
}
