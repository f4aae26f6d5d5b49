//! Where polls travel beyond the site: the email services whose subscriber merge tags go
//! into one-click vote links.

use serde::{Deserialize, Serialize};

/// An email service provider (ESP) and the merge tag it replaces with the subscriber's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Esp {
    Generic,
    Mailchimp,
    Kit,
    Beehiiv,
    Buttondown,
}

impl Esp {
    pub const ALL: [Esp; 5] = [Esp::Generic, Esp::Mailchimp, Esp::Kit, Esp::Beehiiv, Esp::Buttondown];

    pub fn parse(name: &str) -> Option<Esp> {
        Esp::ALL.into_iter().find(|esp| esp.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Esp::Generic => "generic",
            Esp::Mailchimp => "mailchimp",
            Esp::Kit => "kit",
            Esp::Beehiiv => "beehiiv",
            Esp::Buttondown => "buttondown",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Esp::Generic => "Any ESP",
            Esp::Mailchimp => "Mailchimp",
            Esp::Kit => "Kit",
            Esp::Beehiiv => "beehiiv",
            Esp::Buttondown => "Buttondown",
        }
    }

    /// The tag the ESP replaces with a per-subscriber id when it sends (each ESP's own syntax).
    pub fn merge_tag(self) -> &'static str {
        match self {
            Esp::Generic => "{{subscriber_id}}",
            Esp::Mailchimp => "*|UNIQID|*",
            Esp::Kit => "{{ subscriber.id }}",
            Esp::Beehiiv => "{{subscriber_id}}",
            Esp::Buttondown => "{{ subscriber.id }}",
        }
    }
}

/// Everything an editor copies into the next issue to bring a poll to readers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareKit {
    pub page_url: String,
    /// The widget's own address, and the `<iframe>` snippet that shows it.
    pub embed_url: String,
    pub iframe: String,
    pub oembed_url: String,
    pub image_png: String,
    pub image_card: String,
    pub image_svg: String,
    pub emails: Vec<EmailBlockView>,
}

/// The email block for one ESP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailBlockView {
    pub esp: Esp,
    pub html: String,
    pub text: String,
}

/// Why the `sub` of an email vote link cannot name a subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriberProblem {
    Missing,
    /// The ESP sent the merge tag itself (a test send, a forwarded or web copy of the issue).
    NotMerged,
    /// Too long, or characters no ESP uses in ids.
    Odd,
}

/// Longest subscriber id accepted from a link.
pub const SUBSCRIBER_MAX_CHARS: usize = 128;

/// Checks the subscriber id a link carries.
pub fn check_subscriber(raw: Option<&str>) -> Result<&str, SubscriberProblem> {
    let sub = raw.map(str::trim).filter(|s| !s.is_empty()).ok_or(SubscriberProblem::Missing)?;
    if ["{{", "}}", "*|", "|*", "{%", "%}"].iter().any(|tag| sub.contains(tag)) {
        return Err(SubscriberProblem::NotMerged);
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-_.@+=:".contains(c);
    if sub.chars().count() > SUBSCRIBER_MAX_CHARS || !sub.chars().all(allowed) {
        return Err(SubscriberProblem::Odd);
    }
    Ok(sub)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_esp_round_trips_and_has_a_tag() {
        for esp in Esp::ALL {
            assert_eq!(Esp::parse(esp.name()), Some(esp));
            assert!(!esp.merge_tag().is_empty());
            // An unreplaced tag is recognised as such.
            assert_eq!(check_subscriber(Some(esp.merge_tag())), Err(SubscriberProblem::NotMerged));
        }
        assert_eq!(Esp::parse("sendgrid"), None);
    }

    #[test]
    fn subscriber_ids_are_checked() {
        assert_eq!(check_subscriber(Some("a1b2c3d4e5")), Ok("a1b2c3d4e5"));
        assert_eq!(check_subscriber(Some("reader@example.com")), Ok("reader@example.com"));
        assert_eq!(check_subscriber(None), Err(SubscriberProblem::Missing));
        assert_eq!(check_subscriber(Some("  ")), Err(SubscriberProblem::Missing));
        assert_eq!(check_subscriber(Some("<script>")), Err(SubscriberProblem::Odd));
        assert_eq!(check_subscriber(Some(&"x".repeat(129))), Err(SubscriberProblem::Odd));
    }
}
