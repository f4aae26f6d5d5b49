use crate::pages::editor::{
    AuditRoute, DashboardRoute, EditPollRoute, EditorHomeRoute, LoginPage, NewPollRoute, TokensRoute,
};
use crate::pages::{ArchivePage, HomePage, NotFound, PollPage, SimulatorRoute};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    path, Lazy, SsrMode,
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
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
    // Runs once hydration is done: lets browser tests (and curious readers) tell when the page is interactive.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "");
        }
    });
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
                    <Route path=path!("/simulator") view={Lazy::<SimulatorRoute>::new()}/>
                    <Route path=path!("/editor") view={Lazy::<EditorHomeRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/editor/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/editor/polls/new") view={Lazy::<NewPollRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/editor/polls/:id") view={Lazy::<DashboardRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/editor/polls/:id/edit") view={Lazy::<EditPollRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/editor/audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/editor/tokens") view={Lazy::<TokensRoute>::new()} ssr=SsrMode::Async/>
                </Routes>
            </main>
            <footer class="site-footer">
                <p>"Polls from the AI Collision newsletter. One vote per reader; results update as votes come in."</p>
            </footer>
        </Router>
    }
}
