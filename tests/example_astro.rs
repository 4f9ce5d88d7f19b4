//! A small Astro blog (tests/fixtures/astro-site: Portuguese, served under /diario/,
//! built into www/) set up with `cairn init`, built by the real Astro (npm's astro, in
//! tests/astro/), then rendered by `cairn render` with no arguments.

mod common;

use common::*;

const COMMENT: &str = "id: 01KB00000000000000000000AA
thread: /posts/ola/
date: 2026-03-02T10:00:00Z
author: Inês
body: |
  Muito bom. `astro build` e depois `cairn render`.
";

#[test]
fn astro_build_then_render_after_cairn_init() {
    let Some(astro) = npm_packages("astro", "astro") else {
        return;
    };
    let (site, printed) = init_fixture(
        "astro-site",
        &[],
        &[
            "Astro site: wrote cairn.toml (site URL https://example.org/diario, built into www/)",
            "site language: pt (the Astro configuration's i18n.defaultLocale \"pt\")",
            "<span data-cairn-count={`/blog/${post.id}/`}></span>",
            "\n    npm run build\n    cairn render\n",
            "run: npm install && npm run build\n",
            "site-dir: www\n",
            "path: www\n",
        ],
    );
    // `astro build` cannot watch: no watch command is offered.
    assert!(!printed.contains("--watch"), "{printed}");
    let dir = site.path();
    write_comment(dir, "posts/ola", "01KB00000000000000000000AA", COMMENT);
    write_hostile_reply(dir, "posts/ola", "2026-03-02T11:00:00Z");

    // The site's build script runs `astro build`, with the site's node_modules.
    std::os::unix::fs::symlink(astro.join("node_modules"), dir.join("node_modules")).unwrap();
    let built = std::process::Command::new("node")
        .arg(astro.join("node_modules/astro/astro.js"))
        .arg("build")
        .env("ASTRO_TELEMETRY_DISABLED", "1")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(built.status.success(), "astro: {}", stderr(&built));
    let www = dir.join("www");
    assert!(!www.join("comments").exists() && !www.join("cairn.toml").exists());

    render_twice(dir, &www, "2 comments rendered on 2 pages of 3 pages");

    let page = assert_rendered_page(
        &www,
        "/posts/ola/",
        "2 comentários",
        "astro build",
        "Muito bom.",
    );
    assert!(
        page.contains("<time datetime=\"2026-03-02T10:00:00Z\">2 de março de 2026</time>"),
        "{page}"
    );

    // Counts on the index, whose links carry Astro's base and no trailing slash.
    let index = std::fs::read_to_string(www.join("index.html")).unwrap();
    assert!(
        index.contains("data-cairn-count=\"/diario/posts/ola\">2 comentários</span>")
            && index.contains("data-cairn-count=\"/diario/posts/segundo\">Sem comentários</span>"),
        "{index}"
    );
}
