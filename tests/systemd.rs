//! The inbox as a systemd service: it says when it is ready, reloading and stopping
//! (sd_notify's protocol, heard on a datagram socket as systemd listens), and serves
//! the listening socket systemd passes it (socket activation, through systemd's own
//! `systemd-socket-activate`), answering the connection that started it, and the
//! readers who posted while it restarted on a socket held for it.

mod common;

use common::*;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// An inbox config delivering to a bare clone of the example site in `dir`.
fn config(dir: &Path) -> PathBuf {
    example_remote(dir);
    let path = dir.join("cairn.toml");
    std::fs::write(
        &path,
        "[site]\nurl = \"https://blog.example.org/\"\n[comments]\ndir = \"comments\"\n\
         [inbox]\nurl = \"https://comments.example.org\"\nspool = \"spool\"\n\
         [inbox.delivery]\nremote = \"site.git\"\n",
    )
    .unwrap();
    path
}

/// What systemd listens on for a service's notifications.
struct Manager {
    socket: UnixDatagram,
    path: PathBuf,
}

impl Manager {
    fn new(dir: &Path) -> Manager {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        Manager { socket, path }
    }

    /// The next message, as its `KEY=VALUE` lines.
    fn next(&self, log: &dyn Fn() -> String) -> Vec<String> {
        let mut buf = [0u8; 4096];
        let n = match self.socket.recv(&mut buf) {
            Ok(n) => n,
            Err(e) => panic!("no notification ({e}); the inbox said:\n{}", log()),
        };
        String::from_utf8(buf[..n].to_vec())
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }
}

/// `cairn inbox` as systemd starts it for its socket unit: the listening socket `held`
/// as descriptor 3, `LISTEN_FDS=1` and `LISTEN_PID` its own pid.
fn start_on(held: &std::net::TcpListener, config: &Path) -> InboxProcess {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let fd = held.as_raw_fd();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("export LISTEN_PID=$$ LISTEN_FDS=1; exec \"$0\" inbox --config \"$1\"")
        .arg(env!("CARGO_BIN_EXE_cairn"))
        .arg(config);
    // SAFETY: between fork and exec, only the async-signal-safe dup2 and fcntl.
    unsafe {
        command.pre_exec(move || {
            let kept = if fd == 3 {
                libc::fcntl(3, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, 3)
            };
            if kept == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    InboxProcess::spawn(command)
}

fn comment() -> serde_json::Value {
    serde_json::json!({"thread": "/posts/hello-world/", "author": "Ann", "body": "Found it."})
}

/// `cairn inbox` with the config in `dir`, as a service whose notifications
/// `manager` hears, with `env` added to its environment.
fn notifying(dir: &Path, manager: &Manager, env: &[(&str, &str)]) -> InboxProcess {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
    command
        .args(["inbox", "--listen", "127.0.0.1:0", "--config"])
        .arg(dir.join("cairn.toml"))
        .env("NOTIFY_SOCKET", &manager.path)
        .envs(env.iter().copied());
    InboxProcess::spawn(command)
}

#[test]
fn the_inbox_tells_systemd_when_it_is_ready_reloading_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let manager = Manager::new(dir.path());
    let inbox = notifying(dir.path(), &manager, &[]);
    let log = || inbox.log.lock().unwrap().clone();

    // Ready once it listens, and the status says where.
    let ready = manager.next(&log);
    assert!(ready.contains(&"READY=1".to_string()), "{ready:?}");
    assert!(
        ready.contains(&format!("STATUS=listening on http://{}", inbox.addr)),
        "{ready:?}"
    );
    post_accepted(&inbox.addr, &comment());

    // A reload (systemctl reload: SIGHUP) begins with RELOADING=1 and the monotonic
    // clock's time, as systemd requires of a notify-reload service, and ends ready.
    inbox.hangup();
    let reloading = manager.next(&log);
    assert!(
        reloading.contains(&"RELOADING=1".to_string()),
        "{reloading:?}"
    );
    assert!(
        reloading.iter().any(|l| l
            .strip_prefix("MONOTONIC_USEC=")
            .is_some_and(|t| t.parse::<u64>().is_ok_and(|t| t > 0))),
        "{reloading:?}"
    );
    let reloaded = manager.next(&log);
    assert!(reloaded.contains(&"READY=1".to_string()), "{reloaded:?}");
    assert!(
        reloaded.contains(&format!(
            "STATUS=listening on http://{}; config reloaded",
            inbox.addr
        )),
        "{reloaded:?}"
    );

    // A reload of a broken file keeps the rules in force, and the status (what
    // `systemctl status` shows) says so: a reload cannot fail in systemd's eyes.
    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{good}[form]\nmax_body = \"long\"\n")).unwrap();
    inbox.hangup();
    assert!(manager.next(&log).contains(&"RELOADING=1".to_string()));
    let failed = manager.next(&log);
    assert!(failed.contains(&"READY=1".to_string()), "{failed:?}");
    assert!(
        failed.iter().any(|l| l.starts_with("STATUS=")
            && l.contains("the last reload failed, the rules in force stay")),
        "{failed:?}"
    );
    post_accepted(
        &inbox.addr,
        &serde_json::json!({"thread": "/posts/hello-world/", "body": "Still open."}),
    );

    // SIGTERM (systemctl stop): STOPPING=1, then a clean exit.
    let said = inbox.log.clone();
    assert!(inbox.stop().success());
    assert_eq!(
        manager.next(&|| said.lock().unwrap().clone()),
        ["STOPPING=1"]
    );
}

