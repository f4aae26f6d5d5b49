//! The summary panel on a poll's dashboard: "Summarise comments", its progress (the summary's
//! live stream while it runs; a reload shows it without JavaScript), then the themes per
//! answer with counts, shares and quotes (each linked to its comment below), the checks, and
//! a form to edit titles and overview and approve. Approved, it appears on the poll page with
//! the final results, and as an email block to copy into the next issue.

use super::share::CopyField;
use super::Csrf;
use crate::components::{comments, thousands, LocalTime};
use crate::domain::{summary_email, EditorIdentity, OptionView, SummaryStatus, SummaryView};
use leptos::prelude::*;

#[component]
pub fn SummaryPanel(
    me: EditorIdentity,
    poll: crate::domain::PollId,
    summary: Option<SummaryView>,
    /// The backends this server can run, the default first: name and label.
    backends: Vec<(String, String)>,
    options: Vec<OptionView>,
    comments: usize,
    automatic: bool,
    /// The poll's public address, for the email block (none where it is not known).
    page_url: Option<String>,
    /// Each comment's text and the labels its writer chose, by id: what a theme's list shows.
    briefs: Briefs,
) -> impl IntoView {
    let current = RwSignal::new(summary);
    // While a summary runs, follow its progress; the stream ends with the finished summary.
    if let Some(running) = current.get_untracked().filter(|s| !s.finished()) {
        let url = format!("/api/v1/editor/summaries/{}/events", running.id);
        Effect::new(move |_| {
            crate::components::follow_events(url.clone(), "summary", move |json| {
                if let Ok(summary) = serde_json::from_str::<SummaryView>(&json) {
                    current.set(Some(summary));
                }
            })
        });
    }
    let options = StoredValue::new(options);
    let me_ = me.clone();
    view! {
        <section class="panel summary" id="summary" aria-labelledby="summary-title">
            <h2 id="summary-title">"Summary of comments"</h2>
            <form method="post" action=format!("/editor/polls/{poll}/summaries") class="summarise">
                <Csrf me=me.clone()/>
                {(backends.len() > 1).then(|| view! {
                    <label for="summary-backend">"Written by"</label>
                    <select id="summary-backend" name="backend">
                        {backends.iter().map(|(name, label)| view! { <option value=name.clone()>{label.clone()}</option> }).collect_view()}
                    </select>
                })}
                <button type="submit" class="primary" disabled=move || current.with(|s| s.as_ref().is_some_and(|s| !s.finished()))>
                    "Summarise comments"
                </button>
                <span class="hint">{format!(" {comments} comments. Hidden comments are left out. Every quote and figure is checked against them.")}</span>
            </form>
            <form method="post" action=format!("/editor/polls/{poll}/summaries/automatic") class="inline">
                <Csrf me=me.clone()/>
                <input type="hidden" name="on" value=if automatic { "false" } else { "true" }/>
                <span class="hint">{if automatic { "A summary is made when the poll closes. " } else { "No summary is made when the poll closes. " }}</span>
                <button type="submit" class="link">{if automatic { "Turn off" } else { "Turn on" }}</button>
            </form>
            {move || current.get().map(|s| view! { <SummaryBody me=me_.clone() summary=s options=options.get_value() page_url=page_url.clone() briefs=briefs.clone()/> })}
        </section>
    }
}

#[component]
fn SummaryBody(
    me: EditorIdentity,
    summary: SummaryView,
    options: Vec<OptionView>,
    page_url: Option<String>,
    briefs: Briefs,
) -> impl IntoView {
    match summary.status {
        SummaryStatus::Queued | SummaryStatus::Running => {
            let percent = (summary.progress * 100.0).round();
            view! {
                <div class="summary-progress" role="status" aria-live="polite">
                    <progress max="1" value=summary.progress aria-label="Summary progress"></progress>
                    <span>{if summary.status == SummaryStatus::Queued { "Waiting for a worker…".to_owned() } else { format!("Summarising… {percent}%") }}</span>
                    <noscript>" Reload the page to see how it is going."</noscript>
                </div>
            }
            .into_any()
        }
        SummaryStatus::Failed => view! {
            <p class="error" role="alert">"The summary failed: "{summary.note.clone().unwrap_or_default()}</p>
        }
        .into_any(),
        SummaryStatus::Done => view! { <FinishedSummary me summary options page_url briefs/> }.into_any(),
    }
}

