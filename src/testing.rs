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
