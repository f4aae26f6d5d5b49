//! Results as an image, for emails and social cards: an SVG drawn here from the poll and its
//! public results, rasterised to PNG by resvg with the bundled DejaVu fonts (no browser, no
//! outside service). Images are cached by what they show, so a burst of requests renders
//! once; while results are hidden the picture carries no figures and no time, so it stays
//! byte-for-byte the same however the votes move.

use app::domain::{Poll, PollStatus, ResultsView};
use axum::body::Bytes;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::fmt::Write;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex};
use tokio::sync::Semaphore;

pub const DEFAULT_WIDTH: u32 = 600;
pub const WIDTHS: std::ops::RangeInclusive<u32> = 200..=2400;
pub const HEIGHTS: std::ops::RangeInclusive<u32> = 100..=2400;
/// Images kept at once (per poll, size and format).
const CACHE_ENTRIES: usize = 512;
/// PNG renders running at once: each takes a core for some milliseconds.
const RENDER_SLOTS: usize = 2;
/// Newer figures redraw an image no sooner than this after its last drawing.
const REDRAW_AFTER: std::time::Duration = std::time::Duration::from_secs(1);
const FONT_FAMILY: &str = "DejaVu Sans";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Svg,
    Png,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Size {
    pub width: u32,
    /// `None`: as tall as the content (email); `Some`: a fixed card (Open Graph 1200×630).
    pub height: Option<u32>,
}

impl Size {
    /// The size asked for in `?w=&h=`, or why it cannot be drawn.
    pub fn parse(width: Option<&str>, height: Option<&str>) -> Result<Self, String> {
        fn number(raw: &str, name: &str, range: &std::ops::RangeInclusive<u32>) -> Result<u32, String> {
            match raw.parse::<u32>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => Err(format!("{name} must be a whole number of pixels from {} to {}.", range.start(), range.end())),
            }
        }
        Ok(Size {
            width: width.map(|w| number(w, "w", &WIDTHS)).transpose()?.unwrap_or(DEFAULT_WIDTH),
            height: height.map(|h| number(h, "h", &HEIGHTS)).transpose()?,
        })
    }
}

/// What an image shows: the question, the options and, where the public may see them, the
/// figures. Hashing it tells whether an image already drawn is still right.
#[derive(Debug, Clone, Hash)]
pub struct Picture {
    question: String,
    status: PollStatus,
    /// The line under the question: "Open until …", "Closed …".
    when: String,
    options: Vec<(String, Option<(u64, u64)>)>,
    total: Option<u64>,
    /// Why there are no figures, when there are none.
    hidden: Option<&'static str>,
    leaders: Vec<usize>,
}

impl Picture {
    /// `results` are the public's (`None` while the poll's rule hides them from the public).
    pub fn new(poll: &Poll, status: PollStatus, results: Option<&ResultsView>) -> Self {
        let when = match status {
            PollStatus::Scheduled => format!("Opens {}", poll.opens_at.format("%-d %b %Y, %H:%M UTC")),
            PollStatus::Open => format!("Open until {}", poll.closes_at.format("%-d %b %Y, %H:%M UTC")),
            PollStatus::Closed => format!("Closed {}", poll.closes_at.format("%-d %b %Y")),
        };
        let hidden = results.is_none().then(|| poll.results_visibility.hidden_reason(status));
        let options = poll
            .options
            .iter()
            .map(|o| {
                let figures = results.and_then(|r| r.options.iter().find(|x| x.id == o.key)).map(|x| {
                    // Tenths of a percent: exact, and hashable.
                    (x.votes, (x.percent * 10.0).round() as u64)
                });
                (o.label.clone(), figures)
            })
            .collect();
        let leaders = match (status, results) {
            (PollStatus::Closed, Some(r)) => {
                let ids: Vec<_> = r.leaders().iter().map(|o| o.id.clone()).collect();
                poll.options.iter().enumerate().filter(|(_, o)| ids.contains(&o.key)).map(|(i, _)| i).collect()
            }
            _ => Vec::new(),
        };
        Picture {
            question: poll.question.clone(),
            status,
            when,
            options,
            total: results.map(|r| r.total_votes),
            hidden,
            leaders,
        }
    }

    fn fingerprint(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        self.hash(&mut hasher);
        hasher.finish()
    }

    /// Everything but the figures: pictures with the same layout differ only by votes.
    fn layout(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        (&self.question, self.status, &self.when, self.hidden).hash(&mut hasher);
        self.options.iter().for_each(|(label, _)| label.hash(&mut hasher));
        hasher.finish()
    }

