//! `GET /api/v1/simulate`: the browser's model, served. It touches no storage, so it runs on
//! the embedded default only.

use crate::helpers::*;
use reqwest::StatusCode;

async fn simulate(app: &TestApp, query: &str) -> (StatusCode, serde_json::Value) {
    get_json(&voter(), app.url(&format!("/api/v1/simulate{query}"))).await
}

#[tokio::test]
async fn the_article_scenario_and_its_variants() {
    let app = spawn_app(Backend::Sqlite).await;
    let (status, out) = simulate(&app, "?horizon_months=6").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(out["gpus"], 64_000.0);
    assert_eq!(out["capex"], 640_000_000.0);
    assert!((out["power_capacity_mw"].as_f64().unwrap() - 65.0).abs() < 0.01);
    assert_eq!(out["series"].as_array().unwrap().len(), 7, "months 0 to 6");
    assert_eq!(out["inputs"]["start_gpus"], 8_000.0);
    assert!(out["trainable"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["model"] == "GPT-4" && m["days"].as_f64().unwrap() > 0.0));
    for key in [
        "energy_cost_per_month",
        "gpu_hours",
        "training_flop",
        "months_to_budget",
        "breakeven_months",
        "owned_cost_per_gpu_hour",
    ] {
        assert!(out[key].is_number(), "{key} in {out}");
    }

    let (_, continuous) = simulate(&app, "?growth=continuous&electricity_per_kwh=0").await;
    assert!((continuous["months_to_budget"].as_f64().unwrap() - 7.288).abs() < 0.01);
    let (_, h100) = simulate(&app, "?chip=h100&start_gpus=100000&mode=full").await;
    assert_eq!(h100["inputs"]["price_per_gpu"], 33_600.0);
    assert_eq!(h100["inputs"]["server_multiplier"], 1.66);
}

#[tokio::test]
async fn bad_inputs_are_422_naming_the_field() {
    let app = spawn_app(Backend::Sqlite).await;
    for (query, field) in [
        ("?start_gpus=-1", "start_gpus"),
        ("?pue=abc", "pue"),
        ("?mfu=NaN", "mfu"),
        ("?horizon_months=100000", "horizon_months"),
        ("?chip=tpu", "chip"),
        ("?growth=sideways", "growth"),
        ("?gpu_count=8", "gpu_count"),
        ("?doubling_months=%FF", "malformed"),
    ] {
        let (status, body) = simulate(&app, query).await;
        if field == "malformed" {
            assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "malformed_request"));
            continue;
        }
        assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"), "{query}");
        assert!(body["error"]["message"].as_str().unwrap().starts_with(&format!("{field}:")), "{body}");
    }
}
