//! The browser bundle (`/pkg`: JS, WASM chunks, CSS), read once at start and served from
//! memory: no file system call per request, the brotli or gzip `make build` wrote beside each
//! file sent as is (brotli where the browser takes it: the readers' WASM is a fifth smaller), and a strong ETag so a returning browser revalidates with a 304 and no body.
//! Kept by hand rather than tower-http's `ServeDir`, which opens and reads the file on every
//! request; this is a table lookup.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// The bundle's file names do not change between builds (wasm-split's loader refers to its
/// chunks by fixed names), so browsers keep a copy for five minutes, then revalidate it
/// with the ETag, which costs a 304 and no body while the file is unchanged.
const CACHE_CONTROL: &str = "public, max-age=300";

struct Asset {
    content_type: HeaderValue,
    plain: Variant,
    /// Compressed forms, best first: (content coding, body).
    compressed: Vec<(&'static str, Variant)>,
}

struct Variant {
    body: Bytes,
    etag: HeaderValue,
}

/// The content codings `make build` writes beside a file: (coding, file suffix), best first.
const CODINGS: [(&str, &str); 2] = [("br", "br"), ("gzip", "gz")];

impl Variant {
    fn new(body: Vec<u8>, suffix: &str) -> Variant {
        let digest = Sha256::digest(&body);
        let tag: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        let etag = HeaderValue::from_str(&format!("\"{tag}{suffix}\"")).expect("hex is a valid header");
        Variant { body: body.into(), etag }
    }
}

/// Every file of the bundle, by its path under `/pkg`.
#[derive(Default)]
pub struct Assets(HashMap<String, Asset>);

impl Assets {
    /// Reads `dir` (the site's `pkg` folder) and its subfolders. A missing folder is an empty
    /// bundle (the HTTP tests run without a browser build), not an error.
    pub fn load(dir: &std::path::Path) -> std::io::Result<Assets> {
        let mut assets = HashMap::new();
        if dir.is_dir() {
            read_dir(dir, "", &mut assets)?;
        }
        Ok(Assets(assets))
    }

    pub fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        Router::new().route("/pkg/{*path}", get(serve)).with_state(Arc::new(self))
    }
}

fn read_dir(dir: &std::path::Path, prefix: &str, assets: &mut HashMap<String, Asset>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            read_dir(&path, &format!("{prefix}{name}/"), assets)?;
            continue;
        }
        // A `.gz` or `.br` is the compressed form of the file beside it, not a file of its own.
        let compressed_form = CODINGS.iter().any(|(_, suffix)| name.ends_with(&format!(".{suffix}")));
        if compressed_form && path.with_extension("").is_file() {
            continue;
        }
        let mut compressed = Vec::new();
        for (coding, suffix) in CODINGS {
            let sibling = dir.join(format!("{name}.{suffix}"));
            if sibling.is_file() {
                compressed.push((coding, Variant::new(std::fs::read(&sibling)?, &format!("-{suffix}"))));
            }
        }
        let content_type = mime_guess::from_path(&path).first_or_octet_stream();
        let content_type = match content_type.type_() {
            mime_guess::mime::TEXT | mime_guess::mime::JAVASCRIPT => format!("{content_type}; charset=utf-8"),
            _ => content_type.to_string(),
        };
        let content_type =
            HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
        assets.insert(
            format!("{prefix}{name}"),
            Asset { content_type, plain: Variant::new(std::fs::read(&path)?, ""), compressed },
        );
    }
    Ok(())
}

async fn serve(State(assets): State<Arc<Assets>>, Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = assets.0.get(&path) else {
        return (StatusCode::NOT_FOUND, [(header::CACHE_CONTROL, "no-store")], "Not found\n").into_response();
    };
    let chosen = asset.compressed.iter().find(|(coding, _)| accepts(&headers, coding));
    let variant = chosen.map_or(&asset.plain, |(_, variant)| variant);
    let mut response = if not_modified(&headers, &variant.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = variant.body.clone().into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, asset.content_type.clone());
        if let Some((coding, _)) = chosen {
            response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, variant.etag.clone());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL));
    if !asset.compressed.is_empty() {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// `Accept-Encoding` lists `coding` (or `*`) with a non-zero quality.
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |listed| {
            let mut parts = listed.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()) == Some(0.0));
            (name.eq_ignore_ascii_case(coding) || name == "*") && !refused
        },
    )
}

/// `If-None-Match` names this ETag (or `*`); weak comparison, as RFC 9110 asks for GET.
fn not_modified(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str() else { return false };
    headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |candidate| {
            let candidate = candidate.trim();
            candidate == "*" || candidate.trim_start_matches("W/") == etag
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs.iter().map(|(name, value)| (name.clone(), HeaderValue::from_str(value).unwrap())).collect()
    }

    #[test]
    fn a_coding_is_sent_only_where_accepted() {
        let accepts_gzip = |h: &HeaderMap| accepts(h, "gzip");
        assert!(accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, "gzip, deflate, br")])));
        assert!(accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, "br;q=1.0, gzip;q=0.8")])));
        assert!(!accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, "gzip;q=0, br")])));
        assert!(!accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, "br")])));
        assert!(!accepts_gzip(&HeaderMap::new()));
        assert!(accepts(&headers(&[(header::ACCEPT_ENCODING, "gzip, deflate, br, zstd")]), "br"));
        assert!(!accepts(&headers(&[(header::ACCEPT_ENCODING, "gzip, deflate")]), "br"));
    }

    #[test]
    fn a_matching_etag_in_any_form_means_not_modified() {
        let etag = HeaderValue::from_static("\"abc\"");
        assert!(not_modified(&headers(&[(header::IF_NONE_MATCH, "\"x\", \"abc\"")]), &etag));
        assert!(not_modified(&headers(&[(header::IF_NONE_MATCH, "W/\"abc\"")]), &etag));
        assert!(not_modified(&headers(&[(header::IF_NONE_MATCH, "*")]), &etag));
        assert!(!not_modified(&headers(&[(header::IF_NONE_MATCH, "\"abcd\"")]), &etag));
        assert!(!not_modified(&HeaderMap::new(), &etag));
    }
}
