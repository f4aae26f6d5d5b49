//! One-click email votes (`server/src/http/CONTRACT.md`, "Delivery"): a GET never votes, the
//! confirming POST counts once per subscriber and per browser, forgeries and closed polls.

use crate::delivery::text_of;
use crate::hardening::raw_client;
use crate::helpers::*;
use crate::on_both_stores;
use reqwest::StatusCode;

on_both_stores!(
    email_links_vote_once_per_subscriber_and_browser,
    email_links_refuse_forgeries_and_closed_polls,
    a_stranger_cannot_squat_a_subscribers_vote,
);

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
    // The same press again, and another subscriber's link in the same browser: neither counts.
    let (_, page) = confirm(&reader, &app, "mailed", &link_fields(&no_link)).await;
    assert!(page.contains("already voted: No"), "{page}");
    let (_, page) = confirm(&reader, &app, "mailed", &link_fields(&for_subscriber(&links[0].1, "sub-2"))).await;
    assert!(page.contains("already voted: No"), "{page}");
    assert_eq!(app.stored_votes("mailed").await, 1);
    // The subscriber's other link in another browser takes their vote over: still one vote,
    // now that browser's choice (the first one may have been a stranger's, in their name).
    let (status, page) = confirm(&voter(), &app, "mailed", &link_fields(&for_subscriber(&links[0].1, "sub-1"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Your vote for Yes is in"), "{page}");
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

/// Subscriber ids are guessable (Kit's are sequential): a stranger confirms links for twenty
/// of them without landing or keeping cookies. Each real subscriber's own click still gets
/// their vote, with their choice, counted once.
async fn a_stranger_cannot_squat_a_subscribers_vote(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("squatted")).await;
    let editor = app.editor().await;
    let links = email_links(&app, &editor, "squatted", "generic").await;
    let link = |option: usize, sub: u32| links[option].1.replace("{{subscriber_id}}", &sub.to_string());
    for sub in 1000..1020 {
        let (status, page) = confirm(&raw_client(), &app, "squatted", &link_fields(&link(2, sub))).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Your vote for Maybe is in"), "{page}");
    }
    assert_eq!(app.stored_votes("squatted").await, 20);

    // Subscriber 1007 opens their email and clicks "Yes": landing page, then Confirm.
    let reader = voter();
    let (status, _, landing) = text_of(&reader, link(0, 1007)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(landing.contains("Your answer: <strong>Yes</strong>"), "{landing}");
    let (status, page) = confirm(&reader, &app, "squatted", &link_fields(&link(0, 1007))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Your vote for Yes is in"), "their own vote, not the stranger's: {page}");
    assert!(!page.contains("already voted"), "{page}");
    // Still one vote per subscriber; the counts follow the subscriber's choice.
    assert_eq!(app.stored_votes("squatted").await, 20);
    let (_, results) = get_json(&voter(), app.url("/api/v1/polls/squatted/results")).await;
    assert_eq!(results["total_votes"], 20, "{results}");
    let count =
        |key: &str| results["options"].as_array().unwrap().iter().find(|o| o["id"] == key).unwrap()["votes"].clone();
    assert_eq!((count("yes"), count("maybe")), (1.into(), 19.into()), "{results}");
    // Their browser holds the vote now: pressing again changes nothing.
    let (_, page) = confirm(&reader, &app, "squatted", &link_fields(&link(1, 1007))).await;
    assert!(page.contains("already voted: Yes"), "{page}");
}
