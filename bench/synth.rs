//! Generates a synthetic comment corpus for the render benchmark: format v1 comment
//! files, and two ways to show them on the same pages: a Hugo site that renders them
//! itself through a data-file partial (as Staticman sites do), and the same Hugo site
//! with only cairn's placeholder.
//!
//! Usage: synth OUT_DIR COMMENTS PAGES [--no-hugo-data]
//! Writes OUT_DIR/cairn/{cairn.toml,comments/} and OUT_DIR/hugo-{plain,data}/
//! (without hugo-data when the corpus is for cairn only: it is a file per comment).

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use cairn::comment::Comment;
use chrono::{DateTime, Utc};

/// A small deterministic generator, so every run makes the same corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const WORDS: &[&str] = &[
    "the",
    "build",
    "static",
    "site",
    "comment",
    "thanks",
    "great",
    "post",
    "I",
    "think",
    "this",
    "works",
    "with",
    "hugo",
    "and",
    "jekyll",
    "but",
    "why",
    "not",
    "use",
    "a",
    "cache",
    "page",
    "render",
    "fast",
    "really",
    "interesting",
    "point",
    "about",
    "privacy",
    "git",
    "branch",
    "merge",
    "review",
    "theme",
    "template",
    "markdown",
    "link",
    "feed",
    "reader",
    "question",
];

fn sentence(rng: &mut Rng, out: &mut String) {
    let n = 6 + rng.below(14);
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        let w = WORDS[rng.below(WORDS.len() as u64) as usize];
        match rng.below(40) {
            0 => write!(out, "*{w}*").unwrap(),
            1 => write!(out, "`{w}`").unwrap(),
            _ => out.push_str(w),
        }
    }
    out.push_str(". ");
}

/// Body lengths are skewed like real comments: most are a few sentences, some long.
fn body(rng: &mut Rng) -> String {
    let mut out = String::new();
    let paragraphs = match rng.below(10) {
        0..=5 => 1,
        6..=8 => 2,
        _ => 3 + rng.below(4),
    };
    for p in 0..paragraphs {
        if p > 0 {
            out.push_str("\n\n");
        }
        if rng.chance(8) {
            out.push_str("> ");
        }
        for _ in 0..1 + rng.below(4) {
            sentence(rng, &mut out);
        }
        if rng.chance(10) {
            out.push_str("See [this page](https://example.org/some/page).");
        }
    }
    if rng.chance(5) {
        out.push_str("\n\n```\nfn main() { println!(\"hello\"); }\n```");
    }
    out.push('\n');
    out
}

