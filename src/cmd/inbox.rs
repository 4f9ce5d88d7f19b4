//! `cairn inbox`: runs the service that accepts new comments and delivers them.

use std::process::ExitCode;

use anyhow::{Context, Result};
use sd_notify::NotifyState;

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
    /// Ask what the inbox depends on whether it answers: its secret, its spool, the
    /// site's repository, the mail server and the webhook (exit 1 when one does not).
    Check {
        #[command(flatten)]
        config: ConfigArg,
        /// Check the sites one inbox serves: NAME=CONFIG, once per site, as given to
        /// `cairn inbox --site` (instead of --config).
        #[arg(long = "site", value_name = "NAME=CONFIG", conflicts_with = "config")]
        sites: Vec<String>,
        /// Also mail a test notice to the moderators and post one to the webhook.
        #[arg(long)]
        send: bool,
    },
}

pub fn run(args: &Args) -> Result<ExitCode> {
    match &args.command {
        Some(Command::Forget { email, config }) => return forget(email, config),
        Some(Command::Check {
            config,
            sites,
            send,
        }) => return check(config, sites, *send),
        None => {}
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
        let listener = listener(&listen, args.listen.is_some()).await?;
        ready(&listener, vec![inbox.clone()])?;
        crate::inbox::serve(listener, inbox, shutdown()).await?;
        tracing::info!("cairn inbox stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// The socket to serve: the one systemd passes when it starts the inbox for its socket
/// unit (socket activation: docs/deploy/cairn-inbox.socket), else `listen`, bound now.
/// `explicit`: `listen` came from `--listen`, so passing it over is worth a warning.
async fn listener(listen: &str, explicit: bool) -> Result<tokio::net::TcpListener> {
    let mut passed =
        sd_notify::listen_fds().context("cannot take the socket systemd passed (LISTEN_FDS)")?;
    let listener = match (passed.next(), passed.len()) {
        (None, _) => tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?,
        (Some(fd), 0) => {
            if explicit {
                tracing::warn!(
                    "--listen {listen} is not used: systemd passed the socket to listen on"
                );
            }
            tracing::info!("serving the socket systemd passed (socket activation)");
            passed_listener(fd)?
        }
        (Some(_), more) => anyhow::bail!(
            "systemd passed {} sockets (LISTEN_FDS); the inbox listens on one: give its \
             socket unit a single ListenStream",
            more + 1
        ),
    };
    Ok(listener)
}

/// What a socket unit for the inbox must say, when what systemd passed is not that.
const ONE_TCP_SOCKET: &str = "the inbox's socket unit takes ListenStream=ADDRESS:PORT";

/// The listening TCP socket systemd passed as `fd`.
fn passed_listener(fd: std::os::fd::RawFd) -> Result<tokio::net::TcpListener> {
    use std::os::fd::FromRawFd;
    // SAFETY: systemd passed this descriptor to this process (LISTEN_PID), open, for it
    // to own; nothing else here takes it.
    let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
    if !rustix::net::sockopt::socket_acceptconn(&fd).unwrap_or(false) {
        anyhow::bail!(
            "the file systemd passed (LISTEN_FDS) is no listening socket: {ONE_TCP_SOCKET}"
        );
    }
    let listener = std::net::TcpListener::from(fd);
    if listener.local_addr().is_err() {
        anyhow::bail!("the socket systemd passed (LISTEN_FDS) is no TCP socket: {ONE_TCP_SOCKET}");
    }
    listener.set_nonblocking(true)?;
    Ok(tokio::net::TcpListener::from_std(listener)?)
}

/// Once the inbox listens on `listener`: reloads `inboxes` on SIGHUP from then on, and
/// says that it listens, in the log and to systemd when it runs the inbox as a
/// `Type=notify` service (not before the handler is in place: whoever reads either may
/// send SIGHUP at once, and the signal's default would end the process).
fn ready(listener: &tokio::net::TcpListener, inboxes: Vec<std::sync::Arc<Inbox>>) -> Result<()> {
    let status = format!("listening on http://{}", listener.local_addr()?);
    keep_watchdog_fed(inboxes.clone());
    reload_on_hangup(inboxes, status.clone());
    tracing::info!("cairn inbox {status}");
    tell_systemd(&[NotifyState::Ready, NotifyState::Status(&status)]);
    Ok(())
}

/// When systemd watches the inbox (`WatchdogSec=` in its unit), tells it twice per
/// interval that the inbox is well: its runtime runs this, and each spool's writer
/// comes to a question put to it. A writer stuck on a disk that hangs stops the
/// messages, and systemd restarts the service as the unit says.
fn keep_watchdog_fed(inboxes: Vec<std::sync::Arc<Inbox>>) {
    let Some(interval) = sd_notify::watchdog_enabled() else {
        return;
    };
    let every = interval / 2;
    tracing::info!("systemd's watchdog is told every {} ms", every.as_millis());
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let mut stuck = 0;
            for inbox in &inboxes {
                if !matches!(
                    tokio::time::timeout(every, inbox.spool.answers()).await,
                    Ok(Ok(()))
                ) {
                    stuck += 1;
                }
            }
            if stuck == 0 {
                tell_systemd(&[NotifyState::Watchdog]);
            } else {
                tracing::error!(
                    "{stuck} spool writer(s) did not answer within {} ms: systemd's \
                     watchdog is not told the inbox is well",
                    every.as_millis()
                );
            }
        }
    });
}

