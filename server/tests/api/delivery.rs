//! Delivery (`server/src/http/CONTRACT.md`, "Delivery"): the widget and its framing, oEmbed, results images,
//! one-click email votes and live results, on both engines; two instances on PostgreSQL.

use crate::helpers::*;
use crate::on_both_stores;
use app::domain::ResultsVisibility;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;

on_both_stores!(
    the_widget_votes_without_javascript,
    only_the_widget_may_be_framed,
    the_widget_cookie_is_partitioned_over_https,
    oembed_describes_our_polls_only,
    poll_pages_name_their_card_and_oembed,
    result_images_follow_votes_unless_hidden,
    email_links_vote_once_per_subscriber_and_browser,
    email_links_refuse_forgeries_and_closed_polls,
    live_results_arrive_after_a_vote_and_end_at_close,
    live_results_respect_visibility_and_the_listener_cap,
);

mod postgres_only {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_vote_on_one_instance_reaches_listeners_on_another() {
        super::a_vote_on_one_instance_reaches_listeners_on_another(crate::helpers::Backend::Postgres).await
    }
}

async fn text_of(client: &reqwest::Client, url: String) -> (StatusCode, reqwest::header::HeaderMap, String) {
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
    let secure = voter().get(app.url("/embed/cookies")).header("x-forwarded-proto", "https").send().await.unwrap();
    let cookie = cookie_of(&secure);
    assert!(cookie.contains("SameSite=None; Secure; Partitioned") && cookie.contains("HttpOnly"), "{cookie}");
    assert!(secure.text().await.unwrap().contains("<form"), "over HTTPS the frame votes in place");
    let plain = voter().get(app.url("/embed/cookies")).send().await.unwrap();
    let cookie = cookie_of(&plain);
    assert!(cookie.contains("SameSite=Lax") && !cookie.contains("Partitioned"), "{cookie}");
    // The site's own pages keep the first-party cookie, also over HTTPS.
    let page = voter().get(app.url("/polls/cookies")).header("x-forwarded-proto", "https").send().await.unwrap();
    assert!(cookie_of(&page).contains("SameSite=Lax; Secure"));

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

/// The email block's vote links for `esp`, fetched by a signed-in editor.
pub(crate) async fn email_links(app: &TestApp, editor: &Editor, slug: &str, esp: &str) -> Vec<(String, String)> {
    let (_, polls) = get_json(&editor.client, editor.url("/api/v1/editor/polls")).await;
    let id = polls["polls"].as_array().unwrap().iter().find(|p| p["poll"]["slug"] == slug).unwrap()["id"].clone();
    let (status, block) =
        get_json(&editor.client, editor.url(&format!("/api/v1/editor/polls/{id}/email-block?esp={esp}"))).await;
    assert_eq!(status, StatusCode::OK, "{block}");
    let html = block["html"].as_str().unwrap();
    assert!(html.contains("<table") && html.contains(&format!("{}/polls/{slug}/results.png", app.base)));
    assert!(block["text"].as_str().unwrap().contains(&format!("Question for {slug}?")));
    block["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["option"].as_str().unwrap().to_owned(), l["url"].as_str().unwrap().to_owned()))
        .collect()
}

/// The fields a link carries, as the landing page's form posts them back.
pub(crate) fn link_fields(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').unwrap().1;
    query.split('&').map(|p| p.split_once('=').unwrap()).map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

async fn confirm(
    client: &reqwest::Client,
    app: &TestApp,
    slug: &str,
    fields: &[(String, String)],
) -> (StatusCode, String) {
    let response = client.post(app.url(&format!("/polls/{slug}/email-vote"))).form(fields).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn email_links_vote_once_per_subscriber_and_browser(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("mailed")).await;
    let editor = app.editor().await;
    let links = email_links(&app, &editor, "mailed", "generic").await;
    assert_eq!(links.iter().map(|(o, _)| o.as_str()).collect::<Vec<_>>(), ["yes", "no", "maybe"]);
    assert!(links[0].1.contains("sub={{subscriber_id}}"), "{}", links[0].1);
    let mailchimp = email_links(&app, &editor, "mailed", "mailchimp").await;
    assert!(mailchimp[0].1.contains("sub=*|UNIQID|*"));
    let (status, body) =
        get_json(&editor.client, editor.url("/api/v1/editor/polls/1/email-block?esp=carrier-pigeon")).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"));

    // What the ESP sends: the merge tag replaced by each subscriber's id.
    let for_subscriber = |url: &str, sub: &str| url.replace("{{subscriber_id}}", sub);
    let no_link = for_subscriber(&links[1].1, "sub-1");
    let reader = voter();
    // A mail scanner (and the reader's first click) only opens the page.
    for _ in 0..3 {
        let (status, _, page) = text_of(&voter(), no_link.clone()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Your answer: <strong>No</strong>") && page.contains("Confirm my vote"), "{page}");
    }
    let (status, headers, _) = text_of(&reader, no_link.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(app.stored_votes("mailed").await, 0, "a GET records nothing");

    let (status, page) = confirm(&reader, &app, "mailed", &link_fields(&no_link)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Your vote for No is in"), "{page}");
    assert_eq!(app.stored_sources("mailed").await, ["email"]);
    // The same press again, the subscriber's other link in another browser, and another
    // subscriber's link in the same browser: none counts again.
    let (_, page) = confirm(&reader, &app, "mailed", &link_fields(&no_link)).await;
    assert!(page.contains("already voted: No"), "{page}");
    let (status, page) = confirm(&voter(), &app, "mailed", &link_fields(&for_subscriber(&links[0].1, "sub-1"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("already voted: No"), "{page}");
    let (_, page) = confirm(&reader, &app, "mailed", &link_fields(&for_subscriber(&links[0].1, "sub-2"))).await;
    assert!(page.contains("already voted: No"), "{page}");
    assert_eq!(app.stored_votes("mailed").await, 1);
    // A new subscriber in a new browser counts.
    let (_, page) = confirm(&voter(), &app, "mailed", &link_fields(&for_subscriber(&links[2].1, "sub-3"))).await;
    assert!(page.contains("Your vote for Maybe is in"));
    assert_eq!(app.stored_sources("mailed").await, ["email", "email"]);
    let (_, results) = get_json(&voter(), app.url("/api/v1/polls/mailed/results")).await;
    assert_eq!(results["total_votes"], 2);
}

async fn email_links_refuse_forgeries_and_closed_polls(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("guarded")).await;
    let editor = app.editor().await;
    let links = email_links(&app, &editor, "guarded", "generic").await;
    let yes = links[0].1.replace("{{subscriber_id}}", "sub-9");
    let reader = voter();
    let tampered = yes.replace("option=yes", "option=no");
    let forged = format!("{}sig=AAAAAAAAAAAAAAAAAAAAAA", yes.split("sig=").next().unwrap());
    let unsigned = yes.split("&sig=").next().unwrap().to_owned();
    for url in [&tampered, &forged, &unsigned] {
        let (status, _, page) = text_of(&reader, url.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{url}");
        assert!(page.contains("not valid"), "{page}");
        let (status, _) = confirm(&reader, &app, "guarded", &link_fields(url)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // A link the ESP never personalised, or an odd id.
    for url in [links[0].1.clone(), yes.replace("sub=sub-9", "sub="), yes.replace("sub=sub-9", "sub=%3Cscript%3E")] {
        let (status, _, page) = text_of(&reader, url.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}");
        assert!(page.contains("poll page"), "{page}");
        let (status, _) = confirm(&reader, &app, "guarded", &link_fields(&url)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let other_poll = yes.replace("/polls/guarded/", "/polls/unknown-poll/");
    let (status, _, _) = text_of(&reader, other_poll).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.stored_votes("guarded").await, 0);

    // A closed poll answers with its final results and takes nothing.
    app.add_poll(closed_poll("mailed-late")).await;
    vote(&voter(), &app, "guarded", choices(&["yes"])).await;
    let late = email_links(&app, &editor, "mailed-late", "generic").await;
    let late = late[0].1.replace("{{subscriber_id}}", "sub-9");
    let (status, _, page) = text_of(&reader, late.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("has closed") && page.contains("Final results"), "{page}");
    let (status, _) = confirm(&reader, &app, "mailed-late", &link_fields(&late)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(app.stored_votes("mailed-late").await, 0);
}

async fn poll_id(editor: &Editor, slug: &str) -> Value {
    let (_, polls) = get_json(&editor.client, editor.url("/api/v1/editor/polls")).await;
    polls["polls"].as_array().unwrap().iter().find(|p| p["poll"]["slug"] == slug).unwrap()["id"].clone()
}

async fn live_results_arrive_after_a_vote_and_end_at_close(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("live")).await;
    let listener = voter();
    let mut events = EventStream::open(&listener, app.url("/api/v1/polls/live/events")).await.unwrap();
    let (name, first) = events.next(Duration::from_secs(5)).await.expect("the current results at once");
    assert_eq!(
        (name.as_str(), &first["total_votes"], &first["status"]),
        ("results", &Value::from(0), &Value::from("open"))
    );

    vote(&voter(), &app, "live", choices(&["maybe"])).await;
    let (_, next) = events.next(Duration::from_secs(2)).await.expect("an event within 2 s of the vote");
    assert_eq!(next["total_votes"], 1);
    assert_eq!(next["options"][2]["votes"], 1);
    // A burst is coalesced into few events, the last with every vote.
    for _ in 0..20 {
        vote(&voter(), &app, "live", choices(&["yes"])).await;
    }
    let mut seen = 0;
    let mut last = Value::Null;
    while last["total_votes"] != 21 {
        last = events.next(Duration::from_secs(3)).await.expect("the burst arrives").1;
        seen += 1;
    }
    assert!(seen < 20, "{seen} events for 20 votes");

    // A listener that connects again gets the current state at once.
    let mut again = EventStream::open(&voter(), app.url("/api/v1/polls/live/events")).await.unwrap();
    assert_eq!(again.next(Duration::from_secs(2)).await.unwrap().1["total_votes"], 21);

    // Closing sends a final event, then the stream ends.
    let editor = app.editor().await;
    let id = poll_id(&editor, "live").await;
    let (status, body) =
        editor.send_json(Method::POST, &format!("/api/v1/editor/polls/{id}/close"), &Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, last) = events.next(Duration::from_secs(5)).await.expect("a final event at close");
    assert_eq!((&last["status"], &last["total_votes"]), (&Value::from("closed"), &Value::from(21)));
    assert!(events.next(Duration::from_secs(5)).await.is_none(), "the stream ends after the final event");
    let mut closed = EventStream::open(&voter(), app.url("/api/v1/polls/live/events")).await.unwrap();
    assert_eq!(closed.next(Duration::from_secs(2)).await.unwrap().1["status"], "closed");
    assert!(closed.next(Duration::from_secs(3)).await.is_none());

    // The editor's dashboard stream.
    let mut dashboard =
        EventStream::open(&editor.client, editor.url(&format!("/api/v1/editor/polls/{id}/events"))).await.unwrap();
    assert_eq!(dashboard.next(Duration::from_secs(2)).await.unwrap().1["total_votes"], 21);
    let anonymous = EventStream::open(&voter(), app.url(&format!("/api/v1/editor/polls/{id}/events"))).await;
    assert_eq!(anonymous.err().unwrap().0, StatusCode::UNAUTHORIZED);
}

async fn live_results_respect_visibility_and_the_listener_cap(backend: Backend) {
    let app = spawn_app_with(backend, Options { max_listeners: Some(2), ..Options::default() }).await;
    app.add_poll(app::domain::PollDraft {
        results_visibility: ResultsVisibility::AfterVote,
        ..open_poll("after-vote")
    })
    .await;
    let reader = voter();
    let (status, body) = EventStream::open(&reader, app.url("/api/v1/polls/after-vote/events")).await.err().unwrap();
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "results_hidden"));
    vote(&reader, &app, "after-vote", choices(&["no"])).await;
    let mut mine = EventStream::open(&reader, app.url("/api/v1/polls/after-vote/events")).await.unwrap();
    assert_eq!(mine.next(Duration::from_secs(2)).await.unwrap().1["total_votes"], 1);
    let (status, body) = EventStream::open(&reader, app.url("/api/v1/polls/nope/events")).await.err().unwrap();
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "poll_not_found"));

    let _second = EventStream::open(&reader, app.url("/api/v1/polls/after-vote/events")).await.unwrap();
    let metrics = app.metrics().await;
    assert!(metrics.contains("polltelligence_live_listeners 2"), "{metrics}");
    let (status, body) = EventStream::open(&reader, app.url("/api/v1/polls/after-vote/events")).await.err().unwrap();
    assert_eq!((status, error_code(&body)), (StatusCode::SERVICE_UNAVAILABLE, "too_many_listeners"));
    drop(mine);
    // The place is given back once the server notices the closed connection, at its next
    // write to it (here an event from new votes; the 15 s heartbeat does it when idle).
    let mut reopened = None;
    for _ in 0..50 {
        vote(&voter(), &app, "after-vote", choices(&["yes"])).await;
        if let Ok(stream) = EventStream::open(&reader, app.url("/api/v1/polls/after-vote/events")).await {
            reopened = Some(stream);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reopened.is_some(), "a closed listener frees its place");
}

async fn a_vote_on_one_instance_reaches_listeners_on_another(backend: Backend) {
    let first = spawn_app(backend).await;
    first.add_poll(open_poll("shared")).await;
    let second = first.another_instance().await;
    let mut events = EventStream::open(&voter(), second.url("/api/v1/polls/shared/events")).await.unwrap();
    assert_eq!(events.next(Duration::from_secs(2)).await.unwrap().1["total_votes"], 0);
    // Let the second instance's LISTEN settle before the vote it must hear about.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    vote(&voter(), &first, "shared", choices(&["yes"])).await;
    let (_, event) = events.next(Duration::from_secs(2)).await.expect("the other instance's vote within 2 s");
    assert_eq!(event["total_votes"], 1);
    println!("vote on instance A reached a listener on instance B in {:?}", started.elapsed());
    // An editor's close on the first instance ends the stream on the second at once too
    // (well before the pumps' own 5 s recheck).
    let editor = first.editor().await;
    let id = poll_id(&editor, "shared").await;
    let started = std::time::Instant::now();
    let (status, _) = editor.send_json(Method::POST, &format!("/api/v1/editor/polls/{id}/close"), &Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let (_, last) = events.next(Duration::from_secs(2)).await.expect("the close within 2 s");
    assert_eq!(last["status"], "closed");
    println!("a close on instance A reached a listener on instance B in {:?}", started.elapsed());
}
