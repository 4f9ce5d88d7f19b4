//! `cairn inbox`: runs the service that accepts new comments and delivers them.

use std::process::ExitCode;

use anyhow::{Context, Result};

use super::ConfigArg;
use crate::inbox::Inbox;
use crate::secret::Secret;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Address to listen on (default: inbox.listen from the config).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

pub fn run(args: &Args) -> Result<ExitCode> {
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
