//! The comment system a site shows its comments with before cairn (Isso, Disqus,
//! Staticman, utterances, Gitalk, giscus, Remark42, Waline, Commento, Cusdis, Twikoo, Valine): found
//! by `cairn init` in the site's templates,
//! configuration and data files, so it can say what to replace and how to import.

use std::path::{Path, PathBuf};

/// A comment system cairn replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum System {
    Isso,
    Disqus,
    Staticman,
    Utterances,
    Gitalk,
    Giscus,
    Remark42,
    Waline,
    Commento,
    Cusdis,
    Twikoo,
    Valine,
}

impl System {
    pub fn name(self) -> &'static str {
        match self {
            System::Isso => "Isso",
            System::Disqus => "Disqus",
            System::Staticman => "Staticman",
            System::Utterances => "utterances",
            System::Gitalk => "Gitalk",
            System::Giscus => "giscus",
            System::Remark42 => "Remark42",
            System::Waline => "Waline",
            System::Commento => "Commento",
            System::Cusdis => "Cusdis",
            System::Twikoo => "Twikoo",
            System::Valine => "Valine",
        }
    }

    /// What in a template line shows this system's comments, its count or its script.
    fn markers(self) -> &'static [&'static str] {
        match self {
            System::Isso => &["data-isso", "isso-thread"],
            System::Disqus => &[
                "disqus_thread",
                ".disqus.com/",
                "disqus-comment-count",
                "_internal/disqus.html",
                "partial \"disqus.html\"",
                "disqus_comments.html",
            ],
            System::Staticman => &["staticman", "data.comments", "Data.comments"],
            System::Utterances => &["utteranc.es/client.js"],
            System::Gitalk => &["gitalk.min.js", "new Gitalk(", "gitalk.js"],
            System::Giscus => &["giscus.app/client.js", "@giscus/"],
            System::Remark42 => &[
                "remark_config",
                "id=\"remark42\"",
                "remark42__counter",
                "remark42__last-comments",
                "REMARK42",
            ],
            System::Waline => &[
                "@waline/client",
                "Waline.init(",
                "id=\"waline\"",
                "waline-comment-count",
            ],
            System::Commento => &[
                "/js/commento.js",
                "cdn.commento.io",
                "id=\"commento\"",
                "#commento",
            ],
            System::Cusdis => &["cusdis_thread", "/js/cusdis", "cusdis-count"],
            System::Twikoo => &["twikoo.init(", "twikoo.all.min.js", "/twikoo@"],
            System::Valine => &["new Valine(", "valine.min.js", "/valine@"],
        }
    }

    /// What a line of the generator's configuration turning this system on holds (all
    /// of one list, in any case): a theme's own support for it is switched on there.
    fn settings(self) -> &'static [&'static [&'static str]] {
        match self {
            System::Isso => &[&["isso"]],
            System::Disqus => &[&["disqus", "shortname"], &["provider", "disqus"]],
            System::Staticman => &[&["staticman"]],
            System::Utterances => &[&["utterances"], &["utteranc"]],
            System::Gitalk => &[&["gitalk"]],
            System::Giscus => &[&["giscus"]],
            System::Remark42 => &[&["remark42"]],
            System::Waline => &[&["waline"]],
            System::Commento => &[&["commento"]],
            System::Cusdis => &[&["cusdis"]],
            System::Twikoo => &[&["twikoo"]],
            System::Valine => &[&["valine"]],
        }
    }

    const ALL: [System; 12] = [
        System::Isso,
        System::Disqus,
        System::Staticman,
        System::Utterances,
        System::Gitalk,
        System::Giscus,
        System::Remark42,
        System::Waline,
        System::Commento,
        System::Cusdis,
        System::Twikoo,
        System::Valine,
    ];

    /// What cairn's placeholders replace, and what else goes.
    fn replaced(self) -> &'static str {
        match self {
            System::Isso => "Isso's thread, its script and the count links it fills",
            System::Disqus => {
                "Disqus' thread, its script and the count links it fills (a shortname in the \
                 settings above makes the theme load them)"
            }
            System::Staticman => {
                "the list of comments and the form that use its data files (staticman.yml \
                 can go once the inbox takes new comments)"
            }
            System::Utterances => "utterances' script (and its settings above)",
            System::Gitalk => {
                "Gitalk's script, its stylesheet and its container (and its settings above)"
            }
            System::Giscus => "giscus' script or component (and its settings above)",
            System::Remark42 => {
                "Remark42's `remark_config`, the script that loads its widgets, and its \
                 `remark42` node and counters"
            }
            System::Waline => {
                "Waline's script or component, its stylesheet and its container and \
                 counters (and its settings above)"
            }
            System::Commento => {
                "Commento's script, its `commento` container and the `#commento` count \
                 links (and its settings above)"
            }
            System::Cusdis => {
                "Cusdis' `cusdis_thread` container, its script and the counts it fills (and \
                 its settings above)"
            }
            System::Twikoo => "Twikoo's script and its container (and its settings above)",
            System::Valine => "Valine's script and its container (and its settings above)",
        }
    }

    /// How its comments come over, given where they are (see [`Found::source`]).
    fn import(self, source: Option<&str>) -> String {
        let command: String = match self {
            System::Isso => "Bring its comments over with `cairn import isso comments.db` \
                             (Isso's database: `dbpath` in its isso.cfg)"
                .into(),
            System::Disqus => "Bring its comments over with `cairn import disqus export.xml` \
                               (the export Disqus mails from its admin: Moderation, Export)"
                .into(),
            System::Staticman => format!(
                "Bring its comments over with `cairn import staticman {}`",
                source.unwrap_or("_data/comments")
            ),
            System::Utterances => format!(
                "Bring its comments, the GitHub issues it opened, over with `cairn import \
                 utterances {}` (GITHUB_TOKEN set to a token reads a private repository)",
                source.unwrap_or("OWNER/REPO")
            ),
            System::Gitalk => format!(
                "Bring its comments, the GitHub issues it opened, over with `cairn import \
                 gitalk {}` (GITHUB_TOKEN set to a token reads a private repository; \
                 `--label` names the first of its `labels` if they are not Gitalk's own)",
                source.unwrap_or("OWNER/REPO")
            ),
            System::Giscus => format!(
                "Bring its comments, the GitHub discussions it opened, over with \
                 `cairn import giscus {}` (with GITHUB_TOKEN set to a token that can read \
                 the repository: GitHub shows discussions only with one)",
                source.unwrap_or("OWNER/REPO")
            ),
            System::Remark42 => "Bring its comments over with `cairn import remark42 \
                                 backup-SITE-DATE.gz` (a backup its server writes every day, \
                                 in `var/backup` by default, or one `docker exec remark42 \
                                 backup -s SITE` makes)"
                .into(),
            System::Waline => "Bring its comments over with `cairn import waline \
                               waline.json` (the file its admin's Migration page exports)"
                .into(),
            System::Commento => "Bring its comments over with `cairn import commento \
                                 commento-export.json.gz` (the file its dashboard mails a \
                                 link to: General, Export data)"
                .into(),
            System::Cusdis => format!(
                "Bring its comments over with `cairn import cusdis cusdis.db` (the SQLite \
                 database of a Cusdis you run: the file its DB_URL names; add `--project \
                 TITLE` when it serves several sites), or, on cusdis.com, which has no \
                 export, with `cairn import cusdis {}` run on the site as built now, before \
                 its templates change: it reads each page's comments from Cusdis' API",
                source.unwrap_or("public")
            ),
            System::Twikoo => "Bring its comments over with `cairn import twikoo \
                               twikoo-comments.json` (the comments its admin panel exports)"
                .into(),
            System::Valine => "Bring its comments over with `cairn import valine \
                               Comment.json` (its `Comment` class, exported from \
                               LeanCloud's console: Data storage, Import/Export)"
                .into(),
        };
        let then = match (self, source) {
            (System::Staticman, Some(data)) => format!(
                " Then {data}/ can go: Staticman's files hold an md5 hash of each reader's \
                 e-mail address, which the import leaves out."
            ),
            // Gitalk's pages carry its OAuth app's client secret for anyone to read.
            (System::Gitalk, _) => " Then delete Gitalk's OAuth app on GitHub (Settings, \
                 Developer settings, OAuth Apps): its client secret was in every page."
                .to_string(),
            _ => String::new(),
        };
        command + "; `--dry-run` first shows what it would write." + &then
    }
}

