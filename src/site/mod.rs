//! Injecting comments into a built site: walk its HTML files, rewrite only the pages
//! that have a placeholder (streaming, with lol_html), write the stylesheet, the
//! optional script and the Atom feeds next to the site.
//!
//! Placeholders: `id="cairn-comments"` receives the section of the page's thread (or
//! of `data-cairn-thread`); any `data-cairn-count="/path/"` receives that thread's
//! count. The output depends only on the inputs, so a second run over its own output
//! writes the same bytes.

pub mod feed;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lol_html::html_content::ContentType;
use lol_html::{element, text, HtmlRewriter, Settings};
use rayon::prelude::*;

use crate::config::Config;
use crate::render::{Renderer, ASSETS};
use crate::store::{Problem, Severity, Store};
use crate::thread;
use feed::{Entry, Feed};

/// What a run did, for the summary line.
#[derive(Debug, Default)]
pub struct Report {
    pub pages_scanned: usize,
    /// Pages whose bytes changed.
    pub pages_written: usize,
    /// Comments sections filled in.
    pub sections: usize,
    /// Comments shown in those sections.
    pub comments_rendered: usize,
    pub feeds_written: usize,
    /// Threads that have comments but no page showing them.
    pub unpaged_threads: Vec<String>,
    /// Pages that could not be processed, or with a placeholder naming a bad thread.
    pub problems: Vec<Problem>,
}

/// Renders every page of the built site in `site_dir`. `progress` is told of each page.
pub fn render(
    config: &Config,
    store: &Store,
    site_dir: &Path,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Report> {
    anyhow::ensure!(
        site_dir.is_dir(),
        "site directory {} does not exist",
        site_dir.display()
    );
    let renderer = Renderer::new(config)?;
    let pages = html_files(site_dir)?;
    let base = config.base_path();
    let total = pages.len() as u64;
    let done = std::sync::atomic::AtomicU64::new(0);
    let outcomes: Vec<Result<Page, Problem>> = pages
        .par_iter()
        .map(|rel| {
            let outcome = render_page(config, store, &renderer, site_dir, &base, rel);
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            progress(n, total);
            outcome
        })
        .collect();

    let mut report = Report {
        pages_scanned: pages.len(),
        ..Report::default()
    };
    let mut titles: BTreeMap<String, String> = BTreeMap::new();
    for outcome in outcomes {
        match outcome {
            Err(problem) => report.problems.push(problem),
            Ok(page) => {
                report.pages_written += usize::from(page.written);
                report.feeds_written += usize::from(page.feed_written);
                report.problems.extend(page.problems);
                for (thread, title, count) in page.sections {
                    report.sections += 1;
                    report.comments_rendered += count;
                    titles.entry(thread).or_insert(title);
                }
            }
        }
    }
    report.unpaged_threads = store
        .threads
        .keys()
        .filter(|t| !titles.contains_key(*t))
        .cloned()
        .collect();

    if report.sections > 0 {
        for (name, _) in ASSETS {
            write_if_changed(&site_dir.join(name), renderer.asset(name)?.as_bytes())?;
        }
    }
    if config.feeds.enabled {
        let feed = site_feed(config, store, &renderer, &titles);
        if write_if_changed(&site_dir.join(&config.feeds.file), feed.as_bytes())? {
            report.feeds_written += 1;
        }
    }
    report.problems.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(report)
}

/// The site's default output directory: `public/` (Hugo, Zola) or `_site/` (Jekyll, Eleventy).
pub fn default_dir(config: &Config) -> PathBuf {
    if let Some(dir) = &config.site.output {
        return config.root.join(dir);
    }
    let public = config.root.join("public");
    let jekyll = config.root.join("_site");
    if !public.is_dir() && jekyll.is_dir() {
        jekyll
    } else {
        public
    }
}

/// The site's HTML pages, relative to `site_dir`, in path order.
fn html_files(site_dir: &Path) -> Result<Vec<PathBuf>> {
    let pages = crate::walk::tree(site_dir, false, &|_: &Path, files: Vec<PathBuf>| {
        files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "html" || e == "htm"))
            .map(|p| p.strip_prefix(site_dir).map(Path::to_path_buf).unwrap_or(p))
            .collect::<Vec<_>>()
    })?;
    Ok(pages.into_iter().flatten().collect())
}

