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

/// Scale-out: two instances on one PostgreSQL, 240 readers voting on both at once — a third
/// of them on both instances at the same moment, a fifth changing their vote on the other
/// instance afterwards. Every reader counts once, with their last choice, and both instances
/// show exactly those totals (within the second that reads may lag) and the database agrees.
#[tokio::test]
async fn two_instances_on_one_postgres_count_every_vote_exactly_once() {
    let first = std::sync::Arc::new(spawn_app(Backend::Postgres).await);
    let second = std::sync::Arc::new(first.another_instance().await);
    first.add_poll(app::domain::PollDraft { allow_vote_change: true, ..open_poll("scale") }).await;
    let keys = ["yes", "no", "maybe"];
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..240usize {
        let (first, second) = (first.clone(), second.clone());
        tasks.spawn(async move {
            let (here, there) = if i % 2 == 0 { (&first, &second) } else { (&second, &first) };
            let reader = voter();
            // One cookie for both instances, as behind one proxy.
            reader.get(here.url("/api/v1/polls/scale")).send().await.unwrap();
            let mut choice = keys[i % 3];
            let mut statuses = vec![];
            if i % 3 == 0 {
                let (a, b) = tokio::join!(
                    vote(&reader, here, "scale", choices(&[choice])),
                    vote(&reader, there, "scale", choices(&[choice]))
                );
                statuses.extend([a.0, b.0]);
            } else {
                statuses.push(vote(&reader, here, "scale", choices(&[choice])).await.0);
            }
            if i % 5 == 0 {
                choice = keys[(i + 1) % 3];
                let (status, body) = vote(&reader, there, "scale", choices(&[choice])).await;
                assert_eq!(status, reqwest::StatusCode::OK, "{body}");
            }
            (statuses, choice)
        });
    }
    let mut expected = std::collections::HashMap::new();
    let mut created = 0;
    while let Some(result) = tasks.join_next().await {
        let (statuses, choice) = result.unwrap();
        created += statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
        assert!(statuses.iter().all(|s| matches!(*s, StatusCode::CREATED | StatusCode::OK)), "{statuses:?}");
        *expected.entry(choice).or_insert(0u64) += 1;
    }
    assert_eq!(created, 240, "exactly one first vote per reader across both instances");
    assert_eq!(first.stored_votes("scale").await, 240);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for (name, instance) in [("first", &first), ("second", &second)] {
        let (_, results) = get_json(&voter(), instance.url("/api/v1/polls/scale/results")).await;
        assert_eq!(results["total_votes"], 240, "{name} instance: {results}");
        for option in results["options"].as_array().unwrap() {
            let key = option["id"].as_str().unwrap();
            assert_eq!(option["votes"].as_u64().unwrap(), expected[key], "{name} instance, option {key}: {results}");
        }
    }
    // The running tallies equal a count of the rows themselves.
    let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&first.database_url).await.unwrap();
    let mismatched: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT o.id, COALESCE((SELECT SUM(t.votes) FROM vote_tallies t \
         WHERE t.poll_id = o.poll_id AND t.option_id = o.id), 0) AS tallied, \
         (SELECT COUNT(*) FROM vote_choices c WHERE c.option_id = o.id) AS counted FROM poll_options o) x \
         WHERE tallied <> counted",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(mismatched, 0);
}
