//! `cairn move`: moves the comments of pages whose URLs changed to their new thread
//! paths, in one commit.

use std::process::ExitCode;

use anyhow::{bail, Result};

use super::{plural, shown, ConfigArg};
use crate::import::ThreadMap;
use crate::relocate;
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Move thread OLD to NEW; an OLD ending in `/` moves every thread under it
    /// (`--map /blog/=/posts/`); a `*` stands for any part of a path, which a `*` in
    /// NEW repeats (`--map '/*.html=/*/'`). Repeatable.
    #[arg(long = "map", value_name = "OLD=NEW")]
    pub map: Vec<String>,
    /// Read more rules from FILE: one a line, `OLD NEW` or `OLD=NEW` (`#` comments).
    #[arg(long, value_name = "FILE")]
    pub map_file: Option<std::path::PathBuf>,
    /// Say what would move, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let config = args.config.load()?;
    let map = ThreadMap::from_args(&args.map, args.map_file.as_deref())?;
    if args.map.is_empty() && args.map_file.is_none() {
        bail!("nothing to move: give --map OLD=NEW (or --map-file FILE)");
    }
    let comments_dir = config.comments_dir();
    let store = Store::load(&comments_dir, &config.form)?;
    let moves = relocate::plan(&comments_dir, &store, &map)?;
    if moves.is_empty() {
        println!("no thread with comments matches; nothing changed");
        return Ok(ExitCode::SUCCESS);
    }
    let verb = if args.dry_run { "would move" } else { "moved" };
    let summary = relocate::summary(&moves);
    for ((from, to), n) in &summary {
        println!(
            "{verb} {}: {from} -> {to}",
            plural(*n, "comment", "comments")
        );
    }
    // `comments.closed` names paths: a closed page that moves opens unless it names
    // the new one too, which is the owner's to write.
    for (from, to) in summary.keys() {
        if config.comments.is_closed(from) && !config.comments.is_closed(to) {
            eprintln!(
                "note: `comments.closed` in {} closes {from} but not {to}, where its comments \
                 went: add \"{to}\" to it to keep the page closed",
                shown(&config.file)
            );
        }
    }
    if args.dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    let dir = shown(&comments_dir);
    match relocate::apply(&comments_dir, &moves)? {
        Some(commit) => println!(
            "committed {commit}: {} moved in {dir}",
            plural(moves.len(), "comment", "comments")
        ),
        None => println!("{dir} is not in a git repository, so nothing was committed"),
    }
    if config.moderated() {
        println!(
            "Comments still waiting for moderation keep their old thread: once they are \
             approved, run this again (it moves only what is left)."
        );
    }
    Ok(ExitCode::SUCCESS)
}