/// With `WatchdogSec=` in its unit (`WATCHDOG_USEC` in its environment), the inbox
/// tells systemd over and over that it is well, while it takes comments, so the
/// watchdog never restarts a working inbox.
/// Whoever reads that the inbox listens may ask it to reload at once (a deploy script,
/// a test): by then the handler is in place, every time, and the signal's default
/// (ending the process) never applies.
#[test]
fn a_reload_asked_as_soon_as_the_inbox_says_it_listens_reloads_it() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    for _ in 0..20 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["inbox", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .env("CAIRN_SECRET", TEST_SECRET)
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let pid = rustix::process::Pid::from_child(&child);
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut said = String::new();
        let mut reloaded = false;
        for line in lines.by_ref().map_while(Result::ok) {
            said += &line;
            said.push('\n');
            if line.contains("listening on http://") {
                rustix::process::kill_process(pid, rustix::process::Signal::HUP).unwrap();
            }
            if line.contains("reloaded") {
                reloaded = true;
                break;
            }
        }
        let _ = child.kill();
        let status = child.wait().unwrap();
        assert!(reloaded, "{status}; the inbox said:\n{said}");
    }
}

#[test]
fn the_inbox_tells_systemds_watchdog_it_is_well() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path());
    let manager = Manager::new(dir.path());
    let inbox = notifying(dir.path(), &manager, &[("WATCHDOG_USEC", "1000000")]);
    let log = || inbox.log.lock().unwrap().clone();
    assert!(manager.next(&log).contains(&"READY=1".to_string()));
    for n in 0..3 {
        post_accepted(
            &inbox.addr,
            &serde_json::json!({"thread": "/posts/hello-world/", "body": format!("Comment {n}.")}),
        );
        assert_eq!(manager.next(&log), ["WATCHDOG=1"]);
    }
    assert!(
        log().contains("systemd's watchdog is told every 500 ms"),
        "{}",
        log()
    );
    assert!(inbox.stop().success());
}

