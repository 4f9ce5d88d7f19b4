//! Helpers shared by the integration tests: run the real `cairn` binary, copy
//! fixtures into temp dirs, and find the real external tools the tests drive.

#![allow(dead_code)]

pub mod fake_forge;
pub mod fake_graphql;
#[path = "../../src/testing.rs"]
pub mod testing;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `cairn` with `args` in `dir`.
pub fn cairn(dir: &Path, args: &[&str]) -> Output {
    cairn_with(dir, args, &[])
}

/// Runs `cairn` with `args` in `dir`, with extra environment variables. Its cache
/// (`cairn moderate`'s mirrors) is the tests' own, not the user's, and a forge token
/// in the environment that runs the tests is not passed on.
pub fn cairn_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    command(dir, args, env).output().expect("cairn runs")
}

/// Runs `cairn` with `args` in `dir`, `input` on its stdin (as [`cairn`] does).
pub fn cairn_input(dir: &Path, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = command(dir, args, &[])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cairn runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    child.wait_with_output().expect("cairn runs")
}

/// The command that runs `cairn` for [`cairn_with`] and [`cairn_input`].
pub fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
    command
        .args(args)
        .env_remove("GITHUB_TOKEN")
        .env_remove("CAIRN_FORGE_TOKEN")
        .env(
            "XDG_CACHE_HOME",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/cache"),
        )
        .envs(env.iter().copied())
        .current_dir(dir);
    command
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Writes a comment file (YAML `text`) into the comments directory of the site in
/// `dir`, in the directory of `thread`, named by `id`.
pub fn write_comment(dir: &Path, thread: &str, id: &str, text: &str) {
    let at = dir.join("comments").join(thread);
    std::fs::create_dir_all(&at).unwrap();
    std::fs::write(at.join(format!("{id}.yml")), text).unwrap();
}

/// A copy of the site `tests/fixtures/<fixture>`, set up with `cairn init ARGS`, and
/// what init printed, which holds each of `lines`.
pub fn init_fixture(fixture: &str, args: &[&str], lines: &[&str]) -> (tempfile::TempDir, String) {
    let site = tempfile::tempdir().unwrap();
    copy_tree(&root().join("tests/fixtures").join(fixture), site.path());
    let init = cairn(site.path(), &[&["init"], args].concat());
    assert!(init.status.success(), "{}", stderr(&init));
    let printed = stdout(&init);
    for line in lines {
        assert!(printed.contains(line), "{line:?} in {printed}");
    }
    (site, printed)
}

/// Writes a French comment (by Zoé, id `01KB00000000000000000000FR`) on `thread`,
/// a path without its slashes at the ends, as [`write_comment`] takes it.
pub fn write_french_comment(dir: &Path, thread: &str) {
    let text = format!(
        "id: 01KB00000000000000000000FR\nthread: /{thread}{}\ndate: 2026-04-03T09:00:00Z\n\
         author: Zoé\nbody: Chez moi aussi, *partout*.\n",
        if thread.ends_with(".html") { "" } else { "/" }
    );
    write_comment(dir, thread, "01KB00000000000000000000FR", &text);
}

/// Asserts that the built `page` shows [`write_french_comment`]'s comment, and the
/// form, in French, and that the `list` page counts it in French.
pub fn assert_in_french(output: &Path, page: &str, list: &str) {
    let page = std::fs::read_to_string(output.join(page)).unwrap();
    let section = comments_section(&page);
    for french in [
        "1 commentaire",
        "<em>partout</em>",
        "Laisser un commentaire",
        "name=\"lang\" value=\"fr\"",
    ] {
        assert!(section.contains(french), "{french} in {section}");
    }
    assert!(!section.contains("Leave a comment"), "{section}");
    let list = std::fs::read_to_string(output.join(list)).unwrap();
    assert!(list.contains(">1 commentaire</span>"), "{list}");
}

