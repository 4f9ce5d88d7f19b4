//! Injecting comments into a built site: walk its HTML files, rewrite only the pages
//! that have a placeholder (streaming, with lol_html), write the stylesheet, the
//! optional script and the Atom feeds next to the site.
//!
//! Placeholders: `id="cairn-comments"` receives the section of the page's thread (or
//! of `data-cairn-thread`); any `data-cairn-count="/path/"` receives that thread's
//! count. The output depends only on the inputs, so a second run over its own output
//! writes the same bytes.

mod copies;
mod csp;
pub mod feed;
mod headers;
pub mod serve;

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::hash_map::Entry as Slot;
use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{LazyLock, Mutex, OnceLock};

use anyhow::{Context, Result};
use lol_html::html_content::{ContentType, TextChunk};
use lol_html::{ElementContentHandlers, HtmlRewriter, Selector, Settings};
use rayon::prelude::*;
use rustix::fs::OFlags;

use crate::comment::Comment;
use crate::config::Config;
use crate::render::{Languages, Renderer, ASSETS};
use crate::store::{Index, Loaded, Problem, Severity, Thread};
use crate::thread;
use crate::walk::{Listing, Opened};
use copies::Copies;
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
    /// Precompressed copies of written files (`index.html.gz`, `.br`) written again.
    pub copies_written: usize,
    /// Threads that have comments but no page showing them.
    pub unpaged_threads: Vec<Unpaged>,
    /// What was wrong with comment files, and pages that could not be processed or
    /// have a placeholder naming a bad thread; by path and line.
    pub problems: Vec<Problem>,
}

/// A thread that has comments but no page showing them.
#[derive(Debug, PartialEq)]
pub struct Unpaged {
    pub thread: String,
    /// The thread of a page that this one most likely is, and how their paths differ.
    pub likely: Option<(String, Difference)>,
}

/// How the path of a thread without a page differs from that of the page it most
/// likely is. Imports take threads from the addresses readers came by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Difference {
    /// Only in case (`/Posts/Hello/` for `/posts/hello/`), the only page so: hosts
    /// such as IIS served a page at any case.
    Case,
    /// The page is a folder named as the thread's file (`/2011/10/a/` for
    /// `/2011/10/a.html`), as when a blog whose posts had `.html` addresses (Blogger's)
    /// moves to a generator that builds each post as a folder.
    Folder,
}

/// Renders every page of the built site in `site_dir` with the comments of `index`.
/// `progress` is told how many pages are done, after each.
///
/// Each thread is read from its files when a page shows it, and let go when that page
/// is written, so a render holds the threads it is at, not the whole site's comments.
/// Pages with counts of other threads (`data-cairn-count`) wait until every thread's
/// count is known: after the other pages, and after the threads no page shows, which
/// are read for their counts, their problems and the site's feed.
pub fn render(
    config: &Config,
    index: &Index,
    site_dir: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Report> {
    anyhow::ensure!(
        site_dir.is_dir(),
        "site directory {} does not exist",
        site_dir.display()
    );
    let languages = Languages::new(config)?;
    let renderer = languages.site();
    let mut unread = Vec::new();
    let run = Run {
        config,
        threads: Threads::new(index, config.feeds.entries),
        languages: &languages,
        site_dir,
        base: config.base_path(),
        site_name: config.site_name(),
        inbox_elsewhere: config.inbox_on_another_site(),
        form_action: url::Url::parse(&config.post_url()).ok(),
        headers: headers::Headers::read(site_dir).unwrap_or_else(|e| {
            unread.push(Problem {
                path: site_dir.join("_headers"),
                line: None,
                severity: Severity::Warning,
                message: format!("cannot read it: {e}; the headers it gives are not checked"),
            });
            None
        }),
        host: config.site_host().unwrap_or_default(),
    };
    let done = std::sync::atomic::AtomicU64::new(0);
    let counted = Mutex::new(Vec::new());
    let render = |listing: &Listing<'_>, names: &[&OsString], pass: Pass<'_>| {
        names
            .par_iter()
            .filter_map(|name| {
                let outcome = render_page(&run, listing, name, pass).transpose()?;
                progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
                Some(outcome)
            })
            .collect::<Vec<_>>()
    };
    // Each directory's pages are rendered as it is listed, through its handle.
    let mut outcomes: Vec<Result<Page, Problem>> =
        crate::walk::tree(site_dir, false, &|listing: Listing<'_>| {
            let pages: Vec<&OsString> = listing.files.iter().filter(|n| is_page(n)).collect();
            render(&listing, &pages, Pass::First(&counted))
        })?
        .into_iter()
        .flatten()
        .collect();
    // The threads no page showed, for their counts, problems and feed entries.
    (0..index.thread_count()).into_par_iter().for_each(|at| {
        run.threads.seen(at);
    });
    // Then the pages with counts and lists of the newest comments.
    let mut counted = counted.into_inner().unwrap_or_else(|e| e.into_inner());
    let comments = run
        .threads
        .recent
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let mut places = Places::of(&outcomes);
    if !counted.is_empty() {
        // The pages of the newest comments that waited too are named from their heads.
        let mut looked = std::collections::HashSet::new();
        for c in &comments {
            if !places.titles.contains_key(&c.thread) && looked.insert(&c.thread) {
                if let Some((title, home)) = home_page(&run, &c.thread) {
                    places.homes.insert(c.thread.clone(), home);
                    places.titles.insert(c.thread.clone(), title);
                }
            }
        }
    }
    let latest = Latest { comments, places };
    counted.sort();
    for (dir, names) in counted
        .chunk_by(|a, b| a.0 == b.0)
        .map(|pages| (&pages[0].0, pages.iter().map(|p| &p.1).collect::<Vec<_>>()))
    {
        match Opened::new(dir) {
            Ok(opened) => outcomes.extend(render(&opened.listing(), &names, Pass::Last(&latest))),
            Err(e) => outcomes.extend(names.iter().map(|name| {
                Err(Problem {
                    path: dir.join(name),
                    line: None,
                    severity: Severity::Error,
                    message: format!("cannot read page: {e}"),
                })
            })),
        }
    }

    let mut report = Report {
        pages_scanned: outcomes.len(),
        ..Report::default()
    };
    let places = Places::of(&outcomes);
    let mut unsent = Vec::new();
    let mut copies = Copies::default();
    let mut on_pages = Vec::new();
    for outcome in outcomes {
        match outcome {
            Err(problem) => on_pages.push(problem),
            Ok(page) => {
                unsent.extend(page.unsent);
                copies.extend(page.copies);
                report.pages_written += usize::from(page.written);
                report.feeds_written += usize::from(page.feed_written);
                on_pages.extend(page.problems);
                for (_, _, count, _) in page.sections {
                    report.sections += 1;
                    report.comments_rendered += count;
                }
            }
        }
    }
    report.problems.extend(once_for_all_pages(on_pages));
    report.problems.extend(unread);
    report.problems.extend(unsent_forms(config, unsent));
    let Threads { seen, recent, .. } = run.threads;
    report.problems.extend(index.problems.iter().cloned());
    for (at, seen) in seen.into_iter().enumerate() {
        let name = index.thread_name(at);
        let seen = seen
            .into_inner()
            .unwrap_or_else(|| unreachable!("thread {at} is read after the pages that show it"));
        report.problems.extend(seen.problems);
        if seen.count > 0 && !places.titles.contains_key(name) {
            report.unpaged_threads.push(Unpaged {
                thread: name.to_string(),
                likely: None,
            });
        }
    }
    if !report.unpaged_threads.is_empty() {
        // Each shown thread by its path in lower case; `None` where two share it.
        let mut by_case: HashMap<String, Option<&String>> = HashMap::new();
        for thread in places.titles.keys() {
            by_case
                .entry(thread.to_lowercase())
                .and_modify(|one| *one = None)
                .or_insert(Some(thread));
        }
        for unpaged in &mut report.unpaged_threads {
            let folder = [".html", ".htm"]
                .iter()
                .find_map(|ext| unpaged.thread.strip_suffix(ext))
                .map(|stem| format!("{stem}/"))
                .filter(|folder| places.titles.contains_key(folder));
            unpaged.likely = folder.map(|f| (f, Difference::Folder)).or_else(|| {
                let page = by_case.get(&unpaged.thread.to_lowercase()).copied()??;
                Some((page.clone(), Difference::Case))
            });
        }
    }

    // The files at the site's root, with their copies (looked for on the disk).
    let mut at_root = |name: &str, bytes: &[u8]| -> Result<bool> {
        let path = site_dir.join(name);
        let written = write_if_changed(None, &path, bytes)?;
        if written {
            let (dir, name) = (
                path.parent().unwrap_or(site_dir),
                path.file_name().unwrap_or_default(),
            );
            copies
                .refresh(dir, name, bytes, |copy| dir.join(copy).exists())
                .with_context(|| {
                    format!(
                        "cannot update the precompressed copies of {}",
                        path.display()
                    )
                })?;
        }
        Ok(written)
    };
    if report.sections > 0 {
        for (name, _) in ASSETS {
            at_root(name, renderer.asset(name)?.as_bytes())?;
        }
    }
    if config.feeds.enabled {
        let recent = recent.into_inner().unwrap_or_else(|e| e.into_inner());
        let feed = site_feed(config, &recent, renderer, &places);
        if at_root(&config.feeds.file, feed.as_bytes())? {
            report.feeds_written += 1;
        }
    }
    report.copies_written = copies.written;
    report.problems.extend(copies.warning());
    crate::store::sort_problems(&mut report.problems);
    Ok(report)
}

/// `" and 1 other {one}"`, `" and {n} other {many}"`, or nothing for none: what a
/// warning that names the first of several files says of the others.
fn and_others(n: usize, one: &str, many: &str) -> String {
    match n {
        0 => String::new(),
        1 => format!(" and 1 other {one}"),
        n => format!(" and {n} other {many}"),
    }
}

/// The pages' problems, each said once: a problem said in the same words of several
/// pages (a layout's, such as a second placeholder in it) names the first of them and
/// counts the others, where a site of a thousand pages would print it a thousand times.
fn once_for_all_pages(mut problems: Vec<Problem>) -> Vec<Problem> {
    crate::store::sort_problems(&mut problems);
    let mut first: HashMap<(Severity, String), usize> = HashMap::new();
    let mut said: Vec<(Problem, usize)> = Vec::new();
    for problem in problems {
        match first.entry((problem.severity, problem.message.clone())) {
            Slot::Occupied(at) => said[*at.get()].1 += 1,
            Slot::Vacant(at) => {
                at.insert(said.len());
                said.push((problem, 0));
            }
        }
    }
    said.into_iter()
        .map(|(mut problem, others)| {
            match others {
                0 => {}
                1 => problem.message.push_str("; the same on 1 other page"),
                n => problem.message += &format!("; the same on {n} other pages"),
            }
            problem
        })
        .collect()
}

/// One warning for each reason pages' comment forms would not reach the inbox
/// ([`Unsent`]), naming the first of those pages.
fn unsent_forms(
    config: &Config,
    mut pages: Vec<(Unsent, PathBuf, String, Source)>,
) -> Vec<Problem> {
    pages.sort();
    pages
        .chunk_by(|a, b| a.0 == b.0)
        .map(|same| {
            let (why, path, policy, source) = &same[0];
            let from = match source {
                Source::Meta => "",
                Source::Headers => " (from _headers)",
            };
            let others = and_others(same.len() - 1, "page with the form", "pages with the form");
            let message = match why {
                Unsent::HiddenOrigin => format!(
                    "the referrer policy \"{policy}\"{from} of this page{others} has browsers send \
                     the comment form without the page's origin, and the inbox ({}) is on another site \
                     than the pages ({}), so it turns those comments away: give the pages with \
                     the form another referrer policy (strict-origin-when-cross-origin is \
                     browsers' default), or serve the inbox on the site's domain (as \
                     comments.example.org would serve blog.example.org)",
                    config.inbox.url, config.site.url
                ),
                Unsent::Blocked => format!(
                    "the Content-Security-Policy{from} of this page{others} lets forms post only \
                     to \"{policy}\" (form-action), so browsers do not send the comment form \
                     to {}: add {} to its form-action",
                    config.post_url(),
                    crate::config::origin_of(&config.inbox.url).unwrap_or_default()
                ),
            };
            Problem {
                path: path.clone(),
                line: None,
                severity: Severity::Warning,
                message,
            }
        })
        .collect()
}

