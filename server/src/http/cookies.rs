//! Every cookie the site sets, and reading them back, with the `cookie` crate: attributes
//! are typed, so none is dropped or misspelt by hand (a cleared cookie keeps `Secure`).

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use cookie::{time::Duration, Cookie, SameSite};

/// The voter's signed id: one voter per browser.
pub const VOTER: &str = "pt_voter";
/// An editor's session token.
pub const SESSION: &str = "pt_session";
/// Marks a browser that has signed in to an account (`Auth::login` gives it its own sign-in
/// budget). Sent only to the sign-in form.
pub const KNOWN_BROWSER: &str = "pt_known";

const TWO_YEARS: i64 = 2 * 365 * 24 * 3600;

/// The values of every cookie called `name` the request carries, in order.
pub fn read<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .filter(move |c| c.name() == name)
        .filter_map(|c| c.value_raw())
}

/// Adds `cookie` to the response's `Set-Cookie` headers.
pub fn set(response: &mut Response, cookie: Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

/// The voter cookie. The widget lives in other sites' frames: over HTTPS its cookie is a
/// partitioned third-party cookie (one voter per host site); elsewhere the first-party `Lax` one.
pub fn voter(signed_id: String, embedded: bool, secure: bool) -> Cookie<'static> {
    let same_site = if embedded && secure { SameSite::None } else { SameSite::Lax };
    Cookie::build((VOTER, signed_id))
        .path("/")
        .max_age(Duration::seconds(TWO_YEARS))
        .http_only(true)
        .same_site(same_site)
        .secure(secure)
        .partitioned(embedded && secure)
        .build()
}

pub fn session(token: String, max_age: chrono::Duration, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION, token))
        .path("/")
        .max_age(Duration::seconds(max_age.num_seconds()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}

/// Ends a session in the browser: the session cookie, empty and expired, with the same
/// attributes it was set with.
pub fn cleared_session(secure: bool) -> Cookie<'static> {
    let mut cookie = session(String::new(), chrono::Duration::zero(), secure);
    cookie.make_removal();
    cookie
}

pub fn known_browser(mark: String, max_age: chrono::Duration, secure: bool) -> Cookie<'static> {
    Cookie::build((KNOWN_BROWSER, mark))
        .path("/editor/session")
        .max_age(Duration::seconds(max_age.num_seconds()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attributes(cookie: &Cookie<'_>) -> Vec<String> {
        cookie.to_string().split("; ").skip(1).map(str::to_owned).collect()
    }

    #[test]
    fn cookies_carry_their_attributes() {
        let widget = voter("v.s".into(), true, true);
        assert!(
            ["HttpOnly", "SameSite=None", "Partitioned", "Secure", "Path=/"]
                .iter()
                .all(|a| attributes(&widget).contains(&a.to_string())),
            "{widget}"
        );
        let page = voter("v.s".into(), true, false);
        assert_eq!(attributes(&page), ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=63072000"]);
        let cleared = cleared_session(true);
        assert!(cleared.to_string().starts_with("pt_session=;"), "{cleared}");
        assert!(attributes(&cleared).contains(&"Secure".to_owned()), "a cleared cookie keeps Secure: {cleared}");
        assert!(attributes(&cleared).contains(&"Max-Age=0".to_owned()), "{cleared}");
    }

    #[test]
    fn reads_every_cookie_of_a_name() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; pt_session=tok; b=2"));
        headers.append(COOKIE, HeaderValue::from_static("pt_session=second"));
        assert_eq!(read(&headers, SESSION).collect::<Vec<_>>(), ["tok", "second"]);
        assert_eq!(read(&headers, "missing").count(), 0);
    }
}
