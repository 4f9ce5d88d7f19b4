//! Walking a directory tree in parallel: each directory is listed (and its files
//! handled) by one task and its subdirectories by others, so a tree of a hundred
//! thousand directories is not listed one directory after another.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rayon::prelude::*;

/// Calls `visit` with each directory under `root` (itself included) and its regular
/// files sorted by name, and returns what it made, in path order: a directory before
/// its subdirectories, those in name order. Symbolic links are not followed. With
/// `skip_hidden`, names starting with a dot (`.git`, `.DS_Store`) are passed over.
pub fn tree<T, F>(root: &Path, skip_hidden: bool, visit: &F) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(&Path, Vec<PathBuf>) -> T + Sync,
{
    let cannot = || format!("cannot read {}", root.display());
    let mut entries: Vec<(OsString, std::fs::FileType)> = Vec::new();
    for entry in std::fs::read_dir(root).with_context(cannot)? {
        let entry = entry.with_context(cannot)?;
        let name = entry.file_name();
        if skip_hidden && name.as_encoded_bytes().starts_with(b".") {
            continue;
        }
        entries.push((name, entry.file_type().with_context(cannot)?));
    }
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let (dirs, files): (Vec<_>, Vec<_>) = entries
        .into_iter()
        .filter(|(_, t)| t.is_dir() || t.is_file())
        .partition(|(_, t)| t.is_dir());
    let here = visit(root, files.into_iter().map(|(n, _)| root.join(n)).collect());
    let below: Vec<Vec<T>> = dirs
        .par_iter()
        .map(|(name, _)| tree(&root.join(name), skip_hidden, visit))
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
        let names = |skip_hidden| {
            tree(dir.path(), skip_hidden, &|d: &Path, files: Vec<PathBuf>| {
                let rel = |p: &Path| p.strip_prefix(dir.path()).unwrap().display().to_string();
                (rel(d), files.iter().map(|f| rel(f)).collect::<Vec<_>>())
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
        assert!(tree(&dir.path().join("missing"), true, &|_: &Path, _| ())
            .unwrap_err()
            .to_string()
            .contains("missing"));
    }
}
