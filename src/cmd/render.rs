//! `cairn render [SITE_DIR]`: inject comments into a built site and print a summary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{plural, print_problems, shown, ConfigArg, EXIT_PROBLEMS};
use crate::github;
use crate::site;
use crate::store::{self, Index, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The built site (default: `site.output` from cairn.toml, else `public/` or `_site/`).
    pub site_dir: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArg,
    /// Render into a copy of the site in this directory instead of changing SITE_DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Fail, and change nothing, if any comment file has a problem.
    #[arg(long)]
    pub strict: bool,
    /// `github` also prints problems as annotations and writes a job summary.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Github,
}

/// A progress bar appears only when a run takes long enough to wonder about.
const PROGRESS_AFTER: Duration = Duration::from_millis(1500);

pub fn run(args: &Args) -> Result<ExitCode> {
    let started = Instant::now();
    let config = args.config.load()?;
    let mut site_dir = args
        .site_dir
        .clone()
        .unwrap_or_else(|| site::default_dir(&config));
    anyhow::ensure!(
        site_dir.is_dir(),
        "site directory {} does not exist (build the site first, or name it: cairn render DIR)",
        site_dir.display()
    );
    let index = Index::scan(&config.comments_dir(), &config.form)?;
    if args.strict {
        // Nothing is written unless every comment file is clean: read them all first.
        let problems = Store::read(&index).problems;
        if store::fails(&problems, true) {
            print_problems(&problems);
            if args.format == Format::Github {
                for problem in &problems {
                    println!("{}", github::annotation(problem));
                }
            }
            eprintln!(
                "cairn: not rendering: {} in comment files (--strict)",
                plural(problems.len(), "problem", "problems")
            );
            return Ok(ExitCode::from(EXIT_PROBLEMS));
        }
    }
    if let Some(out) = &args.out {
        site::copy(&site_dir, out)?;
        site_dir = out.clone();
    }

    // Pages are rendered as the site is walked, so their number is known only at the end.
    // Only a terminal gets a bar: decided once, not asked of the terminal for each page.
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{spinner} rendering: {pos} pages, {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let drawn = AtomicBool::new(false);
    let progress = |done: u64| {
        if !terminal {
            return;
        }
        if !drawn.load(Ordering::Relaxed) {
            if started.elapsed() <= PROGRESS_AFTER || drawn.swap(true, Ordering::Relaxed) {
                return;
            }
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        bar.set_position(done);
    };
    let report = site::render(&config, &index, &site_dir, &progress)?;
    bar.finish_and_clear();
    print_problems(&report.problems);

    if !report.unpaged_threads.is_empty() {
        let list: Vec<&str> = report
            .unpaged_threads
            .iter()
            .take(5)
            .map(String::as_str)
            .collect();
        let more = report.unpaged_threads.len() - list.len();
        eprintln!(
            "cairn: note: {} with comments but no page showing them: {}{}",
            plural(report.unpaged_threads.len(), "thread", "threads"),
            list.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    if report.pages_scanned == 0 {
        eprintln!(
            "cairn: note: no HTML page in {}: is it the built site? (name it: cairn render DIR)",
            site_dir.display()
        );
    } else if report.sections == 0 {
        eprintln!(
            "cairn: note: no page has a comments placeholder: add <div id=\"cairn-comments\"></div> \
             to the layout of the pages that take comments"
        );
    }
    let problems = report.problems.len();
    if args.format == Format::Github {
        for problem in &report.problems {
            println!("{}", github::annotation(problem));
        }
        let mut summary = github::table(
            "cairn render",
            &[
                ("pages scanned", report.pages_scanned.to_string()),
                ("pages with comments", report.sections.to_string()),
                ("comments rendered", report.comments_rendered.to_string()),
                ("pages written", report.pages_written.to_string()),
                ("feeds updated", report.feeds_written.to_string()),
                ("problems", problems.to_string()),
                ("time", format!("{:.2} s", started.elapsed().as_secs_f64())),
            ],
        );
        summary.push_str(&github::problem_list(&report.problems));
        github::append_summary(&summary)?;
    }
    println!(
        "cairn: {} rendered on {} of {} ({} written, {} feeds updated), {} in {:.2} s [{}]",
        plural(report.comments_rendered, "comment", "comments"),
        plural(report.sections, "page", "pages"),
        plural(report.pages_scanned, "page", "pages"),
        report.pages_written,
        report.feeds_written,
        plural(problems, "problem", "problems"),
        started.elapsed().as_secs_f64(),
        shown(&site_dir),
    );
    let failed = args.strict && !report.problems.is_empty();
    Ok(ExitCode::from(if failed { EXIT_PROBLEMS } else { 0 }))
}