/// Which pages a pass over the site renders.
#[derive(Clone, Copy)]
enum Pass<'a> {
    /// Pages without counts or lists of the newest comments; those with them are put
    /// aside here, by directory.
    First(&'a Mutex<Vec<(PathBuf, OsString)>>),
    /// The pages put aside, with the site's newest comments.
    Last(&'a Latest),
}

/// How many comments a `data-cairn-recent` list shows when it does not say.
const RECENT_SHOWN: usize = 5;

/// What a `data-cairn-recent` list is made of, once every thread is read: the site's
/// newest comments (at most `feeds.entries`), newest first, and where each thread is
/// shown (from the pages rendered before the lists).
struct Latest {
    comments: Vec<Comment>,
    places: Places,
}

/// Each thread's page title and its own page (the one whose path is the thread), as
/// the pages rendered so far show them: the first page in path order wins.
#[derive(Default)]
struct Places {
    titles: BTreeMap<String, String>,
    homes: BTreeMap<String, String>,
}

impl Places {
    fn of(outcomes: &[Result<Page, Problem>]) -> Places {
        let mut places = Places::default();
        for page in outcomes.iter().flatten() {
            for (thread, title, _, home) in &page.sections {
                if let Some(home) = home {
                    places.homes.entry(thread.clone()).or_insert(home.clone());
                }
                places.titles.entry(thread.clone()).or_insert(title.clone());
            }
        }
        places
    }

    /// The name of a thread's page: its title, else its path.
    fn name<'a>(&'a self, thread: &'a str) -> &'a str {
        self.titles
            .get(thread)
            .map(String::as_str)
            .filter(|t| !t.is_empty())
            .unwrap_or(thread)
    }

    /// The path of the page a thread is shown on.
    fn page<'a>(&'a self, thread: &'a str) -> &'a str {
        self.homes.get(thread).map_or(thread, String::as_str)
    }
}

/// The threads of a render, read as pages show them. What the rest of the run needs of
/// each is kept from its first reading: how many comments it shows, what was wrong with
/// its files, and (in `recent`) its newest comments if they are among the site's.
struct Threads<'a> {
    index: &'a Index,
    seen: Vec<OnceLock<Seen>>,
    /// The site's newest comments, at most `entries`, newest first.
    recent: Mutex<Vec<Comment>>,
    entries: usize,
}

struct Seen {
    count: usize,
    problems: Vec<Problem>,
}

impl<'a> Threads<'a> {
    fn new(index: &'a Index, entries: usize) -> Threads<'a> {
        Threads {
            index,
            seen: (0..index.thread_count()).map(|_| OnceLock::new()).collect(),
            recent: Mutex::new(Vec::new()),
            entries,
        }
    }

    /// Reads a thread for a page.
    fn read(&self, thread: &str) -> Thread {
        match self.index.position(thread) {
            Some(at) => {
                let loaded = self.index.read_at(at);
                self.keep(at, &loaded);
                loaded.thread
            }
            None => Thread::default(),
        }
    }

    /// What is kept of a thread, read now if no page has shown it.
    fn seen(&self, at: usize) -> &Seen {
        if let Some(seen) = self.seen[at].get() {
            return seen;
        }
        self.keep(at, &self.index.read_at(at))
    }

    /// How many comments a thread shows.
    fn count(&self, thread: &str) -> usize {
        self.index
            .position(thread)
            .map_or(0, |at| self.seen(at).count)
    }

    fn keep(&self, at: usize, loaded: &Loaded) -> &Seen {
        self.seen[at].get_or_init(|| {
            self.offer(&loaded.thread.comments);
            Seen {
                count: loaded.thread.comments.len(),
                problems: loaded.problems.clone(),
            }
        })
    }

    /// Keeps those of `comments` that are among the site's newest.
    fn offer(&self, comments: &[Comment]) {
        let newest = |a: &&Comment, b: &&Comment| (b.date, b.id).cmp(&(a.date, a.id));
        let mut candidates: Vec<&Comment> = comments.iter().collect();
        candidates.sort_unstable_by(newest);
        candidates.truncate(self.entries);
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let oldest_kept = |recent: &Vec<Comment>| {
            (recent.len() == self.entries)
                .then(|| recent.last().map(|c| (c.date, c.id)))
                .flatten()
        };
        for c in candidates {
            if oldest_kept(&recent).is_some_and(|oldest| (c.date, c.id) <= oldest) {
                break;
            }
            let at = recent.partition_point(|kept| (kept.date, kept.id) > (c.date, c.id));
            recent.insert(at, c.clone());
            recent.truncate(self.entries);
        }
    }
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

/// The thread a link to `thread` counts: the thread itself, unless the site has no
/// page for it but a page file it names without its extension ([`file_page`]) whose
/// thread has comments.
fn linked_page<'t>(run: &Run<'_>, thread: &'t str) -> Cow<'t, str> {
    let index = run.threads.index;
    if index.position(thread).is_some() {
        return Cow::Borrowed(thread);
    }
    file_page(run.site_dir, thread, |file| index.position(file).is_some())
        .map_or(Cow::Borrowed(thread), Cow::Owned)
}

/// The thread of the page file the built site in `site_dir` serves `thread` from, when
/// it has no page of that thread: `/a/b.html` (or `.htm`) for `/a/b/`, as Jekyll writes
/// a post whose permalink has no extension, links to it (`/a/b`) and hosts serve it, and
/// `/a/v1.2.html` for `/a/v1.2` (a name with a dot reads as a file's). Only threads
/// `wanted` says yes to are looked for.
pub fn file_page(site_dir: &Path, thread: &str, wanted: impl Fn(&str) -> bool) -> Option<String> {
    let stem = match thread.strip_suffix('/') {
        Some(stem) => stem,
        None if is_page(std::ffi::OsStr::new(thread)) => return None,
        None => thread,
    };
    if stem.len() <= 1 {
        return None;
    }
    let file = ["html", "htm"]
        .iter()
        .map(|ext| format!("{stem}.{ext}"))
        .find(|file| wanted(file) && site_dir.join(thread::page_file(file)).is_file())?;
    // `/a/v1.2` is also the thread of `a/v1.2/index.html`.
    let own = site_dir.join(thread::page_file(thread));
    (!own.is_file() && !own.join("index.html").is_file()).then_some(file)
}

/// Whether a file of the built site is a page.
fn is_page(name: &std::ffi::OsStr) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|e| e == "html" || e == "htm")
}

/// What every page of a run shares.
struct Run<'a> {
    config: &'a Config,
    threads: Threads<'a>,
    /// The site's renderer, and those of the languages pages ask for.
    languages: &'a Languages,
    site_dir: &'a Path,
    /// The site's base path, which placeholders may start with.
    base: String,
    /// The site's [name](Config::site_name).
    site_name: String,
    /// Whether the inbox is [on another site](Config::inbox_on_another_site) than the
    /// pages: then pages whose referrer policy hides their origin are reported.
    inbox_elsewhere: bool,
    /// Where the comment form posts, for the pages' Content-Security-Policy.
    form_action: Option<url::Url>,
    /// The headers the host sends with the pages (`_headers`), and the site's host,
    /// which rules for a full URL name.
    headers: Option<headers::Headers>,
    host: String,
}

/// The placeholders and head elements a page is rewritten at, parsed once.
struct Selectors {
    /// What an earlier run put into the head: taken out, to be put in again.
    own_head_tags: Selector,
    head: Selector,
    /// A `<base href>` changes what relative links and bare `#fragment` links mean.
    base: Selector,
    title: Selector,
    /// The page's referrer policy, which may keep its form from saying where it is sent from.
    referrer: Selector,
    /// The page's Content-Security-Policy, which may keep its form from being sent.
    csp: Selector,
    /// The page's title for sharing (Open Graph), which names the page without the site.
    og_title: Selector,
    /// The site's name (Open Graph), which many themes append to a page's `<title>`.
    site_name: Selector,
    svg: Selector,
    section: Selector,
    count: Selector,
    recent: Selector,
}

static SELECTORS: LazyLock<Selectors> = LazyLock::new(|| {
    let parse = |s: &str| s.parse::<Selector>().expect("cairn's selectors parse");
    Selectors {
        own_head_tags: parse("head [data-cairn]"),
        head: parse("head"),
        base: parse("base"),
        title: parse("title"),
        referrer: parse(r#"meta[name="referrer" i]"#),
        csp: parse(r#"meta[http-equiv="content-security-policy" i]"#),
        og_title: parse(r#"meta[property="og:title"], meta[name="og:title"]"#),
        site_name: parse(r#"meta[property="og:site_name"], meta[name="og:site_name"]"#),
        svg: parse("svg"),
        section: parse("#cairn-comments"),
        count: parse("[data-cairn-count]"),
        recent: parse("[data-cairn-recent]"),
    }
});

/// Where the rewriter is relative to a page's title.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum TitleState {
    #[default]
    Before,
    In,
    After,
}

/// What names a page, read from its head as the rewriter passes it ([`page_name`]):
/// the text of its first `<title>`, if that comes before any `<svg>` (whose `<title>`s
/// name pictures; minified pages may have no `<head>` tag around it), its Open Graph
/// title and its site name.
#[derive(Clone, Default)]
struct Naming {
    state: Rc<Cell<TitleState>>,
    title: Rc<RefCell<String>>,
    /// `og:title` and `og:site_name`.
    og: Rc<RefCell<(Option<String>, Option<String>)>>,
}

impl Naming {
    /// The rewriter's handlers that read it.
    fn handlers<'h>(&self) -> [(Cow<'static, Selector>, ElementContentHandlers<'h>); 4] {
        let (state, text_state, title) =
            (self.state.clone(), self.state.clone(), self.title.clone());
        let (og_title, site_name, svg_state) =
            (self.og.clone(), self.og.clone(), self.state.clone());
        [
            (
                Cow::Borrowed(&SELECTORS.title),
                ElementContentHandlers::default()
                    .element(move |el: &mut lol_html::html_content::Element<'_, '_>| {
                        if state.get() == TitleState::Before {
                            if let Some(handlers) = el.end_tag_handlers() {
                                state.set(TitleState::In);
                                let state = state.clone();
                                handlers.push(Box::new(move |_| {
                                    state.set(TitleState::After);
                                    Ok(())
                                }));
                            }
                        }
                        Ok(())
                    })
                    .text(move |t: &mut TextChunk<'_>| {
                        if text_state.get() == TitleState::In {
                            title.borrow_mut().push_str(t.as_str());
                        }
                        Ok(())
                    }),
            ),
            on(&SELECTORS.og_title, move |el| {
                let mut og = og_title.borrow_mut();
                if og.0.is_none() {
                    og.0 = el.get_attribute("content");
                }
                Ok(())
            }),
            on(&SELECTORS.site_name, move |el| {
                let mut og = site_name.borrow_mut();
                if og.1.is_none() {
                    og.1 = el.get_attribute("content");
                }
                Ok(())
            }),
            on(&SELECTORS.svg, move |_| {
                if svg_state.get() == TitleState::Before {
                    svg_state.set(TitleState::After);
                }
                Ok(())
            }),
        ]
    }

    /// The page's name, from what the rewriter has passed so far, on the site named
    /// `site_title` (`site.title`) where its head does not name it.
    fn name(&self, site_title: Option<&str>) -> String {
        let og = self.og.borrow();
        page_name(
            &self.title.borrow(),
            og.0.as_deref(),
            og.1.as_deref().or(site_title),
        )
    }
}

/// The thread a placeholder's attribute `attr` names (as the site's templates print a
/// link, character references decoded), or the page's when it names none; what it says and why that is no thread
/// when it is not one.
fn placeholder_thread(
    el: &lol_html::html_content::Element<'_, '_>,
    attr: &str,
    page_thread: &str,
    links_from: &str,
    config: &Config,
    base: &str,
) -> Result<String, (String, thread::ThreadError)> {
    // As a browser reads it: `/q&amp;a/` in the page is `/q&a/`.
    let Some(raw) = el
        .get_attribute(attr)
        .filter(|v| !v.trim().is_empty())
        .map(|v| crate::render::unescape_html(&v))
    else {
        return Ok(page_thread.to_string());
    };
    // `../posts/a/`, as Pelican's and MkDocs's relative links print it, leads where a
    // browser takes it from the page (or its `<base href>`), `links_from`.
    let link = raw.trim();
    let resolved =
        (link.starts_with("./") || link.starts_with("../") || matches!(link, "." | ".."))
            .then(|| url::Url::parse(links_from).and_then(|from| from.join(link)))
            .and_then(Result::ok);
    let link = resolved.as_ref().map_or(link, url::Url::as_str);
    thread::of_link(link, &config.site.url, base).map_err(|e| (raw, e))
}

/// The name and served path of the page a thread's path leads to, if that page shows
/// the thread: for a thread whose page waited for the last pass (as a page with a list
/// of the newest comments in its sidebar does) when such a list names it. Read from
/// the page's head, without rendering it.
fn home_page(run: &Run<'_>, thread: &str) -> Option<(String, String)> {
    let rel = thread::page_file(thread);
    if !is_page(rel.as_os_str()) || thread::of_page(&rel).ok()? != thread {
        return None;
    }
    let input = std::fs::read(run.site_dir.join(&rel)).ok()?;
    let page_url = run.config.public_url(&thread::served_path(&rel));
    let naming = Naming::default();
    let shown = RefCell::new(None);
    let mut rewriter = HtmlRewriter::new(
        Settings {
            element_content_handlers: naming
                .handlers()
                .into_iter()
                .chain([on(&SELECTORS.section, |el| {
                    if shown.borrow().is_none() {
                        let t = placeholder_thread(
                            el,
                            "data-cairn-thread",
                            thread,
                            &page_url,
                            run.config,
                            &run.base,
                        );
                        *shown.borrow_mut() = Some(t.ok());
                    }
                    Ok(())
                })])
                .collect(),
            adjust_charset_on_meta_tag: true,
            ..Settings::new()
        },
        |_: &[u8]| {},
    );
    rewriter.write(&input).and_then(|()| rewriter.end()).ok()?;
    let shows = shown.into_inner().flatten().is_some_and(|t| t == thread);
    shows.then(|| {
        let name = naming.name(run.config.site.title.as_deref());
        (name, thread::served_path(&rel))
    })
}

/// An element handler at one of the [`SELECTORS`].
fn on<'h>(
    selector: &'static Selector,
    handler: impl FnMut(&mut lol_html::html_content::Element<'_, '_>) -> lol_html::HandlerResult + 'h,
) -> (Cow<'static, Selector>, ElementContentHandlers<'h>) {
    (
        Cow::Borrowed(selector),
        ElementContentHandlers::default().element(handler),
    )
}