#[component]
fn FinishedSummary(
    me: EditorIdentity,
    summary: SummaryView,
    options: Vec<OptionView>,
    page_url: Option<String>,
    briefs: Briefs,
) -> impl IntoView {
    let checks = [
        ("Quotes are readers' exact words", summary.checks.quotes_verbatim),
        ("Every figure matches the data", summary.checks.numbers_match),
        ("Every quote cites a visible comment", summary.checks.citations_valid),
        ("Titles and overview are plain text", summary.checks.plain_text),
    ];
    let labels: Vec<(String, String)> = options.iter().map(|o| (o.id.as_str().to_owned(), o.label.clone())).collect();
    // How many of the summary's comments came from each answer's readers (by label): its
    // themes' members and its comments that fit no theme.
    let readers_of = |label: &str| -> u64 {
        let key = labels.iter().find(|(_, l)| l == label).map(|(k, _)| k.as_str());
        let themed: u64 = summary.themes.iter().filter(|t| t.option.as_deref() == key).map(|t| t.comment_count).sum();
        let loose = summary
            .unassigned_comment_ids
            .iter()
            .filter(|id| briefs.get(id).is_some_and(|(_, chose)| chose.iter().any(|c| c == label)))
            .count() as u64;
        themed + loose
    };
    // One fieldset per reason: a shared reason once, its count per answer, one title for all
    // its themes (the field names their positions: `title-2-5`).
    let reasons: Vec<ReasonField> = summary
        .sections(&labels)
        .iter()
        .flat_map(|section| section.reasons.iter())
        .map(|reason| {
            let counts = reason
                .parts
                .iter()
                .map(|(label, _, t)| {
                    format!(
                        "{} of {} readers who chose “{label}”",
                        thousands(t.comment_count),
                        thousands(readers_of(label))
                    )
                })
                .collect::<Vec<_>>()
                .join(" · ");
            let share: f64 = reason.parts.iter().map(|(_, _, t)| t.share).sum();
            let legend = format!(
                "{}{counts} · {}% of comments",
                if reason.shared() { "Shared reason: " } else { "" },
                (share * 100.0).round()
            );
            let mut ids: Vec<i64> = reason.parts.iter().flat_map(|(_, _, t)| t.comment_ids.iter().copied()).collect();
            // A writer of both answers (multiple choice) is listed once.
            ids.sort_unstable();
            ids.dedup();
            let quotes = reason.quotes(6).into_iter().map(|q| (q.comment_id, q.text.clone())).collect();
            ReasonField {
                legend,
                themes: reason.themes(),
                title: reason.title().to_owned(),
                shared: reason.shared(),
                quotes,
                count: ids.len() as u64,
                ids,
            }
        })
        .collect();
    let unassigned = summary.unassigned_comment_ids.clone();
    let id = summary.id;
    let approved = summary.approved_at;
    let email = approved.is_some().then(|| (summary.clone(), labels.clone())).zip(page_url);
    view! {
        <p class="muted summary-meta">
            {format!("{} comments · written by {} ({})", summary.comments_considered, summary.backend, summary.model.clone().unwrap_or_default())}
            {summary.finished_at.map(|at| view! { " · " <LocalTime at/> })}
        </p>
        <ul class="checks" aria-label="Checks">
            {checks.into_iter().map(|(what, ok)| view! {
                <li class=if ok { "check-ok" } else { "check-failed" }>{if ok { "✓ " } else { "✗ " }}{what}</li>
            }).collect_view()}
        </ul>
        {summary.needs_review.then(|| view! {
            <p class="notice" role="note">"Needs review: "{summary.note.clone().unwrap_or_else(|| "check it before approving.".into())}</p>
        })}
        <form method="post" action=format!("/editor/summaries/{id}/approve") class="summary-edit">
            <Csrf me/>
            <label for="summary-overview">"Overview"</label>
            <textarea id="summary-overview" name="overview" rows="4">{crate::html::field_text(&summary.overview)}</textarea>
            {reasons.into_iter().map(|ReasonField { legend, themes, title, shared, quotes, ids, count }| {
                let field = format!("summary-title-{}", themes[0]);
                let name = format!("title-{}", themes.iter().map(usize::to_string).collect::<Vec<_>>().join("-"));
                view! {
                    <fieldset class=if shared { "summary-theme shared" } else { "summary-theme" }>
                        <legend>{legend}</legend>
                        <label for=field.clone()>"Theme title"</label>
                        <input id=field type="text" name=name value=title maxlength="90"/>
                        <ul class="quotes">
                            {quotes.into_iter().map(|(id, text)| view! {
                                <li><blockquote>{text}</blockquote>
                                    <a href=format!("#comment-{id}")>{format!("comment {id}")}</a></li>
                            }).collect_view()}
                        </ul>
                        <ThemeComments heading=format!("Read all {}", comments(count)) ids briefs=briefs.clone()/>
                    </fieldset>
                }
            }).collect_view()}
            <div class="summary-unassigned">
                <ThemeComments heading=format!("Fits no theme: {}", comments(unassigned.len() as u64)) ids=unassigned briefs=briefs.clone()/>
            </div>
            <button type="submit" class="primary">{if approved.is_some() { "Save and keep approved" } else { "Approve and show to readers" }}</button>
            <span class="hint">" Edits are checked again: figures must match the data, quotes must be readers' words."</span>
        </form>
        {approved.map(|at| view! {
            <p class="success" role="status">"Approved "<LocalTime at/>": shown on the poll page with the final results."</p>
        })}
        {email.map(|((summary, labels), page_url)| view! { <SummaryEmail summary labels page_url/> })}
    }
}

