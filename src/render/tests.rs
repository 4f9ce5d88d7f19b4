use super::*;
use crate::store::Store;
use std::path::Path;

fn example() -> (Config, Store) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("example-site");
    let config = Config::from_file(&root.join("cairn.toml")).unwrap();
    let store = Store::load(&config.comments_dir(), &config.form).unwrap();
    assert!(store.problems.is_empty(), "{:?}", store.problems);
    (config, store)
}

#[test]
fn example_thread_section_snapshot() {
    let (config, store) = example();
    let renderer = Renderer::new(&config).unwrap();
    let thread = "/posts/markdown-in-comments/";
    let section = renderer
        .section(
            thread,
            store.threads.get(thread),
            Some("https://blog.example.org/posts/markdown-in-comments/comments.xml"),
        )
        .unwrap();
    insta::assert_snapshot!(section.html);
}

#[test]
fn empty_thread_has_form_and_invitation() {
    let (config, _) = example();
    let renderer = Renderer::new(&config).unwrap();
    let html = renderer
        .section("/posts/a-quiet-post/", None, None)
        .unwrap()
        .html;
    insta::assert_snapshot!(html);
}

#[test]
fn replies_nest_down_to_max_depth_then_say_whom_they_answer() {
    let (mut config, store) = example();
    config.comments.max_depth = 2;
    let renderer = Renderer::new(&config).unwrap();
    let t = store.threads.get("/posts/hello-world/").unwrap();
    let html = renderer
        .section("/posts/hello-world/", Some(t), None)
        .unwrap()
        .html;
    // Ann → Blogger (depth 2) → Ann (3, flattened) → Blogger (4, flattened)
    assert_eq!(
        html.matches("<ol class=\"cairn-replies\">").count(),
        1,
        "{html}"
    );
    assert_eq!(html.matches("class=\"cairn-parent\"").count(), 2, "{html}");
    assert!(html.contains(">in reply to Blogger</a>"));
    assert_eq!(html.matches("<li ").count(), html.matches("</li>").count());
}

#[test]
fn newest_first_reverses_top_level_only() {
    let (mut config, store) = example();
    config.comments.sort = Sort::Newest;
    let renderer = Renderer::new(&config).unwrap();
    let t = store.threads.get("/posts/markdown-in-comments/").unwrap();
    let html = renderer
        .section("/posts/markdown-in-comments/", Some(t), None)
        .unwrap()
        .html;
    let ada = html.find("Ada").unwrap();
    let grace = html.find("Grace").unwrap();
    let linus = html.find("Linus").unwrap();
    assert!(
        ada < grace && grace < linus,
        "top level newest first, replies after their parent"
    );
}

#[test]
fn site_templates_override_builtin_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default_for_test(dir.path());
    std::fs::create_dir_all(config.templates_dir()).unwrap();
    std::fs::write(
        config.templates_dir().join("comments.html"),
        "<p>{{ title }} in {{ thread }} {{ s.reply }}</p>",
    )
    .unwrap();
    std::fs::write(config.templates_dir().join("cairn.css"), ".cairn{}").unwrap();
    config.site.language = "de".into();
    let renderer = Renderer::new(&config).unwrap();
    assert_eq!(
        renderer.section("/a/", None, None).unwrap().html,
        "<p>Noch keine Kommentare in /a/ Antworten</p>"
    );
    assert_eq!(renderer.asset("cairn.css").unwrap(), ".cairn{}");
    assert!(renderer.asset("cairn.js").unwrap().contains("localStorage"));
}

#[test]
fn broken_override_names_the_template() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::default_for_test(dir.path());
    std::fs::create_dir_all(config.templates_dir()).unwrap();
    std::fs::write(config.templates_dir().join("comment.html"), "{% if %}").unwrap();
    let err = format!("{:#}", Renderer::new(&config).err().unwrap());
    assert!(err.contains("comment.html"), "{err}");
}

#[test]
fn escaping_keeps_urls_readable_and_markup_inert() {
    assert_eq!(
        escape_html("<a href=\"/x/\">'&'</a>"),
        "&lt;a href=&quot;/x/&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
    );
}