/// Puts `content` into a placeholder, in place of what it held. A placeholder written
/// as `<div id="cairn-comments"/>` holds, in HTML, everything after it up to its
/// parent's end: its start tag is written anew as an element holding just `content`,
/// so the rest of the page stays where it was. `filling` counts the placeholders being
/// filled that the rewriter is inside: what they held goes, placeholders too.
fn fill(
    el: &mut lol_html::html_content::Element<'_, '_>,
    content: &str,
    kind: ContentType,
    filling: &Rc<Cell<usize>>,
) {
    if !(el.is_self_closing() && el.can_have_content()) {
        el.set_inner_content(content, kind);
        if let Some(handlers) = el.end_tag_handlers() {
            filling.set(filling.get() + 1);
            let filling = filling.clone();
            handlers.push(Box::new(move |_| {
                filling.set(filling.get() - 1);
                Ok(())
            }));
        }
        return;
    }
    let html = match kind {
        ContentType::Html => Cow::Borrowed(content),
        ContentType::Text => Cow::Owned(crate::render::escape_html(content)),
    };
    let name = el.tag_name_preserve_case();
    let mut tag = format!("<{name}");
    for attribute in el.attributes() {
        // The value is as the page has it (entities included); only its quotes change.
        let value = attribute.value().replace('"', "&quot;");
        tag.push_str(&format!(" {}=\"{value}\"", attribute.name_preserve_case()));
    }
    tag.push_str(&format!(">{html}</{name}>"));
    el.start_tag().replace(&tag, ContentType::Html);
}

/// The referrer policies.
const REFERRER_POLICIES: [&str; 8] = [
    "no-referrer",
    "no-referrer-when-downgrade",
    "same-origin",
    "origin",
    "strict-origin",
    "origin-when-cross-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
];

/// The old names of referrer policies that `<meta name="referrer">` still takes.
const OLD_REFERRER_POLICIES: [&str; 4] = ["never", "default", "always", "origin-when-crossorigin"];

/// The referrer policies under which a page sends its forms to another origin with
/// `Origin: null` and no `Referer` (Fetch, "append a request `Origin` header").
const HIDING_POLICIES: [&str; 3] = ["no-referrer", "same-origin", "never"];

/// What happened to one page.
struct Page {
    written: bool,
    feed_written: bool,
    /// (thread, page title, comments, the page's path if it is the thread's own page)
    /// for each section filled in.
    sections: Vec<(String, String, usize, Option<String>)>,
    problems: Vec<Problem>,
    /// Why browsers would not bring the page's comment form to the inbox: the page,
    /// and the policy that stops it, and where that is set.
    unsent: Vec<(Unsent, PathBuf, String, Source)>,
    /// What became of the precompressed copies of the page and its feed.
    copies: Copies,
}

/// Where a page's policy is set.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Source {
    /// A `<meta>` in the page.
    Meta,
    /// The host's `_headers` file.
    Headers,
}

/// The policy a `Referrer-Policy` header sets: the last of its comma-separated values
/// that names one.
fn header_referrer_policy(value: &str) -> Option<String> {
    value
        .rsplit(',')
        .map(|token| token.trim().to_ascii_lowercase())
        .find(|token| REFERRER_POLICIES.contains(&token.as_str()))
}

/// Why browsers would not bring the comment form of the page at `site_path` to the
/// inbox, given the referrer policy of its `<meta>` and the sources of the first of
/// its `<meta>` Content-Security-Policies that leaves the inbox out: the host's headers
/// count too, a `<meta>` referrer policy overriding the header's, and every
/// Content-Security-Policy holding.
fn unsent_reasons(
    run: &Run<'_>,
    site_path: &str,
    page_url: &str,
    meta_referrer: Option<String>,
    meta_blocking: Option<String>,
) -> Vec<(Unsent, String, Source)> {
    let sent = |name| {
        run.headers
            .as_ref()
            .and_then(|h| h.value(&run.host, site_path, name))
    };
    let hiding = match meta_referrer {
        Some(policy) => Some((policy, Source::Meta)),
        None if run.inbox_elsewhere => sent("referrer-policy")
            .and_then(header_referrer_policy)
            .map(|policy| (policy, Source::Headers)),
        None => None,
    }
    .filter(|(policy, _)| HIDING_POLICIES.contains(&policy.as_str()));
    let blocked = meta_blocking.map(|p| (p, Source::Meta)).or_else(|| {
        let policies = sent("content-security-policy")?;
        let action = run.form_action.as_ref()?;
        let page = url::Url::parse(page_url).ok()?;
        policies
            .split(',')
            .find_map(|policy| csp::blocking_form_action(policy, &page, action))
            .map(|p| (p, Source::Headers))
    });
    [(Unsent::HiddenOrigin, hiding), (Unsent::Blocked, blocked)]
        .into_iter()
        .filter_map(|(why, policy)| {
            let (policy, source) = policy?;
            Some((why, policy, source))
        })
        .collect()
}

/// Why browsers would not bring a page's comment form to the inbox.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Unsent {
    /// Its referrer policy has the form sent without the page's origin to an inbox on
    /// another site, which turns it away.
    HiddenOrigin,
    /// Its Content-Security-Policy's `form-action` leaves the inbox out.
    Blocked,
}

/// Renders the page `name` of a listed directory; in the first pass, a page with counts
/// is put aside instead (`None`).
fn render_page(
    run: &Run<'_>,
    listing: &Listing<'_>,
    name: &OsString,
    pass: Pass<'_>,
) -> Result<Option<Page>, Problem> {
    let Run {
        config,
        ref threads,
        languages,
        site_dir,
        ref base,
        site_name: _,
        inbox_elsewhere,
        ref form_action,
        headers: _,
        host: _,
    } = *run;
    let path = listing.file_path(name);
    let rel = path.strip_prefix(site_dir).unwrap_or(&path);
    let fail = |message: String| Problem {
        path: path.clone(),
        line: None,
        severity: Severity::Error,
        message,
    };
    let (mut file, input) =
        open_page(listing, name).map_err(|e| fail(format!("cannot read page: {e}")))?;
    let mut page = Page {
        written: false,
        feed_written: false,
        sections: Vec::new(),
        problems: Vec::new(),
        unsent: Vec::new(),
        copies: Copies::default(),
    };
    // Most pages have no placeholder: skip them without parsing.
    if memchr::memmem::find(&input, b"cairn").is_none() {
        return Ok(Some(page));
    }
    if let Pass::First(counted) = pass {
        if waits_for_every_thread(&input) {
            let mut counted = counted.lock().unwrap_or_else(|e| e.into_inner());
            counted.push((listing.path.to_path_buf(), name.clone()));
            return Ok(None);
        }
    }
    let has_section = memchr::memmem::find(&input, b"cairn-comments").is_some();
    let page_thread =
        thread::of_page(rel).map_err(|e| fail(format!("page path is not a thread: {e}")))?;
    let page_site_path = thread::served_path(rel);
    let feed_site_path = feed_path(&page_site_path, &config.feeds.file);
    let feed_url = config
        .feeds
        .enabled
        .then(|| config.public_url(&feed_site_path));
    // Relative links to the assets work under any base path, and from file:// too;
    // on a page with a `<base href>`, which relative links resolve against instead,
    // they start at the site's base path.
    let has_base = Rc::new(Cell::new(false));
    let assets = {
        let (has_base, up, base) = (
            has_base.clone(),
            "../".repeat(rel.components().count().saturating_sub(1)),
            base.clone(),
        );
        move || {
            let at = if has_base.get() { &base } else { &up };
            format!(
                "<link rel=\"stylesheet\" href=\"{at}cairn.css\" data-cairn>\
<script src=\"{at}cairn.js\" defer data-cairn></script>"
            )
        }
    };
    let naming = Naming::default();
    // The feed's link, titled as the feed is (in the language of the page's placeholder,
    // which comes after the head), for feed readers that list a page's feeds by title.
    let feed_tag = feed_url.as_ref().filter(|_| has_section).map(|u| {
        const PAGE: &str = "\u{E000}";
        let strings = &placeholder_lang(&input)
            .and_then(|tag| languages.get(&tag).ok())
            .unwrap_or_else(|| languages.site())
            .strings;
        let feed_title = strings.fill("feed_thread_title", &[("page", PAGE)]);
        let (href, naming, thread, site_title) = (
            quick_xml::escape::escape(u).into_owned(),
            naming.clone(),
            page_thread.clone(),
            config.site.title.clone(),
        );
        move || {
            let page = naming.name(site_title.as_deref());
            let page = crate::comment::showable(&page);
            let name = if page.is_empty() { &thread } else { &*page };
            format!(
                "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"{}\" href=\"{href}\" data-cairn>",
                quick_xml::escape::escape(feed_title.replace(PAGE, name))
            )
        }
    });
    // Whether the head's end tag took the assets: a minified page may leave `</head>`
    // (or the whole head) out, and then the section brings its stylesheet and script.
    let head_done = Rc::new(Cell::new(false));
    // The head's tags go in between two marks, and stay only if the body has a section
    // (a page whose text only names `cairn-comments`, as a page of documentation does,
    // gets none). A page that already holds a mark gets the tags as they are.
    let marked = memchr::memmem::find(&input, HEAD_TAGS_MARK.as_bytes()).is_none();
    let rendered = RefCell::new(None::<(String, crate::render::Section, Thread, &Renderer)>);
    let problems = RefCell::new(Vec::new());
    let sections = RefCell::new(Vec::new());
    // Room for the page's own thread, so the output is not copied as it grows.
    let expected = threads.index.files_in(&page_thread) * 3072;
    let mut output = Vec::with_capacity(input.len() + 8192 + expected);
    let warn = |message: String| {
        problems.borrow_mut().push(Problem {
            path: path.clone(),
            line: None,
            severity: Severity::Warning,
            message,
        })
    };
    // What relative links on the page resolve against: the page's URL, or its
    // `<base href>`.
    let page_url = config.public_url(&page_site_path);
    let links_from = RefCell::new(page_url.clone());
    let thread_of = |el: &lol_html::html_content::Element, attr: &str| -> Option<String> {
        placeholder_thread(el, attr, &page_thread, &links_from.borrow(), config, base)
            .map_err(|(raw, e)| {
                warn(format!("{attr}=\"{raw}\": {e}; placeholder left as it was"));
            })
            .ok()
    };
    // The page's referrer policy: the last `<meta name="referrer">` that names one.
    let referrer_policy = RefCell::new(None::<String>);
    // The `form-action` of the first Content-Security-Policy that keeps the form from
    // the inbox.
    let blocking = RefCell::new(None::<String>);
    let filling = Rc::new(Cell::new(0));
    // Whether a placeholder is to be filled: not when it is inside one being filled,
    // whose content goes; not when it cannot hold what goes into it, as a void element
    // (`<img>`, `<input>`, …) cannot, which is reported rather than left empty without
    // a word.
    let holds_content = |el: &lol_html::html_content::Element, placeholder: &str| -> bool {
        if filling.get() > 0 {
            return false;
        }
        let holds = el.can_have_content();
        if !holds {
            warn(format!(
                "{placeholder} on <{}>, an element that cannot hold content: left as it was \
                 (put it on a <div> or a <span>)",
                el.tag_name()
            ));
        }
        holds
    };
    // The renderer for a placeholder: its `data-cairn-lang`, else the site's language.
    let renderer_of = |el: &lol_html::html_content::Element| -> &Renderer {
        match el
            .get_attribute("data-cairn-lang")
            .filter(|v| !v.trim().is_empty())
        {
            None => languages.site(),
            Some(tag) => languages.get(&tag).unwrap_or_else(|e| {
                let message = format!("data-cairn-lang=\"{tag}\": {e}");
                if !problems.borrow().iter().any(|p| p.message == message) {
                    warn(message);
                }
                languages.site()
            }),
        }
    };
    let result = {
        let mut rewriter = HtmlRewriter::new(
            Settings {
                element_content_handlers: naming
                    .handlers()
                    .into_iter()
                    .chain([
                        on(&SELECTORS.own_head_tags, |el| {
                            el.remove();
                            Ok(())
                        }),
                        on(&SELECTORS.head, |el| {
                            if let (true, Some(handlers)) = (has_section, el.end_tag_handlers()) {
                                let (assets, feed_tag, done) =
                                    (assets.clone(), feed_tag.clone(), head_done.clone());
                                handlers.push(Box::new(move |end| {
                                    if marked {
                                        end.before(HEAD_TAGS.0, ContentType::Html);
                                    }
                                    end.before(&assets(), ContentType::Html);
                                    if let Some(tag) = &feed_tag {
                                        end.before(&tag(), ContentType::Html);
                                    }
                                    if marked {
                                        end.before(HEAD_TAGS.1, ContentType::Html);
                                    }
                                    done.set(true);
                                    Ok(())
                                }));
                            }
                            Ok(())
                        }),
                        on(&SELECTORS.base, |el| {
                            if let Some(href) = el.get_attribute("href") {
                                has_base.set(true);
                                if let Ok(at) =
                                    url::Url::parse(&page_url).and_then(|u| u.join(&href))
                                {
                                    *links_from.borrow_mut() = at.into();
                                }
                            }
                            Ok(())
                        }),
                        on(&SELECTORS.section, |el| {
                            if rendered.borrow().is_some() {
                                // Its form's ids and the comments' anchors would be there twice.
                                warn(
                                    "a second id=\"cairn-comments\" placeholder: left as it was \
                                 (a page holds one comments section)"
                                        .into(),
                                );
                                return Ok(());
                            }
                            if !holds_content(el, "id=\"cairn-comments\"") {
                                return Ok(());
                            }
                            let Some(t) = thread_of(el, "data-cairn-thread") else {
                                return Ok(());
                            };
                            let renderer = renderer_of(el);
                            let comments = threads.read(&t);
                            let section =
                                renderer.section(&t, Some(&comments), feed_url.as_deref())?;
                            for id in &section.as_text {
                                warn(format!(
                                    "comment {id} of {t}: its HTML nests more than {} levels \
                                     deep, so it is shown as text",
                                    crate::render::markdown::MAX_NESTING
                                ));
                            }
                            let mut html = Cow::Borrowed(&section.html);
                            if has_base.get() {
                                // `#c-…` would lead to the base's page: the links name this one.
                                let page = format!("{}{page_thread}", base.trim_end_matches('/'));
                                html = Cow::Owned(
                                    html.replace("href=\"#", &format!("href=\"{page}#")),
                                );
                            }
                            if !head_done.get() {
                                html = Cow::Owned(format!("{}{html}", assets()));
                            }
                            fill(el, &html, ContentType::Html, &filling);
                            let page_title = naming.name(config.site.title.as_deref());
                            sections.borrow_mut().push((
                                t.clone(),
                                page_title,
                                comments.comments.len(),
                                (t == page_thread).then(|| page_site_path.clone()),
                            ));
                            *rendered.borrow_mut() = Some((t, section, comments, renderer));
                            Ok(())
                        }),
                        on(&SELECTORS.recent, |el| {
                            // Pages with such a list wait for the last pass.
                            let Pass::Last(latest) = pass else {
                                return Ok(());
                            };
                            if !holds_content(el, "data-cairn-recent") {
                                return Ok(());
                            }
                            let raw = el.get_attribute("data-cairn-recent").unwrap_or_default();
                            let shown = match raw.trim() {
                                "" => RECENT_SHOWN,
                                n => match n.parse::<usize>() {
                                    Ok(n) => n,
                                    Err(_) => {
                                        warn(format!(
                                        "data-cairn-recent=\"{raw}\": not a number of comments; \
                                         placeholder left as it was"
                                    ));
                                        return Ok(());
                                    }
                                },
                            };
                            let items: Vec<(&Comment, &str, String)> = latest
                                .comments
                                .iter()
                                .take(shown)
                                .map(|c| {
                                    let page = latest.places.page(&c.thread);
                                    let url =
                                        format!("{}{page}#c-{}", base.trim_end_matches('/'), c.id);
                                    (c, latest.places.name(&c.thread), url)
                                })
                                .collect();
                            fill(
                                el,
                                &renderer_of(el).recent(&items)?,
                                ContentType::Html,
                                &filling,
                            );
                            Ok(())
                        }),
                        on(&SELECTORS.count, |el| {
                            if !holds_content(el, "data-cairn-count") {
                                return Ok(());
                            }
                            if let Some(t) = thread_of(el, "data-cairn-count") {
                                let t = linked_page(run, &t);
                                let count = renderer_of(el).count_text(threads.count(&t));
                                fill(el, &count, ContentType::Text, &filling);
                            }
                            Ok(())
                        }),
                    ])
                    .chain(inbox_elsewhere.then(|| {
                        on(&SELECTORS.referrer, |el| {
                            // As HTML reads it: in any case, but not padded.
                            let content = el.get_attribute("content").unwrap_or_default();
                            let policy = content.to_ascii_lowercase();
                            if REFERRER_POLICIES.contains(&policy.as_str())
                                || OLD_REFERRER_POLICIES.contains(&policy.as_str())
                            {
                                *referrer_policy.borrow_mut() = Some(policy);
                            }
                            Ok(())
                        })
                    }))
                    .chain(form_action.as_ref().map(|action| {
                        on(&SELECTORS.csp, |el| {
                            let policy = el.get_attribute("content").unwrap_or_default();
                            if blocking.borrow().is_none() {
                                *blocking.borrow_mut() =
                                    url::Url::parse(&page_url).ok().and_then(|page| {
                                        csp::blocking_form_action(&policy, &page, action)
                                    });
                            }
                            Ok(())
                        })
                    }))
                    .collect(),
                // A page in another encoding than UTF-8 says so in a <meta>: its title is
                // read, and the comments written, in that encoding (characters it lacks as
                // numeric references).
                adjust_charset_on_meta_tag: true,
                ..Settings::new()
            },
            |chunk: &[u8]| output.extend_from_slice(chunk),
        );
        rewriter.write(&input).and_then(|()| rewriter.end())
    };
    result.map_err(|e| fail(format!("cannot rewrite page: {e}")))?;
    if marked && head_done.get() {
        unmark_head_tags(&mut output, rendered.borrow().is_some());
    }
    page.problems = problems.into_inner();
    page.sections = sections.into_inner();
    let has_form = rendered
        .borrow()
        .as_ref()
        .is_some_and(|(t, ..)| !config.comments.is_closed(t));
    if has_form {
        let reasons = unsent_reasons(
            run,
            &page_site_path,
            &page_url,
            referrer_policy.into_inner(),
            blocking.into_inner(),
        );
        page.unsent.extend(
            reasons
                .into_iter()
                .map(|(why, policy, source)| (why, path.clone(), policy, source)),
        );
    }

    // The directory's copies of a file: looked up among the names it holds, which the
    // last pass's listing leaves out (it has few pages), on the disk.
    let has = |copy: &OsStr| match pass {
        Pass::First(_) => listing
            .files
            .binary_search_by(|f| f.as_os_str().cmp(copy))
            .is_ok(),
        Pass::Last(_) => listing.path.join(copy).exists(),
    };
    let copies_of = |page: &mut Page, name: &OsStr, bytes: &[u8]| {
        if let Err(e) = page.copies.refresh(listing.path, name, bytes, has) {
            page.problems.push(Problem {
                path: listing.path.join(name),
                line: None,
                severity: Severity::Error,
                message: format!("cannot update its precompressed copies: {e}"),
            });
        }
    };
    if output != input {
        overwrite(&mut file, &path, &output, input.len())
            .map_err(|e| fail(format!("cannot write page: {e}")))?;
        page.written = true;
        copies_of(&mut page, name, &output);
    }
    if let (Some((t, section, comments, renderer)), true) =
        (rendered.into_inner(), config.feeds.enabled)
    {
        let page_title = page
            .sections
            .first()
            .map(|s| s.1.as_str())
            .filter(|title| !title.is_empty())
            .unwrap_or(&t);
        let feed = thread_feed(
            run,
            &comments,
            renderer,
            &page_site_path,
            page_title,
            &feed_site_path,
            &section.bodies,
        );
        // The feed sits next to the page, in the same directory.
        let feed_file = thread::page_file(&feed_site_path);
        let feed_name = feed_file.file_name().unwrap_or_default();
        let xml = feed.to_xml();
        page.feed_written = write_if_changed(Some(listing), feed_name, xml.as_bytes())
            .map_err(|e| fail(format!("{e:#}")))?;
        if page.feed_written {
            copies_of(&mut page, feed_name, xml.as_bytes());
        }
    }
    Ok(Some(page))
}

