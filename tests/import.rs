//! `cairn import`, `cairn export`, `cairn forget` and `cairn move` through the real
//! binary: Isso's own migration fixtures, a database written by a real Isso server, the
//! shared corpora of real Staticman and Disqus-for-Jekyll data, erasure down to git
//! history, and comments following their pages to new URLs.

mod common;

use common::fake_forge::{self, FakeForge, Flavor};
use common::*;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CONFIG: &str = r#"[site]
url = "https://blog.example.org"
[comments]
dir = "comments"
[inbox]
url = "https://comments.example.org"
"#;

const SECRET: (&str, &str) = ("CAIRN_SECRET", TEST_SECRET);

/// Comment ids for the tests that write their comments by hand.
const IDS: [&str; 4] = [
    "01KB00000000000000000000AA",
    "01KB00000000000000000000BB",
    "01KB00000000000000000000CC",
    "01KB00000000000000000000DD",
];

/// Writes comment `id` on `thread` into the site in `dir`, with the YAML lines `more`.
fn write_thread_comment(dir: &Path, thread: &str, id: &str, more: &str) {
    let text = format!("id: {id}\nthread: {thread}\n{more}");
    write_comment(dir, thread.trim_matches('/'), id, &text);
}

/// Writes the site's cairn.toml with `line` added to its `[comments]`.
fn configure(dir: &Path, line: &str) {
    let config = CONFIG.replace("dir = \"comments\"", &format!("dir = \"comments\"\n{line}"));
    std::fs::write(dir.join("cairn.toml"), config).unwrap();
}

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cairn.toml"), CONFIG).unwrap();
    dir
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// The site's comments through `cairn export`, by origin.
fn exported(dir: &Path) -> (Value, HashMap<String, Value>) {
    let doc: Value = serde_json::from_str(&ok(&cairn(dir, &["export"]))).unwrap();
    let mut by_origin = HashMap::new();
    for thread in doc["threads"].as_array().unwrap() {
        for comment in thread["comments"].as_array().unwrap() {
            let mut comment = comment.clone();
            comment["thread"] = thread["thread"].clone();
            let origin = comment["origin"].as_str().unwrap_or_default().to_string();
            by_origin.insert(origin, comment);
        }
    }
    (doc, by_origin)
}

/// Every committed-to-be byte of the comments directory, as text.
fn tree_text(dir: &Path) -> String {
    snapshot_tree(&dir.join("comments"))
        .into_iter()
        .map(|(_, bytes)| String::from_utf8(bytes).unwrap())
        .collect()
}

#[test]
fn isso_fixture_disqus_export_imports_every_post_and_parent() {
    let Some(fixtures) = test_dep("isso-fixtures") else {
        return;
    };
    let dir = site();
    let xml = fixtures.join("disqus.xml");
    let xml = xml.to_str().unwrap();

    // A dry run needs no secret, and says what a real run needs.
    let dry = cairn(dir.path(), &["import", "disqus", xml, "--dry-run"]);
    assert!(ok(&dry).contains("would write 2 comments in 1 thread"));
    assert!(
        stderr(&dry).contains("set CAIRN_SECRET"),
        "{}",
        stderr(&dry)
    );
    assert!(stderr(&dry).contains("post 6: its thread 1337 is not in the export"));
    assert!(
        !dir.path().join("comments").exists(),
        "a dry run writes nothing"
    );

    let out = cairn(dir.path(), &["import", "disqus", xml]);
    assert!(
        !out.status.success(),
        "e-mails without a secret must not pass silently"
    );
    assert!(stderr(&out).contains("CAIRN_SECRET") && stderr(&out).contains("--no-avatars"));

    ok(&cairn_with(
        dir.path(),
        &["import", "disqus", xml],
        &[SECRET],
    ));
    let (doc, comments) = exported(dir.path());
    assert_eq!(doc["comments"], 2);
    let first = &comments["disqus:4"];
    let reply = &comments["disqus:5"];
    assert_eq!(first["thread"], "/");
    assert_eq!(first["author"], "peter");
    assert_eq!(first["date"], "2013-10-10T19:20:29Z");
    assert_eq!(first["body"], "...");
    assert_eq!(first["parent"], Value::Null);
    assert_eq!(reply["author"], "user");
    assert_eq!(reply["parent"], first["id"]);
    assert_eq!(reply["body"], "Hello, World.");
    assert_eq!(reply["date"], "2013-10-11T06:51:33Z");
    assert_eq!(
        first["avatar"], reply["avatar"],
        "one e-mail, one avatar key"
    );
    let files = tree_text(dir.path());
    assert!(!files.contains("foo@bar.com") && !files.contains("127.0.0.1"));

    let again = ok(&cairn_with(
        dir.path(),
        &["import", "disqus", xml],
        &[SECRET],
    ));
    assert!(again.contains("imported 0 comments") && again.contains("2 already imported"));

    // The same export as Disqus sends it, gzip'd, is the same comments.
    let gz = dir.path().join("disqus.xml.gz");
    let mut packed = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    std::io::copy(&mut std::fs::File::open(xml).unwrap(), &mut packed).unwrap();
    packed.finish().unwrap();
    let gz = gz.to_str().unwrap();
    let packed = ok(&cairn_with(
        dir.path(),
        &["import", "disqus", gz],
        &[SECRET],
    ));
    assert!(
        packed.contains("imported 0 comments") && packed.contains("2 already imported"),
        "{packed}"
    );
}

#[test]
fn isso_fixture_wordpress_export_imports_every_comment_with_a_mapped_query_url() {
    let Some(fixtures) = test_dep("isso-fixtures") else {
        return;
    };
    let dir = site();
    let xml = fixtures.join("wordpress.xml");
    let xml = xml.to_str().unwrap();

    let unmapped = cairn_with(
        dir.path(),
        &["import", "wordpress", xml, "--dry-run"],
        &[SECRET],
    );
    assert!(ok(&unmapped).contains("would write 6 comments"));
    assert!(stderr(&unmapped).contains("comment 11 on http://example.tld/?p=4"));
    assert!(stderr(&unmapped).contains("--map /?p=4=/new/path/"));

    ok(&cairn_with(
        dir.path(),
        &["import", "wordpress", xml, "--map", "/?p=4=/2014/p4/"],
        &[SECRET],
    ));
    let (doc, c) = exported(dir.path());
    assert_eq!(doc["comments"], 7);
    for key in ["2", "6", "7", "8", "9", "10"] {
        assert_eq!(c[&format!("wordpress:{key}")]["thread"], "/2014/test/");
    }
    assert_eq!(c["wordpress:11"]["thread"], "/2014/p4/");
    assert_eq!(c["wordpress:2"]["author"], "Ohai");
    assert_eq!(c["wordpress:2"]["body"], "Erster!1");
    assert_eq!(c["wordpress:2"]["website"], "http://example.tld/");
    assert_eq!(c["wordpress:2"]["date"], "2014-01-14T17:32:12Z");
    assert_eq!(
        c["wordpress:7"]["date"], "2014-04-29T15:21:35Z",
        "GMT date only"
    );
    assert_eq!(c["wordpress:7"]["body"], "Drölfter!");
    assert_eq!(c["wordpress:10"]["author"], "Letzter :/");
    for (child, parent) in [("7", "6"), ("8", "7"), ("9", "7")] {
        assert_eq!(
            c[&format!("wordpress:{child}")]["parent"],
            c[&format!("wordpress:{parent}")]["id"]
        );
    }
    for top in ["2", "6", "10", "11"] {
        assert_eq!(c[&format!("wordpress:{top}")]["parent"], Value::Null);
    }
    let files = tree_text(dir.path());
    assert!(
        !files.contains("posativ") && !files.contains("82.119.20") && !files.contains("86.56.63")
    );
    ok(&cairn(dir.path(), &["check", "--strict"]));
}