/// What happened to one page.
struct Page {
    written: bool,
    feed_written: bool,
    /// (thread, page title, comments) for each section filled in.
    sections: Vec<(String, String, usize)>,
    problems: Vec<Problem>,
}

fn render_page(
    config: &Config,
    store: &Store,
    renderer: &Renderer,
    site_dir: &Path,
    base: &str,
    rel: &Path,
) -> Result<Page, Problem> {
    let path = site_dir.join(rel);
    let fail = |message: String| Problem {
        path: path.clone(),
        line: None,
        severity: Severity::Error,
        message,
    };
    let input = std::fs::read(&path).map_err(|e| fail(format!("cannot read page: {e}")))?;
    let mut page = Page {
        written: false,
        feed_written: false,
        sections: Vec::new(),
        problems: Vec::new(),
    };
    // Most pages have no placeholder: skip them without parsing.
    if memchr::memmem::find(&input, b"cairn").is_none() {
        return Ok(page);
    }
    let has_section = memchr::memmem::find(&input, b"cairn-comments").is_some();
    let page_thread =
        thread::of_page(rel).map_err(|e| fail(format!("page path is not a thread: {e}")))?;
    let feed_site_path = feed_path(&page_thread, rel, &config.feeds.file);
    let feed_url = config
        .feeds
        .enabled
        .then(|| config.public_url(&feed_site_path));
    // Relative links to the assets work under any base path, and from file:// too.
    let up = "../".repeat(rel.components().count().saturating_sub(1));
    let head_tags = format!(
        "<link rel=\"stylesheet\" href=\"{up}cairn.css\" data-cairn>\
<script src=\"{up}cairn.js\" defer data-cairn></script>{}",
        feed_url
            .as_deref()
            .map(|u| format!(
                "<link rel=\"alternate\" type=\"application/atom+xml\" href=\"{}\" data-cairn>",
                quick_xml::escape::escape(u)
            ))
            .unwrap_or_default()
    );

    let title = RefCell::new(String::new());
    let rendered = RefCell::new(None::<(String, crate::render::Section)>);
    let problems = RefCell::new(Vec::new());
    let sections = RefCell::new(Vec::new());
    let mut output = Vec::with_capacity(input.len() + 16 * 1024);
    let warn = |message: String| {
        problems.borrow_mut().push(Problem {
            path: path.clone(),
            line: None,
            severity: Severity::Warning,
            message,
        })
    };
    let thread_of = |el: &lol_html::html_content::Element, attr: &str| -> Option<String> {
        match el.get_attribute(attr).filter(|v| !v.trim().is_empty()) {
            None => Some(page_thread.clone()),
            Some(raw) => match thread::normalize(below_base(base, &raw)) {
                Ok(t) => Some(t),
                Err(e) => {
                    warn(format!("{attr}=\"{raw}\": {e}; placeholder left as it was"));
                    None
                }
            },
        }
    };
    let result = {
        let mut rewriter = HtmlRewriter::new(
            Settings {
                element_content_handlers: vec![
                    element!("head [data-cairn]", |el| {
                        el.remove();
                        Ok(())
                    }),
                    element!("head", |el| {
                        if has_section {
                            el.append(&head_tags, ContentType::Html);
                        }
                        Ok(())
                    }),
                    text!("head > title", |t| {
                        title.borrow_mut().push_str(t.as_str());
                        Ok(())
                    }),
                    element!("#cairn-comments", |el| {
                        let Some(t) = thread_of(el, "data-cairn-thread") else {
                            return Ok(());
                        };
                        let comments = store.threads.get(&t);
                        let section = renderer.section(&t, comments, feed_url.as_deref())?;
                        el.set_inner_content(&section.html, ContentType::Html);
                        let page_title = unescape_title(&title.borrow());
                        sections.borrow_mut().push((
                            t.clone(),
                            page_title,
                            comments.map_or(0, |c| c.comments.len()),
                        ));
                        rendered.borrow_mut().get_or_insert((t, section));
                        Ok(())
                    }),
                    element!("[data-cairn-count]", |el| {
                        if let Some(t) = thread_of(el, "data-cairn-count") {
                            el.set_inner_content(
                                &renderer.count_text(store.count(&t)),
                                ContentType::Text,
                            );
                        }
                        Ok(())
                    }),
                ],
                ..Settings::new()
            },
            |chunk: &[u8]| output.extend_from_slice(chunk),
        );
        rewriter.write(&input).and_then(|()| rewriter.end())
    };
    result.map_err(|e| fail(format!("cannot rewrite page: {e}")))?;
    page.problems = problems.into_inner();
    page.sections = sections.into_inner();

    if output != input {
        overwrite(&path, &output, input.len())
            .map_err(|e| fail(format!("cannot write page: {e}")))?;
        page.written = true;
    }
    if let (Some((t, section)), true) = (rendered.into_inner(), config.feeds.enabled) {
        let page_title = page
            .sections
            .first()
            .map(|s| s.1.clone())
            .unwrap_or_default();
        let feed = thread_feed(
            config,
            store,
            renderer,
            &t,
            &page_title,
            &feed_site_path,
            &section.bodies,
        );
        let feed_file = site_dir.join(feed_site_path.trim_start_matches('/'));
        page.feed_written = write_if_changed(&feed_file, feed.to_xml().as_bytes())
            .map_err(|e| fail(format!("{e:#}")))?;
    }
    Ok(page)
}