/// The marks around the tags a page's head gets for its comments section (ASCII, so
/// they read the same in whatever encoding the page is written).
const HEAD_TAGS: (&str, &str) = ("<!--cairn:head-->", "<!--cairn:head-end-->");
/// What both marks start with.
const HEAD_TAGS_MARK: &str = "<!--cairn:head";

/// Takes the [`HEAD_TAGS`] marks out of a rewritten page (a page with two heads has
/// two pairs), and the tags between them too unless the page got a comments section.
fn unmark_head_tags(output: &mut Vec<u8>, keep: bool) {
    let (open, close) = (HEAD_TAGS.0.as_bytes(), HEAD_TAGS.1.as_bytes());
    let mut from = 0;
    while let Some(start) = memchr::memmem::find(&output[from..], open).map(|at| from + at) {
        let Some(end) = memchr::memmem::find(&output[start..], close).map(|at| start + at) else {
            return;
        };
        if keep {
            output.drain(end..end + close.len());
            output.drain(start..start + open.len());
            from = end - open.len();
        } else {
            output.drain(start..end + close.len());
            from = start;
        }
    }
}

/// Whether a page has placeholders that need every thread read first (counts, lists of
/// the newest comments), found in one pass over its bytes.
fn waits_for_every_thread(page: &[u8]) -> bool {
    const PREFIX: &[u8] = b"data-cairn-";
    memchr::memmem::find_iter(page, PREFIX).any(|at| {
        let rest = &page[at + PREFIX.len()..];
        rest.starts_with(b"count") || rest.starts_with(b"recent")
    })
}

/// The language a page's placeholders ask for (the first `data-cairn-lang`), found in
/// its bytes before the rewriter gets to them: the head, which comes first, links the
/// feed under a title in that language.
fn placeholder_lang(page: &[u8]) -> Option<String> {
    let at = memchr::memmem::find(page, b"data-cairn-lang=")? + "data-cairn-lang=".len();
    let rest = &page[at..];
    let (quote, rest) = match rest.first() {
        Some(&q @ (b'"' | b'\'')) => (Some(q), &rest[1..]),
        _ => (None, rest),
    };
    let end = rest
        .iter()
        .position(|&b| match quote {
            Some(q) => b == q,
            None => b.is_ascii_whitespace() || b == b'>',
        })
        .unwrap_or(rest.len());
    let tag = std::str::from_utf8(&rest[..end]).ok()?.trim();
    (!tag.is_empty()).then(|| tag.to_string())
}

/// Where a page's thread feed goes, as a site path: next to the page, in its directory
/// (`/posts/a/comments.xml`), or named after it (`/about.comments.xml`). `page` is the
/// page's [path](thread::served_path).
fn feed_path(page: &str, file: &str) -> String {
    if page.ends_with('/') {
        format!("{page}{file}")
    } else {
        let (dir, name) = page.rsplit_once('/').unwrap_or(("", page));
        let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
        format!("{dir}/{stem}.{file}")
    }
}

/// The feed of the thread a page shows. `page` is the page's [path](thread::served_path), which
/// its entries link to, and `page_name` its title (or thread).
fn thread_feed<'a>(
    run: &'a Run<'_>,
    comments: &'a Thread,
    renderer: &'a Renderer,
    page: &str,
    page_name: &str,
    feed_site_path: &str,
    bodies: &'a [String],
) -> Feed<'a> {
    let config = run.config;
    let page_url = config.public_url(page);
    let mut entries: Vec<Entry<'a>> = comments
        .comments
        .iter()
        .zip(bodies)
        .map(|(c, html)| entry(renderer, c, html, &page_url, page_name))
        .collect();
    newest_first(&mut entries, config.feeds.entries);
    Feed {
        lang: renderer.language(),
        title: renderer
            .strings
            .fill("feed_thread_title", &[("page", page_name)]),
        self_url: config.public_url(feed_site_path),
        alternate: page_url,
        site: &run.site_name,
        entries,
    }
}

