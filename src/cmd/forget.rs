//! `cairn forget`: erases comments by id, author name, avatar key or e-mail, in one
//! commit, and prints the commands that purge them from git history too.

use std::process::ExitCode;

use anyhow::{Context, Result};

use super::{plural, shown, ConfigArg};
use crate::forget::{self, Selector};
use crate::secret::Secret;
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArg,
    /// A comment id. Repeatable.
    #[arg(long, value_name = "ID")]
    pub id: Vec<String>,
    /// Every comment whose author is exactly this name. Repeatable.
    #[arg(long, value_name = "NAME")]
    pub author: Vec<String>,
    /// Every comment with this avatar key. Repeatable.
    #[arg(long, value_name = "KEY")]
    pub avatar: Vec<String>,
    /// Every comment posted with this e-mail address (its avatar key, computed with the
    /// inbox's secret). Repeatable.
    #[arg(long, value_name = "ADDRESS")]
    pub email: Vec<String>,
    /// List what would be erased, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let config = args.config.load()?;
    let mut selectors = Vec::new();
    for id in &args.id {
        let id = id
            .trim()
            .parse()
            .with_context(|| format!("--id {id:?}: not a comment id (a 26-character ULID)"))?;
        selectors.push(Selector::Id(id));
    }
    selectors.extend(args.author.iter().cloned().map(Selector::Author));
    selectors.extend(args.avatar.iter().cloned().map(Selector::Avatar));
    if !args.email.is_empty() {
        let secret = Secret::load(config.inbox.secret_file.as_deref(), &config.root)
            .context("--email needs the inbox's secret to compute avatar keys")?;
        selectors.extend(
            args.email
                .iter()
                .map(|e| Selector::Avatar(secret.avatar_key(e))),
        );
    }
    let comments_dir = config.comments_dir();
    let store = Store::load(&comments_dir, &config.form)?;
    let outcome = forget::forget(&comments_dir, &store, &selectors, args.dry_run)?;
    let dir = shown(&comments_dir);
    let total = outcome.removed.len() + outcome.stubbed.len();
    if total == 0 {
        println!("no comment matches; nothing changed");
        return Ok(ExitCode::SUCCESS);
    }
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    for path in &outcome.removed {
        println!("{verb} {dir}/{}", path.display());
    }
    for (path, _) in &outcome.stubbed {
        let verb = if args.dry_run {
            "would replace"
        } else {
            "replaced"
        };
        println!(
            "{verb} {dir}/{} by a \"[deleted]\" stub (others replied to it)",
            path.display()
        );
    }
    if args.dry_run {
        println!(
            "dry run: {} would be erased",
            plural(total, "comment", "comments")
        );
        return Ok(ExitCode::SUCCESS);
    }
    match (outcome.commit, &outcome.repo) {
        (Some(commit), Some(repo)) => {
            println!(
                "committed {commit}: forget {}",
                plural(total, "comment", "comments")
            );
            println!();
            println!(
                "The text is still in the repository's history. To purge it, run in {}:",
                repo.display()
            );
            println!();
            for command in &outcome.purge {
                println!("  {command}");
            }
            println!();
            if outcome.publish.is_empty() {
                println!("then publish the rewritten history (git push --force --all && git push --force --tags).");
            } else {
                println!(
                    "then publish the rewritten history, pending comments' branches included:"
                );
                println!();
                for command in &outcome.publish {
                    println!("  {command}");
                }
                println!();
            }
            println!("Clones and forks made before keep the old history.");
            if config.inbox.delivery.backend == crate::config::Backend::Git
                && config.inbox.delivery.remote.is_some()
            {
                let mine = super::moderate::cached_clone(&config)
                    .ok()
                    .flatten()
                    .map(|dir| format!(" (yours: {})", dir.display()))
                    .unwrap_or_default();
                println!(
                    "So do cairn's own copies: the inbox's mirror, {} by this config (stop the \
                     inbox and delete it; it copies the repository again when it starts), and \
                     the clone `cairn moderate` keeps in the cache of each user who ran it{mine}: \
                     delete them as well.",
                    config.spool_dir().join("repo.git").display()
                );
            }
        }
        _ => println!(
            "erased {}; {dir} is not in a git repository, so nothing was committed",
            plural(total, "comment", "comments")
        ),
    }
    Ok(ExitCode::SUCCESS)
}