    /// The image as SVG. `as_of` is printed only with figures.
    pub fn svg(&self, size: Size, as_of: Option<DateTime<Utc>>) -> String {
        // Laid out on a 600-unit-wide grid, scaled by the viewBox to the asked width; a fixed
        // height that is too short for the content widens the grid instead, so it fits.
        const PAD: f64 = 32.0;
        let mut grid_width = 600.0;
        let natural = self.height_for(grid_width, PAD);
        let scale = size.width as f64 / grid_width;
        let (grid_height, offset) = match size.height {
            None => (natural, 0.0),
            Some(h) => {
                let wanted = h as f64 / scale;
                if natural > wanted {
                    let fit = h as f64 / natural;
                    grid_width = size.width as f64 / fit;
                    (natural, (natural - self.height_for(grid_width, PAD)) / 2.0)
                } else {
                    (wanted, (wanted - natural) / 2.0)
                }
            }
        };
        let pixel_height = size.height.unwrap_or((natural * scale).ceil() as u32);
        let mut svg = String::with_capacity(4096);
        let _ = write!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{pixel_height}\" \
             viewBox=\"0 0 {gw:.1} {gh:.1}\" font-family=\"{FONT_FAMILY}, Verdana, Arial, sans-serif\" role=\"img\" \
             aria-label=\"{label}\"><rect width=\"{gw:.1}\" height=\"{gh:.1}\" fill=\"#ffffff\"/>",
            w = size.width,
            gw = grid_width,
            gh = grid_height,
            label = escape(&self.question),
        );
        let inner = grid_width - 2.0 * PAD;
        let mut y = offset + PAD;
        let eyebrow = match (self.status, self.hidden.is_some()) {
            (PollStatus::Closed, false) => "FINAL RESULTS",
            (PollStatus::Open, false) => "RESULTS SO FAR",
            _ => "POLL",
        };
        let _ = write!(
            svg,
            "<text x=\"{PAD}\" y=\"{:.1}\" font-size=\"13\" font-weight=\"bold\" fill=\"#4f46e5\" \
             letter-spacing=\"1\">POLLTELLIGENCE · {eyebrow}</text>",
            y + 13.0
        );
        y += 13.0 + 14.0;
        for line in wrap(&self.question, chars_per_line(inner, 24.0, true), 3) {
            let _ = write!(
                svg,
                "<text x=\"{PAD}\" y=\"{:.1}\" font-size=\"24\" font-weight=\"bold\" fill=\"#111827\">{}</text>",
                y + 24.0,
                escape(&line)
            );
            y += 31.0;
        }
        let _ = write!(
            svg,
            "<text x=\"{PAD}\" y=\"{:.1}\" font-size=\"14\" fill=\"#4b5563\">{}</text>",
            y + 16.0,
            escape(&self.when)
        );
        y += 16.0 + 22.0;
        for (i, (label, figures)) in self.options.iter().enumerate() {
            let leader = self.leaders.contains(&i);
            let figure_text = figures.map(|(votes, tenths)| {
                format!("{}.{}% · {votes} vote{}", tenths / 10, tenths % 10, if votes == 1 { "" } else { "s" })
            });
            let label_room =
                inner - figure_text.as_ref().map_or(0.0, |t| t.chars().count() as f64 * 16.0 * 0.62 + 12.0);
            let label = wrap(label, chars_per_line(label_room, 17.0, leader), 1).into_iter().next().unwrap_or_default();
            let weight = if leader { " font-weight=\"bold\"" } else { "" };
            let _ = write!(
                svg,
                "<text x=\"{PAD}\" y=\"{:.1}\" font-size=\"17\" fill=\"#111827\"{weight}>{}</text>",
                y + 17.0,
                escape(&label)
            );
            if let (Some(text), Some((_, tenths))) = (figure_text, figures) {
                let _ = write!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"16\" font-weight=\"bold\" fill=\"#111827\" \
                     text-anchor=\"end\">{}</text>",
                    PAD + inner,
                    y + 17.0,
                    escape(&text)
                );
                let fill = inner * (*tenths as f64 / 1000.0).min(1.0);
                let colour = if leader { "#3730a3" } else { "#6366f1" };
                let _ = write!(
                    svg,
                    "<rect x=\"{PAD}\" y=\"{:.1}\" width=\"{inner:.1}\" height=\"12\" rx=\"6\" fill=\"#e5e7eb\"/>\
                     <rect x=\"{PAD}\" y=\"{:.1}\" width=\"{fill:.1}\" height=\"12\" rx=\"6\" fill=\"{colour}\"/>",
                    y + 26.0,
                    y + 26.0
                );
                y += 56.0;
            } else {
                y += 32.0;
            }
        }
        let footer = match (self.total, self.hidden) {
            (Some(total), _) => {
                let votes = if total == 1 { "1 vote".to_owned() } else { format!("{total} votes") };
                match as_of {
                    Some(at) => format!("{votes} · as of {}", at.format("%-d %b %Y, %H:%M UTC")),
                    None => votes,
                }
            }
            (None, Some(reason)) => reason.to_owned(),
            (None, None) => String::new(),
        };
        let _ = write!(
            svg,
            "<text x=\"{PAD}\" y=\"{:.1}\" font-size=\"14\" fill=\"#4b5563\">{}</text>",
            y + 10.0,
            escape(&footer)
        );
        svg.push_str("</svg>");
        svg
    }

    /// Height of the content, in grid units, on a grid `width` wide.
    fn height_for(&self, width: f64, pad: f64) -> f64 {
        let inner = width - 2.0 * pad;
        let question_lines = wrap(&self.question, chars_per_line(inner, 24.0, true), 3).len() as f64;
        let rows: f64 = self.options.iter().map(|(_, f)| if f.is_some() { 56.0 } else { 32.0 }).sum();
        pad + 27.0 + 31.0 * question_lines + 38.0 + rows + 10.0 + 8.0 + pad
    }
}

