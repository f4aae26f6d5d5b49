//! HTTP tests against a real server on a random port, each with a fresh database.
//! Every scenario runs twice: on SQLite and on PostgreSQL.

mod helpers;

mod auth;
mod budgets;
mod concurrency;
mod delivery;
mod editing;
mod editor_pages;
mod email_votes;
mod errors;
mod hardening;
mod limits;
mod live;
mod markup;
mod pages;
mod reading;
mod simulator;
mod summaries;
mod summariser_backends;
mod summary_jobs;
mod voting;
