//! Results as an image, for emails and social cards: an SVG drawn here from the poll and its
//! public results, rasterised to PNG by resvg with the bundled DejaVu fonts (no browser, no
//! outside service). Images are cached by what they show, so a burst of requests renders
//! once; while results are hidden the picture carries no figures and no time, so it stays
//! byte-for-byte the same however the votes move.

use app::domain::{Counted, Poll, PollStatus, ResultsView};
use chrono::{DateTime, Utc};
use std::fmt::Write;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, LazyLock};

pub const DEFAULT_WIDTH: u32 = 600;
pub const WIDTHS: std::ops::RangeInclusive<u32> = 200..=2400;
pub const HEIGHTS: std::ops::RangeInclusive<u32> = 100..=2400;
/// The sizes drawn: a size asked for is rounded to the nearest of these (ties upwards), so
/// the whole range is at most 11 widths × 15 heights per poll and format, and a stranger
/// cycling through `?w=&h=` pairs mostly hits the cache. They hold the common ones exactly:
/// email columns (300–800), Open Graph's 1200×630, X's 1200×600, a square 1080×1080.
pub const WIDTH_PRESETS: [u32; 11] = [200, 300, 400, 500, 600, 800, 1000, 1080, 1200, 1600, 2400];
pub const HEIGHT_PRESETS: [u32; 15] = [100, 150, 200, 300, 400, 500, 600, 630, 800, 1000, 1080, 1200, 1600, 2000, 2400];

/// The preset nearest to `n` (the larger of two equally near).
fn nearest(presets: &[u32], n: u32) -> u32 {
    presets.iter().copied().min_by_key(|p| (p.abs_diff(n), std::cmp::Reverse(*p))).unwrap_or(n)
}
const FONT_FAMILY: &str = "DejaVu Sans";

/// Why there is no image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// A query's `w` or `h` (`name`) out of range: the reader's to fix.
    #[error("{name} must be a whole number of pixels from {from} to {to}.")]
    BadSize { name: &'static str, from: u32, to: u32 },
    /// This client already has renders waiting or running: it is to try again in a moment.
    #[error("this client already has images being drawn; try again in a moment")]
    Busy,
    /// Ours: the SVG did not rasterise, or the renderer stopped.
    #[error("the image could not be drawn: {0}")]
    Render(String),
}

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
    /// The size asked for in `?w=&h=`, rounded to the presets, or why it cannot be drawn.
    pub fn parse(width: Option<&str>, height: Option<&str>) -> Result<Self, ImageError> {
        fn number(raw: &str, name: &'static str, range: &std::ops::RangeInclusive<u32>) -> Result<u32, ImageError> {
            match raw.parse::<u32>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => Err(ImageError::BadSize { name, from: *range.start(), to: *range.end() }),
            }
        }
        let width = width.map(|w| number(w, "w", &WIDTHS)).transpose()?.unwrap_or(DEFAULT_WIDTH);
        let height = height.map(|h| number(h, "h", &HEIGHTS)).transpose()?;
        Ok(Size { width: nearest(&WIDTH_PRESETS, width), height: height.map(|h| nearest(&HEIGHT_PRESETS, h)) })
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
    /// Votes, or readers (multiple choice): what the figures count.
    counted: Counted,
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
            counted: Counted::of(poll.kind.max_choices()),
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
            let figure_text = figures
                .map(|(votes, tenths)| format!("{}.{}% · {}", tenths / 10, tenths % 10, self.counted.count(votes)));
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
                let votes = match self.counted {
                    Counted::Votes => self.counted.count(total),
                    Counted::Readers => self.counted.total(total),
                };
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

/// XML text and attributes; control characters are not allowed in XML 1.0 at all.
fn escape(text: &str) -> String {
    crate::html::escape(&text.replace(|c: char| c.is_control(), ""))
}

static FONTS: LazyLock<Arc<resvg::usvg::fontdb::Database>> = LazyLock::new(|| {
    let mut fonts = resvg::usvg::fontdb::Database::new();
    fonts.load_font_data(include_bytes!("../../assets/fonts/DejaVuSans.ttf").to_vec());
    fonts.load_font_data(include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf").to_vec());
    fonts.set_sans_serif_family(FONT_FAMILY);
    Arc::new(fonts)
});

/// Rasterises an SVG drawn by `Picture::svg`.
pub fn png(svg: &str) -> Result<Vec<u8>, ImageError> {
    let failed = |e: &dyn std::fmt::Display| ImageError::Render(e.to_string());
    let options = resvg::usvg::Options { fontdb: FONTS.clone(), ..Default::default() };
    let tree = resvg::usvg::Tree::from_str(svg, &options).map_err(|e| failed(&e))?;
    let size = tree.size().to_int_size();
    let mut pixmap =
        resvg::tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| failed(&"an empty image"))?;
    resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| failed(&e))
}

mod cache;
pub use cache::{Images, Rendered};

#[cfg(test)]
mod tests;
