//! Delivery (`server/src/http/CONTRACT.md`, "Delivery"): the widget and its framing, oEmbed, results images,
//! one-click email votes and live results, on both engines; two instances on PostgreSQL.

use crate::helpers::*;
use crate::on_both_stores;
use app::domain::ResultsVisibility;
use reqwest::StatusCode;
use std::time::Duration;

on_both_stores!(
    the_widget_votes_without_javascript,
    only_the_widget_may_be_framed,
    the_widget_cookie_is_partitioned_over_https,
    oembed_describes_our_polls_only,
    poll_pages_name_their_card_and_oembed,
    result_images_follow_votes_unless_hidden,
);

pub(crate) async fn text_of(client: &reqwest::Client, url: String) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let response = client.get(url).send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

async fn the_widget_votes_without_javascript(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("embedded")).await;
    let reader = voter();
    let (status, _, page) = text_of(&reader, app.url("/embed/embedded?theme=dark")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("data-theme=\"dark\""));
    assert!(page.contains("action=\"/embed/embedded/vote?theme=dark\""), "{page}");
    assert!(!page.contains(".wasm") && !page.contains("/pkg/"), "the widget loads no app bundle");
    let response = reader
        .post(app.url("/embed/embedded/vote?theme=dark"))
        .form(&[("choice", "no"), ("comment", "from the widget")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/embed/embedded?theme=dark");
    let (_, _, page) = text_of(&reader, app.url("/embed/embedded?theme=dark")).await;
    assert!(page.contains("You voted: No."), "{page}");
    assert!(page.contains("data-live=\"/api/v1/polls/embedded/events\""));
    assert!(page.contains("100.0% · 1 vote"));
    assert_eq!(app.stored_sources("embedded").await, ["embed"]);

    // Bad input: an error page inside the frame, nothing written.
    let response = voter().post(app.url("/embed/embedded/vote")).form(&[("choice", "nope")]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("href=\"/embed/embedded\""));
    let (status, _, _) = text_of(&voter(), app.url("/embed/no-such-poll")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The forms' addresses answer a GET (a reload) with their page, other methods with a page.
    let response = voter().get(app.url("/embed/embedded/vote")).send().await.unwrap();
    assert_eq!(
        (response.status(), &response.headers()["location"]),
        (StatusCode::SEE_OTHER, &"/embed/embedded".parse().unwrap())
    );
    let response = voter().get(app.url("/polls/embedded/vote")).send().await.unwrap();
    assert_eq!(
        (response.status(), &response.headers()["location"]),
        (StatusCode::SEE_OTHER, &"/polls/embedded".parse().unwrap())
    );
    let response = voter().delete(app.url("/polls/embedded/email-vote")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(response.text().await.unwrap().contains("does not take that kind of request"));
    app.add_poll(closed_poll("was-embedded")).await;
    let response = voter().post(app.url("/embed/was-embedded/vote")).form(&[("choice", "yes")]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(app.stored_votes("was-embedded").await, 0);
    assert_eq!(app.stored_votes("embedded").await, 1);

    // The widget's scripts: small, and the host script resizes frames by message.
    let (status, headers, script) = text_of(&voter(), app.url("/embed/widget.js")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(script.contains("polltelligence:resize") && script.len() < 10 * 1024);
    let (_, _, host) = text_of(&voter(), app.url("/embed.js")).await;
    assert!(host.contains("polltelligence:resize") && host.contains("contentWindow"));
}

async fn only_the_widget_may_be_framed(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("framed")).await;
    let client = voter();
    let response = client.get(app.url("/embed/framed")).send().await.unwrap();
    assert_eq!(frame_ancestors(&response), "frame-ancestors *");
    assert!(response.headers().get("x-frame-options").is_none());
    for path in ["/", "/polls/framed", "/archive", "/editor/login", "/editor", "/api/v1/polls", "/oembed", "/nowhere"] {
        let response = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.headers()["x-frame-options"], "DENY", "{path}");
        assert_eq!(frame_ancestors(&response), "frame-ancestors 'none'", "{path}");
    }
}

/// The `frame-ancestors` directive of a response's Content-Security-Policy.
fn frame_ancestors(response: &reqwest::Response) -> String {
    let csp = response.headers()["content-security-policy"].to_str().unwrap();
    csp.split(';').map(str::trim).find(|d| d.starts_with("frame-ancestors")).unwrap_or_default().to_owned()
}

async fn the_widget_cookie_is_partitioned_over_https(backend: Backend) {
    // HTTPS ends at a proxy in front of the server, which says so in X-Forwarded-Proto.
    let proxies = server::config::parse_proxies("127.0.0.1").unwrap();
    let app = spawn_app_with(backend, Options { trusted_proxies: proxies, ..Options::default() }).await;
    app.add_poll(open_poll("cookies")).await;
    let cookie_of = |response: &reqwest::Response| response.headers()["set-cookie"].to_str().unwrap().to_owned();
    // The cookie's attributes, whatever their order.
    let attributes = |cookie: &str| cookie.split("; ").skip(1).map(str::to_owned).collect::<Vec<_>>();
    let secure = voter().get(app.url("/embed/cookies")).header("x-forwarded-proto", "https").send().await.unwrap();
    let cookie = cookie_of(&secure);
    let widget = attributes(&cookie);
    assert!(
        ["SameSite=None", "Secure", "Partitioned", "HttpOnly"].iter().all(|a| widget.contains(&a.to_string())),
        "{cookie}"
    );
    assert!(secure.text().await.unwrap().contains("<form"), "over HTTPS the frame votes in place");
    let plain = voter().get(app.url("/embed/cookies")).send().await.unwrap();
    let cookie = cookie_of(&plain);
    assert!(cookie.contains("SameSite=Lax") && !cookie.contains("Partitioned"), "{cookie}");
    // The site's own pages keep the first-party cookie, also over HTTPS.
    let page = voter().get(app.url("/polls/cookies")).header("x-forwarded-proto", "https").send().await.unwrap();
    let first_party = attributes(&cookie_of(&page));
    assert!(
        ["SameSite=Lax", "Secure", "HttpOnly"].iter().all(|a| first_party.contains(&a.to_string())),
        "{first_party:?}"
    );
    assert!(!first_party.contains(&"Partitioned".to_owned()));

    // Plain HTTP inside another site's page: no cookie would stick, so no in-frame ballot;
    // the reader votes on the poll page in a new tab instead.
    let cross = voter().get(app.url("/embed/cookies")).header("sec-fetch-site", "cross-site").send().await.unwrap();
    let page = cross.text().await.unwrap();
    assert!(!page.contains("<form"), "{page}");
    assert!(page.contains("/polls/cookies\" target=\"_blank\"") && page.contains("Vote on "));
    let same_site = voter().get(app.url("/embed/cookies")).header("sec-fetch-site", "same-site").send().await.unwrap();
    assert!(same_site.text().await.unwrap().contains("<form"));
}

async fn oembed_describes_our_polls_only(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("oembedded")).await;
    let client = voter();
    let oembed = |url: String| format!("{}/oembed?url={}", app.base, percent(&url));
    let (status, body) = get_json(&client, oembed(app.url("/polls/oembedded")) + "&format=json").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["version"], "1.0");
    assert_eq!(body["type"], "rich");
    assert_eq!(body["provider_name"], "Polltelligence");
    assert_eq!(body["title"], "Question for oembedded?");
    assert!(body["width"].as_u64().unwrap() > 0 && body["height"].as_u64().unwrap() > 0);
    let html = body["html"].as_str().unwrap();
    assert!(html.contains(&format!("<iframe src=\"{}/embed/oembedded\"", app.base)), "{html}");
    let (status, same) = get_json(&client, oembed(app.url("/embed/oembedded?theme=dark"))).await;
    assert_eq!((status, &same["html"]), (StatusCode::OK, &body["html"]));
    let (_, narrow) = get_json(&client, oembed(app.url("/polls/oembedded")) + "&maxwidth=320").await;
    assert_eq!(narrow["width"], 320);

    let (status, body) = get_json(&client, oembed(app.url("/polls/nope"))).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "poll_not_found"));
    let (status, _) = get_json(&client, oembed("https://elsewhere.example/polls/oembedded".into())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get_json(&client, oembed(app.url("/archive"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = get_json(&client, oembed(app.url("/polls/oembedded")) + "&format=xml").await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_IMPLEMENTED, "not_implemented"));
    // Any other format, empty included, is the client's mistake.
    for format in ["", "yaml"] {
        let (status, body) = get_json(&client, oembed(app.url("/polls/oembedded")) + "&format=" + format).await;
        assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "malformed_request"), "{format:?}");
    }
    let (status, body) = get_json(&client, app.url("/oembed")).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "malformed_request"));
}