/// How many characters of DejaVu Sans at `size` fit in `width` (average advance 0.55 em,
/// 0.62 bold): an estimate that keeps lines inside the picture without shaping text here.
fn chars_per_line(width: f64, size: f64, bold: bool) -> usize {
    let advance = if bold { 0.62 } else { 0.55 } * size;
    ((width / advance).floor() as usize).max(8)
}

/// Words into at most `max_lines` lines of `width` characters; the last ends in "…" if cut.
fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let word: String = if word.chars().count() > width {
            word.chars().take(width - 1).collect::<String>() + "…"
        } else {
            word.to_owned()
        };
        if current.is_empty() {
            current = word;
        } else if current.chars().count() + 1 + word.chars().count() <= width {
            current.push(' ');
            current.push_str(&word);
        } else {
            lines.push(std::mem::replace(&mut current, word));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        let last = &mut lines[max_lines - 1];
        let kept: String = last.chars().take(width.saturating_sub(1)).collect();
        *last = kept.trim_end().to_owned() + "…";
    }
    lines
}

fn escape(text: &str) -> String {
    // XML text and attributes; control characters are not allowed in XML 1.0 at all.
    text.chars().filter(|c| !c.is_control()).fold(String::with_capacity(text.len()), |mut out, c| {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
        out
    })
}

static FONTS: LazyLock<Arc<resvg::usvg::fontdb::Database>> = LazyLock::new(|| {
    let mut fonts = resvg::usvg::fontdb::Database::new();
    fonts.load_font_data(include_bytes!("../../assets/fonts/DejaVuSans.ttf").to_vec());
    fonts.load_font_data(include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf").to_vec());
    fonts.set_sans_serif_family(FONT_FAMILY);
    Arc::new(fonts)
});

/// Rasterises an SVG drawn by `Picture::svg`.
pub fn png(svg: &str) -> Result<Vec<u8>, String> {
    let options = resvg::usvg::Options { fontdb: FONTS.clone(), ..Default::default() };
    let tree = resvg::usvg::Tree::from_str(svg, &options).map_err(|e| e.to_string())?;
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).ok_or("empty image")?;
    resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| e.to_string())
}

/// An image ready to send, with the validator that names its bytes.
#[derive(Clone)]
pub struct Rendered {
    pub bytes: Bytes,
    pub etag: String,
}

struct Entry {
    fingerprint: u64,
    layout: u64,
    drawn: tokio::time::Instant,
    rendered: Rendered,
    used: u64,
}

/// Images already drawn, by poll, size and format; at most `CACHE_ENTRIES`, the least
/// recently used going first.
/// The use counter (for least-recently-used eviction) and the images by poll, size and format.
type Cache = (u64, HashMap<(i64, Size, Format), Entry>);

pub struct Images {
    cache: Mutex<Cache>,
    slots: Semaphore,
}

impl Default for Images {
    fn default() -> Self {
        Images { cache: Mutex::new((0, HashMap::new())), slots: Semaphore::new(RENDER_SLOTS) }
    }
}