/// Completes on Ctrl-C or SIGTERM, once systemd is told the inbox is stopping.
async fn shutdown() {
    super::shutdown_signal().await;
    tell_systemd(&[NotifyState::Stopping]);
}

/// Sends `states` to systemd when it runs the inbox (`NOTIFY_SOCKET`); nothing
/// otherwise. A message that cannot be sent is logged: the inbox serves all the same.
fn tell_systemd(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!("cannot notify systemd: {e}");
    }
}

/// Reloads each inbox's config on SIGHUP (`systemctl reload`, `kill -HUP`): see
/// [`Inbox::reload`]. systemd hears when a reload begins and ends, and the service's
/// status (`systemctl status`) says when one failed, as the reload itself cannot.
fn reload_on_hangup(inboxes: Vec<std::sync::Arc<Inbox>>, status: String) {
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
                match NotifyState::monotonic_usec_now() {
                    Ok(now) => tell_systemd(&[NotifyState::Reloading, now]),
                    Err(e) => tracing::warn!("cannot notify systemd: {e}"),
                }
                // Every inbox reloads, whatever the others' outcome.
                let failed = inboxes
                    .iter()
                    .filter(|inbox| !inbox.reload_and_say())
                    .count();
                let now = if failed == 0 {
                    format!("{status}; config reloaded")
                } else {
                    format!(
                        "{status}; the last reload failed, the rules in force stay (see the log)"
                    )
                };
                tell_systemd(&[NotifyState::Ready, NotifyState::Status(&now)]);
            }
        });
    }
    #[cfg(not(unix))]
    drop((inboxes, status));
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

fn check(config: &ConfigArg, sites: &[String], send: bool) -> Result<ExitCode> {
    let sites = if sites.is_empty() {
        vec![(None, config.load()?)]
    } else {
        site_configs(sites)?
            .into_iter()
            .map(|(name, config)| (Some(name), config))
            .collect()
    };
    let mut failed = 0;
    for (name, config) in &sites {
        if let Some(name) = name {
            println!("site {name} ({})", config.file.display());
        }
        for finding in crate::inbox::check::check(config, name.as_deref(), send) {
            match finding.outcome {
                Ok(line) => println!("{:<11} {line}", finding.part),
                Err(e) => {
                    failed += 1;
                    println!("{:<11} FAILED: {e:#}", finding.part);
                }
            }
        }
    }
    if failed == 0 {
        println!("everything the inbox needs answers");
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}", super::plural(failed, "part failed", "parts failed"));
    Ok(ExitCode::from(super::EXIT_PROBLEMS))
}

/// The configs of `--site NAME=CONFIG ...`: names well formed and given once, each
/// site with a spool of its own.
fn site_configs(specs: &[String]) -> Result<Vec<(String, crate::config::Config)>> {
    let cwd = std::env::current_dir()?;
    let mut configs: Vec<(String, crate::config::Config)> = Vec::new();
    for spec in specs {
        let (name, path) = spec
            .split_once('=')
            .with_context(|| format!("--site {spec}: expected NAME=CONFIG"))?;
        crate::inbox::sites::check_name(name)?;
        if configs.iter().any(|(n, _)| n == name) {
            anyhow::bail!("--site {name} is given twice");
        }
        let config = crate::config::Config::load(Some(std::path::Path::new(path)), &cwd)
            .with_context(|| format!("site {name}"))?;
        if let Some((other, _)) = configs
            .iter()
            .find(|(_, c)| c.spool_dir() == config.spool_dir())
        {
            anyhow::bail!(
                "sites {other} and {name} share the spool {}: give each its own inbox.spool",
                config.spool_dir().display()
            );
        }
        configs.push((name.to_string(), config));
    }
    Ok(configs)
}

fn run_sites(args: &Args) -> Result<ExitCode> {
    use std::sync::Arc;
    let configs = site_configs(&args.sites)?;
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
        let names: Vec<String> = sites.iter().map(|(n, _)| n.clone()).collect();
        let app =
            crate::inbox::sites::router(Arc::new(crate::inbox::sites::Sites { sites, registered }));
        tracing::info!("serving the sites {}", names.join(", "));
        let listener = listener(&listen, args.listen.is_some()).await?;
        ready(&listener, inboxes.clone())?;
        crate::inbox::serve_all(listener, inboxes, app, shutdown()).await?;
        tracing::info!("cairn inbox stopped");
        Ok(ExitCode::SUCCESS)
    })
}