async fn poll_pages_name_their_card_and_oembed(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("carded")).await;
    let (status, _, page) = text_of(&voter(), app.url("/polls/carded")).await;
    assert_eq!(status, StatusCode::OK);
    let card = format!("content=\"{}/polls/carded/results.png?w=1200&amp;h=630\"", app.base);
    assert!(page.contains(&format!("property=\"og:image\" {card}")), "{page}");
    assert!(page.contains("name=\"twitter:card\" content=\"summary_large_image\""));
    let oembed = format!("{}/oembed?url={}&amp;format=json", app.base, percent(&app.url("/polls/carded")));
    assert!(page.contains("type=\"application/json+oembed\"") && page.contains(&oembed), "{page}");
    // The card it names is there.
    let (status, _, png) = image(&voter(), format!("{}/polls/carded/results.png?w=1200&h=630", app.base)).await;
    assert_eq!((status, png_size(&png)), (StatusCode::OK, (1200, 630)));
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn image(client: &reqwest::Client, url: String) -> (StatusCode, String, Vec<u8>) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status();
    let etag = response.headers().get("etag").map(|e| e.to_str().unwrap().to_owned()).unwrap_or_default();
    if status == StatusCode::OK {
        assert_eq!(response.headers()["cache-control"], "no-cache");
        assert!(response.headers().get("set-cookie").is_none(), "images set no cookie");
    }
    (status, etag, response.bytes().await.unwrap().to_vec())
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    (u32::from_be_bytes(bytes[16..20].try_into().unwrap()), u32::from_be_bytes(bytes[20..24].try_into().unwrap()))
}