/// Where a site shows, sets up or keeps a comment system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Relative to the site's directory.
    pub file: PathBuf,
    /// 1-based; 0 for a whole file or directory (written with a trailing `/`).
    pub line: usize,
    /// The line, trimmed and shortened.
    pub text: String,
}

impl Place {
    /// A whole file, or a directory written with a trailing `/`.
    fn whole(file: &str) -> Place {
        Place {
            file: PathBuf::from(file),
            line: 0,
            text: String::new(),
        }
    }
}

/// A comment system a site uses, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub system: System,
    pub places: Vec<Place>,
    /// Where its comments are, as `cairn import` reads it: Staticman's data files (a
    /// folder, relative to the site's directory), the GitHub repository utterances,
    /// Gitalk or giscus keeps them in (owner/name; for giscus with its `--category`),
    /// the built site whose pages' Cusdis threads its API gives.
    pub source: Option<String>,
}

impl Found {
    /// What to do about it: where cairn's placeholders go, what to turn off, how its
    /// comments come over.
    pub fn advice(&self) -> String {
        let shown = 8;
        let mut text = format!(
            "This site shows comments with {} now:\n\n",
            self.system.name()
        );
        let width = self
            .places
            .iter()
            .take(shown)
            .map(|p| place_name(p).len())
            .max()
            .unwrap_or(0);
        for place in self.places.iter().take(shown) {
            let name = place_name(place);
            if place.text.is_empty() {
                text.push_str(&format!("    {name}\n"));
            } else {
                text.push_str(&format!("    {name:width$}  {}\n", place.text));
            }
        }
        if self.places.len() > shown {
            text.push_str(&format!("    … and {} more\n", self.places.len() - shown));
        }
        let advice = format!(
            "Put cairn's placeholders (below) in place of {}. {}",
            self.system.replaced(),
            self.system.import(self.source.as_deref())
        );
        text.push('\n');
        text.push_str(&wrapped(&advice, 88));
        text
    }
}

fn place_name(place: &Place) -> String {
    match place.line {
        0 => place.file.display().to_string(),
        n => format!("{}:{n}", place.file.display()),
    }
}

