//! Walking a directory tree in parallel: each directory is listed (and its files
//! handled) by one task and its subdirectories by others, so a tree of a hundred
//! thousand directories is not listed one directory after another.
//!
//! A directory is opened once, by its name relative to its parent's handle: the handle
//! that lists it is the one its files and subdirectories are opened through, so the
//! kernel looks each name up once, not a whole path per file.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rayon::prelude::*;
use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::fs::{FileType, Mode, OFlags};

/// One directory of the tree, as its visitor sees it.
pub struct Listing<'a> {
    /// The directory's path (the root's, joined with the names below it).
    pub path: &'a Path,
    /// The directory, open: files in it are opened relative to this.
    pub dir: BorrowedFd<'a>,
    /// The names of its regular files, sorted.
    pub files: Vec<OsString>,
    /// The names of its symbolic links, which are not followed, sorted.
    pub links: Vec<OsString>,
}

impl Listing<'_> {
    /// The path of one of its files.
    pub fn file_path(&self, name: &OsString) -> PathBuf {
        self.path.join(name)
    }

    /// Opens one of its files for reading.
    pub fn open(&self, name: impl AsRef<Path>) -> std::io::Result<std::fs::File> {
        self.open_with(name, OFlags::RDONLY)
    }

    /// Opens (or with `CREATE`, creates) a file in it, as `flags` say.
    pub fn open_with(
        &self,
        name: impl AsRef<Path>,
        flags: OFlags,
    ) -> std::io::Result<std::fs::File> {
        let mode = Mode::from_raw_mode(0o666);
        let fd = rustix::fs::openat(self.dir, name.as_ref(), flags | OFlags::CLOEXEC, mode)?;
        Ok(fd.into())
    }
}