/// Templates often print a page's path with the site's base path in front
/// (`/blog/posts/a/` under `https://example.org/blog/`); threads are below the base.
/// Only whole segments are taken off: `/blogger/` stays as it is.
fn below_base<'a>(base: &str, path: &'a str) -> &'a str {
    let prefix = base.trim_end_matches('/');
    match path.strip_prefix(prefix) {
        Some(rest) if !prefix.is_empty() && (rest.is_empty() || rest.starts_with('/')) => {
            if rest.is_empty() {
                "/"
            } else {
                rest
            }
        }
        _ => path,
    }
}

/// Where a page's thread feed goes, as a site path: next to the page
/// (`/posts/a/comments.xml` for `/posts/a/index.html`, `/about.comments.xml` for `/about.html`).
fn feed_path(page_thread: &str, rel: &Path, file: &str) -> String {
    if page_thread.ends_with('/') {
        format!("{page_thread}{file}")
    } else {
        let stem = rel.file_stem().unwrap_or_default().to_string_lossy();
        let dir = page_thread.rsplit_once('/').map_or("", |(d, _)| d);
        format!("{dir}/{stem}.{file}")
    }
}

fn thread_feed<'a>(
    config: &Config,
    store: &'a Store,
    renderer: &'a Renderer,
    thread: &str,
    page_title: &str,
    feed_site_path: &str,
    bodies: &'a [String],
) -> Feed<'a> {
    let page_url = config.public_url(thread);
    let page_name = if page_title.is_empty() {
        thread
    } else {
        page_title
    };
    let mut entries: Vec<Entry<'a>> = store
        .threads
        .get(thread)
        .map(|t| {
            t.comments
                .iter()
                .zip(bodies)
                .map(|(c, html)| entry(renderer, c, html, &page_url, page_name))
                .collect()
        })
        .unwrap_or_default();
    newest_first(&mut entries, config.feeds.entries);
    Feed {
        title: renderer
            .strings
            .fill("feed_thread_title", &[("page", page_name)]),
        self_url: config.public_url(feed_site_path),
        alternate: page_url,
        entries,
    }
}

