//! The recipes in docs/ as a site owner would copy them: the workflows are what
//! `cairn init` prints, the systemd units pass `systemd-analyze verify`, and the nginx
//! and Caddy configurations, run for real with TLS on loopback, carry comments to a
//! real `cairn inbox` with each reader's address (rate limits per reader: readers are
//! distinct loopback source addresses). The README's configuration reference is a
//! configuration cairn reads, and its table of commands names all that `--help` does.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Stdio};

fn doc(path: &str) -> String {
    std::fs::read_to_string(root().join("docs").join(path)).unwrap()
}

#[test]
fn the_readmes_configuration_reference_is_a_configuration_cairn_reads() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let reference = &readme[readme.find("## Configuration reference").unwrap()..];
    let start = reference.find("```toml\n").unwrap() + "```toml\n".len();
    let block = &reference[start..start + reference[start..].find("```").unwrap()];
    // Every key of every section, each set to its documented example.
    for section in [
        "[site]",
        "[comments]",
        "[form]",
        "[feeds]",
        "[inbox]",
        "[inbox.delivery]",
        "[inbox.spam]",
        "[inbox.notify]",
        "[strings]",
    ] {
        assert!(
            format!("\n{block}").contains(&format!("\n{section}")),
            "{section}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("comments")).unwrap();
    std::fs::write(dir.path().join("cairn.toml"), block).unwrap();
    let out = cairn(dir.path(), &["check", "--strict"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn the_recipe_workflows_are_the_ones_cairn_init_prints() {
    let recipes = doc("recipes.md");
    // The Jekyll recipe is for a site with a Gemfile (it says what changes without one).
    for files in [
        &[("hugo.toml", "baseURL = \"https://b.example/\"\n")][..],
        &[
            ("_config.yml", "url: https://b.example\n"),
            ("Gemfile", "gem \"jekyll\"\n"),
        ],
    ] {
        let dir = tempfile::tempdir().unwrap();
        for (file, text) in files {
            std::fs::write(dir.path().join(file), text).unwrap();
        }
        let file = files[0].0;
        // Without a Hugo on the PATH to pin, the workflow pins the recipe's.
        let no_tools = tempfile::tempdir().unwrap();
        let path = no_tools.path().to_str().unwrap();
        let out = cairn_with(dir.path(), &["init"], &[("PATH", path)]);
        assert!(out.status.success(), "{}", stderr(&out));
        let printed = stdout(&out);
        let start = printed.find("# .github/workflows/pages.yml").unwrap();
        let end = printed.find("Check that [site] url").unwrap();
        let workflow = printed[start..end].trim_end();
        assert!(
            recipes.contains(workflow),
            "docs/recipes.md lacks the workflow for {file}:\n{workflow}"
        );
    }
    let gitlab: serde_json::Value = serde_norway::from_str(&doc("deploy/gitlab-ci.yml")).unwrap();
    let pages = gitlab["pages"]["script"].as_array().unwrap();
    assert!(pages.iter().any(|l| l == "cairn render public"));
    assert_eq!(gitlab["pages"]["artifacts"]["paths"][0], "public");
    assert!(gitlab["check"]["script"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l == "cairn check --strict"));
    let netlify: toml::Value = toml::from_str(&doc("deploy/netlify.toml")).unwrap();
    let command = netlify["build"]["command"].as_str().unwrap();
    assert!(
        command.ends_with("cairn render public")
            && netlify["build"]["publish"].as_str() == Some("public")
    );
}

/// `cairn --version` of the binary a recipe's shell `lines`, run in an empty directory
/// with `env` set, put on the PATH when github.com is `server`.
fn installed_by(server: &str, lines: &[&str], env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "set -e\n{}\ncairn --version",
        lines.join("\n").replace("https://github.com", server)
    );
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-o", "pipefail", "-c", &script])
        .current_dir(dir.path())
        .envs(env.iter().copied())
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(out.status.success(), "{script}\n{}", stderr(&out));
    stdout(&out).trim().to_string()
}

#[test]
fn the_readme_and_the_recipes_install_the_release_they_pin() {
    let version = env!("CARGO_PKG_VERSION");
    let releases = tempfile::tempdir().unwrap();
    package_release(
        releases.path(),
        &[&format!("v{version}")],
        "x86_64-unknown-linux-musl",
    );
    let server = release_server(releases.path());
    let expected = format!("cairn {version}");

    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let installing = &readme[readme.find("## Installing").unwrap()..];
    let start = installing.find("```sh\n").unwrap() + "```sh\n".len();
    let fetch = installing[start..].lines().next().unwrap();
    let here = "export PATH=\"$PWD:$PATH\"";
    assert_eq!(installed_by(&server, &[fetch, here], &[]), expected);

    let netlify: toml::Value = toml::from_str(&doc("deploy/netlify.toml")).unwrap();
    let command = netlify["build"]["command"].as_str().unwrap();
    let (install, build) = command.split_once(" && hugo").unwrap();
    assert!(build.ends_with(" && .cairn-bin/cairn render public"));
    let path = "export PATH=\"$PWD/.cairn-bin:$PATH\"";
    assert_eq!(installed_by(&server, &[install, path], &[]), expected);

    let gitlab: serde_json::Value = serde_norway::from_str(&doc("deploy/gitlab-ci.yml")).unwrap();
    let pinned = gitlab["variables"]["CAIRN_VERSION"].as_str().unwrap();
    let lines: Vec<&str> = gitlab[".cairn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .filter(|l| !l.starts_with("apt-get "))
        .collect();
    assert_eq!(lines.len(), 2, "fetch and PATH");
    assert_eq!(
        installed_by(&server, &lines, &[("CAIRN_VERSION", pinned)]),
        expected
    );
}

#[test]
fn the_systemd_units_verify() {
    let Some(analyze) = tool("systemd-analyze") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Only the install location differs: the binary under test stands in for /usr/local/bin/cairn.
    let mut units = Vec::new();
    for name in ["cairn-inbox.service", "cairn-inbox.socket"] {
        let unit = doc(&format!("deploy/{name}"))
            .replace("/usr/local/bin/cairn", env!("CARGO_BIN_EXE_cairn"));
        let path = dir.path().join(name);
        std::fs::write(&path, unit).unwrap();
        units.push(path);
    }
    let out = Command::new(analyze)
        .arg("verify")
        .args(&units)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(
        format!("{}{}", stdout(&out), stderr(&out)),
        "",
        "no warnings either"
    );
}

/// A real inbox at `url`, trusting the proxy on 127.0.0.1, allowing one comment per
/// reader.
fn inbox(dir: &Path, url: &str) -> InboxProcess {
    example_remote(dir);
    let config = dir.join("inbox.toml");
    std::fs::write(
        &config,
        format!(
            "[site]\nurl = \"https://blog.example.org/\"\n[comments]\ndir = \"comments\"\n\
             [inbox]\nurl = \"{url}\"\nspool = \"spool\"\n\
             trusted_proxies = [\"127.0.0.1\"]\nrate_per_hour = 1\nrate_burst = 1\n\
             [inbox.delivery]\nremote = \"site.git\"\n"
        ),
    )
    .unwrap();
    InboxProcess::start(&config)
}

/// `curl` through the proxy: status code and body. `extra` are more curl arguments.
fn curl(url: &str, resolve: &str, extra: &[&str]) -> (String, String) {
    let out = Command::new("curl")
        .args([
            "-sk",
            "--max-time",
            "20",
            "--resolve",
            resolve,
            "-w",
            "\n%{http_code} %{redirect_url}",
        ])
        .args(extra)
        .arg(url)
        .output()
        .expect("curl runs");
    let text = stdout(&out);
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    (status.trim().to_string(), body.to_string())
}

/// Posts a comment through the proxy from the loopback address `reader` (two readers
/// are two source addresses; the proxy sees them and says so in X-Forwarded-For).
fn post(base: &str, resolve: &str, reader: &str, body: &str) -> String {
    let json = serde_json::json!({"thread": "/posts/hello-world/", "body": body}).to_string();
    curl(
        &format!("{base}/v1/comments"),
        resolve,
        &[
            "--interface",
            reader,
            "-H",
            "Content-Type: application/json",
            "--data",
            &json,
        ],
    )
    .0
}

/// What both proxies must do: TLS to the inbox, health through it, and each reader's
/// own rate limit (the inbox believes X-Forwarded-For from its trusted proxy).
fn exercise(base: &str, resolve: &str, inbox: &InboxProcess) {
    let (status, body) = curl(&format!("{base}/v1/health"), resolve, &[]);
    assert!(
        status.starts_with("200"),
        "health through the proxy: {status} {body}\n{}",
        inbox.log.lock().unwrap()
    );
    let first = post(base, resolve, "127.0.0.2", "First, from one reader.");
    assert!(first.starts_with("202"), "{first}");
    let other = post(base, resolve, "127.0.0.3", "Another reader, own limit.");
    assert!(
        other.starts_with("202"),
        "another reader is not limited by the first: {other}"
    );
    let again = post(
        base,
        resolve,
        "127.0.0.2",
        "The first reader again, too soon.",
    );
    assert!(
        again.starts_with("429"),
        "the first reader is limited: {again}"
    );
}

#[test]
fn nginx_recipe_proxies_tls_to_the_inbox_with_each_readers_address() {
    if tool("nginx").is_none() {
        return;
    }
    tool("openssl").expect("openssl makes the test certificate");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let inbox = inbox(d, "https://comments.example.org");
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=comments.example.org",
        ])
        .arg("-keyout")
        .arg(d.join("key.pem"))
        .arg("-out")
        .arg(d.join("cert.pem"))
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let (http, https) = (free_port(), free_port());
    // The recipe as written, but on loopback ports, with the test's certificate and
    // the test inbox's port.
    let site = doc("deploy/nginx.conf")
        .replace("listen 80;", &format!("listen 127.0.0.1:{http};"))
        .replace(
            "listen 443 ssl http2;",
            &format!("listen 127.0.0.1:{https} ssl http2;"),
        )
        .replace(
            "/etc/letsencrypt/live/comments.example.org/fullchain.pem",
            &d.join("cert.pem").display().to_string(),
        )
        .replace(
            "/etc/letsencrypt/live/comments.example.org/privkey.pem",
            &d.join("key.pem").display().to_string(),
        )
        .replace("127.0.0.1:8080", &inbox.addr);
    let _nginx = run_nginx(d, &site, https);
    let resolve = format!("comments.example.org:{https}:127.0.0.1");
    exercise(
        &format!("https://comments.example.org:{https}"),
        &resolve,
        &inbox,
    );

    // Plain HTTP is sent to HTTPS.
    let plain = format!("comments.example.org:{http}:127.0.0.1");
    let (status, _) = curl(
        &format!("http://comments.example.org:{http}/v1/health"),
        &plain,
        &[],
    );
    assert_eq!(status, "301 https://comments.example.org/v1/health");
}

#[test]
fn caddy_recipe_proxies_tls_to_the_inbox_with_each_readers_address() {
    if tool("caddy").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let inbox = inbox(d, "https://comments.example.org");
    // The recipe as written, served for localhost with Caddy's own local CA (no ACME
    // from here), on a loopback port, to the test inbox. Caddy listens before its
    // internal CA has issued the site's certificate: wait for an answer over TLS, not
    // just an open port.
    let resolve = |https: u16| format!("localhost:{https}:127.0.0.1");
    let base = |https: u16| format!("https://localhost:{https}");
    let (_caddy, https) = run_caddy(
        d,
        |https| {
            doc("deploy/Caddyfile")
                .replace(
                    "comments.example.org {",
                    &format!("localhost:{https} {{\n\ttls internal"),
                )
                .replace("127.0.0.1:8080", &inbox.addr)
        },
        |https| {
            curl(
                &format!("{}/v1/health", base(https)),
                &resolve(https),
                &["--max-time", "2"],
            )
            .0
            .starts_with("200")
        },
    );
    let (base, resolve) = (base(https), resolve(https));
    exercise(&base, &resolve, &inbox);
}

#[test]
fn nginx_passes_an_inbox_behind_a_path_on_with_the_path_or_without_it() {
    if tool("nginx").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let inbox = inbox(d, "https://blog.example.org/comments");
    // The recipe's proxy settings, in a location for the path: one server passes the
    // path on, the other takes it off.
    let recipe = doc("deploy/nginx.conf");
    let location = &recipe[recipe.find("    location / {").unwrap()..];
    let location = &location[..location.find("    }").unwrap() + 5];
    let (keeps, strips) = (free_port(), free_port());
    let server = |port: u16, upstream: &str| {
        format!(
            "server {{\nlisten 127.0.0.1:{port};\nserver_name blog.example.org;\n{}\n}}\n",
            location
                .replace("location / {", "location /comments/ {")
                .replace("http://127.0.0.1:8080", upstream)
        )
    };
    let http = server(keeps, &format!("http://{}", inbox.addr))
        + &server(strips, &format!("http://{}/", inbox.addr));
    let _nginx = run_nginx(d, &http, strips);
    for (port, reader) in [(keeps, "127.0.0.2"), (strips, "127.0.0.3")] {
        let resolve = format!("blog.example.org:{port}:127.0.0.1");
        let base = format!("http://blog.example.org:{port}/comments");
        let (status, body) = curl(&format!("{base}/v1/health"), &resolve, &[]);
        assert!(status.starts_with("200"), "{port}: {status} {body}");
        let posted = post(&base, &resolve, reader, &format!("Through port {port}."));
        assert!(posted.starts_with("202"), "{port}: {posted}");
        let (status, page) = curl(
            &format!("{base}/v1/reply?thread=%2Fposts%2Fhello-world%2F&parent=01M6BEHPG8Z6CFW1NFM37VWWZ0"),
            &resolve,
            &[],
        );
        assert!(status.starts_with("200"), "{port}: {status} {page}");
        assert!(
            page.contains("action=\"https://blog.example.org/comments/v1/comments\""),
            "{page}"
        );
    }
}

/// The `--long` options and the subcommands `cairn ARGS --help` lists, and the
/// possible values it gives (`import`'s sources, `--format`'s formats).
fn help_of(args: &[&str]) -> (Vec<String>, Vec<String>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let out = cairn(dir.path(), &[args, &["--help"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let help = stdout(&out);
    let (mut options, mut commands, mut values) = (Vec::new(), Vec::new(), Vec::new());
    let mut section = "";
    for line in help.lines() {
        if !line.starts_with(' ') {
            section = line;
            continue;
        }
        let first = line.split_whitespace().next().unwrap_or("");
        // `  list     List pending comments`, not the lines its text wraps onto.
        if section == "Commands:" && !line.starts_with("   ") && first != "help" {
            commands.push(first.to_string());
        }
        // `  -h, --help`, `      --config <FILE>`.
        let long = line
            .trim_start()
            .split([' ', ',', '=', '[', '<'])
            .find(|token| token.starts_with("--"));
        if let Some(long) = long.filter(|_| line.trim_start().starts_with('-')) {
            if !["--help", "--version"].contains(&long) {
                options.push(long.to_string());
            }
        }
    }
    for rest in help.split("[possible values: ").skip(1) {
        values.extend(
            rest[..rest.find(']').unwrap()]
                .split(", ")
                .map(str::to_string),
        );
    }
    (options, commands, values)
}

#[test]
fn the_readmes_table_of_commands_names_every_command_option_and_source() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let table = &readme[readme.find("| command | what it does").unwrap()..];
    let table = &table[..table.find("\n\n").unwrap()];
    let (_, commands, _) = help_of(&[]);
    assert!(commands.len() >= 10, "{commands:?}");
    let mut missing = Vec::new();
    let mut queue: Vec<Vec<String>> = commands.into_iter().map(|c| vec![c]).collect();
    while let Some(path) = queue.pop() {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let (options, subcommands, values) = help_of(&args);
        // The rows for the command: those that start with its name (`cairn inbox` has
        // rows for `inbox`, `inbox check` and `inbox forget`).
        let rows: String = table
            .lines()
            .filter(|row| row.starts_with(&format!("| `cairn {} ", path[0])))
            .collect();
        if rows.is_empty() {
            missing.push(format!("cairn {}", path.join(" ")));
        }
        for word in options.iter().chain(&values).chain(&subcommands) {
            let mentioned = rows
                .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
                .any(|w| w == word);
            if !mentioned {
                missing.push(format!("cairn {} {word}", path.join(" ")));
            }
        }
        queue.extend(
            subcommands
                .into_iter()
                .map(|s| [path.clone(), vec![s]].concat()),
        );
    }
    assert!(
        missing.is_empty(),
        "not in the README's table of commands: {missing:?}"
    );
}
