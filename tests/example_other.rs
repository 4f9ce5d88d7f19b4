//! A site built by a generator cairn does not know (a shell script stands in for
//! Docusaurus, a Makefile and the rest), set up with `cairn init --output --build`,
//! built with the command init printed, then rendered by `cairn render` with no
//! arguments.

mod common;

use common::*;

const BUILD: &str = r#"mkdir -p "out/notes/first"
cat > out/notes/first/index.html <<'HTML'
<!doctype html><html lang="en"><head><title>First</title></head>
<body><main><h1>First</h1></main><section id="cairn-comments"></section></body></html>
HTML
cat > out/index.html <<'HTML'
<!doctype html><html lang="en"><head><title>Notes</title></head>
<body><a href="/notes/first/">First</a> <span data-cairn-count="/notes/first/"></span></body></html>
HTML
"#;

const COMMENT: &str = "id: 01KB00000000000000000000AA
thread: /notes/first/
date: 2026-01-02T10:00:00Z
author: Ann
body: Works with *any* generator.
";

#[test]
fn any_generator_is_set_up_by_its_output_directory_and_build_command() {
    let site = tempfile::tempdir().unwrap();
    let dir = site.path();
    std::fs::write(dir.join("build.sh"), BUILD).unwrap();

    // Nothing to detect: init says what it needs, and writes nothing.
    let bare = cairn(dir, &["init"]);
    assert_eq!(bare.status.code(), Some(2));
    let err = stderr(&bare);
    assert!(
        err.contains(
            "no Hugo, Jekyll, Eleventy, Hexo, Astro, VitePress, Docusaurus, Zola, MkDocs or Pelican configuration"
        ) && err.contains("--output DIR --build COMMAND"),
        "{err}"
    );
    assert!(!dir.join("cairn.toml").exists());

    let init = cairn(
        dir,
        &[
            "init",
            "--url",
            "https://notes.example/",
            "--output",
            "out",
            "--build",
            "sh build.sh",
        ],
    );
    assert!(init.status.success(), "{}", stderr(&init));
    let printed = stdout(&init);
    assert!(
        printed.contains(
            "static site: wrote cairn.toml (site URL https://notes.example/, built into out/)"
        ),
        "{printed}"
    );
    assert!(
        printed.contains("after each `sh build.sh` (open pages reload themselves)"),
        "{printed}"
    );
    let start = printed.find("# .github/workflows/pages.yml").unwrap();
    let end = printed.find("Check that [site] url").unwrap();
    let workflow: serde_json::Value = serde_norway::from_str(&printed[start..end]).unwrap();
    let steps = workflow["jobs"]["build"]["steps"].as_array().unwrap();
    assert!(steps.iter().any(|s| s["run"] == "sh build.sh"), "{steps:?}");
    assert!(steps.iter().any(|s| s["with"]["site-dir"] == "out"));

    // The printed local build, then render with no arguments.
    let local = printed
        .split("Build and render locally:\n\n    ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap();
    assert_eq!(local, "sh build.sh");
    let built = std::process::Command::new("sh")
        .args(["-c", local])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", stderr(&built));
    write_comment(dir, "notes/first", "01KB00000000000000000000AA", COMMENT);
    let out = cairn(dir, &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = std::fs::read_to_string(dir.join("out/notes/first/index.html")).unwrap();
    assert!(
        page.contains("Works with <em>any</em> generator."),
        "{page}"
    );
    let index = std::fs::read_to_string(dir.join("out/index.html")).unwrap();
    assert!(index.contains(">1 comment</span>"), "{index}");
}
