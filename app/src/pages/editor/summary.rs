//! The summary panel on a poll's dashboard: "Summarise comments", its progress (the summary's
//! live stream while it runs; a reload shows it without JavaScript), then the themes per
//! answer with counts, shares and quotes (each linked to its comment below), the checks, and
//! a form to edit titles and overview and approve. Approved, it appears on the poll page with
//! the final results, and as an email block to copy into the next issue.

use super::share::CopyField;
use super::Csrf;
use crate::components::{comments, LocalTime};
use crate::domain::{summary_email, EditorIdentity, OptionView, SummaryView};
use leptos::prelude::*;

#[component]
pub fn SummaryPanel(
    me: EditorIdentity,
    poll: crate::domain::PollId,
    summary: Option<SummaryView>,
    backends: Vec<String>,
    options: Vec<OptionView>,
    comments: usize,
    automatic: bool,
    /// The poll's public address, for the email block (none where it is not known).
    page_url: Option<String>,
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
                        {backends.iter().map(|b| view! { <option value=b.clone()>{backend_label(b)}</option> }).collect_view()}
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
            {move || current.get().map(|s| view! { <SummaryBody me=me_.clone() summary=s options=options.get_value() page_url=page_url.clone()/> })}
        </section>
    }
}

fn backend_label(backend: &str) -> &'static str {
    match backend {
        "extractive" => "Templates (extractive)",
        "local" => "Local model",
        "openai" => "Model server (OpenAI-compatible)",
        _ => "Other",
    }
}

#[component]
fn SummaryBody(
    me: EditorIdentity,
    summary: SummaryView,
    options: Vec<OptionView>,
    page_url: Option<String>,
) -> impl IntoView {
    match summary.status.as_str() {
        "queued" | "running" => {
            let percent = (summary.progress * 100.0).round();
            view! {
                <div class="summary-progress" role="status" aria-live="polite">
                    <progress max="1" value=summary.progress aria-label="Summary progress"></progress>
                    <span>{if summary.status == "queued" { "Waiting for a worker…".to_owned() } else { format!("Summarising… {percent}%") }}</span>
                    <noscript>" Reload the page to see how it is going."</noscript>
                </div>
            }
            .into_any()
        }
        "failed" => view! {
            <p class="error" role="alert">"The summary failed: "{summary.note.clone().unwrap_or_default()}</p>
        }
        .into_any(),
        _ => view! { <FinishedSummary me summary options page_url/> }.into_any(),
    }
}

#[component]
fn FinishedSummary(
    me: EditorIdentity,
    summary: SummaryView,
    options: Vec<OptionView>,
    page_url: Option<String>,
) -> impl IntoView {
    let checks = [
        ("Quotes are readers' exact words", summary.checks.quotes_verbatim),
        ("Every figure matches the data", summary.checks.numbers_match),
        ("Every quote cites a visible comment", summary.checks.citations_valid),
        ("Titles and overview are plain text", summary.checks.plain_text),
    ];
    let labels: Vec<(String, String)> = options.iter().map(|o| (o.id.as_str().to_owned(), o.label.clone())).collect();
    let label_of = {
        let labels = labels.clone();
        move |key: &Option<String>| {
            labels
                .iter()
                .find(|(k, _)| Some(k) == key.as_ref())
                .map(|(_, l)| l.clone())
                .unwrap_or_else(|| "All answers".into())
        }
    };
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
            {summary.themes.iter().enumerate().map(|(n, theme)| {
                let field = format!("summary-title-{n}");
                view! {
                    <fieldset class="summary-theme">
                        <legend>{format!("{} · {} · {}% of comments", label_of(&theme.option), comments(theme.comment_count), (theme.share * 100.0).round())}</legend>
                        <label for=field.clone()>"Theme title"</label>
                        <input id=field type="text" name="title" value=theme.title.clone() maxlength="90"/>
                        <ul class="quotes">
                            {theme.quotes.iter().map(|q| view! {
                                <li><blockquote>{q.text.clone()}</blockquote>
                                    <a href=format!("#comment-{}", q.comment_id)>{format!("comment {}", q.comment_id)}</a></li>
                            }).collect_view()}
                        </ul>
                    </fieldset>
                }
            }).collect_view()}
            <button type="submit" class="primary">{if approved.is_some() { "Save and keep approved" } else { "Approve and show to readers" }}</button>
            <span class="hint">" Edits are checked again: figures must match the data, quotes must be readers' words."</span>
        </form>
        {approved.map(|at| view! {
            <p class="success" role="status">"Approved "<LocalTime at/>": shown on the poll page with the final results."</p>
        })}
        {email.map(|((summary, labels), page_url)| view! { <SummaryEmail summary labels page_url/> })}
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