/// The files a template can be in.
const TEMPLATES: &[&str] = &[
    "html",
    "htm",
    "liquid",
    "njk",
    "ejs",
    "hbs",
    "handlebars",
    "mustache",
    "astro",
    "jsx",
    "tsx",
    "js",
    "mjs",
    "ts",
    "vue",
    "svelte",
    "j2",
    "jinja",
    "jinja2",
    "tmpl",
    "gohtml",
    "pug",
    "erb",
    "twig",
    "mdx",
];

/// Directories that hold no templates of the site's own: tools' caches, installed
/// packages, files copied as they are.
const SKIPPED: &[&str] = &[
    ".git",
    ".cairn",
    "node_modules",
    "vendor",
    ".bundle",
    "resources",
    ".jekyll-cache",
    ".sass-cache",
    ".astro",
    ".docusaurus",
    ".cache",
    "__pycache__",
    "target",
    "static",
    "assets",
    "public",
];

/// Directories holding themes: a theme may support a comment system the site has not
/// turned on, so what is found there counts only when the configuration names it.
const THEMES: &[&str] = &["themes", "_themes"];

/// The largest template read: bigger files are bundles, not templates.
const LARGEST: u64 = 256 * 1024;

/// The comment systems the site in `dir` uses, read from its templates, the generator's
/// configuration file `config` and its data files. `output` and `comments` (relative to
/// `dir`) are not read.
pub fn find(dir: &Path, config: Option<&Path>, output: &str, comments: &str) -> Vec<Found> {
    let mut settings = config
        .map(|path| settings_in(dir, path))
        .unwrap_or_default();
    // Hexo keeps a theme's settings next to its own (`_config.next.yml`,
    // `_config.butterfly.yml`), as Jekyll does its extra configurations.
    if let Some(config) = config.filter(|c| c.file_name().is_some_and(|n| n == "_config.yml")) {
        let mut more: Vec<PathBuf> = config
            .parent()
            .and_then(|d| std::fs::read_dir(d).ok())
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                name.starts_with("_config.") && name.ends_with(".yml") && name != "_config.yml"
            })
            .collect();
        more.sort();
        for path in more {
            settings.extend(settings_in(dir, &path));
        }
    }
    let configured = |system: System| settings.iter().any(|(s, _)| *s == system);
    let mut found: Vec<Found> = Vec::new();
    for (system, place) in &settings {
        add(&mut found, *system, place.clone());
    }
    let skipped = |path: &Path| {
        let relative = path.strip_prefix(dir).unwrap_or(path);
        relative == Path::new(output.trim_end_matches('/'))
            || relative == Path::new(comments.trim_end_matches('/'))
    };
    let walk = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .max_depth(12)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            entry.depth() == 0
                || !entry.file_type().is_dir()
                || !(SKIPPED.iter().any(|s| entry.file_name() == *s) || skipped(entry.path()))
        });
    for entry in walk.filter_map(Result::ok).take(50_000) {
        let path = entry.path();
        let template = entry.file_type().is_file()
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| TEMPLATES.contains(&e))
            && !path.to_string_lossy().ends_with(".min.js")
            && entry.metadata().is_ok_and(|m| m.len() <= LARGEST);
        if !template {
            continue;
        }
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let relative = path.strip_prefix(dir).unwrap_or(path).to_path_buf();
        let in_theme = relative
            .components()
            .next()
            .is_some_and(|c| THEMES.iter().any(|t| c.as_os_str() == *t));
        let text = String::from_utf8_lossy(&bytes);
        for (n, line) in text.lines().enumerate() {
            for system in System::ALL {
                if in_theme && !configured(system) {
                    continue;
                }
                if system.markers().iter().any(|m| line.contains(m)) {
                    add(
                        &mut found,
                        system,
                        Place {
                            file: relative.clone(),
                            line: n + 1,
                            text: shortened(line),
                        },
                    );
                }
            }
        }
    }
    // Cusdis' comments are read through its API from the pages of the site as built.
    if let Some(cusdis) = found.iter_mut().find(|f| f.system == System::Cusdis) {
        cusdis.source = Some(output.trim_end_matches('/').to_string());
    }
    // Staticman's comment files: Jekyll's data folder, or Hugo's.
    for data in ["_data/comments", "data/comments"] {
        let path = dir.join(data);
        let holds_files = std::fs::read_dir(&path).is_ok_and(|mut d| d.next().is_some());
        if holds_files {
            add(
                &mut found,
                System::Staticman,
                Place::whole(&format!("{data}/")),
            )
            .source
            .get_or_insert_with(|| data.to_string());
        }
    }
    for name in ["staticman.yml", "staticman.json"] {
        let file = dir.join(name);
        if file.is_file() {
            let staticman = add(&mut found, System::Staticman, Place::whole(name));
            // Where its setting says it writes comments wins over the usual folders.
            if let Some(folder) = staticman_folder(dir, &file) {
                staticman.places.push(Place::whole(&format!("{folder}/")));
                staticman.source = Some(folder);
            }
        }
    }
    // A Staticman folder without a template or setting that uses it is a folder of
    // something else; `comments` alone in a template line is too.
    found.retain(|f| f.system != System::Staticman || staticman_in_use(f));
    for f in &mut found {
        f.places
            .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        f.places.dedup();
        if matches!(f.system, System::Utterances | System::Giscus) {
            f.source = f.places.iter().find_map(|p| repo_near(dir, p));
        }
        // Gitalk names the repository's owner apart from it (NexT: `github_id`).
        if f.system == System::Gitalk {
            let near = |key| f.places.iter().find_map(|p| setting_near(dir, p, key));
            if let (Some(owner), Some(repo)) =
                (near("owner").or_else(|| near("github_id")), near("repo"))
            {
                f.source = as_repo(&format!("{owner}/{repo}"));
            }
        }
        // giscus' discussions are in its category; the import leaves the others'.
        if f.system == System::Giscus {
            let category = f
                .places
                .iter()
                .find_map(|p| setting_near(dir, p, "category"));
            if let (Some(repo), Some(category)) = (&mut f.source, category) {
                *repo += &format!(" --category {}", crate::forget::sh_quote(&category));
            }
        }
    }
    found.sort_by_key(|f| f.system);
    found
}

