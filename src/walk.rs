//! Walking a directory tree in parallel: each directory is listed (and its files
//! handled) by one task and its subdirectories by others, so a tree of a hundred
//! thousand directories is not listed one directory after another.
//!
//! A directory is opened once: the handle that lists it is the one its files are
//! opened through, so the kernel looks the directory's path up once, not per file.

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

/// A directory opened on its own, outside a walk, to open its files the same way.
pub struct Opened {
    path: PathBuf,
    fd: OwnedFd,
}

impl Opened {
    pub fn new(path: &Path) -> std::io::Result<Opened> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        Ok(Opened {
            path: path.to_path_buf(),
            fd: rustix::fs::open(path, flags, Mode::empty())?,
        })
    }

    /// The directory as a listing (of no files: the caller knows which it wants).
    pub fn listing(&self) -> Listing<'_> {
        use rustix::fd::AsFd;
        Listing {
            path: &self.path,
            dir: self.fd.as_fd(),
            files: Vec::new(),
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
    let cannot = || format!("cannot read {}", root.display());
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let fd: OwnedFd = rustix::fs::open(root, flags, Mode::empty())
        .map_err(std::io::Error::from)
        .with_context(cannot)?;
    let mut dirs: Vec<OsString> = Vec::new();
    let mut files: Vec<OsString> = Vec::new();
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
            _ => {}
        }
    }
    files.sort_unstable();
    dirs.sort_unstable();
    let here = visit(Listing {
        path: root,
        dir: listing
            .fd()
            .map_err(std::io::Error::from)
            .with_context(cannot)?,
        files,
    });
    drop(listing);
    let below: Vec<Vec<T>> = dirs
        .par_iter()
        .map(|name| tree(&root.join(name), skip_hidden, visit))
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
}
