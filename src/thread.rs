//! Thread paths: the one function that turns what a page, a form or a file says into
//! the canonical path of a comment thread, and rejects what cannot be one.
//!
//! A thread is the URL path of a page relative to the site's base URL: `/` for the
//! home page, `/posts/hello/` for a page served as a directory index, `/about.html`
//! for a page served as a file. Render, check, the inbox and the importers all call
//! [`normalize`], so a thread means the same thing everywhere.
//!
//! A thread is written decoded (`/café/`, `/a b/`), except for the characters in
//! [`kept_encoded`]: `%`, `?` and `#`, which a URL would read as an escape, a query or
//! a fragment (Hugo makes `/posts/c#-tips/` of a title "C# tips": browsers ask for
//! `/posts/c%23-tips/`), and `<>:"|*`, which no directory name can hold on Windows,
//! where the site's repository may be checked out. A name's first `.` is `%2E`, so no
//! comments directory is hidden (Hugo makes `/posts/.net-8/` of a title ".NET 8"), and
//! for Windows, a name that is a device there (`aux`, `con.html`) has its first letter
//! encoded (`/%61ux/`) and a final `.` is `%2E`. So a thread is a fixed point of
//! normalizing, its directory of comments reads back as it and can be checked out
//! anywhere, and its URL is the page's.

use std::fmt::Write as _;

use percent_encoding::percent_decode_str;
use thiserror::Error;

/// Longest thread path accepted, in bytes after decoding.
pub const MAX_LEN: usize = 512;

/// Longest name between two slashes, in bytes: a thread's names are the names of the
/// directories its comments go in, and file systems hold no longer name (`NAME_MAX`).
pub const MAX_NAME: usize = 255;

/// Whether a thread keeps character `b` percent-encoded (see the module's documentation).
pub const fn kept_encoded(b: u8) -> bool {
    matches!(
        b,
        b'%' | b'?' | b'#' | b'<' | b'>' | b':' | b'"' | b'|' | b'*'
    )
}

/// Why a string is not a thread path.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ThreadError {
    #[error("thread path is empty")]
    Empty,
    #[error("thread path is longer than {MAX_LEN} bytes")]
    TooLong,
    #[error("thread path has a name longer than {MAX_NAME} bytes, which no directory can have")]
    NameTooLong,
    #[error("thread path contains a control character")]
    Control,
    #[error("thread path contains a backslash")]
    Backslash,
    #[error("thread path contains a `.` or `..` segment")]
    DotSegment,
    #[error("thread path is not valid percent-encoded UTF-8")]
    Encoding,
    #[error("thread path must be a path, not a URL with a scheme, query or fragment")]
    NotAPath,
    #[error("a URL that is not under site.url")]
    OtherSite,
}

/// Normalizes a thread path.
///
/// Percent-escapes are decoded (those of [`kept_encoded`] characters are written
/// again, in capitals), space around the path and around each of its names is dropped,
/// repeated slashes collapse, a leading slash is added, a trailing `index.html` is
/// dropped, and a path whose last segment has no file extension gets a trailing slash
/// (`/posts/a` and `/posts/a/` are one thread).
pub fn normalize(raw: &str) -> Result<String, ThreadError> {
    if is_canonical(raw) {
        return Ok(raw.to_string());
    }
    normalize_any(raw)
}

/// Whether `raw` is already what [`normalize`] makes of it, as every stored comment's
/// thread is: checked in one pass, for paths of printable ASCII without escapes
/// (anything else takes the whole way).
fn is_canonical(raw: &str) -> bool {
    if raw == "/" {
        return true;
    }
    let Some(rest) = raw.strip_prefix('/') else {
        return false;
    };
    if raw.len() > MAX_LEN
        || !raw
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'\\' && !kept_encoded(b))
    {
        return false;
    }
    let dir = rest.strip_suffix('/');
    let mut last = "";
    for segment in dir.unwrap_or(rest).split('/') {
        if segment.is_empty()
            || segment.starts_with('.')
            || segment.ends_with('.')
            || segment.len() > MAX_NAME
            || is_windows_device(segment)
        {
            return false;
        }
        last = segment;
    }
    // A directory's path ends with a slash, a file's (its name has a dot) does not.
    last != "index.html" && dir.is_some() != last.contains('.')
}

