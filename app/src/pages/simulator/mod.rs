//! `/simulator`: "8,000 A100s doubling every couple of months — what does that cost?"
//!
//! The URL is the state: inputs are read from its query (the names of `simulator/MODEL.md`) and every
//! change navigates to a new query, so a link reproduces a scenario and Back walks through
//! the changes. The model runs in the browser (WASM) on every change; the server renders the
//! same scenario first, so the page is complete without JavaScript, where the inputs form
//! submits as a plain GET.

use crate::simulator::{simulate, Chip, CostMode, Growth, InputError, Inputs, NumberField, NUMBER_FIELDS};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

mod figures;
use figures::{Receipts, Results};

const PRESETS: [(&str, &str); 3] = [
    ("The article: Grok, Nov 2023", ""),
    ("xAI Colossus 2024", "chip=h100&start_gpus=100000&doubling_months=5&horizon_months=12&mode=full"),
    ("Your own", "start_gpus=1000&chip=h100&doubling_months=6&horizon_months=36&mode=full&budget=500000000"),
];

fn query_string(inputs: &Inputs) -> String {
    let pairs = inputs.to_query();
    if pairs.is_empty() {
        return "/simulator".into();
    }
    let encoded: Vec<String> = pairs.iter().map(|(name, value)| format!("{name}={value}")).collect();
    format!("/simulator?{}", encoded.join("&"))
}

/// The route: the server reads the scenario from the query and hands it to the island.
#[component]
pub fn SimulatorPage() -> impl IntoView {
    let query = use_query_map();
    let pairs: Vec<(String, String)> =
        query.with_untracked(|q| q.clone().into_iter().map(|(n, v)| (n.into_owned(), v)).collect());
    view! {
        <Title text="What does doubling compute cost?"/>
        <Simulator pairs/>
    }
}

/// The query of the page's address, as name/value pairs (browser only).
#[cfg(feature = "hydrate")]
fn location_pairs() -> Vec<(String, String)> {
    use wasm_bindgen::JsCast;
    let search = window().location().search().unwrap_or_default();
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else { return Vec::new() };
    let Ok(Some(entries)) = js_sys::try_iter(&params) else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| {
            let pair = entry.dyn_into::<js_sys::Array>().ok()?;
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect()
}

/// Puts `url` in the address bar: a new history entry, or in place of the current one.
fn show_url(url: &str, commit: bool) {
    #[cfg(feature = "hydrate")]
    if let Ok(history) = window().history() {
        let state = wasm_bindgen::JsValue::NULL;
        let _ = if commit {
            history.push_state_with_url(&state, "", Some(url))
        } else {
            history.replace_state_with_url(&state, "", Some(url))
        };
    }
    let _ = (url, commit);
}

/// The whole simulator, one lazy island: the inputs follow the address (Back and Forward
/// included), and every change recomputes in WebAssembly.
#[island(lazy)]
fn Simulator(pairs: Vec<(String, String)>) -> impl IntoView {
    let query = RwSignal::new(pairs);
    // Back and Forward walk through earlier scenarios.
    #[cfg(feature = "hydrate")]
    {
        let on_pop = window_event_listener(leptos::ev::popstate, move |_| query.set(location_pairs()));
        on_cleanup(move || on_pop.remove());
    }
    // Inputs follow the URL; a bad parameter keeps its default and is flagged.
    let parsed = Memo::new(move |_| {
        query.with(|pairs| Inputs::from_query_lenient(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())), false))
    });
    let inputs = Memo::new(move |_| parsed.with(|(inputs, _)| inputs.clone()));
    // Values typed that the model refused: shown as invalid, while the last good result stays.
    let typed_errors = RwSignal::new(Vec::<InputError>::new());
    let outputs = Memo::new(move |_| inputs.with(simulate));
    let log = RwSignal::new(false);
    // `commit` adds a history entry; otherwise the current one is replaced (a slider mid-drag).
    let set = Callback::new(move |(name, raw, commit): (&'static str, String, bool)| {
        let mut next = inputs.get_untracked();
        match next.apply(name, &raw) {
            Ok(()) => {
                typed_errors.update(|e| e.retain(|e| e.field != name));
                show_url(&query_string(&next), commit);
                query.set(next.to_query().into_iter().map(|(n, v)| (n.to_owned(), v)).collect());
            }
            Err(error) => typed_errors.update(|e| {
                e.retain(|e| e.field != name);
                e.push(error);
            }),
        }
    });
    let error_of = move |name: &'static str| {
        typed_errors
            .with(|e| e.iter().find(|e| e.field == name).map(|e| e.message.clone()))
            .or_else(|| parsed.with(|(_, e)| e.iter().find(|e| e.field == name).map(|e| e.message.clone())))
    };

    view! {
        <div class="simulator">
            <h1>"8,000 A100s, doubling every couple of months: what does that cost?"</h1>
            <p class="lede">"“Before long Elon will be spending $1 billion.” Play with the newsletter's claim and check it against real numbers. Everything recomputes in your browser."</p>
            <nav class="presets" aria-label="Presets">
                {PRESETS.into_iter().map(|(label, q)| {
                    let href = if q.is_empty() { "/simulator".to_owned() } else { format!("/simulator?{q}") };
                    view! { <a class="button secondary" href=href>{label}</a> }
                }).collect_view()}
            </nav>
            <div class="sim-grid">
                <InputsForm inputs set error_of/>
                <div class="sim-results">
                    {move || view! { <Results outputs=outputs.get() inputs=inputs.get() log/> }}
                </div>
            </div>
            <Receipts/>
        </div>
    }
    .into_any()
}

