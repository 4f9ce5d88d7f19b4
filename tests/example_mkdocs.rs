//! A small MkDocs documentation site (tests/fixtures/mkdocs-site: in French, served
//! under /docs/, built into public_html/, the theme's main.html overridden with the
//! placeholders) set up with `cairn init`, built by the real MkDocs (from PyPI, see
//! .ci/test-deps), then rendered by `cairn render` with no arguments.

mod common;

use common::*;

const COMMENT: &str = "id: 01KB00000000000000000000AA
thread: /guide/install/
date: 2026-01-02T10:00:00Z
author: Léa
body: |
  Merci ! Après `pip install widget`, tout marche.
";

const REPLY: &str = "id: 01KB00000000000000000000BB
thread: /guide/install/
parent: 01KB00000000000000000000AA
date: 2026-01-02T11:00:00Z
author: Jo
body: |
  <img src=x onerror=alert(1)> [clic](javascript:alert(2)) <script>alert(3)</script>
";

#[test]
fn mkdocs_build_then_render_after_cairn_init() {
    let Some(mkdocs) = test_dep("mkdocs-venv/bin/mkdocs") else {
        return;
    };
    let site = tempfile::tempdir().unwrap();
    let dir = site.path();
    copy_tree(&root().join("tests/fixtures/mkdocs-site"), dir);

    let init = cairn(dir, &["init"]);
    assert!(init.status.success(), "{}", stderr(&init));
    let printed = stdout(&init);
    for line in [
        "MkDocs site: wrote cairn.toml (site URL https://example.org/docs/, built into public_html/)",
        "site language: fr (the MkDocs configuration's theme.locale \"fr\")",
        "{{ super() }}",
        "<span data-cairn-count=\"{{ page.abs_url }}\"></span>",
        "\n    mkdocs build\n    cairn render\n",
        "after each `mkdocs build`",
        "run: pip install mkdocs && mkdocs build\n",
        "site-dir: public_html\n",
    ] {
        assert!(printed.contains(line), "{line:?} in {printed}");
    }
    write_comment(dir, "guide/install", "01KB00000000000000000000AA", COMMENT);
    write_comment(dir, "guide/install", "01KB00000000000000000000BB", REPLY);

    let built = std::process::Command::new(&mkdocs)
        .args(["build", "--quiet"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(built.status.success(), "mkdocs: {}", stderr(&built));
    let public = dir.join("public_html");
    // MkDocs publishes only docs/: cairn's files stay out of the site.
    assert!(!public.join("comments").exists() && !public.join("cairn.toml").exists());

    let out = cairn(dir, &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = stdout(&out);
    assert!(
        summary.contains("2 comments rendered on 2 pages") && summary.contains("0 problems"),
        "{summary}"
    );

    let page = std::fs::read_to_string(public.join("guide/install/index.html")).unwrap();
    let section = comments_section(&page);
    assert!(section.contains("2 commentaires"), "{section}");
    assert!(
        section.contains("<code>pip install widget</code>"),
        "{section}"
    );
    assert_nested_and_inert(section, "Merci !", "01KB00000000000000000000BB");
    assert!(section.contains("name=\"thread\" value=\"/guide/install/\""));
    assert!(page.contains("href=\"../../cairn.css\""), "{page}");
    // The page's own count, and the home page's (no comments there yet).
    assert!(
        page.contains("data-cairn-count=\"/docs/guide/install/\">2 commentaires</span>"),
        "{page}"
    );
    let home = std::fs::read_to_string(public.join("index.html")).unwrap();
    assert!(home.contains("data-cairn-count=\"/docs/\">"), "{home}");
    assert!(comments_section(&home).contains("<form"), "{home}");

    // A second run changes nothing.
    let before = snapshot_tree(&public);
    let again = cairn(dir, &["render"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(snapshot_tree(&public), before, "render is idempotent");
}