/// What one reason's fieldset shows.
struct ReasonField {
    legend: String,
    /// Its themes' positions in the summary: one title field sets them all.
    themes: Vec<usize>,
    title: String,
    shared: bool,
    quotes: Vec<(i64, String)>,
    /// Every member comment, of every answer it was given in.
    ids: Vec<i64>,
    count: u64,
}

/// Comment texts by id, with the labels their writers chose.
pub type Briefs = std::sync::Arc<std::collections::HashMap<i64, (String, Vec<String>)>>;

/// How many of a theme's comments are listed at a time.
const THEME_PAGE: usize = 50;

/// All of a theme's comments (or those that fit none), behind a disclosure, a page at a time:
/// the first page, then each further page behind its own disclosure ("Comments 51–100 of
/// 1,204"), so paging needs no JavaScript. Each links to the comment in the dashboard's list,
/// where it can be hidden.
#[component]
fn ThemeComments(heading: String, ids: Vec<i64>, briefs: Briefs) -> impl IntoView {
    let total = ids.len();
    let item = move |id: &i64| {
        let body = briefs.get(id).map(|(body, _)| body.clone()).unwrap_or_else(|| "(deleted)".into());
        view! { <li><a href=format!("#comment-{id}")>{format!("comment {id}")}</a>" "{body}</li> }
    };
    let pages: Vec<Vec<i64>> = ids.chunks(THEME_PAGE).map(<[i64]>::to_vec).collect();
    let mut pages = pages.into_iter().enumerate();
    let first = pages.next().map(|(_, page)| page).unwrap_or_default();
    view! {
        <details class="theme-comments">
            <summary>{heading}</summary>
            <ol>{first.iter().map(item.clone()).collect_view()}</ol>
            {pages.map(|(n, page)| {
                let from = n * THEME_PAGE + 1;
                let to = from + page.len() - 1;
                view! {
                    <details class="theme-page">
                        <summary>{format!("Comments {}–{} of {}", thousands(from as u64), thousands(to as u64), thousands(total as u64))}</summary>
                        <ol start=from.to_string()>{page.iter().map(item.clone()).collect_view()}</ol>
                    </details>
                }
            }).collect_view()}
        </details>
    }
}

/// The approved summary as an email block for the poll at `page_url`.
#[component]
fn SummaryEmail(summary: SummaryView, labels: Vec<(String, String)>, page_url: String) -> impl IntoView {
    let (html, text) = summary_email(&summary, &labels, &page_url);
    view! {
        <details class="email-block">
            <summary>"Email block for the next issue"</summary>
            <CopyField id="summary-email-html" label="HTML" value=html.clone() rows=6/>
            <CopyField id="summary-email-text" label="Plain text" value=text rows=6/>
            <iframe class="email-preview" title="Preview of the summary email block" srcdoc=html sandbox=""></iframe>
        </details>
    }
}