/// Runs `cairn render` with no arguments on the site in `dir`, which must render
/// without problems and say `rendered` ("N comments rendered on M pages") in its
/// summary; then again, which must change nothing in `output`, the built site.
pub fn render_twice(dir: &Path, output: &Path, rendered: &str) {
    let out = cairn(dir, &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = stdout(&out);
    assert!(
        summary.contains(rendered) && summary.contains(" 0 problems"),
        "{summary}"
    );
    let before = snapshot_tree(output);
    let again = cairn(dir, &["render"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(snapshot_tree(output), before, "render is idempotent");
}

/// The rendered comments section of `page`, from its placeholder on (its id quoted,
/// or not as in minified HTML).
pub fn comments_section(page: &str) -> &str {
    let at = ["id=\"cairn-comments\"", "id=cairn-comments"]
        .iter()
        .find_map(|id| page.find(id))
        .expect("the placeholder");
    &page[at..]
}

/// The id of the site tests' hostile reply.
pub const HOSTILE_REPLY: &str = "01KB00000000000000000000BB";

/// Writes the site tests' hostile reply (an `<img onerror>`, a `javascript:` link, a
/// script) to comment `01KB00000000000000000000AA` of `thread` (its directory in the
/// comments tree; the thread is its path), dated `date`.
pub fn write_hostile_reply(dir: &Path, thread: &str, date: &str) {
    let text = format!(
        "id: {HOSTILE_REPLY}\nthread: /{thread}{slash}\nparent: 01KB00000000000000000000AA\n\
         date: {date}\nauthor: Jo\nbody: |\n  <img src=x onerror=alert(1)> \
         [click](javascript:alert(2)) <script>alert(3)</script>\n",
        slash = if thread.ends_with(".html") { "" } else { "/" },
    );
    write_comment(dir, thread, HOSTILE_REPLY, &text);
}

/// Asserts what the site tests' two comments show in a rendered section: the hostile
/// reply ([`write_hostile_reply`]) nested under the comment whose body starts
/// `parent_text`, and its markup inert.
pub fn assert_nested_and_inert(section: &str, parent_text: &str) {
    let parent = section.find(parent_text).expect("the comment");
    let reply = section
        .find(&format!("id=\"c-{HOSTILE_REPLY}\""))
        .expect("the reply");
    assert!(
        section[parent..reply].contains("<ol class=\"cairn-replies\">"),
        "the reply is nested under the comment"
    );
    for inert in [
        "<img",
        "onerror",
        "javascript:",
        "<script>alert",
        "alert(3)",
    ] {
        assert!(!section.contains(inert), "{inert} in {section}");
    }
}

/// Reads the page of `thread` in the rendered site `output` (`index.html` in the
/// thread's directory, or the file it names) and asserts what each site test's page
/// shows: `title` (its count of comments, in the site's language) over the test's
/// comment, whose body starts `parent_text` and has `code` in backticks, with the
/// hostile reply nested and inert ([`assert_nested_and_inert`]); a form that posts the
/// thread; the stylesheet, linked relative to the page and written; the page's feed
/// next to it. Returns the page.
pub fn assert_rendered_page(
    output: &Path,
    thread: &str,
    title: &str,
    code: &str,
    parent_text: &str,
) -> String {
    let rel = thread.trim_start_matches('/');
    let (file, feed) = match rel.strip_suffix(".html") {
        Some(stem) => (rel.to_string(), format!("{stem}.comments.xml")),
        None => (format!("{rel}index.html"), format!("{rel}comments.xml")),
    };
    let page = std::fs::read_to_string(output.join(&file)).unwrap();
    let section = comments_section(&page);
    assert!(section.contains(title), "{title} in {section}");
    assert!(
        section.contains(&format!("<code>{code}</code>")),
        "{section}"
    );
    assert_nested_and_inert(section, parent_text);
    assert!(
        section.contains(&format!("name=\"thread\" value=\"{thread}\"")),
        "{section}"
    );
    let up = "../".repeat(file.matches('/').count());
    assert!(page.contains(&format!("href=\"{up}cairn.css\"")), "{page}");
    assert!(output.join("cairn.css").is_file() && output.join("cairn.js").is_file());
    assert!(output.join(&feed).is_file(), "{feed}");
    page
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The example site's sources in a fresh temp dir (without its prebuilt output).
pub fn example_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join("example-site"), dir.path());
    std::fs::remove_dir_all(dir.path().join("prebuilt")).unwrap();
    dir
}

/// Path of an external tool the test needs. Under CI (where `.ci/run` installs it)
/// a missing tool fails the test; elsewhere the test is skipped with a note.
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is not installed; .ci/run must install it"
        );
        eprintln!("skipping: {name} is not installed (apt-get install {name})");
    }
    found
}

