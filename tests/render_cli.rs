//! `cairn render` and `cairn check` through the real binary, on plain HTML output
//! (no site generator involved).

mod common;

use common::*;
use std::path::Path;

const CONFIG: &str = r#"[site]
url = "https://example.org/blog/"
[comments]
dir = "comments"
[inbox]
url = "https://inbox.example.org"
"#;

const GOOD: &str = "id: 01JD3K8Z6Q9W2F4T7Y5M1N0AAA
thread: /a/
date: 2026-01-01T00:00:00Z
author: Ann
body: |
  First!
";

const REPLY: &str = "id: 01JD3K8Z6Q9W2F4T7Y5M1N0BBB
thread: /a/
parent: 01JD3K8Z6Q9W2F4T7Y5M1N0AAA
date: 2026-01-02T00:00:00Z
author: Bob
body: |
  Second.
";

const PAGE: &str = "<!DOCTYPE html>\n<html><head><title>A</title></head><body><p>Post</p><div id=\"cairn-comments\"></div></body></html>\n";

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("cairn.toml"), CONFIG).unwrap();
    std::fs::create_dir_all(root.join("comments/a")).unwrap();
    std::fs::write(root.join("comments/a/01JD3K8Z6Q9W2F4T7Y5M1N0AAA.yml"), GOOD).unwrap();
    std::fs::write(
        root.join("comments/a/01JD3K8Z6Q9W2F4T7Y5M1N0BBB.yml"),
        REPLY,
    )
    .unwrap();
    std::fs::create_dir_all(root.join("public/a")).unwrap();
    std::fs::write(root.join("public/a/index.html"), PAGE).unwrap();
    std::fs::write(
        root.join("public/index.html"),
        "<html><head><title>Home</title></head><body><span data-cairn-count=\"/blog/a/\"></span> <span data-cairn-count=\"/nope/\"></span></body></html>",
    )
    .unwrap();
    std::fs::write(root.join("public/about.html"), "<html><head></head><body><div id=\"cairn-comments\" data-cairn-thread=\"/a\"></div></body></html>").unwrap();
    std::fs::write(
        root.join("public/plain.html"),
        "<html><body>no placeholders</body></html>",
    )
    .unwrap();
    dir
}