fn start_isso(isso: &Path, work: &Path, site_port: u16, moderation: bool) -> (Stopped, String) {
    let port = free_port();
    let config = work.join(format!("isso-{moderation}.cfg"));
    std::fs::write(
        &config,
        format!(
            "[general]\ndbpath = {}\nhost = http://127.0.0.1:{site_port}/\n\
             [server]\nlisten = http://127.0.0.1:{port}/\n\
             [moderation]\nenabled = {moderation}\n[guard]\nenabled = false\n",
            work.join("comments.db").display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(work.join(format!("isso-{moderation}.log"))).unwrap();
    let child = Command::new(isso)
        .arg("-c")
        .arg(&config)
        .arg("run")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("isso starts");
    let addr = format!("127.0.0.1:{port}");
    wait_for("isso to listen", 60, || {
        std::net::TcpStream::connect(&addr).is_ok()
    });
    (Stopped(child), addr)
}

/// Posts a comment through Isso's API; returns Isso's answer and the cookie that lets
/// its author delete it.
fn isso_post(addr: &str, site_port: u16, uri: &str, fields: Value) -> (Value, String) {
    let answer = http(
        addr,
        "POST",
        &format!("/new?uri={}", uri.replace('/', "%2F")),
        &[
            ("Content-Type", "application/json"),
            ("Origin", &format!("http://127.0.0.1:{site_port}")),
        ],
        fields.to_string().as_bytes(),
    )
    .unwrap();
    assert!(
        matches!(answer.status, 201 | 202),
        "isso: {} {}",
        answer.status,
        answer.body
    );
    let cookie = answer
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .unwrap_or_default()
        .to_string();
    (serde_json::from_str(&answer.body).unwrap(), cookie)
}

/// Isso's `created` as cairn writes it: to the microsecond, in UTC. (The JSON float
/// is read exactly: serde_json's `float_roundtrip`, enabled for the tests.)
fn isso_date(created: &Value) -> String {
    let micros = (created.as_f64().unwrap() * 1e6).round() as i64;
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[test]
fn a_real_isso_database_imports_comments_replies_dates_and_deleted_parents() {
    let Some(isso) = test_dep("isso-venv/bin/isso") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    // Isso checks that each page exists on the site before it takes a comment.
    let pages = work.path().join("site");
    for page in ["posts/a", "posts/b"] {
        std::fs::create_dir_all(pages.join(page)).unwrap();
        std::fs::write(
            pages.join(page).join("index.html"),
            format!("<!doctype html><title>{page}</title><div id=\"isso-thread\"></div>"),
        )
        .unwrap();
    }
    let site_port = free_port();
    let _pages = Stopped(
        Command::new("python3")
            .args([
                "-m",
                "http.server",
                &site_port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .current_dir(&pages)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 serves the pages"),
    );
    let site_addr = format!("127.0.0.1:{site_port}");
    wait_for("the pages", 30, || {
        std::net::TcpStream::connect(&site_addr).is_ok()
    });

    let (server, addr) = start_isso(&isso, work.path(), site_port, false);
    let (ann, ann_cookie) = isso_post(
        &addr,
        site_port,
        "/posts/a/",
        serde_json::json!({"text": "Hello *world*", "author": "Ann",
            "email": "ann@example.org", "website": "https://ann.example"}),
    );
    let (bob, _) = isso_post(
        &addr,
        site_port,
        "/posts/a/",
        serde_json::json!({"text": "A reply\n\n    with code", "author": "Bob", "parent": ann["id"]}),
    );
    let (cy, _) = isso_post(
        &addr,
        site_port,
        "/posts/b/",
        serde_json::json!({"text": "Über alles — ünïcödé", "author": "Cy", "email": "cy@example.org"}),
    );
    // Raw HTML, character references, sub- and superscript: Isso shows each its way.
    let (eve, _) = isso_post(
        &addr,
        site_port,
        "/posts/b/",
        serde_json::json!({"author": "Eve", "text": "Use <b>bold</b>, <script>alert(1)</script> \
            & &amp; &#169;\n\n<div>\nblock *x*\n</div>\n\nH~2~O, 2^10^, ~~gone~~, ~a b~, \
            `<code>` and *em*\n\n| a | b |\n|---|---|\n| c | d |"}),
    );
    // Ann deletes her comment; Isso keeps an empty row because Bob replied to it.
    let deleted = http(
        &addr,
        "DELETE",
        &format!("/id/{}", ann["id"]),
        &[
            ("Cookie", &ann_cookie),
            ("Origin", &format!("http://127.0.0.1:{site_port}")),
        ],
        b"",
    )
    .unwrap();
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    drop(server);
    let (server, addr) = start_isso(&isso, work.path(), site_port, true);
    let (pending, _) = isso_post(
        &addr,
        site_port,
        "/posts/b/",
        serde_json::json!({"text": "Awaiting moderation", "author": "Dee"}),
    );
    assert_eq!(pending["mode"], 2);
    drop(server);

    let dir = site();
    let db = work.path().join("comments.db");
    let db = db.to_str().unwrap();
    let out = cairn_with(dir.path(), &["import", "isso", db], &[SECRET]);
    ok(&out);
    assert!(stderr(&out).contains("awaiting moderation in the source (--include-pending"));
    assert!(stderr(&out).contains("kept as a \"[deleted]\" stub"));
    let (doc, c) = exported(dir.path());
    assert_eq!(doc["comments"], 4);
    let key = |v: &Value| format!("isso:{}", v["id"]);
    let (a, b, y) = (&c[&key(&ann)], &c[&key(&bob)], &c[&key(&cy)]);
    assert_eq!(a["body"], "[deleted]");
    assert_eq!(
        (a["author"].clone(), a["avatar"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(a["date"], isso_date(&ann["created"]));
    assert_eq!(b["parent"], a["id"]);
    assert_eq!(
        b["body"], "A reply\n\n    with code",
        "Markdown kept exactly"
    );
    assert_eq!(b["date"], isso_date(&bob["created"]));
    assert_eq!(b["thread"], "/posts/a/");
    assert_eq!(y["thread"], "/posts/b/");
    assert_eq!(y["body"], "Über alles — ünïcödé");
    assert_eq!(y["date"], isso_date(&cy["created"]));
    assert_eq!(y["author"], "Cy");
    assert!(y["avatar"].as_str().is_some_and(|k| k.len() == 16));
    // The page shows Eve's comment as Isso showed it: every character, in the same
    // elements (space aside: Isso writes an HTML block's lines as one).
    let shown = |html: &str| {
        let text = cairn::render::markdown::visible_text(html);
        let elements: Vec<&str> = ["<sub>", "<sup>", "<del>", "<code>", "<em>"]
            .into_iter()
            .filter(|tag| html.contains(tag))
            .collect();
        (
            text.split_whitespace().collect::<Vec<_>>().join(" "),
            elements,
        )
    };
    let eve_body = c[&key(&eve)]["body"].as_str().unwrap();
    assert_eq!(
        shown(&cairn::render::markdown::to_html(eve_body)),
        shown(eve["text"].as_str().unwrap()),
        "{eve_body}"
    );
    let files = tree_text(dir.path());
    assert!(!files.contains("example.org") && !files.contains("Hello *world*"));

    let more = ok(&cairn_with(
        dir.path(),
        &["import", "isso", db, "--include-pending"],
        &[SECRET],
    ));
    assert!(
        more.contains("imported 1 comment ") && more.contains("4 already imported"),
        "{more}"
    );
    let (_, c) = exported(dir.path());
    assert_eq!(c[&key(&pending)]["body"], "Awaiting moderation");
    ok(&cairn(dir.path(), &["check", "--strict"]));
}

/// The built page of a thread under `public/`.
fn page_file(public: &Path, thread: &str) -> PathBuf {
    let relative = thread.trim_start_matches('/');
    if thread.ends_with('/') {
        public.join(relative).join("index.html")
    } else {
        public.join(relative)
    }
}

/// Makes a page with a placeholder for every thread of the site, runs `cairn render`,
/// and checks that every comment is on its page.
fn render_every_thread(dir: &Path) {
    let (doc, _) = exported(dir);
    let public = dir.join("public");
    let threads = doc["threads"].as_array().unwrap();
    for thread in threads {
        let file = page_file(&public, thread["thread"].as_str().unwrap());
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(
            &file,
            "<html><body><div id=\"cairn-comments\"></div></body></html>",
        )
        .unwrap();
    }
    let summary = ok(&cairn(dir, &["render"]));
    let count = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    let expected = format!(
        "{} rendered on {}",
        count(doc["comments"].as_u64().unwrap() as usize, "comment"),
        count(threads.len(), "page")
    );
    assert!(summary.contains(&expected), "{summary}");
    for thread in threads {
        let path = thread["thread"].as_str().unwrap();
        let html = std::fs::read_to_string(page_file(&public, path)).unwrap();
        for comment in thread["comments"].as_array().unwrap() {
            let anchor = format!("id=\"c-{}\"", comment["id"].as_str().unwrap());
            assert!(html.contains(&anchor), "{path} lacks {anchor}");
        }
    }
}

/// The comment files of a Staticman tree, and how many replies they declare.
fn staticman_files(root: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect()
}

/// The comment form and list of a Jekyll theme on Staticman (as Minimal Mistakes writes
/// them), reading the comments of a page from its data files.
const STATICMAN_INCLUDE: &str = r#"{% if site.data.comments[page.slug] %}
  {% assign comments = site.data.comments[page.slug] | sort %}
  {% for comment in comments %}<article>{{ comment[1].message | markdownify }}</article>{% endfor %}
{% endif %}
<form method="post" action="{{ site.staticman.endpoint }}{{ site.repository }}/{{ site.staticman.branch }}/comments">
  <textarea name="fields[message]"></textarea>
</form>
"#;

#[test]
fn init_tells_a_staticman_site_what_to_replace_and_its_command_brings_the_comments_over() {
    let (Some(corpus), Some(staticman_yml)) = (
        corpus("staticman-travisdowns.tar.gz"),
        corpus_file("staticman-travisdowns.staticman.yml"),
    ) else {
        return;
    };
    let site = tempfile::tempdir().unwrap();
    let dir = site.path();
    copy_tree(&root().join("tests/fixtures/jekyll-site"), dir);
    copy_tree(&corpus.path().join("_data"), &dir.join("_data"));
    std::fs::copy(staticman_yml, dir.join("staticman.yml")).unwrap();
    std::fs::create_dir_all(dir.join("_includes")).unwrap();
    std::fs::write(dir.join("_includes/comments.html"), STATICMAN_INCLUDE).unwrap();
    let config = dir.join("_config.yml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    let line = text.lines().count() + 3;
    text.push_str("repository: me/blog\nstaticman:\n  branch: master\n");
    std::fs::write(&config, text).unwrap();

    let printed = ok(&cairn(dir, &["init"]));
    let advice = &printed[printed
        .find("This site shows comments with Staticman now:\n\n")
        .unwrap_or_else(|| panic!("{printed}"))..];
    let listed: Vec<&str> = advice
        .lines()
        .skip(2)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        listed,
        [
            "_config.yml:".to_string() + &line.to_string(),
            "_data/comments/".into(),
            "_includes/comments.html:1".into(),
            "_includes/comments.html:2".into(),
            "_includes/comments.html:5".into(),
            "staticman.yml".into(),
        ],
        "{advice}"
    );
    // Then the placeholders that take their place, and the rest of the setup.
    assert!(
        advice.find("<div id=\"cairn-comments\"></div>") > advice.find("--dry-run"),
        "{advice}"
    );

    // The import, run as printed, brings every comment over.
    let command = advice
        .split('`')
        .find(|part| part.starts_with("cairn import "))
        .expect("an import command");
    assert_eq!(command, "cairn import staticman _data/comments");
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    let report = ok(&cairn(dir, &args));
    assert!(
        report.contains("imported 397 comments in 17 threads"),
        "{report}"
    );
    ok(&cairn(dir, &["check"]));
}

#[test]
fn staticman_corpus_imports_threads_checks_renders_and_reimports_as_a_no_op() {
    let Some(corpus) = corpus("staticman-travisdowns.tar.gz") else {
        return;
    };
    let source = corpus.path().join("_data/comments");
    let files = staticman_files(&source);
    assert_eq!(files.len(), 397);
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    let hashes: Vec<&str> = texts
        .iter()
        .filter_map(|t| t.lines().find_map(|l| l.strip_prefix("email: ")))
        .filter(|h| h.len() == 32)
        .collect();
    assert!(
        hashes.len() > 200,
        "the corpus carries md5 hashes of e-mails"
    );
    let replies = texts
        .iter()
        .filter(|t| {
            t.lines()
                .any(|l| l.starts_with("replying_to_uid: ") && !l.ends_with("''"))
        })
        .count();

    let dir = site();
    let src = source.to_str().unwrap();
    let out = cairn(dir.path(), &["import", "staticman", src]);
    let report = ok(&out);
    assert!(
        report.contains("imported 397 comments in 17 threads"),
        "{report}"
    );
    assert!(report.contains("0 skipped"), "{report}");
    assert!(stderr(&out).contains("held a hash instead of an address; dropped"));
    let orphans = stderr(&out)
        .matches("is not in the source; imported as a top-level")
        .count();
    let files_text = tree_text(dir.path());
    for hash in &hashes {
        assert!(
            !files_text.contains(hash),
            "md5 {hash} reached a comment file"
        );
    }
    assert_eq!(files_text.matches("\nparent: ").count(), replies - orphans);
    ok(&cairn(dir.path(), &["check"]));

    // Threads come from the page URLs Staticman recorded; render them into pages there.
    render_every_thread(dir.path());
    let page = dir
        .path()
        .join("public/blog/2020/02/05/now-with-comments.html");
    let html = std::fs::read_to_string(page).unwrap();
    let section = &html[html.find("<section").unwrap()..html.rfind("</section>").unwrap()];
    assert!(section.contains("Testing a kramdown comment"));
    assert!(
        !section.contains("<script") && !section.contains("alert("),
        "a body's script got through"
    );

    let before = snapshot_tree(&dir.path().join("comments"));
    let again = ok(&cairn(dir.path(), &["import", "staticman", src]));
    assert!(again.contains("imported 0 comments") && again.contains("397 already imported"));
    assert_eq!(before, snapshot_tree(&dir.path().join("comments")));

    let moved = site();
    ok(&cairn(
        moved.path(),
        &["import", "staticman", src, "--map", "/blog/=/posts/"],
    ));
    let (doc, _) = exported(moved.path());
    for thread in doc["threads"].as_array().unwrap() {
        let path = thread["thread"].as_str().unwrap();
        assert!(
            path.starts_with("/posts/") || path.starts_with("/misc/"),
            "{path}"
        );
    }
}

#[test]
fn disqus_for_jekyll_corpus_imports_html_as_markdown_with_every_reply() {
    let Some(corpus) = corpus("disqus-legacy-haacked.tar.gz") else {
        return;
    };
    let source = corpus.path().join("_data/comments");
    let files = staticman_files(&source);
    assert_eq!(files.len(), 24_258);
    let replies = files
        .iter()
        .filter(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .contains("\nreplyToId: ")
        })
        .count();
    let dir = site();
    let out = cairn(
        dir.path(),
        &["import", "staticman", source.to_str().unwrap()],
    );
    assert!(
        ok(&out).contains("imported 24258 comments in 1740 threads"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("0 skipped"));
    // One message is longer than the form takes: it comes over whole, and the import
    // says so, as `cairn check` will.
    assert!(
        stderr(&out).contains(
            "google-has-the-answer-aspx/dsq-747512661.yml: imported as it is, but its body \
             has 10585 characters, more than form.max_body (10000)"
        ),
        "{}",
        stderr(&out)
    );
    let check = ok(&cairn(dir.path(), &["check"]));
    assert!(
        check.contains("24258 comments in 1740 threads, 0 errors"),
        "{check}"
    );
    let (_, c) = exported(dir.path());
    let replied = c.values().filter(|v| !v["parent"].is_null()).count();
    assert_eq!(replied, replies);
    // The author that stops Jekyll's YAML loader, and HTML turned into Markdown.
    let smiley = &c["staticman:dsq-747512686"];
    assert_eq!(smiley["author"], ":)");
    assert_eq!(smiley["body"], "i love this :D");
    assert_eq!(smiley["date"], "2008-08-06T12:43:27Z");
    assert_eq!(
        c["staticman:dsq-747516344"]["body"],
        "> You pay for the suckiness. It's like the creamy icing on top of the cake.. that's made of poop.\n\n\
         HaHa... if I'd have been drinking a soda while reading that, it certainly would have come out my nose!"
    );
    // A character reference the page showed as text stays text.
    assert!(
        c["staticman:dsq-747527134"]["body"]
            .as_str()
            .unwrap()
            .contains("turn every space in helpers into \\&nbsp;. Thats what"),
        "{}",
        c["staticman:dsq-747527134"]["body"]
    );
    // A `<br>` that ends a paragraph leaves no backslash on the page.
    assert_eq!(
        c["staticman:dsq-747522042"]["body"],
        "You forget one:\\\n\\[space\\]@domain.tld is valid. GO SPACEBAR!"
    );
    assert!(!tree_text(dir.path()).contains("disqus.com/api/users/avatars"));
    // Nearly a hundred commenters gave their e-mail address as their name, which the
    // old site published: the names come over without them.
    let addresses: Vec<String> = files
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let name = text
                .lines()
                .find_map(|l| l.strip_prefix("name: "))
                .unwrap_or_default()
                .to_string();
            name.split(|c: char| c.is_whitespace() || "()[]<>'\",;".contains(c))
                .filter(|w| {
                    // A dotted domain: `pat@veloc-no-spam-porfavor-it.`, cut short
                    // by Disqus, is no address any more.
                    w.split_once('@').is_some_and(|(user, host)| {
                        !user.is_empty() && host.trim_end_matches('.').contains('.')
                    })
                })
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(addresses.len() > 90, "{addresses:?}");
    // (Bodies keep what their writers typed on purpose, addresses included.)
    let written = tree_text(dir.path());
    let authors: Vec<&str> = written
        .lines()
        .filter(|l| l.starts_with("author: "))
        .collect();
    for address in &addresses {
        assert!(
            !authors.iter().any(|a| a.contains(address.as_str())),
            "{address} reached a comment file's author"
        );
    }
    assert_eq!(
        stderr(&out)
            .matches("name held an e-mail address, which is never published")
            .count()
            + stderr(&out)
                .matches("name was an e-mail address, which is never published")
                .count(),
        addresses.len(),
        "{}",
        stderr(&out)
    );
    assert_eq!(c["staticman:dsq-747509813"]["author"], "Dim");
    // Names came as the HTML the old pages printed: they are read as readers saw them.
    assert_eq!(c["staticman:dsq-747527361"]["author"], "Magnus Mårtensson");
    // (Only references cut short by Disqus, `Tho&#225;&#`, are left.)
    let whole_reference = |a: &&&str| {
        a.match_indices("&#").any(|(at, _)| {
            let tail = &a.as_bytes()[at + 2..];
            let digits = tail.iter().take_while(|b| b.is_ascii_digit()).count();
            digits > 0 && tail.get(digits) == Some(&b';')
        })
    };
    let escaped: Vec<&&str> = authors.iter().filter(whole_reference).collect();
    assert!(escaped.is_empty(), "{escaped:?}");
    render_every_thread(dir.path());
}

/// `cairn export --format wxr` writes a WordPress export that WordPress's importer
/// (here cairn's own, which reads WordPress's real exports) takes back whole: every
/// thread, author, website, date and reply, each text as the page shows it, hostile
/// markup already gone, and the mark of the site's own comments.
#[test]
fn a_wordpress_export_of_the_site_reads_back_whole() {
    let dir = site();
    let root = dir.path();
    let [ann, bob, cy, dee] = IDS;
    for (thread, id, more) in [
        (
            "/posts/a/",
            ann,
            "date: 2026-01-01T10:00:00Z\nauthor: Ann\nwebsite: https://ann.example/\nbody: |\n  *Nice* post, see [this](https://example.org/x).\n\n  > quoted\n\n  `code` & <script>alert(1)</script>\n".to_string(),
        ),
        (
            "/posts/a/",
            bob,
            format!("date: 2026-01-01T11:30:15Z\nparent: {ann}\nauthor: Bob\navatar: 0123456789abcdef\nbody: Thanks, Ann.\n"),
        ),
        (
            "/posts/a/",
            cy,
            format!("date: 2026-01-02T00:00:00Z\nparent: {bob}\nbody: Anonymous ]]> reply.\n"),
        ),
        ("/about/", dee, "date: 2026-02-01T00:00:00Z\nauthor: Dée\nbody: Bonjour.\n".to_string()),
    ] {
        write_thread_comment(root, thread, id, &more);
    }
    // A page closed to new comments stays closed on the other side; Bob, the site's
    // own, is its author there.
    configure(
        root,
        "closed = [\"/about/\"]\nowners = [\"0123456789abcdef\", \"fedcba9876543210\"]",
    );
    let out = cairn(root, &["export", "--format", "wxr"]);
    let wxr = ok(&out);
    assert!(
        wxr.contains(
            "<generator>cairn</generator>\n <wp:author>\n  <wp:author_id>1</wp:author_id>\n  \
             <wp:author_login>owner-1</wp:author_login>\n  \
             <wp:author_display_name>Bob</wp:author_display_name>\n </wp:author>\n <item>"
        ),
        "{wxr}"
    );
    let user_ids: Vec<&str> = wxr
        .split("<wp:comment_user_id>")
        .skip(1)
        .map(|rest| &rest[..rest.find('<').unwrap()])
        .collect();
    let bobs = wxr.find("<wp:comment_author>Bob<").unwrap();
    assert_eq!(user_ids.len(), 4, "{wxr}");
    assert_eq!(user_ids.iter().filter(|u| **u == "0").count(), 3, "{wxr}");
    assert!(
        wxr[bobs..]
            .split("<wp:comment_user_id>")
            .nth(1)
            .unwrap()
            .starts_with("1<"),
        "{wxr}"
    );
    assert!(
        wxr.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss"),
        "{wxr}"
    );
    assert!(!wxr.contains("<script"), "{wxr}");
    assert!(
        wxr.contains("<dsq:thread_identifier>/posts/a/</dsq:thread_identifier>"),
        "{wxr}"
    );
    let file = root.join("export.xml");
    std::fs::write(&file, &wxr).unwrap();

    let back = site();
    let out = cairn(
        back.path(),
        &["import", "wordpress", file.to_str().unwrap()],
    );
    let imported = ok(&out);
    assert!(
        imported.contains("imported 4 comments in 2 threads"),
        "{imported}"
    );
    assert!(
        stderr(&out).contains(
            "note: 1 page took no new comments in the source; cairn's form shows on every \
             page with a placeholder, so to keep it closed, add to [comments] in cairn.toml:\n  \
             closed = [\"/about/\"]"
        ),
        "{}",
        stderr(&out)
    );
    // The mark comes back, but the address it would be keyed by does not.
    assert!(
        stderr(&out).contains(
            "note: 1 comment the source marks as by the site's own people has no avatar key"
        ),
        "{}",
        stderr(&out)
    );
    ok(&cairn(back.path(), &["check", "--strict"]));
    let shape = |dir: &Path| {
        let (doc, _) = exported(dir);
        let mut out = Vec::new();
        for thread in doc["threads"].as_array().unwrap() {
            let comments = thread["comments"].as_array().unwrap();
            let author_of = |id: &Value| {
                comments
                    .iter()
                    .find(|c| c["id"] == *id)
                    .map(|c| c["author"].clone())
            };
            for c in comments {
                let html = cairn::render::markdown::to_html(c["body"].as_str().unwrap());
                let words = cairn::render::markdown::visible_text(&html)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                out.push((
                    thread["thread"].to_string(),
                    c["date"].to_string(),
                    c["author"].to_string(),
                    c["website"].to_string(),
                    format!("{:?}", author_of(&c["parent"])),
                    words,
                ));
            }
        }
        out
    };
    let (before, after) = (shape(root), shape(back.path()));
    assert_eq!(before.len(), 4);
    assert_eq!(before, after);
    assert_eq!(
        after[1].5, "Nice post, see this. quoted code &",
        "{after:?}"
    );
}

/// Imports `kind` (utterances or Gitalk) from `owner/site` on the local forge into a
/// new site, whose report must hold `imported` and whose stderr `skipped`: the site,
/// and that stderr.
fn imported_from_issues(
    forge: &FakeForge,
    kind: &str,
    imported: &str,
    skipped: &str,
) -> (tempfile::TempDir, String) {
    let dir = site();
    let out = cairn(
        dir.path(),
        &["import", kind, "owner/site", "--api-url", &forge.url],
    );
    let report = ok(&out);
    assert!(report.contains(imported), "{report}");
    let err = stderr(&out);
    assert!(err.contains(skipped), "{err}");
    (dir, err)
}

/// Pages whose URLs changed take their comments along: `cairn move` rewrites them
/// under the new paths in one commit, replies still under what they answer, and the
/// pages at the new paths show them.
#[test]
fn moved_pages_take_their_comments_along_in_one_commit() {
    let dir = site();
    let root = dir.path();
    let [ann, bob, cy, dee] = IDS;
    for (thread, id, more) in [
        (
            "/2019/old-slug/",
            ann,
            "author: Ann\nbody: First!\n".to_string(),
        ),
        (
            "/2019/old-slug/",
            bob,
            format!("parent: {ann}\nauthor: Bob\nbody: Welcome, Ann.\n"),
        ),
        ("/notes/a/", cy, "author: Cy\nbody: A note.\n".to_string()),
        ("/about/", dee, "author: Dee\nbody: Stays.\n".to_string()),
    ] {
        write_thread_comment(
            root,
            thread,
            id,
            &format!("date: 2026-01-01T00:00:00Z\n{more}"),
        );
    }
    // Closed pages: those of 2019 stay closed where they go, the note does not.
    configure(root, "closed = [\"/2019/*\", \"/notes/a/\"]");
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "Comments"]);
    let rules = [
        "move",
        "--map",
        "/2019/old-slug/=/2019/new-slug/",
        "--map",
        "/notes/=/journal/",
    ];

    let mut dry = rules.to_vec();
    dry.push("--dry-run");
    let out = cairn(root, &dry);
    let said = ok(&out);
    assert!(
        said.contains("would move 2 comments: /2019/old-slug/ -> /2019/new-slug/")
            && said.contains("would move 1 comment: /notes/a/ -> /journal/a/"),
        "{said}"
    );
    assert_eq!(
        stderr(&out),
        "note: `comments.closed` in cairn.toml closes /notes/a/ but not /journal/a/, where \
         its comments went: add \"/journal/a/\" to it to keep the page closed\n"
    );
    assert_eq!(git(root, &["status", "--porcelain"]), "");

    let said = ok(&cairn(root, &rules));
    assert!(
        said.contains("moved 2 comments: /2019/old-slug/ -> /2019/new-slug/"),
        "{said}"
    );
    assert!(said.contains("committed "), "{said}");
    assert_eq!(
        git(root, &["status", "--porcelain"]),
        "",
        "one commit, nothing left over"
    );
    let message = git(root, &["log", "-1", "--format=%B"]);
    assert!(
        message.starts_with("Move the comments of 2 threads")
            && message.contains("/2019/old-slug/ -> /2019/new-slug/: 2"),
        "{message}"
    );
    let files = git(root, &["ls-files", "comments"]);
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        [
            format!("comments/2019/new-slug/{ann}.yml"),
            format!("comments/2019/new-slug/{bob}.yml"),
            format!("comments/about/{dee}.yml"),
            format!("comments/journal/a/{cy}.yml"),
        ]
    );
    ok(&cairn(root, &["check", "--strict"]));

    let page = root.join("public/2019/new-slug/index.html");
    std::fs::create_dir_all(page.parent().unwrap()).unwrap();
    std::fs::write(
        &page,
        "<html><body><div id=\"cairn-comments\"></div></body></html>",
    )
    .unwrap();
    ok(&cairn(root, &["render", "public"]));
    let html = std::fs::read_to_string(&page).unwrap();
    let (first, reply) = (
        html.find("First!").unwrap(),
        html.find("Welcome, Ann.").unwrap(),
    );
    assert!(first < reply && html.contains("cairn-replies"), "{html}");

    let again = ok(&cairn(root, &rules));
    assert_eq!(again, "no thread with comments matches; nothing changed\n");
    let none = cairn(root, &["move"]);
    assert!(
        stderr(&none).contains("nothing to move: give --map OLD=NEW"),
        "{}",
        stderr(&none)
    );
}

#[test]
fn forget_erases_matches_in_one_commit_keeps_replies_and_purges_history() {
    let Some(fixtures) = test_dep("isso-fixtures") else {
        return;
    };
    let dir = site();
    let root = dir.path();
    // Published through a remote, which an inbox delivers to.
    let remote = tempfile::tempdir().unwrap();
    let remote = remote.path();
    let mut config = std::fs::read_to_string(root.join("cairn.toml")).unwrap();
    config.push_str(&format!(
        "[inbox.delivery]\nremote = {:?}\n",
        remote.display().to_string()
    ));
    std::fs::write(root.join("cairn.toml"), config).unwrap();
    git(root, &["init", "-q", "-b", "main"]);
    let xml = fixtures.join("wordpress.xml");
    let xml = xml.to_str().unwrap();
    let import = ["import", "wordpress", xml, "--map", "/?p=4=/2014/p4/"];
    ok(&cairn_with(root, &import, &[SECRET]));
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "Import WordPress comments"]);
    let (_, c) = exported(root);
    let drolf = c["wordpress:7"]["id"].as_str().unwrap().to_string();
    // The inbox has left a comment pending review on a branch of its own, made off this
    // history.
    git(remote, &["init", "-q", "--bare", "-b", "main"]);
    git(root, &["remote", "add", "origin", remote.to_str().unwrap()]);
    git(root, &["push", "-q", "origin", "main"]);
    git(root, &["checkout", "-q", "-b", "cairn/pending"]);
    std::fs::write(
        root.join("comments/pending.yml"),
        "body: waiting for review\n",
    )
    .unwrap();
    git(root, &["add", "comments/pending.yml"]);
    git(root, &["commit", "-qm", "A comment pending review"]);
    git(root, &["push", "-q", "origin", "cairn/pending"]);
    git(root, &["checkout", "-q", "main"]);
    git(root, &["branch", "-q", "-D", "cairn/pending"]);

    let dry = ok(&cairn(
        root,
        &["forget", "--author", "Ohai", "--id", &drolf, "--dry-run"],
    ));
    assert!(dry.contains("dry run: 2 comments would be erased"), "{dry}");
    assert_eq!(git(root, &["status", "--porcelain"]), "");

    let out = ok(&cairn(
        root,
        &["forget", "--author", "Ohai", "--id", &drolf],
    ));
    assert!(out.contains("by a \"[deleted]\" stub"), "{out}");
    assert_eq!(
        git(root, &["status", "--porcelain"]),
        "",
        "one commit, nothing left over"
    );
    assert!(git(root, &["log", "-1", "--format=%s"]).starts_with("Forget 2 comments"));
    let (doc, after) = exported(root);
    assert_eq!(doc["comments"], 6);
    assert!(!after.contains_key("wordpress:2"));
    let stub = &after["wordpress:7"];
    assert_eq!(
        (stub["body"].as_str(), stub["author"].as_str()),
        (Some("[deleted]"), None)
    );
    assert_eq!(after["wordpress:8"]["parent"], stub["id"]);
    assert_eq!(after["wordpress:9"]["parent"], stub["id"]);
    ok(&cairn(root, &["check", "--strict"]));

    // The printed commands purge the old text from every commit, then publish that
    // history, the pending branch's included.
    assert!(git(root, &["log", "--all", "-p"]).contains("Drölfter"));
    let commands: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("  ")).collect();
    assert_eq!(commands.len(), 6, "{out}");
    // cairn's own copies of the repository are named, to be deleted as well.
    let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache/cairn/moderate/");
    assert!(
        out.contains("So do cairn's own copies: the inbox's mirror, ")
            && out.contains("/repo.git by this config")
            && out.contains(&format!("(yours: {}", cache.display())),
        "{out}"
    );
    assert!(
        commands[0].starts_with("git fetch --prune 'origin'"),
        "{out}"
    );
    for command in commands {
        let status = Command::new("sh")
            .args(["-c", command])
            .current_dir(root)
            .env("GIT_COMMITTER_NAME", "Site Owner")
            .env("GIT_COMMITTER_EMAIL", "owner@localhost")
            .output()
            .unwrap();
        assert!(status.status.success(), "{command}: {}", stderr(&status));
    }
    for repo in [root, remote] {
        let history = git(repo, &["log", "--all", "-p"]);
        assert!(
            !history.contains("Drölfter") && !history.contains("Ohai"),
            "{history}"
        );
        assert!(
            history.contains("Yet another reply."),
            "other comments stay"
        );
    }
    let pending = git(remote, &["show", "cairn/pending:comments/pending.yml"]);
    assert_eq!(pending, "body: waiting for review\n");
    assert_eq!(git(root, &["status", "--porcelain"]), "");
    ok(&cairn(root, &["check", "--strict"]));

    // Importing again does not bring erased comments back.
    let again = cairn_with(root, &import, &[SECRET]);
    assert!(ok(&again).contains("imported 0 comments"));
    assert_eq!(
        stderr(&again).matches("erased by `cairn forget`").count(),
        1
    );
    assert!(stderr(&again).contains("comment 2 on"));
}

/// An issue as utterances opens one for a page: the term as its title, the page's
/// title and description, and its address last.
/// A comment imported from GitHub (utterances, giscus): on its page, by the user's
/// login with their profile as the website, with its date and Markdown as written, and
/// no avatar key (GitHub gives no e-mail addresses).
fn assert_from_github(c: &Value, thread: &str, login: &str, date: &str, body: &str) {
    assert_eq!(c["thread"], thread);
    assert_eq!(c["author"], login);
    assert_eq!(c["website"], format!("https://github.com/{login}"));
    assert_eq!(c["date"], date);
    assert_eq!(c["body"], body);
    assert_eq!(c["avatar"], Value::Null);
}

fn utterances_issue(title: &str, url: &str) -> String {
    format!("# {title}\n\nWhat the page is about.\n\n[{url}]({url})")
}

#[test]
fn utterances_comments_come_over_from_githubs_issues_with_their_pages_authors_and_dates() {
    let forge = FakeForge::start(Flavor::GitHub, &[]);
    // A public repository, read without a token, a page of the list at a time.
    forge.with(|s| {
        s.public = true;
        s.max_per_page = 2;
    });
    let bot = "utterances-bot";
    forge.add_issue(
        bot,
        "posts/hello/",
        &utterances_issue("Hello", "https://blog.example.org/posts/hello/"),
        &[],
        &[
            ("ann", "Nice **post**.", "2024-03-05T10:20:30Z"),
            (
                "bob",
                "`code` and <script>alert(1)</script>",
                "2024-03-06T08:00:00Z",
            ),
        ],
    );
    forge.add_issue(
        "owner",
        "The feed is broken",
        "It 404s.",
        &[],
        &[("cy", "Confirmed.", "2024-03-07T00:00:00Z")],
    );
    // Opened while the site was tried out locally: the page is the same.
    forge.add_issue(
        bot,
        "posts/hello/",
        &utterances_issue("Hello", "http://localhost:1313/posts/hello/"),
        &[],
        &[("dee", "Testing.", "2024-02-01T09:00:00Z")],
    );
    forge.add_issue(
        bot,
        "about/",
        &utterances_issue("About", "https://blog.example.org/about/?utm_source=feed"),
        &[],
        &[("", "From an account since deleted.", "2024-04-01T00:00:00Z")],
    );
    let (dir, _) = imported_from_issues(
        &forge,
        "utterances",
        "imported 4 comments in 2 threads",
        "skipped: issue #2: \"The feed is broken\" links no page, as the issues utterances opens do",
    );
    let seen = forge.with(|s| s.seen.clone());
    assert!(seen
        .iter()
        .all(|r| r.header_problem.is_none() && r.method == "GET"));
    assert!(
        seen.iter()
            .any(|r| r.path.contains("/issues/comments?") && r.path.contains("page=2")),
        "every page of the comments is read: {seen:?}"
    );

    let (_, by_origin) = exported(dir.path());
    let comment = |origin: &str| &by_origin[origin];
    let ann = comment("utterances:5000");
    assert_from_github(
        ann,
        "/posts/hello/",
        "ann",
        "2024-03-05T10:20:30Z",
        "Nice **post**.",
    );
    assert_eq!(comment("utterances:5003")["thread"], "/posts/hello/");
    let ghost = comment("utterances:5004");
    assert_eq!(ghost["thread"], "/about/");
    assert_eq!(ghost["author"], Value::Null);
    assert!(
        !by_origin.contains_key("utterances:5002"),
        "an ordinary issue's comment"
    );
    ok(&cairn(dir.path(), &["check"]));

    // Run again: nothing new.
    let api = forge.url.clone();
    let again = ok(&cairn(
        dir.path(),
        &["import", "utterances", "owner/site", "--api-url", &api],
    ));
    assert!(
        again.contains("imported 0 comments in 0 threads into comments; 4 already imported"),
        "{again}"
    );

    // A private repository needs a token, and says so.
    forge.with(|s| s.public = false);
    let refused = cairn(
        dir.path(),
        &["import", "utterances", "owner/site", "--api-url", &api],
    );
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("cannot read the issues of owner/site from")
            && stderr(&refused).contains("Not Found")
            && stderr(&refused).contains("set GITHUB_TOKEN"),
        "{}",
        stderr(&refused)
    );
    let with_token = cairn_with(
        dir.path(),
        &[
            "import",
            "utterances",
            "owner/site",
            "--api-url",
            &api,
            "--dry-run",
        ],
        &[("GITHUB_TOKEN", fake_forge::TOKEN)],
    );
    assert!(ok(&with_token).contains("4 already imported"));
}

/// A discussion's text as giscus writes it: the page's term as a title, its
/// description, its address, and (strict mode) a hash of the term.
fn giscus_discussion(term: &str, url: &str) -> String {
    format!("# {term}\n\nWhat the page is about.\n\n{url}\n\n<!-- sha1: 0c6f4f5d2b1e7a3c9d8e6f5a4b3c2d1e0f9a8b7c -->")
}

#[test]
fn giscus_comments_and_replies_come_over_from_githubs_discussions() {
    use fake_forge::discussion_comment as said;
    let forge = FakeForge::start(Flavor::GitHub, &[]);
    let mut spam = said(Some("bot"), "Cheap pills", "2024-03-05T11:00:00Z", vec![]);
    spam["isMinimized"] = true.into();
    spam["minimizedReason"] = "spam".into();
    let mut outdated = said(Some("cy"), "Is v2 out yet?", "2024-03-05T12:00:00Z", vec![]);
    outdated["isMinimized"] = true.into();
    outdated["minimizedReason"] = "outdated".into();
    let mut gone = said(
        Some("dee"),
        "",
        "2024-03-06T00:00:00Z",
        vec![said(
            None,
            "Why was this deleted?",
            "2024-03-07T00:00:00Z",
            vec![],
        )],
    );
    gone["deletedAt"] = "2024-03-08T00:00:00Z".into();
    forge.add_discussion(
        "Comments",
        "posts/hello",
        &giscus_discussion("posts/hello", "https://blog.example.org/posts/hello/"),
        vec![
            said(
                Some("ann"),
                "Nice **post**.",
                "2024-03-05T10:20:30Z",
                vec![said(Some("bob"), "Agreed.", "2024-03-05T10:30:00Z", vec![])],
            ),
            spam,
            outdated,
            gone,
        ],
    );
    forge.add_discussion(
        "Ideas",
        "Dark mode?",
        "Could the site have one?",
        vec![said(Some("eve"), "+1", "2024-01-02T00:00:00Z", vec![])],
    );
    // More comments than one query brings, the first with more replies than it brings,
    // and more discussions than one page holds.
    let replies = (0..53)
        .map(|r| {
            said(
                Some("fay"),
                &format!("reply {r}"),
                "2024-05-02T00:00:00Z",
                vec![],
            )
        })
        .collect();
    let mut busy = vec![said(Some("gus"), "First!", "2024-05-01T00:00:00Z", replies)];
    busy.extend((1..105).map(|c| {
        said(
            Some("hal"),
            &format!("comment {c}"),
            "2024-05-03T00:00:00Z",
            vec![],
        )
    }));
    forge.add_discussion(
        "Comments",
        "posts/busy",
        &giscus_discussion("posts/busy", "https://blog.example.org/posts/busy/"),
        busy,
    );
    for p in 0..50 {
        forge.add_discussion(
            "Comments",
            &format!("posts/p{p}"),
            &giscus_discussion(
                &format!("posts/p{p}"),
                &format!("https://blog.example.org/posts/p{p}/"),
            ),
            vec![said(Some("ivy"), "Thanks.", "2024-06-01T00:00:00Z", vec![])],
        );
    }
    let api = forge.url.clone();
    let dir = site();
    let token = [("GITHUB_TOKEN", fake_forge::TOKEN)];
    let import = |extra: &[&str]| {
        let mut args = vec!["import", "giscus", "owner/site", "--api-url", &api];
        args.extend(extra);
        cairn_with(dir.path(), &args, &token)
    };

    let out = import(&[]);
    let report = ok(&out);
    // hello: ann, bob, cy, the deleted comment's stub and its reply; busy: 105 + 53;
    // 50 more pages with one each.
    assert!(
        report.contains("imported 213 comments in 52 threads"),
        "{report}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("skipped: discussion #2: \"Dark mode?\" links no page, as the discussions giscus opens do"),
        "{err}"
    );
    assert!(err.contains("marked as spam in the source"), "{err}");
    let seen = forge.with(|s| s.seen.clone());
    assert!(
        seen.iter().all(|r| r.header_problem.is_none()
            && r.method == "POST"
            && r.path == "/graphql"
            && r.status == 200),
        "{seen:?}"
    );
    // Two pages of discussions, then the rest of busy's comments and of its first
    // comment's replies: GitHub answered every query with data, not errors.
    assert_eq!(seen.len(), 4, "{seen:?}");

    let (_, by_origin) = exported(dir.path());
    let ids = forge.with(|s| {
        let hello = &s.discussions[0]["comments"];
        (
            hello[0]["id"].as_str().unwrap().to_string(),
            hello[0]["replies"][0]["id"].as_str().unwrap().to_string(),
            hello[3]["id"].as_str().unwrap().to_string(),
            hello[3]["replies"][0]["id"].as_str().unwrap().to_string(),
            hello[1]["id"].as_str().unwrap().to_string(),
        )
    });
    let comment = |id: &str| &by_origin[&format!("giscus:{id}")];
    let ann = comment(&ids.0);
    assert_from_github(
        ann,
        "/posts/hello/",
        "ann",
        "2024-03-05T10:20:30Z",
        "Nice **post**.",
    );
    let bob = comment(&ids.1);
    assert_eq!(bob["parent"], ann["id"]);
    assert_eq!(bob["thread"], "/posts/hello/");
    let stub = comment(&ids.2);
    assert_eq!(stub["body"], "[deleted]");
    let orphan = comment(&ids.3);
    assert_eq!(orphan["parent"], stub["id"]);
    assert_eq!(orphan["author"], Value::Null);
    assert!(
        !by_origin.contains_key(&format!("giscus:{}", ids.4)),
        "spam"
    );
    let busy = by_origin
        .values()
        .filter(|c| c["thread"] == "/posts/busy/")
        .count();
    assert_eq!(busy, 158);
    ok(&cairn(dir.path(), &["check"]));

    // Run again, with giscus' category: nothing new, and the other categories' are not
    // looked at.
    let again = import(&["--category", "Comments"]);
    assert!(
        ok(&again).contains("imported 0 comments in 0 threads into comments; 213 already imported"),
        "{}",
        stdout(&again)
    );
    assert!(!stderr(&again).contains("Dark mode?"), "{}", stderr(&again));

    // GitHub's GraphQL API answers no one without a token; cairn says what to set, as
    // it says when the token is refused or the repository is not there. Each fails the
    // run as an unreadable source.
    for (repo, env, says) in [
        (
            "owner/site",
            None,
            "set GITHUB_TOKEN to one that can read owner/site",
        ),
        (
            "owner/site",
            Some("ghp_expired"),
            "refused the token (HTTP 401: Bad credentials)",
        ),
        (
            "owner/blog",
            Some(fake_forge::TOKEN),
            "GitHub has no repository owner/blog, or the token cannot read it",
        ),
    ] {
        let env: Vec<(&str, &str)> = env.map(|t| ("GITHUB_TOKEN", t)).into_iter().collect();
        let out = cairn_with(
            dir.path(),
            &["import", "giscus", repo, "--api-url", &api],
            &env,
        );
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
    }

    // GraphQL's rate limit, in points: a page of discussions with their comments and
    // replies costs 51 (5,051 requests' worth), so a second one is refused with 49
    // left. The limit lifts within seconds: it is waited out, and the query repeated.
    forge.with(|s| {
        s.seen.clear();
        s.limit = Some((100, std::time::Duration::from_secs(3)));
        s.window_start = std::time::Instant::now();
        s.used = 0;
    });
    let limited = import(&["--dry-run"]);
    assert!(ok(&limited).contains("213 already imported"));
    let seen = forge.with(|s| s.seen.clone());
    assert_eq!(seen.len(), 5, "a query was refused and repeated: {seen:?}");
}

#[test]
fn init_gives_a_giscus_site_the_import_that_brings_its_categorys_discussions_over() {
    use fake_forge::discussion_comment as said;
    let site = tempfile::tempdir().unwrap();
    let dir = site.path();
    copy_tree(&root().join("tests/fixtures/jekyll-site"), dir);
    std::fs::create_dir_all(dir.join("_includes")).unwrap();
    std::fs::write(
        dir.join("_includes/comments.html"),
        "<script src=\"https://giscus.app/client.js\"\n        data-repo=\"owner/site\"\n        \
         data-repo-id=\"R_kgDOsite\"\n        data-category=\"Blog comments\"\n        \
         data-category-id=\"DIC_kwDOsite\"\n        data-mapping=\"pathname\"\n        \
         crossorigin=\"anonymous\" async></script>\n",
    )
    .unwrap();
    let forge = FakeForge::start(Flavor::GitHub, &[]);
    forge.add_discussion(
        "Blog comments",
        "blog/2024/hello/",
        &giscus_discussion("blog/2024/hello/", "https://example.org/blog/2024/hello/"),
        vec![said(
            Some("ann"),
            "Hello back.",
            "2024-03-05T10:20:30Z",
            vec![said(
                Some("bob"),
                "Hi both.",
                "2024-03-05T11:00:00Z",
                vec![],
            )],
        )],
    );
    forge.add_discussion(
        "Q&A",
        "How do I build it?",
        "# How do I build it?\n\nWith Jekyll.\n\nhttps://example.org/blog/about/",
        vec![said(
            Some("cy"),
            "bundle exec jekyll build",
            "2024-04-01T00:00:00Z",
            vec![],
        )],
    );

    let printed = ok(&cairn(dir, &["init"]));
    let advice = &printed[printed
        .find("This site shows comments with giscus now:\n\n")
        .unwrap_or_else(|| panic!("{printed}"))..];
    assert!(advice.contains("_includes/comments.html:1"), "{advice}");
    let command = advice
        .replace('\n', " ")
        .split('`')
        .find(|part| part.starts_with("cairn import "))
        .expect("an import command")
        .to_string();
    assert_eq!(
        command,
        "cairn import giscus owner/site --category 'Blog comments'"
    );
    // Run as printed, by a shell, against the fake GitHub: the blog's category comes
    // over, the Q&A stays.
    let bin = Path::new(env!("CARGO_BIN_EXE_cairn")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{command} --api-url {}", forge.url))
        .current_dir(dir)
        .env("PATH", path)
        .env("GITHUB_TOKEN", fake_forge::TOKEN)
        .env_remove("CAIRN_FORGE_TOKEN")
        .output()
        .unwrap();
    let report = ok(&out);
    assert!(
        report.contains("imported 2 comments in 1 thread"),
        "{report}"
    );
    let (_, by_origin) = exported(dir);
    let threads: Vec<&Value> = by_origin.values().map(|c| &c["thread"]).collect();
    assert_eq!(
        threads,
        ["/2024/hello/", "/2024/hello/"],
        "under the base path"
    );
    ok(&cairn(dir, &["check"]));
}

#[test]
fn gitalk_comments_come_over_from_the_issues_it_labelled() {
    let forge = FakeForge::start(Flavor::GitHub, &[]);
    forge.with(|s| s.public = true);
    forge.add_issue(
        "owner",
        "Hello",
        "https://blog.example.org/posts/hello/ \n\n A first post.",
        &["Gitalk", "5d41402abc4b2a76b9719d911017c592"],
        &[
            ("ann", "Nice **post**.", "2024-03-05T10:20:30Z"),
            ("bob", "> Nice **post**.\n\nAgreed.", "2024-03-06T08:00:00Z"),
        ],
    );
    // A site that gave Gitalk a body of its own, and the page's path as its id.
    forge.add_issue(
        "owner",
        "About",
        "Comments on the About page",
        &["Gitalk", "/about/"],
        &[("cy", "Hi!", "2024-04-01T00:00:00Z")],
    );
    forge.add_issue(
        "owner",
        "Old",
        "Comments on an old page",
        &["Gitalk", "c4ca4238a0b923820dcc509a6f75849b"],
        &[("dee", "Lost.", "2024-04-02T00:00:00Z")],
    );
    // Not Gitalk's: not read.
    forge.add_issue(
        "eve",
        "The feed is broken",
        "https://blog.example.org/index.xml 404s",
        &[],
        &[("owner", "Fixed.", "2024-04-03T00:00:00Z")],
    );
    let (dir, err) = imported_from_issues(
        &forge,
        "gitalk",
        "imported 3 comments in 2 threads",
        "skipped: issue #3: \"Old\" links no page, as the issues Gitalk opens do",
    );
    assert!(!err.contains("feed is broken"), "{err}");
    let seen = forge.with(|s| s.seen.clone());
    assert!(
        seen.iter().any(|r| r.path.contains("labels=Gitalk")),
        "{seen:?}"
    );

    let (_, by_origin) = exported(dir.path());
    assert_from_github(
        &by_origin["gitalk:5000"],
        "/posts/hello/",
        "ann",
        "2024-03-05T10:20:30Z",
        "Nice **post**.",
    );
    assert_eq!(by_origin["gitalk:5002"]["thread"], "/about/");
    assert_eq!(by_origin.len(), 3);
    ok(&cairn(dir.path(), &["check"]));
}

/// A Remark42 backup of a blog: what `remark42 backup` (and the daily backups) write,
/// gzip'd: the site's metadata, then a comment a line.
fn remark42_backup(dir: &Path) -> PathBuf {
    use serde_json::json;
    use std::io::Write;
    let user = |name: &str, id: &str| {
        json!({"name": name, "id": id, "picture": format!("https://remark42.example.org/api/v1/avatar/{id}.image"),
               "ip": "293ec5b0cf154855258824ec7fac5dc63d176915", "admin": false, "site_id": "blog"})
    };
    let comment =
        |id: &str, pid: &str, page: &str, time: &str, who: serde_json::Value, text: &str| {
            json!({"id": id, "pid": pid, "text": text, "user": who,
               "locator": {"site": "blog", "url": format!("https://blog.example.org{page}")},
               "score": 1, "vote": 0, "time": time, "title": "A post"})
        };
    let mut deleted = comment(
        "r-gone",
        "",
        "/2021/hello/",
        "2021-03-04T09:00:00Z",
        user("deleted", "deleted"),
        "",
    );
    deleted["delete"] = json!(true);
    let lines = [
        json!({"version": 1,
               "users": [{"id": "github_ann", "blocked": {"status": false, "until": "0001-01-01T00:00:00Z"}, "verified": true},
                         {"id": "google_troll", "blocked": {"status": true, "until": "2999-01-01T00:00:00Z"}}],
               "posts": [{"url": "https://blog.example.org/2020/old/", "read_only": true},
                         {"url": "https://blog.example.org/2021/hello/", "read_only": false}]}),
        comment("r-ann", "", "/2021/hello/", "2021-03-04T10:20:30.5+02:00", user("Ann &lt;3", "github_ann"),
                "<p>Nice, see <a href=\"https://ann.example/\" rel=\"nofollow\">my notes</a>:</p>\n\n<pre class=\"chroma\"><code><span class=\"nx\">let</span> x = 1;\n</code></pre>\n"),
        comment("r-bob", "r-ann", "/2021/hello/", "2021-03-04T11:00:00Z", user("Bob", "anonymous_bob"),
                "<blockquote>\n<p>see my notes</p>\n</blockquote>\n<p>Thanks!</p>\n"),
        comment("r-cy", "r-bob", "/2021/hello/", "2021-03-05T08:00:00Z", user("Cy", "email_cy"), "<p>Third level.</p>"),
        deleted,
        comment("r-dee", "r-gone", "/2021/hello/", "2021-03-06T08:00:00Z", user("Dee", "email_dee"), "<p>Replying to a deleted one.</p>"),
        comment("r-troll", "", "/2021/hello/", "2021-03-07T08:00:00Z", user("Troll", "google_troll"), "<p>buy now</p>"),
        comment("r-old", "", "/2020/old/", "2020-01-01T00:00:00Z", user("Eve", "github_eve"), "<p>An old one.</p>"),
    ];
    let mut text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    text.push_str("{\"id\":\"r-cut\",\"text\":\"<p>cut sh\n");
    let path = dir.join("backup-blog-20240101.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    path
}

#[test]
fn a_remark42_backup_comes_over_threaded_with_its_closed_pages_named() {
    let dir = site();
    let backup = remark42_backup(dir.path());
    let backup = backup.to_str().unwrap();
    let out = cairn(dir.path(), &["import", "remark42", backup]);
    assert!(
        ok(&out).contains(
            "imported 6 comments in 2 threads into comments; 0 already imported; 2 skipped"
        ),
        "{}",
        stdout(&out)
    );
    let report = stderr(&out);
    for expected in [
        "skipped: line 7 (comment r-troll): its author is blocked in the source",
        "skipped: line 9: not a Remark42 comment: EOF while parsing a string",
        "note: line 5 (comment r-gone): deleted in the source; kept as a \"[deleted]\" stub because replies to it are imported",
        "so to keep it closed, add to [comments] in cairn.toml:\n  closed = [\"/2020/old/\"]",
    ] {
        assert!(report.contains(expected), "{expected:?} not in:\n{report}");
    }
    let (_, c) = exported(dir.path());
    let ann = &c["remark42:r-ann"];
    assert_eq!(ann["thread"], "/2021/hello/");
    assert_eq!(ann["author"], "Ann <3");
    assert_eq!(ann["date"], "2021-03-04T08:20:30.500Z");
    assert_eq!(ann["avatar"], Value::Null);
    assert_eq!(
        ann["body"],
        "Nice, see [my notes](https://ann.example/):\n\n```\nlet x = 1;\n```"
    );
    assert_eq!(c["remark42:r-bob"]["parent"], ann["id"]);
    assert_eq!(c["remark42:r-bob"]["body"], "> see my notes\n\nThanks!");
    assert_eq!(c["remark42:r-cy"]["parent"], c["remark42:r-bob"]["id"]);
    assert_eq!(c["remark42:r-gone"]["body"], "[deleted]");
    assert_eq!(c["remark42:r-dee"]["parent"], c["remark42:r-gone"]["id"]);
    // Neither the picture on Remark42's server, nor the hash of an IP, nor the user ids.
    let tree = tree_text(dir.path());
    for gone in ["remark42.example.org", "293ec5b0", "github_ann", "email_cy"] {
        assert!(!tree.contains(gone), "{gone} reached the comment files");
    }
    ok(&cairn(dir.path(), &["check", "--strict"]));
    render_every_thread(dir.path());

    let again = cairn(dir.path(), &["import", "remark42", backup]);
    assert!(
        ok(&again).contains("imported 0 comments in 0 threads into comments; 6 already imported"),
        "{}",
        stdout(&again)
    );
    // Once the page is closed in cairn.toml, the import stops saying so.
    configure(dir.path(), "closed = [\"/2020/*\"]");
    let closed = cairn(dir.path(), &["import", "remark42", backup, "--dry-run"]);
    ok(&closed);
    assert!(
        !stderr(&closed).contains("closed = ["),
        "{}",
        stderr(&closed)
    );
}

#[test]
fn a_waline_export_comes_over_with_accounts_replies_and_avatar_keys() {
    let dir = site();
    let export = dir.path().join("waline.json");
    let comment = |id: &str, page: &str, text: &str, more: Value| {
        let mut c = serde_json::json!({"objectId": id, "url": page, "comment": text,
            "insertedAt": "2024-03-05T10:20:30.000Z", "createdAt": "2024-03-05T10:20:30.000Z",
            "updatedAt": "2024-03-05T10:20:30.000Z", "status": "approved", "ua": "Mozilla/5.0",
            "ip": "203.0.113.9", "like": 0, "sticky": false});
        for (key, value) in more.as_object().unwrap() {
            c[key] = value.clone();
        }
        c
    };
    let comments = [
        comment(
            "65e6f1",
            "/2024/hello/",
            "First! `code` and a [link](https://example.org)",
            serde_json::json!({"nick": "Ann", "mail": "ann@example.org", "link": "ann.example"}),
        ),
        comment(
            "65e6f2",
            "/2024/hello/",
            "Welcome, Ann.",
            serde_json::json!({"pid": "65e6f1", "rid": "65e6f1", "user_id": "u1",
                               "insertedAt": "2024-03-05 12:00:00", "nick": "admin"}),
        ),
        comment(
            "65e6f3",
            "/2024/hello/",
            "Awaiting a look",
            serde_json::json!({"status": "waiting", "nick": "Cy", "mail": "cy@example.org"}),
        ),
        comment(
            "65e6f4",
            "/2024/hello/",
            "cheap pills",
            serde_json::json!({"status": "spam", "nick": "bot", "mail": "bot@example.org"}),
        ),
    ];
    let users = serde_json::json!([{"objectId": "u1", "display_name": "Bob",
        "email": "bob@example.org", "url": "https://bob.example", "type": "administrator",
        "password": "$2a$08$x"}]);
    let doc = serde_json::json!({"type": "waline", "version": 1, "time": 1709634030000u64,
        "tables": ["Comment", "Counter", "Users"],
        "data": {"Comment": comments, "Users": users,
                 "Counter": [{"objectId": "c1", "url": "/2024/hello/", "time": 42}]}});
    std::fs::write(&export, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let export = export.to_str().unwrap();

    let out = cairn_with(dir.path(), &["import", "waline", export], &[SECRET]);
    assert!(
        ok(&out).contains(
            "imported 2 comments in 1 thread into comments; 0 already imported; 2 skipped"
        ),
        "{}",
        stdout(&out)
    );
    let report = stderr(&out);
    assert!(
        report.contains("skipped: comment 65e6f3: awaiting moderation in the source (--include-pending imports it)")
            && report.contains("skipped: comment 65e6f4: marked as spam in the source"),
        "{report}"
    );
    let (_, c) = exported(dir.path());
    let (ann, bob) = (&c["waline:65e6f1"], &c["waline:65e6f2"]);
    assert_eq!(ann["thread"], "/2024/hello/");
    assert_eq!(ann["website"], "http://ann.example");
    assert_eq!(
        ann["body"],
        "First! `code` and a [link](https://example.org)"
    );
    // A signed-in commenter is shown as their account.
    assert_eq!(bob["author"], "Bob");
    assert_eq!(bob["website"], "https://bob.example");
    assert_eq!(bob["parent"], ann["id"]);
    assert_eq!(bob["date"], "2024-03-05T12:00:00Z");
    assert!(ann["avatar"].is_string() && bob["avatar"].is_string());
    assert_ne!(ann["avatar"], bob["avatar"]);
    let tree = tree_text(dir.path());
    for gone in ["@example.org", "203.0.113.9", "Mozilla", "$2a$08$x"] {
        assert!(!tree.contains(gone), "{gone} reached the comment files");
    }
    ok(&cairn(dir.path(), &["check", "--strict"]));
    render_every_thread(dir.path());

    let pending = cairn_with(
        dir.path(),
        &["import", "waline", export, "--include-pending"],
        &[SECRET],
    );
    assert!(
        ok(&pending).contains(
            "imported 1 comment in 1 thread into comments; 2 already imported; 1 skipped"
        ),
        "{}",
        stdout(&pending)
    );
}

/// Commento mails a link to its export, a gzip'd JSON document of the domain's
/// comments and of the commenters who wrote them.
#[test]
fn a_commento_export_comes_over_with_its_commenters_and_replies() {
    use std::io::Write;
    let dir = site();
    let hex = |n: u8| format!("{n:02x}").repeat(32);
    let comment = |n: u8, parent: &str, commenter: &str, url: &str, markdown: &str| {
        serde_json::json!({"commentHex": hex(n), "domain": "blog.example.org", "url": url,
            "commenterHex": commenter, "markdown": markdown, "html": "", "parentHex": parent,
            "score": 0, "state": "approved", "creationDate": format!("2021-03-1{n}T12:09:47.722181Z"),
            "direction": 0})
    };
    let commenter = |n: u8, name: &str, email: &str, link: &str| {
        serde_json::json!({"commenterHex": hex(n), "email": email, "name": name, "link": link,
            "photo": "https://lh3.googleusercontent.com/a/photo", "provider": "google",
            "joinDate": "2021-03-01T00:00:00Z"})
    };
    let mut flagged = comment(4, "root", &hex(0xb0), "/blog/post/1", "cheap pills");
    flagged["state"] = serde_json::json!("flagged");
    let export = serde_json::json!({"version": 1,
    "comments": [
        comment(1, "root", &hex(0xa0), "/blog/post/1", "Nice post.\n\n> a quote"),
        comment(2, &hex(1), "anonymous", "/blog/post/1", "Agreed!"),
        comment(3, &hex(2), &hex(0xa0), "/blog/post/1", "Thanks, stranger."),
        flagged,
        comment(5, "root", &hex(0xb0), "/about", "Hello."),
    ],
    "commenters": [
        commenter(0xa0, "Ann", "ann@example.org", "https://ann.example"),
        commenter(0xa0, "Ann", "ann@example.org", "https://ann.example"),
        commenter(0xb0, "Bob", "bob@example.org", "undefined"),
    ]});
    let path = dir.path().join("commento-export.json.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(export.to_string().as_bytes()).unwrap();
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    let path = path.to_str().unwrap();

    let out = cairn_with(dir.path(), &["import", "commento", path], &[SECRET]);
    assert!(
        ok(&out).contains(
            "imported 4 comments in 2 threads into comments; 0 already imported; 1 skipped"
        ),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains(&format!(
            "skipped: comment {}: marked as spam in the source",
            &hex(4)[..12]
        )),
        "{}",
        stderr(&out)
    );
    let (_, c) = exported(dir.path());
    let (ann, anon, reply) = (
        &c[&format!("commento:{}", hex(1))],
        &c[&format!("commento:{}", hex(2))],
        &c[&format!("commento:{}", hex(3))],
    );
    assert_eq!(ann["thread"], "/blog/post/1/");
    assert_eq!(ann["author"], "Ann");
    assert_eq!(ann["website"], "https://ann.example");
    assert_eq!(ann["body"], "Nice post.\n\n> a quote");
    assert_eq!(anon["author"], Value::Null);
    assert_eq!(anon["avatar"], Value::Null);
    assert_eq!(anon["parent"], ann["id"]);
    assert_eq!(reply["parent"], anon["id"]);
    assert_eq!(reply["avatar"], ann["avatar"]);
    let bob = &c[&format!("commento:{}", hex(5))];
    assert_eq!(
        (&bob["thread"], &bob["website"]),
        (&Value::from("/about/"), &Value::Null)
    );
    let tree = tree_text(dir.path());
    for gone in ["@example.org", "googleusercontent", "undefined"] {
        assert!(!tree.contains(gone), "{gone} reached the comment files");
    }
    ok(&cairn(dir.path(), &["check", "--strict"]));
    render_every_thread(dir.path());
    let again = cairn_with(dir.path(), &["import", "commento", path], &[SECRET]);
    assert!(
        ok(&again).contains("4 already imported"),
        "{}",
        stdout(&again)
    );
}

/// Twikoo's admin exports its comments as a JSON array of HTML comments; LeanCloud
/// exports Valine's, in the same shape, one object a line.
#[test]
fn twikoo_and_valine_exports_come_over_as_markdown_with_their_replies() {
    let dir = site();
    let twikoo = dir.path().join("twikoo-comments.json");
    let comment = |id: &str, pid: Option<&str>, nick: &str, html: &str, spam: bool| {
        serde_json::json!({"_id": id, "nick": nick, "mail": format!("{}@example.org", nick.to_lowercase()),
            "mailMd5": "0bc83cb571cd1c50ba6f3e8a78ef1346", "link": "", "ua": "Mozilla/5.0",
            "ip": "203.0.113.9", "master": false, "url": "/2024/hello/",
            "href": "https://blog.example.org/2024/hello/", "comment": html, "pid": pid,
            "rid": pid, "isSpam": spam, "created": 1709634030000u64, "updated": 1709634030000u64,
            "like": [], "top": false})
    };
    // The blogger's answer, from the address Twikoo knows as theirs.
    let mut answer = comment("t2", Some("t1"), "Bob", "<p>Agreed.</p>\n", false);
    answer["master"] = true.into();
    // And one written where Twikoo had no address of theirs: nothing keys it.
    let mut keyless = comment("t4", Some("t1"), "Bob", "<p>From my phone.</p>\n", false);
    keyless["master"] = true.into();
    keyless["mail"] = "".into();
    let export = serde_json::json!([
        comment(
            "t1",
            None,
            "Ann",
            "<p>Nice, <code>x &lt; y</code>:</p>\n<blockquote><p>quoted</p></blockquote>\n",
            false
        ),
        answer,
        comment("t3", None, "Cy", "<p>Waiting for review.</p>\n", true),
        keyless,
    ]);
    std::fs::write(&twikoo, export.to_string()).unwrap();
    let import = || {
        cairn_with(
            dir.path(),
            &["import", "twikoo", twikoo.to_str().unwrap()],
            &[SECRET],
        )
    };
    let out = import();
    assert!(
        ok(&out).contains(
            "imported 3 comments in 1 thread into comments; 0 already imported; 1 skipped"
        ),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains(
            "note: 1 comment the source marks as by the site's own people has no avatar key \
             (no e-mail address in the source, or none turned into a key): nothing marks it"
        ),
        "{}",
        stderr(&out)
    );
    // The import names the blogger's key for comments.owners: the one `cairn avatar`
    // gives their address.
    let key = ok(&cairn_with(
        dir.path(),
        &["avatar", "bob@example.org"],
        &[SECRET],
    ));
    let key = key.trim();
    assert!(
        stderr(&out).contains(&format!(
            "note: the source marks comments as by the site's own people (1 avatar key); to \
             mark them as the author's on the pages too, add to [comments] in cairn.toml:\n  \
             owners = [\"{key}\"]"
        )),
        "{}",
        stderr(&out)
    );
    configure(dir.path(), &format!("owners = [\"{key}\"]"));
    let again = import();
    assert!(ok(&again).contains("0 comments"), "{}", stdout(&again));
    assert!(!stderr(&again).contains("owners"), "{}", stderr(&again));
    assert!(stderr(&again).contains("note: 1 comment the source marks"));
    let (_, c) = exported(dir.path());
    let (ann, bob) = (&c["twikoo:t1"], &c["twikoo:t2"]);
    assert_eq!(ann["body"], "Nice, `x < y`:\n\n> quoted");
    assert_eq!(bob["parent"], ann["id"]);
    assert_eq!(ann["website"], Value::Null);
    assert!(ann["avatar"].is_string());

    let valine = dir.path().join("Comment.0.jsonl");
    std::fs::write(
        &valine,
        "{\"objectId\":\"v1\",\"nick\":\"Di\",\"mail\":\"di@example.org\",\"link\":\"di.example\",\"url\":\"/about/\",\"comment\":\"<p>Hello from Valine</p>\",\"createdAt\":\"2019-05-01T08:00:00.000Z\",\"updatedAt\":\"2019-05-01T08:00:00.000Z\",\"ip\":\"198.51.100.7\"}\n\
         {\"objectId\":\"v2\",\"nick\":\"Ed\",\"url\":\"/about/\",\"pid\":\"v1\",\"rid\":\"v1\",\"comment\":\"<p>Hi Di</p>\",\"createdAt\":{\"__type\":\"Date\",\"iso\":\"2019-05-02T08:00:00.000Z\"}}\n",
    )
    .unwrap();
    let out = cairn_with(
        dir.path(),
        &["import", "valine", valine.to_str().unwrap()],
        &[SECRET],
    );
    assert!(
        ok(&out).contains("imported 2 comments in 1 thread"),
        "{}",
        stdout(&out)
    );
    let (_, c) = exported(dir.path());
    assert_eq!(c["valine:v1"]["website"], "http://di.example");
    assert_eq!(c["valine:v2"]["parent"], c["valine:v1"]["id"]);
    assert_eq!(c["valine:v2"]["date"], "2019-05-02T08:00:00Z");
    let tree = tree_text(dir.path());
    for gone in [
        "@example.org",
        "203.0.113.9",
        "198.51.100.7",
        "0bc83cb5",
        "Mozilla",
    ] {
        assert!(!tree.contains(gone), "{gone} reached the comment files");
    }
    ok(&cairn(dir.path(), &["check", "--strict"]));
    render_every_thread(dir.path());
    let page = std::fs::read_to_string(dir.path().join("public/2024/hello/index.html")).unwrap();
    let marked = format!(
        "<li class=\"cairn-comment cairn-owner\" id=\"c-{}\">",
        bob["id"].as_str().unwrap()
    );
    assert!(page.contains(&marked), "{page}");
    assert_eq!(page.matches("cairn-owner").count(), 1, "{page}");
}

/// One Blogger blog's comments, `(id, post, answers, name, date, HTML)`, as Google
/// Takeout's `feed.atom` (`takeout`) or as the older "Back up content" file.
fn blogger_export(takeout: bool) -> String {
    let comments = [
        (
            21,
            11,
            0,
            "Ann",
            "2011-10-09T10:00:00.123Z",
            "Lovely &lt;b&gt;photos&lt;/b&gt;!&lt;br /&gt;Which lens?",
        ),
        (
            22,
            11,
            21,
            "Anonymous",
            "2011-10-09T12:30:00.000+02:00",
            "A 35 mm.",
        ),
        (
            23,
            11,
            22,
            "Cy",
            "2011-10-10T08:00:00Z",
            "This comment has been removed by the author.",
        ),
        (
            24,
            11,
            23,
            "Ann",
            "2011-10-10T09:00:00Z",
            "Too late, I saw it.",
        ),
        (
            25,
            12,
            0,
            "Dee O&amp;#39;Neil",
            "2012-02-01T00:00:00Z",
            "About &amp;amp; more.",
        ),
    ];
    let blog = "tag:blogger.com,1999:blog-408";
    let page = |post: u32| {
        if post == 11 {
            "/2011/10/nach-suzhou.html"
        } else {
            "/p/about.html"
        }
    };
    let mut entries = String::new();
    for post in [11, 12] {
        entries += &if takeout {
            format!(
                "<entry><id>{blog}.post-{post}</id><blogger:type>POST</blogger:type>\
                 <blogger:status>LIVE</blogger:status><title>A post</title>\
                 <blogger:filename>{}</blogger:filename></entry>",
                page(post)
            )
        } else {
            format!(
                "<entry><id>{blog}.post-{post}</id><category scheme='http://schemas.google.com/g/2005#kind' \
                 term='http://schemas.google.com/blogger/2008/kind#post'/><title type='text'>A post</title>\
                 <link rel='alternate' type='text/html' href='http://ann.blogspot.com{}' title='A post'/></entry>",
                page(post)
            )
        };
    }
    for (id, post, answers, name, date, html) in comments {
        let removed = id == 23;
        let author = format!(
            "<author><name>{name}</name>{}</author>",
            if takeout {
                "<blogger:type>BLOGGER</blogger:type>"
            } else {
                "<email>noreply@blogger.com</email>"
            }
        );
        entries += &if takeout {
            format!(
                "<entry><id>{blog}.post-{id}</id><blogger:parent>{blog}.post-{post}</blogger:parent>\
                 <blogger:inReplyTo>{}</blogger:inReplyTo><blogger:type>COMMENT</blogger:type>\
                 <blogger:status>{}</blogger:status>{author}<content type='html'>{html}</content>\
                 <published>{date}</published></entry>",
                if answers == 0 { String::new() } else { format!("{blog}.post-{answers}") },
                if removed { "SOFT_TRASHED" } else { "LIVE" }
            )
        } else {
            format!(
                "<entry><id>{blog}.post-{id}</id><published>{date}</published>\
                 <category scheme='http://schemas.google.com/g/2005#kind' \
                 term='http://schemas.google.com/blogger/2008/kind#comment'/>\
                 <content type='html'>{html}</content>{}{author}\
                 <thr:in-reply-to href='http://ann.blogspot.com{}' ref='{blog}.post-{post}' type='text/html'/>{}</entry>",
                if answers == 0 {
                    String::new()
                } else {
                    format!("<link rel='related' type='application/atom+xml' href='https://www.blogger.com/feeds/408/{post}/comments/default/{answers}'/>")
                },
                page(post),
                if removed {
                    "<gd:extendedProperty name='blogger.contentRemoved' value='true'/>"
                } else {
                    ""
                }
            )
        };
    }
    format!(
        "<?xml version='1.0' encoding='UTF-8'?><feed xmlns='http://www.w3.org/2005/Atom' \
         xmlns:blogger='http://schemas.google.com/blogger/2018' xmlns:gd='http://schemas.google.com/g/2005' \
         xmlns:thr='http://purl.org/syndication/thread/1.0'><id>{blog}</id>{entries}</feed>"
    )
}

#[test]
fn a_blogger_blog_comes_over_from_takeout_and_its_older_backup_brings_nothing_twice() {
    let dir = site();
    let takeout = dir.path().join("feed.atom");
    std::fs::write(&takeout, blogger_export(true)).unwrap();
    let out = cairn(
        dir.path(),
        &["import", "blogger", takeout.to_str().unwrap()],
    );
    assert!(
        ok(&out).contains("imported 5 comments in 2 threads into comments; 0 already imported"),
        "{}",
        stdout(&out)
    );
    let (_, c) = exported(dir.path());
    let ann = &c["blogger:21"];
    assert_eq!(ann["thread"], "/2011/10/nach-suzhou.html");
    assert_eq!(ann["author"], "Ann");
    assert_eq!(ann["date"], "2011-10-09T10:00:00.123Z");
    assert_eq!(ann["body"], "Lovely **photos**!\\\nWhich lens?");
    let anonymous = &c["blogger:22"];
    assert_eq!(anonymous["author"], Value::Null);
    assert_eq!(anonymous["parent"], ann["id"]);
    assert_eq!(anonymous["date"], "2011-10-09T10:30:00Z");
    // The removed comment stays as a stub, so the answer to it keeps its place.
    assert_eq!(c["blogger:23"]["body"], "[deleted]");
    assert_eq!(c["blogger:23"]["parent"], anonymous["id"]);
    assert_eq!(c["blogger:24"]["parent"], c["blogger:23"]["id"]);
    assert_eq!(c["blogger:25"]["thread"], "/p/about.html");
    assert_eq!(c["blogger:25"]["body"], "About & more.");
    // Names come as Blogger's pages printed them.
    assert_eq!(c["blogger:25"]["author"], "Dee O'Neil");
    ok(&cairn(dir.path(), &["check", "--strict"]));
    render_every_thread(dir.path());
    // Links to a comment on the blog (`…/nach-suzhou.html?showComment=…#c21`) still
    // find it on the page.
    let page = std::fs::read_to_string(dir.path().join("public/2011/10/nach-suzhou.html")).unwrap();
    assert!(
        page.contains("<span class=\"cairn-former\" id=\"c21\"></span>"),
        "{page}"
    );

    // The same blog's backup from before Takeout holds the same comments.
    let backup = dir.path().join("blog-10-01-2019.xml");
    std::fs::write(&backup, blogger_export(false)).unwrap();
    let before = tree_text(dir.path());
    let again = cairn(dir.path(), &["import", "blogger", backup.to_str().unwrap()]);
    assert!(
        ok(&again).contains("imported 0 comments in 0 threads into comments; 5 already imported"),
        "{}",
        stdout(&again)
    );
    assert_eq!(tree_text(dir.path()), before);
    assert!(!before.contains("blogger.com"), "{before}");
}

/// A Cusdis one runs keeps its comments in an SQLite database, one project a site.
#[test]
fn a_cusdis_database_brings_one_sites_comments_over_with_replies_and_stubs() {
    use common::testing::{cusdis_comment as comment, cusdis_database};
    let dir = site();
    let db = dir.path().join("db.sqlite");
    let rows = [
        "INSERT INTO pages (id, slug, url, title, projectId) VALUES \
             ('g1', 'f00d', 'https://blog.example.org/posts/hello/', 'Hello', 'p-blog'), \
             ('g2', 'c0ffee', NULL, 'Notes', 'p-blog'), \
             ('g3', '/start/', 'https://docs.example.org/start/', 'Start', 'p-docs');\n",
        &comment("'c1', 'g1', 1618301234567, 'Ann', 'First! <b>bold</b> **really**', 1, NULL, NULL, 'ann@example.org'"),
        &comment("'c2', 'g1', '2021-04-22 06:16:17', 'Me', 'Thanks, Ann.', 1, 'c1', NULL, 'me@example.org'"),
        &comment("'c3', 'g1', 1618301300000, 'Cy', 'removed', 1, 'c1', 1618400000000, 'cy@example.org'"),
        &comment("'c4', 'g1', 1618301400000, 'Di', 'Answering Cy', 1, 'c3', NULL, NULL"),
        &comment("'c5', 'g1', 1618301500000, 'Ed', 'awaiting approval', 0, NULL, NULL, NULL"),
        &comment("'c6', 'g2', 1618301600000, 'Fi', 'On notes', 1, NULL, NULL, 'fi@example.org'"),
        &comment("'d1', 'g3', 1618301700000, 'Gus', 'docs site', 1, NULL, NULL, NULL"),
    ]
    .concat();
    cusdis_database(&db, &rows);
    let db = db.to_str().unwrap();

    // Two sites in one database: the import asks which, and writes nothing.
    let out = cairn_with(dir.path(), &["import", "cusdis", db], &[SECRET]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("choose this site's with --project TITLE")
            && stderr(&out).contains("\"My blog\" (id p-blog): 6 comments"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("comments").exists());

    let import = ["import", "cusdis", db, "--project", "My blog"];
    let out = cairn_with(dir.path(), &import, &[SECRET]);
    assert!(
        ok(&out).contains("imported 5 comments in 2 threads into comments; 0 already imported"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains(
            "its page (\"Notes\") has no address, only the id \"c0ffee\": its comments go under \
             /c0ffee/ (`--map /c0ffee/=/the/page/` puts them on it)"
        ),
        "{}",
        stderr(&out)
    );
    let (_, c) = exported(dir.path());
    let (ann, me, stub, di) = (
        &c["cusdis:c1"],
        &c["cusdis:c2"],
        &c["cusdis:c3"],
        &c["cusdis:c4"],
    );
    assert_eq!(ann["thread"], "/posts/hello/");
    assert_eq!(ann["date"], "2021-04-13T08:07:14.567Z");
    assert_eq!(ann["body"], "First! \\<b\\>bold\\<\\/b\\> **really**");
    assert!(ann["avatar"].is_string());
    assert_eq!(
        (&me["parent"], &me["date"]),
        (&ann["id"], &Value::from("2021-04-22T06:16:17Z"))
    );
    // The removed comment stays as a stub, so the answer to it keeps its place.
    assert_eq!(
        (&stub["body"], &stub["author"]),
        (&Value::from("[deleted]"), &Value::Null)
    );
    assert_eq!(di["parent"], stub["id"]);
    assert_eq!(c["cusdis:c6"]["thread"], "/c0ffee/");
    assert!(!c.contains_key("cusdis:c5") && !c.contains_key("cusdis:d1"));
    let tree = tree_text(dir.path());
    assert!(
        !tree.contains("@example.org"),
        "an e-mail reached the comment files"
    );
    ok(&cairn(dir.path(), &["check", "--strict"]));
    render_every_thread(dir.path());
    let page = std::fs::read_to_string(dir.path().join("public/posts/hello/index.html")).unwrap();
    assert!(
        page.contains("First! &lt;b&gt;bold&lt;/b&gt; <strong>really</strong>"),
        "{page}"
    );

    // Again, by the project's id and with the pending comment: only that one is new.
    let again = [
        "import",
        "cusdis",
        db,
        "--project",
        "p-blog",
        "--include-pending",
    ];
    let out = cairn_with(dir.path(), &again, &[SECRET]);
    assert!(
        ok(&out).contains("imported 1 comment in 1 thread into comments; 5 already imported"),
        "{}",
        stdout(&out)
    );
    let (_, c) = exported(dir.path());
    assert_eq!(c["cusdis:c5"]["body"], "awaiting approval");
    assert_eq!(c.len(), 6);
}

/// A comment a fake Cusdis holds: id, page id, parent, minutes after the first,
/// nickname, Markdown, approved.
type CusdisComment = (
    &'static str,
    &'static str,
    Option<&'static str>,
    u32,
    &'static str,
    &'static str,
    bool,
);

/// What Cusdis' `GET /api/open/comments` answers for `page_id`: its approved comments
/// under `parent`, newest first, ten to a page, each with its replies on the same
/// page number of theirs (as Cusdis' `getComments` passes its options down).
fn cusdis_list(
    comments: &[CusdisComment],
    page_id: &str,
    parent: Option<&str>,
    page: usize,
) -> Value {
    let mut list: Vec<&CusdisComment> = comments
        .iter()
        .filter(|c| c.1 == page_id && c.2 == parent && c.6)
        .collect();
    list.sort_by_key(|c| std::cmp::Reverse(c.3));
    let data: Vec<Value> = list
        .iter()
        .skip((page - 1) * 10)
        .take(10)
        .map(|c| {
            let date =
                chrono::DateTime::from_timestamp(1_618_300_000 + i64::from(c.3) * 60, 0).unwrap();
            serde_json::json!({
                "id": c.0, "content": c.5, "by_nickname": c.4, "moderatorId": null,
                "createdAt": date.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "page": {"slug": page_id}, "parsedContent": "<p>…</p>",
                "parsedCreatedAt": date.format("%Y-%m-%d %H:%M").to_string(),
                "replies": cusdis_list(comments, page_id, Some(c.0), page),
            })
        })
        .collect();
    serde_json::json!({"data": data, "commentCount": list.len(), "pageSize": 10,
        "pageCount": list.len().div_ceil(10).max(1)})
}

/// A site on cusdis.com has no export: its comments come through the API Cusdis'
/// widget reads, for each page of the built site that shows a Cusdis thread.
#[test]
fn a_site_showing_cusdis_threads_brings_them_over_through_its_api() {
    let mut comments: Vec<CusdisComment> = vec![
        ("r1", "a-id", None, 100, "Ann", "Root <b>one</b>", true),
        ("q1", "a-id", None, 1, "Bob", "waiting", false),
        ("b1", "b-id", None, 2, "", "On B", true),
        ("o1", "o-id", None, 3, "Oz", "another site", true),
    ];
    // Eleven more on A, older, so that its list runs to a second page, and twelve
    // replies to the first, of which the API shows ten (the newest, as the comment is
    // on the first page of the list).
    const MORE: [&str; 11] = [
        "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10", "a11", "a12",
    ];
    const REPLIES: [&str; 12] = [
        "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10", "p11", "p12",
    ];
    for (n, id) in MORE.iter().enumerate() {
        comments.push((id, "a-id", None, 10 + n as u32, "Cy", "more", true));
    }
    for (n, id) in REPLIES.iter().enumerate() {
        comments.push((id, "a-id", Some("r1"), 200 + n as u32, "Di", "reply", true));
    }
    let (api, requests) = server(move |head, _| {
        let target = head.split_whitespace().nth(1).unwrap_or_default();
        let query = url::Url::parse(&format!("http://x{target}")).unwrap();
        let arg = |name: &str| {
            query
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        assert_eq!(query.path(), "/api/open/comments");
        assert!(
            arg("appId") == "app-1" || arg("appId") == "app-2",
            "{target}"
        );
        let page = arg("page").parse().unwrap_or(1);
        serde_json::json!({"data": cusdis_list(&comments, &arg("pageId"), None, page)}).to_string()
    });
    let dir = site();
    // The site as built while it showed Cusdis threads.
    let public = dir.path().join("public-before");
    let thread = |app: &str, id: &str, url: &str| {
        format!(
            "<html><body><article>…</article><div id=\"cusdis_thread\" data-host=\"{api}/\" \
             data-app-id=\"{app}\" data-page-id=\"{id}\"{url}></div>\
             <script async defer src=\"{api}/js/cusdis.es.js\"></script></body></html>"
        )
    };
    common::testing::write_files(
        &public,
        &[
            (
                "posts/a/index.html",
                &thread(
                    "app-1",
                    "a-id",
                    " data-page-url=\"https://blog.example.org/posts/a/\"",
                ),
            ),
            ("posts/b/index.html", &thread("app-1", "b-id", "")),
            // The same thread on another page of the site is the same comments.
            ("posts/b/amp/index.html", &thread("app-1", "b-id", "")),
            ("elsewhere/index.html", &thread("app-2", "o-id", "")),
            ("index.html", "<html><body>home</body></html>"),
        ],
    );
    let public = public.to_str().unwrap();

    let out = cairn(dir.path(), &["import", "cusdis", public]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "show the comments of 2 Cusdis projects: choose this site's with --project APP_ID"
        ) && stderr(&out).contains("\"app-1\", \"app-2\""),
        "{}",
        stderr(&out)
    );
    let import = ["import", "cusdis", public, "--project", "app-1"];
    let out = cairn(dir.path(), &import);
    assert!(
        ok(&out).contains(
            "imported 23 comments in 2 threads into comments; 0 already imported; 1 skipped"
        ),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(
            "skipped: comment r1: 2 of its 12 replies: Cusdis' API shows at most 10 of a \
             comment's replies (its SQLite database has them all)"
        ),
        "{}",
        stderr(&out)
    );
    let (_, c) = exported(dir.path());
    let root = &c["cusdis:r1"];
    assert_eq!(root["thread"], "/posts/a/");
    assert_eq!(root["author"], "Ann");
    assert_eq!(root["date"], "2021-04-13T09:26:40Z");
    assert_eq!(root["body"], "Root \\<b\\>one\\<\\/b\\>");
    assert_eq!(c["cusdis:p12"]["parent"], root["id"]);
    assert!(!c.contains_key("cusdis:p1") && !c.contains_key("cusdis:p2"));
    assert!(c.contains_key("cusdis:a2") && c.contains_key("cusdis:a12"));
    assert_eq!(
        (&c["cusdis:b1"]["thread"], &c["cusdis:b1"]["author"]),
        (&Value::from("/posts/b/"), &Value::Null)
    );
    assert!(!c.contains_key("cusdis:q1") && !c.contains_key("cusdis:o1"));
    // Both pages of A's list were read, and nothing of the other site.
    let asked: Vec<String> = requests
        .lock()
        .unwrap()
        .iter()
        .map(|(h, _)| h.lines().next().unwrap().to_string())
        .collect();
    assert_eq!(
        asked.iter().filter(|r| r.contains("pageId=a-id")).count(),
        2,
        "{asked:?}"
    );
    assert!(!asked.iter().any(|r| r.contains("app-2")), "{asked:?}");
    ok(&cairn(dir.path(), &["check", "--strict"]));
    render_every_thread(dir.path());

    // Once the other site's page is gone, the one project needs no naming; nothing is
    // new.
    std::fs::remove_dir_all(dir.path().join("public-before/elsewhere")).unwrap();
    let again = cairn(dir.path(), &["import", "cusdis", public]);
    assert!(
        ok(&again).contains("imported 0 comments in 0 threads into comments; 23 already imported"),
        "{}",
        stdout(&again)
    );
}
