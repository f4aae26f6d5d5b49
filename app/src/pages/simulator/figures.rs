//! What the simulator shows of a scenario: the headline figures, the charts, the article
//! against what xAI did, the ladder of models this cluster could train, rent or buy, the
//! miners' choice, and the receipts (every figure's source).

use crate::components::{format_money, thousands};
use crate::simulator::{h100_equivalents_at, Chip, Inputs, MonthPoint, Outputs, Trainable, RECEIPTS, XAI_TIMELINE};
use leptos::prelude::*;

fn months(m: f64) -> String {
    if m < 24.0 {
        format!("{m:.1} months")
    } else {
        format!("{:.1} years", m / 12.0)
    }
}

fn count(n: f64) -> String {
    if n >= 1e6 {
        format!("{:.2} million", n / 1e6)
    } else {
        thousands(n.round() as u64)
    }
}

fn megawatts(mw: f64) -> String {
    if mw >= 1_000.0 {
        format!("{} MW", count(mw))
    } else {
        format!("{mw:.1} MW")
    }
}

fn flop(f: f64) -> String {
    let exponent = f.log10().floor();
    format!("{:.2} × 10^{}", f / 10f64.powf(exponent), exponent)
}

#[component]
pub(super) fn Results(outputs: Outputs, inputs: Inputs, log: RwSignal<bool>) -> impl IntoView {
    let horizon = inputs.horizon_months;
    let budget = match outputs.months_to_budget {
        Some(m) => format!("{} passed after {}", format_money(inputs.budget), months(m)),
        None => format!("{} not reached within a century", format_money(inputs.budget)),
    };
    let headline = view! {
        <dl class="headline" aria-live="polite">
            <div><dt>{format!("GPUs at month {horizon}")}</dt><dd id="sim-gpus" data-value=outputs.gpus>{count(outputs.gpus)}</dd></div>
            <div><dt>"Hardware bought"</dt><dd id="sim-capex" data-value=outputs.capex>{format_money(outputs.capex)}</dd></div>
            <div><dt>"Power capacity"</dt><dd id="sim-power" data-value=outputs.power_capacity_mw>{megawatts(outputs.power_capacity_mw)}</dd></div>
            <div><dt>"Electricity per month"</dt><dd id="sim-energy" data-value=outputs.energy_cost_per_month>{format_money(outputs.energy_cost_per_month)}</dd></div>
            <div><dt>"Training compute so far"</dt><dd id="sim-flop" data-value=outputs.training_flop>{flop(outputs.training_flop)}" FLOP"</dd></div>
            <div><dt>"Budget"</dt><dd id="sim-budget" data-value=outputs.months_to_budget.unwrap_or(-1.0)>{budget}</dd></div>
        </dl>
    }
    .into_any();
    let series = outputs.series.clone();
    view! {
        {headline}
        <Charts series log/>
        <ArticleVsReality inputs=inputs.clone()/>
        <Ladder trainable=outputs.trainable.clone() gpus=outputs.gpus/>
        <RentOrBuy outputs=outputs.clone() rent=inputs.rent_per_gpu_hour/>
        <MinersChoice outputs/>
    }
    .into_any()
}

#[component]
fn Charts(series: Vec<MonthPoint>, log: RwSignal<bool>) -> impl IntoView {
    let gpus: Vec<f64> = series.iter().map(|p| p.gpus).collect();
    let spend: Vec<f64> = series.iter().map(|p| p.spend).collect();
    view! {
        <section class="panel">
            <h2>"Over time"</h2>
            <div class="check">
                <input id="log-scale" type="checkbox" prop:checked=move || log.get()
                    on:change=move |ev| log.set(event_target_checked(&ev))/>
                <label for="log-scale">"Logarithmic scale"</label>
            </div>
            <LineChart id="chart-gpus" title="GPUs" values=gpus log format=count/>
            <LineChart id="chart-spend" title="Total spend (hardware + electricity)" values=spend log format=format_money/>
        </section>
    }
    .into_any()
}