/// The directory `tests/{dir}`, whose npm packages `.ci/run` installs with
/// `npm ci --prefix tests/{dir}`, when `package` is installed there (and Node is). Under
/// CI a missing one fails the test; elsewhere the test is skipped with a note.
pub fn npm_packages(dir: &str, package: &str) -> Option<PathBuf> {
    let dir_path = root().join("tests").join(dir);
    if !dir_path.join("node_modules").join(package).is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{package} is not installed; .ci/run must run `npm ci --prefix tests/{dir}`"
        );
        eprintln!("skipping: run `npm ci --prefix tests/{dir}` to install {package}");
        return None;
    }
    tool("node")?;
    Some(dir_path)
}

/// A file or directory that `.ci/test-deps` fetches into `target/test-deps`. Under CI
/// (where `.ci/run` fetches them) a missing one fails the test; elsewhere the test is
/// skipped with a note.
pub fn test_dep(relative: &str) -> Option<PathBuf> {
    let path = root().join("target/test-deps").join(relative);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing; .ci/run must run .ci/test-deps",
        path.display()
    );
    eprintln!(
        "skipping: {} is missing (run .ci/test-deps)",
        path.display()
    );
    None
}

/// A file of the shared corpora of real comment data (see [`corpus`]); `None` (skip,
/// with a note) when the corpora are not on this machine.
pub fn corpus_file(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("CAIRN_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/corpora"));
    let path = dir.join(name);
    if !path.is_file() {
        eprintln!("skipping: corpus {} is not on this machine", path.display());
        return None;
    }
    Some(path)
}

/// A shared corpus of real comment data (`$CAIRN_CORPORA`, default `../shared/corpora`
/// beside the repository), unpacked into a temp dir; `None` (skip, with a note) when
/// the corpora are not on this machine: they live outside the repository.
pub fn corpus(archive: &str) -> Option<tempfile::TempDir> {
    let path = corpus_file(archive)?;
    let out = tempfile::tempdir().unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&path)
        .arg("-C")
        .arg(out.path())
        .status()
        .expect("tar runs");
    assert!(status.success(), "cannot unpack {}", path.display());
    Some(out)
}

/// Every file under `dir` with its bytes, for comparing whole trees.
pub fn snapshot_tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().to_path_buf(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Checks each Atom feed against RFC 4287's rules (required elements and their
/// content) with Ruby's validating parser (Ruby comes with Jekyll); panics with the
/// reasons of those that break one. Skipped where Ruby is not installed.
pub fn assert_valid_atom(feeds: &[PathBuf]) {
    let Some(ruby) = tool("ruby") else { return };
    let script = r##"
        require "rss"
        bad = ARGV.filter_map do |f|
          feed = RSS::Parser.parse(File.read(f), true, false)
          "#{f}: not an Atom feed" unless feed.is_a?(RSS::Atom::Feed)
        rescue => e
          "#{f}: #{e.class}: #{e.message}"
        end
        puts bad
    "##;
    let out = std::process::Command::new(ruby)
        .args(["-e", script])
        .args(feeds)
        .output()
        .unwrap();
    assert!(out.status.success(), "ruby: {}", stderr(&out));
    assert_eq!(stdout(&out), "", "feeds Atom's rules refuse");
}

/// Parses an XML document completely; panics with the reason if it is not well-formed.
pub fn parse_xml(text: &str) -> Vec<String> {
    // quick-xml does not look at the characters: XML 1.0 allows only these (its `Char`).
    if let Some((at, c)) = text.char_indices().find(|&(_, c)| {
        !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
    }) {
        panic!("not well-formed XML: {c:?} at byte {at}\n{text}");
    }
    let mut reader = quick_xml::Reader::from_str(text);
    let mut names = Vec::new();
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(e)) | Ok(quick_xml::events::Event::Empty(e)) => {
                names.push(String::from_utf8_lossy(e.name().as_ref()).into_owned())
            }
            Ok(_) => {}
            Err(e) => panic!(
                "not well-formed XML at {}: {e}\n{text}",
                reader.buffer_position()
            ),
        }
    }
    names
}