#[test]
fn the_inbox_serves_the_socket_systemd_passes_from_the_first_connection_on() {
    let Some(activate) = tool("systemd-socket-activate") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let addr = format!("127.0.0.1:{}", free_port());
    // systemd's own tool listens, as cairn-inbox.socket does, and starts the inbox with
    // the socket (LISTEN_FDS, LISTEN_PID) when the first connection comes. The inbox's
    // own --listen, a port already taken, must not be what it serves on.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut command = Command::new(activate);
    command
        .args([
            "--listen",
            &addr,
            "-E",
            "CAIRN_SECRET",
            "-E",
            "RUST_LOG",
            "--",
        ])
        .arg(env!("CARGO_BIN_EXE_cairn"))
        .args([
            "inbox",
            "--listen",
            &taken.local_addr().unwrap().to_string(),
        ])
        .arg("--config")
        .arg(&config);
    // The first reader's comment, sent as soon as the socket listens: before the inbox
    // runs, so the kernel holds the connection until the inbox takes it.
    let first = {
        let addr = addr.clone();
        std::thread::spawn(move || {
            wait_for("systemd-socket-activate listens", 30, || {
                std::net::TcpStream::connect(&addr).is_ok()
            });
            post_json(&addr, &comment())
        })
    };
    let inbox = InboxProcess::spawn(command);
    let answer = first.join().unwrap().unwrap();
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(inbox.addr, addr);
    let log = inbox.log.lock().unwrap().clone();
    assert!(log.contains("serving the socket systemd passed"), "{log}");
    assert!(
        log.contains(&format!(
            "--listen {} is not used",
            taken.local_addr().unwrap()
        )),
        "{log}"
    );
    post_accepted(
        &inbox.addr,
        &serde_json::json!({"thread": "/posts/hello-world/", "body": "And me."}),
    );
    inbox.wait_delivered(60);
    let branches = git(
        &dir.path().join("site.git"),
        &["branch", "--list", "cairn/*"],
    );
    assert_eq!(branches.lines().count(), 2, "{branches}");
    assert!(inbox.stop().success());
}

#[test]
fn a_passed_file_that_is_no_listening_tcp_socket_is_refused_with_the_fix() {
    let Some(activate) = tool("systemd-socket-activate") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let path = dir.path().join("inbox.sock");
    // Stopped when the test ends, however it ends.
    let mut inbox = Stopped(
        Command::new(activate)
            .arg("--listen")
            .arg(&path)
            .args(["-E", "CAIRN_SECRET", "--"])
            .arg(env!("CARGO_BIN_EXE_cairn"))
            .args(["inbox", "--config"])
            .arg(&config)
            .env("CAIRN_SECRET", TEST_SECRET)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    wait_for("the socket", 30, || path.exists());
    // A connection starts the inbox, which finds a Unix socket where it needs TCP.
    let _reader = std::os::unix::net::UnixStream::connect(&path).unwrap();
    let mut status = None;
    wait_for("the inbox to stop", 30, || {
        status = inbox.0.try_wait().unwrap();
        status.is_some()
    });
    let mut said = String::new();
    std::io::Read::read_to_string(inbox.0.stderr.as_mut().unwrap(), &mut said).unwrap();
    assert_eq!(status.and_then(|s| s.code()), Some(2), "{said}");
    assert!(
        said.contains(
            "the socket systemd passed (LISTEN_FDS) is no TCP socket: the inbox's socket \
             unit takes ListenStream=ADDRESS:PORT"
        ),
        "{said}"
    );
}

#[test]
fn readers_who_post_while_the_inbox_restarts_are_answered_once_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    // systemd's part: the socket, held open across the restart.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap().to_string();
    let first = start_on(&held, &config);
    assert_eq!(first.addr, addr);
    post_accepted(&addr, &comment());
    assert!(first.stop().success());

    // No inbox runs: these readers' connections wait in the socket's queue.
    let waiting: Vec<_> = (0..3)
        .map(|n| {
            let stream = std::net::TcpStream::connect(&addr).unwrap();
            let addr = addr.clone();
            std::thread::spawn(move || {
                let text = format!("Posted while the inbox restarted, {n}.");
                let json = serde_json::json!({"thread": "/posts/hello-world/", "body": text});
                let headers = [("Content-Type", "application/json")];
                http_on(
                    stream,
                    &addr,
                    "POST",
                    "/v1/comments",
                    &headers,
                    json.to_string().as_bytes(),
                )
            })
        })
        .collect();
    let second = start_on(&held, &config);
    for reader in waiting {
        let answer = reader.join().unwrap().unwrap();
        assert_eq!(answer.status, 202, "{}", answer.body);
    }
    second.wait_delivered(60);
    let branches = git(
        &dir.path().join("site.git"),
        &["branch", "--list", "cairn/*"],
    );
    assert_eq!(branches.lines().count(), 4, "{branches}");
    assert!(second.stop().success());
}
