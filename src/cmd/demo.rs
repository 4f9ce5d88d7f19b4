//! `cairn demo`: shows the whole pipeline on this machine with the example site.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::demo::{Demo, PAGE};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep the workspace in this directory instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The example site to use.
    #[arg(long, value_name = "DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/example-site"))]
    pub example: PathBuf,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    super::init_logging();
    let temp;
    let workspace = match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            anyhow::ensure!(
                std::fs::read_dir(dir)?.next().is_none(),
                "{} is not empty; the demo needs an empty directory",
                dir.display()
            );
            dir.canonicalize()?
        }
        None => {
            temp = tempfile::Builder::new().prefix("cairn-demo-").tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let demo = Demo::prepare(&args.example, &workspace).await?;
        let ws = &demo.workspace;
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "cairn".into());
        let config = ws.config.display();
        println!(
            "\ncairn demo: the example site, its git repository and the inbox, all on this machine.\n\
             workspace: {}\n\n\
             1. Open {}{PAGE} and leave a comment (JavaScript is not needed).\n\
             2. It waits on its own branch of the site repository ({}/site.git):\n\
             \x20     {exe} moderate list --config {config}\n\
             3. Approve it (or reject it):\n\
             \x20     {exe} moderate approve ID --config {config}\n\
             4. The page shows it by itself: the demo renders the site again whenever the\n\
             \x20  site branch changes, as your CI would after `git push`, and the pages\n\
             \x20  open in your browser reload.\n\n\
             Press Ctrl-C to stop.{}\n",
            ws.dir.display(),
            ws.site_url,
            ws.dir.display(),
            if args.dir.is_none() { " The workspace is deleted (--dir DIR keeps it)." } else { "" },
        );
        tracing::info!("site on {}, inbox on {}", ws.site_url, ws.inbox_url);
        demo.run(super::shutdown_signal()).await
    })?;
    Ok(ExitCode::SUCCESS)
}