/// Reads a regular file from where it stands to its end into `buf`, from `buf`'s start,
/// growing `buf` as needed (it keeps its length: the caller's scratch space); returns
/// how many bytes the file had. A read that returns less than it was asked for is the
/// end: POSIX promises that of regular files (short reads are for pipes, terminals and
/// sockets), so a file that fits takes one read, not a second one that returns nothing.
pub fn read_to_end(file: &mut std::fs::File, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    use std::io::Read;
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize((buf.len() * 2).max(4096), 0);
        }
        let asked = buf.len() - len;
        match file.read(&mut buf[len..]) {
            Ok(n) => {
                len += n;
                if n < asked {
                    return Ok(len);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A directory opened on its own, outside a walk, to open its files the same way.
pub struct Opened {
    path: PathBuf,
    fd: OwnedFd,
}

/// How a directory is opened to be listed or to have its files opened.
const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::CLOEXEC);

impl Opened {
    pub fn new(path: &Path) -> std::io::Result<Opened> {
        Ok(Opened {
            path: path.to_path_buf(),
            fd: rustix::fs::open(path, DIR_FLAGS, Mode::empty())?,
        })
    }

    /// Opens `rel`, a directory below `parent`, whose path is `path`: the kernel looks up
    /// the names below `parent` only.
    pub fn at(parent: BorrowedFd<'_>, rel: &Path, path: &Path) -> std::io::Result<Opened> {
        Ok(Opened {
            path: path.to_path_buf(),
            fd: rustix::fs::openat(parent, rel, DIR_FLAGS, Mode::empty())?,
        })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        use rustix::fd::AsFd;
        self.fd.as_fd()
    }

    /// The directory as a listing (of no files: the caller knows which it wants).
    pub fn listing(&self) -> Listing<'_> {
        Listing {
            path: &self.path,
            dir: self.fd(),
            files: Vec::new(),
            links: Vec::new(),
        }
    }
}

/// Calls `visit` with each directory under `root` (itself included), and returns what
/// it made, in path order: a directory before its subdirectories, those in name order.
/// Symbolic links are not followed. With `skip_hidden`, names starting with a dot
/// (`.git`, `.DS_Store`) are passed over.
pub fn tree<T, F>(root: &Path, skip_hidden: bool, visit: &F) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(Listing<'_>) -> T + Sync,
{
    walk(None, root, skip_hidden, visit)
}

/// The walk below a directory: `root`, opened relative to `parent` (by its last name)
/// when there is one, so the kernel does not look the whole path up again.
fn walk<T, F>(
    parent: Option<BorrowedFd<'_>>,
    root: &Path,
    skip_hidden: bool,
    visit: &F,
) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(Listing<'_>) -> T + Sync,
{
    let cannot = || format!("cannot read {}", root.display());
    let opened = match (parent, root.file_name()) {
        // A directory the listing found: not a symbolic link, which is not followed.
        (Some(parent), Some(name)) => {
            rustix::fs::openat(parent, name, DIR_FLAGS | OFlags::NOFOLLOW, Mode::empty())
        }
        _ => rustix::fs::open(root, DIR_FLAGS, Mode::empty()),
    };
    let fd: OwnedFd = opened.map_err(std::io::Error::from).with_context(cannot)?;
    let mut dirs: Vec<OsString> = Vec::new();
    let mut files: Vec<OsString> = Vec::new();
    let mut links: Vec<OsString> = Vec::new();
    let mut listing = rustix::fs::Dir::new(fd)
        .map_err(std::io::Error::from)
        .with_context(cannot)?;
    while let Some(entry) = listing.read() {
        let entry = entry.map_err(std::io::Error::from).with_context(cannot)?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." || (skip_hidden && name.starts_with(b".")) {
            continue;
        }
        let kind = match entry.file_type() {
            // Some file systems leave the type out of the listing.
            FileType::Unknown => {
                let fd = listing
                    .fd()
                    .map_err(std::io::Error::from)
                    .with_context(cannot)?;
                rustix::fs::statat(fd, entry.file_name(), rustix::fs::AtFlags::SYMLINK_NOFOLLOW)
                    .map(|stat| FileType::from_raw_mode(stat.st_mode))
                    .map_err(std::io::Error::from)
                    .with_context(cannot)?
            }
            kind => kind,
        };
        let name = OsString::from(std::ffi::OsStr::from_bytes(name));
        match kind {
            FileType::Directory => dirs.push(name),
            FileType::RegularFile => files.push(name),
            FileType::Symlink => links.push(name),
            _ => {}
        }
    }
    files.sort_unstable();
    links.sort_unstable();
    dirs.sort_unstable();
    let dir = listing
        .fd()
        .map_err(std::io::Error::from)
        .with_context(cannot)?;
    let here = visit(Listing {
        path: root,
        dir,
        files,
        links,
    });
    let below: Vec<Vec<T>> = dirs
        .par_iter()
        .map(|name| walk(Some(dir), &root.join(name), skip_hidden, visit))
        .collect::<Result<_>>()?;
    let mut all = Vec::with_capacity(1 + below.iter().map(Vec::len).sum::<usize>());
    all.push(here);
    all.extend(below.into_iter().flatten());
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visits_every_directory_in_path_order() {
        let dir = tempfile::tempdir().unwrap();
        for path in [
            "b/x.html",
            "a/z/y.html",
            "a/w.html",
            "c.html",
            ".hidden/h.html",
        ] {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        std::os::unix::fs::symlink(dir.path().join("c.html"), dir.path().join("link.html"))
            .unwrap();
        let names = |skip_hidden| {
            tree(dir.path(), skip_hidden, &|l: Listing<'_>| {
                let rel = |p: &Path| p.strip_prefix(dir.path()).unwrap().display().to_string();
                let files: Vec<String> = l.files.iter().map(|f| rel(&l.file_path(f))).collect();
                (rel(l.path), files)
            })
            .unwrap()
        };
        let visited = names(true);
        assert_eq!(
            visited,
            vec![
                (String::new(), vec!["c.html".to_string()]),
                ("a".into(), vec!["a/w.html".into()]),
                ("a/z".into(), vec!["a/z/y.html".into()]),
                ("b".into(), vec!["b/x.html".into()]),
            ]
        );
        assert_eq!(
            names(false)[1],
            (".hidden".into(), vec![".hidden/h.html".into()])
        );
        assert!(
            tree(&dir.path().join("missing"), true, &|_: Listing<'_>| ())
                .unwrap_err()
                .to_string()
                .contains("missing")
        );
    }

    #[test]
    fn a_root_that_is_a_link_is_followed_and_links_below_it_are_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("real/sub")).unwrap();
        std::fs::write(dir.path().join("real/sub/a.yml"), "").unwrap();
        std::fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
        std::fs::write(dir.path().join("elsewhere/b.yml"), "").unwrap();
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("root")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), dir.path().join("real/out"))
            .unwrap();
        let root = dir.path().join("root");
        let seen = tree(&root, false, &|l: Listing<'_>| {
            let files: Vec<String> = l
                .files
                .iter()
                .map(|f| {
                    l.open(f).unwrap();
                    l.file_path(f)
                        .strip_prefix(&root)
                        .unwrap()
                        .display()
                        .to_string()
                })
                .collect();
            files
        })
        .unwrap();
        assert_eq!(seen, vec![vec![], vec!["sub/a.yml".to_string()]]);
    }

    #[test]
    fn files_open_through_their_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/x.yml"), "text").unwrap();
        let read = tree(dir.path(), true, &|l: Listing<'_>| {
            l.files
                .iter()
                .map(|f| std::io::read_to_string(l.open(f).unwrap()).unwrap())
                .collect::<Vec<_>>()
        })
        .unwrap();
        assert_eq!(read, vec![vec![], vec!["text".to_string()]]);
    }

    #[test]
    fn files_are_read_whole_whatever_their_size_against_the_buffer() {
        let dir = tempfile::tempdir().unwrap();
        for size in [0, 1, 15, 16, 17, 4096, 100_000] {
            let path = dir.path().join(format!("{size}.yml"));
            let text: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
            std::fs::write(&path, &text).unwrap();
            // A used buffer: longer than some files, shorter than others.
            let mut buf = vec![b'#'; 16];
            let mut file = std::fs::File::open(&path).unwrap();
            let len = read_to_end(&mut file, &mut buf).unwrap();
            assert_eq!(&buf[..len], &text[..], "{size} bytes");
        }
    }
}
