//! `cairn render [SITE_DIR]`: inject comments into a built site and print a summary;
//! with `--serve`, then show it in the browser and render again as it changes.

use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{plural, print_problems, shown, ConfigArg, EXIT_PROBLEMS};
use crate::github;
use crate::site::{self, Difference};
use crate::store::{self, Index, Store};

#[derive(Debug, Clone, clap::Args)]
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
    /// Then serve the rendered site on this address (default 127.0.0.1:8484) to look
    /// at in a browser, rendering it again whenever its pages, the comments, the
    /// templates or cairn.toml change (e.g. as `hugo --watch` rebuilds it).
    #[arg(
        long,
        value_name = "ADDR",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "127.0.0.1:8484"
    )]
    pub serve: Option<SocketAddr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Github,
}

/// A progress bar appears only when a run takes long enough to wonder about.
const PROGRESS_AFTER: Duration = Duration::from_millis(1500);

pub fn run(args: &Args) -> Result<ExitCode> {
    // A taken address is said before the render, not after.
    let listener = match args.serve {
        Some(addr) => Some(
            std::net::TcpListener::bind(addr)
                .with_context(|| format!("cannot listen on {addr}"))?,
        ),
        None => None,
    };
    let (code, rendered) = render(args)?;
    match listener {
        Some(listener) => serve(args, listener, &rendered),
        None => Ok(code),
    }
}

/// Renders the site once, printing what it did; also says which directory it rendered.
fn render(args: &Args) -> Result<(ExitCode, PathBuf)> {
    let started = Instant::now();
    let config = args.config.load()?;
    if let Some(note) = crate::render::i18n::untranslated(&config.site.language, &config.strings) {
        eprintln!("cairn: note: {note}");
    }
    let mut site_dir = source_dir(args, &config);
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
            let shown = args.out.clone().unwrap_or(site_dir);
            return Ok((ExitCode::from(EXIT_PROBLEMS), shown));
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
        // A thread of a page file's path without its extension (an import's, from the
        // address the page was served at) says which thread the page has.
        let list: Vec<String> = report
            .unpaged_threads
            .iter()
            .take(5)
            .map(|unpaged| {
                let t = &unpaged.thread;
                if let Some((page, how)) = &unpaged.likely {
                    let how = match how {
                        Difference::Case => "the same but for case",
                        Difference::Folder => "its folder",
                    };
                    return format!(
                        "{t} (a page shows {page}, {how}: `cairn move --map {t}={page}` moves \
                         its comments there)"
                    );
                }
                match crate::site::file_page(&site_dir, t, |_| true) {
                    Some(file) => {
                        format!("{t} (its page is built as {}: thread {file})", &file[1..])
                    }
                    None => t.clone(),
                }
            })
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
                (
                    "compressed copies updated",
                    report.copies_written.to_string(),
                ),
                ("problems", problems.to_string()),
                ("time", format!("{:.2} s", started.elapsed().as_secs_f64())),
            ],
        );
        summary.push_str(&github::problem_list(&report.problems));
        github::append_summary(&summary)?;
    }
    let copies = match report.copies_written {
        0 => String::new(),
        n => format!(
            ", {} updated",
            plural(n, "compressed copy", "compressed copies")
        ),
    };
    println!(
        "cairn: {} rendered on {} of {} ({} written, {} feeds updated{copies}), {} in {:.2} s [{}]",
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
    Ok((
        ExitCode::from(if failed { EXIT_PROBLEMS } else { 0 }),
        site_dir,
    ))
}

/// The built site named on the command line, or the config's default.
fn source_dir(args: &Args, config: &crate::config::Config) -> PathBuf {
    args.site_dir
        .clone()
        .unwrap_or_else(|| site::default_dir(config))
}

/// How often `--serve` looks for changes.
const WATCH_EVERY: Duration = Duration::from_millis(500);

/// Serves `site_dir` under the site's base path until Ctrl-C or SIGTERM, rendering the
/// site again (as `run` did, into `--out` if given) whenever what it is made from
/// changes: the built pages, the comments, the template overrides or the config.
fn serve(args: &Args, listener: std::net::TcpListener, site_dir: &Path) -> Result<ExitCode> {
    let config = args.config.load()?;
    let base = config.base_path();
    let watched = [
        source_dir(args, &config),
        config.comments_dir(),
        config.templates_dir(),
        config.file.clone(),
    ];
    let stop = Arc::new(AtomicBool::new(false));
    let reload = crate::reload::Reload::default();
    let watcher = {
        let (args, stop, reload) = (args.clone(), stop.clone(), reload.clone());
        std::thread::spawn(move || {
            let mut seen = fingerprint(&watched);
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(WATCH_EVERY);
                let mut now = fingerprint(&watched);
                if now == seen {
                    continue;
                }
                // A generator rebuilding the site writes many files: wait until it is
                // done, so the pages it writes last are not left without comments.
                loop {
                    std::thread::sleep(WATCH_EVERY);
                    let later = fingerprint(&watched);
                    if later == now {
                        break;
                    }
                    now = later;
                }
                if let Err(e) = render(&args) {
                    eprintln!("cairn: error: {e:#}");
                }
                reload.rendered();
                // What the render wrote is part of what it has seen.
                seen = fingerprint(&watched);
            }
        })
    };
    let files = crate::site::serve::files(site_dir);
    let app = if base == "/" {
        files
    } else {
        // The site's links start with its base path: it is served there, and the root
        // leads to it.
        let to_base = axum::response::Redirect::temporary(&base);
        axum::Router::new()
            .nest_service(base.trim_end_matches('/'), files)
            .route("/", axum::routing::get(move || async move { to_base }))
    };
    let app = reload.around(app);
    let served = super::runtime()?.block_on(async {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let local = listener.local_addr()?;
        println!("cairn: listening on http://{local}");
        println!(
            "cairn: open http://{local}{base}: pages are rendered again, and reload in the \
             browser, when they, the comments, the templates or cairn.toml change (Ctrl-C stops)"
        );
        let stopping = async move {
            super::shutdown_signal().await;
            reload.stop();
        };
        axum::serve(listener, app)
            .with_graceful_shutdown(stopping)
            .await
            .context("serving the site")
    });
    stop.store(true, Ordering::Relaxed);
    let _ = watcher.join();
    served.map(|()| ExitCode::SUCCESS)
}

/// What changes when a file is added, removed or written under any of `paths`.
fn fingerprint(paths: &[PathBuf]) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    for path in paths {
        for entry in walkdir::WalkDir::new(path)
            .into_iter()
            .filter_map(Result::ok)
        {
            entry.path().hash(&mut hasher);
            if let Ok(meta) = entry.metadata() {
                (meta.len(), meta.modified().ok()).hash(&mut hasher);
            }
        }
    }
    hasher.finish()
}
