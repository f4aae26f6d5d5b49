//! `polltelligence backup FILE`: a consistent copy of a SQLite database, taken while the
//! server keeps serving. `VACUUM INTO` writes the copy inside one read transaction, so it
//! holds every vote committed before it began and none half-written; votes keep committing
//! meanwhile (WAL). The copy is checked (`PRAGMA integrity_check`) before it is reported.
//!
//! PostgreSQL has its own tools for this (`pg_dump`), which the command points to.
//! Restoring is stopping the server and putting the copy in the database's place (README).

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::Path;
use std::str::FromStr;

/// What a backup wrote.
#[derive(Debug)]
pub struct Backup {
    pub bytes: u64,
    pub polls: i64,
    pub votes: i64,
}

pub async fn backup(database_url: &str, to: &Path) -> Result<Backup, String> {
    if database_url.starts_with("postgres") {
        return Err(
            "backups of PostgreSQL are PostgreSQL's job: run `pg_dump --format=custom --file=FILE \"$DATABASE_URL\"` \
             (consistent while the server runs) and restore with `pg_restore --clean --dbname=URL FILE`"
                .into(),
        );
    }
    if to.exists() {
        return Err(format!("{} exists already; give a new file name", to.display()));
    }
    let target = to.to_str().ok_or_else(|| format!("{} is not a UTF-8 path", to.display()))?;
    let options = SqliteConnectOptions::from_str(database_url)
        .map_err(|e| format!("DATABASE_URL: {e}"))?
        .read_only(true)
        .busy_timeout(std::time::Duration::from_secs(30));
    if !options.get_filename().exists() {
        return Err(format!("there is no database at {}", options.get_filename().display()));
    }
    let mut source = options.connect().await.map_err(|e| format!("cannot open the database: {e}"))?;
    sqlx::query("VACUUM INTO ?").bind(target).execute(&mut source).await.map_err(|e| format!("backup failed: {e}"))?;
    source.close().await.map_err(|e| e.to_string())?;

    let mut copy = SqliteConnectOptions::from_str(&format!("sqlite://{target}"))
        .map_err(|e| e.to_string())?
        .read_only(true)
        .connect()
        .await
        .map_err(|e| format!("cannot open the copy: {e}"))?;
    let check: String =
        sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut copy).await.map_err(|e| e.to_string())?;
    if check != "ok" {
        return Err(format!("the copy failed its integrity check: {check}"));
    }
    let polls =
        sqlx::query_scalar("SELECT COUNT(*) FROM polls").fetch_one(&mut copy).await.map_err(|e| e.to_string())?;
    let votes =
        sqlx::query_scalar("SELECT COUNT(*) FROM votes").fetch_one(&mut copy).await.map_err(|e| e.to_string())?;
    copy.close().await.map_err(|e| e.to_string())?;
    let bytes = std::fs::metadata(to).map_err(|e| e.to_string())?.len();
    Ok(Backup { bytes, polls, votes })
}
