//! `cairn inbox`: runs the service that accepts new comments and delivers them.

use std::process::ExitCode;

use anyhow::{Context, Result};

use super::ConfigArg;
use crate::inbox::Inbox;
use crate::secret::Secret;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: ConfigArg,
    /// Address to listen on (default: inbox.listen from the config).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Serve several sites: NAME=CONFIG, once per site (instead of --config). Site
    /// NAME answers under /sites/NAME/; each needs its own secret (CAIRN_SECRET_NAME or
    /// inbox.secret_file) and spool.
    #[arg(long = "site", value_name = "NAME=CONFIG", conflicts_with = "config")]
    pub sites: Vec<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Erase a reader's e-mail address from the inbox's private store: every reply
    /// subscription it has (the repository never holds addresses).
    Forget {
        email: String,
        #[command(flatten)]
        config: ConfigArg,
    },
}

pub fn run(args: &Args) -> Result<ExitCode> {
    if let Some(Command::Forget { email, config }) = &args.command {
        return forget(email, config);
    }
    super::init_logging();
    // Before the first connection, and before the service says it listens.
    crate::inbox::http::raise_open_files_limit();
    if !args.sites.is_empty() {
        return run_sites(args);
    }
    let config = args.config.load()?;
    let secret = Secret::load(config.inbox.secret_file.as_deref(), &config.root)?;
    let listen = args
        .listen
        .clone()
        .unwrap_or_else(|| config.inbox.listen.clone());
    crate::deliver::git::tune_for_service();
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        let backend = crate::deliver::open(&config, &config.spool_dir())?;
        let inbox = Inbox::new(config, secret, backend)?;
        reload_on_hangup(vec![inbox.clone()]);
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        tracing::info!("cairn inbox listening on http://{}", listener.local_addr()?);
        crate::inbox::serve(listener, inbox, super::shutdown_signal()).await?;
        tracing::info!("cairn inbox stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// Reloads each inbox's config on SIGHUP (`systemctl reload`, `kill -HUP`): see
/// [`Inbox::reload`].
fn reload_on_hangup(inboxes: Vec<std::sync::Arc<Inbox>>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(hangups) => hangups,
            Err(e) => {
                tracing::warn!("no reloading on SIGHUP: {e}");
                return;
            }
        };
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                for inbox in &inboxes {
                    inbox.reload_and_say();
                }
            }
        });
    }
    #[cfg(not(unix))]
    drop(inboxes);
}

fn forget(email: &str, config: &ConfigArg) -> Result<ExitCode> {
    let config = config.load()?;
    let path = config.spool_dir().join("private.db");
    if !path.exists() {
        println!(
            "no addresses are kept here ({} does not exist)",
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let erased = crate::inbox::private::Private::open(&path)?.forget(email)?;
    println!(
        "erased {} of {}",
        super::plural(erased, "subscription", "subscriptions"),
        crate::inbox::private::normalize(email)
    );
    Ok(ExitCode::SUCCESS)
}

fn run_sites(args: &Args) -> Result<ExitCode> {
    use std::sync::Arc;
    let cwd = std::env::current_dir()?;
    let mut configs = Vec::new();
    for spec in &args.sites {
        let (name, path) = spec
            .split_once('=')
            .with_context(|| format!("--site {spec}: expected NAME=CONFIG"))?;
        crate::inbox::sites::check_name(name)?;
        if configs
            .iter()
            .any(|(n, _): &(String, crate::config::Config)| n == name)
        {
            anyhow::bail!("--site {name} is given twice");
        }
        let config = crate::config::Config::load(Some(std::path::Path::new(path)), &cwd)
            .with_context(|| format!("site {name}"))?;
        if let Some((other, _)) = configs
            .iter()
            .find(|(_, c): &&(String, crate::config::Config)| c.spool_dir() == config.spool_dir())
        {
            anyhow::bail!(
                "sites {other} and {name} share the spool {}: give each its own inbox.spool",
                config.spool_dir().display()
            );
        }
        configs.push((name.to_string(), config));
    }
    let listen = args
        .listen
        .clone()
        .unwrap_or_else(|| configs[0].1.inbox.listen.clone());
    crate::deliver::git::tune_for_service();
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        let registered = Arc::new(crate::inbox::metrics::Registered::default());
        let mut sites = Vec::new();
        for (name, config) in configs {
            let secret =
                Secret::load_for_site(&name, config.inbox.secret_file.as_deref(), &config.root)?;
            let backend = crate::deliver::open(&config, &config.spool_dir())
                .with_context(|| format!("site {name}"))?;
            let metrics =
                crate::inbox::metrics::Metrics::for_site(registered.clone(), name.clone());
            let inbox = Inbox::with_metrics(config, secret, backend, metrics)
                .with_context(|| format!("site {name}"))?;
            sites.push((name, inbox));
        }
        let inboxes: Vec<_> = sites.iter().map(|(_, i)| i.clone()).collect();
        reload_on_hangup(inboxes.clone());
        let names: Vec<String> = sites.iter().map(|(n, _)| n.clone()).collect();
        let app =
            crate::inbox::sites::router(Arc::new(crate::inbox::sites::Sites { sites, registered }));
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        tracing::info!("serving the sites {}", names.join(", "));
        tracing::info!("cairn inbox listening on http://{}", listener.local_addr()?);
        crate::inbox::serve_all(listener, inboxes, app, super::shutdown_signal()).await?;
        tracing::info!("cairn inbox stopped");
        Ok(ExitCode::SUCCESS)
    })
}
