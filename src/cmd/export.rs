//! `cairn export`: writes every comment of the site to stdout as one JSON document, or
//! as a WordPress export (see [`crate::export`] and the README for their shapes).

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::{print_problems, ConfigArg, EXIT_PROBLEMS};
use crate::export;
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Fail (exit 1, nothing written) when a comment file has a problem, instead of
    /// exporting the others and listing the problems on stderr.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    /// WordPress's export format (WXR), which WordPress and Disqus import.
    Wxr,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let config = args.config.load()?;
    let store = Store::load(&config.comments_dir(), &config.form)?;
    print_problems(&store.problems);
    if args.strict && store.fails(true) {
        return Ok(ExitCode::from(EXIT_PROBLEMS));
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &export::document(&config, &store))
                .context("cannot write the export")?;
            writeln!(out).context("cannot write the export")?;
        }
        Format::Wxr => out
            .write_all(export::wxr(&config, &store).as_bytes())
            .context("cannot write the export")?,
    }
    out.flush().context("cannot write the export")?;
    Ok(ExitCode::SUCCESS)
}