fn normalize_any(raw: &str) -> Result<String, ThreadError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(ThreadError::Empty);
    }
    if raw.contains("://") || raw.contains('?') || raw.contains('#') {
        return Err(ThreadError::NotAPath);
    }
    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| ThreadError::Encoding)?;
    if decoded.len() > MAX_LEN {
        return Err(ThreadError::TooLong);
    }
    if decoded.chars().any(char::is_control) {
        return Err(ThreadError::Control);
    }
    if decoded.contains('\\') {
        return Err(ThreadError::Backslash);
    }
    let mut segments: Vec<&str> = Vec::new();
    // Space around a name goes, as around the whole path: a directory named `a ` would
    // otherwise hold a thread that reads back as `/a/`.
    for segment in decoded.split('/').map(str::trim) {
        match segment {
            "" => {}
            "." | ".." => return Err(ThreadError::DotSegment),
            s => segments.push(s),
        }
    }
    if segments.last() == Some(&"index.html") {
        segments.pop();
    }
    let mut path = String::with_capacity(decoded.len() + 2);
    for segment in &segments {
        path.push('/');
        let start = path.len();
        write_name(&mut path, segment);
        if path.len() - start > MAX_NAME {
            return Err(ThreadError::NameTooLong);
        }
    }
    if path.is_empty() {
        path.push('/');
    }
    // A name with an extension (a dot after its first character: `.net-8` has none)
    // is written as a file's, without a final slash.
    let file_like = segments
        .last()
        .is_some_and(|s| s.strip_prefix('.').unwrap_or(s).contains('.'));
    if !segments.is_empty() && !file_like {
        path.push('/');
    }
    Ok(path)
}

/// The thread of a page file inside a built site, from its path relative to the
/// site's output directory (`posts/a/index.html` → `/posts/a/`, `posts/c#/index.html`
/// → `/posts/c%23/`); the directory itself (an empty path) is the site's root, `/`.
pub fn of_page(relative: &std::path::Path) -> Result<String, ThreadError> {
    normalize(&joined(relative, true))
}

/// The thread whose comments a directory of the comments tree holds, from its path
/// relative to the comments dir: its names are the thread's as written
/// (`posts/c%23` → `/posts/c%23/`, see [`dir`]).
pub fn of_dir(relative: &std::path::Path) -> Result<String, ThreadError> {
    normalize(&joined(relative, false))
}

/// The file, relative to a built site's output directory, that serves the page of a
/// normalized thread (`/posts/c%23/` → `posts/c#/index.html`): [`of_page`] backwards.
pub fn page_file(thread: &str) -> std::path::PathBuf {
    let rel = percent_decode_str(thread.trim_start_matches('/')).decode_utf8_lossy();
    if rel.is_empty() || rel.ends_with('/') {
        std::path::PathBuf::from(format!("{rel}index.html"))
    } else {
        std::path::PathBuf::from(rel.into_owned())
    }
}

/// The path a page file is served at, from its path relative to the site's output
/// directory: a directory for an `index.html` (`posts/v1.2/index.html` →
/// `/posts/v1.2/`), else the file. Its [thread](of_page) is not always that path: the
/// thread of a directory whose name has a dot is written without the final slash, as a
/// file's would be.
pub fn served_path(relative: &std::path::Path) -> String {
    let path = joined(relative, true);
    match path.strip_suffix("index.html") {
        Some(dir) if dir.ends_with('/') => dir.to_string(),
        _ => path,
    }
}

