//! Writing a poll: the form beside a live preview of what readers will see.
//!
//! Without JavaScript the form posts as it is (times in UTC, two spare option rows).
//! With it, times are shown and read in the editor's time zone, options can be added,
//! removed and reordered, and saving happens in place through `save_poll`.

use super::{editor_page, loading, route_poll_id, Csrf};
use crate::api::editor::{load_editor_poll, load_new_draft, SavePoll};
use crate::components::input_time;
use crate::domain::{
    AppError, ChoiceKind, DraftOption, EditorIdentity, PollDraft, ResultsVisibility, Stage, COMMENT_MAX_CHARS,
    LABEL_MAX_CHARS, QUESTION_MAX_CHARS,
};
use crate::services::EditorPoll;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Spare blank rows, so an editor without JavaScript can still add options.
const SPARE_ROWS: usize = 2;

#[component]
pub fn NewPollPage() -> impl IntoView {
    let draft = Resource::new(|| (), |_| load_new_draft());
    view! {
        <Title text="New poll · Editor"/>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                editor_page(draft.await, |me, draft| view! {
                    <h1>"New poll"</h1>
                    <PollEditor me draft poll=None/>
                }.into_any())
            })}
        </Suspense>
    }
}

#[component]
pub fn EditPollPage() -> impl IntoView {
    let id = route_poll_id();
    let poll = Resource::new(id, |id| async move {
        match id {
            Some(id) => load_editor_poll(id).await,
            None => Err(AppError::PollNotFound),
        }
    });
    view! {
        <Title text="Edit poll · Editor"/>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                editor_page(poll.await, |me, poll| {
                    let back = format!("/editor/polls/{}", poll.id);
                    if matches!(poll.stage, Stage::Closed | Stage::Archived) {
                        return view! {
                            <h1>"This poll is final"</h1>
                            <p>"A " {poll.stage.name()} " poll cannot be edited. "
                               <A href=back>"Back to its results"</A>" or duplicate it from there."</p>
                        }.into_any();
                    }
                    let draft = PollDraft::of(&poll.poll, poll.version);
                    view! {
                        <h1>"Edit poll"</h1>
                        <p><A href=back>"← Back to results"</A></p>
                        <PollEditor me draft poll=Some(poll)/>
                    }.into_any()
                })
            })}
        </Suspense>
    }
}

/// One option row of the form. `locked` rows already have votes: not reworded, not removed.
#[derive(Clone)]
struct Row {
    uid: usize,
    id: Option<String>,
    label: RwSignal<String>,
    locked: bool,
}