/// Adds `place` to what was found of `system`, and gives that.
fn add(found: &mut Vec<Found>, system: System, place: Place) -> &mut Found {
    let at = match found.iter().position(|f| f.system == system) {
        Some(at) => at,
        None => {
            found.push(Found {
                system,
                places: Vec::new(),
                source: None,
            });
            found.len() - 1
        }
    };
    found[at].places.push(place);
    &mut found[at]
}

/// The repository utterances' or giscus' script or settings name at or just after
/// `place` (`repo="owner/name"`, `data-repo="owner/name"`, `repo: owner/name`,
/// `utterancesRepo = "owner/name"`), when written out rather than filled in by the
/// template.
fn repo_near(dir: &Path, place: &Place) -> Option<String> {
    as_repo(&setting_near(dir, place, "repo")?)
}

/// `value` when it names a repository as owner/name.
fn as_repo(value: &str) -> Option<String> {
    let parts: Vec<&str> = value.split('/').collect();
    let plain = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (parts.len() == 2 && parts.iter().all(|p| plain(p))).then(|| value.to_string())
}

/// The value of the first setting named `key` (or ending in it: `data-repo`,
/// `utterancesRepo`) on the line of `place` or the seven after, written `key="value"`,
/// `key: value` or `key = 'value'`; `None` where a template fills it in.
fn setting_near(dir: &Path, place: &Place, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(&place.file)).ok()?;
    let lines = text.lines().skip(place.line.checked_sub(1)?).take(8);
    lines.into_iter().find_map(|line| {
        let lower = line.to_ascii_lowercase();
        let at = lower.find(key)? + key.len();
        let rest = line[at..].trim_start_matches(|c: char| c.is_alphanumeric());
        let rest = rest.trim_start();
        let yaml = rest.starts_with(':');
        let rest = rest.strip_prefix(['=', ':'])?.trim_start();
        let value = match rest.chars().next()? {
            quote @ ('"' | '\'') => rest[1..].split(quote).next()?,
            // YAML's plain values may hold spaces; an HTML attribute's end at one.
            _ if yaml => without_comment(rest).trim(),
            _ => rest.split([' ', '\t', '>']).next()?,
        };
        let filled_in = value.contains(['{', '}', '<', '>', '$']);
        (!value.is_empty() && !filled_in).then(|| value.to_string())
    })
}

/// The folder a Staticman setting file writes comments to, relative to the site: the
/// fixed start of a `path` (`_comments/{options.slug}` is `_comments`), if it holds files.
fn staticman_folder(dir: &Path, file: &Path) -> Option<String> {
    let setting = crate::init::config_value(file)?;
    setting.as_object()?.values().find_map(|property| {
        let path = property.get("path")?.as_str()?;
        let folder = path[..path.find('{').unwrap_or(path.len())].trim_matches('/');
        let safe = !folder.is_empty() && !folder.split('/').any(|part| part == "..");
        let holds_files =
            || std::fs::read_dir(dir.join(folder)).is_ok_and(|mut d| d.next().is_some());
        (safe && holds_files()).then(|| folder.to_string())
    })
}

/// Whether what was found of Staticman is more than a data folder named `comments`.
fn staticman_in_use(found: &Found) -> bool {
    let named = found.places.iter().any(|p| {
        p.text.to_ascii_lowercase().contains("staticman")
            || p.file.to_string_lossy().starts_with("staticman.")
    });
    named || (found.source.is_some() && found.places.iter().any(|p| p.line > 0))
}

/// The lines of the configuration file at `path` that turn a comment system on.
fn settings_in(dir: &Path, path: &Path) -> Vec<(System, Place)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let file = path.strip_prefix(dir).unwrap_or(path).to_path_buf();
    let mut found = Vec::new();
    // What each line sets, without its comment: Chirpy's and Minimal Mistakes' settings
    // list every provider there is in a comment after the one chosen.
    let lines: Vec<&str> = text.lines().collect();
    let codes: Vec<&str> = lines.iter().map(|l| without_comment(l)).collect();
    for (n, code) in codes.iter().enumerate() {
        // A key on the line above names what this one sets (`[services.disqus]` then
        // `shortname = "blog"`; `disqus:` then `  shortname: blog`).
        let above = n.checked_sub(1).map_or("", |m| codes[m]);
        for system in System::ALL {
            let on = system.settings().iter().any(|words| {
                words
                    .iter()
                    .all(|w| has_word(code, w) || (has_word(above, w) && !above.contains('=')))
            });
            if on && has_value(code) {
                found.push((
                    system,
                    Place {
                        file: file.clone(),
                        line: n + 1,
                        text: shortened(lines[n]),
                    },
                ));
            }
        }
    }
    found
}