/// The names of a relative path, each after a slash (with the characters of
/// [`kept_encoded`] percent-encoded when `escape`: the names of files, which a URL
/// gives encoded); `/` for an empty path.
fn joined(relative: &std::path::Path, escape: bool) -> String {
    let mut joined = String::new();
    for part in relative.components() {
        joined.push('/');
        let name = part.as_os_str().to_string_lossy();
        if escape {
            escape_into(&mut joined, &name);
        } else {
            joined.push_str(&name);
        }
    }
    if joined.is_empty() {
        joined.push('/');
    }
    joined
}

/// Decoded text (a path, or the start of one) as threads write it: with the characters
/// of [`kept_encoded`] percent-encoded.
pub fn escape(decoded: &str) -> String {
    let mut out = String::with_capacity(decoded.len());
    escape_into(&mut out, decoded);
    out
}

/// Appends `name` with the characters of [`kept_encoded`] percent-encoded.
fn escape_into(out: &mut String, name: &str) {
    for c in name.chars() {
        match u8::try_from(c) {
            Ok(b) if kept_encoded(b) => percent(out, b),
            _ => out.push(c),
        }
    }
}

/// Appends the percent escape of byte `b` (`%2E`).
fn percent(out: &mut String, b: u8) {
    let _ = write!(out, "%{b:02X}");
}

/// Appends a thread's name (decoded) as the thread writes it, which is also the name
/// of its comments' directory: escaped as [`escape_into`] does; a first `.` as `%2E`,
/// so the directory is not hidden (`.net` is `%2Enet`; git refuses a `.git`); and so
/// that Windows can hold it, a device name (`aux`, `con.txt`) with its first letter
/// percent-encoded (`%61ux`) and a final `.`, which Windows drops, as `%2E`.
fn write_name(out: &mut String, name: &str) {
    let (name, final_dot) = match name.strip_suffix('.') {
        Some(name) => (name, true),
        None => (name, false),
    };
    // The first character goes escaped when it is a dot or starts a device name (both
    // are ASCII, one byte).
    let rest = if name.starts_with('.') || is_windows_device(name) {
        percent(out, name.as_bytes()[0]);
        &name[1..]
    } else {
        name
    };
    escape_into(out, rest);
    if final_dot {
        percent(out, b'.');
    }
}

/// Whether Windows reads a file name as a device (`CON`, `aux.txt`, `Com1`), which no
/// file or directory can be called there. `name` is decoded.
fn is_windows_device(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default().trim_end();
    if !(3..=7).contains(&stem.len()) || !stem.is_char_boundary(3) {
        return false;
    }
    let (head, tail) = stem.split_at(3);
    let is = |device: &str| head.eq_ignore_ascii_case(device);
    if is("CON") {
        tail.is_empty() || tail.eq_ignore_ascii_case("IN$") || tail.eq_ignore_ascii_case("OUT$")
    } else if is("PRN") || is("AUX") || is("NUL") {
        tail.is_empty()
    } else if is("COM") || is("LPT") {
        (tail.len() == 1 && tail.as_bytes()[0].is_ascii_digit()) || matches!(tail, "¹" | "²" | "³")
    } else {
        false
    }
}

/// A path as the site's pages print it, with the site's base path taken off: templates
/// often print a page's path with the base in front (`/blog/posts/a/` under
/// `https://example.org/blog/`), and threads are below the base. Only whole segments
/// come off: `/blogger/` stays as it is. `base` is the config's base path (`/` or e.g.
/// `/blog/`).
pub fn below_base<'a>(base: &str, path: &'a str) -> &'a str {
    let path = path.trim();
    let prefix = base.trim_end_matches('/');
    match path.strip_prefix(prefix) {
        Some("") if !prefix.is_empty() => "/",
        Some(rest) if !prefix.is_empty() && rest.starts_with('/') => rest,
        _ => path,
    }
}

