//! `cairn check`: validate every comment file; the command moderation pull requests run.

use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use super::{plural, print_problems, shown, ConfigArg, EXIT_PROBLEMS};
use crate::github;
use crate::store::{Problem, Severity, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Treat warnings (limits, future dates, stray files) as failures too.
    #[arg(long)]
    pub strict: bool,
    /// Output format: `github` prints problems as annotations and writes a job summary.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// With `--format github`: list the comments added since this commit, branch or tag
    /// (a moderation pull request's base), rendered, in the summary.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Github,
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
    anyhow::ensure!(
        args.base.is_none() || args.format == OutputFormat::Github,
        "--base goes with --format github"
    );
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
        OutputFormat::Github => {
            for problem in &store.problems {
                println!("{}", github::annotation(problem));
            }
            let mut summary = github::table(
                "cairn check",
                &[
                    ("comment files", store.files.to_string()),
                    ("comments", store.len().to_string()),
                    ("threads", store.threads.len().to_string()),
                    ("errors", errors.to_string()),
                    ("warnings", warnings.to_string()),
                ],
            );
            summary.push_str(&github::problem_list(&store.problems));
            if let Some(base) = &args.base {
                let added = github::new_comments(&store, &config.comments_dir(), base)?;
                summary.push_str(&github::comment_list(&added, &config.site.url));
            }
            github::append_summary(&summary)?;
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
