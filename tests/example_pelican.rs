//! A small Pelican blog (tests/fixtures/pelican-site: in Portuguese, dated in São
//! Paulo, published under /notas/ into build/, its theme's templates overridden with
//! the placeholders) set up with `cairn init`, built by the real Pelican (from PyPI, see
//! .ci/test-deps) with its publishing configuration, as CI builds it, then rendered by
//! `cairn render` with no arguments.

mod common;

use common::*;

const COMMENT: &str = "id: 01KB00000000000000000000AA
thread: /ola.html
date: 2026-01-02T01:00:00Z
author: Bia
body: |
  Gostei! `pelican content` funcionou.
";

const REPLY: &str = "id: 01KB00000000000000000000BB
thread: /ola.html
parent: 01KB00000000000000000000AA
date: 2026-01-02T11:00:00Z
author: Jo
body: |
  <img src=x onerror=alert(1)> [clique](javascript:alert(2)) <script>alert(3)</script>
";

#[test]
fn pelican_build_then_render_after_cairn_init() {
    let Some(pelican) = test_dep("pelican-venv/bin/pelican") else {
        return;
    };
    let site = tempfile::tempdir().unwrap();
    let dir = site.path();
    copy_tree(&root().join("tests/fixtures/pelican-site"), dir);

    let init = cairn(dir, &["init"]);
    assert!(init.status.success(), "{}", stderr(&init));
    let printed = stdout(&init);
    for line in [
        "Pelican site: wrote cairn.toml (site URL https://example.org/notas, built into build/)",
        "site language: pt (the Pelican configuration's DEFAULT_LANG \"pt\")",
        "time zone of dates: America/Sao_Paulo (the Pelican configuration's TIMEZONE)",
        "{% extends \"!theme/article.html\" %}",
        "<span data-cairn-count=\"{{ SITEURL }}/{{ article.url }}\"></span>",
        "\n    pelican content\n    cairn render\n",
        "\n    pelican content --autoreload\n    cairn render --serve\n",
        "run: pip install \"pelican[markdown]\" && pelican content -s publishconf.py\n",
        "site-dir: build\n",
    ] {
        assert!(printed.contains(line), "{line:?} in {printed}");
    }
    write_comment(dir, "ola.html", "01KB00000000000000000000AA", COMMENT);
    write_comment(dir, "ola.html", "01KB00000000000000000000BB", REPLY);

    let built = std::process::Command::new(&pelican)
        .args(["content", "-s", "publishconf.py", "--quiet"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(built.status.success(), "pelican: {}", stderr(&built));
    let build = dir.join("build");
    assert!(!build.join("comments").exists() && !build.join("cairn.toml").exists());

    let out = cairn(dir, &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = stdout(&out);
    assert!(
        summary.contains("2 comments rendered on 2 pages") && summary.contains("0 problems"),
        "{summary}"
    );

    let page = std::fs::read_to_string(build.join("ola.html")).unwrap();
    let section = comments_section(&page);
    assert!(section.contains("2 comentários"), "{section}");
    assert!(
        section.contains("<code>pelican content</code>"),
        "{section}"
    );
    // 01:00 UTC on the 2nd is still the 1st in São Paulo.
    assert!(
        section.contains("<time datetime=\"2026-01-02T01:00:00Z\">1 de janeiro de 2026</time>"),
        "{section}"
    );
    assert_nested_and_inert(section, "Gostei!", "01KB00000000000000000000BB");
    assert!(section.contains("name=\"thread\" value=\"/ola.html\""));
    assert!(build.join("ola.comments.xml").is_file());

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

    let before = snapshot_tree(&build);
    let again = cairn(dir, &["render"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(snapshot_tree(&build), before, "render is idempotent");
}