/// A page whose placeholder names a thread that cannot exist.
const BAD_PAGE: &str =
    "<html><body><div id=\"cairn-comments\" data-cairn-thread=\"/a/../b/\"></div></body></html>";

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn plain_html_site_renders_threads_counts_and_explicit_threads() {
    let dir = site();
    std::fs::write(dir.path().join("public/bad.html"), BAD_PAGE).unwrap();
    std::fs::write(
        dir.path().join("public/links.html"),
        "<p><span data-cairn-count=\"https://example.org/blog/a/\"></span>\
         <span data-cairn-count=\"//example.org/blog/a#comments\"></span>\
         <span data-cairn-count=\"https://example.net/blog/a/\"></span></p>",
    )
    .unwrap();
    let out = cairn(dir.path(), &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = read(&dir.path().join("public/a/index.html"));
    assert!(page.contains("2 comments") && page.contains("First!") && page.contains("Second."));
    let index = read(&dir.path().join("public/index.html"));
    assert!(
        index.contains("\"/blog/a/\">2 comments</span>"),
        "base path is stripped: {index}"
    );
    assert!(index.contains("\"/nope/\">No comments</span>"));
    // A full URL of the site (as Hugo's `.Permalink` prints it) names its thread too; one
    // of another site is reported and left alone.
    let links = read(&dir.path().join("public/links.html"));
    assert!(
        links.contains("\"https://example.org/blog/a/\">2 comments</span>")
            && links.contains("\"//example.org/blog/a#comments\">2 comments</span>")
            && links.contains("\"https://example.net/blog/a/\"></span>"),
        "{links}"
    );
    assert!(
        stderr(&out).contains("public/links.html: warning: data-cairn-count=\"https://example.net/blog/a/\": a URL that is not under site.url"),
        "{}",
        stderr(&out)
    );
    let about = read(&dir.path().join("public/about.html"));
    assert!(
        about.contains("First!"),
        "data-cairn-thread picks the thread"
    );
    assert!(
        about.contains("href=\"cairn.css\""),
        "assets linked relative to the page"
    );
    assert_eq!(
        read(&dir.path().join("public/plain.html")),
        "<html><body>no placeholders</body></html>"
    );
    assert!(
        dir.path().join("public/about.comments.xml").is_file(),
        "feed next to a file-style page"
    );
    assert!(read(&dir.path().join("public/comments.xml"))
        .contains("https://example.org/blog/a/#c-01JD3K8Z6Q9W2F4T7Y5M1N0BBB"));
    // A placeholder naming an impossible thread is reported with its page and left alone.
    let warning = "public/bad.html: warning: data-cairn-thread=\"/a/../b/\": thread path contains a `.` or `..` segment; placeholder left as it was";
    assert!(stderr(&out).contains(warning), "{}", stderr(&out));
    assert_eq!(read(&dir.path().join("public/bad.html")), BAD_PAGE);
}

#[test]
fn broken_file_is_reported_by_path_and_the_rest_render() {
    let dir = site();
    let broken = dir.path().join("comments/a/01JD3K8Z6Q9W2F4T7Y5M1N0CCC.yml");
    std::fs::write(&broken, "id: 01JD3K8Z6Q9W2F4T7Y5M1N0CCC\nthread: /a/\ndate: 2026-01-03T00:00:00Z\nbody: |\n  hi\nmood: angry\n").unwrap();
    let out = cairn(dir.path(), &["render"]);
    assert!(
        out.status.success(),
        "a bad file never aborts a normal build: {}",
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(
        err.contains("comments/a/01JD3K8Z6Q9W2F4T7Y5M1N0CCC.yml:6: error: unknown field `mood`"),
        "{err}"
    );
    assert!(stdout(&out).contains(", 1 problem in"), "{}", stdout(&out));
    let page = read(&dir.path().join("public/a/index.html"));
    assert!(page.contains("First!") && page.contains("Second."));

    // --strict refuses, and leaves the site as it was.
    let dir = site();
    std::fs::write(
        dir.path().join("comments/a/01JD3K8Z6Q9W2F4T7Y5M1N0CCC.yml"),
        "id: [\n",
    )
    .unwrap();
    let out = cairn(dir.path(), &["render", "--strict"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("not rendering"), "{}", stderr(&out));
    assert_eq!(read(&dir.path().join("public/a/index.html")), PAGE);
}

#[test]
fn check_exit_codes_and_json() {
    let dir = site();
    let clean = cairn(dir.path(), &["check"]);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    assert!(
        stdout(&clean).contains("checked 2 files: 2 comments in 1 thread, 0 errors, 0 warnings")
    );

    std::fs::write(
        dir.path().join("comments/a/01JD3K8Z6Q9W2F4T7Y5M1N0DDD.yml"),
        GOOD.replace("AAA", "DDD")
            .replace("thread: /a/", "thread: /b/"),
    )
    .unwrap();
    let out = cairn(dir.path(), &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["errors"], 1);
    assert_eq!(
        report["problems"][0]["path"],
        "comments/a/01JD3K8Z6Q9W2F4T7Y5M1N0DDD.yml"
    );
    assert!(report["problems"][0]["message"]
        .as_str()
        .unwrap()
        .contains("does not match the directory"));

    let bad_config = tempfile::tempdir().unwrap();
    std::fs::write(
        bad_config.path().join("cairn.toml"),
        CONFIG.replace("[inbox]", "[inbox]\nlisen = 1"),
    )
    .unwrap();
    let out = cairn(bad_config.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cairn.toml:6: unknown field `lisen`"),
        "{}",
        stderr(&out)
    );
    let out = cairn(bad_config.path(), &["check", "--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
}

#[test]
fn out_dir_leaves_the_built_site_untouched_and_reruns_are_identical() {
    let dir = site();
    let out = cairn(dir.path(), &["render", "public", "--out", "rendered"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(read(&dir.path().join("public/a/index.html")), PAGE);
    let first = snapshot_tree(&dir.path().join("rendered"));
    let again = cairn(dir.path(), &["render", "rendered"]);
    assert!(again.status.success());
    assert_eq!(first, snapshot_tree(&dir.path().join("rendered")));
}

#[test]
fn out_dir_mirrors_the_site_and_never_takes_a_directory_of_other_files() {
    let dir = site();
    let root = dir.path();
    std::fs::create_dir_all(root.join("public/b")).unwrap();
    std::fs::write(root.join("public/b/index.html"), PAGE).unwrap();
    let run = cairn(root, &["render", "public", "--out", "rendered"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(root.join("rendered/b/comments.xml").is_file());

    // Page b is deleted from the site: its page and its feed leave the copy too.
    std::fs::remove_dir_all(root.join("public/b")).unwrap();
    let run = cairn(root, &["render", "public", "--out", "rendered"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(!root.join("rendered/b").exists());
    let fresh = cairn(root, &["render", "public", "--out", "fresh"]);
    assert!(fresh.status.success(), "{}", stderr(&fresh));
    assert_eq!(
        snapshot_tree(&root.join("rendered")),
        snapshot_tree(&root.join("fresh")),
        "a copy rendered again is the copy rendered anew"
    );

    // A directory holding files no copy put there is left alone.
    std::fs::create_dir_all(root.join("mine")).unwrap();
    std::fs::write(root.join("mine/notes.txt"), "keep").unwrap();
    let run = cairn(root, &["render", "public", "--out", "mine"]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(
        stderr(&run).contains(
            "cannot copy the site to mine: it holds files that no `cairn render --out` put there"
        ),
        "{}",
        stderr(&run)
    );
    assert_eq!(std::fs::read_dir(root.join("mine")).unwrap().count(), 1);
    assert_eq!(read(&root.join("mine/notes.txt")), "keep");
    // An empty one is taken.
    std::fs::create_dir_all(root.join("empty")).unwrap();
    let run = cairn(root, &["render", "public", "--out", "empty"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(read(&root.join("empty/a/index.html")).contains("Ann"));
}

#[test]
fn out_dir_may_not_be_the_site_nor_inside_it_nor_hold_it() {
    let dir = site();
    let before = snapshot_tree(&dir.path().join("public"));
    std::os::unix::fs::symlink("public", dir.path().join("site-link")).unwrap();
    for (out, clash) in [
        ("public", "is the site directory"),
        ("./public/../public/", "is the site directory"),
        ("site-link", "is the site directory"),
        ("public/rendered", "is inside the site directory"),
        ("site-link/new/rendered", "is inside the site directory"),
        (".", "holds the site directory"),
    ] {
        let run = cairn(dir.path(), &["render", "public", "--out", out]);
        assert_eq!(run.status.code(), Some(2), "--out {out}: {}", stderr(&run));
        assert!(
            stderr(&run).contains(&format!("cannot copy the site to {out}: it {clash} public")),
            "--out {out}: {}",
            stderr(&run)
        );
        assert_eq!(
            snapshot_tree(&dir.path().join("public")),
            before,
            "--out {out}"
        );
    }
    assert!(!dir.path().join("public/new").exists());

    // A link inside the site is copied as the link it is.
    std::os::unix::fs::symlink("a/index.html", dir.path().join("public/latest.html")).unwrap();
    let run = cairn(dir.path(), &["render", "public", "--out", "rendered"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let link = dir.path().join("rendered/latest.html");
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("a/index.html")
    );
    assert!(read(&link).contains("Ann"));

    // Rendered again into the same directory after the link became a page (and a page
    // a link to a directory elsewhere): what the last copy left is replaced, not
    // written through.
    std::fs::remove_file(dir.path().join("public/latest.html")).unwrap();
    std::fs::write(dir.path().join("public/latest.html"), PAGE).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::remove_dir_all(dir.path().join("rendered/a")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("rendered/a")).unwrap();
    let run = cairn(dir.path(), &["render", "public", "--out", "rendered"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert!(!std::fs::symlink_metadata(dir.path().join("rendered/a"))
        .unwrap()
        .is_symlink());
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    assert!(read(&dir.path().join("rendered/a/index.html")).contains("Ann"));
}

#[test]
fn missing_site_dir_is_a_clear_error() {
    let dir = site();
    let out = cairn(dir.path(), &["render", "nowhere"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("site directory nowhere does not exist"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_site_dir_without_pages_or_placeholders_gets_a_hint_not_a_failure() {
    let dir = site();
    let out = cairn(dir.path(), &["render", "public"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("no page has"), "{}", stderr(&out));

    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/post.md"), "# Not built yet\n").unwrap();
    let out = cairn(dir.path(), &["render", "src"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no HTML page in src: is it the built site?"),
        "{}",
        stderr(&out)
    );

    std::fs::create_dir_all(dir.path().join("bare")).unwrap();
    std::fs::write(
        dir.path().join("bare/index.html"),
        "<html><body>Hi</body></html>",
    )
    .unwrap();
    let out = cairn(dir.path(), &["render", "bare"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("no page has a comments placeholder: add <div id=\"cairn-comments\"></div>"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn output_piped_into_a_reader_that_stops_early_ends_quietly() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};

    // Far more than a pipe holds, so that the export is still writing when the
    // reader goes away, as with `cairn export | head`.
    let dir = site();
    let body = "A longer comment, to fill the pipe. ".repeat(20);
    for n in 0..400 {
        let id = format!("01JD3K8Z6Q9W2F4T7Y5M1N{n:04}");
        std::fs::write(
            dir.path().join(format!("comments/a/{id}.yml")),
            format!("id: {id}\nthread: /a/\ndate: 2026-01-01T00:00:00Z\nbody: {body}\n"),
        )
        .unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("export")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut start = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut start).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
}

#[test]
fn pages_in_another_encoding_get_comments_in_theirs() {
    let dir = site();
    let comment = "id: 01JD3K8Z6Q9W2F4T7Y5M1N0CCC
thread: /latin/
date: 2026-01-03T00:00:00Z
author: Zoë
body: Très bien ✓
";
    std::fs::create_dir_all(dir.path().join("comments/latin")).unwrap();
    std::fs::write(
        dir.path()
            .join("comments/latin/01JD3K8Z6Q9W2F4T7Y5M1N0CCC.yml"),
        comment,
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("public/latin")).unwrap();
    // "Café" in ISO-8859-1, declared both ways a page may declare it.
    for (name, meta) in [
        ("index.html", "<meta charset=\"iso-8859-1\">"),
        (
            "old.html",
            "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\">",
        ),
    ] {
        let mut page = format!("<html><head>{meta}<title>Caf").into_bytes();
        page.extend_from_slice(b"\xe9</title></head><body><div id=\"cairn-comments\" data-cairn-thread=\"/latin/\"></div></body></html>");
        std::fs::write(dir.path().join("public/latin").join(name), page).unwrap();
    }
    let out = cairn(dir.path(), &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for name in ["index.html", "old.html"] {
        let bytes = std::fs::read(dir.path().join("public/latin").join(name)).unwrap();
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "{name} stays in its own encoding"
        );
        // Read as the page says it is: every ISO-8859-1 byte is the code point of its value.
        let page: String = bytes.iter().map(|&b| char::from(b)).collect();
        assert!(
            page.contains("Zoë") && page.contains("Très bien &#10003;"),
            "{name}: {page}"
        );
        assert!(
            page.contains("accept-charset=\"utf-8\""),
            "the form posts UTF-8 anyway"
        );
    }
    let feed = read(&dir.path().join("public/latin/comments.xml"));
    assert!(feed.contains("<title>Comments on Café</title>"), "{feed}");
    assert!(feed.contains("Très bien ✓"), "{feed}");
}

#[test]
fn a_placeholder_may_ask_for_another_language_than_the_sites() {
    let dir = site();
    std::fs::write(
        dir.path().join("public/a/de.html"),
        "<html><head><title>Hallo</title></head><body>\
         <span data-cairn-count=\"/a/\" data-cairn-lang=\"de\"></span>\
         <div id=\"cairn-comments\" data-cairn-thread=\"/a/\" data-cairn-lang=\"de-AT\"></div></body></html>",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("public/a/sv.html"),
        "<html><body><span data-cairn-count=\"/a/\" data-cairn-lang=\"sv\"></span>\
         <div id=\"cairn-comments\" data-cairn-thread=\"/a/\" data-cairn-lang=\"sv\"></div></body></html>",
    )
    .unwrap();
    // Taiwan's Chinese is written in Traditional characters.
    std::fs::write(
        dir.path().join("public/a/tw.html"),
        "<html><body><div id=\"cairn-comments\" data-cairn-thread=\"/a/\" data-cairn-lang=\"zh-TW\"></div></body></html>",
    )
    .unwrap();
    let out = cairn(dir.path(), &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let tw = read(&dir.path().join("public/a/tw.html"));
    assert!(
        tw.contains("id=\"cairn-title\">2 則留言</h2>") && tw.contains(">回覆</a>"),
        "{tw}"
    );
    assert!(
        tw.contains("<input type=\"hidden\" name=\"lang\" value=\"zh-Hant\">"),
        "{tw}"
    );

    let de = read(&dir.path().join("public/a/de.html"));
    assert!(
        de.contains("\"de\">2 Kommentare</span>"),
        "count in German: {de}"
    );
    assert!(de.contains("id=\"cairn-title\">2 Kommentare</h2>"), "{de}");
    assert!(
        de.contains(">Antworten</a>") && de.contains("Kommentar senden"),
        "{de}"
    );
    // The form and the reply links tell the inbox to answer in German.
    assert!(
        de.contains("<input type=\"hidden\" name=\"lang\" value=\"de\">"),
        "{de}"
    );
    assert!(
        de.contains("/v1/reply?lang=de&amp;thread=%2Fa%2F&amp;parent="),
        "{de}"
    );
    let feed = read(&dir.path().join("public/a/de.comments.xml"));
    assert!(
        feed.contains("<title>Kommentare zu Hallo</title>"),
        "{feed}"
    );

    // The site's own pages stay English, with no language field.
    let en = read(&dir.path().join("public/a/index.html"));
    assert!(
        en.contains(">Reply</a>") && !en.contains("name=\"lang\""),
        "{en}"
    );
    assert!(en.contains("/v1/reply?thread=%2Fa%2F&amp;parent="), "{en}");

    // A language cairn has no strings for: the site's, and one warning for the page.
    let sv = read(&dir.path().join("public/a/sv.html"));
    assert!(
        sv.contains(">2 comments</span>") && sv.contains(">Reply</a>"),
        "{sv}"
    );
    let warning = "public/a/sv.html: warning: data-cairn-lang=\"sv\": cairn has no interface strings in `sv` (it has en, de, fr, es, pt, it, nl, ja, ru, pl, zh, zh-Hant, ar, uk, ko, he, id, tr); the site's language is used";
    assert_eq!(stderr(&out).matches(warning).count(), 1, "{}", stderr(&out));
}

/// A site in a language cairn has no strings in (Swedish) gives them in [strings]: its
/// pages say their language, count in its plural forms, date in its months, and the
/// strings it has not given yet are named at every render.
#[test]
fn a_site_in_another_language_gives_its_strings_and_is_told_which_are_missing() {
    let dir = site();
    let config = dir.path().join("cairn.toml");
    let swedish =
        "[strings]\nlocale = \"sv_SE\"\ndate_format = \"%-d %B %Y\"\ntitle_one = \"1 kommentar\"\n\
                   title_other = \"{count} kommentarer\"\nreply = \"Svara\"\n\
                   reply_to = \"Svara {author}\"\n";
    let text = read(&config).replace("[site]\n", "[site]\nlanguage = \"sv\"\n");
    std::fs::write(&config, format!("{text}{swedish}")).unwrap();
    let out = cairn(dir.path(), &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = read(&dir.path().join("public/a/index.html"));
    for expected in [
        "<section class=\"cairn\" lang=\"sv\" dir=\"ltr\"",
        "id=\"cairn-title\">2 kommentarer</h2>",
        ">Svara</a>",
        "aria-label=\"Svara Ann\"",
        ">1 januari 2026</time>",
        // Not given yet: English.
        ">Leave a comment</h3>",
    ] {
        assert!(page.contains(expected), "{expected}: {page}");
    }
    let note = stderr(&out);
    assert!(
        note.contains("cairn: note: site.language `sv`: cairn has no strings in it, so ")
            && note.contains("strings show in English until [strings] in cairn.toml gives them")
            && note.contains("and ")
            && !note.contains("title_one"),
        "{note}"
    );

    // Not a language code: a clear error before anything is written.
    std::fs::write(
        &config,
        text.replace("language = \"sv\"", "language = \"sv-SE\""),
    )
    .unwrap();
    let out = cairn(dir.path(), &["render"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "site.language `sv-SE`: give a language code, two or three lowercase letters"
        ),
        "{}",
        stderr(&out)
    );
}

/// Comments from elsewhere (an import, a file edited by hand) may hold characters no
/// one can see: control characters, and noncharacters such as U+FFFF. The page and the
/// feeds leave them out: a single one would make a feed unreadable to every reader.
#[test]
fn characters_no_one_can_see_reach_neither_pages_nor_feeds() {
    let dir = site();
    std::fs::write(
        dir.path().join("comments/a/01JD3K8Z6Q9W2F4T7Y5M1N0AAA.yml"),
        "id: 01JD3K8Z6Q9W2F4T7Y5M1N0AAA\nthread: /a/\ndate: 2026-01-01T00:00:00Z\n\
         author: \"An\\an\\x1b[0m\"\n\
         body: \"Line\\vone\\x01 and\\uFFFF a \\uFDD0tab\\tand \\x85next\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("public/a/index.html"),
        PAGE.replace("<title>A</title>", "<title>A&#1;B</title>"),
    )
    .unwrap();
    let out = cairn(dir.path(), &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let unseen =
        |c: char| c.is_control() && !matches!(c, '\t' | '\n') || "\u{ffff}\u{fdd0}".contains(c);
    let page = read(&dir.path().join("public/a/index.html"));
    assert!(!page.contains(unseen), "{page:?}");
    assert!(page.contains("Ann[0m"), "{page}");
    assert!(page.contains("Lineone and a tab\tand next"), "{page}");
    for feed in ["public/comments.xml", "public/a/comments.xml"] {
        let feed = read(&dir.path().join(feed));
        parse_xml(&feed);
        assert!(feed.contains("<name>Ann[0m</name>"), "{feed}");
        assert!(feed.contains("Lineone and a tab\tand next"), "{feed}");
    }
    assert!(
        read(&dir.path().join("public/a/comments.xml")).contains("<title>Comments on AB</title>")
    );
}

/// A symbolic link in the comments tree could lead anywhere on the machine that builds
/// the site (to a file of secrets, whose text a parse error would print into a public
/// build log): none is followed, and each is reported where it is.
#[test]
fn links_in_the_comments_tree_are_reported_and_never_followed() {
    let dir = site();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secrets"), "TOKEN: [ghp_0123456789\n").unwrap();
    std::fs::create_dir_all(outside.path().join("b")).unwrap();
    std::fs::write(
        outside.path().join("b/01JD3K8Z6Q9W2F4T7Y5M1N0CCC.yml"),
        GOOD.replace("0AAA", "0CCC")
            .replace("/a/", "/b/")
            .replace("First!", "From elsewhere"),
    )
    .unwrap();
    let link = "comments/a/01JD3K8Z6Q9W2F4T7Y5M1N0DDD.yml";
    std::os::unix::fs::symlink(outside.path().join("secrets"), dir.path().join(link)).unwrap();
    std::os::unix::fs::symlink(outside.path().join("b"), dir.path().join("comments/b")).unwrap();

    let check = cairn(dir.path(), &["check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    let report = stderr(&check);
    assert!(
        report.contains(&format!(
            "{link}: error: a symbolic link, which is not followed"
        )),
        "{report}"
    );
    assert!(
        report.contains("comments/b: error: a symbolic link, which is not followed"),
        "{report}"
    );
    assert!(!report.contains("ghp_"), "{report}");
    let summary = String::from_utf8_lossy(&check.stdout);
    assert!(summary.contains("checked 2 files: 2 comments"), "{summary}");

    std::fs::create_dir_all(dir.path().join("public/b")).unwrap();
    std::fs::write(dir.path().join("public/b/index.html"), PAGE).unwrap();
    let render = cairn(dir.path(), &["render"]);
    assert!(render.status.success(), "{}", stderr(&render));
    assert!(!read(&dir.path().join("public/b/index.html")).contains("From elsewhere"));
    assert!(read(&dir.path().join("public/a/index.html")).contains("First!"));
}

/// A page in a directory whose name has a dot (`/docs/v1.2/`) is a directory page: its
/// feed is found where the page's link says, and links lead to the page as served.
#[test]
fn feeds_of_pages_in_directories_with_a_dot_are_where_their_links_say() {
    let dir = site();
    std::fs::create_dir_all(dir.path().join("public/docs/v1.2")).unwrap();
    std::fs::write(dir.path().join("public/docs/v1.2/index.html"), PAGE).unwrap();
    std::fs::create_dir_all(dir.path().join("comments/docs/v1.2")).unwrap();
    std::fs::write(
        dir.path()
            .join("comments/docs/v1.2/01JD3K8Z6Q9W2F4T7Y5M1N0CCC.yml"),
        GOOD.replace("0AAA", "0CCC").replace("/a/", "/docs/v1.2/"),
    )
    .unwrap();
    let out = cairn(dir.path(), &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = read(&dir.path().join("public/docs/v1.2/index.html"));
    let link = "href=\"https://example.org/blog/docs/v1.2/comments.xml\"";
    assert!(page.contains(link), "{page}");
    let feed = read(&dir.path().join("public/docs/v1.2/comments.xml"));
    parse_xml(&feed);
    assert!(feed
        .contains("<link rel=\"self\" href=\"https://example.org/blog/docs/v1.2/comments.xml\""));
    let permalink = "https://example.org/blog/docs/v1.2/#c-01JD3K8Z6Q9W2F4T7Y5M1N0CCC";
    assert!(feed.contains(permalink), "{feed}");
    assert!(read(&dir.path().join("public/comments.xml")).contains(permalink));
    assert!(!dir
        .path()
        .join("public/docs/v1.2/index.comments.xml")
        .exists());
}

#[test]
fn serve_shows_the_site_and_renders_it_again_as_it_changes() {
    let dir = site();
    let root = dir.path();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"));
    command
        .current_dir(root)
        .args(["render", "--serve=127.0.0.1:0"]);
    let server = InboxProcess::spawn(command);
    let get = |path: &str| http(&server.addr, "GET", path, &[], b"").expect("the site answers");
    let explain = || server.log.lock().unwrap().clone();
    let page = || get("/blog/a/").body;

    // Under the site's base path, with the stylesheet; the root leads there.
    let first = get("/blog/a/");
    assert_eq!(first.status, 200, "{}", explain());
    assert!(first.body.contains("First!") && first.body.contains("Second."));
    assert_eq!(get("/blog/cairn.css").status, 200);
    let root_page = get("/");
    assert_eq!(root_page.status, 307);
    assert_eq!(root_page.header("location"), Some("/blog/"));
    assert!(
        get("/blog/").body.contains(">2 comments<"),
        "{}",
        get("/blog/").body
    );

    // The page served carries the live-reload script, with the render it is from; the
    // file on disk does not. Asked whether the site changed, the server answers once
    // it is rendered again.
    assert!(first
        .body
        .contains("<script src=\"/__cairn/reload.js\" data-generation=\""));
    let on_disk = std::fs::read_to_string(root.join("public/a/index.html")).unwrap();
    assert!(on_disk.contains("First!") && !on_disk.contains("__cairn"));
    assert_eq!(first.header("cache-control"), Some("no-store"));
    assert_eq!(first.header("last-modified"), None);
    let head = http(&server.addr, "HEAD", "/blog/a/", &[], b"").unwrap();
    assert_eq!(
        head.header("content-length"),
        Some(on_disk.len().to_string().as_str())
    );
    let script = get("/__cairn/reload.js");
    assert_eq!(script.status, 200);
    assert!(script.body.contains("location.reload()"));
    assert!(!get("/blog/cairn.css").body.contains("__cairn"));
    let generation = |page: &str| {
        let at = page.find("data-generation=\"").unwrap() + "data-generation=\"".len();
        page[at..at + page[at..].find('"').unwrap()].to_string()
    };
    let served_at = generation(&first.body);
    let ask = |since: String| {
        let addr = server.addr.clone();
        std::thread::spawn(move || {
            http(
                &addr,
                "GET",
                &format!("/__cairn/reload?since={since}"),
                &[],
                b"",
            )
            .expect("the question is answered")
        })
    };
    let asking = ask(served_at.clone());

    // A new comment appears, and its count.
    std::fs::write(
        root.join("comments/a/01JD3K8Z6Q9W2F4T7Y5M1N0CCC.yml"),
        GOOD.replace("01JD3K8Z6Q9W2F4T7Y5M1N0AAA", "01JD3K8Z6Q9W2F4T7Y5M1N0CCC")
            .replace("First!", "Third, while serving."),
    )
    .unwrap();
    wait_explained(
        "the new comment",
        20,
        || page().contains("Third, while serving."),
        explain,
    );
    assert!(get("/blog/").body.contains(">3 comments<"));
    let answer = asking.join().unwrap();
    assert_eq!(answer.status, 200);
    assert_ne!(answer.body.trim(), served_at, "the page is told to reload");

    // The generator rebuilds the page: it gets its comments again.
    std::fs::write(
        root.join("public/a/index.html"),
        PAGE.replace("Post", "Post, edited"),
    )
    .unwrap();
    wait_explained(
        "the rebuilt page's comments",
        20,
        || {
            let body = page();
            body.contains("Post, edited") && body.contains("Third, while serving.")
        },
        explain,
    );

    // A template override is picked up.
    std::fs::create_dir_all(root.join("cairn/templates")).unwrap();
    std::fs::write(
        root.join("cairn/templates/comments.html"),
        "<section class=\"mine\">{{ count }} here</section>",
    )
    .unwrap();
    wait_explained(
        "the template override",
        20,
        || page().contains("<section class=\"mine\">3 here"),
        explain,
    );

    // Stopping answers a question still waiting, rather than waiting for it.
    let asking = ask(generation(&page()));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let stopping = std::time::Instant::now();
    let status = server.stop();
    assert!(status.success(), "{status:?}");
    assert!(stopping.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(asking.join().unwrap().status, 200);
}

#[test]
fn threads_no_page_shows_are_named_with_the_page_file_their_address_leads_to() {
    let dir = site();
    // Comments on /c/ (as an import takes them from the address the page was served at,
    // `/blog/c`), whose page is built as c.html; and on a page that is gone.
    for (thread, id) in [
        ("c", "01JD3K8Z6Q9W2F4T7Y5M1N0CCC"),
        ("gone", "01JD3K8Z6Q9W2F4T7Y5M1N0DDD"),
    ] {
        let yaml = format!("id: {id}\nthread: /{thread}/\ndate: 2026-01-01T00:00:00Z\nbody: Hi\n");
        write_comment(dir.path(), thread, id, &yaml);
    }
    // And on /v1.2 (from `/blog/v1.2`, a name with a dot), whose page is v1.2.html.
    let id = "01JD3K8Z6Q9W2F4T7Y5M1N0EEE";
    let yaml = format!("id: {id}\nthread: /v1.2\ndate: 2026-01-01T00:00:00Z\nbody: Hi\n");
    write_comment(dir.path(), "v1.2", id, &yaml);
    std::fs::write(dir.path().join("public/c.html"), PAGE).unwrap();
    std::fs::write(dir.path().join("public/v1.2.html"), PAGE).unwrap();
    let out = cairn(dir.path(), &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "cairn: note: 3 threads with comments but no page showing them: /c/ (its page is \
             built as c.html: thread /c.html), /gone/, /v1.2 (its page is built as v1.2.html: \
             thread /v1.2.html)\n"
        ),
        "{}",
        stderr(&out)
    );
}

/// An old host served a page at any case (IIS did), and an old blog had `.html`
/// addresses (Blogger's) where the site builds folders, so an import took some
/// comments' thread from an address the page no longer has: render names the page,
/// and the moves it prints put them on it.
#[test]
fn a_thread_whose_page_differs_in_case_or_as_a_folder_is_named_with_the_move_that_joins_them() {
    let dir = site();
    for (id, thread, body) in [
        ("01JD3K8Z6Q9W2F4T7Y5M1N0CCC", "/A/", "Upper"),
        ("01JD3K8Z6Q9W2F4T7Y5M1N0CCD", "/a.html", "Blogged"),
    ] {
        let yaml =
            format!("id: {id}\nthread: {thread}\ndate: 2026-01-01T00:00:00Z\nbody: {body}\n");
        write_comment(dir.path(), thread.trim_matches('/'), id, &yaml);
    }
    let out = cairn(dir.path(), &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let note = "cairn: note: 2 threads with comments but no page showing them: /A/ (a page \
                shows /a/, the same but for case: `cairn move --map /A/=/a/` moves its \
                comments there), /a.html (a page shows /a/, its folder: `cairn move --map \
                /a.html=/a/` moves its comments there)\n";
    assert!(stderr(&out).contains(note), "{}", stderr(&out));

    let moved = cairn(
        dir.path(),
        &["move", "--map", "/A/=/a/", "--map", "/*.html=/*/"],
    );
    assert!(moved.status.success(), "{}", stderr(&moved));
    let out = cairn(dir.path(), &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("no page showing"),
        "{}",
        stderr(&out)
    );
    let page = read(&dir.path().join("public/a/index.html"));
    assert!(
        page.contains("Upper") && page.contains("Blogged") && page.contains("4 comments"),
        "{page}"
    );
}

/// A site compressed before `cairn render` (as jekyll-gzip and jekyll-brotli do within
/// `jekyll build`): each page render writes gets its gzip and Brotli copies written
/// again, which nginx's `gzip_static` and Caddy's `precompressed` send in its place,
/// comments and all; a Zstandard copy, which cairn does not write, is removed with a
/// warning. A second run changes nothing.
#[test]
fn precompressed_copies_show_the_comments_as_the_pages_do() {
    let dir = site();
    let root = dir.path();
    let public = root.join("public");
    let gzip = std::process::Command::new("gzip")
        .args(["-k", "-9", "-r"])
        .arg(&public)
        .output()
        .unwrap();
    assert!(gzip.status.success(), "{}", stderr(&gzip));
    let bare = std::fs::read(public.join("a/index.html")).unwrap();
    let mut br = Vec::new();
    brotli::BrotliCompress(&mut &bare[..], &mut br, &Default::default()).unwrap();
    std::fs::write(public.join("a/index.html.br"), br).unwrap();
    std::fs::write(
        public.join("about.html.zst"),
        b"a Zstandard copy of the bare page",
    )
    .unwrap();
    let plain_gz = std::fs::read(public.join("plain.html.gz")).unwrap();

    let out = cairn(root, &["render", "public"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("4 compressed copies updated"),
        "{}",
        stdout(&out)
    );
    let said = stderr(&out);
    assert!(
        said.contains("about.html.zst: warning: removed this precompressed copy (Zstandard"),
        "{said}"
    );
    assert!(!public.join("about.html.zst").exists());
    // The file `path` holds, unpacked from the content encoding `encoding`.
    let unpack = |path: &Path, encoding: &str| {
        let packed = std::fs::read(path).unwrap();
        let mut reader: Box<dyn std::io::Read> = match encoding {
            "br" => Box::new(brotli::Decompressor::new(&packed[..], 4096)),
            _ => Box::new(flate2::read::GzDecoder::new(&packed[..])),
        };
        let mut unpacked = Vec::new();
        reader.read_to_end(&mut unpacked).unwrap();
        unpacked
    };
    assert_eq!(
        unpack(&public.join("a/index.html.br"), "br"),
        std::fs::read(public.join("a/index.html")).unwrap()
    );
    for page in ["a/index.html", "about.html", "index.html", "plain.html"] {
        assert_eq!(
            unpack(&public.join(format!("{page}.gz")), "gzip"),
            std::fs::read(public.join(page)).unwrap(),
            "{page}.gz"
        );
    }
    // A page render leaves as it was keeps its copy as it was.
    assert_eq!(
        std::fs::read(public.join("plain.html.gz")).unwrap(),
        plain_gz
    );

    let copies = |p: &Path| {
        walkdir::WalkDir::new(p)
            .sort_by_file_name()
            .into_iter()
            .map(|e| e.unwrap().into_path())
            .filter(|p| p.extension().is_some_and(|e| e == "gz" || e == "br"))
            .map(|p| std::fs::read(&p).unwrap())
            .collect::<Vec<_>>()
    };
    let before = copies(&public);
    let again = cairn(root, &["render", "public"]);
    assert!(
        stdout(&again).contains("(0 written, 0 feeds updated)"),
        "{}",
        stdout(&again)
    );
    assert_eq!(copies(&public), before);

    // The servers send the copies in the page's place: what the reader's browser
    // unpacks from them holds the comments.
    let fetch = |port: u16, encoding: &str| {
        let (headers, body) = (root.join("headers"), root.join("body"));
        let out = std::process::Command::new("curl")
            .args(["-s", "-H", &format!("Accept-Encoding: {encoding}"), "-D"])
            .arg(&headers)
            .arg("-o")
            .arg(&body)
            .arg(format!("http://127.0.0.1:{port}/a/"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let headers = std::fs::read_to_string(headers)
            .unwrap()
            .to_ascii_lowercase();
        assert!(
            headers.contains(&format!("content-encoding: {encoding}")),
            "{headers}"
        );
        let page = String::from_utf8(unpack(&body, encoding)).unwrap();
        assert!(
            page.contains("First!") && page.contains("Second."),
            "{page}"
        );
    };
    if tool("caddy").is_some() {
        let (_caddy, port) = run_caddy(
            root,
            |port| {
                format!(
                    "http://127.0.0.1:{port} {{\n\troot * {}\n\tfile_server {{\n\t\tprecompressed br gzip\n\t}}\n}}\n",
                    public.display()
                )
            },
            |port| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        );
        fetch(port, "br");
        fetch(port, "gzip");
    }
    if tool("nginx").is_some() {
        let brotli = Path::new(NGINX_BROTLI_STATIC).exists();
        let port = free_port();
        let _nginx = run_nginx_with(
            root,
            &if brotli {
                format!("load_module {NGINX_BROTLI_STATIC};")
            } else {
                String::new()
            },
            &format!(
                "server {{\nlisten 127.0.0.1:{port};\nroot {};\ngzip_static on;\n{}}}\n",
                public.display(),
                if brotli { "brotli_static on;\n" } else { "" }
            ),
            port,
        );
        fetch(port, "gzip");
        if brotli {
            fetch(port, "br");
        }
    }
}

#[test]
fn the_site_owners_comments_are_marked_once_cairn_avatar_names_their_key() {
    let dir = site();
    let root = dir.path();
    let secret = [("CAIRN_SECRET", "0123456789abcdef0123456789abcdef")];
    // Without the secret there is no key to give.
    let out = cairn(root, &["avatar", "me@example.org"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("an avatar key is computed with the inbox's secret"),
        "{}",
        stderr(&out)
    );
    let out = cairn_with(root, &["avatar", " Me@Example.org"], &secret);
    assert!(out.status.success(), "{}", stderr(&out));
    let key = stdout(&out).trim().to_string();
    assert_eq!(key.len(), 16, "one key, alone on stdout: {key}");
    assert!(
        stderr(&out).contains(&format!(
            "Me@Example.org: 0 comments carry it\nto mark their comments as the author's, add \
             to [comments] in cairn.toml:\n  owners = [\"{key}\"]"
        )),
        "{}",
        stderr(&out)
    );
    // The owner answers Bob, posting with the address as everyone does.
    write_comment(
        root,
        "a",
        "01JD3K8Z6Q9W2F4T7Y5M1N0CCC",
        &format!(
            "id: 01JD3K8Z6Q9W2F4T7Y5M1N0CCC\nthread: /a/\nparent: 01JD3K8Z6Q9W2F4T7Y5M1N0BBB\n\
             date: 2026-01-03T00:00:00Z\nauthor: Me\navatar: {key}\nbody: Thanks!\n"
        ),
    );
    // An address in cairn.toml is refused: the file is committed.
    let config = CONFIG.replace(
        "dir = \"comments\"",
        "dir = \"comments\"\nowners = [\"me@example.org\"]",
    );
    std::fs::write(root.join("cairn.toml"), &config).unwrap();
    let out = cairn(root, &["render"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("comments.owners: `me@example.org` is an e-mail address"),
        "{}",
        stderr(&out)
    );
    assert!(!read(&root.join("public/a/index.html")).contains("class=\"cairn-comment"));

    let config = CONFIG.replace(
        "dir = \"comments\"",
        &format!("dir = \"comments\"\nowners = [\"{key}\"]"),
    );
    std::fs::write(root.join("cairn.toml"), &config).unwrap();
    let out = cairn_with(root, &["avatar", "me@example.org"], &secret);
    assert_eq!(stdout(&out).trim(), key);
    assert_eq!(
        stderr(&out),
        "me@example.org: 1 comment carries it; comments.owners lists it\n"
    );
    let out = cairn(root, &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = read(&root.join("public/a/index.html"));
    let marked: Vec<&str> = page
        .split("<li class=\"cairn-comment")
        .skip(1)
        .filter(|li| li.starts_with(" cairn-owner\""))
        .collect();
    assert_eq!(marked.len(), 1, "{page}");
    assert!(
        marked[0].contains(">Me</bdi> <span class=\"cairn-badge\">Author</span>"),
        "{}",
        marked[0]
    );
    assert_eq!(page.matches("cairn-badge").count(), 1, "{page}");
    let css = read(&root.join("public/cairn.css"));
    assert!(
        css.contains(".cairn-owner > .cairn-card"),
        "the mark is styled"
    );
    // The export says the same of each comment.
    let out = cairn(root, &["export"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let owners: Vec<(&str, bool)> = doc["threads"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["comments"].as_array().unwrap())
        .map(|c| (c["author"].as_str().unwrap(), c["owner"].as_bool().unwrap()))
        .collect();
    assert!(owners.contains(&("Me", true)), "{owners:?}");
    assert_eq!(owners.iter().filter(|(_, owner)| *owner).count(), 1);
}
