//! A small Pelican blog (tests/fixtures/pelican-site: in Portuguese, dated in São
//! Paulo, published under /notas/ into build/, its theme's templates overridden with
//! the placeholders) set up with `cairn init`, built by the real Pelican (from PyPI, see
//! .ci/test-deps) with its publishing configuration, as CI builds it, then rendered by
//! `cairn render` with no arguments; and built once more with document-relative URLs.

mod common;

use common::*;

const COMMENT: &str = "id: 01KB00000000000000000000AA
thread: /ola.html
date: 2026-01-02T01:00:00Z
author: Bia
body: |
  Gostei! `pelican content` funcionou.
";

/// Builds the site in `dir` with the real Pelican, `args` added.
fn pelican_content(pelican: &std::path::Path, dir: &std::path::Path, args: &[&str]) {
    let built = std::process::Command::new(pelican)
        .args(["content", "--quiet"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(built.status.success(), "pelican: {}", stderr(&built));
}

#[test]
fn pelican_build_then_render_after_cairn_init() {
    let Some(pelican) = test_dep("pelican-venv/bin/pelican") else {
        return;
    };
    let (site, _) = init_fixture(
        "pelican-site",
        &[],
        &[
        "Pelican site: wrote cairn.toml (site URL https://example.org/notas, built into build/)",
        "site language: pt (the Pelican configuration's DEFAULT_LANG \"pt\")",
        "time zone of dates: America/Sao_Paulo (the Pelican configuration's TIMEZONE)",
        "{% extends \"!theme/article.html\" %}",
        "<span data-cairn-count=\"{{ SITEURL }}/{{ article.url }}\"></span>",
        "\n    pelican content\n    cairn render\n",
        "\n    pelican content --autoreload\n    cairn render --serve\n",
        "run: pip install \"pelican[markdown]\" && pelican content -s publishconf.py\n",
        "site-dir: build\n",
        ],
    );
    let dir = site.path();
    write_comment(dir, "ola.html", "01KB00000000000000000000AA", COMMENT);
    write_hostile_reply(dir, "ola.html", "2026-01-02T11:00:00Z");

    pelican_content(&pelican, dir, &["-s", "publishconf.py"]);
    let build = dir.join("build");
    assert!(!build.join("comments").exists() && !build.join("cairn.toml").exists());

    render_twice(dir, &build, "2 comments rendered on 2 pages");

    let page = assert_rendered_page(
        &build,
        "/ola.html",
        "2 comentários",
        "pelican content",
        "Gostei!",
    );
    // 01:00 UTC on the 2nd is still the 1st in São Paulo.
    assert!(
        page.contains("<time datetime=\"2026-01-02T01:00:00Z\">1 de janeiro de 2026</time>"),
        "{page}"
    );

    // Counts by the articles' full URLs (the publishing configuration's SITEURL).
    let index = std::fs::read_to_string(build.join("index.html")).unwrap();
    assert!(
        index.contains(
            "data-cairn-count=\"https://example.org/notas/ola.html\">2 comentários</span>"
        ) && index.contains(
            "data-cairn-count=\"https://example.org/notas/segundo.html\">Sem comentários</span>"
        ),
        "{index}"
    );

    // Built with document-relative URLs (`RELATIVE_URLS = True`, as while writing), the
    // counts' links lead from the page, and count the same.
    let conf = dir.join("pelicanconf.py");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, format!("{text}\nRELATIVE_URLS = True\n")).unwrap();
    pelican_content(&pelican, dir, &["-o", "relative"]);
    let out = cairn(dir, &["render", "relative"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let index = std::fs::read_to_string(dir.join("relative/index.html")).unwrap();
    assert!(
        index.contains("data-cairn-count=\"./ola.html\">2 comentários</span>")
            && index.contains("data-cairn-count=\"./segundo.html\">Sem comentários</span>"),
        "{index}"
    );
}