impl Images {
    /// The image of `picture`, drawn now only if what it shows changed since last time.
    pub async fn get(
        &self,
        poll: i64,
        picture: Picture,
        size: Size,
        format: Format,
        now: DateTime<Utc>,
    ) -> Result<Rendered, String> {
        let (fingerprint, layout) = (picture.fingerprint(), picture.layout());
        let key = (poll, size, format);
        if let Some(hit) = self.lookup(&key, fingerprint, layout) {
            return Ok(hit);
        }
        let _slot = self.slots.acquire().await.map_err(|e| e.to_string())?;
        // Another request may have drawn it while this one waited.
        if let Some(hit) = self.lookup(&key, fingerprint, layout) {
            return Ok(hit);
        }
        // The time printed is when these figures were first drawn: the picture is stable
        // until they change. Hidden results print no time at all.
        let as_of = picture.total.map(|_| now);
        let svg = picture.svg(size, as_of);
        let bytes = match format {
            Format::Svg => svg.into_bytes(),
            Format::Png => tokio::task::spawn_blocking(move || png(&svg)).await.map_err(|e| e.to_string())??,
        };
        let etag = format!("\"{fingerprint:016x}-{}\"", as_of.map_or(0, |t| t.timestamp()));
        let rendered = Rendered { bytes: bytes.into(), etag };
        let mut cache = self.cache.lock().expect("image cache lock");
        let (clock, entries) = &mut *cache;
        *clock += 1;
        if entries.len() >= CACHE_ENTRIES && !entries.contains_key(&key) {
            if let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| *k) {
                entries.remove(&oldest);
            }
        }
        let drawn = tokio::time::Instant::now();
        entries.insert(key, Entry { fingerprint, layout, drawn, rendered: rendered.clone(), used: *clock });
        Ok(rendered)
    }

    /// The image drawn for `key` if it shows these figures, or shows this layout and was
    /// drawn less than `REDRAW_AFTER` ago: during a burst of votes an image is redrawn at
    /// most once a second, and says "as of" when it was.
    fn lookup(&self, key: &(i64, Size, Format), fingerprint: u64, layout: u64) -> Option<Rendered> {
        let mut cache = self.cache.lock().expect("image cache lock");
        let (clock, entries) = &mut *cache;
        *clock += 1;
        let entry = entries
            .get_mut(key)
            .filter(|e| e.fingerprint == fingerprint || (e.layout == layout && e.drawn.elapsed() < REDRAW_AFTER))?;
        entry.used = *clock;
        Some(entry.rendered.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words_and_cuts_with_an_ellipsis() {
        assert_eq!(wrap("one two three four", 9, 3), ["one two", "three", "four"]);
        assert_eq!(wrap("one two three four", 9, 2), ["one two", "three…"]);
        assert_eq!(wrap("abcdefghijklmnop", 8, 1), ["abcdefg…"]);
    }

    #[test]
    fn sizes_are_checked() {
        assert_eq!(Size::parse(None, None).unwrap(), Size { width: 600, height: None });
        assert_eq!(Size::parse(Some("1200"), Some("630")).unwrap(), Size { width: 1200, height: Some(630) });
        assert!(Size::parse(Some("20000"), None).is_err());
        assert!(Size::parse(Some("-5"), None).is_err());
        assert!(Size::parse(None, Some("abc")).is_err());
    }

    fn picture(votes: u64) -> Picture {
        Picture {
            question: "Will it stall?".into(),
            status: PollStatus::Open,
            when: "Open until soon".into(),
            options: vec![("Yes".into(), Some((votes, 1000))), ("No".into(), Some((0, 0)))],
            total: Some(votes),
            hidden: None,
            leaders: vec![],
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_votes_redraws_at_most_once_a_second() {
        let images = Images::default();
        let size = Size { width: 600, height: None };
        let now = Utc::now();
        let first = images.get(1, picture(1), size, Format::Svg, now).await.unwrap();
        for votes in 2..50 {
            let during = images.get(1, picture(votes), size, Format::Svg, now).await.unwrap();
            assert_eq!(during.etag, first.etag, "redrawn within the second");
        }
        tokio::time::advance(REDRAW_AFTER).await;
        let later = images.get(1, picture(50), size, Format::Svg, now).await.unwrap();
        assert_ne!(later.etag, first.etag);
        assert!(std::str::from_utf8(&later.bytes).unwrap().contains("50 votes"));
        // A change of layout (here the poll closing) is drawn at once.
        let closed = Picture { status: PollStatus::Closed, ..picture(50) };
        let at_close = images.get(1, closed, size, Format::Svg, now).await.unwrap();
        assert_ne!(at_close.etag, later.etag);
        assert!(std::str::from_utf8(&at_close.bytes).unwrap().contains("FINAL RESULTS"));
    }

    #[test]
    fn markup_in_text_is_escaped_and_the_png_renders() {
        let picture = Picture {
            question: "Is <b>this</b> & \"that\" safe?".into(),
            status: PollStatus::Open,
            when: "Open until soon".into(),
            options: vec![("Yes <i>".into(), Some((3, 750))), ("No".into(), Some((1, 250)))],
            total: Some(4),
            hidden: None,
            leaders: vec![],
        };
        let svg = picture.svg(Size { width: 1200, height: Some(630) }, None);
        assert!(svg.contains("Is &lt;b&gt;this&lt;/b&gt; &amp; &quot;that&quot; safe?"));
        assert!(svg.contains("75.0% · 3 votes"));
        let png = png(&svg).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // Width and height from the IHDR chunk.
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 1200);
        assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 630);
    }
}