/// Whether `word` (lowercase) is in `line`, in any case, at the start of a word or of a
/// part of one (`disqus` and `shortname` in `disqusShortname`, `isso` in `params.isso`,
/// but not `isso` in `Missouri`).
fn has_word(line: &str, word: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    lower.match_indices(word).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let first = line[at..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric()) || first.is_some_and(char::is_uppercase)
    })
}

/// A line of configuration without its comment (`#` in YAML, TOML and Python, `//` in
/// JavaScript, at the start or after a space).
fn without_comment(line: &str) -> &str {
    let code = line.trim_start();
    if code.starts_with('#') || code.starts_with("//") {
        return "";
    }
    let end = [" #", "\t#", " //"]
        .iter()
        .filter_map(|mark| line.find(mark))
        .min()
        .unwrap_or(line.len());
    &line[..end]
}

/// Whether a configuration line (without its comment) sets a value that is not empty
/// (`shortname = ""` and `disqus:` opening a table do not).
fn has_value(code: &str) -> bool {
    let value = match code.split_once(['=', ':']) {
        Some((_, value)) => value,
        None => return false,
    };
    let value = value.trim().trim_matches(['"', '\'', ',', ' ']);
    !value.is_empty() && !matches!(value, "false" | "null" | "~" | "{" | "[")
}

/// `text` in lines of at most `width` characters (a longer word has one of its own),
/// each ending in a line break.
fn wrapped(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if line > 0 && line + 1 + len > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += len;
    }
    out.push('\n');
    out
}