/// The thread a link to one of the site's pages names, as templates print it and
/// forms post it: a path, with or without the site's base path `base` (see
/// [`below_base`]), or a full URL under `site_url` (as Hugo's `.Permalink` prints it;
/// `http:`, `https:` or scheme-relative `//host/…`: the host and port decide). A query
/// or fragment is not part of the page.
pub fn of_link(raw: &str, site_url: &str, base: &str) -> Result<String, ThreadError> {
    let raw = raw.trim();
    let raw = raw.split(['?', '#']).next().unwrap_or_default();
    // A scheme, as RFC 3986 spells one: a letter, then letters, digits, `+`, `-`, `.`.
    let scheme = raw.split_once(':').map(|(s, _)| s).filter(|s| {
        s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    match scheme {
        None if !raw.starts_with("//") => return normalize(below_base(base, raw)),
        Some(s) if !(s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https")) => {
            return Err(ThreadError::NotAPath)
        }
        _ => {}
    }
    let site = url::Url::parse(site_url).map_err(|_| ThreadError::OtherSite)?;
    let link = site.join(raw).map_err(|_| ThreadError::NotAPath)?;
    // `port()` is `None` for the scheme's own: an `http:` link to an `https:` site counts.
    let path = link.path();
    let under = path.starts_with(base) || path == base.trim_end_matches('/');
    if link.host_str() != site.host_str() || link.port() != site.port() || !under {
        return Err(ThreadError::OtherSite);
    }
    normalize(below_base(base, path))
}

/// The directory, relative to the comments dir, that holds a normalized thread's files
/// (`/posts/a/` → `posts/a`, `/` → the comments dir itself).
pub fn dir(thread: &str) -> &str {
    thread.trim_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_name_threads_under_the_sites_url() {
        let (site, base) = ("https://example.org/blog/", "/blog/");
        for (raw, want) in [
            ("/blog/posts/a/", "/posts/a/"),
            ("posts/a", "/posts/a/"),
            ("https://example.org/blog/posts/a/", "/posts/a/"),
            ("HTTP://EXAMPLE.ORG/blog/posts/a", "/posts/a/"),
            ("//example.org/blog/posts/a/#comments", "/posts/a/"),
            ("https://example.org:443/blog/about.html?x=1", "/about.html"),
            ("https://example.org/blog", "/"),
            ("/posts/a%20b/", "/posts/a b/"),
        ] {
            assert_eq!(of_link(raw, site, base).as_deref(), Ok(want), "{raw}");
        }
        for (raw, why) in [
            ("https://example.net/blog/posts/a/", ThreadError::OtherSite),
            ("//example.org.evil.example/blog/a/", ThreadError::OtherSite),
            ("https://example.org:8443/blog/a/", ThreadError::OtherSite),
            ("https://user@example.net/", ThreadError::OtherSite),
            ("https://example.org/other/", ThreadError::OtherSite),
            ("mailto:ann@example.org", ThreadError::NotAPath),
            ("javascript:alert(1)", ThreadError::NotAPath),
            ("?x=1", ThreadError::Empty),
            ("/a/../../b/", ThreadError::DotSegment),
        ] {
            assert_eq!(of_link(raw, site, base), Err(why), "{raw}");
        }
    }

    #[test]
    fn canonical_forms() {
        let cases = [
            ("/", "/"),
            ("/posts/hello/", "/posts/hello/"),
            ("/posts/hello", "/posts/hello/"),
            ("posts//hello", "/posts/hello/"),
            ("/posts/hello/index.html", "/posts/hello/"),
            ("/index.html", "/"),
            ("/about.html", "/about.html"),
            ("/caf%C3%A9/", "/café/"),
            ("  /padded/  ", "/padded/"),
            ("/a /%20b/c.html ", "/a/b/c.html"),
            ("/a.html /", "/a.html"),
            ("/ /a/", "/a/"),
            // What a URL would read otherwise, or Windows cannot name, stays encoded.
            ("/posts/c%23-tips/", "/posts/c%23-tips/"),
            ("/faq/why%3f/", "/faq/why%3F/"),
            ("/100%25-sure/", "/100%25-sure/"),
            ("/100%-sure/", "/100%25-sure/"),
            ("/a%2541/", "/a%2541/"),
            ("/wiki/Category:Rust/", "/wiki/Category%3ARust/"),
            ("/%3C%3E%22%7C*/", "/%3C%3E%22%7C%2A/"),
            ("/tags/aux/", "/tags/%61ux/"),
            ("/tags/%61ux/", "/tags/%61ux/"),
            ("/CON.html", "/%43ON.html"),
            ("/nul .txt/a/", "/%6Eul .txt/a/"),
            ("/lpt9/", "/%6Cpt9/"),
            ("/com%C2%B9/", "/%63om¹/"),
            ("/coninout/", "/coninout/"),
            ("/auxiliary/", "/auxiliary/"),
            ("/com10/", "/com10/"),
            ("/v1./", "/v1%2E"),
            ("/a../b/", "/a.%2E/b/"),
            // No comments directory is hidden, `.git` least of all.
            ("/posts/.net-8/", "/posts/%2Enet-8/"),
            ("/posts/.net-8.html", "/posts/%2Enet-8.html"),
            ("/.git/", "/%2Egit/"),
            ("/a/%2egit/", "/a/%2Egit/"),
            ("/a/ .well-known/x/", "/a/%2Ewell-known/x/"),
            ("/.../", "/%2E.%2E"),
        ];
        let longest = format!("/{}/", "a".repeat(MAX_NAME));
        assert_eq!(normalize(&longest), Ok(longest.clone()));
        for (raw, want) in cases {
            assert_eq!(normalize(raw).as_deref(), Ok(want), "normalize({raw:?})");
        }
    }

    #[test]
    fn rejections() {
        let long = format!("/{}/", "a".repeat(MAX_LEN));
        let long_name = format!("/a/{}/", "é".repeat(128));
        let long_ascii = format!("/a/{}/", "a".repeat(MAX_NAME + 1));
        // Each `:` takes three bytes in the directory's name (`%3A`).
        let long_escaped = format!("/a/{}/", ":".repeat(MAX_NAME / 3 + 1));
        let cases = [
            ("", ThreadError::Empty),
            ("/a/../b/", ThreadError::DotSegment),
            ("/a/%2e%2e/b/", ThreadError::DotSegment),
            ("/a/./b", ThreadError::DotSegment),
            ("/a/%20..%20/b/", ThreadError::DotSegment),
            ("/a\u{7}b/", ThreadError::Control),
            ("/a%0Ab/", ThreadError::Control),
            ("/a\\b/", ThreadError::Backslash),
            ("/%ff/", ThreadError::Encoding),
            ("https://example.org/a/", ThreadError::NotAPath),
            ("/a/?q=1", ThreadError::NotAPath),
            (long.as_str(), ThreadError::TooLong),
            (long_name.as_str(), ThreadError::NameTooLong),
            (long_ascii.as_str(), ThreadError::NameTooLong),
            (long_escaped.as_str(), ThreadError::NameTooLong),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize(raw), Err(want), "normalize({raw:?})");
        }
    }

    proptest::proptest! {
        #[test]
        fn canonical_paths_are_what_normalizing_gives(
            raw in "[/a.%x\\\\? #:é]{0,12}|/[a-z]{1,3}(/[a-z.]{0,4}){0,3}/?",
        ) {
            if is_canonical(&raw) {
                proptest::prop_assert_eq!(normalize_any(&raw), Ok(raw.clone()));
            } else if raw.bytes().all(|b| b.is_ascii_graphic() && b != b'%') {
                proptest::prop_assert_ne!(normalize_any(&raw), Ok(raw.clone()));
            }
        }
    }

    proptest::proptest! {
        /// What a stored comment relies on: its thread is a fixed point of normalizing,
        /// and the directory its files go in reads back as that thread.
        #[test]
        fn a_threads_directory_holds_that_thread(
            raw in "[/a. %x\t\u{a0}é]{0,14}(index\\.html)?|[/a.%235AF?#:*]{0,16}\
                    |(/(aux|CON|Com1|nul\\.txt|a\\.|x\\. |\\.git|\\.\\.\\.)){1,3}/?",
        ) {
            if let Ok(thread) = normalize(&raw) {
                proptest::prop_assert_eq!(normalize(&thread), Ok(thread.clone()));
                let from_dir = of_dir(std::path::Path::new(dir(&thread)));
                proptest::prop_assert_eq!(from_dir, Ok(thread.clone()));
                // Windows can hold each of its directories.
                for name in dir(&thread).split('/').filter(|n| !n.is_empty()) {
                    proptest::prop_assert!(
                        !name.starts_with('.')
                            && !name.ends_with(['.', ' '])
                            && !name.bytes().any(|b| b != b'%' && kept_encoded(b))
                            && !is_windows_device(name),
                        "{name:?} in {thread:?}"
                    );
                }
                // The page file that serves it is read back as it too.
                proptest::prop_assert_eq!(of_page(&page_file(&thread)), Ok(thread));
            }
        }
    }

    #[test]
    fn base_path_comes_off_whole_segments_only() {
        assert_eq!(below_base("/blog/", "/blog/posts/a/"), "/posts/a/");
        assert_eq!(below_base("/blog/", " /blog/posts/a/ "), "/posts/a/");
        assert_eq!(below_base("/blog/", "/blog"), "/");
        assert_eq!(below_base("/blog/", "/blog/"), "/");
        assert_eq!(below_base("/blog/", "/blogger/x/"), "/blogger/x/");
        assert_eq!(below_base("/blog/", "/posts/a/"), "/posts/a/");
        assert_eq!(below_base("/", "/posts/a/"), "/posts/a/");
        assert_eq!(below_base("/a/b/", "/a/b/c/"), "/c/");
    }

    #[test]
    fn normalizing_twice_changes_nothing() {
        for raw in ["/a/b", "x.html", "/", "/a//b/index.html", "/caf%C3%A9"] {
            let once = normalize(raw).unwrap();
            assert_eq!(normalize(&once).unwrap(), once);
        }
    }

    #[test]
    fn page_files_map_to_threads() {
        use std::path::Path;
        assert_eq!(of_page(Path::new("index.html")).unwrap(), "/");
        assert_eq!(
            of_page(Path::new("")).unwrap(),
            "/",
            "the comments directory itself"
        );
        assert_eq!(
            of_page(Path::new("posts/a/index.html")).unwrap(),
            "/posts/a/"
        );
        assert_eq!(of_page(Path::new("about.html")).unwrap(), "/about.html");
        assert_eq!(dir("/posts/a/"), "posts/a");
        assert_eq!(dir("/"), "");
    }

    #[test]
    fn a_page_file_whose_name_a_url_escapes_is_the_thread_of_its_url() {
        use std::path::Path;
        // Hugo names a post titled "C# tips" so, and browsers ask for /posts/c%23-tips/.
        let page = Path::new("posts/c#-tips/index.html");
        assert_eq!(of_page(page).unwrap(), "/posts/c%23-tips/");
        assert_eq!(served_path(page), "/posts/c%23-tips/");
        assert_eq!(page_file("/posts/c%23-tips/"), page);
        assert_eq!(
            of_dir(Path::new("posts/c%23-tips")).unwrap(),
            "/posts/c%23-tips/"
        );
        for (file, thread) in [
            ("100%/index.html", "/100%25/"),
            ("a%41/index.html", "/a%2541/"),
            ("why?.html", "/why%3F.html"),
            ("wiki/Category:Rust/index.html", "/wiki/Category%3ARust/"),
        ] {
            assert_eq!(of_page(Path::new(file)).as_deref(), Ok(thread), "{file}");
            assert_eq!(page_file(thread), Path::new(file));
        }
    }
}