/// The example site committed in `dir/src` and cloned bare to `dir/site.git`: a site
/// repository with a remote an inbox can deliver to. Returns the remote's path.
pub fn example_remote(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    copy_tree(&root().join("example-site"), &src);
    git(&src, &["init", "-q", "-b", "main"]);
    git(&src, &["add", "-A"]);
    git(&src, &["commit", "-q", "-m", "The site"]);
    git(dir, &["clone", "-q", "--bare", "src", "site.git"]);
    dir.join("site.git")
}

/// A child process stopped when the test ends, however it ends: asked to stop
/// (SIGTERM), so a server with worker processes (nginx) takes them down with it, and
/// killed when it has not stopped within five seconds.
pub struct Stopped(pub std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        stop_child(&mut self.0);
    }
}

/// Asks a child that is still running to stop (SIGTERM), and kills it when it has not
/// stopped within five seconds.
pub fn stop_child(child: &mut std::process::Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) on our own child, which has not been waited for yet.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A loopback port free right now, for a tool that cannot listen on port 0 itself.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `git` with `args` in `dir` and returns its stdout; panics when it fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Site Owner")
        .env("GIT_AUTHOR_EMAIL", "owner@localhost")
        .env("GIT_COMMITTER_NAME", "Site Owner")
        .env("GIT_COMMITTER_EMAIL", "owner@localhost")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    stdout(&out)
}

/// An HTTP answer: status, headers (lower-case names) and body.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request over a fresh loopback connection.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Answer> {
    http_on(
        std::net::TcpStream::connect(addr)?,
        addr,
        method,
        path,
        headers,
        body,
    )
}

/// A loopback connection to `addr` from the loopback address `from` (`127.0.0.2`, say:
/// another client, as the server sees it).
pub fn connect_from(from: &str, addr: &str) -> std::net::TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(std::net::SocketAddr::new(from.parse().unwrap(), 0))
            .unwrap();
        let stream = socket.connect(addr.parse().unwrap()).await.unwrap();
        let stream = stream.into_std().unwrap();
        stream.set_nonblocking(false).unwrap();
        stream
    })
}

/// [`http`] over `stream`, a connection to `addr`.
pub fn http_on(
    mut stream: std::net::TcpStream,
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Answer> {
    use std::io::{Read, Write};
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no HTTP answer: {text:?}")))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line: {head}")))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Answer {
        status,
        headers,
        body: body.to_string(),
    })
}

/// The head of the HTTP request `reader` holds (its request line and headers, each line
/// with its CRLF), read up to the blank line that ends it.
fn read_head(reader: &mut impl std::io::BufRead) -> String {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            return head;
        }
        head.push_str(&line);
    }
}

/// An HTTP endpoint on 127.0.0.1 (a webhook, a spam checker): it answers each request
/// `200` with `respond(body)` as JSON, and keeps every request's head and body, in order.
pub type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

pub fn receiver(respond: impl Fn(&str) -> String + Send + 'static) -> (String, Received) {
    let (root, got) = server(move |_, body| respond(body));
    (format!("{root}/hook"), got)
}

/// An HTTP server on 127.0.0.1 that answers each request `200` with `respond(head,
/// body)` as JSON (the head starts with the request line, `GET /path?query HTTP/1.1`),
/// and keeps every request's head and body, in order. Returns its root URL.
pub fn server(respond: impl Fn(&str, &str) -> String + Send + 'static) -> (String, Received) {
    use std::io::{BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let got = Received::default();
    let sink = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let mut reader = BufReader::new(stream);
            let head = read_head(&mut reader);
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let body = String::from_utf8_lossy(&body).into_owned();
            let answer = respond(&head, &body);
            sink.lock().unwrap().push((head, body));
            let _ = reader.get_mut().write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                )
                .as_bytes(),
            );
        }
    });
    (url, got)
}

/// Packs the binary under test as the release workflow packs a build for `target`
/// (`.ci/package`), as each of the releases `tags` of cairn-comments/cairn under
/// `releases` (laid out for [`release_server`]); returns the archive of the first. Its
/// checksum file must verify.
pub fn package_release(releases: &Path, tags: &[&str], target: &str) -> PathBuf {
    let download = releases.join("cairn-comments/cairn/releases/download");
    let dir = download.join(tags[0]);
    let out = Command::new(root().join(".ci/package"))
        .args([target, env!("CARGO_BIN_EXE_cairn")])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let archive = format!("cairn-{target}.tar.gz");
    let check = Command::new("sha256sum")
        .args(["-c", &format!("{archive}.sha256")])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stdout(&check));
    for tag in &tags[1..] {
        copy_tree(&dir, &download.join(tag));
    }
    dir.join(archive)
}

