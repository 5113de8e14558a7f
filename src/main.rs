//! The `switchyard` command: serve, config check, report, mock-server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use switchyard::config::{self, MockSettings};
use tokio::net::TcpListener;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Transparent huge pages off for this process: with the kernel setting
/// `always`, each of the allocator's arenas touched became 2 MiB of RSS,
/// for no measurable gain in throughput (bench/RESULTS.md). Pages already
/// faulted in stay as they are; every later fault is a 4 KiB page.
fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE only sets a flag of this
    // process; it reads no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[derive(Parser)]
#[command(
    name = "switchyard",
    version,
    about = "An OpenAI-compatible LLM gateway"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the gateway.
    Serve {
        /// LiteLLM-format config.yaml.
        #[arg(long, short, default_value = "config.yaml")]
        config: PathBuf,
        #[arg(long, default_value = "0.0.0.0")]
        host: String,
        #[arg(long, short, default_value_t = 4000)]
        port: u16,
    },
    /// Work with configuration files.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print one month's spend per team (or key, user, customer, model, tag).
    Report {
        /// LiteLLM-format config.yaml; names the database.
        #[arg(long, short, default_value = "config.yaml")]
        config: PathBuf,
        /// Read this database instead of the one the config names.
        #[arg(long)]
        database_url: Option<String>,
        /// The month, YYYY-MM.
        #[arg(long)]
        month: switchyard::spend::Month,
        /// team, key, user, customer, model or tag.
        #[arg(long, default_value = "team")]
        by: switchyard::spend::GroupBy,
        /// csv or json.
        #[arg(long, default_value = "csv")]
        format: switchyard::spend::ReportFormat,
    },
    /// Check or export the tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Serve the built-in mock provider as an OpenAI-compatible upstream.
    MockServer {
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        #[arg(long, short, default_value_t = 9100)]
        port: u16,
        /// Delay before each answer.
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Delay before each streamed chunk.
        #[arg(long, default_value_t = 0)]
        chunk_delay_ms: u64,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain, check it against the anchors, and name the
    /// first record that was modified, deleted, inserted or reordered.
    Verify {
        /// LiteLLM-format config.yaml; names the database.
        #[arg(long, short, default_value = "config.yaml")]
        config: PathBuf,
        /// The anchor file (JSON Lines) the gateway wrote.
        #[arg(long)]
        anchors: Option<PathBuf>,
    },
    /// Write the records of a date range (UTC days, both included) as JSON
    /// Lines for an auditor (docs/audit.md).
    Export {
        #[arg(long, short, default_value = "config.yaml")]
        config: PathBuf,
        /// First day, YYYY-MM-DD.
        #[arg(long, value_parser = switchyard::spend::dates::parse_date)]
        from: time::Date,
        /// Last day, YYYY-MM-DD.
        #[arg(long, value_parser = switchyard::spend::dates::parse_date)]
        to: time::Date,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate a config and print its model groups, secrets masked.
    Check { file: PathBuf },
}

fn main() -> ExitCode {
    without_huge_pages();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Config {
            command: ConfigCommand::Check { file },
        } => check(&file),
        Command::Serve { config, host, port } => run(serve(config, host, port)),
        Command::Report {
            config,
            database_url,
            month,
            by,
            format,
        } => run(report(config, database_url, month, by, format)),
        Command::Audit { command } => run(audit(command)),
        Command::MockServer {
            host,
            port,
            latency_ms,
            chunk_delay_ms,
        } => {
            let settings = MockSettings {
                latency: Duration::from_millis(latency_ms),
                chunk_delay: Duration::from_millis(chunk_delay_ms),
                ..MockSettings::default()
            };
            run(async move {
                let listener = bind(&host, port).await?;
                tracing::info!(
                    "mock upstream listening on http://{}",
                    listener.local_addr().map_err(|e| e.to_string())?
                );
                switchyard::mock_server::serve(settings, listener)
                    .await
                    .map_err(|e| e.to_string())
            })
        }
    }
}

fn run(work: impl Future<Output = Result<(), String>>) -> ExitCode {
    // On one core (e.g. pinned with taskset) a single-threaded scheduler
    // does the same work without cross-thread hand-offs.
    let one_core = std::thread::available_parallelism().is_ok_and(|n| n.get() == 1);
    let mut builder = if one_core {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn bind(host: &str, port: u16) -> Result<TcpListener, String> {
    let addr: SocketAddr = format!("{host}:{port}")
        .parse()
        .or_else(|_| format!("[{host}]:{port}").parse())
        .map_err(|_| format!("{host:?} is not an IP address to listen on"))?;
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))
}

async fn serve(path: PathBuf, host: String, port: u16) -> Result<(), String> {
    let loaded = config::load_file(&path).map_err(|e| e.to_string())?;
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    let config = loaded.config;
    if config.master_key.is_none() {
        tracing::warn!(
            "no master_key is set: every caller is let in (set general_settings.master_key)"
        );
    }
    let groups = config.groups().len();
    let listener = bind(&host, port).await?;
    // The store is opened (and its schema migrated) before the gateway
    // says it is listening: a database it cannot use stops it here.
    let gateway = switchyard::api::Gateway::open(config).await?;
    tracing::info!(
        "switchyard {} listening on http://{} with {groups} model groups from {}",
        env!("CARGO_PKG_VERSION"),
        listener.local_addr().map_err(|e| e.to_string())?,
        path.display()
    );
    switchyard::server::serve_gateway(gateway, listener)
        .await
        .map_err(|e| e.to_string())
}

async fn report(
    config: PathBuf,
    database_url: Option<String>,
    month: switchyard::spend::Month,
    by: switchyard::spend::GroupBy,
    format: switchyard::spend::ReportFormat,
) -> Result<(), String> {
    let url = match database_url {
        Some(url) => url,
        None => config::load_file(&config)
            .map_err(|e| e.to_string())?
            .config
            .storage
            .database_url
            .ok_or_else(|| format!("{} names no database", config.display()))?,
    };
    let store = switchyard::store::Store::open(&url).await?;
    let groups = switchyard::spend::monthly::monthly(&store, month, by)
        .await
        .map_err(|e| format!("reading spend: {e}"))?;
    let text = switchyard::spend::monthly::render(&groups, by, format);
    print!("{text}");
    Ok(())
}

async fn audit(command: AuditCommand) -> Result<(), String> {
    let (AuditCommand::Verify { config, .. } | AuditCommand::Export { config, .. }) = &command;
    let url = config::load_file(config)
        .map_err(|e| e.to_string())?
        .config
        .storage
        .database_url
        .ok_or_else(|| format!("{} names no database", config.display()))?;
    let store = switchyard::store::Store::open(&url).await?;
    match command {
        AuditCommand::Verify { anchors, .. } => {
            let done = switchyard::audit::cli::verify_command(&store, anchors.as_deref()).await?;
            println!("{done}");
        }
        AuditCommand::Export { from, to, out, .. } => {
            // Standard output may be the export itself.
            let done =
                switchyard::audit::cli::export_command(&store, from, to, out.as_deref()).await?;
            eprintln!("{done}");
        }
    }
    Ok(())
}

fn check(path: &std::path::Path) -> ExitCode {
    match config::load_file(path) {
        Err(errors) => {
            eprint!("{errors}");
            ExitCode::FAILURE
        }
        Ok(loaded) => {
            for w in &loaded.warnings {
                println!("warning: {w}");
            }
            print!("{}", config::describe(&loaded.config));
            ExitCode::SUCCESS
        }
    }
}
