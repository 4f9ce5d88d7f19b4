//! The `cairn` commands. Each parses its own arguments (a clap `Args` struct) and
//! drives the library; `main.rs` only dispatches.

pub mod avatar;
pub mod check;
pub mod demo;
pub mod export;
pub mod forget;
pub mod import;
pub mod inbox;
pub mod init;
pub mod moderate;
pub mod relocate;
pub mod render;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::config::Config;

/// Exit status for usage and configuration errors.
pub const EXIT_USAGE: u8 = 2;
/// Exit status when problems were found.
pub const EXIT_PROBLEMS: u8 = 1;

/// The `--config` option every command shares.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArg {
    /// Path to cairn.toml (default: found by walking up from the current directory).
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
}

impl ConfigArg {
    pub fn load(&self) -> Result<Config> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        Config::load(self.config.as_deref(), &cwd)
    }
}

/// A path as the user would type it: relative to the current directory when under it.
/// Its last name stays as it is: a symbolic link is shown where it is, not where it
/// leads.
pub fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let canonical = match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            dir.canonicalize().ok().map(|dir| dir.join(name))
        }
        _ => path.canonicalize().ok(),
    };
    match (cwd, canonical) {
        (Some(cwd), Some(p)) => match p.strip_prefix(&cwd) {
            Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
            Ok(rel) => rel.display().to_string(),
            Err(_) => path.display().to_string(),
        },
        _ => path.display().to_string(),
    }
}

/// Prints problems to stderr, one line each, with paths as the user would type them.
pub fn print_problems(problems: &[crate::store::Problem]) {
    for p in problems {
        let mut shown_problem = p.clone();
        shown_problem.path = PathBuf::from(shown(&p.path));
        eprintln!("{shown_problem}");
    }
}

/// What to write in cairn.toml so that `comments.owners` names `keys` too (after the
/// keys it names already), for a note; `None` when it names them all.
pub fn owners_addition(config: &crate::config::Config, keys: &[String]) -> Option<String> {
    let new: Vec<&String> = keys
        .iter()
        .filter(|key| !config.comments.is_owner(Some(key)))
        .collect();
    if new.is_empty() {
        return None;
    }
    let all: Vec<String> = config
        .comments
        .owners
        .iter()
        .chain(new)
        .map(|key| format!("\"{key}\""))
        .collect();
    let at = if config.comments.owners.is_empty() {
        "add to [comments] in"
    } else {
        "make `owners` in [comments] of"
    };
    Some(format!(
        "{at} {}:\n  owners = [{}]",
        shown(&config.file),
        all.join(", ")
    ))
}

/// Maps a count to "1 thing" / "2 things".
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Logs to stdout, one line per event; `RUST_LOG` picks what is shown (default: info).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_target(false)
        .try_init();
}

/// The async runtime the services run on.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests and deliveries in flight");
}