/// One series by month, with a read-out that follows the pointer.
#[component]
fn LineChart(
    id: &'static str,
    title: &'static str,
    values: Vec<f64>,
    log: RwSignal<bool>,
    format: fn(f64) -> String,
) -> impl IntoView {
    let (width, height) = (600.0, 160.0);
    let hover = RwSignal::new(None::<usize>);
    let n = values.len().max(2);
    let x = move |i: usize| i as f64 / (n - 1) as f64 * width;
    let scaled = {
        let values = values.clone();
        move || {
            let log = log.get();
            let f = |v: f64| if log { v.max(1e-9).log10() } else { v };
            let (lo, hi) = values.iter().fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(f(*v)), hi.max(f(*v))));
            let lo = if log { lo } else { 0.0 };
            let span = (hi - lo).max(1e-9);
            values.iter().map(|v| height - (f(*v) - lo) / span * (height - 8.0) - 4.0).collect::<Vec<f64>>()
        }
    };
    let path = {
        let scaled = scaled.clone();
        move || {
            scaled()
                .iter()
                .enumerate()
                .map(|(i, y)| format!("{}{:.1},{:.1}", if i == 0 { "M" } else { "L" }, x(i), y))
                .collect::<String>()
        }
    };
    let last = values.last().copied().unwrap_or(0.0);
    let summary = format!("{title}: {} at month 0, {} at month {}.", format(values[0]), format(last), values.len() - 1);
    let readout_values = values.clone();
    let readout = move || match hover.get() {
        Some(i) => format!("Month {i}: {}", format(readout_values[i])),
        None => format!("Month {}: {}", readout_values.len() - 1, format(last)),
    };
    let on_move = move |ev: leptos::ev::MouseEvent| {
        use wasm_bindgen::JsCast;
        let Some(target) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        let fraction = f64::from(ev.offset_x()) / f64::from(target.client_width().max(1));
        hover.set(Some(((fraction * (n - 1) as f64).round() as usize).min(n - 1)));
    };
    view! {
        <figure class="line-chart" id=id>
            <figcaption><strong>{title}</strong>" · "<span class="readout">{readout}</span></figcaption>
            <svg viewBox=format!("0 0 {width} {height}") preserveAspectRatio="none" role="img" aria-label=summary
                on:mousemove=on_move on:mouseleave=move |_| hover.set(None)>
                <path d=path fill="none" stroke="currentColor" stroke-width="2" vector-effect="non-scaling-stroke"/>
                {move || hover.get().map(|i| view! {
                    <line x1=x(i) x2=x(i) y1="0" y2=height stroke="currentColor" stroke-dasharray="4 4"
                        vector-effect="non-scaling-stroke" opacity="0.5"/>
                })}
            </svg>
        </figure>
    }
    .into_any()
}

/// Months of xAI's build-out the comparison covers (Nov 2023 to Nov 2025).
const REALITY_MONTHS: u32 = 24;

