//! `cairn check`: validate every comment file; the command moderation pull requests run.

use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use super::{plural, print_problems, shown, ConfigArg, EXIT_PROBLEMS};
use crate::store::{Problem, Severity, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Treat warnings (limits, future dates, stray files) as failures too.
    #[arg(long)]
    pub strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// The JSON report (`--format json`).
#[derive(Serialize)]
struct Report {
    ok: bool,
    files: usize,
    comments: usize,
    threads: usize,
    errors: usize,
    warnings: usize,
    problems: Vec<Problem>,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let config = args.config.load()?;
    let store = Store::load(&config.comments_dir(), &config.form)?;
    let errors = store
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let warnings = store.problems.len() - errors;
    let ok = !store.fails(args.strict);
    match args.format {
        OutputFormat::Json => {
            let problems = store
                .problems
                .iter()
                .map(|p| Problem {
                    path: shown(&p.path).into(),
                    ..p.clone()
                })
                .collect();
            let report = Report {
                ok,
                files: store.files,
                comments: store.len(),
                threads: store.threads.len(),
                errors,
                warnings,
                problems,
            };
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        OutputFormat::Text => {
            print_problems(&store.problems);
            println!(
                "cairn: checked {}: {} in {}, {}, {}",
                plural(store.files, "file", "files"),
                plural(store.len(), "comment", "comments"),
                plural(store.threads.len(), "thread", "threads"),
                plural(errors, "error", "errors"),
                plural(warnings, "warning", "warnings"),
            );
        }
    }
    Ok(ExitCode::from(if ok { 0 } else { EXIT_PROBLEMS }))
}