async fn result_images_follow_votes_unless_hidden(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("pictured")).await;
    let client = voter();
    let (status, etag, png) = image(&client, app.url("/polls/pictured/results.png")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(png_size(&png).0, 600);
    let (_, _, card) = image(&client, app.url("/polls/pictured/results.png?w=1200&h=630")).await;
    assert_eq!(png_size(&card), (1200, 630));
    let (_, svg_etag, svg) = image(&client, app.url("/polls/pictured/results.svg")).await;
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Question for pictured?") && svg.contains("0 votes"), "{svg}");
    // Unchanged: the same bytes, and a revalidation answers 304.
    let (_, again, png_again) = image(&client, app.url("/polls/pictured/results.png")).await;
    assert_eq!((&again, &png_again), (&etag, &png));
    let response =
        client.get(app.url("/polls/pictured/results.png")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);

    vote(&voter(), &app, "pictured", choices(&["yes"])).await;
    // An image is redrawn at most once a second (`delivery::images`), then shows new figures.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, after, png_after) = image(&client, app.url("/polls/pictured/results.png")).await;
    assert_ne!(after, etag);
    assert_ne!(png_after, png);
    png_size(&png_after);
    let (_, svg_after_etag, svg_after) = image(&client, app.url("/polls/pictured/results.svg")).await;
    assert_ne!(svg_after_etag, svg_etag);
    assert!(String::from_utf8(svg_after).unwrap().contains("100.0% · 1 vote"));

    // Hidden results: no figures, and nothing changes as votes arrive.
    let hidden =
        app::domain::PollDraft { results_visibility: ResultsVisibility::AfterClose, ..open_poll("secret-ballot") };
    app.add_poll(hidden).await;
    let (_, hidden_etag, hidden_png) = image(&client, app.url("/polls/secret-ballot/results.png")).await;
    let (_, _, hidden_svg) = image(&client, app.url("/polls/secret-ballot/results.svg")).await;
    let hidden_svg = String::from_utf8(hidden_svg).unwrap();
    assert!(!hidden_svg.contains('%') && !hidden_svg.contains("vote ") && hidden_svg.contains("when the poll closes"));
    for choice in ["yes", "no", "no"] {
        vote(&voter(), &app, "secret-ballot", choices(&[choice])).await;
    }
    assert_eq!(app.stored_votes("secret-ballot").await, 3);
    let (_, etag_later, png_later) = image(&client, app.url("/polls/secret-ballot/results.png")).await;
    assert_eq!((etag_later, png_later), (hidden_etag, hidden_png));
    let (_, _, svg_later) = image(&client, app.url("/polls/secret-ballot/results.svg")).await;
    assert_eq!(String::from_utf8(svg_later).unwrap(), hidden_svg);

    // Bad input.
    for bad in ["w=20000", "w=0", "h=5", "w=abc"] {
        let (status, _, _) = image(&client, app.url(&format!("/polls/pictured/results.png?{bad}"))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let (status, _, _) = image(&client, app.url("/polls/nope/results.svg")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
