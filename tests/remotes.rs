//! Delivery over the network, to the servers site repositories live on: a real
//! OpenSSH server, and nginx running `git http-backend` over TLS with Basic
//! authentication, both on loopback. The real `cairn inbox` delivers a comment and
//! `cairn moderate` approves it through libgit2's ssh and https transports with the
//! credentials of `CAIRN_GIT_*`; an untrusted host key or certificate and a refused
//! credential get errors that say what to do.

mod common;

use std::path::{Path, PathBuf};

use common::*;

const THREAD: &str = "/posts/a-quiet-post/";

/// An OpenSSH server on a loopback port, stopped when dropped.
struct Sshd {
    _server: Stopped,
    port: u16,
    /// Its host key's public half, as `ssh-ed25519 AAAA…`.
    host_key: String,
    /// Its host key's fingerprint, as `SHA256:…`.
    fingerprint: String,
    /// A key it lets in, for the user running the tests.
    user_key: PathBuf,
    user: String,
}

/// An ed25519 key pair with no passphrase: `path` and `path.pub`.
fn keygen(path: &Path) {
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .output()
        .expect("ssh-keygen runs");
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Starts sshd in `dir`; `None` (skip, with a note) where it is not installed or
/// cannot run: it runs as root, as under CI.
fn sshd(dir: &Path) -> Option<Sshd> {
    let sshd = tool("sshd")?;
    tool("ssh-keygen")?;
    // Its privilege separation directory, which its service would create.
    if let Err(e) = std::fs::create_dir_all("/run/sshd") {
        assert!(std::env::var_os("CI").is_none(), "/run/sshd: {e}");
        eprintln!("skipping: sshd needs /run/sshd, which only root can make: {e}");
        return None;
    }
    let user = stdout(
        &std::process::Command::new("id")
            .arg("-un")
            .output()
            .unwrap(),
    )
    .trim()
    .to_string();
    let (host, user_key) = (dir.join("host_key"), dir.join("user_key"));
    keygen(&host);
    keygen(&user_key);
    std::fs::copy(dir.join("user_key.pub"), dir.join("authorized_keys")).unwrap();
    let port = free_port();
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "ListenAddress 127.0.0.1:{port}\nHostKey {}\nAuthorizedKeysFile {}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
             StrictModes no\nPidFile none\n",
            host.display(),
            dir.join("authorized_keys").display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("sshd.log")).unwrap();
    let server = Stopped(
        std::process::Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stderr(log)
            .spawn()
            .expect("sshd starts"),
    );
    wait_explained(
        "sshd",
        30,
        || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        || std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default(),
    );
    let public = std::fs::read_to_string(dir.join("host_key.pub")).unwrap();
    let host_key = public
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let listed = std::process::Command::new("ssh-keygen")
        .arg("-lf")
        .arg(dir.join("host_key.pub"))
        .output()
        .unwrap();
    let fingerprint = stdout(&listed)
        .split_whitespace()
        .nth(1)
        .expect("ssh-keygen -l prints the fingerprint")
        .to_string();
    Some(Sshd {
        _server: server,
        port,
        host_key,
        fingerprint,
        user_key,
        user,
    })
}

/// `inbox.toml` in `dir`: a site delivering to `remote` in review mode.
fn write_config(dir: &Path, remote: &str) -> PathBuf {
    let config = dir.join("inbox.toml");
    std::fs::write(
        &config,
        format!(
            "[site]\nurl = \"https://blog.example.org/\"\n[comments]\ndir = \"comments\"\n\
             [inbox]\nurl = \"http://127.0.0.1:9\"\nspool = \"spool\"\nrate_per_hour = 0\n\
             [inbox.delivery]\nremote = \"{remote}\"\n"
        ),
    )
    .unwrap();
    config
}

