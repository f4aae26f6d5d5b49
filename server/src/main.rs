use clap::{Parser, Subcommand};
use server::config::Config;
use server::config::DEFAULT_DATABASE_URL;
use server::Application;
use std::process::ExitCode;

/// Polltelligence: weekly reader polls for the AI Collision newsletter.
#[derive(Parser)]
#[command(name = "polltelligence", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site and API (the default).
    Serve(Box<Config>),
    /// Apply database migrations and exit.
    Migrate {
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Copy the database to FILE while the server runs (SQLite; for PostgreSQL it says how).
    Backup {
        file: std::path::PathBuf,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Load the demo polls into an empty database and exit.
    Demo {
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Manage polls from the command line.
    #[command(subcommand)]
    Polls(PollsCommand),
    /// Manage editor accounts.
    #[command(subcommand)]
    Editor(EditorCommand),
    /// The model cache of the comment summariser.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Judge and time the comment summariser.
    #[command(subcommand)]
    Summaries(SummariesCommand),
    /// A bare axum server answering "hello" on every path: the reference `make bench`
    /// measures this build's routes against, built with the same compiler and settings.
    #[command(hide = true)]
    BenchHello {
        #[arg(long, default_value = "127.0.0.1:3198")]
        addr: std::net::SocketAddr,
    },
}

#[derive(Subcommand)]
enum SummariesCommand {
    /// Summarise the fixture polls and score each against its hand-written reference; with
    /// `--argkp DIR`, ArgKP-format topics instead, beside a TF-IDF + k-means baseline.
    Eval {
        /// A folder of ArgKP-2021-format CSVs (arguments_*, key_points_*, labels_*).
        #[arg(long)]
        argkp: Option<std::path::PathBuf>,
        /// With --argkp: print every theme (title, count, quotes) beside its key point.
        #[arg(long)]
        themes: bool,
        #[command(flatten)]
        input: SummariesInput,
    },
    /// Time each stage on a generated poll (10,000 comments), then the local model's tokens/s.
    Bench {
        #[arg(long, default_value_t = 10_000)]
        comments: usize,
        #[command(flatten)]
        input: SummariesInput,
    },
}

/// What `summaries eval` and `summaries bench` run on.
#[derive(clap::Args)]
struct SummariesInput {
    #[arg(long, default_value_os_t = server::summaries::fixtures::default_dir())]
    fixtures: std::path::PathBuf,
    /// Group by hashed words instead of MiniLM embeddings.
    #[arg(long)]
    words: bool,
    #[arg(long, env = "POLLTELLIGENCE_MODELS")]
    models: Option<std::path::PathBuf>,
}

impl SummariesInput {
    fn embedder(
        &self,
    ) -> Result<std::sync::Arc<dyn server::summaries::embed::Embedder>, server::summaries::evaluate::EvalError> {
        server::summaries::evaluate::embedder(&self.models_dir(), self.words)
    }

    fn models_dir(&self) -> std::path::PathBuf {
        self.models.clone().unwrap_or_else(server::summaries::models::default_dir)
    }
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Download the embedding model and the `local` backend's model into the cache, checking
    /// each file's SHA-256; models already there and intact are skipped.
    Fetch {
        /// The cache folder (default: $POLLTELLIGENCE_MODELS, else ~/.cache/polltelligence/models).
        #[arg(long, env = "POLLTELLIGENCE_MODELS")]
        dir: Option<std::path::PathBuf>,
        /// Take the wheels from this folder instead of the package index (offline hosts).
        #[arg(long)]
        from: Option<std::path::PathBuf>,
    },
    /// Check the cache: which models are there, and whether their files are intact.
    Check {
        #[arg(long, env = "POLLTELLIGENCE_MODELS")]
        dir: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum EditorCommand {
    /// Create an editor account. The password is asked for (or read from the first line of
    /// standard input when it is not a terminal), never taken from the command line.
    Add {
        email: String,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// End every session of an editor and revoke their known-browser marks (they sign in
    /// again, each browser as a new one). Their API tokens keep working.
    SignOut {
        email: String,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Disable an editor: ends their sessions, revokes their API tokens and known-browser
    /// marks, and refuses their sign-ins until `editor enable`.
    Disable {
        email: String,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Let a disabled editor sign in again (their revoked tokens stay revoked).
    Enable {
        email: String,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Create an API token for an editor (for scripts); printed once, only its hash is kept.
    Token {
        email: String,
        /// What the token is for, as the editor's token list shows it.
        #[arg(long)]
        name: String,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
}

#[derive(Subcommand)]
enum PollsCommand {
    /// Add the polls in a JSON file (an array of polls; see README). All or nothing.
    Import {
        file: std::path::PathBuf,
        /// The editor account the import is recorded under in the audit log.
        #[arg(long)]
        editor: String,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
}

/// The command line's edge: any layer's error, printed once (`main`).
type CliResult = Result<(), Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let result: CliResult = match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(config)) => serve(*config).await,
        Some(Command::BenchHello { addr }) => bench_hello(addr).await,
        Some(Command::Migrate { database_url }) => {
            server::store::connect(&database_url).await.map(|_| ()).map_err(Into::into)
        }
        Some(Command::Demo { database_url }) => demo(&database_url).await,
        Some(Command::Backup { file, database_url }) => server::backup::backup(&database_url, &file)
            .await
            .map(|b| {
                println!(
                    "wrote {} ({} bytes): {} polls, {} votes; integrity check ok",
                    file.display(),
                    b.bytes,
                    b.polls,
                    b.votes
                )
            })
            .map_err(Into::into),
        Some(Command::Polls(PollsCommand::Import { file, editor, database_url })) => {
            import(&file, &editor, &database_url).await
        }
        Some(Command::Editor(EditorCommand::Add { email, database_url })) => add_editor(&email, &database_url).await,
        Some(Command::Editor(EditorCommand::SignOut { email, database_url })) => {
            editor_access(&email, &database_url, server::services::EditorAccess::SignOut).await
        }
        Some(Command::Editor(EditorCommand::Disable { email, database_url })) => {
            editor_access(&email, &database_url, server::services::EditorAccess::Disable).await
        }
        Some(Command::Editor(EditorCommand::Enable { email, database_url })) => {
            editor_access(&email, &database_url, server::services::EditorAccess::Enable).await
        }
        Some(Command::Editor(EditorCommand::Token { email, name, database_url })) => {
            editor_token(&email, &name, &database_url).await
        }
        Some(Command::Models(ModelsCommand::Fetch { dir, from })) => {
            let dir = dir.unwrap_or_else(server::summaries::models::default_dir);
            server::summaries::models::fetch(&dir, from.as_deref(), &mut |line| println!("{line}")).map_err(Into::into)
        }
        Some(Command::Summaries(SummariesCommand::Eval { argkp, themes, input })) => match (input.embedder(), argkp) {
            (Ok(embedder), Some(dir)) => {
                server::summaries::argkp::eval(&dir, embedder, themes).await.map(|_| ()).map_err(Into::into)
            }
            (Ok(embedder), None) => {
                server::summaries::evaluate::eval(&input.fixtures, embedder).await.map(|_| ()).map_err(Into::into)
            }
            (Err(e), _) => Err(e.into()),
        },
        Some(Command::Summaries(SummariesCommand::Bench { comments, input })) => match input.embedder() {
            Ok(embedder) => {
                server::summaries::evaluate::bench(&input.fixtures, comments, embedder, &input.models_dir())
                    .await
                    .map_err(Into::into)
            }
            Err(e) => Err(e.into()),
        },
        Some(Command::Models(ModelsCommand::Check { dir })) => {
            let dir = dir.unwrap_or_else(server::summaries::models::default_dir);
            let mut problems = Vec::new();
            for model in [&server::summaries::models::EMBEDDER, &server::summaries::models::GENERATOR] {
                match server::summaries::models::present(&dir, model, true) {
                    Ok(()) => println!("{}: ok", model.name),
                    Err(e) => problems.push(e.to_string()),
                }
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems.join("; ").into())
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("polltelligence: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(mut config: Config) -> CliResult {
    config.read_secrets()?;
    let app = Application::build(config).await?;
    tracing::info!("listening on http://{}", app.addr());
    Ok(app.run_until_stopped(shutdown_signal()).await?)
}

async fn demo(database_url: &str) -> CliResult {
    let store = server::store::connect(database_url).await?;
    match server::demo::load_if_empty(&store, chrono::Utc::now()).await? {
        true => println!("loaded the demo polls"),
        false => println!("the database already has polls; nothing loaded"),
    }
    Ok(())
}

async fn import(file: &std::path::Path, editor: &str, database_url: &str) -> CliResult {
    let json = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let store = server::store::connect(database_url).await?;
    let count = server::import::import(&store, &json, editor, chrono::Utc::now()).await?;
    println!("imported {count} polls");
    Ok(())
}

async fn add_editor(email: &str, database_url: &str) -> CliResult {
    let email = app::domain::Email::parse(email)?;
    let password = read_password()?;
    app::domain::check_new_password(&password)?;
    let store = server::store::connect(database_url).await?;
    let clock = std::sync::Arc::new(server::services::SystemClock);
    let auth = server::services::Auth::new(store, clock).await?;
    auth.add_editor(email.as_str(), password).await?;
    println!("added editor {email}; sign in at /editor/login");
    Ok(())
}

async fn editor_access(email: &str, database_url: &str, access: server::services::EditorAccess) -> CliResult {
    let store = server::store::connect(database_url).await?;
    let auth = server::services::Auth::new(store, std::sync::Arc::new(server::services::SystemClock)).await?;
    auth.end_access(email, access).await?;
    let done = match access {
        server::services::EditorAccess::SignOut => "signed out everywhere",
        server::services::EditorAccess::Disable => "disabled: sessions ended, API tokens revoked",
        server::services::EditorAccess::Enable => "enabled",
    };
    println!("{email}: {done}");
    Ok(())
}

async fn editor_token(email: &str, name: &str, database_url: &str) -> CliResult {
    let email = app::domain::Email::parse(email)?;
    let store = server::store::connect(database_url).await?;
    let (id, _) = store.editor_credentials(&email).await?.ok_or_else(|| format!("there is no editor {email}"))?;
    let clock = std::sync::Arc::new(server::services::SystemClock);
    let auth = server::services::Auth::new(store, clock).await?;
    let editor = app::domain::EditorIdentity { id, email, csrf: None };
    println!("{}", auth.create_api_token(&editor, name).await?);
    Ok(())
}

fn read_password() -> Result<String, Box<dyn std::error::Error>> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (at least 12 characters): ")?;
        let again = rpassword::prompt_password("Same password again: ")?;
        if first != again {
            return Err("the passwords differ".into());
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(|e| format!("cannot read the password: {e}"))?;
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
}

fn init_logging() {
    let filter: tracing_subscriber::filter::Targets = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| "info,sqlx=warn".parse().expect("valid default filter"));
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    tracing_subscriber::registry().with(tracing_subscriber::fmt::layer()).with(filter).init();
}

async fn bench_hello(addr: std::net::SocketAddr) -> CliResult {
    use axum::serve::ListenerExt;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    // TCP_NODELAY, as on the real server, so the two differ only in what they do per request.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let hello = axum::Router::new().fallback(|| async { "hello" });
    Ok(axum::serve(listener, hello).await?)
}
