//! Delivery to an ssh remote: a real OpenSSH server on loopback serves the site's
//! repository, and the real `cairn inbox` and `cairn moderate` reach it through
//! libgit2's ssh transport with the key in `CAIRN_GIT_SSH_KEY`, trusting only the host
//! keys in the `known_hosts` of the user they run as.

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
    let sshd = Some(PathBuf::from("/usr/sbin/sshd"))
        .filter(|p| p.is_file())
        .or_else(|| tool("sshd"))?;
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
    let config = dir.path().join("inbox.toml");
    std::fs::write(
        &config,
        format!(
            "[site]\nurl = \"https://blog.example.org/\"\n[comments]\ndir = \"comments\"\n\
             [inbox]\nurl = \"http://127.0.0.1:9\"\nspool = \"spool\"\nrate_per_hour = 0\n\
             [inbox.delivery]\nremote = \"{url}\"\n"
        ),
    )
    .unwrap();
    // The user cairn runs as: its own home, holding no host key yet.
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    let known_hosts = home.join(".ssh/known_hosts");
    let key = server.user_key.to_str().unwrap();
    let env = [("HOME", home.to_str().unwrap()), ("CAIRN_GIT_SSH_KEY", key)];
    let moderate = |args: &[&str]| {
        let mut all = vec!["moderate"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--config", config.to_str().unwrap()]);
        cairn_with(dir.path(), &all, &env)
    };

    // An unknown host, and then one whose key differs from what known_hosts holds: the
    // error names the key shown, the file, and the command that adds the key.
    let wrong = std::fs::read_to_string(dir.path().join("user_key.pub")).unwrap();
    for known in [None, Some(format!("[127.0.0.1]:{} {wrong}", server.port))] {
        if let Some(line) = &known {
            std::fs::write(&known_hosts, line).unwrap();
        }
        let out = moderate(&["list"]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let expected = format!(
            "the ssh host key of 127.0.0.1 (ED25519 {}) is not in {}, or differs from the \
             one there: check it against the fingerprints the host publishes, then add it \
             for the user cairn runs as: `ssh-keyscan -p {} 127.0.0.1 >> {}`",
            server.fingerprint,
            known_hosts.display(),
            server.port,
            known_hosts.display()
        );
        assert!(stderr(&out).contains(&expected), "{}", stderr(&out));
    }

    std::fs::write(
        &known_hosts,
        format!("[127.0.0.1]:{} {}\n", server.port, server.host_key),
    )
    .unwrap();
    let out = moderate(&["list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "no pending comments\n");

    let inbox = InboxProcess::start_after(
        &format!("export HOME='{}' CAIRN_GIT_SSH_KEY='{key}'", home.display()),
        &[
            "--listen",
            "127.0.0.1:0",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    let id = post_accepted(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "author": "Ann", "body": "Over ssh."}),
    );
    inbox.wait_delivered(60);
    let branches = git(&remote, &["for-each-ref", "--format=%(refname:short)"]);
    assert!(
        branches.lines().any(|b| b == format!("cairn/{id}")),
        "{branches}"
    );
    let listed = moderate(&["list", "--format", "ids"]);
    assert_eq!(stdout(&listed).trim(), id, "{}", stderr(&listed));

    let approved = moderate(&["approve", &id]);
    assert!(approved.status.success(), "{}", stderr(&approved));
    let files = git(&remote, &["ls-tree", "-r", "--name-only", "main"]);
    assert!(
        files
            .lines()
            .any(|f| f == format!("comments{THREAD}{id}.yml")),
        "{files}"
    );
    let branches = git(&remote, &["for-each-ref", "--format=%(refname:short)"]);
    assert!(!branches.contains(&id), "{branches}");
}
