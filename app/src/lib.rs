//! Polltelligence's Leptos application: the domain rules, the pages, and the server
//! functions behind them. Built twice: `ssr` for the server, `hydrate` for the browser.

// Views nested in async Suspense blocks are deep types; the default limit (128) is just short.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod domain;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod services;
pub mod simulator;

mod shell;
pub use shell::{shell, App};

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy: some routes (the simulator) live in WASM chunks loaded when first needed.
    leptos::mount::hydrate_lazy(App);
}

/// The simulator's model for a scenario given as a URL query, returning the horizon's capex:
/// lets a browser benchmark time the WASM model alone (`performance.now()` around calls).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn simulate_query(query: &str) -> f64 {
    let pairs: Vec<(&str, &str)> = query.split('&').filter_map(|pair| pair.split_once('=')).collect();
    match simulator::Inputs::from_query(pairs) {
        Ok(inputs) => simulator::simulate(&inputs).capex,
        Err(_) => f64::NAN,
    }
}
