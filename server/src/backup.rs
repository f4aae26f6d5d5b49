//! `polltelligence backup FILE`: a consistent copy of a SQLite database, taken while the
//! server keeps serving. `VACUUM INTO` writes the copy inside one read transaction, so it
//! holds every vote committed before it began and none half-written; votes keep committing
//! meanwhile (WAL). The copy is checked (`PRAGMA integrity_check`) before it is reported.
//!
//! PostgreSQL has its own tools for this (`pg_dump`), which the command points to.
//! Restoring is stopping the server and putting the copy in the database's place (README).

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// What a backup wrote.
#[derive(Debug)]
pub struct Backup {
    pub bytes: u64,
    pub polls: i64,
    pub votes: i64,
}

/// Why no backup was written (nothing is left half-written: `VACUUM INTO` writes a new file).
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "backups of PostgreSQL are PostgreSQL's job: run `pg_dump --format=custom --file=FILE \"$DATABASE_URL\"` \
         (consistent while the server runs) and restore with `pg_restore --clean --dbname=URL FILE`"
    )]
    Postgres,
    #[error("{} exists already; give a new file name", .0.display())]
    Exists(PathBuf),
    #[error("{} is not a UTF-8 path", .0.display())]
    NotUtf8(PathBuf),
    #[error("there is no database at {}", .0.display())]
    NoDatabase(PathBuf),
    #[error("{what}: {source}")]
    Database { what: &'static str, source: sqlx::Error },
    #[error("the copy failed its integrity check: {0}")]
    Integrity(String),
    #[error("{}: {source}", .path.display())]
    File { path: PathBuf, source: std::io::Error },
}

fn database(what: &'static str) -> impl FnOnce(sqlx::Error) -> BackupError {
    move |source| BackupError::Database { what, source }
}

pub async fn backup(database_url: &str, to: &Path) -> Result<Backup, BackupError> {
    if database_url.starts_with("postgres") {
        return Err(BackupError::Postgres);
    }
    if to.exists() {
        return Err(BackupError::Exists(to.to_owned()));
    }
    let target = to.to_str().ok_or_else(|| BackupError::NotUtf8(to.to_owned()))?;
    let options = SqliteConnectOptions::from_str(database_url)
        .map_err(database("DATABASE_URL"))?
        .read_only(true)
        .busy_timeout(std::time::Duration::from_secs(30));
    if !options.get_filename().exists() {
        return Err(BackupError::NoDatabase(options.get_filename().to_owned()));
    }
    let mut source = options.connect().await.map_err(database("cannot open the database"))?;
    sqlx::query("VACUUM INTO ?").bind(target).execute(&mut source).await.map_err(database("backup failed"))?;
    source.close().await.map_err(database("closing the database"))?;

    let mut copy = SqliteConnectOptions::from_str(&format!("sqlite://{target}"))
        .map_err(database("the copy's name"))?
        .read_only(true)
        .connect()
        .await
        .map_err(database("cannot open the copy"))?;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut copy)
        .await
        .map_err(database("checking the copy"))?;
    if check != "ok" {
        return Err(BackupError::Integrity(check));
    }
    let count = database("counting the copy's rows");
    let polls = sqlx::query_scalar("SELECT COUNT(*) FROM polls").fetch_one(&mut copy).await.map_err(count)?;
    let count = database("counting the copy's rows");
    let votes = sqlx::query_scalar("SELECT COUNT(*) FROM votes").fetch_one(&mut copy).await.map_err(count)?;
    copy.close().await.map_err(database("closing the copy"))?;
    let bytes = std::fs::metadata(to).map_err(|source| BackupError::File { path: to.to_owned(), source })?.len();
    Ok(Backup { bytes, polls, votes })
}