/// The form and its preview: one lazy island.
#[island(lazy)]
fn PollEditor(me: EditorIdentity, draft: PollDraft, poll: Option<EditorPoll>) -> impl IntoView {
    let poll_id = poll.as_ref().map(|p| p.id);
    let voted = poll.as_ref().map_or(0, |p| p.total_votes);
    let csrf = me.csrf.clone().unwrap_or_default();
    let action = poll_id.map_or("/editor/polls".to_owned(), |id| format!("/editor/polls/{id}/save"));

    let question = RwSignal::new(draft.question.clone());
    let slug = RwSignal::new(draft.slug.clone().unwrap_or_default());
    let kind = RwSignal::new(draft.kind);
    let max_choices = RwSignal::new(draft.max_choices);
    let allow_comment = RwSignal::new(draft.allow_comment);
    let allow_vote_change = RwSignal::new(draft.allow_vote_change);
    let visibility = RwSignal::new(draft.results_visibility.name().to_owned());
    let opens = RwSignal::new(input_time(draft.opens_at));
    let closes = RwSignal::new(input_time(draft.closes_at));
    let zone = RwSignal::new("UTC".to_owned());
    let hydrated = RwSignal::new(false);

    let mut initial: Vec<Row> = draft
        .options
        .iter()
        .enumerate()
        .map(|(uid, o)| Row { uid, id: o.id.clone(), label: RwSignal::new(o.label.clone()), locked: voted > 0 })
        .collect();
    let spares = SPARE_ROWS.max(4usize.saturating_sub(initial.len()));
    for _ in 0..spares {
        let uid = initial.len();
        initial.push(Row { uid, id: None, label: RwSignal::new(String::new()), locked: false });
    }
    let next_uid = StoredValue::new(initial.len());
    let rows = RwSignal::new(initial);

    let (opens_utc, closes_utc) = (draft.opens_at, draft.closes_at);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            use crate::components::browser;
            opens.set(browser::input_time(opens_utc));
            closes.set(browser::input_time(closes_utc));
            zone.set(browser::zone());
        }
        let _ = (opens_utc, closes_utc);
        hydrated.set(true);
    });

    let save = ServerAction::<SavePoll>::new();
    let problem = RwSignal::new(None::<String>);
    Effect::new(move |_| match save.value().get() {
        // Saved: on to its results (a page load; islands have no client-side router).
        Some(Ok(saved)) => {
            let _ = window().location().set_href(&format!("/editor/polls/{}", saved.id));
        }
        Some(Err(error)) => problem.set(Some(error.to_string())),
        None => {}
    });
    let version = draft.version;
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let read_time = |value: String, which: &str| -> Result<DateTime<Utc>, String> {
            #[cfg(feature = "hydrate")]
            return crate::components::browser::from_input(&value)
                .ok_or_else(|| format!("Enter the {which} date and time."));
            #[cfg(not(feature = "hydrate"))]
            return Err(format!("{value} {which}"));
        };
        let times = read_time(opens.get_untracked(), "opening")
            .and_then(|o| read_time(closes.get_untracked(), "closing").map(|c| (o, c)));
        let (opens_at, closes_at) = match times {
            Ok(times) => times,
            Err(message) => return problem.set(Some(message)),
        };
        let options = rows
            .get_untracked()
            .into_iter()
            .filter(|r| r.id.is_some() || !r.label.get_untracked().trim().is_empty())
            .map(|r| DraftOption { id: r.id, label: r.label.get_untracked() })
            .collect();
        let draft = PollDraft {
            question: question.get_untracked(),
            slug: Some(slug.get_untracked()).filter(|s| !s.trim().is_empty()),
            kind: kind.get_untracked(),
            max_choices: max_choices.get_untracked(),
            options,
            allow_comment: allow_comment.get_untracked(),
            allow_vote_change: allow_vote_change.get_untracked(),
            results_visibility: ResultsVisibility::parse(&visibility.get_untracked())
                .unwrap_or(ResultsVisibility::AfterVote),
            opens_at,
            closes_at,
            version,
        };
        problem.set(None);
        save.dispatch(SavePoll { id: poll_id, draft, csrf: csrf.clone() });
    };

    let add_row = move |_| {
        let uid = next_uid.get_value();
        next_uid.set_value(uid + 1);
        rows.update(|r| r.push(Row { uid, id: None, label: RwSignal::new(String::new()), locked: false }));
    };
    let visibility_choices = [
        ("always", "Always, even before voting"),
        ("after_vote", "After the reader votes"),
        ("after_close", "Only after the poll closes"),
        ("never", "Never (editors only)"),
    ];

    // Erased into one type: the whole form as one nested type overflows the compiler's limits.
    let fields = view! {
        <fieldset>
            <legend>"Options"</legend>
            <ol class="option-rows">
                {move || {
                    let count = rows.with(Vec::len);
                    rows.get().into_iter().enumerate().map(|(i, row)| {
                        let Row { uid, id, label, locked } = row;
                        let input_id = format!("option-{uid}");
                        view! {
                            <li class="option-row">
                                <input type="hidden" name="option_id" value=id.unwrap_or_default()/>
                                <label for=input_id.clone() class="visually-hidden">{format!("Option {}", i + 1)}</label>
                                <input id=input_id type="text" name="option_label" maxlength=LABEL_MAX_CHARS
                                    placeholder=format!("Option {}", i + 1) readonly=locked
                                    value=label.get_untracked() prop:value=move || label.get()
                                    on:input=move |ev| label.set(event_target_value(&ev))/>
                                {move || hydrated.get().then(|| view! {
                                    <span class="row-tools">
                                        <button type="button" class="icon" disabled=i == 0
                                            aria-label=format!("Move option {} up", i + 1)
                                            on:click=move |_| rows.update(|r| r.swap(i, i - 1))>"↑"</button>
                                        <button type="button" class="icon" disabled=i + 1 == count
                                            aria-label=format!("Move option {} down", i + 1)
                                            on:click=move |_| rows.update(|r| r.swap(i, i + 1))>"↓"</button>
                                        <button type="button" class="icon" disabled=locked
                                            aria-label=format!("Remove option {}", i + 1)
                                            on:click=move |_| rows.update(|r| { r.remove(i); })>"✕"</button>
                                    </span>
                                })}
                            </li>
                        }
                    }).collect_view()
                }}
            </ol>
            {move || hydrated.get().then(|| view! {
                <button type="button" class="secondary" on:click=add_row>"Add option"</button>
            })}
            <p class="hint">"Leave a row empty to leave it out. 2 to 20 options."</p>
        </fieldset>

        <div class="field-row">
            <div>
                <label for="kind">"Readers choose"</label>
                <select id="kind" name="kind" on:change=move |ev| {
                    let chosen = ChoiceKind::parse(&event_target_value(&ev)).unwrap_or(ChoiceKind::Single);
                    kind.set(chosen);
                    // "Several options" means at least two: never leave it at "at most 1".
                    if chosen == ChoiceKind::Multiple && max_choices.get_untracked() < 2 {
                        max_choices.set(2);
                    }
                }>
                    <option value="single" selected=draft.kind == ChoiceKind::Single>"One option"</option>
                    <option value="multiple" selected=draft.kind == ChoiceKind::Multiple>"Several options"</option>
                </select>
            </div>
            <div>
                <label for="max_choices">"At most"</label>
                <input id="max_choices" name="max_choices" type="number" max="20"
                    min=move || if kind.get() == ChoiceKind::Multiple { "2" } else { "1" }
                    // Only one option can be chosen: the maximum does not apply (without
                    // JavaScript the field stays usable, and the server checks the rule).
                    disabled=move || hydrated.get() && kind.get() == ChoiceKind::Single
                    value=draft.max_choices.to_string() prop:value=move || max_choices.get().to_string()
                    on:input=move |ev| max_choices.set(event_target_value(&ev).parse().unwrap_or(1))/>
            </div>
        </div>

        <div class="field-row">
            <TimeField name="opens_at" label="Opens" initial=draft.opens_at value=opens/>
            <TimeField name="closes_at" label="Closes" initial=draft.closes_at value=closes/>
        </div>
        <p class="hint">"Times are in " {move || zone.get()} "."</p>

        <label for="results_visibility">"Show results"</label>
        <select id="results_visibility" name="results_visibility"
            on:change=move |ev| visibility.set(event_target_value(&ev))>
            {visibility_choices.into_iter().map(|(value, text)| view! {
                <option value=value selected=draft.results_visibility.name() == value>{text}</option>
            }).collect_view()}
        </select>

        <div class="check">
            <input id="allow_comment" name="allow_comment" type="checkbox" checked=draft.allow_comment
                on:change=move |ev| allow_comment.set(event_target_checked(&ev))/>
            <label for="allow_comment">"Ask readers “why?” (optional comment)"</label>
        </div>
        <div class="check">
            <input id="allow_vote_change" name="allow_vote_change" type="checkbox" checked=draft.allow_vote_change
                on:change=move |ev| allow_vote_change.set(event_target_checked(&ev))/>
            <label for="allow_vote_change">"Readers may change their vote until the poll closes"</label>
        </div>

        <label for="slug">"Address " <span class="muted">"(optional; made from the question)"</span></label>
        <div class="slug-field"><span class="muted">"/polls/"</span>
            <input id="slug" name="slug" type="text" maxlength="80" pattern="[a-z0-9]+(-[a-z0-9]+)*"
                value=draft.slug.clone().unwrap_or_default() prop:value=move || slug.get()
                on:input=move |ev| slug.set(event_target_value(&ev))/>
        </div>

    }
    .into_any();

    view! {
        <div class="editor-grid">
            <form class="poll-form stack" method="post" action=action on:submit=on_submit>
                <Csrf me=me.clone()/>
                <input type="hidden" name="version" value=version.map(|v| v.to_string()).unwrap_or_default()/>
                {(voted > 0).then(|| view! {
                    <p class="notice" role="note">{format!(
                        "{voted} readers have voted. You can add and reorder options, but not reword or remove them."
                    )}</p>
                })}
                <label for="question">"Question"</label>
                <textarea id="question" name="question" rows="2" required maxlength=QUESTION_MAX_CHARS
                    prop:value=move || question.get()
                    on:input=move |ev| question.set(event_target_value(&ev))>{crate::html::field_text(&draft.question)}</textarea>

                {fields}
                <p class="error" role="alert">{move || problem.get()}</p>
                <button type="submit" class="primary" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else if poll_id.is_some() { "Save changes" } else { "Save draft" }}
                </button>
            </form>
            <Preview question rows kind max_choices allow_comment/>
        </div>
    }
    .into_any()
}

