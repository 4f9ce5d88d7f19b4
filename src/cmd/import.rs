//! `cairn import`: brings comments over from Isso, Disqus, WordPress, Blogger,
//! Staticman, utterances, Gitalk, giscus, Remark42, Waline, Commento, Cusdis, Twikoo or Valine as
//! comment files in the comments directory; `--dry-run` shows what it would do.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};

use super::{plural, shown, ConfigArg, EXIT_PROBLEMS};
use crate::import::staticman::{self, BodyFormat, Fields};
use crate::import::{
    self, blogger, commento, cusdis, disqus, giscus, isso, issues, remark42, twikoo, waline,
    wordpress, Existing, Kind, Options, ThreadMap,
};
use crate::secret::{self, Secret};
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the comments come from.
    #[arg(value_enum)]
    pub kind: Kind,
    /// Isso's database file, the Disqus or WordPress XML export, Blogger's (Takeout's
    /// `feed.atom` or the folder it is in, or the older `blog-MM-DD-YYYY.xml`), the folder of
    /// Staticman data files (e.g. `_data/comments`), or the GitHub repository whose
    /// issues hold utterances' or Gitalk's comments (owner/name: the `repo` of its
    /// script or settings) or whose discussions hold giscus' (its `data-repo`), or
    /// a Remark42 backup (`backup-SITE-DATE.gz`, gzip'd or not), Waline's export
    /// (`waline.json`), Commento's (`.json.gz`, gzip'd or not), the SQLite database of a
    /// Cusdis one runs or the folder a site that shows Cusdis threads is built into
    /// (its pages' comments are read from Cusdis' API), Twikoo's, or the LeanCloud
    /// export of Valine's `Comment` class.
    pub source: PathBuf,
    #[command(flatten)]
    pub config: ConfigArg,
    /// Rewrite thread paths, OLD=NEW: an OLD ending in `/` moves every page under it,
    /// any other OLD must match the whole path (e.g. `/?p=4=/2014/hello/`); a `*`
    /// stands for any part of a path, which a `*` in NEW repeats (`/*.html=/*/`).
    /// Repeatable.
    #[arg(long = "map", value_name = "OLD=NEW")]
    pub map: Vec<String>,
    /// More --map rules from a file, one `OLD NEW` per line (`#` starts a comment).
    #[arg(long, value_name = "FILE")]
    pub map_file: Option<PathBuf>,
    /// Print every file it would write and every item it skips, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also import comments awaiting moderation in the source (Isso, WordPress,
    /// Waline, Commento, Cusdis; Twikoo's and Valine's hidden ones, spam included).
    #[arg(long)]
    pub include_pending: bool,
    /// Import without avatar keys when no secret is set. E-mails are never written either way.
    #[arg(long)]
    pub no_avatars: bool,
    /// Staticman: read a field from another key, NAME=KEY (fields: id, thread, parent,
    /// parent_index, author, email, website, body, date). Repeatable.
    #[arg(long = "field", value_name = "NAME=KEY")]
    pub fields: Vec<String>,
    /// Staticman: how messages are written.
    #[arg(long, value_enum, default_value_t)]
    pub body_format: BodyFormat,
    /// utterances, Gitalk, giscus: the GitHub API to read from (default:
    /// https://api.github.com; GitHub Enterprise: https://HOST/api/v3).
    /// A token in GITHUB_TOKEN (or CAIRN_FORGE_TOKEN) reads a private repository; giscus
    /// needs one in any case.
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// utterances, Gitalk: only the issues with this label (the `label` of utterances'
    /// script; Gitalk's issues have `Gitalk`, unless its `labels` say otherwise, and
    /// Gitment's `gitment`).
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    /// giscus: only the discussions in this category (its `data-category`).
    #[arg(long, value_name = "NAME")]
    pub category: Option<String>,
    /// Cusdis: the project (one per site) whose comments to import, by its title or
    /// id in a database, by its id (the pages' data-app-id) in a built site; needed
    /// when there are several.
    #[arg(long, value_name = "TITLE")]
    pub project: Option<String>,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let config = args.config.load()?;
    let map = ThreadMap::from_args(&args.map, args.map_file.as_deref())?;
    if !args.fields.is_empty() && args.kind != Kind::Staticman {
        bail!("--field applies to staticman imports only");
    }
    if args.label.is_some() && !matches!(args.kind, Kind::Utterances | Kind::Gitalk) {
        bail!("--label applies to utterances and Gitalk imports only");
    }
    if args.category.is_some() && args.kind != Kind::Giscus {
        bail!("--category applies to giscus imports only");
    }
    if args.project.is_some() && args.kind != Kind::Cusdis {
        bail!("--project applies to Cusdis imports only");
    }
    if args.api_url.is_some()
        && !matches!(args.kind, Kind::Utterances | Kind::Gitalk | Kind::Giscus)
    {
        bail!("--api-url applies to utterances, Gitalk and giscus imports only");
    }
    let token = ["GITHUB_TOKEN", "CAIRN_FORGE_TOKEN"]
        .iter()
        .find_map(|var| {
            std::env::var(var)
                .ok()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
        });
    let source = match args.kind {
        Kind::Isso => isso::read(&args.source)?,
        Kind::Disqus => disqus::read(&args.source)?,
        Kind::Wordpress => wordpress::read(&args.source)?,
        Kind::Blogger => blogger::read(&args.source)?,
        Kind::Remark42 => remark42::read(&args.source)?,
        Kind::Waline => waline::read(&args.source)?,
        Kind::Commento => commento::read(&args.source)?,
        Kind::Cusdis if args.source.is_dir() => {
            cusdis::read_site(&args.source, args.project.as_deref())?
        }
        Kind::Cusdis => cusdis::read(&args.source, args.project.as_deref())?,
        Kind::Twikoo | Kind::Valine => twikoo::read(&args.source)?,
        Kind::Utterances | Kind::Gitalk => issues::read(&issues::Repo {
            kind: args.kind,
            api: args
                .api_url
                .as_deref()
                .unwrap_or(crate::deliver::github::API),
            name: &args.source.to_string_lossy(),
            token: token.as_deref(),
            label: args.label.as_deref(),
        })?,
        Kind::Giscus => {
            let Some(token) = token.as_deref() else {
                bail!(
                    "giscus keeps comments in GitHub Discussions, which GitHub's GraphQL API \
                     shows only with a token, even for a public repository: set GITHUB_TOKEN \
                     to one that can read {} (`gh auth token` prints yours)",
                    args.source.display()
                );
            };
            giscus::read(&giscus::Repo {
                api: args
                    .api_url
                    .as_deref()
                    .unwrap_or(crate::deliver::github::API),
                name: &args.source.to_string_lossy(),
                token,
                category: args.category.as_deref(),
            })?
        }
        Kind::Staticman => {
            let mut fields = Fields::default();
            for mapping in &args.fields {
                fields.set(mapping)?;
            }
            let (source, report) = staticman::read(&args.source, &fields, args.body_format)?;
            if report.hashed_emails > 0 {
                eprintln!(
                    "note: {} held a hash instead of an address; dropped (a hash of an e-mail is never written)",
                    plural(report.hashed_emails, "e-mail field", "e-mail fields")
                );
            }
            for (key, files) in &report.unused_keys {
                eprintln!(
                    "note: key {key:?} ({}) is not imported",
                    plural(*files, "file", "files")
                );
            }
            source
        }
    };
    let needs_secret = format!(
        "The source has e-mail addresses. cairn turns each into an avatar key with the \
         inbox's secret, so imported and new comments by the same person share an avatar: \
         set {} (or inbox.secret_file) to the inbox's secret, or pass --no-avatars to import \
         without avatar keys.",
        secret::ENV
    );
    let secret = match Secret::load(config.inbox.secret_file.as_deref(), &config.root) {
        Ok(secret) => Some(secret),
        Err(_) if args.no_avatars || !source.has_emails() => None,
        Err(e) if args.dry_run => {
            eprintln!("note: {e:#}. {needs_secret}");
            None
        }
        Err(e) => bail!("{e:#}\n{needs_secret}"),
    };
    let options = Options {
        map,
        include_pending: args.include_pending,
        secret,
        base_path: config.base_path(),
        limits: config.form.clone(),
    };
    let comments_dir = config.comments_dir();
    let store = Store::load(&comments_dir, &config.form)?;
    let existing = Existing::load(&store, &comments_dir)?;
    let plan = import::plan(args.kind, source, &options, &existing);

    let dir = shown(&comments_dir);
    let threads: BTreeSet<&str> = plan.new.iter().map(|p| p.comment.thread.as_str()).collect();
    for note in &plan.adjusted {
        eprintln!("note: {note}");
    }
    for note in &plan.skipped {
        eprintln!("skipped: {note}");
    }
    let still_open: Vec<String> = plan
        .closed
        .iter()
        .filter(|thread| !config.comments.is_closed(thread))
        .map(|thread| format!("{thread:?}"))
        .collect();
    if !still_open.is_empty() {
        let (them, list) = (
            if still_open.len() == 1 { "it" } else { "them" },
            still_open.join(", "),
        );
        let addition = if config.comments.closed.is_empty() {
            format!(
                "add to [comments] in {}:\n  closed = [{list}]",
                shown(&config.file)
            )
        } else {
            format!(
                "add {list} to `closed` in [comments] of {}",
                shown(&config.file)
            )
        };
        eprintln!(
            "note: {} took no new comments in the source; cairn's form shows on every page \
             with a placeholder, so to keep {them} closed, {addition}",
            plural(still_open.len(), "page", "pages"),
        );
    }
    if let Some(addition) = super::owners_addition(&config, &plan.owners) {
        eprintln!(
            "note: the source marks comments as by the site's own people ({}); to mark them \
             as the author's on the pages too, {addition}",
            plural(plan.owners.len(), "avatar key", "avatar keys")
        );
    }
    if plan.owners_without_key > 0 {
        let (has, them) = match plan.owners_without_key {
            1 => ("has", "it"),
            _ => ("have", "them"),
        };
        eprintln!(
            "note: {} the source marks as by the site's own people {has} no avatar key (no \
             e-mail address in the source, or none turned into a key): nothing marks {them}",
            plural(plan.owners_without_key, "comment", "comments"),
        );
    }
    if args.dry_run {
        for planned in &plan.new {
            let reply = planned
                .comment
                .parent
                .map(|p| format!(", reply to {p}"))
                .unwrap_or_default();
            println!(
                "would write {dir}/{} ({}{reply})",
                planned.path.display(),
                planned.comment.origin.as_deref().unwrap_or_default()
            );
        }
        println!(
            "dry run: would write {} in {} to {dir}; {} already imported; {} skipped",
            plural(plan.new.len(), "comment", "comments"),
            plural(threads.len(), "thread", "threads"),
            plan.existing,
            plan.skipped.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let (written, failed) = import::apply(&plan, &comments_dir);
    for note in &failed {
        eprintln!("error: {note}");
    }
    println!(
        "imported {} in {} into {dir}; {} already imported; {} skipped",
        plural(written, "comment", "comments"),
        plural(threads.len(), "thread", "threads"),
        plan.existing,
        plan.skipped.len() + failed.len()
    );
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_PROBLEMS)
    })
}
