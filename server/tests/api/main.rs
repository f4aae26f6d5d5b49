//! HTTP tests against a real server on a random port, each with a fresh database.
//! Every scenario runs twice: on SQLite and on PostgreSQL.

mod helpers;

mod auth;
mod concurrency;
mod delivery;
mod editing;
mod errors;
mod hardening;
mod pages;
mod reading;
mod simulator;
mod summaries;
mod summariser_backends;
mod voting;