/// `cairn moderate ARGS` on `config`, with `env`.
fn moderate(config: &Path, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut all = vec!["moderate"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--config", config.to_str().unwrap()]);
    cairn_with(config.parent().unwrap(), &all, env)
}

/// Asserts that `cairn moderate list` fails with `expected` in its error.
fn assert_refused(config: &Path, env: &[(&str, &str)], expected: &str) {
    let out = moderate(config, env, &["list"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(expected), "{}", stderr(&out));
}

/// With `env`, the inbox delivers a comment to the bare repository `remote` (served at
/// the url of `config`) as its own branch, and `cairn moderate` lists it and approves
/// it onto the site branch.
fn delivers_and_approves(config: &Path, remote: &Path, env: &[(&str, &str)]) {
    let out = moderate(config, env, &["list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "no pending comments\n");

    let exports: Vec<String> = env.iter().map(|(k, v)| format!("{k}='{v}'")).collect();
    let inbox = InboxProcess::start_after(
        &format!("export {}", exports.join(" ")),
        &[
            "--listen",
            "127.0.0.1:0",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    let id = post_accepted(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "author": "Ann", "body": "Over the network."}),
    );
    inbox.wait_delivered(60);
    let branches = git(remote, &["for-each-ref", "--format=%(refname:short)"]);
    assert!(
        branches.lines().any(|b| b == format!("cairn/{id}")),
        "{branches}"
    );
    let listed = moderate(config, env, &["list", "--format", "ids"]);
    assert_eq!(stdout(&listed).trim(), id, "{}", stderr(&listed));

    let approved = moderate(config, env, &["approve", &id]);
    assert!(approved.status.success(), "{}", stderr(&approved));
    let files = git(remote, &["ls-tree", "-r", "--name-only", "main"]);
    assert!(
        files
            .lines()
            .any(|f| f == format!("comments{THREAD}{id}.yml")),
        "{files}"
    );
    let branches = git(remote, &["for-each-ref", "--format=%(refname:short)"]);
    assert!(!branches.contains(&id), "{branches}");
}

#[test]
fn an_ssh_remote_takes_comments_and_approvals_once_its_host_key_is_known() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = sshd(dir.path()) else {
        return;
    };
    let remote = example_remote(dir.path());
    let url = format!(
        "ssh://{}@127.0.0.1:{}{}",
        server.user,
        server.port,
        remote.display()
    );
    let config = write_config(dir.path(), &url);
    // The user cairn runs as: its own home, holding no host key yet.
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    let known_hosts = home.join(".ssh/known_hosts");
    let home = home.to_str().unwrap();
    let key = server.user_key.to_str().unwrap();
    let env = [("HOME", home), ("CAIRN_GIT_SSH_KEY", key)];

    // An unknown host, and then one whose key differs from what known_hosts holds: the
    // error names the key shown, the file, and the command that adds the key.
    let wrong = std::fs::read_to_string(dir.path().join("user_key.pub")).unwrap();
    for known in [None, Some(format!("[127.0.0.1]:{} {wrong}", server.port))] {
        if let Some(line) = &known {
            std::fs::write(&known_hosts, line).unwrap();
        }
        let expected = format!(
            "the ssh host key of 127.0.0.1 (ED25519 {}) is not in {}, or differs from the \
             one there: check it against the fingerprints the host publishes, then add it \
             for the user cairn runs as: `ssh-keyscan -p {} 127.0.0.1 >> {}`",
            server.fingerprint,
            known_hosts.display(),
            server.port,
            known_hosts.display()
        );
        assert_refused(&config, &env, &expected);
    }

    std::fs::write(
        &known_hosts,
        format!("[127.0.0.1]:{} {}\n", server.port, server.host_key),
    )
    .unwrap();
    // A key the server does not take.
    let other = dir.path().join("host_key");
    assert_refused(
        &config,
        &[
            ("HOME", home),
            ("CAIRN_GIT_SSH_KEY", other.to_str().unwrap()),
        ],
        &format!(
            "the remote refused user {} with the ssh key {} (CAIRN_GIT_SSH_KEY)",
            server.user,
            other.display()
        ),
    );
    delivers_and_approves(&config, &remote, &env);
}

/// nginx serving the repositories in `dir` over https (a certificate for `localhost`
/// that the system does not trust, in `dir/cert.pem`) with `git http-backend` through
/// fcgiwrap, to user `cairn` with password `s3cret`; its port.
fn https_git(dir: &Path) -> Option<(Stopped, Stopped, u16)> {
    tool("nginx")?;
    let fcgiwrap = tool("fcgiwrap")?;
    let exec_path = stdout(
        &std::process::Command::new("git")
            .arg("--exec-path")
            .output()
            .unwrap(),
    );
    let backend = Path::new(exec_path.trim()).join("git-http-backend");
    let (cert, key) = localhost_certificate(dir);
    std::fs::write(dir.join("htpasswd"), "cairn:{PLAIN}s3cret\n").unwrap();
    let socket = dir.join("fcgi.sock");
    let wrapper = Stopped(
        std::process::Command::new(fcgiwrap)
            .arg("-s")
            .arg(format!("unix:{}", socket.display()))
            .spawn()
            .expect("fcgiwrap starts"),
    );
    wait_for("fcgiwrap", 20, || socket.exists());
    let port = free_port();
    let server = format!(
        "server {{\n listen 127.0.0.1:{port} ssl;\n server_name localhost;\n\
         ssl_certificate {cert};\n ssl_certificate_key {key};\n client_max_body_size 0;\n\
         location / {{\n  auth_basic \"site\";\n  auth_basic_user_file {dir}/htpasswd;\n\
         fastcgi_pass unix:{socket};\n  fastcgi_param SCRIPT_FILENAME {backend};\n\
         fastcgi_param GIT_PROJECT_ROOT {dir};\n  fastcgi_param GIT_HTTP_EXPORT_ALL \"\";\n\
         fastcgi_param PATH_INFO $uri;\n  fastcgi_param QUERY_STRING $args;\n\
         fastcgi_param REQUEST_METHOD $request_method;\n\
         fastcgi_param CONTENT_TYPE $content_type;\n\
         fastcgi_param CONTENT_LENGTH $content_length;\n\
         fastcgi_param REMOTE_USER $remote_user;\n  fastcgi_param REMOTE_ADDR $remote_addr;\n\
         fastcgi_param SERVER_PROTOCOL $server_protocol;\n }}\n}}",
        cert = cert.display(),
        key = key.display(),
        dir = dir.display(),
        socket = socket.display(),
        backend = backend.display(),
    );
    let nginx = run_nginx(dir, &server, port);
    Some((wrapper, nginx, port))
}

#[test]
fn an_https_remote_takes_comments_and_approvals_with_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_wrapper, _nginx, port)) = https_git(dir.path()) else {
        return;
    };
    let remote = example_remote(dir.path());
    let config = write_config(dir.path(), &format!("https://localhost:{port}/site.git"));
    let cert = dir.path().join("cert.pem");
    let cert = cert.to_str().unwrap();

    assert_refused(
        &config,
        &[
            ("CAIRN_GIT_USERNAME", "cairn"),
            ("CAIRN_GIT_PASSWORD", "s3cret"),
        ],
        "its TLS certificate is not trusted: cairn trusts the system's certificates, or \
         those in SSL_CERT_FILE / SSL_CERT_DIR",
    );
    assert_refused(
        &config,
        &[
            ("SSL_CERT_FILE", cert),
            ("CAIRN_GIT_USERNAME", "cairn"),
            ("CAIRN_GIT_PASSWORD", "guess"),
        ],
        "the remote refused user cairn with the password or token in CAIRN_GIT_PASSWORD",
    );
    assert_refused(
        &config,
        &[("SSL_CERT_FILE", cert)],
        "no usable credentials: set CAIRN_GIT_PASSWORD (https) or CAIRN_GIT_SSH_KEY (ssh)",
    );
    delivers_and_approves(
        &config,
        &remote,
        &[
            ("SSL_CERT_FILE", cert),
            ("CAIRN_GIT_USERNAME", "cairn"),
            ("CAIRN_GIT_PASSWORD", "s3cret"),
        ],
    );
}
