use crate::helpers::*;
use crate::on_both_stores;
use reqwest::StatusCode;

on_both_stores!(many_voters_at_once_are_each_counted_once);

/// 150 voters vote at the same moment, 50 of them twice at once: every first vote counts,
/// no repeat does, and the tally readers see equals the rows in the database.
async fn many_voters_at_once_are_each_counted_once(backend: Backend) {
    let app = std::sync::Arc::new(spawn_app(backend).await);
    app.add_poll(open_poll("rush")).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..150 {
        let app = app.clone();
        tasks.spawn(async move {
            let reader = voter();
            // Meet the server first, so both of a double-voter's requests carry one cookie.
            reader.get(app.url("/api/v1/polls/rush")).send().await.unwrap();
            let choice = ["yes", "no", "maybe"][i % 3];
            let statuses = if i % 3 == 0 {
                let (a, b) = tokio::join!(
                    vote(&reader, &app, "rush", choices(&[choice])),
                    vote(&reader, &app, "rush", choices(&[choice]))
                );
                vec![a.0, b.0]
            } else {
                vec![vote(&reader, &app, "rush", choices(&[choice])).await.0]
            };
            statuses
        });
    }
    let mut created = 0;
    let mut repeated = 0;
    while let Some(statuses) = tasks.join_next().await {
        for status in statuses.unwrap() {
            match status {
                StatusCode::CREATED => created += 1,
                StatusCode::OK => repeated += 1,
                other => panic!("unexpected {other}"),
            }
        }
    }
    assert_eq!((created, repeated), (150, 50));
    assert_eq!(app.stored_votes("rush").await, 150);
    let (_, results) = get_json(&voter(), app.url("/api/v1/polls/rush/results")).await;
    assert_eq!(results["total_votes"], 150);
    let votes: Vec<_> = results["options"].as_array().unwrap().iter().map(|o| o["votes"].as_u64().unwrap()).collect();
    assert_eq!(votes, [50, 50, 50]);
}
