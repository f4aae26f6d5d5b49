use crate::components::Hydrated;
use crate::pages::editor::{AuditPage, DashboardPage, EditPollPage, EditorHome, LoginPage, NewPollPage, TokensPage};
use crate::pages::{ArchivePage, HomePage, NotFound, PollPage, SimulatorPage};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    path, SsrMode,
};

/// The bundle a page loads: the simulator and the editor's pages need the full one (their
/// islands are lazy chunks of it); every reader's page gets `reader`, which holds only the
/// islands readers meet (voting, live results), so a phone downloads a fraction of it.
pub fn bundle_for(path: &str) -> Option<&'static str> {
    let under = |prefix: &str| path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    let full = under("/simulator") || under("/editor");
    (!full).then_some("reader")
}

/// The HTML document around the app, rendered on the server only.
pub fn shell(mut options: LeptosOptions) -> impl IntoView {
    if let Some(parts) = use_context::<axum::http::request::Parts>() {
        if let Some(name) = bundle_for(parts.uri.path()) {
            options.output_name = name.into();
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

fn title_text(page: String) -> String {
    let title = if page.is_empty() { "Polltelligence".to_owned() } else { format!("{page} · Polltelligence") };
    // leptos_meta writes the server-side <title> unescaped; the browser sets
    // document.title, which is plain text, so escaping is for the server only.
    #[cfg(feature = "ssr")]
    let title = title.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    title
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="polltelligence" href="/pkg/polltelligence.css"/>
        <Title formatter=title_text/>
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="site-header">
                <nav aria-label="Main">
                    <A href="/" attr:class="brand">"Artificial Polltelligence 🗳️"</A>
                    <A href="/archive">"The Results Show"</A>
                    <A href="/simulator">"Compute simulator"</A>
                </nav>
            </header>
            <main id="main" tabindex="-1">
                // Async: status codes (404) and complete HTML for readers without JavaScript.
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/polls/:slug") view=PollPage ssr=SsrMode::Async/>
                    <Route path=path!("/archive") view=ArchivePage ssr=SsrMode::Async/>
                    <Route path=path!("/simulator") view=SimulatorPage/>
                    <Route path=path!("/editor") view=EditorHome ssr=SsrMode::Async/>
                    <Route path=path!("/editor/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/editor/polls/new") view=NewPollPage ssr=SsrMode::Async/>
                    <Route path=path!("/editor/polls/:id") view=DashboardPage ssr=SsrMode::Async/>
                    <Route path=path!("/editor/polls/:id/edit") view=EditPollPage ssr=SsrMode::Async/>
                    <Route path=path!("/editor/audit") view=AuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/editor/tokens") view=TokensPage ssr=SsrMode::Async/>
                </Routes>
            </main>
            <footer class="site-footer">
                <p>"Polls from the AI Collision newsletter. One vote per reader; results update as votes come in."</p>
            </footer>
        </Router>
        <Hydrated/>
    }
}

#[cfg(test)]
mod tests {
    use super::bundle_for;

    #[test]
    fn readers_pages_load_the_reader_bundle_and_the_rest_the_full_one() {
        for reader in ["/", "/polls/ai-jobs", "/archive", "/no-such-page", "/simulatorx", "/editorial"] {
            assert_eq!(bundle_for(reader), Some("reader"), "{reader}");
        }
        for full in ["/simulator", "/editor", "/editor/login", "/editor/polls/3/edit"] {
            assert_eq!(bundle_for(full), None, "{full}");
        }
    }
}
