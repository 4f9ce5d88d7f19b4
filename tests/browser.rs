//! The rendered page in a real browser: Debian's headless Chromium, driven by
//! playwright-core (tests/browser/). With JavaScript turned off it previews and posts the
//! comment and reply forms of the demo site and sees the confirmation, a rejected post gives the
//! reader's text back, a comment as long as the form allows, line breaks and all,
//! is taken, and so is one from a page whose referrer policy hides its origin. axe-core finds no accessibility violations in the comments
//! section, light or dark (on the example's pages, on the inbox's reply page, and on a
//! theme that stays light or that a site's toggle made dark, where it reads as the
//! page does), the section works at 360 px and 1280 px wide
//! (screenshots in target/screenshots/), and a page prints its comments without the
//! form. A page served by `cairn render --serve` reloads
//! itself when a comment arrives.

mod common;

use std::process::Command;

use common::*;

/// The browser driver, or `None` (skip) outside CI when it is not installed.
fn driver() -> Option<std::path::PathBuf> {
    let dir = npm_packages("browser", "playwright-core")?;
    tool("chromium")?;
    Some(dir)
}

#[test]
fn forms_work_in_chromium_with_javascript_off() {
    let Some(dir) = driver() else { return };
    let demo = DemoProcess::start();
    let page = demo.page_url.clone();
    let reply_page = page.replace("/posts/a-quiet-post/", "/posts/hello-world/");

    let out = Command::new("node")
        .arg(dir.join("post_form.mjs"))
        .args([&page, &reply_page])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let result: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let accepted: Vec<&str> = result["accepted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(accepted.len(), 2);

    // Both posts reached the site repository, waiting for moderation.
    let tmp = tempfile::tempdir().unwrap();
    demo.wait_for("both comments on their branches", 30, || {
        let listed = stdout(&cairn(
            tmp.path(),
            &["moderate", "list", "--config", &demo.config],
        ));
        accepted
            .iter()
            .all(|id| listed.contains(&format!("cairn/{id}")))
    });
}

#[test]
fn the_comments_section_is_accessible_light_and_dark_at_phone_and_desktop_widths() {
    let Some(dir) = driver() else { return };
    let demo = DemoProcess::start();
    let (host, path) = demo.page();
    let hello = path.replace("/posts/a-quiet-post/", "/posts/hello-world/");
    // The inbox's reply page, as a reader without JavaScript reaches it.
    let page = http(&host, "GET", &hello, &[], b"").unwrap().body;
    let at = page.find("class=\"cairn-reply\" href=\"").expect(&page) + 26;
    let reply_page = page[at..at + page[at..].find('"').unwrap()].replace("&amp;", "&");
    let pages = [
        format!("http://{host}{hello}"),
        demo.page_url
            .replace("/posts/a-quiet-post/", "/posts/markdown-in-comments/"),
        demo.page_url.clone(),
        reply_page,
    ];
    let shots = root().join("target/screenshots");
    let out = Command::new("node")
        .arg(dir.join("quality.mjs"))
        .arg(&shots)
        .args(&pages)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let report: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let shots = report["screenshots"].as_array().unwrap();
    assert_eq!(
        shots.len(),
        pages.len() * 4,
        "two widths, two colour schemes per page"
    );
    for shot in shots {
        let bytes = std::fs::read(shot.as_str().unwrap()).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{shot} is not a PNG");
    }
}

/// The section takes its colours from the page's text: on a theme that is light
/// whatever the reader's system prefers, and on one a site's toggle made dark (its
/// own class, its own colours), it reads as the page does, light or dark system alike.
/// On a page written right to left (Arabic) it reads from the right, in Arabic, and
/// does not make the page scroll sideways; each comment reads in its own text's
/// direction on either kind of page (an English one left to right, an Arabic one
/// right to left).
#[test]
fn the_comments_section_reads_well_on_light_dark_and_right_to_left_pages() {
    let Some(dir) = driver() else { return };
    let site = example_site();
    let built = site.path().join("prebuilt");
    copy_tree(&root().join("example-site/prebuilt"), &built);
    write_comment(
        site.path(),
        "posts/hello-world",
        "01M6J0000000000000000000AR",
        "id: 01M6J0000000000000000000AR\nthread: /posts/hello-world/\ndate: 2026-11-04T09:00:00Z\n\
         author: ليلى\nbody: \"شكرًا على المقال! هل ستكتب عن Hugo أيضًا؟\"\n",
    );
    for (name, page) in [
        (
            "light",
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Light</title>\
             <style>body { background: #fff; color: #222; font-family: system-ui; }</style></head>\
             <body><main><h1>Light only</h1>",
        ),
        (
            "dark",
            "<!DOCTYPE html><html lang=\"en\" class=\"dark\"><head><meta charset=\"utf-8\"><title>Dark</title>\
             <style>html.dark body { background: #1b1b1f; color: rgba(255, 255, 245, 0.86); font-family: system-ui; }\
             html.dark a { color: #a8b1ff; }</style></head><body><main><h1>Switched to dark</h1>",
        ),
        (
            "rtl",
            "<!DOCTYPE html><html lang=\"ar\" dir=\"rtl\"><head><meta charset=\"utf-8\"><title>عربي</title>\
             <style>body { background: #fff; color: #222; font-family: system-ui; }</style></head>\
             <body><main><h1>صفحة عربية</h1>",
        ),
    ] {
        let lang = if name == "rtl" { " data-cairn-lang=\"ar\"" } else { "" };
        std::fs::create_dir_all(built.join("themes").join(name)).unwrap();
        std::fs::write(
            built.join("themes").join(name).join("index.html"),
            format!(
                "{page}<div id=\"cairn-comments\" data-cairn-thread=\"/posts/hello-world/\"{lang}></div></main></body></html>"
            ),
        )
        .unwrap();
    }
    assert_quality(
        &dir,
        site.path(),
        ["/themes/light/", "/themes/dark/", "/themes/rtl/"],
    );
    let arabic = std::fs::read_to_string(built.join("themes/rtl/index.html")).unwrap();
    for expected in ["7 تعليقات", "اترك تعليقًا", "انشر التعليق"] {
        assert!(arabic.contains(expected), "{expected}: {arabic}");
    }
}

/// Every language cairn speaks passes the same checks as English: a translation whose
/// "Reply" is not part of the link's accessible name ("Reply to Ann"), or too short a
/// word to tap, fails here. Each page is in its language, in its direction.
#[test]
fn the_comments_section_is_accessible_in_every_language() {
    let Some(dir) = driver() else { return };
    let site = example_site();
    let built = site.path().join("prebuilt");
    copy_tree(&root().join("example-site/prebuilt"), &built);
    let mut paths = Vec::new();
    for lang in cairn::render::i18n::LANGUAGES {
        let strings = cairn::render::i18n::Strings::new(lang, &Default::default()).unwrap();
        let page = built.join("lang").join(lang);
        std::fs::create_dir_all(&page).unwrap();
        std::fs::write(
            page.join("index.html"),
            format!(
                "<!DOCTYPE html><html lang=\"{lang}\" dir=\"{}\"><head><meta charset=\"utf-8\"><title>{lang}</title>\
                 <style>body {{ background: #fff; color: #222; font-family: system-ui; }}</style></head>\
                 <body><main><h1>{lang}</h1><div id=\"cairn-comments\" data-cairn-thread=\"/posts/hello-world/\" \
                 data-cairn-lang=\"{lang}\"></div></main></body></html>",
                strings.dir()
            ),
        )
        .unwrap();
        paths.push(format!("/lang/{lang}/"));
    }
    assert_quality(&dir, site.path(), paths);
}

/// Serves `site`'s `prebuilt/` with `cairn render --serve` and runs quality.mjs on the
/// pages at `paths`: it fails on any problem the script reports.
fn assert_quality<P: std::fmt::Display>(
    dir: &std::path::Path,
    site: &std::path::Path,
    paths: impl IntoIterator<Item = P>,
) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
    command
        .current_dir(site)
        .args(["render", "prebuilt", "--serve=127.0.0.1:0"]);
    let server = InboxProcess::spawn(command);
    let out = Command::new("node")
        .arg(dir.join("quality.mjs"))
        .arg(root().join("target/screenshots"))
        .args(
            paths
                .into_iter()
                .map(|p| format!("http://{}{p}", server.addr)),
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn a_page_served_by_render_serve_reloads_itself_when_a_comment_arrives() {
    let Some(dir) = driver() else { return };
    let site = example_site();
    copy_tree(
        &root().join("example-site/prebuilt"),
        &site.path().join("prebuilt"),
    );
    let thread = site.path().join("comments/posts/a-quiet-post");
    std::fs::create_dir_all(&thread).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
    command
        .current_dir(site.path())
        .args(["render", "prebuilt", "--serve=127.0.0.1:0"]);
    let server = InboxProcess::spawn(command);

    let id = "01KC0000000000000000000000";
    let out = Command::new("node")
        .arg(dir.join("live_reload.mjs"))
        .arg(format!("http://{}/posts/a-quiet-post/", server.addr))
        .arg(thread.join(format!("{id}.yml")))
        .arg(format!(
            "id: {id}\nthread: /posts/a-quiet-post/\ndate: 2026-11-20T10:00:00Z\n\
             author: Live Reader\nbody: Seen without reloading by hand.\n"
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}\n{}",
        stdout(&out),
        stderr(&out),
        server.log.lock().unwrap()
    );
    let seen: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let (before, after) = (
        seen["before"].as_str().unwrap(),
        seen["after"].as_str().unwrap(),
    );
    assert!(before.contains("No comments yet") && !before.contains("Live Reader"));
    assert!(
        after.contains("Live Reader") && after.contains("Seen without reloading by hand."),
        "{after}"
    );
    assert_eq!(seen["sameDocument"], false, "the page was loaded again");
}

/// `cairn render` warns about exactly the forms Chromium would not bring to the inbox:
/// each page's form, under each referrer policy and Content-Security-Policy here, is
/// stopped, or sent with `Origin: null` to an inbox on another site, exactly when
/// render said so. Once with the inbox on another domain, once on the site's own host
/// but another scheme and port.
#[test]
fn render_warns_of_exactly_the_forms_chromium_would_not_bring_to_the_inbox() {
    let Some(dir) = driver() else { return };
    let referrer = |policy: &str| format!(r#"<meta name="referrer" content="{policy}">"#);
    let csp =
        |policy: &str| format!(r#"<meta http-equiv="Content-Security-Policy" content="{policy}">"#);
    let mut heads: Vec<String> = [
        "",
        "no-referrer",
        "never",
        "same-origin",
        " Same-Origin ",
        "origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
        "no-referrer-when-downgrade",
        "origin-when-cross-origin",
        "origin-when-crossorigin",
        "unsafe-url",
        "always",
        "default",
        "bogus",
        "NO-REFERRER",
        "no-referrer, origin",
    ]
    .iter()
    .map(|p| referrer(p))
    .collect();
    heads.extend([
        format!("{}{}", referrer("no-referrer"), referrer("origin")),
        format!("{}{}", referrer("origin"), referrer("bogus")),
        format!("{}{}", referrer("no-referrer"), referrer("bogus")),
    ]);
    heads.extend(
        [
            "form-action 'self'",
            "form-action 'none'",
            "default-src 'none'",
            "form-action https://cairn.example.net",
            "form-action cairn.example.net",
            "form-action *.example.net",
            "form-action *.example.org",
            "form-action https://*.cairn.example.net",
            "form-action *",
            "form-action https://*",
            "form-action https:",
            "form-action http:",
            "form-action http://cairn.example.net",
            "form-action wss://cairn.example.net",
            "form-action blob: data:",
            "form-action https://cairn.example.net:443",
            "form-action https://cairn.example.net:8443",
            "form-action https://cairn.example.net:*",
            "form-action https://cairn.example.net/v1/",
            "form-action https://cairn.example.net/v1",
            "form-action https://cairn.example.net/v1/comments",
            "form-action https://cairn.example.net/V1/",
            "form-action https://cairn.example.net/v1/%63omments",
            "form-action HTTPS://CAIRN.EXAMPLE.NET",
            "Form-Action 'self'; form-action *",
            "script-src 'self'; form-action 'self' https://cairn.example.net",
            "form-action 'unsafe-inline'",
            "form-action 'SELF'",
            "form-action\thttps://cairn.example.net",
            "form-action https://cairn.example.net.",
            "form-action https://cairn.example.net/v1/comments/",
            "form-action https://cairn.example.net:443/",
            "form-action //cairn.example.net",
            "form-action cairn.example.net:*",
            "form-action *.net",
            "form-action https://cairn.example.net:80",
            "form-action http://cairn.example.net:80",
            "form-action http://cairn.example.net:443",
        ]
        .iter()
        .map(|p| csp(p)),
    );
    heads.push(format!(
        "{}{}",
        csp("default-src *"),
        csp("form-action 'self'")
    ));
    heads.push(format!(
        "{}{}",
        referrer("no-referrer"),
        csp("form-action https://cairn.example.net")
    ));
    let (stopped, hidden) = agree_with_chromium(
        &dir,
        "https://blog.example.org/",
        "https://cairn.example.net",
        &heads,
    );
    assert!(stopped >= 15 && hidden >= 5, "{stopped} {hidden}");

    // The inbox on the site's host, under https on its own port and path.
    let mut heads: Vec<String> = ["no-referrer", "same-origin", "origin", "unsafe-url"]
        .iter()
        .map(|p| referrer(p))
        .collect();
    heads.extend(
        [
            "form-action 'self'",
            "form-action example.org",
            "form-action example.org:8443",
            "form-action example.org:*",
            "form-action https://example.org:8443",
            "form-action http://example.org:8443",
            "form-action https://example.org",
            "form-action https://example.org:8443/inbox/",
            "form-action https://example.org:8443/inbox",
            "form-action https://example.org:8443/inbox/v1/comments",
            "form-action http:",
            "form-action *.example.org",
            "form-action https://*:8443",
            "form-action *",
        ]
        .iter()
        .map(|p| csp(p)),
    );
    let (stopped, hidden) = agree_with_chromium(
        &dir,
        "http://example.org/blog/",
        "https://example.org:8443/inbox",
        &heads,
    );
    assert!(stopped >= 5 && hidden >= 2, "{stopped} {hidden}");
}

/// Renders a page for each head (each in a site of its own), then has Chromium post
/// each page's form, and fails where render's warnings and Chromium disagree. Gives
/// how many pages render warned about for each reason: (stopped, hidden origin).
fn agree_with_chromium(
    dir: &std::path::Path,
    site_url: &str,
    inbox_url: &str,
    heads: &[String],
) -> (usize, usize) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir(root.join("comments")).unwrap();
    std::fs::write(
        root.join("cairn.toml"),
        format!(
            "[site]\nurl = \"{site_url}\"\n[comments]\ndir = \"comments\"\n\
             [inbox]\nurl = \"{inbox_url}\"\n"
        ),
    )
    .unwrap();
    let sites = root.join("sites");
    let mut warned = Vec::new();
    for (n, head) in heads.iter().enumerate() {
        let site = sites.join(n.to_string());
        std::fs::create_dir_all(&site).unwrap();
        std::fs::write(
            site.join("index.html"),
            format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Page {n}</title>\
                 {head}</head><body><main><div id=\"cairn-comments\"></div></main></body></html>"
            ),
        )
        .unwrap();
        let out = cairn(root, &["render", site.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let said = format!("{}{}", stdout(&out), stderr(&out));
        warned.push((
            said.contains("Content-Security-Policy"),
            said.contains("referrer policy"),
        ));
    }
    let origin = url::Url::parse(site_url)
        .unwrap()
        .origin()
        .ascii_serialization();
    let paths: Vec<String> = (0..heads.len()).map(|n| format!("/{n}/")).collect();
    let out = Command::new("node")
        .arg(dir.join("send_form.mjs"))
        .arg(&sites)
        .arg(&origin)
        .arg(format!("{inbox_url}/v1/comments"))
        .args(&paths)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let sent: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let mut disagree = Vec::new();
    for ((path, head), (blocked, hidden)) in paths.iter().zip(heads).zip(&warned) {
        let page = &sent[path];
        let (was_sent, origin) = (page["sent"] == true, page["origin"].as_str());
        if *blocked == was_sent || *hidden != (was_sent && origin == Some("null")) {
            disagree.push(format!(
                "{head}: render warned blocked {blocked}, hidden origin {hidden}; Chromium {page}"
            ));
        }
    }
    assert!(
        disagree.is_empty(),
        "{site_url} → {inbox_url}:\n{}",
        disagree.join("\n")
    );
    (
        warned.iter().filter(|w| w.0).count(),
        warned.iter().filter(|w| w.1).count(),
    )
}
