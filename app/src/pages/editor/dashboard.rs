//! One poll's results as they come in: counts and percents, votes per hour, where votes
//! came from, and the readers' comments with hide/restore, and the share panel (links,
//! embed code, email blocks). While the poll can take votes the figures follow its live
//! stream; the rest of the page stays put, so focus is never lost.

use super::{editor_page, loading, route_poll_id, Csrf, StageBadge, Times};
use crate::api::editor::{load_dashboard, load_share, EditorPage};
use crate::components::{LocalTime, ResultsBars};
use crate::domain::{AppError, EditorIdentity, ShareKit, Stage, Transition};
use crate::services::{CommentView, Dashboard, SourceCount, TimelinePoint};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let id = route_poll_id();
    // The share kit is loaded here, on the server, and handed to the island with the rest.
    let dashboard = Resource::new(id, |id| async move {
        let Some(id) = id else { return Err(AppError::PollNotFound) };
        let dashboard = load_dashboard(id).await?;
        Ok((dashboard, load_share(id).await))
    });
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                let loaded = dashboard.await.map(|(EditorPage { me, data }, kit)| EditorPage { me, data: (data, kit) });
                editor_page(loaded, |me, (dashboard, kit)| view! {
                    <Title text=format!("{} · Results", dashboard.poll.poll.question)/>
                    <DashboardView me dashboard kit/>
                }.into_any())
            })}
        </Suspense>
    }
}

/// Reloads the figures whenever the poll's live stream says its results changed (the
/// server sends at most a few such events a second), while the poll can take votes.
fn keep_live(id: crate::domain::PollId, live: RwSignal<Dashboard>) {
    if !matches!(live.get_untracked().poll.stage, Stage::Open | Stage::Scheduled) {
        return;
    }
    Effect::new(move |_| {
        crate::components::follow_live(format!("/api/v1/editor/polls/{id}/events"), move |_| {
            leptos::task::spawn_local(async move {
                if let Ok(page) = load_dashboard(id).await {
                    live.set(page.data);
                }
            });
        });
    });
}

/// The whole dashboard is one lazy island: its figures, summary progress and copy buttons
/// are live, and they share the poll's stream.
#[island(lazy)]
fn DashboardView(me: EditorIdentity, dashboard: Dashboard, kit: Result<ShareKit, AppError>) -> impl IntoView {
    let live = RwSignal::new(dashboard.clone());
    keep_live(dashboard.poll.id, live);
    let Dashboard { poll, comments, summary, summary_backends, summarise_on_close, .. } = dashboard;
    let comments_shown = comments.len();
    let id = poll.id;
    let view_ = poll.poll.clone();
    let editable = matches!(poll.stage, Stage::Draft | Stage::Scheduled | Stage::Open);
    let actions = Transition::ALL.into_iter().filter(|t| t.applies_to(poll.stage)).collect::<Vec<_>>();
    let export = |file: &str| format!("/editor/polls/{id}/export/{file}");
    let head = view! {
        <div class="page-head">
            <h1>{view_.question.clone()}</h1>
            <StageBadge stage=poll.stage/>
        </div>
        <p class="poll-meta">
            <Times opens=view_.opens_at closes=view_.closes_at/>
            " · "
            {if poll.stage == Stage::Draft {
                view! { <span>{format!("/polls/{}", view_.slug)}</span> }.into_any()
            } else {
                view! { <a href=format!("/polls/{}", view_.slug)>{format!("/polls/{}", view_.slug)}</a> }.into_any()
            }}
        </p>
        <div class="actions">
            {actions.into_iter().map(|t| view! {
                <form method="post" action=format!("/editor/polls/{id}/actions/{}", t.name()) class="inline">
                    <Csrf me=me.clone()/>
                    <button type="submit" class=if t == Transition::CloseNow { "danger" } else { "primary" }>{t.label()}</button>
                </form>
            }).collect_view()}
            {editable.then(|| view! { <a href=format!("/editor/polls/{id}/edit") class="button secondary">"Edit"</a> })}
            <form method="post" action=format!("/editor/polls/{id}/actions/duplicate") class="inline">
                <Csrf me=me.clone()/>
                <button type="submit" class="secondary">"Duplicate as next week's draft"</button>
            </form>
        </div>
    }
    .into_any();

    let figures = view! {
        <section class="dashboard-grid">
            <div class="panel">
                <h2>"Results"</h2>
                <p class="big-number" aria-live="polite">{move || {
                    let total = live.with(|d| d.poll.total_votes);
                    view! { <span id="total-votes">{total}</span>{if total == 1 { " vote" } else { " votes" }}}
                }}</p>
                {move || view! { <ResultsBars results=live.with(|d| d.results.clone())/> }}
                <p class="exports">"Export: "
                    <a href=export("results.csv") download rel="external">"results (CSV)"</a>" · "
                    <a href=export("comments.csv") download rel="external">"comments (CSV)"</a>" · "
                    <a href=export("poll.json") download rel="external">"everything (JSON)"</a>
                </p>
            </div>
            <div class="panel">
                <h2>"Votes over time"</h2>
                {move || view! { <Timeline points=live.with(|d| d.timeline.clone())/> }}
                <h2>"Where votes came from"</h2>
                {move || view! { <Sources sources=live.with(|d| d.sources.clone())/> }}
            </div>
        </section>
    }
    .into_any();

    let comments = view! {
        <section class="panel" id="comments">
            <h2>"Comments"</h2>
            <p class="hint">{move || {
                let (now, shown) = (live.with(|d| d.comments.len()), comments_shown);
                if now > shown { format!("{shown} shown; {} new since this page loaded (reload to see them).", now - shown) } else { format!("{shown} in all.") }
            }}" Hidden comments stay here for editors and are never shown to readers."</p>
            {if comments.is_empty() {
                view! { <p class="muted">"No comments yet."</p> }.into_any()
            } else {
                view! { <ol class="comments">{comments.into_iter().map(|c| view! { <CommentItem me=me.clone() poll=id comment=c/> }).collect_view()}</ol> }.into_any()
            }}
        </section>
    }
    .into_any();

    let page_url = kit.as_ref().ok().map(|kit| kit.page_url.clone());
    let summary = view! {
        <super::summary::SummaryPanel me=me.clone() poll=id summary backends=summary_backends
            options=poll.poll.options.clone() comments=comments_shown automatic=summarise_on_close page_url/>
    };
    view! { {head}{figures}{summary}<super::share::SharePanel kit stage=poll.stage/>{comments} }.into_any()
}