/// Release downloads as GitHub serves them, on 127.0.0.1: `GET
/// /OWNER/REPO/releases/download/TAG/NAME` answers `302` to where the file is stored (on
/// the same server here), which answers with the file under `root` at
/// `OWNER/REPO/releases/download/TAG/NAME`; anything else is `404`. Returns the server's
/// URL, which stands for `https://github.com`.
pub fn release_server(root: &Path) -> String {
    use std::io::{BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let root = root.to_path_buf();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let mut reader = BufReader::new(stream);
            let head = read_head(&mut reader);
            let path = head.split(' ').nth(1).unwrap_or_default();
            let file = |p: &str| {
                Some(root.join(p.strip_prefix('/')?)).filter(|f| {
                    !p.contains("..") && p.contains("/releases/download/") && f.is_file()
                })
            };
            let (head, body) = match (path.strip_prefix("/stored"), file(path)) {
                (Some(stored), _) => match file(stored) {
                    Some(f) => ("200 OK".to_string(), std::fs::read(f).unwrap()),
                    None => ("404 Not Found".to_string(), Vec::new()),
                },
                (None, Some(_)) => (format!("302 Found\r\nLocation: /stored{path}"), Vec::new()),
                (None, None) => ("404 Not Found".to_string(), b"Not Found".to_vec()),
            };
            let stream = reader.get_mut();
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 {head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            let _ = stream.write_all(&body);
        }
    });
    url
}

/// The path and query of an author's private link in a page or JSON answer.
pub fn own_link(text: &str) -> String {
    let at = text.find("/v1/own/").expect("a private link");
    let end = text[at..]
        .find(|c: char| c == '"' || c == '<' || c.is_whitespace())
        .unwrap_or(text.len() - at);
    text[at..at + end].replace("&amp;", "&")
}

/// POSTs form fields, as a browser on `origin` would.
pub fn post_form(addr: &str, origin: &str, fields: &[(&str, &str)]) -> std::io::Result<Answer> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    http(
        addr,
        "POST",
        "/v1/comments",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", origin),
        ],
        body.as_bytes(),
    )
}

/// POSTs a JSON submission the inbox must accept (202), and gives its id.
pub fn post_accepted(addr: &str, json: &serde_json::Value) -> String {
    let answer = post_json(addr, json).unwrap();
    assert_eq!(answer.status, 202, "{}", answer.body);
    let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    body["id"]
        .as_str()
        .expect("the answer has the id")
        .to_string()
}

/// POSTs a JSON reply to `parent` and asserts that the inbox refuses it for its parent
/// (400, field `parent`).
pub fn assert_no_parent(addr: &str, thread: &str, parent: &str) {
    let answer = post_json(
        addr,
        &serde_json::json!({"thread": thread, "parent": parent, "author": "Di", "body": "Me too."}),
    )
    .unwrap();
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer.body.contains("\"field\":\"parent\""),
        "{}",
        answer.body
    );
}

/// POSTs a JSON submission.
pub fn post_json(addr: &str, json: &serde_json::Value) -> std::io::Result<Answer> {
    http(
        addr,
        "POST",
        "/v1/comments",
        &[("Content-Type", "application/json")],
        json.to_string().as_bytes(),
    )
}

/// Makes the inbox of the config at `path` park a comment after one failed attempt
/// (after the `rate_per_hour = 0` line the test configs have in `[inbox]`).
pub fn park_after_one_attempt(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains("rate_per_hour = 0\n"), "{text}");
    let text = text.replace(
        "rate_per_hour = 0\n",
        "rate_per_hour = 0\nmax_attempts = 1\n",
    );
    std::fs::write(path, text).unwrap();
}

/// Waits until `ready` holds, checking every 50 ms; panics with `what` after `secs`.
pub fn wait_for(what: &str, secs: u64, ready: impl FnMut() -> bool) {
    wait_explained(what, secs, ready, String::new);
}

