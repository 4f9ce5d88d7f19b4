//! Runs `action.yml` as written, the way GitHub's runner runs a composite action: its
//! steps in order, `${{ }}` expressions filled in from inputs, step outputs and runner
//! context, with the environment GitHub documents (GITHUB_OUTPUT, GITHUB_PATH,
//! GITHUB_STEP_SUMMARY, GITHUB_ACTION_PATH, RUNNER_TEMP, ...), against the example
//! site in a real git repository with a moderation branch. GitHub itself cannot be
//! reached from here; `uses:` steps (the cache) are the only ones not run.

mod common;

use common::*;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One composite-action runner sharing RUNNER_TEMP across runs, as a restored cache
/// would (the second run finds the binary the first installed).
struct Runner {
    action: Value,
    workspace: PathBuf,
    temp: tempfile::TempDir,
    /// `github.server_url`: GitHub, or a server on loopback standing in for it.
    server: String,
}

/// What a run of the action left.
struct Run {
    /// Whether every step succeeded.
    success: bool,
    stdout: String,
    stderr: String,
    summary: String,
}

impl Runner {
    fn new(workspace: &Path) -> Runner {
        let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
        let action: Value = serde_norway::from_str(&text).expect("action.yml is YAML");
        assert_eq!(action["runs"]["using"], "composite");
        Runner {
            action,
            workspace: workspace.to_path_buf(),
            temp: tempfile::tempdir().unwrap(),
            server: "https://github.com".into(),
        }
    }

    /// A runner whose `github.server_url` is `server` (where releases are downloaded from).
    fn on(server: &str, workspace: &Path) -> Runner {
        Runner {
            server: server.into(),
            ..Runner::new(workspace)
        }
    }

    fn run(&self, inputs: &[(&str, &str)], event: &[(&str, &str)]) -> Run {
        let mut values: HashMap<String, String> = HashMap::new();
        for (name, spec) in self.action["inputs"].as_object().unwrap() {
            let default = spec["default"].as_str().unwrap_or_default();
            values.insert(format!("inputs.{name}"), default.to_string());
        }
        for (name, value) in inputs {
            assert!(
                values.contains_key(&format!("inputs.{name}")),
                "action.yml has no input {name}"
            );
            values.insert(format!("inputs.{name}"), value.to_string());
        }
        let temp = self.temp.path();
        for (key, value) in [
            ("github.action_path", root().display().to_string()),
            ("github.action_repository", "cairn-comments/cairn".into()),
            ("github.server_url", self.server.clone()),
            ("github.workspace", self.workspace.display().to_string()),
            ("runner.temp", temp.display().to_string()),
            ("runner.os", "Linux".into()),
            ("runner.arch", "X64".into()),
        ] {
            values.insert(key.into(), value);
        }
        let files = temp.join("files");
        std::fs::create_dir_all(&files).unwrap();
        let summary = files.join("summary.md");
        std::fs::write(&summary, "").unwrap();
        let path_file = files.join("path");
        std::fs::write(&path_file, "").unwrap();
        let mut stdout = String::new();
        let mut stderr = String::new();
        for (n, step) in self.action["runs"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            if let Some(uses) = step["uses"].as_str() {
                assert!(
                    uses.starts_with("actions/cache@"),
                    "unexpected action {uses}"
                );
                continue;
            }
            assert_eq!(step["shell"], "bash", "step {n} must name its shell");
            let script = fill(step["run"].as_str().unwrap(), &values);
            let output_file = files.join(format!("output-{n}"));
            std::fs::write(&output_file, "").unwrap();
            let mut command = Command::new("bash");
            command
                .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
                .current_dir(&self.workspace)
                .env("GITHUB_ACTIONS", "true")
                .env("CI", "true")
                .env("GITHUB_ACTION_PATH", root())
                .env("GITHUB_ACTION_REPOSITORY", "cairn-comments/cairn")
                .env("GITHUB_WORKSPACE", &self.workspace)
                .env("GITHUB_OUTPUT", &output_file)
                .env("GITHUB_PATH", &path_file)
                .env("GITHUB_ENV", files.join("env"))
                .env("GITHUB_STEP_SUMMARY", &summary)
                .env("RUNNER_TEMP", temp)
                .env("RUNNER_OS", "Linux")
                .env("RUNNER_ARCH", "X64")
                // Builds of the action's checkout land here and survive between test runs.
                .env("CARGO_TARGET_DIR", root().join("target/action-install"))
                .envs(event.iter().copied());
            // Directories earlier steps added to GITHUB_PATH come first, as on a runner.
            let added = std::fs::read_to_string(&path_file).unwrap();
            let mut path: Vec<PathBuf> = added.lines().rev().map(PathBuf::from).collect();
            path.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap()));
            command.env("PATH", std::env::join_paths(path).unwrap());
            if let Some(env) = step["env"].as_object() {
                for (name, value) in env {
                    command.env(name, fill(value.as_str().unwrap_or_default(), &values));
                }
            }
            let out = command.output().unwrap();
            stdout.push_str(&String::from_utf8_lossy(&out.stdout));
            stderr.push_str(&String::from_utf8_lossy(&out.stderr));
            if let Some(id) = step["id"].as_str() {
                for line in std::fs::read_to_string(&output_file).unwrap().lines() {
                    let (key, value) = line.split_once('=').expect("name=value outputs");
                    values.insert(format!("steps.{id}.outputs.{key}"), value.into());
                }
            }
            if !out.status.success() {
                return Run {
                    success: false,
                    stdout,
                    stderr,
                    summary: std::fs::read_to_string(&summary).unwrap(),
                };
            }
        }
        Run {
            success: true,
            stdout,
            stderr,
            summary: std::fs::read_to_string(&summary).unwrap(),
        }
    }
}