#[component]
fn Sources(sources: Vec<SourceCount>) -> impl IntoView {
    if sources.is_empty() {
        return view! { <p class="muted">"No votes yet."</p> }.into_any();
    }
    view! {
        <table class="data">
            <thead><tr><th scope="col">"Source"</th><th scope="col" class="num">"Votes"</th></tr></thead>
            <tbody>{sources.into_iter().map(|s| view! {
                <tr><td>{s.source}</td><td class="num">{s.votes}</td></tr>
            }).collect_view()}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn CommentItem(me: EditorIdentity, poll: crate::domain::PollId, comment: CommentView) -> impl IntoView {
    let CommentView { id, body, hidden, at, choices } = comment;
    view! {
        <li class="comment-item" class:hidden-comment=hidden id=format!("comment-{id}")>
            <p class="comment-body">{body}</p>
            <p class="muted">
                {choices.join(", ")}" · "<LocalTime at/>
                {hidden.then(|| view! { " · " <strong>"hidden"</strong> })}
            </p>
            <form method="post" action=format!("/editor/polls/{poll}/comments/{id}") class="inline">
                <Csrf me/>
                <input type="hidden" name="hidden" value=if hidden { "false" } else { "true" }/>
                <button type="submit" class="link">{if hidden { "Restore" } else { "Hide" }}</button>
            </form>
        </li>
    }
}

/// Votes per hour as bars; the figures are in the caption and each bar's title.
#[component]
fn Timeline(points: Vec<TimelinePoint>) -> impl IntoView {
    if points.is_empty() {
        return view! { <p class="muted">"No votes yet."</p> }.into_any();
    }
    let peak = points.iter().map(|p| p.votes).max().unwrap_or(1).max(1);
    let busiest = points.iter().max_by_key(|p| p.votes).map(|p| crate::components::format_time(p.hour));
    let (width, height) = (600.0, 120.0);
    let bar = width / points.len() as f64;
    let summary = format!(
        "{} hours with votes; the busiest hour had {peak} (from {}).",
        points.len(),
        busiest.unwrap_or_default()
    );
    view! {
        <figure class="timeline">
            <svg viewBox=format!("0 0 {width} {height}") role="img" aria-label=summary.clone() preserveAspectRatio="none">
                {points.into_iter().enumerate().map(|(i, p)| {
                    let h = height * p.votes as f64 / peak as f64;
                    view! {
                        <rect x=format!("{:.2}", i as f64 * bar) y=format!("{:.2}", height - h)
                            width=format!("{:.2}", (bar * 0.85).max(1.0)) height=format!("{h:.2}")>
                            <title>{format!("{}: {} votes", crate::components::format_time(p.hour), p.votes)}</title>
                        </rect>
                    }
                }).collect_view()}
            </svg>
            <figcaption class="muted">{summary}</figcaption>
        </figure>
    }
    .into_any()
}