/// [`wait_for`], with what `explain` says (a process's log, say) in the panic.
pub fn wait_explained(
    what: &str,
    secs: u64,
    mut ready: impl FnMut() -> bool,
    explain: impl Fn() -> String,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !ready() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            explain()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A running `cairn inbox` process on a port-0 listener; killed when dropped.
pub struct InboxProcess {
    pub child: std::process::Child,
    pub addr: String,
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
}

pub const TEST_SECRET: &str = "test-secret-0123456789";

impl InboxProcess {
    pub fn start(config: &Path) -> InboxProcess {
        InboxProcess::start_on(config, "127.0.0.1:0")
    }

    /// Starts it on `listen`, for configs whose `inbox.url` must name the real port.
    pub fn start_on(config: &Path, listen: &str) -> InboxProcess {
        let config = config.to_string_lossy();
        InboxProcess::start_with(&["--listen", listen, "--config", &config])
    }

    /// Runs `cairn inbox ARGS`, with the test secret in `CAIRN_SECRET`.
    pub fn start_with(args: &[&str]) -> InboxProcess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
        command.arg("inbox").args(args);
        InboxProcess::spawn(command)
    }

    /// Runs `cairn inbox ARGS` through `sh`, which first runs `setup` (e.g. `ulimit`).
    pub fn start_after(setup: &str, args: &[&str]) -> InboxProcess {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("{setup} && exec \"$0\" inbox \"$@\""))
            .arg(env!("CARGO_BIN_EXE_cairn"))
            .args(args);
        InboxProcess::spawn(command)
    }

    /// Starts `command`, a `cairn inbox` (or another cairn command that serves HTTP and
    /// says where it listens as the inbox does), with the test secret in `CAIRN_SECRET`.
    pub fn spawn(mut command: Command) -> InboxProcess {
        use std::io::BufRead;
        let mut child = command
            .env("CAIRN_SECRET", TEST_SECRET)
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("cairn inbox starts");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::io::BufReader::new(child.stdout.take().unwrap());
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(addr.trim().to_string());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let addr = match rx.recv_timeout(std::time::Duration::from_secs(30)) {
            Ok(addr) => addr,
            Err(_) => panic!("the inbox did not start:\n{}", log.lock().unwrap()),
        };
        InboxProcess { child, addr, log }
    }

    /// The spool's counts by state, from the health endpoint.
    pub fn spool(&self) -> serde_json::Value {
        let answer = http(&self.addr, "GET", "/v1/health", &[], b"").expect("health answers");
        serde_json::from_str::<serde_json::Value>(&answer.body).unwrap()["spool"].clone()
    }

    /// Waits until nothing is waiting to be delivered.
    pub fn wait_delivered(&self, secs: u64) {
        self.wait_spool("delivery", secs, |spool| {
            spool["queued"] == 0 && spool["delivering"] == 0
        });
    }

    /// Waits until every comment is delivered: none waiting, none parked.
    pub fn wait_all_delivered(&self, secs: u64) {
        self.wait_spool("every comment to be delivered", secs, |spool| {
            spool["queued"] == 0 && spool["delivering"] == 0 && spool["failed"] == 0
        });
    }

    /// Waits until the spool's counts are `done`; the panic shows them and the log.
    fn wait_spool(&self, what: &str, secs: u64, done: impl Fn(&serde_json::Value) -> bool) {
        wait_explained(
            what,
            secs,
            || done(&self.spool()),
            || {
                format!(
                    "spool: {}; the inbox said:\n{}",
                    self.spool(),
                    self.log.lock().unwrap()
                )
            },
        );
    }

    /// Sends SIGHUP, as `systemctl reload` does: the inbox reads its config again.
    pub fn hangup(&self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-HUP", &pid]).status().unwrap();
        assert!(sent.success());
    }

    /// Stops the process with SIGTERM and waits for it, as a service manager would.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for InboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `cairn demo`, with what it printed; stopped when dropped, so it removes
/// its temporary workspace.
pub struct DemoProcess {
    pub child: std::process::Child,
    /// What the demo printed after its introduction (its log).
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
    /// The page the demo invites a comment on.
    pub page_url: String,
    /// The config to pass to `cairn moderate`.
    pub config: String,
    pub workspace: String,
}

