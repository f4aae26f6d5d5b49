//! Drawn images, kept by what they show: a burst of requests renders once, and renders run
//! a few at a time.

use super::{png, Format, ImageError, Picture, Size};
use axum::body::Bytes;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::Semaphore;

/// Images kept at once (per poll, size and format).
const CACHE_ENTRIES: usize = 512;
/// PNG renders running at once: each takes a core for some milliseconds.
const RENDER_SLOTS: usize = 2;
/// Renders one client network may have waiting or running at once; more are refused (429)
/// so that one client cannot queue up work in front of everyone's images.
const RENDERS_PER_CLIENT: usize = 1;
/// Newer figures redraw an image no sooner than this after its last drawing.
pub(super) const REDRAW_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

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

/// The use counter (for least-recently-used eviction) and the images by poll, size and format.
type Cache = (u64, HashMap<(i64, Size, Format), Entry>);

/// Images already drawn, by poll, size and format; at most `CACHE_ENTRIES`, the least
/// recently used going first.
pub struct Images {
    cache: Mutex<Cache>,
    slots: Semaphore,
    per_client: crate::networks::PerClient,
}

impl Default for Images {
    fn default() -> Self {
        Images {
            cache: Mutex::new((0, HashMap::new())),
            slots: Semaphore::new(RENDER_SLOTS),
            per_client: crate::networks::PerClient::new(RENDERS_PER_CLIENT),
        }
    }
}

impl Images {
    /// The image of `picture`, drawn now only if what it shows changed since last time;
    /// `client` (its address) may have one drawing at a time.
    pub async fn get(
        &self,
        poll: i64,
        picture: Picture,
        size: Size,
        format: Format,
        now: DateTime<Utc>,
        client: std::net::IpAddr,
    ) -> Result<Rendered, ImageError> {
        let (fingerprint, layout) = (picture.fingerprint(), picture.layout());
        let key = (poll, size, format);
        if let Some(hit) = self.lookup(&key, fingerprint, layout) {
            return Ok(hit);
        }
        let _turn = self.per_client.take(client).ok_or(ImageError::Busy)?;
        let _slot = self.slots.acquire().await.map_err(|e| ImageError::Render(e.to_string()))?;
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
            Format::Png => tokio::task::spawn_blocking(move || png(&svg))
                .await
                .map_err(|e| ImageError::Render(e.to_string()))??,
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