fn site_feed(
    config: &Config,
    store: &Store,
    renderer: &Renderer,
    titles: &BTreeMap<String, String>,
) -> String {
    let mut recent: Vec<&crate::comment::Comment> = store
        .threads
        .values()
        .flat_map(|t| t.comments.iter())
        .collect();
    recent.sort_unstable_by_key(|c| std::cmp::Reverse((c.date, c.id)));
    recent.truncate(config.feeds.entries);
    let bodies: Vec<String> = recent
        .iter()
        .map(|c| crate::render::markdown::to_html(&c.body))
        .collect();
    let entries = recent
        .iter()
        .zip(&bodies)
        .map(|(c, html)| {
            let page_name = titles
                .get(&c.thread)
                .filter(|t| !t.is_empty())
                .unwrap_or(&c.thread);
            entry(renderer, c, html, &config.public_url(&c.thread), page_name)
        })
        .collect();
    let site_name = url::Url::parse(&config.site.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| config.site.url.clone());
    Feed {
        title: renderer
            .strings
            .fill("feed_site_title", &[("site", &site_name)]),
        self_url: config.public_url(&format!("/{}", config.feeds.file)),
        alternate: config.public_url("/"),
        entries,
    }
    .to_xml()
}

fn entry<'a>(
    renderer: &'a Renderer,
    c: &'a crate::comment::Comment,
    html: &'a str,
    page_url: &str,
    page_name: &str,
) -> Entry<'a> {
    let author = renderer.author(c);
    Entry {
        comment: c,
        author,
        title: renderer
            .strings
            .fill("entry_title", &[("author", author), ("page", page_name)]),
        url: format!("{page_url}#c-{}", c.id),
        html,
    }
}

fn newest_first(entries: &mut Vec<Entry<'_>>, limit: usize) {
    entries.sort_by_key(|e| std::cmp::Reverse((e.comment.date, e.comment.id)));
    entries.truncate(limit);
}

/// Page titles arrive as HTML source text; feeds want the characters.
fn unescape_title(raw: &str) -> String {
    let trimmed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    quick_xml::escape::unescape_with(&trimmed, |entity| match entity {
        "amp" | "lt" | "gt" | "quot" | "apos" => {
            quick_xml::escape::resolve_predefined_entity(entity)
        }
        "nbsp" => Some("\u{a0}"),
        "rsquo" => Some("’"),
        "lsquo" => Some("‘"),
        "rdquo" => Some("”"),
        "ldquo" => Some("“"),
        "ndash" => Some("–"),
        "mdash" => Some("—"),
        "hellip" => Some("…"),
        _ => None,
    })
    .map(|s| s.into_owned())
    .unwrap_or(trimmed)
}

/// Copies a built site to `out` (for rendering into a copy, leaving the original as it was).
pub fn copy(src: &Path, out: &Path) -> Result<()> {
    anyhow::ensure!(
        src.is_dir(),
        "site directory {} does not exist",
        src.display()
    );
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.with_context(|| format!("cannot read {}", src.display()))?;
        let target = out.join(entry.path().strip_prefix(src).unwrap_or(entry.path()));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)
                .with_context(|| format!("cannot create {}", target.display()))?;
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &target).with_context(|| {
                format!(
                    "cannot copy {} to {}",
                    entry.path().display(),
                    target.display()
                )
            })?;
        }
    }
    Ok(())
}

/// Writes a file only when its content differs, so unchanged files keep their mtime.
/// One handle both reads the old content and writes the new.
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool> {
    use std::io::Read;
    use std::os::unix::fs::FileExt;
    let cannot = || format!("cannot write {}", path.display());
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(cannot)?;
    // Compare a chunk at a time; stop at the first difference.
    let mut chunk = [0u8; 16 * 1024];
    let mut same = 0;
    let old_len = loop {
        let n = match file.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).with_context(cannot),
        };
        if n == 0 {
            break Some(same);
        }
        if bytes.get(same..same + n) != Some(&chunk[..n]) {
            break None;
        }
        same += n;
    };
    if old_len == Some(bytes.len()) {
        return Ok(false);
    }
    file.write_all_at(bytes, 0).with_context(cannot)?;
    // Drops what is left of longer old contents (a length not read to the end is unknown).
    if old_len.is_none_or(|old| old > bytes.len()) {
        file.set_len(bytes.len() as u64).with_context(cannot)?;
    }
    Ok(true)
}

