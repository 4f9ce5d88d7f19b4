//! Precompressed copies of the files render writes (`index.html.gz`, `.br`, `.zst`),
//! which servers send in their place to browsers that take them (nginx's `gzip_static`
//! and `brotli_static`, Caddy's `precompressed`). A copy made before `cairn render`
//! (as jekyll-gzip and jekyll-brotli make them, within `jekyll build`) shows the page
//! without its comments to every reader, so each copy of a written file is written
//! again (gzip, Brotli) or removed (Zstandard).

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::store::{Problem, Severity};

/// What became of the copies of the files a run wrote.
#[derive(Debug, Default)]
pub struct Copies {
    /// gzip and Brotli copies written again.
    pub written: usize,
    /// Copies cairn does not write (Zstandard), removed: servers then send another
    /// copy, or the file itself.
    pub removed: Vec<PathBuf>,
}

impl Copies {
    /// Brings the copies of the file `name` in the directory `dir`, just written with
    /// `bytes`, up to date. `has` says whether the directory holds a file of a name, so
    /// that a file without copies costs no look at the disk.
    pub fn refresh(
        &mut self,
        dir: &Path,
        name: &OsStr,
        bytes: &[u8],
        has: impl Fn(&OsStr) -> bool,
    ) -> std::io::Result<()> {
        for ending in ["gz", "br", "zst"] {
            let mut copy = name.to_os_string();
            copy.push(".");
            copy.push(ending);
            if !has(&copy) {
                continue;
            }
            let path = dir.join(&copy);
            let packed = match ending {
                "gz" => gzip(bytes)?,
                "br" => brotli(bytes)?,
                _ => {
                    std::fs::remove_file(&path)?;
                    self.removed.push(path);
                    continue;
                }
            };
            let mut file = std::fs::OpenOptions::new().write(true).open(&path)?;
            let old_len = file.metadata()?.len() as usize;
            super::overwrite(&mut file, &path, &packed, old_len)?;
            self.written += 1;
        }
        Ok(())
    }

    pub fn extend(&mut self, other: Copies) {
        self.written += other.written;
        self.removed.extend(other.removed);
    }

    /// The warning about the copies removed, naming the first.
    pub fn warning(&self) -> Option<Problem> {
        let first = self.removed.first()?;
        let others = super::and_others(self.removed.len() - 1, "copy", "copies");
        Some(Problem {
            path: first.clone(),
            line: None,
            severity: Severity::Warning,
            message: format!(
                "removed this precompressed copy{others} (Zstandard, which cairn does not \
                 write): made before cairn render, it showed its file without the \
                 comments; servers now send the file itself or its gzip or Brotli copy \
                 (which cairn writes again); compress after cairn render to have it back"
            ),
        })
    }
}

/// The Brotli quality of the copies written: half as long again as gzip's best, for
/// copies about a tenth smaller. (Quality 11, which tools that precompress a site often
/// use, takes some 60 times as long: half a minute of processor time for a thousand
/// pages.)
const BROTLI_QUALITY: i32 = 5;

/// `bytes` compressed with Brotli, the same bytes each time.
fn brotli(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    // A window as large as the file, but no smaller than 1 MiB: below that the encoder
    // takes a slower way at this quality, and above, a page takes more memory
    // (Brotli's default is 4 MiB) for the same bytes.
    let needed = usize::BITS - bytes.len().saturating_sub(1).leading_zeros();
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY,
        lgwin: needed.clamp(20, 24) as i32,
        ..Default::default()
    };
    let mut packed = Vec::with_capacity(bytes.len() / 3);
    brotli::BrotliCompress(&mut &bytes[..], &mut packed, &params)?;
    Ok(packed)
}

/// `bytes` gzip'd, the same bytes each time (no name or time in the header).
fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3),
        flate2::Compression::best(),
    );
    encoder.write_all(bytes)?;
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn gzip_and_brotli_copies_are_written_again_and_zstandard_ones_removed() {
        let dir = tempfile::tempdir().unwrap();
        let page = b"<p>With its comments</p>".repeat(50);
        for (name, bytes) in [
            (
                "index.html.gz",
                &b"stale and longer than the new copy will be"[..],
            ),
            ("index.html.br", b"stale"),
            ("index.html.zst", b"stale"),
            ("other.html.br", b"not a copy of index.html"),
        ] {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        let has = |name: &OsStr| dir.path().join(name).exists();
        let mut copies = Copies::default();
        copies
            .refresh(dir.path(), OsStr::new("index.html"), &page, has)
            .unwrap();
        assert_eq!(copies.written, 2);
        assert_eq!(copies.removed, [dir.path().join("index.html.zst")]);
        let gz = std::fs::read(dir.path().join("index.html.gz")).unwrap();
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut unpacked)
            .unwrap();
        assert_eq!(unpacked, page);
        let br = std::fs::read(dir.path().join("index.html.br")).unwrap();
        let mut unpacked = Vec::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut unpacked)
            .unwrap();
        assert_eq!(unpacked, page);
        assert!(dir.path().join("other.html.br").exists());
        // The same bytes each time: a second run leaves the copies as they are.
        assert_eq!(gzip(&page).unwrap(), gz);
        assert_eq!(brotli(&page).unwrap(), br);
    }
}