impl DemoProcess {
    pub fn start() -> DemoProcess {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .arg("demo")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("cairn demo starts");
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut intro = String::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            intro.push_str(&line);
            intro.push('\n');
            if line.starts_with("Press Ctrl-C") {
                break;
            }
        }
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let after = |marker: &str| {
            let rest = intro
                .split(marker)
                .nth(1)
                .unwrap_or_else(|| panic!("no `{marker}` in the demo's intro:\n{intro}"));
            rest.split_whitespace().next().unwrap().to_string()
        };
        DemoProcess {
            log,
            page_url: after("1. Open "),
            config: after("moderate list --config "),
            workspace: after("workspace: "),
            child,
        }
    }

    /// Like [`wait_for`], with the demo's log in the message when it times out.
    pub fn wait_for(&self, what: &str, secs: u64, ready: impl FnMut() -> bool) {
        wait_explained(what, secs, ready, || {
            format!("the demo said:\n{}", self.log.lock().unwrap())
        });
    }

    /// The page's `host:port` and path.
    pub fn page(&self) -> (String, String) {
        let rest = self.page_url.trim_start_matches("http://");
        let (host, path) = rest.split_once('/').unwrap();
        (host.to_string(), format!("/{path}"))
    }
}

impl Drop for DemoProcess {
    fn drop(&mut self) {
        stop_child(&mut self.child);
    }
}

/// A self-signed certificate for `localhost`, written as cert.pem and key.pem.
pub fn localhost_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::hash::MessageDigest;
    use openssl::x509::extension::SubjectAlternativeName;
    use openssl::x509::{X509Builder, X509NameBuilder};
    let key = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "localhost").unwrap();
    let name = name.build();
    let mut x509 = X509Builder::new().unwrap();
    x509.set_version(2).unwrap();
    x509.set_serial_number(&BigNum::from_u32(1).unwrap().to_asn1_integer().unwrap())
        .unwrap();
    x509.set_subject_name(&name).unwrap();
    x509.set_issuer_name(&name).unwrap();
    x509.set_pubkey(&key).unwrap();
    x509.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    x509.set_not_after(&Asn1Time::days_from_now(2).unwrap())
        .unwrap();
    let san = SubjectAlternativeName::new()
        .dns("localhost")
        .build(&x509.x509v3_context(None, None))
        .unwrap();
    x509.append_extension(san).unwrap();
    x509.sign(&key, MessageDigest::sha256()).unwrap();
    let (cert, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, x509.build().to_pem().unwrap()).unwrap();
    std::fs::write(&key_path, key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    (cert, key_path)
}

