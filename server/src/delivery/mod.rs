//! Delivery: the poll where readers are. Results images (`images`), signed one-click email
//! links and the blocks that carry them (`email`), and the snippets that embed the widget
//! (`embed_snippet`). The HTTP doors for all of it are in `http::delivery`; votes from every
//! door go through the same `Polls::cast_vote`.

pub mod email;
pub mod images;

use crate::html::escape;
use app::domain::{EmailBlockView, Esp, PollView, ShareKit};

/// Height the widget frame starts at before it reports its own (question, options, button).
pub fn widget_height(poll: &PollView) -> u32 {
    170 + 46 * poll.options.len() as u32 + if poll.allow_comment { 100 } else { 0 }
}

/// The `<iframe>` an issue pastes (also oEmbed's `html`), plus the optional resizer script.
pub fn embed_snippet(origin: &str, poll: &PollView) -> String {
    format!(
        "<iframe src=\"{origin}/embed/{slug}\" title=\"Poll: {title}\" width=\"600\" height=\"{height}\" \
         style=\"border:0;width:100%;max-width:600px\" loading=\"lazy\"></iframe>\
         <script async src=\"{origin}/embed.js\"></script>",
        slug = poll.slug,
        title = escape(&poll.question),
        height = widget_height(poll),
    )
}

/// The editor's share panel: every address and snippet for one poll.
pub fn share_kit(origin: &str, links: &email::LinkKey, poll: &PollView) -> ShareKit {
    let slug = poll.slug.as_str();
    let page_url = format!("{origin}/polls/{slug}");
    let encoded: String = url::form_urlencoded::byte_serialize(page_url.as_bytes()).collect();
    ShareKit {
        oembed_url: format!("{origin}/oembed?url={encoded}&format=json"),
        embed_url: format!("{origin}/embed/{slug}"),
        iframe: embed_snippet(origin, poll),
        image_png: format!("{origin}/polls/{slug}/results.png"),
        image_card: format!("{origin}/polls/{slug}/results.png?w=1200&h=630"),
        image_svg: format!("{origin}/polls/{slug}/results.svg"),
        emails: Esp::ALL
            .into_iter()
            .map(|esp| {
                let block = email::block(origin, links, poll, esp);
                EmailBlockView { esp, html: block.html, text: block.text }
            })
            .collect(),
        page_url,
    }
}