fn ulid_at(rng: &mut Rng, date: DateTime<Utc>) -> ulid::Ulid {
    let random = (u128::from(rng.next()) << 16) ^ u128::from(rng.next() & 0xffff);
    ulid::Ulid::from_parts(date.timestamp_millis() as u64, random)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !(4..=5).contains(&args.len()) {
        eprintln!("usage: synth OUT_DIR COMMENTS PAGES [--no-hugo-data] | synth OUT_DIR --from-corpus DATA_DIR");
        std::process::exit(2);
    }
    let out = Path::new(&args[1]);
    if args[2] == "--from-corpus" {
        return from_corpus(out, Path::new(&args[3]));
    }
    let total: usize = args[2].parse().expect("COMMENTS is a number");
    let pages: usize = args[3].parse().expect("PAGES is a number");
    let variants: &[&str] = match args.get(4).map(String::as_str) {
        None => &["plain", "data"],
        Some("--no-hugo-data") => &["plain"],
        Some(other) => panic!("unknown option {other}"),
    };
    let with_data = variants.contains(&"data");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    let cairn_dir = out.join("cairn");
    let comments_dir = cairn_dir.join("comments");
    fs::create_dir_all(&comments_dir).unwrap();
    fs::write(cairn_dir.join("cairn.toml"), CAIRN_TOML).unwrap();
    for variant in variants {
        hugo_skeleton(
            &out.join(format!("hugo-{variant}")),
            (*variant == "data").then_some(STATICMAN_PARTIAL),
        );
    }

    // Comments per page follow a skewed distribution: most pages have a few, some many.
    let mut weights: Vec<u64> = (0..pages)
        .map(|_| 1 + rng.below(4) * rng.below(4) + u64::from(rng.chance(3)) * rng.below(60))
        .collect();
    let sum: u64 = weights.iter().sum();
    let mut assigned = 0usize;
    for w in weights.iter_mut() {
        *w = (*w as u128 * total as u128 / sum as u128) as u64;
        assigned += *w as usize;
    }
    for i in 0..total.saturating_sub(assigned) {
        weights[i % pages] += 1;
    }

    let start = DateTime::parse_from_rfc3339("2020-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let data_root = out.join("hugo-data/data/comments");
    for (page, &count) in weights.iter().enumerate() {
        let slug = format!("p{page:06}");
        let thread = format!("/posts/{slug}/");
        for variant in variants {
            let content = out.join(format!("hugo-{variant}/content/posts/{slug}.md"));
            fs::write(
                content,
                format!(
                    "---\ntitle: \"Post {page}\"\ndate: 2020-01-01T00:00:00Z\n---\n{}",
                    body(&mut Rng(page as u64 + 7))
                ),
            )
            .unwrap();
        }
        let mut ids: Vec<ulid::Ulid> = Vec::new();
        let mut date = start + chrono::Duration::minutes(page as i64);
        let data_dir = data_root.join(&slug);
        if count > 0 && with_data {
            fs::create_dir_all(&data_dir).unwrap();
        }
        for _ in 0..count {
            date += chrono::Duration::seconds(60 + rng.below(86_400) as i64);
            let id = ulid_at(&mut rng, date);
            let parent = (!ids.is_empty() && rng.chance(30))
                .then(|| ids[rng.below(ids.len() as u64) as usize]);
            let author = format!("Reader {}", rng.below(5000));
            let c = Comment {
                id,
                thread: thread.clone(),
                parent,
                date,
                author: Some(author.clone()),
                website: rng
                    .chance(20)
                    .then(|| format!("https://reader{}.example", rng.below(5000))),
                avatar: rng.chance(60).then(|| format!("{:016x}", rng.next())),
                origin: None,
                body: body(&mut rng),
            };
            cairn::store::write(&comments_dir, &c).unwrap();
            ids.push(id);
            if !with_data {
                continue;
            }
            // The same comment as a Staticman data file.
            let data = format!(
                "_id: \"{id}\"\n_parent: \"{}\"\nname: \"{author}\"\ndate: {}\nmessage: {}\n",
                parent.map(|p| p.to_string()).unwrap_or_default(),
                date.timestamp(),
                serde_json::to_string(&c.body).unwrap(),
            );
            fs::write(data_dir.join(format!("{id}.yml")), data).unwrap();
        }
    }
    println!(
        "generated {total} comments on {pages} pages in {}",
        out.display()
    );
}

/// A real corpus of Jekyll data files (`DATA_DIR/<slug>/<id>.yml`, as in the shared
/// Disqus-for-Jekyll corpus): one page per folder at `/<slug>/`, the original files as
/// Hugo data for the partial, and the cairn site's config (its comments come from
/// `cairn import staticman`, run by the bench script).
fn from_corpus(out: &Path, data: &Path) {
    let cairn_dir = out.join("cairn");
    fs::create_dir_all(&cairn_dir).unwrap();
    fs::write(cairn_dir.join("cairn.toml"), CAIRN_TOML).unwrap();
    for variant in ["plain", "data"] {
        hugo_skeleton(
            &out.join(format!("hugo-{variant}")),
            (variant == "data").then_some(DISQUS_PARTIAL),
        );
    }
    let mut pages = 0;
    for entry in fs::read_dir(data).unwrap() {
        let entry = entry.unwrap();
        if !entry.file_type().unwrap().is_dir() {
            continue;
        }
        let slug = entry.file_name().to_string_lossy().into_owned();
        for variant in ["plain", "data"] {
            fs::write(
                out.join(format!("hugo-{variant}/content/{slug}.md")),
                format!(
                    "---\ntitle: \"{slug}\"\ndate: 2010-01-01T00:00:00Z\n---\n{}",
                    body(&mut Rng(pages + 7))
                ),
            )
            .unwrap();
        }
        let target = out.join("hugo-data/data/comments").join(&slug);
        fs::create_dir_all(&target).unwrap();
        for file in fs::read_dir(entry.path()).unwrap() {
            let file = file.unwrap();
            fs::copy(file.path(), target.join(file.file_name())).unwrap();
        }
        pages += 1;
    }
    println!("{pages} pages from {} in {}", data.display(), out.display());
}

const CAIRN_TOML: &str = "[site]\nurl = \"https://bench.example.org/\"\n[comments]\ndir = \"comments\"\n[inbox]\nurl = \"https://comments.bench.example.org\"\n";

/// What Staticman themes do: look the page's data files up, sort, nest one level of
/// replies, and markdownify each message.
const STATICMAN_PARTIAL: &str = r#"{{ $all := index site.Data.comments .File.ContentBaseName }}
<section class="comments"><h2>{{ len $all }} comments</h2><ol>
{{ range sort $all "date" }}{{ if eq ._parent "" }}{{ $id := ._id }}
<li id="c-{{ ._id }}"><article><header><b>{{ .name }}</b> <time>{{ dateFormat "January 2, 2006" (time .date) }}</time></header>
{{ .message | markdownify }}</article>
<ol>{{ range where (sort $all "date") "_parent" $id }}<li id="c-{{ ._id }}"><article><header><b>{{ .name }}</b></header>{{ .message | markdownify }}</article></li>{{ end }}</ol>
</li>{{ end }}{{ end }}
</ol></section>
"#;

/// What the Disqus-for-Jekyll site does with its data: HTML messages output as they
/// are (no sanitizing), replies nested one level under `replyToId`; sorted once.
const DISQUS_PARTIAL: &str = r#"{{ $all := index site.Data.comments .File.ContentBaseName }}
<section class="comments"><h2>{{ len $all }} comments</h2><ol>
{{ $sorted := sort $all "date" }}{{ range $sorted }}{{ if not .replyToId }}{{ $id := .id }}
<li id="c-{{ .id }}"><article><header><b>{{ .name }}</b> <time>{{ dateFormat "January 2, 2006" (time .date) }}</time></header>
{{ .message | safeHTML }}</article>
<ol>{{ range where $sorted "replyToId" $id }}<li id="c-{{ .id }}"><article><header><b>{{ .name }}</b></header>{{ .message | safeHTML }}</article></li>{{ end }}</ol>
</li>{{ end }}{{ end }}
</ol></section>
"#;

/// A Hugo site whose single pages end with the cairn placeholder, or with `partial`
/// rendering the comments from data files.
fn hugo_skeleton(dir: &Path, partial: Option<&str>) {
    fs::create_dir_all(dir.join("layouts/_default")).unwrap();
    fs::create_dir_all(dir.join("layouts/partials")).unwrap();
    fs::create_dir_all(dir.join("content/posts")).unwrap();
    fs::write(
        dir.join("hugo.toml"),
        "baseURL = \"https://bench.example.org/\"\ntitle = \"Bench\"\ntimeout = \"30m\"\ndisableKinds = [\"taxonomy\", \"term\", \"RSS\", \"sitemap\", \"robotsTXT\", \"404\"]\n",
    )
    .unwrap();
    fs::write(
        dir.join("layouts/_default/baseof.html"),
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{{ .Title }}</title></head>\n<body><main>{{ block \"main\" . }}{{ end }}</main></body></html>\n",
    )
    .unwrap();
    fs::write(
        dir.join("layouts/_default/list.html"),
        "{{ define \"main\" }}<h1>{{ .Title }}</h1>{{ end }}\n",
    )
    .unwrap();
    let comments = if partial.is_some() {
        "{{ partial \"comments.html\" . }}"
    } else {
        "<div id=\"cairn-comments\"></div>"
    };
    fs::write(
        dir.join("layouts/_default/single.html"),
        format!("{{{{ define \"main\" }}}}<article><h1>{{{{ .Title }}}}</h1>{{{{ .Content }}}}</article>\n{comments}\n{{{{ end }}}}\n"),
    )
    .unwrap();
    if let Some(partial) = partial {
        fs::write(dir.join("layouts/partials/comments.html"), partial).unwrap();
    }
}