/// Writes a page in place, as site generators write: a new file per page would cost an
/// inode each. The old bytes are overwritten, not truncated away first: ext4 flushes a
/// file truncated to nothing to disk when it is closed, which would make a run wait on
/// the disk for every page. `old_len` is the page's length before.
fn overwrite(path: &Path, bytes: &[u8], old_len: usize) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(false)
        .open(path)?;
    file.write_all(bytes)?;
    if old_len > bytes.len() {
        file.set_len(bytes.len() as u64)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comment::Comment;

    #[test]
    fn feeds_sit_next_to_their_page() {
        assert_eq!(
            feed_path("/posts/a/", Path::new("posts/a/index.html"), "comments.xml"),
            "/posts/a/comments.xml"
        );
        assert_eq!(
            feed_path("/", Path::new("index.html"), "comments.xml"),
            "/comments.xml"
        );
        assert_eq!(
            feed_path("/about.html", Path::new("about.html"), "comments.xml"),
            "/about.comments.xml"
        );
        assert_eq!(
            feed_path("/a/b.html", Path::new("a/b.html"), "c.xml"),
            "/a/b.c.xml"
        );
    }

    #[test]
    fn files_are_written_only_when_their_bytes_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("comments.xml");
        let read = || std::fs::read(&path).unwrap();
        assert!(write_if_changed(&path, b"a new file").unwrap());
        assert!(!write_if_changed(&path, b"a new file").unwrap());
        assert!(write_if_changed(&path, b"short").unwrap());
        assert_eq!(read(), b"short");
        // Longer than one chunk of the comparison.
        let mut long = vec![b'x'; 40_000];
        assert!(write_if_changed(&path, &long).unwrap());
        assert_eq!(read(), long);
        assert!(!write_if_changed(&path, &long).unwrap());
        long[39_999] = b'y';
        assert!(write_if_changed(&path, &long).unwrap());
        assert_eq!(read(), long);
        assert!(write_if_changed(&path, &long[..20_000]).unwrap());
        assert_eq!(read(), &long[..20_000]);
        assert!(write_if_changed(&path, b"").unwrap());
        assert_eq!(read(), b"");
    }

    #[test]
    fn base_path_comes_off_whole_segments_only() {
        assert_eq!(below_base("/blog/", "/blog/posts/a/"), "/posts/a/");
        assert_eq!(below_base("/blog/", "/blog"), "/");
        assert_eq!(below_base("/blog/", "/blogger/x/"), "/blogger/x/");
        assert_eq!(below_base("/blog/", "/posts/a/"), "/posts/a/");
        assert_eq!(below_base("/", "/posts/a/"), "/posts/a/");
    }

    #[test]
    fn page_titles_become_plain_text() {
        assert_eq!(
            unescape_title("\n  Tom &amp; Jerry&rsquo;s   page \n"),
            "Tom & Jerry’s page"
        );
        assert_eq!(
            unescape_title("Unknown &bogus; entity"),
            "Unknown &bogus; entity"
        );
    }

    #[test]
    fn feed_is_well_formed_atom_with_escaped_content() {
        let comment = Comment::parse(
            "id: 01JD3K8Z6Q9W2F4T7Y5M1N0AAA\nthread: /a/\ndate: 2026-01-01T00:00:00Z\nauthor: A & B\nwebsite: https://a.example/?x=1&y=2\nbody: x\n",
            crate::comment::Format::Yaml,
        )
        .unwrap();
        let feed = Feed {
            title: "Comments on <Page>".into(),
            self_url: "https://example.org/a/comments.xml".into(),
            alternate: "https://example.org/a/".into(),
            entries: vec![Entry {
                comment: &comment,
                author: "A & B",
                title: "A & B on <Page>".into(),
                url: "https://example.org/a/#c-01JD3K8Z6Q9W2F4T7Y5M1N0AAA".into(),
                html: "<p>x &amp; <code>y</code></p>",
            }],
        };
        insta::assert_snapshot!(feed.to_xml());
        let empty = Feed {
            entries: Vec::new(),
            ..feed
        };
        assert!(empty
            .to_xml()
            .contains("<updated>1970-01-01T00:00:00Z</updated>"));
    }
}
