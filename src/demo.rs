//! `cairn demo`: the whole pipeline on one machine, in a throwaway workspace. The
//! example site lives in a bare git repository; the inbox runs on 127.0.0.1 and
//! delivers to it; a small static server shows the rendered site; and whenever the
//! site branch changes (an approval), the site is rendered again, as CI would, and
//! the pages open in the browser reload themselves.
//!
//! The static server exists for the demo only: real sites are served by their host.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use git2::{build::TreeUpdateBuilder, FileMode, Oid, Repository, ResetType, Signature};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::inbox::Inbox;
use crate::reload::Reload;
use crate::secret::Secret;
use crate::store::Index;

/// The page the demo invites the reader to comment on.
pub const PAGE: &str = "/posts/a-quiet-post/";

/// Where everything lives, and the addresses it is served on.
pub struct Workspace {
    pub dir: PathBuf,
    pub site_url: String,
    pub inbox_url: String,
    /// The config the demo's inbox and `cairn moderate` use.
    pub config: PathBuf,
}

/// A prepared demo, ready to run.
pub struct Demo {
    pub workspace: Arc<Workspace>,
    site_listener: TcpListener,
    inbox_listener: TcpListener,
}

impl Demo {
    /// Builds the workspace in `workspace` from the example site in `example`: the
    /// site repository, a checkout of it, and the rendered site.
    pub async fn prepare(example: &Path, workspace: &Path) -> Result<Demo> {
        anyhow::ensure!(
            example.join("prebuilt").is_dir() && example.join("comments").is_dir(),
            "{} is not cairn's example site (run the demo from the cairn repository, or pass --example DIR)",
            example.display()
        );
        let site_listener = TcpListener::bind("127.0.0.1:0").await?;
        let inbox_listener = TcpListener::bind("127.0.0.1:0").await?;
        let site_url = format!("http://{}", site_listener.local_addr()?);
        let inbox_url = format!("http://{}", inbox_listener.local_addr()?);
        let config_text = format!(
            r#"# cairn demo: the example site, with its inbox on this machine.
[site]
url = "{site_url}/"
[comments]
dir = "comments"
max_depth = 3
[form]
required = ["author", "body"]
[inbox]
url = "{inbox_url}"
spool = "../spool"
[inbox.delivery]
remote = "../site.git"
mode = "review"
"#
        );
        let remote = workspace.join("site.git");
        publish_example(example, &remote, &config_text)?;
        let checkout = workspace.join("site");
        git2::build::RepoBuilder::new()
            .clone(&remote.to_string_lossy(), &checkout)
            .context("cannot check out the demo site")?;
        let workspace = Workspace {
            dir: workspace.to_path_buf(),
            site_url,
            inbox_url,
            config: checkout.join("cairn.toml"),
        };
        workspace.render()?;
        Ok(Demo {
            workspace: Arc::new(workspace),
            site_listener,
            inbox_listener,
        })
    }

    /// Runs the inbox, the static server and the re-render loop until `shutdown`.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let config = Config::from_file(&self.workspace.config)?;
        let backend = crate::deliver::open(&config, &config.spool_dir())?;
        let inbox = Inbox::new(config, Secret::random(), backend)?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let reload = Reload::default();
        let site = reload.around(crate::site::serve::files(&self.workspace.public()));
        let mut site_stop = stopped.clone();
        let site_server = axum::serve(
            self.site_listener,
            site.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = site_stop.changed().await;
        });
        let mut inbox_stop = stopped.clone();
        let inbox_server = crate::inbox::serve(self.inbox_listener, inbox, async move {
            let _ = inbox_stop.changed().await;
        });
        let demo = self.workspace.clone();
        let rendered = reload.clone();
        let mut watch_stop = stopped.clone();
        let watcher = tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = watch_stop.changed() => break,
                }
                let demo = demo.clone();
                let outcome = tokio::task::spawn_blocking(move || -> Result<Option<usize>> {
                    if demo.pull()? {
                        Ok(Some(demo.render()?))
                    } else {
                        Ok(None)
                    }
                })
                .await;
                match outcome {
                    Ok(Ok(Some(n))) => {
                        rendered.rendered();
                        tracing::info!(
                            "the site branch changed: rendered again, {n} comments on the site"
                        );
                    }
                    Ok(Ok(None)) => {}
                    Ok(Err(e)) => tracing::warn!("cannot render the demo site: {e:#}"),
                    Err(e) => tracing::warn!("the render task failed: {e}"),
                }
            }
        });
        tokio::spawn(async move {
            shutdown.await;
            // Open pages' questions are answered, so the site server stops at once.
            reload.stop();
            let _ = stop.send(true);
        });
        let (site_result, inbox_result) = tokio::join!(site_server, inbox_server);
        let _ = watcher.await;
        site_result.context("the demo's site server failed")?;
        inbox_result
    }
}

impl Workspace {
    fn public(&self) -> PathBuf {
        self.dir.join("public")
    }

    /// What the site's CI does on every change: take the site branch, build (here:
    /// the prebuilt pages), `cairn render`.
    fn render(&self) -> Result<usize> {
        let checkout = self.dir.join("site");
        let config = Config::from_file(&self.config)?;
        let index = Index::scan(&config.comments_dir(), &config.form)?;
        crate::site::copy(&checkout.join("prebuilt"), &self.public())?;
        let report = crate::site::render(&config, &index, &self.public(), &|_| {})?;
        Ok(report.comments_rendered)
    }

    /// Updates the checkout to the site branch; says whether it moved.
    fn pull(&self) -> Result<bool> {
        let repo = Repository::open(self.dir.join("site"))?;
        let before = repo.head()?.peel_to_commit()?.id();
        repo.find_remote("origin")?.fetch(
            &["+refs/heads/main:refs/remotes/origin/main"],
            None,
            None,
        )?;
        let tip = repo
            .find_reference("refs/remotes/origin/main")?
            .peel_to_commit()?;
        if tip.id() == before {
            return Ok(false);
        }
        repo.reset(tip.as_object(), ResetType::Hard, None)?;
        Ok(true)
    }
}

/// Commits the example site (its comments, its prebuilt pages and the demo's config)
/// as `main` of a new bare repository.
fn publish_example(example: &Path, remote: &Path, config: &str) -> Result<Oid> {
    let repo = Repository::init_bare(remote)
        .with_context(|| format!("cannot create {}", remote.display()))?;
    let mut update = TreeUpdateBuilder::new();
    for dir in ["comments", "prebuilt"] {
        for entry in walkdir::WalkDir::new(example.join(dir)) {
            let entry = entry?;
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = entry.path().strip_prefix(example)?;
            let path = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let blob = repo.blob(&std::fs::read(entry.path())?)?;
            update.upsert(path, blob, FileMode::Blob);
        }
    }
    update.upsert("cairn.toml", repo.blob(config.as_bytes())?, FileMode::Blob);
    let empty = repo.find_tree(repo.treebuilder(None)?.write()?)?;
    let tree = repo.find_tree(update.create_updated(&repo, &empty)?)?;
    let sig = Signature::now("cairn demo", "demo@localhost")?;
    let commit = repo.commit(
        Some("refs/heads/main"),
        &sig,
        &sig,
        "The example site",
        &tree,
        &[],
    )?;
    repo.set_head("refs/heads/main")?;
    Ok(commit)
}
