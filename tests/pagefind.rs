//! Site search built from the pages: the example site, rendered by `cairn render`, then
//! indexed by the real Pagefind (npm's pagefind, in tests/pagefind/), as a site that runs
//! `npx pagefind --site public` after the render does. Pages are found by their own
//! text; their comments, the form and the lists of the newest comments stay out of the
//! index (as they were with comments a script loaded).

mod common;

use std::process::Command;

use common::*;

#[test]
fn pagefind_indexes_the_pages_and_not_their_comments() {
    let Some(pagefind) = npm_packages("pagefind", "pagefind") else {
        return;
    };
    let site = example_site();
    copy_tree(
        &root().join("example-site/prebuilt"),
        &site.path().join("public"),
    );
    let out = cairn(site.path(), &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let public = site.path().join("public");
    let hello = std::fs::read_to_string(public.join("posts/hello-world/index.html")).unwrap();
    assert!(hello.contains("Congratulations on the new blog"), "{hello}");

    let out = Command::new("node")
        .arg(pagefind.join("index.mjs"))
        .arg(&public)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let pages: Vec<serde_json::Value> = serde_json::from_str(stdout(&out).trim()).unwrap();
    let content = |url: &str| -> String {
        let page = pages.iter().find(|p| p["url"] == url);
        page.unwrap_or_else(|| panic!("{url} indexed: {pages:?}"))["content"]
            .as_str()
            .unwrap()
            .to_string()
    };

    // Each post by its own text, not by what readers wrote under it or the form.
    let hello = content("/posts/hello-world/");
    assert!(
        hello.contains("This is the first post of the example blog"),
        "{hello}"
    );
    for comment in [
        "Congratulations on the new blog",
        "6 comments",
        "Reply",
        "Leave a comment",
    ] {
        assert!(!hello.contains(comment), "{comment:?} indexed: {hello}");
    }
    let quiet = content("/posts/a-quiet-post/");
    assert!(quiet.contains("Nobody has commented here yet"), "{quiet}");
    assert!(!quiet.contains("Be the first"), "{quiet}");
    // The home page by its posts and their counts, not by the newest comments' authors.
    let home = content("/");
    assert!(
        home.contains("Hello, world · 6 comments") && home.contains("Recent comments"),
        "{home}"
    );
    assert!(!home.contains("Ada on"), "{home}");
}
