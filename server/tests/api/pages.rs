use crate::helpers::*;
use crate::on_both_stores;
use app::domain::PollDraft;
use reqwest::header::LOCATION;
use reqwest::StatusCode;

on_both_stores!(
    pages_render_on_the_server,
    a_form_vote_without_javascript_lands_on_the_results,
    a_refused_form_ballot_comes_back_on_the_poll_page_as_it_was_left,
    form_errors_are_html_pages,
    the_archive_comes_in_pages,
    markup_in_questions_renders_as_text,
    the_bundle_comes_from_memory_precompressed_with_etags,
    a_shared_render_never_reaches_a_reader_who_voted,
);

async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = client.get(app.url(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn pages_render_on_the_server(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("this-week")).await;
    app.add_poll(closed_poll("last-week")).await;
    let client = voter();
    let (status, home) = page(&client, &app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("Question for this-week?"), "home shows the open poll");
    assert!(home.contains("action=\"/polls/this-week/vote\""), "a form that works without JavaScript");

    let (status, archive) = page(&client, &app, "/archive").await;
    assert_eq!(status, StatusCode::OK);
    assert!(archive.contains("Question for last-week?"));
    assert!(archive.contains("No votes were cast."));

    let (status, closed) = page(&client, &app, "/polls/last-week").await;
    assert_eq!(status, StatusCode::OK);
    assert!(closed.contains("This poll is closed"));
    assert!(!closed.contains("action=\"/polls/last-week/vote\""));

    for missing in ["/polls/no-such-poll", "/polls/UPPER", "/nowhere/at/all"] {
        let (status, body) = page(&client, &app, missing).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert!(body.contains("Page not found"), "{missing}");
    }
}

async fn a_form_vote_without_javascript_lands_on_the_results(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("plain-form")).await;
    app.add_poll(open_poll("next-one")).await;
    let client = voter();
    page(&client, &app, "/polls/plain-form").await;
    let response = post_ballot(&client, &app, "plain-form", "choice=maybe&comment=Because+of+the+cats").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/polls/plain-form?commented=1");
    // Landing: the vote, thanks for the comment, the poll's link to share, the next poll.
    let (_, landed) = page(&client, &app, "/polls/plain-form?commented=1").await;
    assert!(landed.contains("Thanks! Your vote for Maybe is in."), "{landed}");
    assert!(landed.contains("Thanks for saying why"), "the comment is acknowledged");
    assert!(landed.contains(&format!("value=\"{}\"", app.url("/polls/plain-form"))), "the link to share");
    assert!(landed.contains("href=\"/polls/next-one\""), "the next open poll");
    let (_, after) = page(&client, &app, "/polls/plain-form").await;
    assert!(after.contains("You voted: Maybe."), "the reload shows the vote");
    assert!(!after.contains("Thanks for saying why"));
    assert!(after.contains("1 vote in total"));
    assert_eq!(app.stored_votes("plain-form").await, 1);
    assert_eq!(app.stored_comments().await, 1);
}

async fn form_errors_are_html_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("form-errors")).await;
    app.add_poll(closed_poll("form-closed")).await;
    let client = voter();
    let cases = [
        ("form-errors", "comment=no+choice", StatusCode::UNPROCESSABLE_ENTITY, "Choose at least one option."),
        ("form-errors", "choice=%FF", StatusCode::BAD_REQUEST, "not valid UTF-8"),
        ("form-closed", "choice=yes", StatusCode::CONFLICT, "This poll is closed"),
        ("no-such-poll", "choice=yes", StatusCode::NOT_FOUND, "There is no poll at this address."),
        ("%FF%FE", "choice=yes", StatusCode::NOT_FOUND, "There is no poll at this address."),
    ];
    for (slug, body, status, text) in cases {
        let response = post_ballot(&client, &app, slug, body).await;
        assert_eq!(response.status(), status, "{slug} {body}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = response.text().await.unwrap();
        assert!(html.contains(text), "{html}");
    }
    assert_eq!(app.stored_votes("form-errors").await, 0);
}

