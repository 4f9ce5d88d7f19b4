//! `cairn inbox check`: asks what the inbox depends on (its secret, its spool, the
//! site's repository, the mail server, the webhook) whether it answers, so a wrong
//! credential shows when the inbox is set up, not when a comment or a notice waits on it.

use std::path::Path;

use anyhow::{bail, Context, Result};

use super::spool::{self, State};
use crate::config::{Backend as Kind, Config};
use crate::secret::Secret;

/// What one part answered: a line to show, or why it failed.
pub struct Finding {
    pub part: &'static str,
    pub outcome: Result<String>,
}

/// Asks every part the config uses, in the order a comment meets them; `site` names
/// the site when one inbox serves several (its secret is its own). With `send`, the
/// mail server and the webhook also get a test notice.
pub fn check(config: &Config, site: Option<&str>, send: bool) -> Vec<Finding> {
    let mut found = vec![
        Finding {
            part: "secret",
            outcome: secret(config, site),
        },
        Finding {
            part: "spool",
            outcome: spool(&config.spool_dir()),
        },
        Finding {
            part: "repository",
            outcome: repository(config),
        },
    ];
    if let Some(outcome) = super::notify::check_mail(config, send) {
        found.push(Finding {
            part: "mail",
            outcome,
        });
    }
    if let Some(outcome) = super::notify::check_webhook(config, send) {
        found.push(Finding {
            part: "webhook",
            outcome,
        });
    }
    found
}

fn secret(config: &Config, site: Option<&str>) -> Result<String> {
    let (_, source) = Secret::located(site, config.inbox.secret_file.as_deref(), &config.root)?;
    Ok(source)
}

/// The spool takes files, and holds no comment it gave up on.
fn spool(dir: &Path) -> Result<String> {
    if !dir.exists() {
        let parent = dir
            .ancestors()
            .find(|d| d.is_dir())
            .context("no directory to make it in")?;
        writable(parent)?;
        return Ok(format!(
            "{}: not there yet; the inbox can make it",
            dir.display()
        ));
    }
    writable(dir)?;
    let items = spool::load(dir)?;
    let count = |state| items.iter().filter(|l| l.entry.state == state).count();
    let parked = count(State::Failed);
    if parked > 0 {
        bail!(
            "{}: {parked} comment(s) parked, not delivered: `cairn moderate list` says why \
             (restarting the inbox once the cause is fixed delivers them)",
            dir.display()
        );
    }
    Ok(format!(
        "{}: writable; {} waiting for delivery",
        dir.display(),
        count(State::Queued) + count(State::Delivering)
    ))
}

fn writable(dir: &Path) -> Result<()> {
    tempfile::NamedTempFile::new_in(dir)
        .map(drop)
        .with_context(|| format!("cannot write in {}", dir.display()))
}

/// The site's repository (or forge) answers, with the credentials the inbox has.
fn repository(config: &Config) -> Result<String> {
    let delivery = &config.inbox.delivery;
    let name = match delivery.backend {
        Kind::Git => delivery
            .remote
            .as_deref()
            .map(super::notify::without_password),
        _ => delivery.repo.clone(),
    }
    .unwrap_or_default();
    let pending = crate::deliver::open(config, &config.spool_dir())
        .and_then(|backend| backend.pending())
        .with_context(|| format!("{name} does not answer"))?;
    Ok(format!("{name}: answers; {} pending review", pending.len()))
}
