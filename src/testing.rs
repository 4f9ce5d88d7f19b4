//! Helpers the tests of several modules share (the integration tests too, through
//! tests/common).

use std::path::Path;

/// How many files in `dir` end in `.ext`.
pub fn files_ending(dir: &Path, ext: &str) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == ext)
        })
        .count()
}

/// Writes each `(path, text)` of `files` under `dir`, with the directories they need.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}
