//! A small Jekyll site (tests/fixtures/jekyll-site) set up with `cairn init`, built by
//! Debian's real `jekyll`, then rendered by `cairn render` with no arguments.

mod common;

use common::*;

const COMMENT: &str = "id: 01KB00000000000000000000AA
thread: /2026/01/01/hello.html
date: 2026-01-02T03:00:00Z
author: \":)\"
body: |
  The author name that stops Jekyll's own YAML loader.
";

const ON_NOTES: &str = "id: 01KB00000000000000000000CC
thread: /2026/notes.html
date: 2026-01-06T12:00:00Z
author: Sam
body: On the post served without its extension.
";

const REPLY: &str = "id: 01KB00000000000000000000BB
thread: /2026/01/01/hello.html
parent: 01KB00000000000000000000AA
date: 2026-01-02T11:00:00Z
author: Jo
body: |
  A reply with <b>markup</b> and <script>alert(1)</script>.
";

#[test]
fn jekyll_build_then_render_after_cairn_init() {
    let Some(jekyll) = tool("jekyll") else { return };
    let site = tempfile::tempdir().unwrap();
    let dir = site.path();
    copy_tree(&root().join("tests/fixtures/jekyll-site"), dir);

    let init = cairn(dir, &["init"]);
    assert!(init.status.success(), "{}", stderr(&init));
    let printed = stdout(&init);
    assert!(
        printed.contains(
            "Jekyll site: wrote cairn.toml (site URL https://example.org/blog, built into _site/)"
        ),
        "{printed}"
    );
    assert!(
        printed
            .contains("time zone of dates: America/New_York (the Jekyll configuration's timezone)"),
        "{printed}"
    );
    assert!(
        printed.contains("{{ post.url | relative_url }}"),
        "the Jekyll count snippet"
    );
    assert!(
        printed.contains("<div data-cairn-recent=\"5\"></div>"),
        "the recent comments snippet: {printed}"
    );
    // The site has no Gemfile: built as GitHub Pages builds it, not with Bundler.
    assert!(
        printed.contains("\n    jekyll build\n    cairn render\n")
            && printed.contains("run: gem install github-pages && jekyll build")
            && !printed.contains("bundle exec"),
        "the Jekyll workflow: {printed}"
    );
    assert!(
        printed.contains("\n    jekyll build --watch\n    cairn render --serve\n"),
        "how to look at it while writing: {printed}"
    );
    // Done as the printed advice says: comment files stay out of Jekyll's output, and
    // Jekyll's own exclusions stay in its list.
    let exclude = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("exclude: "))
        .expect("the exclude setting");
    assert!(exclude.ends_with(", Gemfile.lock, node_modules/, vendor/bundle/, vendor/cache/, vendor/gems/, vendor/ruby/, comments, cairn.toml]"), "{exclude}");
    let config = dir.join("_config.yml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}exclude: {exclude}\n")).unwrap();
    let thread = dir.join("comments/2026/01/01/hello.html");
    std::fs::create_dir_all(&thread).unwrap();
    std::fs::write(thread.join("01KB00000000000000000000AA.yml"), COMMENT).unwrap();
    std::fs::write(thread.join("01KB00000000000000000000BB.yml"), REPLY).unwrap();
    write_comment(
        dir,
        "2026/notes.html",
        "01KB00000000000000000000CC",
        ON_NOTES,
    );

    let built = std::process::Command::new(jekyll)
        .args(["build", "--quiet"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(built.status.success(), "jekyll build: {}", stderr(&built));
    assert!(!dir.join("_site/comments").exists() && !dir.join("_site/cairn.toml").exists());
    let out = cairn(dir, &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("3 comments rendered on 2 pages"),
        "{}",
        stdout(&out)
    );

    let page = std::fs::read_to_string(dir.join("_site/2026/01/01/hello.html")).unwrap();
    let section = comments_section(&page);
    assert!(section.contains("2 comments"));
    assert!(
        section.contains("<time datetime=\"2026-01-02T03:00:00Z\">January 1, 2026</time>"),
        "the date in the site's time zone: {section}"
    );
    assert!(
        section.contains("id=\"c-01KB00000000000000000000AA-by\">:)</bdi>"),
        "{section}"
    );
    assert!(
        section.contains("A reply with markup and .</p>"),
        "tags off the allow-list are dropped, their text kept"
    );
    assert!(!section.contains("alert"), "script content is dropped");
    assert!(
        section.contains("<ol class=\"cairn-replies\">"),
        "the reply is nested"
    );
    assert!(
        !dir.join("_site/comments").exists(),
        "comment files stay out of the site"
    );
    let index = std::fs::read_to_string(dir.join("_site/index.html")).unwrap();
    assert!(
        index.contains("data-cairn-count=\"/blog/2026/01/01/hello.html\">2 comments</span>"),
        "the count on the index, under the site's base path: {index}"
    );
    // The post whose permalink has no extension: its page is a file, its link is not,
    // and the count finds the comments of the page the link leads to.
    let notes = std::fs::read_to_string(dir.join("_site/2026/notes.html")).unwrap();
    assert!(
        comments_section(&notes).contains("name=\"thread\" value=\"/2026/notes.html\""),
        "{notes}"
    );
    assert!(
        index.contains("data-cairn-count=\"/blog/2026/notes\">1 comment</span>"),
        "{index}"
    );
}