/// A line as shown: trimmed, at most 100 characters.
fn shortened(line: &str) -> String {
    let line = line.trim();
    match line.char_indices().nth(100) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a Jekyll site (`_config.yml`, built to `_site/`) shows comments with.
    fn jekyll(dir: &Path) -> Vec<Found> {
        find(dir, Some(&dir.join("_config.yml")), "_site", "comments")
    }

    fn site(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        crate::testing::write_files(dir.path(), files);
        dir
    }

    fn places(found: &Found) -> Vec<String> {
        found.places.iter().map(place_name).collect()
    }

    /// What `find` found, which must be `system` alone.
    fn only(found: Vec<Found>, system: System) -> Found {
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].system, system);
        found.into_iter().next().unwrap()
    }

    /// `system`, found alone in a Hexo site on NexT whose theme settings
    /// (`_config.next.yml`) are `settings`.
    fn in_next_settings(settings: &str, system: System) -> Found {
        let next = site(&[
            ("_config.yml", "title: Blog\ntheme: next\n"),
            ("_config.next.yml", settings),
        ]);
        let config = next.path().join("_config.yml");
        only(
            find(next.path(), Some(&config), "public", "comments"),
            system,
        )
    }

    #[test]
    fn isso_is_found_where_its_embed_thread_and_counts_are() {
        let dir = site(&[
            ("hugo.toml", "baseURL = \"https://blog.example.org/\"\n"),
            (
                "layouts/partials/comments.html",
                "<script data-isso=\"https://comments.example.org/\"\n        \
                 src=\"https://comments.example.org/js/embed.min.js\"></script>\n\
                 <section id=\"isso-thread\" data-title=\"{{ .Title }}\"></section>\n",
            ),
            (
                "layouts/_default/list.html",
                "{{ range .Pages }}\n<a href=\"{{ .RelPermalink }}#isso-thread\">Comments</a>\n{{ end }}\n",
            ),
            // Isso's script, kept with the site's files, is not a template.
            ("static/js/embed.min.js", "var x=\"isso-thread\";"),
            ("public/posts/a/index.html", "<section id=\"isso-thread\"></section>"),
        ]);
        let found = find(
            dir.path(),
            Some(&dir.path().join("hugo.toml")),
            "public",
            "comments",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].system, System::Isso);
        assert_eq!(
            places(&found[0]),
            [
                "layouts/_default/list.html:2",
                "layouts/partials/comments.html:1",
                "layouts/partials/comments.html:3",
            ]
        );
        let advice = found[0].advice();
        assert!(
            advice.starts_with("This site shows comments with Isso now:\n\n"),
            "{advice}"
        );
        assert!(
            advice.contains(
                "    layouts/partials/comments.html:3  <section id=\"isso-thread\" data-title=\"{{ .Title }}\"></section>\n"
            ),
            "{advice}"
        );
        assert!(
            advice.contains("`cairn import isso comments.db`"),
            "{advice}"
        );
    }

    #[test]
    fn a_themes_disqus_counts_only_when_the_configuration_turns_it_on() {
        let theme = (
            "themes/ananke/layouts/_default/single.html",
            "<article>{{ .Content }}\n{{ template \"_internal/disqus.html\" . }}\n</article>\n",
        );
        let off = site(&[("hugo.toml", "title = \"Blog\"\n"), theme]);
        assert!(find(
            off.path(),
            Some(&off.path().join("hugo.toml")),
            "public",
            "comments"
        )
        .is_empty());

        let on = site(&[
            (
                "hugo.toml",
                "title = \"Blog\"\n# disqusShortname = \"old\"\n[services.disqus]\nshortname = \"myblog\"\n",
            ),
            theme,
        ]);
        let found = find(
            on.path(),
            Some(&on.path().join("hugo.toml")),
            "public",
            "comments",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].system, System::Disqus);
        assert_eq!(
            places(&found[0]),
            [
                "hugo.toml:4",
                "themes/ananke/layouts/_default/single.html:2"
            ]
        );
        assert!(found[0]
            .advice()
            .contains("`cairn import disqus export.xml`"));
    }

    #[test]
    fn jekyll_themes_settings_name_their_provider() {
        let minima = site(&[(
            "_config.yml",
            "title: Blog\ndescription: Notes from Missouri\ndisqus:\n  shortname: my-blog\n",
        )]);
        let found = jekyll(minima.path());
        assert_eq!(found.len(), 1, "not Isso for Missouri: {found:?}");
        assert_eq!(places(&found[0]), ["_config.yml:4"]);
        assert_eq!(found[0].system, System::Disqus);

        // Chirpy: a provider (its comment lists them all), and each one's settings.
        let chirpy = site(&[(
            "_config.yml",
            "comments:\n  # Global switch for the post-comment system.\n  provider: giscus # [disqus | utterances | giscus]\n  \
             disqus:\n    shortname: # fill with the Disqus shortname\n  utterances:\n    repo: # <gh-username>/<repo>\n  \
             giscus:\n    repo: me/blog\n    repo_id: R_kgDO\n",
        )]);
        let found = jekyll(chirpy.path());
        let systems: Vec<System> = found.iter().map(|f| f.system).collect();
        assert_eq!(
            systems,
            [System::Giscus],
            "settings left empty are off: {found:?}"
        );
        assert_eq!(places(&found[0]), ["_config.yml:3", "_config.yml:9"]);
        assert_eq!(found[0].source.as_deref(), Some("me/blog"));
        let import = found[0].system.import(found[0].source.as_deref());
        assert!(
            import.contains("`cairn import giscus me/blog` (with GITHUB_TOKEN set"),
            "{import}"
        );
        // The same with no provider chosen: nothing.
        let unset = site(&[(
            "_config.yml",
            "comments:\n  provider: # [disqus | utterances | giscus]\n  disqus:\n    shortname:\n",
        )]);
        assert!(jekyll(unset.path()).is_empty());

        // Minimal Mistakes.
        let mm = site(&[(
            "_config.yml",
            "comments:\n  provider               : \"disqus\" # false (default), \"disqus\", \"discourse\", \"staticman_v2\", \"utterances\", \"giscus\"\n  \
             disqus:\n    shortname            : \"my-blog\"\n  utterances:\n    theme                : # \"github-light\"\n",
        )]);
        let found = jekyll(mm.path());
        let systems: Vec<System> = found.iter().map(|f| f.system).collect();
        assert_eq!(systems, [System::Disqus], "{found:?}");
        assert_eq!(places(&found[0]), ["_config.yml:2", "_config.yml:4"]);
    }

    #[test]
    fn staticman_is_found_by_its_data_files_and_what_uses_them() {
        let dir = site(&[
            ("_config.yml", "title: Blog\n"),
            ("staticman.yml", "comments:\n  path: \"_data/comments/{options.slug}\"\n"),
            ("_data/comments/hello/comment-1.yml", "_id: 1\nname: Ann\nmessage: Hi\n"),
            (
                "_includes/comments.html",
                "{% assign comments = site.data.comments[page.slug] %}\n\
                 <form method=\"POST\" action=\"https://api.staticman.net/v2/entry/me/blog/main/comments\">\n",
            ),
        ]);
        let found = jekyll(dir.path());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            places(&found[0]),
            [
                "_data/comments/",
                "_includes/comments.html:1",
                "_includes/comments.html:2",
                "staticman.yml"
            ]
        );
        assert!(found[0]
            .advice()
            .contains("`cairn import staticman _data/comments`"));

        // Its `frontmatter` format, in a collection of the site's own.
        let collection = site(&[
            (
                "_config.yml",
                "title: Blog\ncollections:\n  comments:\n    output: false\n",
            ),
            (
                "staticman.yml",
                "comments:\n  path: \"/_comments/{options.slug}/\"\n  format: frontmatter\n",
            ),
            (
                "_comments/hello/1.md",
                "---\n_id: 1\ndate: 1614834367\n---\nHi\n",
            ),
        ]);
        let found = jekyll(collection.path());
        assert_eq!(places(&found[0]), ["_comments/", "staticman.yml"]);
        assert!(found[0]
            .advice()
            .contains("`cairn import staticman _comments`"));

        // A data folder named comments, used by nothing that says Staticman, is not it.
        let other = site(&[
            ("_data/comments/list.yml", "- a\n"),
            ("_config.yml", "title: Blog\n"),
        ]);
        assert!(jekyll(other.path()).is_empty());
    }

    #[test]
    fn giscus_script_names_its_repository_and_category() {
        let dir = site(&[(
            "layouts/partials/comments.html",
            "<script src=\"https://giscus.app/client.js\"\n        data-repo-id=\"R_kgDOH42f7w\"\n        data-repo=\"me/blog\"\n        data-category-id=\"DIC_kwDOH42f784CREiG\"\n        data-category=\"Blog comments\"\n        data-mapping=\"pathname\" async></script>\n",
        )]);
        let found = find(dir.path(), None, "public", "comments");
        assert_eq!(found[0].system, System::Giscus);
        assert_eq!(
            found[0].source.as_deref(),
            Some("me/blog --category 'Blog comments'")
        );
        // Settings in YAML, and a category the template fills in.
        let dir = site(&[
            (
                "_config.yml",
                "comments:\n  provider: giscus\n  giscus:\n    repo: me/notes # owner/name\n    category: Announcements\n",
            ),
            (
                "_includes/giscus.html",
                "<script src=\"https://giscus.app/client.js\" data-repo=\"{{ site.comments.giscus.repo }}\"\n  data-category=\"{{ site.comments.giscus.category }}\"></script>\n",
            ),
        ]);
        let found = jekyll(dir.path());
        assert_eq!(
            found[0].source.as_deref(),
            Some("me/notes --category 'Announcements'"),
            "{found:?}"
        );
    }

    #[test]
    fn remark42_is_found_by_its_config_node_and_counters_or_a_themes_setting() {
        let dir = site(&[
            (
                "layouts/partials/comments.html",
                "<div id=\"remark42\"></div>\n<script>\n  var remark_config = { host: 'https://remark42.example.org', site_id: 'blog' }\n</script>\n",
            ),
            (
                "layouts/index.html",
                "{{ range .Pages }}<span class=\"remark42__counter\" data-url=\"{{ .Permalink }}\"></span>{{ end }}\n",
            ),
            // The Stack theme's own support, off unless the configuration picks it.
            ("themes/stack/layouts/partials/comments/provider/remark42.html", "<div id=\"remark42\"></div>\n"),
        ]);
        let found = only(
            find(dir.path(), None, "public", "comments"),
            System::Remark42,
        );
        assert_eq!(
            places(&found),
            [
                "layouts/index.html:1",
                "layouts/partials/comments.html:1",
                "layouts/partials/comments.html:3"
            ]
        );
        let advice = found.advice();
        assert!(advice.contains("`cairn import remark42"), "{advice}");
        assert!(advice.contains("backup-SITE-DATE.gz"), "{advice}");

        let stack = site(&[
            (
                "hugo.toml",
                "theme = \"stack\"\n[params.comments]\nenabled = true\nprovider = \"remark42\"\n",
            ),
            (
                "themes/stack/layouts/partials/comments/provider/remark42.html",
                "<div id=\"remark42\"></div>\n",
            ),
        ]);
        let found = only(
            find(
                stack.path(),
                Some(&stack.path().join("hugo.toml")),
                "public",
                "comments",
            ),
            System::Remark42,
        );
        assert_eq!(
            places(&found),
            [
                "hugo.toml:4",
                "themes/stack/layouts/partials/comments/provider/remark42.html:1"
            ]
        );
    }

    #[test]
    fn waline_is_found_by_its_script_container_and_counts_or_hexo_next_settings() {
        let dir = site(&[
            (
                "_includes/comments.html",
                "<div id=\"waline\"></div>\n<script type=\"module\">\n  import { init } from 'https://unpkg.com/@waline/client@v3/dist/waline.js';\n  init({ el: '#waline', serverURL: 'https://waline.example.org' });\n</script>\n",
            ),
            (
                "index.html",
                "{% for post in site.posts %}<span class=\"waline-comment-count\" data-path=\"{{ post.url }}\"></span>{% endfor %}\n",
            ),
        ]);
        let found = only(find(dir.path(), None, "_site", "comments"), System::Waline);
        assert_eq!(
            places(&found),
            [
                "_includes/comments.html:1",
                "_includes/comments.html:3",
                "index.html:1"
            ]
        );
        assert!(found.advice().contains("`cairn import waline waline.json`"));

        let found = in_next_settings(
            "waline:\n  enable: true\n  serverURL: https://waline.example.org\n",
            System::Waline,
        );
        assert_eq!(places(&found), ["_config.next.yml:2", "_config.next.yml:3"]);
    }

    #[test]
    fn commento_is_found_by_its_script_container_and_count_links() {
        let dir = site(&[
            (
                "layouts/partials/comments.html",
                "<div id=\"commento\"></div>\n<script defer src=\"https://cdn.commento.io/js/commento.js\"></script>\n",
            ),
            (
                "layouts/index.html",
                "{{ range .Pages }}<a href=\"{{ .RelPermalink }}#commento\"></a>{{ end }}\n<script defer src=\"https://cdn.commento.io/js/count.js\"></script>\n",
            ),
        ]);
        let found = only(
            find(dir.path(), None, "public", "comments"),
            System::Commento,
        );
        assert_eq!(
            places(&found),
            [
                "layouts/index.html:1",
                "layouts/index.html:2",
                "layouts/partials/comments.html:1",
                "layouts/partials/comments.html:2"
            ]
        );
        assert!(found
            .advice()
            .contains("`cairn import commento commento-export.json.gz`"));
    }

    #[test]
    fn cusdis_is_found_by_its_container_script_and_counts() {
        let dir = site(&[
            (
                "layouts/partials/comments.html",
                "<div id=\"cusdis_thread\"\n  data-host=\"https://cusdis.example.org\"\n  data-app-id=\"{{ .Site.Params.cusdisAppId }}\"\n  data-page-id=\"{{ .File.UniqueID }}\"\n  data-page-url=\"{{ .Permalink }}\"></div>\n<script async defer src=\"https://cusdis.example.org/js/cusdis.es.js\"></script>\n",
            ),
            (
                "layouts/index.html",
                "{{ range .Pages }}<span data-cusdis-count-page-id=\"{{ .File.UniqueID }}\">0</span>{{ end }}\n",
            ),
        ]);
        let found = only(find(dir.path(), None, "_site", "comments"), System::Cusdis);
        assert_eq!(
            places(&found),
            [
                "layouts/index.html:1",
                "layouts/partials/comments.html:1",
                "layouts/partials/comments.html:6"
            ]
        );
        let advice = found.advice();
        assert!(
            advice.contains("`cairn import cusdis cusdis.db`"),
            "{advice}"
        );
        assert!(
            advice.contains("`cairn import cusdis _site` run on the site as built now"),
            "{advice}"
        );
    }

    #[test]
    fn twikoo_and_valine_are_found_by_their_scripts_or_settings() {
        let dir = site(&[(
            "layouts/partials/comments.html",
            "<div id=\"tcomment\"></div>\n<script src=\"https://cdn.jsdelivr.net/npm/twikoo@1.6.39/dist/twikoo.all.min.js\"></script>\n<script>twikoo.init({ envId: 'https://twikoo.example.org', el: '#tcomment' })</script>\n",
        )]);
        let found = only(find(dir.path(), None, "public", "comments"), System::Twikoo);
        assert_eq!(
            places(&found),
            [
                "layouts/partials/comments.html:2",
                "layouts/partials/comments.html:3"
            ]
        );
        assert!(found.advice().contains("`cairn import twikoo"));

        let found = in_next_settings("valine:\n  enable: true\n  appId: abc\n", System::Valine);
        assert!(found
            .advice()
            .contains("`cairn import valine Comment.json`"));
    }

    #[test]
    fn gitalk_in_a_template_or_in_hexo_next_settings_names_its_repository() {
        let dir = site(&[(
            "source/_includes/comments.ejs",
            "<div id=\"gitalk-container\"></div>\n<script src=\"https://unpkg.com/gitalk/dist/gitalk.min.js\"></script>\n<script>\nconst gitalk = new Gitalk({\n  clientID: 'abc',\n  clientSecret: 'def',\n  repo: 'blog-comments',\n  owner: 'me',\n  admin: ['me'],\n  id: location.pathname,\n})\n</script>\n",
        )]);
        let found = find(dir.path(), None, "public", "comments");
        assert_eq!(found[0].system, System::Gitalk);
        assert_eq!(
            places(&found[0]),
            [
                "source/_includes/comments.ejs:2",
                "source/_includes/comments.ejs:4"
            ]
        );
        assert_eq!(found[0].source.as_deref(), Some("me/blog-comments"));
        let import = found[0].system.import(found[0].source.as_deref());
        assert!(
            import.contains("`cairn import gitalk me/blog-comments`")
                && import.contains("delete Gitalk's OAuth app on GitHub"),
            "{import}"
        );

        // NexT's settings, in Hexo's file for the theme next to the site's own: a
        // theme's Gitalk turned on, and its Disqus left off.
        let found = in_next_settings(
            "disqus:\n  enable: false\n  shortname:\ngitalk:\n  enable: true\n  github_id: me # GitHub repo owner\n  repo: notes-comments\n  client_id: abc\n",
            System::Gitalk,
        );
        assert_eq!(places(&found), ["_config.next.yml:5"]);
        assert_eq!(found.source.as_deref(), Some("me/notes-comments"));
    }

    #[test]
    fn utterances_and_a_site_without_comments() {
        let dir = site(&[(
            "templates/page.html",
            "<script src=\"https://utteranc.es/client.js\"\n        repo=\"me/blog\"\n        issue-term=\"pathname\"\n        crossorigin=\"anonymous\" async></script>\n",
        )]);
        let found = find(dir.path(), None, "public", "comments");
        assert_eq!(found[0].system, System::Utterances);
        assert_eq!(found[0].source.as_deref(), Some("me/blog"));
        let import = found[0].system.import(found[0].source.as_deref());
        assert!(
            import.contains("`cairn import utterances me/blog`"),
            "{import}"
        );

        // A repository the template fills in is named in the settings, or not at all.
        let hugo = site(&[
            ("hugo.toml", "[params]\nutterancesRepo = \"me/notes\"\n"),
            (
                "layouts/partials/comments.html",
                "<script src=\"https://utteranc.es/client.js\" repo=\"{{ .Site.Params.utterancesRepo }}\" async></script>\n",
            ),
        ]);
        let found = find(
            hugo.path(),
            Some(&hugo.path().join("hugo.toml")),
            "public",
            "comments",
        );
        assert_eq!(
            places(&found[0]),
            ["hugo.toml:2", "layouts/partials/comments.html:1"]
        );
        assert_eq!(found[0].source.as_deref(), Some("me/notes"));
        let unnamed = site(&[(
            "layouts/partials/comments.html",
            "<script src=\"https://utteranc.es/client.js\" repo=\"{{ .Site.Params.utterancesRepo }}\" async></script>\n",
        )]);
        let found = find(unnamed.path(), None, "public", "comments");
        assert_eq!(found[0].source, None);
        assert!(found[0]
            .system
            .import(None)
            .contains("`cairn import utterances OWNER/REPO`"));

        let plain = site(&[("layouts/index.html", "<main>{{ .Content }}</main>\n")]);
        assert!(find(plain.path(), None, "public", "comments").is_empty());
    }
}
