//! `cairn avatar`: the avatar key an e-mail address becomes, as the inbox and the
//! importers compute it, for `comments.owners` (the site's own people, whose comments
//! are marked) or `cairn forget --avatar`.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use super::{owners_addition, plural, ConfigArg};
use crate::secret::Secret;
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArg,
    /// E-mail addresses, each printed as its avatar key, one a line.
    #[arg(required = true, value_name = "ADDRESS")]
    pub email: Vec<String>,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let config = args.config.load()?;
    for email in &args.email {
        if !crate::inbox::guard::looks_like_email(email.trim()) {
            bail!("`{email}` is not an e-mail address");
        }
    }
    let secret = Secret::load(config.inbox.secret_file.as_deref(), &config.root)
        .context("an avatar key is computed with the inbox's secret")?;
    let store = Store::load(&config.comments_dir(), &config.form)?;
    let mut keys = Vec::new();
    for email in &args.email {
        let key = secret.avatar_key(email);
        let carried = store.by_avatar(&key).count();
        println!("{key}");
        eprintln!(
            "{}: {} it{}",
            email.trim(),
            plural(carried, "comment carries", "comments carry"),
            if config.comments.is_owner(Some(&key)) {
                "; comments.owners lists it"
            } else {
                ""
            }
        );
        keys.push(key);
    }
    if let Some(addition) = owners_addition(&config, &keys) {
        eprintln!("to mark their comments as the author's, {addition}");
    }
    Ok(ExitCode::SUCCESS)
}
