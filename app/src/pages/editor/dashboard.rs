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
use leptos_router::hooks::use_query_map;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let id = route_poll_id();
    // `?confirm=close` (and the like): the second step of a button that needs one.
    let confirm = use_query_map().with_untracked(|q| q.get("confirm").and_then(|name| Transition::parse(&name)));
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
                    <DashboardView me dashboard kit confirm/>
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
fn DashboardView(
    me: EditorIdentity,
    dashboard: Dashboard,
    kit: Result<ShareKit, AppError>,
    confirm: Option<Transition>,
) -> impl IntoView {
    let live = RwSignal::new(dashboard.clone());
    keep_live(dashboard.poll.id, live);
    let Dashboard { poll, comments, summary, summary_backends, summarise_on_close, .. } = dashboard;
    let comments_shown = comments.len();
    // What the summary panel shows of each comment behind a theme (the same comments as the list).
    let briefs: std::sync::Arc<std::collections::HashMap<i64, (String, Vec<String>)>> =
        std::sync::Arc::new(comments.iter().map(|c| (c.id, (c.body.clone(), c.choices.clone()))).collect());
    let id = poll.id;
    let view_ = poll.poll.clone();
    let counted = crate::domain::Counted::of(view_.max_choices);
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
        {confirm.filter(|t| actions.contains(t)).and_then(|t| t.confirmation().map(|question| view! {
            <section class="confirm panel" role="alertdialog" aria-labelledby="confirm-question">
                <p id="confirm-question"><strong>{question}</strong></p>
                <form method="post" action=format!("/editor/polls/{id}/actions/{}", t.name()) class="inline">
                    <Csrf me=me.clone()/>
                    <input type="hidden" name="confirm" value="yes"/>
                    <button type="submit" class=button_class(t) autofocus>{format!("Yes, {}", t.label().to_lowercase())}</button>
                </form>
                <a href=format!("/editor/polls/{id}") class="button secondary">"Cancel"</a>
            </section>
        }))}
        <div class="actions">
            {actions.iter().copied().map(|t| match t.confirmation() {
                // Asks first (a page of its own, so it works without JavaScript too).
                Some(_) => view! {
                    <a href=format!("/editor/polls/{id}?confirm={}", t.name()) class=format!("button {}", button_class(t))>
                        {format!("{}…", t.label())}
                    </a>
                }.into_any(),
                None => view! {
                    <form method="post" action=format!("/editor/polls/{id}/actions/{}", t.name()) class="inline">
                        <Csrf me=me.clone()/>
                        <button type="submit" class=button_class(t)>{t.label()}</button>
                    </form>
                }.into_any(),
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
                {move || view! { <ResultsBars results=live.with(|d| d.results.clone()) counted/> }}
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
            options=poll.poll.options.clone() comments=comments_shown automatic=summarise_on_close page_url briefs/>
    };
    view! { {head}{figures}{summary}<super::share::SharePanel kit stage=poll.stage/>{comments} }.into_any()
}

fn button_class(t: Transition) -> &'static str {
    if t == Transition::CloseNow {
        "danger"
    } else {
        "primary"
    }
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

/// Votes per hour as bars, time to scale: an hour without votes is an empty slot, midnights
/// (UTC) are ticks. The figures are in the caption and each bar's title.
#[component]
fn Timeline(points: Vec<TimelinePoint>) -> impl IntoView {
    let Some(chart) = HourChart::of(&points) else {
        return view! { <p class="muted">"No votes yet."</p> }.into_any();
    };
    let (width, height) = (HourChart::WIDTH, HourChart::HEIGHT);
    let busiest = points.iter().max_by_key(|p| p.votes).map(|p| crate::components::format_time(p.hour));
    let with_votes = points.iter().filter(|p| p.votes > 0).count();
    let summary = format!(
        "{} hours from {}, {with_votes} with votes; the busiest hour had {} (from {}).",
        chart.hours,
        crate::components::format_time(chart.start),
        chart.peak,
        busiest.unwrap_or_default()
    );
    view! {
        <figure class="timeline">
            <svg viewBox=format!("0 0 {width} {height}") role="img" aria-label=summary.clone() preserveAspectRatio="none">
                {chart.days.iter().map(|(x, _)| view! {
                    <line class="day" x1=format!("{x:.2}") x2=format!("{x:.2}") y1="0" y2=height.to_string()
                        vector-effect="non-scaling-stroke"/>
                }).collect_view()}
                {chart.bars.iter().map(|bar| view! {
                    <rect x=format!("{:.2}", bar.x) y=format!("{:.2}", height - bar.height)
                        width=format!("{:.2}", bar.width) height=format!("{:.2}", bar.height)>
                        <title>{bar.title.clone()}</title>
                    </rect>
                }).collect_view()}
            </svg>
            <div class="timeline-axis" aria-hidden="true">
                // At most seven labels: a month-long poll labels every fifth day or so.
                {chart.days.iter().step_by(chart.days.len().div_ceil(7).max(1)).map(|(x, label)| view! {
                    <span style=format!("left: {:.2}%", 100.0 * x / width)>{label.clone()}</span>
                }).collect_view()}
            </div>
            <figcaption class="muted">{summary}</figcaption>
        </figure>
    }
    .into_any()
}

/// Where the bars of a votes-per-hour chart go, in a `WIDTH` × `HEIGHT` box: one slot per
/// hour from the first hour with votes to the last, empty hours included.
#[derive(Debug, PartialEq)]
struct HourChart {
    start: chrono::DateTime<chrono::Utc>,
    hours: i64,
    peak: u64,
    bars: Vec<Bar>,
    /// Midnights (UTC) inside the span: x, and the day they start ("27 Nov").
    days: Vec<(f64, String)>,
}

#[derive(Debug, PartialEq)]
struct Bar {
    x: f64,
    width: f64,
    height: f64,
    title: String,
}

impl HourChart {
    const WIDTH: f64 = 600.0;
    const HEIGHT: f64 = 120.0;

    fn of(points: &[TimelinePoint]) -> Option<Self> {
        use chrono::{Duration, DurationRound, Timelike};
        let start = points.iter().map(|p| p.hour).min()?.duration_trunc(Duration::hours(1)).ok()?;
        let end = points.iter().map(|p| p.hour).max()?;
        let hours = (end - start).num_hours() + 1;
        let slot = Self::WIDTH / hours as f64;
        let peak = points.iter().map(|p| p.votes).max().unwrap_or(0).max(1);
        let bars = points
            .iter()
            .filter(|p| p.votes > 0)
            .map(|p| Bar {
                x: (p.hour - start).num_hours() as f64 * slot,
                width: (slot * 0.85).max(1.0),
                height: Self::HEIGHT * p.votes as f64 / peak as f64,
                title: format!(
                    "{}: {} vote{}",
                    crate::components::format_time(p.hour),
                    p.votes,
                    if p.votes == 1 { "" } else { "s" }
                ),
            })
            .collect();
        let days = (1..hours)
            .map(|h| start + Duration::hours(h))
            .filter(|t| t.hour() == 0)
            .map(|t| ((t - start).num_hours() as f64 * slot, t.format("%-d %b").to_string()))
            .collect();
        Some(HourChart { start, hours, peak, bars, days })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn at(day: u32, hour: u32) -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
    }

    #[test]
    fn hours_without_votes_take_their_place_and_midnights_are_ticks() {
        // 22:00 on the 26th, then nothing until 18:00 on the 27th: a 20-hour gap.
        let points = vec![
            TimelinePoint { hour: at(26, 22), votes: 4 },
            TimelinePoint { hour: at(26, 23), votes: 2 },
            TimelinePoint { hour: at(27, 18), votes: 8 },
        ];
        let chart = HourChart::of(&points).unwrap();
        assert_eq!((chart.start, chart.hours, chart.peak), (at(26, 22), 21, 8));
        let slot = HourChart::WIDTH / 21.0;
        let xs: Vec<f64> = chart.bars.iter().map(|b| b.x).collect();
        assert_eq!(xs, [0.0, slot, 20.0 * slot], "the last bar is 20 slots on, not 2");
        let heights: Vec<f64> = chart.bars.iter().map(|b| b.height).collect();
        assert_eq!(heights, [60.0, 30.0, 120.0]);
        assert_eq!(chart.days, [(2.0 * slot, "27 Nov".to_owned())]);
        assert_eq!(chart.bars[2].title, "27 Nov 2026, 18:00 UTC: 8 votes");
        assert_eq!(HourChart::of(&[]), None);
    }
}