/// The site's feed of its newest comments, `recent` (newest first). Entries link to
/// the thread's own page, at the path it is served at (`places`), else to the thread.
fn site_feed(config: &Config, recent: &[Comment], renderer: &Renderer, places: &Places) -> String {
    let bodies: Vec<String> = recent
        .iter()
        .map(|c| crate::render::markdown::to_html(&c.body))
        .collect();
    let entries = recent
        .iter()
        .zip(&bodies)
        .map(|(c, html)| {
            let page = config.public_url(places.page(&c.thread));
            entry(renderer, c, html, &page, places.name(&c.thread))
        })
        .collect();
    let site_name = config.site_name();
    Feed {
        lang: renderer.language(),
        title: renderer
            .strings
            .fill("feed_site_title", &[("site", &site_name)]),
        self_url: config.public_url(&format!("/{}", config.feeds.file)),
        alternate: config.public_url("/"),
        site: &site_name,
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
    Entry {
        comment: c,
        title: renderer.entry_title(c, page_name),
        author: renderer.author(c),
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
    crate::render::unescape_html(&trimmed)
}

/// The name of a page in feeds and lists of comments ("Ann on Hello, world"): its
/// Open Graph title where the head has one (themes give it the page's own title, where
/// `<title>` often says "Hello, world | My blog"), else its `<title>`; either without
/// the site's name (`og:site_name`, else `site.title`) that starts or ends it, set off
/// by a separator.
fn page_name(title: &str, og_title: Option<&str>, site_name: Option<&str>) -> String {
    let name = og_title
        .map(unescape_title)
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| unescape_title(title));
    let Some(site) = site_name.map(unescape_title).filter(|s| !s.is_empty()) else {
        return name;
    };
    const SEPARATORS: [char; 8] = ['|', '-', '–', '—', '·', '•', ':', '»'];
    let rest = SEPARATORS
        .iter()
        .find_map(|sep| {
            name.strip_suffix(&format!(" {sep} {site}"))
                .or_else(|| name.strip_prefix(&format!("{site} {sep} ")))
        })
        .or_else(|| name.strip_prefix(&format!("{site}: ")))
        .map(str::trim)
        .filter(|rest| !rest.is_empty());
    rest.map_or(name.clone(), str::to_string)
}

/// The file that marks a directory as a copy `cairn render --out` keeps.
pub const COPY_MARK: &str = ".cairn-copy";

/// Copies a built site to `out` (for rendering into a copy, leaving the original as it was).
/// `out` may not be the site itself, lie inside it or hold it: a copy onto itself would
/// empty every file, one inside it would copy itself without end, and one around it
/// would have the render change the original too. Symbolic links are copied as links.
///
/// `out` mirrors the site: what an earlier copy left that the site no longer has (a
/// page since deleted, and what the last render added) is removed first, so it is not
/// published. Only a new or empty directory, or one an earlier copy marked
/// ([`COPY_MARK`]), is written to: files of anyone else's are never removed.
pub fn copy(src: &Path, out: &Path) -> Result<()> {
    anyhow::ensure!(
        src.is_dir(),
        "site directory {} does not exist",
        src.display()
    );
    let cannot_resolve = |path: &Path| format!("cannot resolve {}", path.display());
    let (real_src, real_out) = (
        resolve(src).with_context(|| cannot_resolve(src))?,
        resolve(out).with_context(|| cannot_resolve(out))?,
    );
    let clash = if real_out == real_src {
        Some("is the site directory")
    } else if real_out.starts_with(&real_src) {
        Some("is inside the site directory")
    } else if real_src.starts_with(&real_out) {
        Some("holds the site directory")
    } else {
        None
    };
    if let Some(clash) = clash {
        anyhow::bail!(
            "cannot copy the site to {}: it {clash} {} (name a directory outside it)",
            out.display(),
            src.display()
        );
    }
    let mark = out.join(COPY_MARK);
    if out.is_dir() && !mark.is_file() {
        let empty = std::fs::read_dir(out)
            .with_context(|| format!("cannot read {}", out.display()))?
            .next()
            .is_none();
        anyhow::ensure!(
            empty,
            "cannot copy the site to {}: it holds files that no `cairn render --out` put there \
             (name a new or empty directory, or remove it first)",
            out.display()
        );
    }
    remove_stale(src, out)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    std::fs::write(
        &mark,
        "A copy of a built site that `cairn render --out` keeps: what the site does not \
         have is removed from it on each run.\n",
    )
    .with_context(|| format!("cannot write {}", mark.display()))?;
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.with_context(|| format!("cannot read {}", src.display()))?;
        let target = out.join(entry.path().strip_prefix(src).unwrap_or(entry.path()));
        // A link an earlier copy left where this entry goes is replaced, not written
        // through: it could lead out of `out`.
        if std::fs::symlink_metadata(&target).is_ok_and(|m| m.file_type().is_symlink()) {
            std::fs::remove_file(&target)
                .with_context(|| format!("cannot replace {}", target.display()))?;
        }
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)
                .with_context(|| format!("cannot create {}", target.display()))?;
        } else {
            let cannot = || {
                format!(
                    "cannot copy {} to {}",
                    entry.path().display(),
                    target.display()
                )
            };
            if entry.file_type().is_file() {
                std::fs::copy(entry.path(), &target).with_context(cannot)?;
            } else if entry.file_type().is_symlink() {
                let link = std::fs::read_link(entry.path()).with_context(cannot)?;
                if target.exists() {
                    std::fs::remove_file(&target).with_context(cannot)?;
                }
                std::os::unix::fs::symlink(link, &target).with_context(cannot)?;
            }
        }
    }
    Ok(())
}

/// Removes what `out`, an earlier copy of `src`, holds that `src` does not (or holds as
/// another kind: a directory for a file, a file or link for a directory). Links are
/// removed, never followed.
fn remove_stale(src: &Path, out: &Path) -> Result<()> {
    if !out.is_dir() {
        return Ok(());
    }
    let mut entries = walkdir::WalkDir::new(out).min_depth(1).into_iter();
    while let Some(entry) = entries.next() {
        let entry = entry.with_context(|| format!("cannot read {}", out.display()))?;
        let rel = entry.path().strip_prefix(out).unwrap_or(entry.path());
        if rel == Path::new(COPY_MARK) {
            continue;
        }
        let kept = std::fs::symlink_metadata(src.join(rel))
            .is_ok_and(|m| m.is_dir() == entry.file_type().is_dir());
        if kept {
            continue;
        }
        let cannot = || format!("cannot remove {}", entry.path().display());
        if entry.file_type().is_dir() {
            std::fs::remove_dir_all(entry.path()).with_context(cannot)?;
            entries.skip_current_dir();
        } else {
            std::fs::remove_file(entry.path()).with_context(cannot)?;
        }
    }
    Ok(())
}

/// A path as the file system sees it: absolute, with symbolic links resolved as far as
/// the path exists and `.` and `..` taken out, so two names of one directory compare equal.
fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    use std::path::Component;
    let mut resolved = PathBuf::new();
    for part in std::path::absolute(path)?.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                resolved.pop();
            }
            part => {
                resolved.push(part);
                if let Ok(real) = resolved.canonicalize() {
                    resolved = real;
                }
            }
        }
    }
    Ok(resolved)
}

/// Writes a file only when its content differs, so unchanged files keep their mtime.
/// One handle both reads the old content and writes the new. `path` is relative to
/// the listed directory `dir` when there is one.
fn write_if_changed(
    dir: Option<&Listing<'_>>,
    path: impl AsRef<Path>,
    bytes: &[u8],
) -> Result<bool> {
    use std::io::Read;
    use std::os::unix::fs::FileExt;
    let path = path.as_ref();
    let cannot = || match dir {
        Some(listing) => format!("cannot write {}", listing.path.join(path).display()),
        None => format!("cannot write {}", path.display()),
    };
    let mut file = match dir {
        Some(listing) => listing.open_with(path, OFlags::RDWR | OFlags::CREATE),
        None => std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path),
    }
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
        // A short read of a regular file is its end (see walk::read_to_end).
        if n < chunk.len() {
            break Some(same);
        }
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

/// A page's file, open for writing too where it may be (so a page that changes is not
/// looked up again), and its bytes.
fn open_page(listing: &Listing<'_>, name: &OsString) -> std::io::Result<(std::fs::File, Vec<u8>)> {
    let mut file = match listing.open_with(name, OFlags::RDWR) {
        Err(e)
            if e.kind() == std::io::ErrorKind::PermissionDenied
                || e.raw_os_error() == Some(libc::EROFS) =>
        {
            listing.open(name)?
        }
        opened => opened?,
    };
    // Room for one byte more than the page has, so that one read both fills and ends it.
    let size = file.metadata()?.len() as usize;
    let mut bytes = vec![0; size + 1];
    let len = crate::walk::read_to_end(&mut file, &mut bytes)?;
    bytes.truncate(len);
    Ok((file, bytes))
}

/// Writes a page in place, as site generators write: a new file per page would cost an
/// inode each. The old bytes are overwritten, not truncated away first: ext4 flushes a
/// file truncated to nothing to disk when it is closed, which would make a run wait on
/// the disk for every page. `old_len` is the page's length before; a page opened only
/// for reading is opened again to be written, which says why it cannot be.
fn overwrite(
    file: &mut std::fs::File,
    path: &Path,
    bytes: &[u8],
    old_len: usize,
) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    if let Err(e) = file.write_all_at(bytes, 0) {
        if e.raw_os_error() != Some(libc::EBADF) {
            return Err(e);
        }
        *file = std::fs::OpenOptions::new().write(true).open(path)?;
        file.write_all_at(bytes, 0)?;
    }
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
        for (rel, page, feed) in [
            ("posts/a/index.html", "/posts/a/", "/posts/a/comments.xml"),
            ("index.html", "/", "/comments.xml"),
            ("about.html", "/about.html", "/about.comments.xml"),
            ("a/b.html", "/a/b.html", "/a/b.comments.xml"),
            // A directory with a dot in its name is still a directory.
            (
                "docs/v1.2/index.html",
                "/docs/v1.2/",
                "/docs/v1.2/comments.xml",
            ),
            (
                "docs/v1.2/notes.html",
                "/docs/v1.2/notes.html",
                "/docs/v1.2/notes.comments.xml",
            ),
            (
                "a/myindex.html",
                "/a/myindex.html",
                "/a/myindex.comments.xml",
            ),
        ] {
            let rel = Path::new(rel);
            assert_eq!(thread::served_path(rel), page, "{rel:?}");
            assert_eq!(feed_path(page, "comments.xml"), feed, "{rel:?}");
        }
    }

    #[test]
    fn files_are_written_only_when_their_bytes_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("comments.xml");
        let read = || std::fs::read(&path).unwrap();
        assert!(write_if_changed(None, &path, b"a new file").unwrap());
        assert!(!write_if_changed(None, &path, b"a new file").unwrap());
        assert!(write_if_changed(None, &path, b"short").unwrap());
        assert_eq!(read(), b"short");
        // Longer than one chunk of the comparison.
        let mut long = vec![b'x'; 40_000];
        assert!(write_if_changed(None, &path, &long).unwrap());
        assert_eq!(read(), long);
        assert!(!write_if_changed(None, &path, &long).unwrap());
        long[39_999] = b'y';
        assert!(write_if_changed(None, &path, &long).unwrap());
        assert_eq!(read(), long);
        assert!(write_if_changed(None, &path, &long[..20_000]).unwrap());
        assert_eq!(read(), &long[..20_000]);
        assert!(write_if_changed(None, &path, b"").unwrap());
        assert_eq!(read(), b"");
        // Through a listed directory's handle, as a page's feed is written.
        let written = crate::walk::tree(dir.path(), true, &|listing: Listing<'_>| {
            let first = write_if_changed(Some(&listing), "feed.xml", b"<feed/>").unwrap();
            let again = write_if_changed(Some(&listing), "feed.xml", b"<feed/>").unwrap();
            (first, again)
        })
        .unwrap();
        assert_eq!(written, vec![(true, false)]);
        assert_eq!(
            std::fs::read(dir.path().join("feed.xml")).unwrap(),
            b"<feed/>"
        );
    }

    #[test]
    fn counts_feed_and_problems_take_in_threads_no_page_shows() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let comment = |thread: &str, id: &str, day: u32| {
            let file = root.join(format!("comments{thread}{id}.yml"));
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            let yaml = format!(
                "id: {id}\nthread: {thread}\ndate: 2026-01-{day:02}T00:00:00Z\nauthor: A\nbody: on {thread} day {day}\n"
            );
            std::fs::write(file, yaml).unwrap();
        };
        comment("/a/", "01JD3K8Z6Q9W2F4T7Y5M1N0AAA", 1);
        comment("/a/", "01JD3K8Z6Q9W2F4T7Y5M1N0AAB", 4);
        comment("/b/", "01JD3K8Z6Q9W2F4T7Y5M1N0BBA", 2);
        comment("/b/", "01JD3K8Z6Q9W2F4T7Y5M1N0BBB", 5);
        comment("/b/", "01JD3K8Z6Q9W2F4T7Y5M1N0BBC", 3);
        std::fs::create_dir_all(root.join("comments/c")).unwrap();
        std::fs::write(root.join("comments/c/broken.yml"), "id: [\n").unwrap();
        let site = root.join("public");
        std::fs::create_dir_all(site.join("a")).unwrap();
        // The page with counts comes first in the walk, before the page showing /a/.
        std::fs::write(
            site.join("index.html"),
            r#"<p><span data-cairn-count="/a/"></span> <span data-cairn-count="/b/"></span></p>"#,
        )
        .unwrap();
        std::fs::write(
            site.join("a/index.html"),
            r#"<title>A</title><div id="cairn-comments"></div>"#,
        )
        .unwrap();
        let mut config = Config::default_for_test(root);
        config.feeds.entries = 3;
        let index = Index::scan(&config.comments_dir(), &config.form).unwrap();
        let report = render(&config, &index, &site, &|_| {}).unwrap();

        let home = std::fs::read_to_string(site.join("index.html")).unwrap();
        assert!(home.contains(">2 comments</span>") && home.contains(">3 comments</span>"));
        assert_eq!(
            report.unpaged_threads,
            [Unpaged {
                thread: "/b/".into(),
                likely: None
            }]
        );
        assert_eq!(report.sections, 1);
        assert_eq!(report.comments_rendered, 2);
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(report.problems[0].path.ends_with("comments/c/broken.yml"));
        // The site's feed holds the newest three, whichever page (if any) shows them.
        let feed = std::fs::read_to_string(site.join(&config.feeds.file)).unwrap();
        let days: Vec<&str> = feed
            .match_indices("day ")
            .map(|(at, _)| &feed[at + 4..at + 5])
            .collect();
        assert_eq!(days, ["5", "4", "3"], "{feed}");
    }

    /// A comment saying "Hi" on each `(thread, id)`, in the comments dir under `root`.
    fn write_comments(root: &Path, comments: &[(&str, &str)]) {
        for (thread, id) in comments {
            let file = root.join(format!("comments{thread}/{id}.yml"));
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            let yaml =
                format!("id: {id}\nthread: {thread}\ndate: 2026-01-01T00:00:00Z\nbody: Hi\n");
            std::fs::write(file, yaml).unwrap();
        }
    }

    /// `../a/` (Pelican's relative URLs, MkDocs's `url` filter) leads where a browser
    /// takes it: from the page, or from its `<base href>`.
    #[test]
    fn relative_links_count_the_page_they_lead_to() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write_comments(
            root,
            &[
                ("/a/", "01JD3K8Z6Q9W2F4T7Y5M1N0AAA"),
                ("/x/y/", "01JD3K8Z6Q9W2F4T7Y5M1N0BBA"),
                ("/x/y/", "01JD3K8Z6Q9W2F4T7Y5M1N0BBB"),
            ],
        );
        let site = root.join("public");
        std::fs::create_dir_all(site.join("x/y")).unwrap();
        let counts = r#"<span data-cairn-count="../../a/">-</span>