#[component]
fn ArticleVsReality(inputs: Inputs) -> impl IntoView {
    // The article's curve in H100-equivalents, from its own starting point and doubling rate.
    let article = Inputs::default();
    let rows = XAI_TIMELINE
        .iter()
        .map(|m| {
            view! {
                <tr>
                    <td>{m.label}</td>
                    <td class="num">{count(h100_equivalents_at(&article, m.month))}</td>
                    <td class="num">{count(h100_equivalents_at(&inputs, m.month))}</td>
                    <td class="num">{count(m.h100_equivalents)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="panel">
            <h2>"The article's curve against xAI's real build-out"</h2>
            <p class="hint">"In H100-equivalents (one A100 ≈ 0.315 H100 at BF16), on a logarithmic scale. Doubling every two months from 8,000 A100s overshoots within a year; the real cluster grew about 90-fold in 20 months."</p>
            <RealityChart article inputs/>
            // Scrolls sideways on a phone: a tab stop, so the keyboard can scroll it too.
            <div class="table-wrap" tabindex="0" role="region" aria-label="Milestones: the article's curve, your scenario and the actual cluster">
                <table class="data">
                    <thead><tr><th scope="col">"Milestone"</th><th scope="col" class="num">"Article's curve"</th><th scope="col" class="num">"Your scenario"</th><th scope="col" class="num">"Actual"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

/// Both curves as lines and xAI's milestones as dots, on a log scale; the table beside it
/// carries the same figures for screen readers.
#[component]
fn RealityChart(article: Inputs, inputs: Inputs) -> impl IntoView {
    let (width, height) = (600.0, 200.0);
    let months: Vec<f64> = (0..=REALITY_MONTHS).map(f64::from).collect();
    let curve = |i: &Inputs| months.iter().map(|m| h100_equivalents_at(i, *m)).collect::<Vec<f64>>();
    let (theirs, yours) = (curve(&article), curve(&inputs));
    let all = theirs.iter().chain(&yours).copied().chain(XAI_TIMELINE.iter().map(|m| m.h100_equivalents));
    let (lo, hi) =
        all.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v.max(1.0).log10()), hi.max(v.max(1.0).log10())));
    let span = (hi - lo).max(1e-9);
    let x = move |month: f64| month / f64::from(REALITY_MONTHS) * width;
    let y = move |v: f64| height - 6.0 - (v.max(1.0).log10() - lo) / span * (height - 12.0);
    let path = |values: &[f64]| {
        values
            .iter()
            .enumerate()
            .map(|(m, v)| format!("{}{:.1},{:.1}", if m == 0 { "M" } else { "L" }, x(m as f64), y(*v)))
            .collect::<String>()
    };
    view! {
        <figure class="reality-chart">
            <svg viewBox=format!("0 0 {width} {height}") preserveAspectRatio="none" role="img"
                aria-label="The article's doubling curve, your scenario, and xAI's actual clusters over 24 months">
                <path class="article-curve" d=path(&theirs) fill="none" vector-effect="non-scaling-stroke"/>
                <path class="your-curve" d=path(&yours) fill="none" vector-effect="non-scaling-stroke"/>
                {XAI_TIMELINE.iter().map(|m| view! {
                    <circle class="milestone" cx=x(m.month) cy=y(m.h100_equivalents) r="5">
                        <title>{format!("{}: {} H100-equivalents", m.label, count(m.h100_equivalents))}</title>
                    </circle>
                }).collect_view()}
            </svg>
            <figcaption class="legend">
                <span class="key article-curve">"Article: ×2 every 2 months"</span>
                <span class="key your-curve">"Your scenario"</span>
                <span class="key milestone">"xAI, actual"</span>
            </figcaption>
        </figure>
    }
    .into_any()
}

/// About ten models spread over the range of training compute, plus the largest.
fn ladder(trainable: &[Trainable]) -> Vec<Trainable> {
    let step = (trainable.len() / 10).max(1);
    let mut picked: Vec<Trainable> = trainable.iter().step_by(step).cloned().collect();
    if let Some(last) = trainable.last() {
        if picked.last() != Some(last) {
            picked.push(last.clone());
        }
    }
    picked
}

fn duration(days: f64) -> String {
    if days * 24.0 * 60.0 < 1.0 {
        "under a minute".to_owned()
    } else if days < 1.0 / 24.0 {
        format!("{:.0} minutes", days * 24.0 * 60.0)
    } else if days < 2.0 {
        format!("{:.1} hours", days * 24.0)
    } else if days < 730.0 {
        format!("{days:.0} days")
    } else {
        format!("{:.1} years", days / 365.25)
    }
}

#[component]
fn Ladder(trainable: Vec<Trainable>, gpus: f64) -> impl IntoView {
    let rows = ladder(&trainable)
        .into_iter()
        .map(|m| {
            let too_long = m.days > 365.0;
            view! {
                <tr class:too-long=too_long>
                    <td>{m.model}<span class="muted">{format!(" · {}", m.organization)}</span></td>
                    <td class="num">{flop(m.training_flop)}</td>
                    <td class="num">{duration(m.days)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="panel">
            <h2>"What could this cluster train?"</h2>
            <p class="hint">{format!("Days that {} GPUs at the horizon need for each model's training compute (Epoch AI, CC BY 4.0).", count(gpus))}</p>
            <div class="table-wrap" tabindex="0" role="region" aria-label="Training days per model">
                <table class="data" id="ladder">
                    <thead><tr><th scope="col">"Model"</th><th scope="col" class="num">"Training FLOP"</th><th scope="col" class="num">"Time on this cluster"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn RentOrBuy(outputs: Outputs, rent: f64) -> impl IntoView {
    let verdict = match outputs.breakeven_months {
        Some(m) => format!("Renting costs as much as buying a GPU after {}.", months(m)),
        None => "At this rent, renting never costs more than running your own.".to_owned(),
    };
    view! {
        <section class="panel">
            <h2>"Rent or buy?"</h2>
            <dl class="pairs">
                <div><dt>"Owning, per GPU-hour over its life"</dt><dd id="sim-owned">{format!("${:.2}", outputs.owned_cost_per_gpu_hour)}</dd></div>
                <div><dt>"Of which electricity"</dt><dd>{format!("${:.3}", outputs.running_cost_per_gpu_hour)}</dd></div>
                <div><dt>"Renting in the cloud"</dt><dd>{format!("${rent:.2}")}</dd></div>
            </dl>
            <p id="sim-breakeven">{verdict}</p>
        </section>
    }
    .into_any()
}

#[component]
fn MinersChoice(outputs: Outputs) -> impl IntoView {
    let m = outputs.miner;
    let better = if m.ai_hosting_per_year > m.bitcoin_per_year { "AI hosting" } else { "Bitcoin mining" };
    view! {
        <section class="panel">
            <h2>"Miner's choice"</h2>
            <p class="hint">{format!("The same {}, two businesses.", megawatts(m.megawatts))}</p>
            <dl class="pairs">
                <div><dt>"Mining bitcoin"</dt><dd id="sim-btc">{format!("{} a year ({} per MW)", format_money(m.bitcoin_per_year), format_money(m.bitcoin_per_mw_year))}</dd></div>
                <div><dt>"Hosting AI"</dt><dd id="sim-ai">{format!("{} a year ({} per MW)", format_money(m.ai_hosting_per_year), format_money(m.ai_hosting_per_mw_year))}</dd></div>
            </dl>
            <p>{format!("{better} earns more with these inputs.")}</p>
        </section>
    }
    .into_any()
}

#[component]
pub(super) fn Receipts() -> impl IntoView {
    view! {
        <section class="panel receipts">
            <h2>"Assumption receipts"</h2>
            <div class="table-wrap" tabindex="0" role="region" aria-label="Assumption receipts">
                <table class="data">
                    <thead><tr><th scope="col">"What"</th><th scope="col">"Value"</th><th scope="col">"Source"</th></tr></thead>
                    <tbody>
                        {RECEIPTS.iter().map(|r| view! { <tr><td>{r.what}</td><td>{r.value}</td><td>{r.source}</td></tr> }).collect_view()}
                        {Chip::ALL.into_iter().map(|c| {
                            let s = c.spec();
                            view! {
                                <tr>
                                    <td>{s.name}</td>
                                    <td>{format!("{} TFLOP/s BF16, {} W, {}", s.bf16_tflops, s.tdp_watts, format_money(s.price))}</td>
                                    <td>{s.source}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}
