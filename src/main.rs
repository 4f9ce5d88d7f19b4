//! The `cairn` command line: parses arguments and hands each command to the library.

use std::process::ExitCode;

use cairn::cmd;

// mimalloc: a render allocates and frees millions of small strings across threads;
// with it a million-comment render takes a tenth less time and memory than with
// the system allocator (measured with bench/render.sh). Without transparent huge pages
// (its `no_thp` feature): each would keep 2 MB resident where a few KB are in use, and
// the inbox's peak RSS would be 8 MB larger, for no gain in render time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cairn",
    version,
    about = "Comments for static sites, rendered at build time"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Set a site repository up: cairn.toml, comments dir, template snippet, CI workflow.
    Init(cmd::init::Args),
    /// Try the whole pipeline on this machine: example site, inbox, moderation.
    Demo(cmd::demo::Args),
    /// Inject comments, stylesheet and feeds into a built site.
    Render(cmd::render::Args),
    /// Validate every comment file (exit 1 when problems are found).
    Check(cmd::check::Args),
    /// Run the inbox: accept new comments and deliver them for moderation.
    Inbox(cmd::inbox::Args),
    /// List, show, approve or reject pending comments.
    Moderate(cmd::moderate::Args),
    /// Bring comments over from Isso, Disqus, WordPress, Blogger, Staticman, utterances,
    /// Gitalk, giscus, Remark42, Waline, Commento, Cusdis, Twikoo or Valine.
    Import(cmd::import::Args),
    /// Write every comment to stdout as one JSON document (or a WordPress export).
    Export(cmd::export::Args),
    /// Erase comments by id, author, avatar key or e-mail, in one commit.
    Forget(cmd::forget::Args),
    /// Move the comments of pages whose URLs changed to their new paths, in one commit.
    Move(cmd::relocate::Args),
    /// Print the avatar key of e-mail addresses (for comments.owners).
    Avatar(cmd::avatar::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if prints_and_stays_local(&cli.command) {
        // Like `cat`, end quietly when the reader of the output goes away
        // (`cairn export | head`) instead of failing on a closed pipe. Commands that
        // talk to a remote keep SIGPIPE ignored, as Rust sets it: libgit2's sockets
        // rely on that.
        // SAFETY: at the start of main, before any thread is spawned.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let result = match &cli.command {
        Command::Init(args) => cmd::init::run(args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Render(args) => cmd::render::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Inbox(args) => cmd::inbox::run(args),
        Command::Moderate(args) => cmd::moderate::run(args),
        Command::Import(args) => cmd::import::run(args),
        Command::Export(args) => cmd::export::run(args),
        Command::Forget(args) => cmd::forget::run(args),
        Command::Move(args) => cmd::relocate::run(args),
        Command::Avatar(args) => cmd::avatar::run(args),
    };
    result.unwrap_or_else(|e| {
        eprintln!("cairn: error: {e:#}");
        ExitCode::from(cmd::EXIT_USAGE)
    })
}

/// Commands that print and read or write only local files.
fn prints_and_stays_local(command: &Command) -> bool {
    matches!(
        command,
        Command::Init(_)
            | Command::Check(_)
            | Command::Import(_)
            | Command::Export(_)
            | Command::Forget(_)
            | Command::Move(_)
            | Command::Avatar(_)
    ) || matches!(command, Command::Render(args) if args.serve.is_none())
}