/// Without JavaScript, a refused ballot comes back as the poll page itself (site header and
/// all) saying why, with the reader's ticks and comment as they left them; nothing is stored.
async fn a_refused_form_ballot_comes_back_on_the_poll_page_as_it_was_left(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut poll = open_poll("up-to-two");
    poll.kind = app::domain::ChoiceKind::Multiple;
    poll.max_choices = 2;
    app.add_poll(poll).await;
    let client = voter();
    page(&client, &app, "/polls/up-to-two").await;
    let ticked_too_many = "choice=yes&choice=no&choice=maybe&comment=All+three%2C+honestly+%3Cb%3E%3C%2Ftextarea%3E";
    let response = post_ballot(&client, &app, "up-to-two", ticked_too_many).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("class=\"site-header\""), "the site's own page: {html}");
    assert!(html.contains("Question for up-to-two?") && html.contains("action=\"/polls/up-to-two/vote\""));
    let reason = "role=\"alert\" class=\"error\">Choose at most 2 options (3 were chosen).</p></form>";
    assert!(html.contains(reason), "the reason, by the ballot: {html}");
    for option in ["yes", "no", "maybe"] {
        let input = html.split(&format!("id=\"up-to-two-{option}\"")).nth(1).unwrap().split('>').next().unwrap();
        assert!(input.contains("checked"), "{option} is still ticked: {input}");
    }
    assert!(
        html.contains(">All three, honestly &lt;b&gt;&lt;/textarea&gt;</textarea>"),
        "the comment, kept as text: {html}"
    );
    // Several choices per reader: the percents are of readers, and the page says so.
    assert!(html.contains("0 readers · % who picked each") && !html.contains("in total"), "{html}");
    assert_eq!(app.stored_votes("up-to-two").await, 0);
    assert_eq!(app.stored_comments().await, 0);
    // Fixed, it goes in.
    let response = post_ballot(&client, &app, "up-to-two", "choice=yes&choice=maybe").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.stored_votes("up-to-two").await, 1);
}

/// The Results Show lists closed polls eight to a page, newest first, with links between pages;
/// a page past the end shows the last one.
async fn the_archive_comes_in_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    for week in 1..=10 {
        let mut poll = closed_poll(&format!("week-{week:02}"));
        poll.closes_at -= chrono::Duration::weeks(10 - week);
        poll.opens_at -= chrono::Duration::weeks(10 - week);
        app.add_poll(poll).await;
    }
    let listed = |html: &str| (1..=10).filter(|w| html.contains(&format!("href=\"/polls/week-{w:02}\""))).count();
    let (status, first) = page(&voter(), &app, "/archive").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed(&first), 8, "{first}");
    assert!(first.contains("href=\"/polls/week-10\"") && !first.contains("href=\"/polls/week-02\""), "newest first");
    assert!(first.contains("Page 1 of 2") && first.contains("href=\"/archive?page=2\""), "{first}");
    assert!(!first.contains("Newer polls"));
    let (_, second) = page(&voter(), &app, "/archive?page=2").await;
    assert_eq!(listed(&second), 2);
    assert!(second.contains("href=\"/polls/week-01\"") && second.contains("href=\"/archive\" rel=\"prev\""));
    assert!(!second.contains("Older polls"));
    let (status, past_the_end) = page(&voter(), &app, "/archive?page=99").await;
    assert_eq!(status, StatusCode::OK);
    assert!(past_the_end.contains("Page 2 of 2"));
}

/// Route-list generation (done while an instance starts) used to leave any page whose data
/// started loading meanwhile, in another instance of the same process, pending forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_while_other_instances_start() {
    let app = spawn_app(Backend::Sqlite).await;
    app.add_poll(open_poll("busy")).await;
    let starting = tokio::spawn(async {
        for _ in 0..200 {
            spawn_app(Backend::Sqlite).await;
        }
    });
    let client = voter();
    let mut rendered = 0;
    while !starting.is_finished() {
        let (status, html) = page(&client, &app, "/polls/busy").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Question for busy?"), "the page finished with its poll");
        rendered += 1;
    }
    starting.await.unwrap();
    assert!(rendered > 8, "pages were rendered while instances started ({rendered})");
}

async fn markup_in_questions_renders_as_text(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut poll = open_poll("markup");
    poll.question = "Is </title><script>alert('pwned')</script> a question?".into();
    poll.options[0].label = "<b>bold</b> & brave".into();
    app.add_poll(PollDraft { ..poll }).await;
    let (_, html) = page(&voter(), &app, "/polls/markup").await;
    assert!(!html.contains("<script>alert"), "script tag must not reach the page: {html}");
    assert!(html.contains("&lt;script&gt;alert"), "the question is shown as text");
    assert_eq!(html.matches("</title>").count(), 1, "the question cannot end the <title> early");
    assert!(!html.contains("<b>bold</b>"));
}

