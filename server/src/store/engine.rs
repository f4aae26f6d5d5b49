//! What differs between the two engines, and what the shared SQL needs of either.
//!
//! The SQL itself is the same on both (sqlx binds `$n` on both); `records.rs` and `votes.rs`
//! run it over any `Engine`. Only these few statements differ, so they are constants here
//! rather than separate files per engine.

use sqlx::{Database, Decode, Encode, Postgres, Sqlite, Type};

pub trait Engine: Database {
    /// Opens a write transaction. SQLite takes the write lock up front: a deferred BEGIN
    /// could fail to upgrade while the vote writer holds it.
    const BEGIN_WRITE: &'static str;
    /// `created_at` as its UTC hour, `YYYY-MM-DDTHH` text (the dashboard's timeline).
    const VOTE_HOUR: &'static str;
    /// The row lock taken while claiming a summary job: PostgreSQL skips rows another
    /// instance is claiming; SQLite's writes are serialised anyway.
    const CLAIM_LOCK: &'static str;
}

impl Engine for Sqlite {
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const VOTE_HOUR: &'static str = "substr(created_at, 1, 13)";
    const CLAIM_LOCK: &'static str = "";
}

impl Engine for Postgres {
    const BEGIN_WRITE: &'static str = "BEGIN";
    const VOTE_HOUR: &'static str = "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24')";
    const CLAIM_LOCK: &'static str = "FOR UPDATE SKIP LOCKED";
}

/// A Rust type both bound as a parameter and read as a column on `DB`. (Rust does not carry
/// bounds like `i64: Encode<DB>` from a trait to its users, so generic SQL names each column
/// type it uses once, in its `where` clause; this keeps each to one short line.)
pub trait Column<DB: Database>: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB> {}

impl<DB: Database, T> Column<DB> for T where T: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB> {}

/// A store whose shared statements run on one pool.
pub trait Backed: Send + Sync + 'static {
    type DB: Engine;
    fn pool(&self) -> &sqlx::Pool<Self::DB>;
}