/// A `datetime-local` field: UTC as served, the editor's own zone once hydrated.
#[component]
fn TimeField(
    name: &'static str,
    label: &'static str,
    initial: DateTime<Utc>,
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <div>
            <label for=name>{label}</label>
            <input id=name name=name type="datetime-local" required
                value=input_time(initial) prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))/>
        </div>
    }
}

/// The poll as readers will meet it, redrawn as the editor types.
#[component]
fn Preview(
    question: RwSignal<String>,
    rows: RwSignal<Vec<Row>>,
    kind: RwSignal<ChoiceKind>,
    max_choices: RwSignal<u32>,
    allow_comment: RwSignal<bool>,
) -> impl IntoView {
    let single = move || kind.get() == ChoiceKind::Single;
    view! {
        <aside class="preview" aria-label="Preview">
            <p class="eyebrow">"Preview: what readers see"</p>
            <article class="poll-card">
                <h2 class="question">{move || {
                    let q = question.get();
                    if q.trim().is_empty() { "Your question".to_owned() } else { q }
                }}</h2>
                <p class="hint">{move || if single() { "Choose one.".to_owned() } else { format!("Choose up to {}.", max_choices.get()) }}</p>
                {move || rows.get().into_iter().filter(|r| !r.label.get().trim().is_empty()).map(|r| view! {
                    <div class="choice">
                        <input type=move || if single() { "radio" } else { "checkbox" } disabled=true tabindex="-1"
                            aria-label=move || r.label.get()/>
                        <label>{move || r.label.get()}</label>
                    </div>
                }).collect_view()}
                {move || allow_comment.get().then(|| view! {
                    <div class="comment">
                        <label>"Why? " <span class="muted">"(optional)"</span></label>
                        <textarea rows="2" disabled=true maxlength=COMMENT_MAX_CHARS aria-label="Why? (optional)"></textarea>
                    </div>
                })}
                <button type="button" class="primary" disabled=true>"Vote"</button>
            </article>
        </aside>
    }
}