/// Caddy serving `sites` (a Caddyfile's site blocks for the port given), with its state
/// in `dir`, once `ready(port)`; stopped when dropped. A port picked free may be taken
/// again before Caddy binds it (tests run side by side): Caddy then exits, and is
/// started again on another. The caller checks first that `tool("caddy")` is there.
pub fn run_caddy(
    dir: &Path,
    sites: impl Fn(u16) -> String,
    mut ready: impl FnMut(u16) -> bool,
) -> (Stopped, u16) {
    let caddy = tool("caddy").expect("caddy is installed");
    let env = [
        ("HOME", dir.to_path_buf()),
        ("XDG_DATA_HOME", dir.join("data")),
        ("XDG_CONFIG_HOME", dir.join("config")),
    ];
    for attempt in 1.. {
        let port = free_port();
        let config = dir.join("Caddyfile");
        std::fs::write(
            &config,
            format!(
                "{{\n\tadmin off\n\tskip_install_trust\n\tstorage file_system {}\n\thttp_port {}\n}}\n{}",
                dir.join("caddy").display(),
                free_port(),
                sites(port)
            ),
        )
        .unwrap();
        let validate = Command::new(&caddy)
            .args(["validate", "--adapter", "caddyfile", "--config"])
            .arg(&config)
            .envs(env.iter().map(|(k, v)| (*k, v)))
            .output()
            .unwrap();
        assert!(
            validate.status.success(),
            "caddy validate: {}",
            stderr(&validate)
        );
        let log = dir.join(format!("caddy-{attempt}.log"));
        let mut server = Stopped(
            Command::new(&caddy)
                .args(["run", "--adapter", "caddyfile", "--config"])
                .arg(&config)
                .envs(env.iter().map(|(k, v)| (*k, v)))
                .stdout(std::process::Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .unwrap(),
        );
        let mut exited = false;
        wait_explained(
            "caddy to answer",
            30,
            || {
                exited = matches!(server.0.try_wait(), Ok(Some(_)));
                exited || ready(port)
            },
            || std::fs::read_to_string(&log).unwrap_or_default(),
        );
        if !exited {
            return (server, port);
        }
        assert!(
            attempt < 3,
            "caddy stopped: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
    unreachable!()
}

/// nginx serving `http` (what goes in its `http` block) from `dir/nginx.conf`, with its
/// state in `dir/nginx/`, once it listens on `port`; stopped when dropped. The caller
/// checks first that `tool("nginx")` is there.
pub fn run_nginx(dir: &Path, http: &str, port: u16) -> Stopped {
    run_nginx_with(dir, "", http, port)
}

/// Debian's build of nginx's Brotli module for precompressed files, when installed
/// (`libnginx-mod-http-brotli-static`).
pub const NGINX_BROTLI_STATIC: &str = "/usr/lib/nginx/modules/ngx_http_brotli_static_module.so";

/// As [`run_nginx`], with `main` (such as `load_module` lines) at the top of the
/// configuration.
pub fn run_nginx_with(dir: &Path, main: &str, http: &str, port: u16) -> Stopped {
    let nginx = tool("nginx").expect("nginx is installed");
    let state = dir.join("nginx");
    std::fs::create_dir_all(&state).unwrap();
    let t = state.display();
    let config = dir.join("nginx.conf");
    std::fs::write(
        &config,
        format!(
            "{main}\ndaemon off;\nuser root;\npid {t}/nginx.pid;\nerror_log {t}/error.log;\nevents {{}}\n\
             http {{\naccess_log off;\nclient_body_temp_path {t}/body;\nproxy_temp_path {t}/proxy;\n\
             fastcgi_temp_path {t}/fastcgi;\nuwsgi_temp_path {t}/uwsgi;\nscgi_temp_path {t}/scgi;\n{http}\n}}\n"
        ),
    )
    .unwrap();
    let test = Command::new(&nginx)
        .arg("-t")
        .arg("-p")
        .arg(&state)
        .arg("-c")
        .arg(&config)
        .output()
        .unwrap();
    assert!(test.status.success(), "nginx -t: {}", stderr(&test));
    let server = Stopped(
        Command::new(&nginx)
            .arg("-p")
            .arg(&state)
            .arg("-c")
            .arg(&config)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_explained(
        "nginx to listen",
        20,
        || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        || std::fs::read_to_string(state.join("error.log")).unwrap_or_default(),
    );
    server
}

/// Serves the rendered site in `dir` as a host serves it (`cairn render --serve`), and
/// reads it in Chromium as tests/browser/spa.mjs does by `plan` (the site tests'
/// post "Moss on the north side" with its two comments, reached from the page with
/// counts); what the reader saw, after asserting what every such site shows:
/// - followed links are rendered by the site's script: the page is not loaded again,
///   and its placeholders come back empty; cairn.js fills them from the page's HTML file;
/// - the filled section's form is enhanced as a loaded page's is ("Reply" in place);
/// - back on the page with counts, rendered once more by the site's script, the counts
///   again;
/// - the post loaded directly keeps what cairn rendered through the site's hydration.
pub fn read_spa(dir: &Path, browser: &Path, plan: serde_json::Value) -> serde_json::Value {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
    command
        .current_dir(dir)
        .args(["render", "--serve=127.0.0.1:0"]);
    let server = InboxProcess::spawn(command);
    let out = Command::new("node")
        .arg(browser.join("spa.mjs"))
        .arg(format!("http://{}/", server.addr))
        .arg(plan.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let seen: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();

    assert_eq!(seen["sameDocument"], true, "{seen}");
    let section = seen["section"].as_str().unwrap();
    assert!(
        section.contains("2 comments")
            && section.contains("Mine grows on the south side.")
            && section.contains("Leave a comment"),
        "{seen}"
    );
    assert_eq!(seen["replyIn"], "c-01KB00000000000000000000AA", "{seen}");
    let post = plan["direct"].as_str().unwrap();
    assert!(
        seen["url"]
            .as_str()
            .unwrap()
            .contains(post.trim_end_matches(".html")),
        "Reply stayed on the page: {seen}"
    );
    assert_eq!(seen["countsAgain"], seen["counts"], "{seen}");
    let loaded = seen["loaded"].as_str().unwrap();
    assert!(loaded.contains("Mine grows on the south side."), "{seen}");
    assert_eq!(seen["styled"], true, "{seen}");
    seen
}
