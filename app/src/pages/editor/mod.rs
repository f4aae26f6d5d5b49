//! The editor workspace. Every page loads its data with the signed-in editor (and the
//! CSRF token its forms carry); forms post to plain routes, so the pages work without
//! JavaScript, and the poll editor saves in place when it has JavaScript.

mod admin;
mod author;
mod dashboard;
mod home;
mod login;
mod share;
mod summary;

pub use admin::{AuditPage, TokensPage};
pub use author::{EditPollPage, NewPollPage};
pub use dashboard::DashboardPage;
pub use home::EditorHome;
pub use login::LoginPage;

use super::reader::{NotFound, Problem};
use crate::api::editor::EditorPage;
use crate::components::LocalTime;
use crate::domain::{AppError, EditorIdentity, Stage};
use leptos::prelude::*;
use leptos_router::components::A;

/// The hidden field every editor form carries.
#[component]
fn Csrf(me: EditorIdentity) -> impl IntoView {
    view! { <input type="hidden" name="csrf" value=me.csrf.unwrap_or_default()/> }
}

#[component]
fn EditorBar(me: EditorIdentity) -> impl IntoView {
    let email = me.email.to_string();
    view! {
        <nav class="editor-bar" aria-label="Editor">
            <A href="/editor" exact=true>"Polls"</A>
            <A href="/editor/polls/new">"New poll"</A>
            <A href="/editor/audit">"Audit log"</A>
            <A href="/editor/tokens">"API tokens"</A>
            <span class="muted editor-who">{email}</span>
            <form method="post" action="/editor/logout" class="inline">
                <Csrf me/>
                <button type="submit" class="link">"Sign out"</button>
            </form>
        </nav>
    }
}

#[component]
fn StageBadge(stage: Stage) -> impl IntoView {
    view! { <span class=format!("stage stage-{}", stage.name())>{stage.name()}</span> }
}

#[component]
fn Times(opens: chrono::DateTime<chrono::Utc>, closes: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    view! { <LocalTime at=opens/>" → "<LocalTime at=closes/> }
}

/// Renders a loaded editor page, or what went wrong loading it.
fn editor_page<T: 'static>(
    loaded: Result<EditorPage<T>, AppError>,
    body: impl FnOnce(EditorIdentity, T) -> AnyView,
) -> AnyView {
    match loaded {
        Ok(EditorPage { me, data }) => view! { <EditorBar me=me.clone()/>{body(me, data)} }.into_any(),
        Err(AppError::PollNotFound | AppError::NotFound) => view! { <NotFound/> }.into_any(),
        Err(AppError::Unauthorized) => view! {
            <section class="problem" role="alert">
                <h1>"You are signed out"</h1>
                <p>"Your session has ended. Sign in again to go on."</p>
                <p><a href="/editor/login" rel="external">"Sign in"</a></p>
            </section>
        }
        .into_any(),
        Err(error) => view! { <Problem error/> }.into_any(),
    }
}

/// The `:id` of the current route, when it is a number.
fn route_poll_id() -> impl Fn() -> Option<crate::domain::PollId> + Copy + Send + Sync + 'static {
    let params = leptos_router::hooks::use_params_map();
    move || params.read().get("id").and_then(|id| id.parse::<i64>().ok()).map(crate::domain::PollId)
}

fn loading() -> impl IntoView {
    view! { <p class="muted">"Loading…"</p> }
}
