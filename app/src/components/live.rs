//! Live results in the browser: the server's event stream (`/api/v1/polls/{slug}/events`,
//! or the editor's) drives a signal. Nothing happens during server rendering, so pages
//! render the same with or without it.

use super::ResultsBars;
use crate::domain::{Counted, OptionKey, PollStatus, ResultsView};
use leptos::prelude::*;

/// Calls `on_results` with the JSON of every `results` event of the stream at `url`, for as
/// long as the calling reactive owner lives (the stream is closed with it). Browser only.
pub fn follow_live(url: String, on_results: impl Fn(String) + 'static) {
    follow_events(url, "results", on_results)
}

/// Like `follow_live`, for events named `name`.
pub fn follow_events(url: String, name: &'static str, on_results: impl Fn(String) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        let Ok(source) = web_sys::EventSource::new(&url) else { return };
        let listener = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            if let Some(data) = event.data().as_string() {
                on_results(data);
            }
        });
        let _ = source.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        // Both live exactly as long as the owner; the wrapper only lets the cleanup hold them.
        let held = send_wrapper::SendWrapper::new((source, listener));
        on_cleanup(move || held.0.close());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, name, on_results);
}

/// Results bars that follow the poll's live stream while it is open.
#[component]
pub fn LiveResults(results: ResultsView, counted: Counted, #[prop(optional)] mine: Vec<OptionKey>) -> impl IntoView {
    let open = results.status == PollStatus::Open;
    let url = format!("/api/v1/polls/{}/events", results.slug);
    let current = RwSignal::new(results);
    if open {
        Effect::new(move |_| {
            follow_live(url.clone(), move |json| {
                if let Ok(results) = serde_json::from_str::<ResultsView>(&json) {
                    current.set(results);
                }
            })
        });
    }
    move || view! { <ResultsBars results=current.get() counted mine=mine.clone()/> }
}