/// The browser bundle, read at start: the brotli or gzip beside a file goes to browsers that
/// accept it (brotli first), the plain file to others; an ETag turns a repeat into a 304 with no body.
async fn the_bundle_comes_from_memory_precompressed_with_etags(backend: Backend) {
    let script = b"console.log('polltelligence');".to_vec();
    let gzipped = b"\x1f\x8bnot really gzip, but what make build wrote".to_vec();
    let options = Options {
        bundle: vec![
            ("app.js", script.clone()),
            ("app.js.gz", gzipped.clone()),
            ("chunks/one.wasm", b"\0asm".to_vec()),
            ("reader.wasm", b"\0asm plain".to_vec()),
            ("reader.wasm.gz", b"gzip of it".to_vec()),
            ("reader.wasm.br", b"brotli of it".to_vec()),
        ],
        ..Options::default()
    };
    let app = spawn_app_with(backend, options).await;
    let client = reqwest::Client::new();
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut request = client.get(app.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };

    let zipped = get("/pkg/app.js", &[("accept-encoding", "gzip, br")]).await.unwrap();
    assert_eq!(zipped.status(), StatusCode::OK);
    let header = |r: &reqwest::Response, name: &str| r.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(header(&zipped, "content-encoding").as_deref(), Some("gzip"));
    assert_eq!(header(&zipped, "content-type").as_deref(), Some("text/javascript; charset=utf-8"));
    assert_eq!(header(&zipped, "vary").as_deref(), Some("accept-encoding"));
    assert_eq!(header(&zipped, "x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(header(&zipped, "cache-control").as_deref(), Some("public, max-age=300"));
    let zipped_tag = header(&zipped, "etag").expect("an ETag");
    assert_eq!(zipped.bytes().await.unwrap().as_ref(), gzipped.as_slice());

    let plain = get("/pkg/app.js", &[("accept-encoding", "gzip;q=0, br")]).await.unwrap();
    assert_eq!(header(&plain, "content-encoding"), None);
    let plain_tag = header(&plain, "etag").expect("an ETag");
    assert_ne!(plain_tag, zipped_tag, "each representation has its own tag");
    assert_eq!(plain.bytes().await.unwrap().as_ref(), script.as_slice());

    let again = get("/pkg/app.js", &[("accept-encoding", "gzip"), ("if-none-match", &zipped_tag)]).await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&again, "etag"), Some(zipped_tag.clone()));
    assert!(again.bytes().await.unwrap().is_empty());
    let changed = get("/pkg/app.js", &[("if-none-match", "\"something-else\"")]).await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK);

    for (accept, coding, body) in [
        ("gzip, deflate, br, zstd", Some("br"), "brotli of it"),
        ("gzip, deflate", Some("gzip"), "gzip of it"),
        ("br;q=0, gzip", Some("gzip"), "gzip of it"),
        ("identity", None, "\0asm plain"),
    ] {
        let response = get("/pkg/reader.wasm", &[("accept-encoding", accept)]).await.unwrap();
        assert_eq!(header(&response, "content-encoding").as_deref(), coding, "{accept}");
        assert_eq!(header(&response, "vary").as_deref(), Some("accept-encoding"));
        assert_eq!(response.bytes().await.unwrap().as_ref(), body.as_bytes(), "{accept}");
    }
    assert_eq!(get("/pkg/reader.wasm.br", &[]).await.unwrap().status(), StatusCode::NOT_FOUND);

    let nested = get("/pkg/chunks/one.wasm", &[]).await.unwrap();
    assert_eq!(header(&nested, "content-type").as_deref(), Some("application/wasm"));
    for missing in ["/pkg/app.js.gz", "/pkg/nothing.js", "/pkg/../Cargo.toml"] {
        assert_eq!(get(missing, &[]).await.unwrap().status(), StatusCode::NOT_FOUND, "{missing}");
    }
}

/// Poll pages are rendered once per second for readers who have not voted (`page_cache`):
/// each response still carries its own CSP nonce, and a reader who voted always gets their
/// own page, right after their vote and while others are being served the shared one.
async fn a_shared_render_never_reaches_a_reader_who_voted(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("shared-page")).await;
    let nonce_of = |response: &reqwest::Response| {
        let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
        let nonce = csp.split("'nonce-").nth(1).expect("a nonce").split('\'').next().unwrap().to_owned();
        nonce
    };
    let mut nonces = std::collections::HashSet::new();
    let mut first_body = None;
    for _ in 0..3 {
        // New visitors: no cookie, so the page cannot know them.
        let response = reqwest::Client::new().get(app.url("/polls/shared-page")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let nonce = nonce_of(&response);
        let body = response.text().await.unwrap();
        assert!(body.contains(&format!("nonce=\"{nonce}\"")), "the page's scripts carry its own response's nonce");
        assert!(!body.contains("You voted"));
        let without_nonce = body.replace(&nonce, "NONCE");
        assert_eq!(first_body.get_or_insert(without_nonce.clone()), &without_nonce, "one render, shared");
        nonces.insert(nonce);
    }
    assert_eq!(nonces.len(), 3, "a fresh nonce per response");

    let reader = voter();
    let (status, _) = vote(&reader, &app, "shared-page", choices(&["no"])).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, mine) = page(&reader, &app, "/polls/shared-page").await;
    assert_eq!(status, StatusCode::OK);
    assert!(mine.contains("You voted: No."), "their own page at once, not the shared render");
    // Someone with a cookie who has not voted on this poll fits the shared page.
    let other = voter();
    page(&other, &app, "/").await;
    let (_, theirs) = page(&other, &app, "/polls/shared-page").await;
    assert!(!theirs.contains("You voted"));
    assert!(theirs.contains("action=\"/polls/shared-page/vote\""), "the ballot, for a reader who has not voted");
}
