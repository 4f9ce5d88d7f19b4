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
        &in_pages(heads),
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
        &in_pages(heads),
    );
    assert!(stopped >= 5 && hidden >= 2, "{stopped} {hidden}");
}

/// The same, with the policies sent by the host as a `_headers` file gives them to
/// Netlify's own engine: which rules hold for the page, which of them decides, what a
/// header's value means, and that a `<meta>` referrer policy overrides the header's.
#[test]
fn render_reads_a_headers_file_as_netlify_and_chromium_do() {
    let Some(dir) = driver() else { return };
    let Some(netlify) = npm_packages("netlify", "@netlify/headers") else {
        return;
    };
    let rule = |path: &str, lines: &[&str]| {
        let mut rule = format!("{path}\n");
        for line in lines {
            rule.push_str(&format!("  {line}\n"));
        }
        Some(rule)
    };
    let no_referrer = "Referrer-Policy: no-referrer";
    let none = "Content-Security-Policy: form-action 'none'";
    let cases: Vec<(String, Option<String>)> = [
        rule("/*", &[no_referrer]),
        rule("/*", &["Referrer-Policy: same-origin"]),
        rule("/*", &["Referrer-Policy: No-Referrer"]),
        rule("/*", &["Referrer-Policy: no-referrer, strict-origin-when-cross-origin"]),
        rule("/*", &["Referrer-Policy: same-origin, bogus"]),
        rule("/*", &["Referrer-Policy: never"]),
        rule("/posts/*", &[no_referrer]),
        rule("/about/*", &[no_referrer]),
        rule("/p*s/", &[no_referrer]),
        rule("/posts/:slug", &[no_referrer]),
        Some(format!(
            "{}\n# a page of its own\n{}",
            rule("/*", &[no_referrer]).unwrap(),
            rule("/posts/:slug/", &["Referrer-Policy: origin"]).unwrap()
        )),
        rule("/*", &["X-Frame-Options: DENY", no_referrer, "Referrer-Policy: origin"]),
        rule("/*", &["Content-Security-Policy: form-action 'self'"]),
        rule(
            "/*",
            &["Content-Security-Policy: default-src 'self'; form-action 'self' https://cairn.example.net"],
        ),
        rule("/*", &["Content-Security-Policy: form-action *, form-action 'none'"]),
        rule("/POSTS/*", &["content-security-policy: form-action 'none'"]),
        rule("/posts/a", &[none]),
        rule("/posts/b/*", &[none]),
        Some(format!(
            "{}{}",
            rule("/*", &["Content-Security-Policy: form-action 'self'"]).unwrap(),
            rule("/posts/*", &["Content-Security-Policy: default-src *"]).unwrap()
        )),
    ]
    .into_iter()
    .map(|headers| (String::new(), headers))
    .chain([
        // The page's own referrer policy overrides the host's, either way.
        (
            r#"<meta name="referrer" content="origin">"#.to_string(),
            rule("/*", &[no_referrer]),
        ),
        (
            r#"<meta name="referrer" content="no-referrer">"#.to_string(),
            rule("/*", &["Referrer-Policy: origin"]),
        ),
        // Both policies hold.
        (
            r#"<meta http-equiv="Content-Security-Policy" content="default-src *">"#.to_string(),
            rule("/*", &["Content-Security-Policy: form-action 'self'"]),
        ),
    ])
    .collect();
    let (stopped, hidden) = agree_with_chromium_with(
        &dir,
        Some(&netlify),
        "https://blog.example.org/",
        "https://cairn.example.net",
        &cases,
    );
    assert!(stopped >= 5 && hidden >= 5, "{stopped} {hidden}");
}

/// Pages with these heads, and no `_headers` file.
fn in_pages(heads: Vec<String>) -> Vec<(String, Option<String>)> {
    heads.into_iter().map(|head| (head, None)).collect()
}

fn agree_with_chromium(
    dir: &std::path::Path,
    site_url: &str,
    inbox_url: &str,
    cases: &[(String, Option<String>)],
) -> (usize, usize) {
    agree_with_chromium_with(dir, None, site_url, inbox_url, cases)
}

/// Renders a page (`/posts/a/`) for each case, its head and its site's `_headers` file
/// (each in a site of its own), then has Chromium post each page's form, sent with the
/// headers Netlify's engine (in `netlify`) gives it, and fails where render's warnings
/// and Chromium disagree. Gives how many pages render warned about for each reason:
/// (stopped, hidden origin).
fn agree_with_chromium_with(
    dir: &std::path::Path,
    netlify: Option<&std::path::Path>,
    site_url: &str,
    inbox_url: &str,
    cases: &[(String, Option<String>)],
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
    for (n, (head, headers)) in cases.iter().enumerate() {
        let site = sites.join(n.to_string());
        std::fs::create_dir_all(site.join("posts/a")).unwrap();
        std::fs::write(
            site.join("posts/a/index.html"),
            format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Page {n}</title>\
                 {head}</head><body><main><div id=\"cairn-comments\"></div></main></body></html>"
            ),
        )
        .unwrap();
        if let Some(headers) = headers {
            std::fs::write(site.join("_headers"), headers).unwrap();
        }
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
    let names: Vec<String> = (0..cases.len()).map(|n| n.to_string()).collect();
    let paths: Vec<String> = names.iter().map(|n| format!("/{n}/posts/a/")).collect();
    // What the host sends with each page.
    let mut sent_with = serde_json::Map::new();
    if let Some(netlify) = netlify {
        let out = Command::new("node")
            .arg(netlify.join("headers_for.mjs"))
            .arg(&sites)
            .arg(&origin)
            .arg("/posts/a/")
            .args(&names)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
        let headers: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
        for (name, path) in names.iter().zip(&paths) {
            sent_with.insert(path.clone(), headers[name].clone());
        }
    }
    let out = Command::new("node")
        .arg(dir.join("send_form.mjs"))
        .arg(&sites)
        .arg(&origin)
        .arg(format!("{inbox_url}/v1/comments"))
        .args(&paths)
        .env(
            "SEND_FORM_HEADERS",
            serde_json::Value::Object(sent_with.clone()).to_string(),
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let sent: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let mut disagree = Vec::new();
    for ((path, case), (blocked, hidden)) in paths.iter().zip(cases).zip(&warned) {
        let page = &sent[path];
        let (was_sent, origin) = (page["sent"] == true, page["origin"].as_str());
        if *blocked == was_sent || *hidden != (was_sent && origin == Some("null")) {
            disagree.push(format!(
                "{case:?} (sent with {}): render warned blocked {blocked}, hidden origin \
                 {hidden}; Chromium {page}",
                sent_with.get(path).cloned().unwrap_or_default()
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
