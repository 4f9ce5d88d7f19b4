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
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        tracing::info!("cairn inbox listening on http://{}", listener.local_addr()?);
        crate::inbox::serve(listener, inbox, super::shutdown_signal()).await?;
        tracing::info!("cairn inbox stopped");
        Ok(ExitCode::SUCCESS)
    })
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