#[component]
fn InputsForm(
    inputs: Memo<Inputs>,
    set: Callback<(&'static str, String, bool)>,
    error_of: impl Fn(&'static str) -> Option<String> + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let fields = NUMBER_FIELDS.iter().map(|field| view! { <NumberInput field inputs set error_of/> }).collect_view();
    view! {
        <form class="sim-inputs" method="get" action="/simulator" on:submit=|ev| ev.prevent_default()>
            <Choices legend="Chip" name="chip" set
                options=Chip::ALL.into_iter().map(|c| (c.id(), c.id().to_uppercase())).collect()
                current=move || inputs.with(|i| i.chip.id())/>
            <Choices legend="Cost" name="mode" set
                options=vec![("article", "Article (chips only)".into()), ("full", "Full cost".into())]
                current=move || inputs.with(|i| if i.mode == CostMode::Full { "full" } else { "article" })/>
            <Choices legend="Growth" name="growth" set
                options=vec![("discrete", "Doubles in steps".into()), ("continuous", "Smoothly".into())]
                current=move || inputs.with(|i| if i.growth == Growth::Continuous { "continuous" } else { "discrete" })/>
            {fields}
            <noscript><button type="submit" class="primary">"Recompute"</button></noscript>
        </form>
    }
    .into_any()
}

/// One of a few named values, as radio buttons.
#[component]
fn Choices(
    legend: &'static str,
    name: &'static str,
    options: Vec<(&'static str, String)>,
    current: impl Fn() -> &'static str + Copy + Send + Sync + 'static,
    set: Callback<(&'static str, String, bool)>,
) -> impl IntoView {
    let initial = untrack(current);
    view! {
        <fieldset>
            <legend>{legend}</legend>
            <div class="segmented">
                {options.into_iter().map(|(value, label)| view! {
                    <label>
                        <input type="radio" name=name value=value checked=initial == value
                            prop:checked=move || current() == value
                            on:change=move |_| set.run((name, value.to_owned(), true))/>
                        {label}
                    </label>
                }).collect_view()}
            </div>
        </fieldset>
    }
}

/// Sliders for wide ranges move in powers of ten.
fn logarithmic(field: &NumberField) -> bool {
    field.min > 0.0 && field.max / field.min >= 1_000.0
}

#[component]
fn NumberInput(
    field: &'static NumberField,
    inputs: Memo<Inputs>,
    set: Callback<(&'static str, String, bool)>,
    error_of: impl Fn(&'static str) -> Option<String> + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let name = field.name;
    let value = move || inputs.with(|i| (field.get)(i));
    let log = logarithmic(field);
    let (slider_min, slider_max, slider_step) =
        if log { (field.min.log10(), field.max.log10(), 0.01) } else { (field.min, field.max, field.step) };
    let slider_value = move || if log { value().log10() } else { value() };
    let from_slider = move |raw: String| -> String {
        let v: f64 = raw.parse().unwrap_or(0.0);
        let v = if log { 10f64.powf(v) } else { v };
        let v = if field.whole || log { round_to_step(v, field.step) } else { v };
        format!("{}", v.clamp(field.min, field.max))
    };
    let initial = value();
    // A drag is one step in the history: its first move adds an entry, the rest replace it.
    let dragging = StoredValue::new(false);
    let number_id = format!("in-{name}");
    let error_id = format!("err-{name}");
    view! {
        <div class="sim-field" class:invalid=move || error_of(name).is_some()>
            <label for=number_id.clone()>{field.label}</label>
            <div class="sim-controls">
                <input type="range" min=slider_min max=slider_max step=slider_step aria-label=field.label
                    value=slider_value() prop:value=slider_value tabindex="-1"
                    on:input=move |ev| {
                        let first = !dragging.get_value();
                        dragging.set_value(true);
                        set.run((name, from_slider(event_target_value(&ev)), first));
                    }
                    on:change=move |ev| {
                        let first = !dragging.get_value();
                        dragging.set_value(false);
                        set.run((name, from_slider(event_target_value(&ev)), first));
                    }/>
                <input type="number" id=number_id name=name min=field.min max=field.max step="any"
                    value=format!("{initial}") prop:value=move || format!("{}", value())
                    aria-invalid=move || error_of(name).is_some().to_string() aria-describedby=error_id.clone()
                    on:change=move |ev| set.run((name, event_target_value(&ev), true))/>
            </div>
            <p class="field-error" id=error_id role="alert">{move || error_of(name)}</p>
        </div>
    }
}

fn round_to_step(v: f64, step: f64) -> f64 {
    let magnitude = 10f64.powf(v.abs().log10().floor() - 1.0).max(step);
    (v / magnitude).round() * magnitude
}
