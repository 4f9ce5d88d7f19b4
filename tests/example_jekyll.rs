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

const ON_RUST: &str = "id: 01KB00000000000000000000DD
thread: /2026/rust-1.40.html
date: 2026-01-08T12:00:00Z
author: Kim
body: On the post whose name has a dot, served without its extension.
";

const REPLY: &str = "id: 01KB00000000000000000000BB
thread: /2026/01/01/hello.html
parent: 01KB00000000000000000000AA
date: 2026-01-02T11:00:00Z
author: Jo
body: |
  A reply with <b>markup</b> and <script>alert(1)</script>.
";

/// Builds the site in `dir` with the real Jekyll.
fn jekyll_build(jekyll: &std::path::Path, dir: &std::path::Path) {
    let built = std::process::Command::new(jekyll)
        .args(["build", "--quiet"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(built.status.success(), "jekyll build: {}", stderr(&built));
}

#[test]
fn jekyll_build_then_render_after_cairn_init() {
    let Some(jekyll) = tool("jekyll") else { return };
    let site = tempfile::tempdir().unwrap();
    let dir = site.path();
    copy_tree(&root().join("tests/fixtures/jekyll-site"), dir);
    // Jekyll writes this post to 2026/rust-1.40.html and links to it as /2026/rust-1.40.
    std::fs::write(
        dir.join("_posts/2026-01-07-rust-1.40.md"),
        "---\nlayout: post\ntitle: Rust 1.40\npermalink: /:year/:title\n---\nReleased.\n",
    )
    .unwrap();

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
    write_comment(
        dir,
        "2026/rust-1.40.html",
        "01KB00000000000000000000DD",
        ON_RUST,
    );

    jekyll_build(&jekyll, dir);
    assert!(!dir.join("_site/comments").exists() && !dir.join("_site/cairn.toml").exists());
    let out = cairn(dir, &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("4 comments rendered on 3 pages"),
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
    // Its name has a dot, so the link reads as a file's: the count still finds the page.
    assert!(
        index.contains("data-cairn-count=\"/blog/2026/rust-1.40\">1 comment</span>"),
        "{index}"
    );
}

/// A site on a gem theme (Debian's minima, as `jekyll new` makes one) has no post
/// layout of its own: init names the theme's, and the site shows comments once it is
/// copied in as printed and given the placeholder.
#[test]
fn a_site_on_a_gem_theme_is_told_which_layout_to_copy() {
    let Some(jekyll) = tool("jekyll") else { return };
    let site = tempfile::tempdir().unwrap();
    let dir = site.path();
    std::fs::create_dir_all(dir.join("_posts")).unwrap();
    std::fs::write(
        dir.join("_config.yml"),
        "title: Minima notes\nurl: https://notes.example.net\ntheme: minima\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("_posts/2026-01-01-hello.md"),
        "---\nlayout: post\ntitle: Hello\n---\nHi.\n",
    )
    .unwrap();

    let minima = std::process::Command::new("ruby")
        .args(["-e", "Gem::Specification.find_by_name('minima')"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !minima {
        eprintln!("skipping: the minima gem is not installed (.ci/run installs it)");
        return;
    }
    let init = cairn(dir, &["init"]);
    assert!(init.status.success(), "{}", stderr(&init));
    let printed = stdout(&init);
    assert!(
        printed.contains(
            "The site has no _layouts/post.html of its own: its posts take the theme minima's."
        ),
        "{printed}"
    );
    let copy = printed
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("mkdir -p _layouts && cp "))
        .unwrap_or_else(|| panic!("the copy command: {printed}"));
    assert!(
        copy.ends_with("/_layouts/post.html' _layouts/post.html"),
        "{copy}"
    );
    let copied = std::process::Command::new("sh")
        .args(["-c", copy])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(copied.success());
    let layout = dir.join("_layouts/post.html");
    let text = std::fs::read_to_string(&layout).unwrap();
    assert!(text.contains("</article>"), "minima's post layout: {text}");
    std::fs::write(
        &layout,
        text.replacen(
            "</article>",
            "<div id=\"cairn-comments\"></div>\n</article>",
            1,
        ),
    )
    .unwrap();
    // Init says nothing of copying once the site has its own.
    std::fs::remove_file(dir.join("cairn.toml")).unwrap();
    assert!(!stdout(&cairn(dir, &["init"])).contains("take the theme"));

    write_comment(
        dir,
        "2026/01/01/hello.html",
        "01KB00000000000000000000AA",
        "id: 01KB00000000000000000000AA\nthread: /2026/01/01/hello.html\ndate: 2026-01-02T03:00:00Z\nauthor: Ann\nbody: Under the theme's post.\n",
    );
    jekyll_build(&jekyll, dir);
    let out = cairn(dir, &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = std::fs::read_to_string(dir.join("_site/2026/01/01/hello.html")).unwrap();
    let article = &page[page.find("<article").unwrap()..page.rfind("</article>").unwrap()];
    assert!(article.contains("Under the theme's post."), "{article}");
    assert!(
        article.contains("class=\"post-title p-name\""),
        "minima's layout: {article}"
    );
}

/// Comment files are plain data a site's own tools may read: Ruby's YAML (Jekyll's,
/// which reads `1,000` as a number and `2026-01-02 03:04:05` as a time) gives back
/// every value cairn wrote, as cairn reads it.
#[test]
fn rubys_yaml_reads_comment_files_as_cairn_wrote_them() {
    use cairn::comment::{Comment, Format};
    let Some(ruby) = tool("ruby") else { return };
    let awkward = [
        "Ann",
        "1,000",
        "0,5",
        "12e45",
        "1_000",
        "0x1F",
        "0x1F,0",
        "0b101",
        "0b1_0,",
        "0o17",
        "190:20:30",
        ".inf",
        "-.Inf",
        ".NaN",
        "+1",
        "2026-01-01",
        "2001-1-2",
        "2026-01-02T03:04:05Z",
        "2001-12-14t21:59:43.10-05:00",
        "2001-12-14 21:59:43.10 -5",
        "2001-12-14 1:02:03",
        "1984-style",
        "no",
        "Yes",
        "oN",
        "NULL",
        "~",
        "=",
        "<<",
        "- dash",
        "a: b",
        "x #y",
        "#tag",
        "\"quoted\"",
        "it's",
        "tab\there",
        "line\u{2028}sep",
        "Ünïcødé 名前",
        "😀",
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut expected = Vec::new();
    for (i, value) in awkward.iter().enumerate() {
        let comment = Comment {
            id: ulid::Ulid::from_parts(1_700_000_000_000 + i as u64, i as u128),
            thread: "/posts/a/".into(),
            parent: None,
            date: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            author: Some(value.to_string()),
            website: None,
            avatar: None,
            origin: Some(value.to_string()),
            body: format!("{value}\n"),
        };
        let yaml = comment.to_yaml();
        assert_eq!(
            Comment::parse(&yaml, Format::Yaml).unwrap(),
            comment,
            "{yaml}"
        );
        std::fs::write(dir.path().join(format!("{i:02}.yml")), yaml).unwrap();
        expected.push(serde_json::json!([value, value, format!("{value}\n")]));
    }
    // As Jekyll loads data files: safe_load, dates and times allowed.
    let script = r##"
        require "yaml"; require "json"; require "date"
        puts(Dir[File.join(ARGV[0], "*.yml")].sort.map { |f|
          c = YAML.safe_load(File.read(f, encoding: "UTF-8"), permitted_classes: [Date, Time])
          [c["author"], c["origin"], c["body"]].map { |v| v.is_a?(String) ? v : "#{v.class}: #{v}" }
        }.to_json)
    "##;
    let out = std::process::Command::new(ruby)
        .args(["-e", script])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "ruby: {}", stderr(&out));
    let read: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (want, got) in expected.iter().zip(read.as_array().unwrap()) {
        assert_eq!(got, want);
    }
    assert_eq!(read.as_array().unwrap().len(), awkward.len());
}