<span data-cairn-count="./">-</span>
<span data-cairn-count="../y/#top">-</span>
<span data-cairn-count="./a/">-</span>"#;
        std::fs::write(site.join("x/y/index.html"), counts).unwrap();
        std::fs::write(
            site.join("x/based.html"),
            format!("<head><base href=\"/blog/\"></head>{counts}"),
        )
        .unwrap();
        let mut config = Config::default_for_test(root);
        config.site.url = "https://example.org/blog/".into();
        let index = Index::scan(&config.comments_dir(), &config.form).unwrap();
        render(&config, &index, &site, &|_| {}).unwrap();
        let shown = |page: &str| -> Vec<String> {
            let html = std::fs::read_to_string(site.join(page)).unwrap();
            html.match_indices("\">")
                .map(|(at, _)| html[at + 2..].split('<').next().unwrap().to_string())
                .filter(|count| count.contains("omment"))
                .collect()
        };
        assert_eq!(
            shown("x/y/index.html"),
            ["1 comment", "2 comments", "2 comments", "No comments"]
        );
        // From `/blog/x/based.html`, with its base `/blog/`: `./` is the home page, `./a/`
        // is `/a/`, and `../../a/` and `../y/` lead out of the site and are left as they
        // were.
        assert_eq!(shown("x/based.html"), ["No comments", "1 comment"]);
    }

    #[test]
    fn links_without_the_extension_count_the_comments_of_page_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write_comments(
            root,
            &[
                ("/2026/hello.html", "01JD3K8Z6Q9W2F4T7Y5M1N0AAA"),
                ("/2026/hello.html", "01JD3K8Z6Q9W2F4T7Y5M1N0AAB"),
                ("/both.html", "01JD3K8Z6Q9W2F4T7Y5M1N0BBA"),
                ("/2026/rust-1.40.html", "01JD3K8Z6Q9W2F4T7Y5M1N0CCA"),
                ("/v1.2.html", "01JD3K8Z6Q9W2F4T7Y5M1N0DDA"),
            ],
        );
        let site = root.join("public");
        std::fs::create_dir_all(site.join("2026")).unwrap();
        std::fs::create_dir_all(site.join("both")).unwrap();
        // As Jekyll builds `permalink: /:year/:title`: the page is a file, its links
        // have no extension.
        let page = r#"<div id="cairn-comments"></div>"#;
        std::fs::write(site.join("2026/hello.html"), page).unwrap();
        // A name with a dot: `permalink: /:year/:title` for "Rust 1.40".
        std::fs::write(site.join("2026/rust-1.40.html"), page).unwrap();
        // /both/ is a page of its own (without comments), next to both.html.
        std::fs::write(site.join("both.html"), page).unwrap();
        std::fs::write(site.join("both/index.html"), page).unwrap();
        std::fs::create_dir_all(site.join("v1.2")).unwrap();
        std::fs::write(site.join("v1.2.html"), page).unwrap();
        std::fs::write(site.join("v1.2/index.html"), page).unwrap();
        std::fs::write(
            site.join("index.html"),
            r#"<span data-cairn-count="/2026/hello">-</span>
<span data-cairn-count="/2026/hello/">-</span>
<span data-cairn-count="/2026/hello.html">-</span>
<span data-cairn-count="/both">-</span>
<span data-cairn-count="/2026/rust-1.40">-</span>
<span data-cairn-count="/v1.2">-</span>
<span data-cairn-count="/nowhere">-</span>
<span data-cairn-count="/nowhere.v2">-</span>"#,
        )
        .unwrap();
        let config = Config::default_for_test(root);
        let index = Index::scan(&config.comments_dir(), &config.form).unwrap();
        render(&config, &index, &site, &|_| {}).unwrap();
        let home = std::fs::read_to_string(site.join("index.html")).unwrap();
        let counts: Vec<&str> = home
            .lines()
            .map(|line| &line[line.find('>').unwrap() + 1..line.find("</").unwrap()])
            .collect();
        assert_eq!(
            counts,
            [
                "2 comments",
                "2 comments",
                "2 comments",
                "No comments",
                "1 comment",
                "No comments",
                "No comments",
                "No comments"
            ],
            "{home}"
        );
    }

    #[test]
    fn a_list_of_the_newest_comments_links_each_to_its_page() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let comment = |thread: &str, id: &str, day: u32, author: &str| {
            let file = root.join(format!("comments{thread}{id}.yml"));
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            // Bob is the site's own.
            let author = match author {
                "" => String::new(),
                "Bob" => "author: Bob\navatar: 0123456789abcdef\n".into(),
                _ => format!("author: {author}\n"),
            };
            let yaml = format!(
                "id: {id}\nthread: {thread}\ndate: 2026-01-{day:02}T00:00:00Z\n{author}body: Day {day}\n"
            );
            std::fs::write(file, yaml).unwrap();
        };
        comment("/a/", "01JD3K8Z6Q9W2F4T7Y5M1N0AAA", 1, "Ann");
        comment("/a/", "01JD3K8Z6Q9W2F4T7Y5M1N0AAB", 2, "");
        comment("/b/", "01JD3K8Z6Q9W2F4T7Y5M1N0BBA", 3, "Bob");
        comment("/c/", "01JD3K8Z6Q9W2F4T7Y5M1N0CCA", 4, "Cy");
        let site = root.join("public");
        for (page, html) in [
            (
                "index.html",
                "<title>Home</title><aside><div data-cairn-recent=\"3\"></div>\
                 <div id=\"all\" data-cairn-recent></div><div data-cairn-recent=\"many\">x</div></aside>",
            ),
            (
                "a/index.html",
                "<title>Post &amp; A</title><div id=\"cairn-comments\"></div>",
            ),
            // A post with the list in its sidebar waits for every thread, and is
            // named from its head all the same, without the site's name.
            (
                "b/index.html",
                "<head><title>B | Blog</title><meta property=\"og:site_name\" content=\"Blog\">\
                 </head><div id=\"cairn-comments\"></div><aside><div data-cairn-recent=\"2\"></div></aside>",
            ),
        ] {
            std::fs::create_dir_all(site.join(page).parent().unwrap()).unwrap();
            std::fs::write(site.join(page), html).unwrap();
        }
        let mut config = Config::default_for_test(root);
        config.site.url = "https://example.org/blog/".into();
        config.comments.owners = vec!["0123456789abcdef".into()];
        let index = Index::scan(&config.comments_dir(), &config.form).unwrap();
        let report = render(&config, &index, &site, &|_| {}).unwrap();

        let home = std::fs::read_to_string(site.join("index.html")).unwrap();
        let lists: Vec<&str> = home
            .split("<ul class=\"cairn-recent\" data-pagefind-ignore=\"all\">")
            .skip(1)
            .collect();
        assert_eq!(lists.len(), 2, "{home}");
        let items = |list: &str| -> Vec<String> {
            list.split("<li")
                .skip(1)
                .map(|li| li[..li.find("</li>").unwrap()].to_string())
                .collect()
        };
        // Newest first; a thread no page shows is named by its path; the site's own
        // comment has a class of its own.
        assert_eq!(
            items(lists[0]),
            [
                "><a href=\"/blog/c/#c-01JD3K8Z6Q9W2F4T7Y5M1N0CCA\">Cy on /c/</a> \
                 <time datetime=\"2026-01-04T00:00:00Z\">January 4, 2026</time>",
                " class=\"cairn-owner\"><a href=\"/blog/b/#c-01JD3K8Z6Q9W2F4T7Y5M1N0BBA\">Bob on B</a> \
                 <time datetime=\"2026-01-03T00:00:00Z\">January 3, 2026</time>",
                "><a href=\"/blog/a/#c-01JD3K8Z6Q9W2F4T7Y5M1N0AAB\">Anonymous on Post &amp; A</a> \
                 <time datetime=\"2026-01-02T00:00:00Z\">January 2, 2026</time>",
            ]
        );
        // Five when the list does not say: here, all four.
        assert_eq!(items(lists[1]).len(), 4);
        assert!(items(lists[1])[3].contains("Ann on Post &amp; A"));
        let b = std::fs::read_to_string(site.join("b/index.html")).unwrap();
        assert!(b.contains(">Bob on B</a>"), "{b}");
        assert!(b.contains("title=\"Comments on B\""), "{b}");
        assert!(home.ends_with("<div data-cairn-recent=\"many\">x</div></aside>"));
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(report.problems[0]
            .message
            .contains("data-cairn-recent=\"many\""));

        // Rendering again changes nothing.
        render(&config, &index, &site, &|_| {}).unwrap();
        assert_eq!(
            std::fs::read_to_string(site.join("index.html")).unwrap(),
            home
        );
    }

    /// A site root with one comment on `/a/`, and a built site whose `a/index.html`
    /// is `page`; returns the built site's path.
    fn one_comment_on_a(root: &Path, page: &str) -> PathBuf {
        let file = root.join("comments/a/01JD3K8Z6Q9W2F4T7Y5M1N0AAA.yml");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(
            file,
            "id: 01JD3K8Z6Q9W2F4T7Y5M1N0AAA\nthread: /a/\ndate: 2026-01-01T00:00:00Z\nbody: Hi\n",
        )
        .unwrap();
        let site = root.join("public");
        std::fs::create_dir_all(site.join("a")).unwrap();
        std::fs::write(site.join("a/index.html"), page).unwrap();
        site
    }

    #[test]
    fn a_thread_without_a_page_is_told_the_page_its_path_names_in_another_case_or_as_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let site = root.join("public");
        for page in ["posts/hello", "bb", "BB", "2011/10/suzhou", "p/about"] {
            std::fs::create_dir_all(site.join(page)).unwrap();
            std::fs::write(
                site.join(page).join("index.html"),
                r#"<div id="cairn-comments"></div>"#,
            )
            .unwrap();
        }
        let threads = [
            "/Posts/Hello/",
            "/bB/",
            "/gone/",
            "/2011/10/suzhou.html",
            "/p/About.htm",
            "/gone.html",
        ];
        for (n, thread) in threads.iter().enumerate() {
            let id = format!("01JD3K8Z6Q9W2F4T7Y5M1N0AA{n}");
            let folder = root.join("comments").join(thread.trim_matches('/'));
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(
                folder.join(format!("{id}.yml")),
                format!("id: {id}\nthread: {thread}\ndate: 2026-01-01T00:00:00Z\nbody: Hi\n"),
            )
            .unwrap();
        }
        let config = Config::default_for_test(root);
        let index = Index::scan(&config.comments_dir(), &config.form).unwrap();
        let report = render(&config, &index, &site, &|_| {}).unwrap();
        let unpaged = |thread: &str, likely: Option<(&str, Difference)>| Unpaged {
            thread: thread.into(),
            likely: likely.map(|(page, how)| (page.to_string(), how)),
        };
        assert_eq!(
            report.unpaged_threads,
            [
                unpaged(
                    "/2011/10/suzhou.html",
                    Some(("/2011/10/suzhou/", Difference::Folder))
                ),
                unpaged("/Posts/Hello/", Some(("/posts/hello/", Difference::Case))),
                // /bb/ and /BB/ both have a page: which one is meant, only the site knows.
                unpaged("/bB/", None),
                unpaged("/gone.html", None),
                unpaged("/gone/", None),
                // The folder is there in another case only: nothing is guessed twice.
                unpaged("/p/About.htm", None),
            ]
        );
    }

    #[test]
    fn a_problem_of_many_pages_is_said_once_naming_the_first_and_counting_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // A layout's mistakes, on every page made from it; and one page's own.
        let layout = r#"<div id="cairn-comments"></div><div id="cairn-comments"></div>
                        <img data-cairn-count="/a/"><aside data-cairn-recent="ten"></aside>"#;
        let site = one_comment_on_a(root, layout);
        for page in ["b", "c", "d"] {
            std::fs::create_dir_all(site.join(page)).unwrap();
            std::fs::write(site.join(page).join("index.html"), layout).unwrap();
        }
        std::fs::create_dir_all(site.join("e")).unwrap();
        std::fs::write(
            site.join("e/index.html"),
            r#"<aside data-cairn-recent="five"></aside><img id="cairn-comments">"#,
        )
        .unwrap();
        let config = Config::default_for_test(root);
        let index = Index::scan(&config.comments_dir(), &config.form).unwrap();
        let report = render(&config, &index, &site, &|_| {}).unwrap();

        let said: Vec<(String, &str)> = report
            .problems
            .iter()
            .map(|p| {
                let page = p.path.strip_prefix(&site).unwrap();
                (page.display().to_string(), p.message.as_str())
            })
            .collect();
        let a = "a/index.html".to_string();
        let e = "e/index.html".to_string();
        assert_eq!(
            said,
            [
                (
                    a.clone(),
                    "a second id=\"cairn-comments\" placeholder: left as it was (a page holds \
                     one comments section); the same on 3 other pages"
                ),
                (
                    a.clone(),
                    "data-cairn-count on <img>, an element that cannot hold content: left as it \
                     was (put it on a <div> or a <span>); the same on 3 other pages"
                ),
                (
                    a,
                    "data-cairn-recent=\"ten\": not a number of comments; placeholder left as it \
                     was; the same on 3 other pages"
                ),
                (
                    e.clone(),
                    "data-cairn-recent=\"five\": not a number of comments; placeholder left as \
                     it was"
                ),
                (
                    e,
                    "id=\"cairn-comments\" on <img>, an element that cannot hold content: left as \
                     it was (put it on a <div> or a <span>)"
                ),
            ],
            "each page's problems in the order of the page, each problem once"
        );
        assert_eq!(report.sections, 4, "the pages are rendered all the same");
    }

    /// Templates escape what they print into attributes (`&` as `&amp;`): the thread
    /// is what a browser reads there.
    #[test]
    fn a_placeholders_thread_is_read_with_its_character_references_decoded() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let site = one_comment_on_a(root, "<p>page</p>");
        let file = root.join("comments/q&a/01JD3K8Z6Q9W2F4T7Y5M1N0QQA.yml");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(
            file,
            "id: 01JD3K8Z6Q9W2F4T7Y5M1N0QQA\nthread: /q&a/\ndate: 2026-01-01T00:00:00Z\nbody: Asked\n",
        )
        .unwrap();
        std::fs::write(
            site.join("a/index.html"),
            r#"<span data-cairn-count="/q&amp;a/"></span><div id="cairn-comments" data-cairn-thread="/q&#38;a/"></div>"#,
        )
        .unwrap();
        let config = Config::default_for_test(root);
        let index = Index::scan(&config.comments_dir(), &config.form).unwrap();
        let report = render(&config, &index, &site, &|_| {}).unwrap();

        let page = std::fs::read_to_string(site.join("a/index.html")).unwrap();
        assert!(page.contains(">1 comment</span>"), "{page}");
        assert!(page.contains("<p>Asked</p>"), "{page}");
        assert_eq!(
            report.unpaged_threads.len(),
            1,
            "only /a/ has no page showing it"
        );
    }

    #[test]
    fn a_page_gets_one_comments_section_and_a_warning_for_another_placeholder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let second = r#"<div id="cairn-comments" data-cairn-thread="/b/"></div>"#;
        let site = one_comment_on_a(root, &format!(r#"<div id="cairn-comments"></div>{second}"#));
        let config = Config::default_for_test(root);
        let index = Index::scan(&config.comments_dir(), &config.form).unwrap();
        let report = render(&config, &index, &site, &|_| {}).unwrap();

        let page = std::fs::read_to_string(site.join("a/index.html")).unwrap();
        assert_eq!(page.matches("id=\"cairn-form\"").count(), 1, "{page}");
        assert!(
            page.contains("id=\"c-01JD3K8Z6Q9W2F4T7Y5M1N0AAA\""),
            "{page}"
        );
        assert!(page.ends_with(second), "{page}");
        assert_eq!(report.sections, 1);
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(report.problems[0].path.ends_with("a/index.html"));
        assert!(report.problems[0]
            .message
            .contains("second id=\"cairn-comments\""));
    }

    /// Pages whose form browsers would not bring to the inbox get one warning for each
    /// reason, naming the first of them: a referrer policy that has the form sent
    /// without the page's origin to an inbox on another site, which turns such posts
    /// away; a Content-Security-Policy whose `form-action` leaves the inbox out. Pages
    /// without a form, whose last referrer policy sends the origin, or whose policy
    /// lets the form through do not count, nor does a hidden origin when the inbox is
    /// on the site's domain.
    #[test]
    fn pages_whose_form_would_not_reach_the_inbox_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let section = r#"<div id="cairn-comments"></div>"#;
        let no_referrer = r#"<meta name="referrer" content="no-referrer">"#;
        let csp = |policy: &str| {
            format!(r#"<meta http-equiv="Content-Security-Policy" content="{policy}">"#)
        };
        let pages = [
            ("a", format!("<head>{no_referrer}</head>{section}")),
            (
                "b",
                format!(
                    r#"<head><META NAME="Referrer" content="Same-Origin"><meta name="referrer" content=" origin "></head>{section}"#
                ),
            ),
            (
                "c",
                format!(
                    r#"<head>{no_referrer}<meta name="referrer" content="strict-origin-when-cross-origin"></head>{section}"#
                ),
            ),
            (
                "d",
                format!(
                    r#"{no_referrer}{}<span data-cairn-count="/a/"></span>"#,
                    csp("form-action 'none'")
                ),
            ),
            (
                "e",
                format!("{no_referrer}{}{section}", csp("form-action 'self'")),
            ),
            (
                "f",
                format!(r#"{no_referrer}<meta name="referrer" content="nobody">{section}"#),
            ),
            (
                "g",
                format!(
                    "{}{}{section}",
                    csp("default-src *"),
                    csp("default-src 'self'; form-action 'self'")
                ),
            ),
            (
                "h",
                format!(
                    "{}{section}",
                    csp("form-action 'self' https://*.example.org https://cairn.fly.dev")
                ),
            ),
            ("i", format!("{}{section}", csp("form-action 'self'"))),
        ];
        std::fs::create_dir(root.join("comments")).unwrap();
        let site = root.join("public");
        let mut config = Config::default_for_test(root);
        config.comments.closed = vec!["/e/".into()];
        for inbox in ["https://comments.example.org", "https://cairn.fly.dev"] {
            for (name, page) in &pages {
                std::fs::create_dir_all(site.join(name)).unwrap();
                std::fs::write(site.join(name).join("index.html"), page).unwrap();
            }
            config.inbox.url = inbox.into();
            let index = Index::scan(&config.comments_dir(), &config.form).unwrap();
            let report = render(&config, &index, &site, &|_| {}).unwrap();
            let elsewhere = inbox.contains("fly");
            assert_eq!(
                report.problems.len(),
                1 + usize::from(elsewhere),
                "{:?}",
                report.problems
            );
            assert!(report
                .problems
                .iter()
                .all(|p| p.severity == Severity::Warning));
            let warned = |page: &str, parts: &[&str]| {
                let warning = report
                    .problems
                    .iter()
                    .find(|p| p.path.ends_with(format!("{page}/index.html")))
                    .unwrap_or_else(|| panic!("no warning for {page}: {:?}", report.problems));
                for part in parts {
                    assert!(
                        warning.message.contains(part),
                        "{part}: {}",
                        warning.message
                    );
                }
            };
            warned(
                "g",
                &[
                    "the Content-Security-Policy of this page and 1 other page with the form \
                     lets forms post only to \"'self'\" (form-action)",
                    &format!("to {inbox}/v1/comments: add {inbox} to its form-action"),
                ],
            );
            if elsewhere {
                warned(
                    "a",
                    &[
                        "referrer policy \"no-referrer\" of this page and 2 other pages with the form",
                        "the inbox (https://cairn.fly.dev) is on another site",
                    ],
                );
            }
        }
    }

    /// Policies the host sends, from its `_headers` file, count as a page's own do, for
    /// the pages its rules hold for.
    #[test]
    fn policies_from_the_hosts_headers_file_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("comments")).unwrap();
        let site = root.join("public");
        for page in ["posts/a", "about"] {
            std::fs::create_dir_all(site.join(page)).unwrap();
            std::fs::write(
                site.join(page).join("index.html"),
                r#"<div id="cairn-comments"></div>"#,
            )
            .unwrap();
        }
        std::fs::write(
            site.join("_headers"),
            "/posts/*\n  Referrer-Policy: no-referrer\n  Content-Security-Policy: default-src 'self', form-action 'self'\n",
        )
        .unwrap();
        let mut config = Config::default_for_test(root);
        config.inbox.url = "https://cairn.fly.dev".into();
        let index = Index::scan(&config.comments_dir(), &config.form).unwrap();
        let report = render(&config, &index, &site, &|_| {}).unwrap();
        assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
        for (problem, part) in report.problems.iter().zip([
            "the referrer policy \"no-referrer\" (from _headers) of this page has",
            "the Content-Security-Policy (from _headers) of this page lets forms post only to \"'self'\"",
        ]) {
            assert!(problem.path.ends_with("posts/a/index.html"), "{problem:?}");
            assert!(problem.message.contains(part), "{part}: {}", problem.message);
        }
    }

    /// A comment whose HTML nests deeper than a page shows is shown as text, and the
    /// render says which and why; the others on the page render as usual.
    #[test]
    fn a_comment_nested_too_deep_is_shown_as_text_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let site = one_comment_on_a(root, r#"<div id="cairn-comments"></div>"#);
        let deep = format!("{}x", "<div>".repeat(5_000));
        std::fs::write(
            root.join("comments/a/01JD3K8Z6Q9W2F4T7Y5M1N0AAB.yml"),
            format!(
                "id: 01JD3K8Z6Q9W2F4T7Y5M1N0AAB\nthread: /a/\ndate: 2026-01-02T00:00:00Z\nbody: '{deep}'\n"
            ),
        )
        .unwrap();
        let config = Config::default_for_test(root);
        let index = Index::scan(&config.comments_dir(), &config.form).unwrap();
        let report = render(&config, &index, &site, &|_| {}).unwrap();
        assert_eq!(report.comments_rendered, 2);
        let page = std::fs::read_to_string(site.join("a/index.html")).unwrap();
        assert!(page.contains("<p>Hi</p>"), "{page}");
        assert!(page.contains(&format!("<p>{}x</p>", "&lt;div&gt;".repeat(5_000))));
        assert!(!page.contains("<div><div>"));
        let warnings: Vec<_> = report
            .problems
            .iter()
            .filter(|p| p.message.contains("shown as text"))
            .collect();
        assert_eq!(warnings.len(), 1, "{:?}", report.problems);
        assert!(warnings[0].path.ends_with("a/index.html"));
        assert_eq!(warnings[0].severity, Severity::Warning);
        assert_eq!(
            warnings[0].message,
            "comment 01JD3K8Z6Q9W2F4T7Y5M1N0AAB of /a/: its HTML nests more than 100 \
             levels deep, so it is shown as text"
        );
    }

    #[test]
    fn placeholders_written_self_closing_keep_the_rest_of_the_page() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let site = one_comment_on_a(
            root,
            "<head></head><body><main><p>Count: <span data-cairn-count='/a/' title='say \"hi\"' hidden/> \
             so far</p><DIV ID=\"cairn-comments\" class=x /><p>The footer &amp; more</p>\
             </main></body>",
        );
        let config = Config::default_for_test(root);
        let index = Index::scan(&config.comments_dir(), &config.form).unwrap();
        let report = render(&config, &index, &site, &|_| {}).unwrap();
        assert_eq!(report.sections, 1);
        assert!(report.problems.is_empty(), "{:?}", report.problems);

        let page = std::fs::read_to_string(site.join("a/index.html")).unwrap();
        assert!(
            page.contains(
                "<span data-cairn-count=\"/a/\" title=\"say &quot;hi&quot;\" hidden=\"\">\
                 1 comment</span> so far</p><DIV ID=\"cairn-comments\" class=\"x\"><section"
            ),
            "{page}"
        );
        assert!(
            page.contains("</section></DIV><p>The footer &amp; more</p></main></body>"),
            "{page}"
        );
        assert!(
            page.contains("id=\"c-01JD3K8Z6Q9W2F4T7Y5M1N0AAA\""),
            "{page}"
        );

        let again = render(&config, &index, &site, &|_| {}).unwrap();
        assert_eq!(again.pages_written, 0);
        assert_eq!(
            std::fs::read_to_string(site.join("a/index.html")).unwrap(),
            page
        );
    }

    /// Writes each (name, page) as the built site's `name/index.html` under `root`, and
    /// renders the site with the default configuration.
    fn render_pages(root: &Path, pages: &[(&str, &str)]) -> (Config, Index) {
        let site = root.join("public");
        for (name, html) in pages {
            std::fs::create_dir_all(site.join(name)).unwrap();
            std::fs::write(site.join(name).join("index.html"), html).unwrap();
        }
        let config = Config::default_for_test(root);
        let index = Index::scan(&config.comments_dir(), &config.form).unwrap();
        render(&config, &index, &site, &|_| {}).unwrap();
        (config, index)
    }

    #[test]
    fn minified_pages_without_head_tags_get_the_stylesheet_and_their_title() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let site = root.join("public");
        let pages = [
            // `</head>` left out, as minify-html (Zola's minify_html) does.
            ("a", "<!doctype html><html lang=en><head><meta charset=utf-8><title>A &amp; B</title><link rel=stylesheet href=/x.css><div id=cairn-comments></div><p>foot"),
            // No head tags at all; an icon's title after the page's.
            ("b", "<!doctype html><meta charset=utf-8><title>B page</title><svg><title>icon</title></svg><div id=cairn-comments></div>"),
            // No title of its own: an icon's is not taken for it.
            ("c", "<!doctype html><svg><title>icon</title></svg><div id=cairn-comments></div>"),
        ];
        let (config, index) = render_pages(root, &pages);

        let read = |name: &str| std::fs::read_to_string(site.join(name)).unwrap();
        for (name, _) in pages {
            let page = read(&format!("{name}/index.html"));
            assert!(
                page.contains(
                    "<div id=cairn-comments><link rel=\"stylesheet\" href=\"../cairn.css\" \
                     data-cairn><script src=\"../cairn.js\" defer data-cairn></script><section"
                ),
                "{page}"
            );
            assert_eq!(page.matches("cairn.css").count(), 1, "{page}");
        }
        assert!(read("a/index.html").ends_with("</section></div><p>foot"));
        let title = |name: &str| {
            let feed = read(&format!("{name}/comments.xml"));
            let at = feed.find("<title>").unwrap() + "<title>".len();
            feed[at..at + feed[at..].find('<').unwrap()].to_string()
        };
        assert_eq!(title("a"), "Comments on A &amp; B");
        assert_eq!(title("b"), "Comments on B page");
        assert_eq!(title("c"), "Comments on /c/");

        let again = render(&config, &index, &site, &|_| {}).unwrap();
        assert_eq!(again.pages_written, 0);
        assert_eq!(again.feeds_written, 0);
    }

    #[test]
    fn only_pages_that_get_a_section_get_its_stylesheet_and_feed_link() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let site = root.join("public");
        let docs = "<html><head><title>Docs</title></head><body><p>Add \
                    <code>&lt;div id=\"cairn-comments\"&gt;</code> to your layout.</p>";
        let void = "<html><head><title>Void</title></head><body><img id=\"cairn-comments\">";
        let quoted = "<html><head><title>Marks</title></head><body><p><!--cairn:head--></p>\
                      <div id=\"cairn-comments\"></div>";
        std::fs::create_dir_all(site.join("latin")).unwrap();
        std::fs::write(
            site.join("latin/index.html"),
            b"<html><head><meta charset=\"iso-8859-1\"><title>Caf\xe9</title></head>\
              <body><div id=\"cairn-comments\"></div>",
        )
        .unwrap();
        let pages = [("docs", docs), ("void", void), ("quoted", quoted)];
        let (config, index) = render_pages(root, &pages);

        let read = |name: &str| std::fs::read(site.join(name)).unwrap();
        assert_eq!(read("docs/index.html"), docs.as_bytes());
        assert_eq!(read("void/index.html"), void.as_bytes());
        assert!(!site.join("docs/comments.xml").exists());
        let latin = read("latin/index.html");
        let head = &latin[..memchr::memmem::find(&latin, b"</head>").unwrap()];
        assert!(
            memchr::memmem::find(head, b"title=\"Comments on Caf\xe9\"").is_some()
                && memchr::memmem::find(head, b"cairn.css").is_some()
                && memchr::memmem::find(&latin, b"cairn:head").is_none(),
            "{}",
            String::from_utf8_lossy(&latin)
        );
        let quoted = String::from_utf8(read("quoted/index.html")).unwrap();
        assert!(quoted.contains("<p><!--cairn:head--></p>"), "{quoted}");
        assert_eq!(quoted.matches("cairn.css").count(), 1, "{quoted}");

        let again = render(&config, &index, &site, &|_| {}).unwrap();
        assert_eq!((again.pages_written, again.feeds_written), (0, 0));
    }

    /// A placeholder inside another goes with that one's content when it is filled: a
    /// section there would be lost, and its stylesheet, feed link and feed left
    /// without it on the page; a second run would find no placeholder and take them out.
    #[test]
    fn placeholders_inside_a_filled_placeholder_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let site = root.join("public");
        let page = "<html><head><title>N</title></head><body><p><span data-cairn-count=\"/a/\">\
                    <div id=\"cairn-comments\"></div><b data-cairn-count=\"/b/\">-</b></span>\
                    <span data-cairn-recent=\"1\"><i data-cairn-count=\"/c/\"></i></span></p>\
                    <div id=\"cairn-comments\"></div>";
        let (config, index) = render_pages(root, &[("n", page)]);
        let shown = std::fs::read_to_string(site.join("n/index.html")).unwrap();
        assert_eq!(shown.matches("cairn.css").count(), 1, "{shown}");
        assert_eq!(shown.matches("<form").count(), 1, "{shown}");
        assert!(!shown.contains("data-cairn-count=\"/b/\""), "{shown}");
        assert!(site.join("n/comments.xml").exists());
        let again = render(&config, &index, &site, &|_| {}).unwrap();
        assert_eq!((again.pages_written, again.feeds_written), (0, 0));
    }

    #[test]
    fn the_feed_link_in_the_head_is_titled_as_its_feed_in_the_placeholders_language() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let site = root.join("public");
        let pages = [
            ("a", "<html><head><title>Tom &amp; Jerry</title></head><body><div id=\"cairn-comments\"></div>"),
            ("b", "<html><head><title>Hallo</title></head><body><div id=cairn-comments data-cairn-lang=de-AT></div>"),
            ("c", "<html><head></head><body><div id='cairn-comments' data-cairn-lang='xx'></div>"),
            // As Jekyll's SEO tag and Hugo's Open Graph template write the head.
            ("d", "<html><head><title>Moss | Field notes</title><meta property=\"og:title\" content=\"Moss\"></head><body><div id=\"cairn-comments\"></div>"),
            ("e", "<html><head><title>Lichen &amp; moss – Field notes</title><meta property=\"og:site_name\" content=\"Field notes\"></head><body><div id=\"cairn-comments\"></div>"),
        ];
        let (config, _) = render_pages(root, &pages);
        let link = |name: &str| {
            let page = std::fs::read_to_string(site.join(name).join("index.html")).unwrap();
            let at = page.find("<link rel=\"alternate\"").expect(&page);
            page[at..at + page[at..].find('>').unwrap() + 1].to_string()
        };
        let feed = |name: &str| config.public_url(&format!("/{name}/comments.xml"));
        assert_eq!(
            link("a"),
            format!("<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Comments on Tom &amp; Jerry\" href=\"{}\" data-cairn>", feed("a"))
        );
        assert!(
            link("b").contains("title=\"Kommentare zu Hallo\""),
            "{}",
            link("b")
        );
        // No title: the thread names the page; a language cairn lacks: the site's.
        assert!(
            link("c").contains("title=\"Comments on /c/\""),
            "{}",
            link("c")
        );
        let de = std::fs::read_to_string(site.join("b/comments.xml")).unwrap();
        assert!(de.contains("<title>Kommentare zu Hallo</title>"), "{de}");
        // The page's own title, without the site's name, where the head gives it.
        assert!(
            link("d").contains("title=\"Comments on Moss\""),
            "{}",
            link("d")
        );
        assert!(
            link("e").contains("title=\"Comments on Lichen &amp; moss\""),
            "{}",
            link("e")
        );
        let e = std::fs::read_to_string(site.join("e/comments.xml")).unwrap();
        assert!(
            e.contains("<title>Comments on Lichen &amp; moss</title>"),
            "{e}"
        );
    }

    #[test]
    fn the_sites_title_names_its_feed_and_comes_off_page_titles() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let site = one_comment_on_a(
            root,
            "<html><head><title>Moss &amp; lichen · Field notes</title></head><body>\
             <div id=\"cairn-comments\"></div>",
        );
        let mut config = Config::default_for_test(root);
        config.site.title = Some("Field notes".into());
        let index = Index::scan(&config.comments_dir(), &config.form).unwrap();
        render(&config, &index, &site, &|_| {}).unwrap();
        let page = std::fs::read_to_string(site.join("a/index.html")).unwrap();
        assert!(
            page.contains("title=\"Comments on Moss &amp; lichen\""),
            "{page}"
        );
        let feed = std::fs::read_to_string(site.join("comments.xml")).unwrap();
        assert!(
            feed.contains("<title>Comments on Field notes</title>"),
            "{feed}"
        );
        assert!(feed.contains("on Moss &amp; lichen</title>"), "{feed}");
    }

    #[test]
    fn placeholders_on_void_elements_are_reported_and_the_others_filled() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let html = "<p><img id=\"cairn-comments\" src=\"x.png\"><input data-cairn-count=\"/a/\">\
                    <span data-cairn-count=\"/a/\"></span>";
        let site = one_comment_on_a(root, html);
        let config = Config::default_for_test(root);
        let index = Index::scan(&config.comments_dir(), &config.form).unwrap();
        let report = render(&config, &index, &site, &|_| {}).unwrap();

        let page = std::fs::read_to_string(site.join("a/index.html")).unwrap();
        assert_eq!(
            page,
            html.replace("></span>", ">1 comment</span>"),
            "only the span is filled"
        );
        assert_eq!(report.sections, 0);
        let messages: Vec<&str> = report.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "id=\"cairn-comments\" on <img>, an element that cannot hold content: left as it was \
                 (put it on a <div> or a <span>)",
                "data-cairn-count on <input>, an element that cannot hold content: left as it was \
                 (put it on a <div> or a <span>)",
            ]
        );
        assert!(report
            .problems
            .iter()
            .all(|p| p.severity == Severity::Warning && p.path.ends_with("a/index.html")));
    }

    #[test]
    fn pages_with_a_base_href_get_links_that_name_the_page() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let site = one_comment_on_a(
            root,
            "<html><head><base href=\"https://example.org/blog/\"><title>A</title></head>\
             <body><div id=\"cairn-comments\"></div></body></html>",
        );
        std::fs::create_dir_all(site.join("b")).unwrap();
        std::fs::write(
            site.join("b/index.html"),
            "<html><head><title>B</title></head><body><div id=\"cairn-comments\" \
             data-cairn-thread=\"/a/\"></div></body></html>",
        )
        .unwrap();
        let mut config = Config::default_for_test(root);
        config.site.url = "https://example.org/blog".into();
        let index = Index::scan(&config.comments_dir(), &config.form).unwrap();
        render(&config, &index, &site, &|_| {}).unwrap();

        let a = std::fs::read_to_string(site.join("a/index.html")).unwrap();
        assert!(
            a.contains("href=\"/blog/a/#c-01JD3K8Z6Q9W2F4T7Y5M1N0AAA\""),
            "{a}"
        );
        assert!(!a.contains("href=\"#"), "{a}");
        assert!(a.contains("href=\"/blog/cairn.css\""), "{a}");
        assert!(a.contains("src=\"/blog/cairn.js\""), "{a}");
        // Without a base element, the links stay relative: they work from file:// too.
        let b = std::fs::read_to_string(site.join("b/index.html")).unwrap();
        assert!(b.contains("href=\"#c-01JD3K8Z6Q9W2F4T7Y5M1N0AAA\""), "{b}");
        assert!(b.contains("href=\"../cairn.css\""), "{b}");

        let again = render(&config, &index, &site, &|_| {}).unwrap();
        assert_eq!(again.pages_written, 0);
    }

    #[test]
    fn a_page_is_named_by_its_own_title_without_the_sites_name() {
        let name = |title, og, site| page_name(title, og, site);
        // The Open Graph title names the page where the <title> adds the site.
        assert_eq!(
            name("Hello &amp; bye | My blog", Some("Hello &amp; bye"), None),
            "Hello & bye"
        );
        assert_eq!(name("Hello | My blog", Some("  "), None), "Hello | My blog");
        // The site's name is taken off either end, with its separator.
        for title in [
            "Hello | My blog",
            "Hello - My blog",
            "Hello – My blog",
            "Hello · My blog",
            "My blog | Hello",
            "My blog: Hello",
            "My blog » Hello",
        ] {
            assert_eq!(name(title, None, Some("My blog")), "Hello", "{title}");
        }
        assert_eq!(
            name("Moss | Notes", Some("Moss | Notes"), Some("Notes")),
            "Moss"
        );
        // Not without a separator set off by spaces, nor down to nothing (the home page
        // is the site's).
        assert_eq!(
            name("Notes-taking tips", None, Some("Notes")),
            "Notes-taking tips"
        );
        assert_eq!(
            name("Hello My blog", None, Some("My blog")),
            "Hello My blog"
        );
        assert_eq!(name("My blog", None, Some("My blog")), "My blog");
        assert_eq!(name("My blog |", None, Some("My blog")), "My blog |");
        assert_eq!(name("Hello", None, Some("")), "Hello");
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
    fn feed_is_well_formed_atom_with_the_html_of_each_comment_intact() {
        let comment = Comment::parse(
            "id: 01JD3K8Z6Q9W2F4T7Y5M1N0AAA\nthread: /a/\ndate: 2026-01-01T00:00:00Z\nauthor: A & B\nwebsite: https://a.example/?x=1&y=2\nbody: x\n",
            crate::comment::Format::Yaml,
        )
        .unwrap();
        let feed = Feed {
            lang: "en",
            title: "Comments on <Page>".into(),
            self_url: "https://example.org/a/comments.xml".into(),
            alternate: "https://example.org/a/".into(),
            site: "A & Co",
            entries: vec![Entry {
                comment: &comment,
                author: "A & B".into(),
                title: "A & B on <Page>".into(),
                url: "https://example.org/a/#c-01JD3K8Z6Q9W2F4T7Y5M1N0AAA".into(),
                html: "<p>x &amp; <code>y</code> <a title=\"]]>\">z</a></p>",
            }],
        };
        let xml = feed.to_xml();
        insta::assert_snapshot!(xml);
        // A reader gets the body's HTML back exactly, `]]>` in it included.
        let mut reader = quick_xml::Reader::from_str(&xml);
        let (mut content, mut inside) = (String::new(), false);
        loop {
            match reader.read_event().unwrap() {
                quick_xml::events::Event::Start(e) if e.name().as_ref() == b"content" => {
                    inside = true
                }
                quick_xml::events::Event::End(e) if e.name().as_ref() == b"content" => {
                    inside = false
                }
                quick_xml::events::Event::CData(t) if inside => {
                    content.push_str(std::str::from_utf8(&t).unwrap())
                }
                quick_xml::events::Event::Text(t) if inside => {
                    content.push_str(&t.unescape().unwrap())
                }
                quick_xml::events::Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(content, feed.entries[0].html);
        let empty = Feed {
            entries: Vec::new(),
            ..feed
        };
        let empty = empty.to_xml();
        assert!(empty.contains("<updated>1970-01-01T00:00:00Z</updated>"));
        // Atom wants an author of the feed unless its entries each name one.
        assert!(empty.contains(" <author>\n  <name>A &amp; Co</name>\n </author>\n"));
        assert!(!xml.contains("\n <author>"), "{xml}");
    }
}