/// Replaces each `${{ expression }}` by its value; an expression the runner here does
/// not know fails the test (so action.yml cannot use one untested).
fn fill(text: &str, values: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("closed expression") + start;
        let expression = rest[start + 3..end].trim();
        let value = values
            .get(expression)
            .unwrap_or_else(|| panic!("expression `{expression}` is not provided"));
        out.push_str(value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

const NEW_COMMENT: &str = "id: 01KB0000000000000000000NEW
thread: /posts/hello-world/
date: 2026-11-20T10:00:00Z
author: Moderated Reader
body: |
  A **new** comment <script>alert(1)</script>
";

#[test]
fn the_action_checks_a_moderation_pull_request_and_renders_the_site() {
    let site = example_site();
    let ws = site.path();
    copy_tree(&root().join("example-site/prebuilt"), &ws.join("public"));
    let origin = tempfile::tempdir().unwrap();
    git(origin.path(), &["init", "-q", "--bare", "-b", "main"]);
    git(ws, &["init", "-q", "-b", "main"]);
    git(ws, &["add", "-A"]);
    git(ws, &["commit", "-qm", "Site"]);
    git(
        ws,
        &["remote", "add", "origin", origin.path().to_str().unwrap()],
    );
    git(ws, &["push", "-q", "origin", "main"]);
    let runner = Runner::new(ws);

    // A moderation pull request: one new comment, and a broken file beside it.
    git(
        ws,
        &["checkout", "-q", "-b", "cairn/01KB0000000000000000000NEW"],
    );
    let thread = ws.join("comments/posts/hello-world");
    std::fs::write(thread.join("01KB0000000000000000000NEW.yml"), NEW_COMMENT).unwrap();
    std::fs::write(
        thread.join("01KB0000000000000000000BAD.yml"),
        "id: 01KB0000000000000000000BAD\nthread: /posts/hello-world/\ndate: yesterday\nbody: x\n",
    )
    .unwrap();
    git(ws, &["add", "-A"]);
    git(ws, &["commit", "-qm", "Comment"]);
    let pr = [
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_BASE_REF", "main"),
    ];
    let check = runner.run(&[("command", "check")], &pr);
    assert!(!check.success, "a broken comment file fails the check");
    assert!(
        check.stdout.contains(
            "::error file=comments/posts/hello-world/01KB0000000000000000000BAD.yml,line=3,title=cairn::date:"
        ),
        "{}\n{}",
        check.stdout,
        check.stderr
    );
    assert!(
        check.summary.contains("### cairn check"),
        "{}",
        check.summary
    );
    assert!(check.summary.contains("| errors | 1 |"));
    assert!(
        check.summary.contains("#### New comments (1)"),
        "{}",
        check.summary
    );
    assert!(check.summary.contains("**Moderated Reader**"));
    assert!(
        check.summary.contains("A <strong>new</strong> comment"),
        "rendered as on the site"
    );
    assert!(
        !check.summary.contains("<script>"),
        "sanitized as on the site"
    );

    // Fixed: the same pull request passes, strictly.
    std::fs::remove_file(thread.join("01KB0000000000000000000BAD.yml")).unwrap();
    let check = runner.run(&[("command", "check"), ("strict", "true")], &pr);
    assert!(check.success, "{}\n{}", check.stdout, check.stderr);
    assert!(check.summary.contains("#### New comments (1)"));

    // Merged and pushed: render the built site.
    git(ws, &["add", "-A"]);
    git(ws, &["commit", "-qm", "Fix"]);
    git(ws, &["checkout", "-q", "main"]);
    git(ws, &["merge", "-q", "cairn/01KB0000000000000000000NEW"]);
    let push = [("GITHUB_EVENT_NAME", "push")];
    let render = runner.run(&[("command", "render"), ("site-dir", "public")], &push);
    assert!(render.success, "{}\n{}", render.stdout, render.stderr);
    assert!(
        render.summary.contains("### cairn render"),
        "{}",
        render.summary
    );
    assert!(render.summary.contains("| problems | 0 |"));
    let page = std::fs::read_to_string(ws.join("public/posts/hello-world/index.html")).unwrap();
    assert!(page.contains("Moderated Reader") && page.contains("<strong>new</strong>"));

    // Inputs the action refuses.
    let bad = runner.run(&[("command", "publish")], &push);
    assert!(
        !bad.success
            && bad
                .stdout
                .contains("::error title=cairn::command must be render or check")
    );
    let bad = runner.run(&[("strict", "yes")], &push);
    assert!(!bad.success && bad.stdout.contains("strict must be true or false"));
}

#[test]
fn the_action_installs_the_release_binary_for_the_runner() {
    let version = env!("CARGO_PKG_VERSION");
    let target = "x86_64-unknown-linux-musl";
    let releases = tempfile::tempdir().unwrap();
    // The second is a release whose binary is not the version it is named for.
    let tags = [&format!("v{version}")[..], "v9.9.9"];
    let archive = package_release(releases.path(), &tags, target);
    let listed = Command::new("tar")
        .args(["-tvzf", archive.to_str().unwrap()])
        .output()
        .unwrap();
    let listed = stdout(&listed);
    let names: Vec<&str> = listed
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(
        names,
        ["cairn", "README.md", "LICENSE-MIT", "LICENSE-APACHE"],
        "{listed}"
    );
    assert!(listed.starts_with("-rwxr-xr-x"), "{listed}");
    let server = release_server(releases.path());
    let site = example_site();
    let push = [("GITHUB_EVENT_NAME", "push")];

    let runner = Runner::on(&server, site.path());
    let run = runner.run(&[("command", "check"), ("version", version)], &push);
    assert!(run.success, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(&format!("cairn {version}: prebuilt binary for {target}")),
        "{}",
        run.stdout
    );
    let installed = runner.temp.path().join("cairn/bin/cairn");
    assert!(
        std::fs::read(&installed).unwrap() == std::fs::read(env!("CARGO_BIN_EXE_cairn")).unwrap(),
        "the release's binary is the one installed, not a build"
    );
    assert!(run.summary.contains("### cairn check"), "{}", run.summary);

    let wrong = Runner::on(&server, site.path());
    let run = wrong.run(&[("command", "check"), ("version", "9.9.9")], &push);
    let url =
        format!("{server}/cairn-comments/cairn/releases/download/v9.9.9/cairn-{target}.tar.gz");
    assert!(!run.success);
    assert!(
        run.stdout.contains(&format!(
            "::error title=cairn::the prebuilt binary at {url} says it is cairn {version}, not cairn 9.9.9"
        )),
        "{}",
        run.stdout
    );
    assert!(!wrong.temp.path().join("cairn/bin/cairn").exists());

    // No release for it, and the checkout is another version: nothing is built.
    let missing = Runner::on(&server, site.path());
    let run = missing.run(&[("command", "check"), ("version", "0.0.1")], &push);
    assert!(!run.success);
    assert!(
        run.stdout.contains(&format!(
            "::error title=cairn::no prebuilt cairn 0.0.1 for Linux X64 ({server}/cairn-comments/cairn/releases/download/v0.0.1/cairn-{target}.tar.gz), \
             and this action's checkout is cairn {version}: use cairn-comments/cairn@v0.0.1, or leave version empty to build the checkout"
        )),
        "{}",
        run.stdout
    );
    assert!(!missing.temp.path().join("cairn/bin/cairn").exists());
}

#[test]
fn the_release_workflow_builds_every_target_the_action_installs() {
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let mut installed: Vec<&str> = text
        .split(") target=")
        .skip(1)
        .map(|rest| rest.split(' ').next().unwrap())
        .filter(|t| !t.starts_with('"'))
        .collect();
    installed.sort();
    let text = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    let workflow: Value = serde_norway::from_str(&text).expect("release.yml is YAML");
    let build = &workflow["jobs"]["build"];
    let mut built: Vec<&str> = build["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["target"].as_str().unwrap())
        .collect();
    built.sort();
    assert_eq!(built, installed);
    assert_eq!(built.len(), 4, "Linux and macOS, x86_64 and arm64");
    let runs: Vec<&str> = build["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|step| step["run"].as_str())
        .collect();
    assert!(runs.contains(&"cargo build --release --locked --target ${{ matrix.target }}"));
    assert!(runs.contains(&".ci/package ${{ matrix.target }}"));
    assert_eq!(workflow["on"]["push"]["tags"][0], "v*");
}
