//! Polltelligence's Leptos application: the domain rules, the pages, and the server
//! functions behind them. Built twice: `ssr` for the server, `hydrate` for the browser.

// Views nested in async Suspense blocks are deep types; the default limit (128) is just short.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod domain;
pub mod html;
#[cfg(any(feature = "ssr", not(feature = "reader-bundle")))]
pub mod pages;
pub mod services;
pub mod simulator;

// The document and its routes exist on the server only: the browser hydrates islands, not the app.
#[cfg(feature = "ssr")]
mod shell;
#[cfg(feature = "ssr")]
pub use shell::{shell, App};

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Islands: the page stays server HTML; each `#[island]` on it hydrates on its own. The
    // editor's and the simulator's islands are lazy: their code is fetched only where they appear.
    leptos::mount::hydrate_islands();
}

/// The simulator's model for a scenario given as a URL query, returning the horizon's capex:
/// lets a browser benchmark time the WASM model alone (`performance.now()` around calls).
#[cfg(all(feature = "hydrate", not(feature = "reader-bundle")))]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn simulate_query(query: &str) -> f64 {
    let pairs: Vec<(&str, &str)> = query.split('&').filter_map(|pair| pair.split_once('=')).collect();
    match simulator::Inputs::from_query(pairs) {
        Ok(inputs) => simulator::simulate(&inputs).capex,
        Err(_) => f64::NAN,
    }
}
