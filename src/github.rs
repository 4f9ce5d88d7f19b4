//! GitHub Actions output (`--format github`): problems as workflow-command annotations
//! on the comment files, a Markdown job summary, and for a moderation pull request the
//! new comments rendered, so a moderator reads them in the run's summary.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use git2::Repository;

use crate::comment::Comment;
use crate::render::markdown;
use crate::store::{Problem, Severity, Store};

/// Environment variable naming the file GitHub shows as the job summary.
pub const SUMMARY_ENV: &str = "GITHUB_STEP_SUMMARY";

/// The workflow command that annotates a problem's file and line.
pub fn annotation(problem: &Problem) -> String {
    let level = match problem.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut properties = format!("file={}", escape_property(&workspace_path(&problem.path)));
    if let Some(line) = problem.line {
        let _ = write!(properties, ",line={line}");
    }
    format!(
        "::{level} {properties},title=cairn::{}",
        escape_data(&problem.message)
    )
}

/// A path as GitHub wants it in annotations: relative to the workspace (the checkout).
fn workspace_path(path: &Path) -> String {
    let absolute = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let base = std::env::var_os("GITHUB_WORKSPACE")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .and_then(|b| b.canonicalize().ok());
    let relative = match &base {
        Some(base) => absolute.strip_prefix(base).unwrap_or(&absolute),
        None => &absolute,
    };
    relative.to_string_lossy().replace('\\', "/")
}

/// Escapes a workflow command's message, as GitHub's toolkit does.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Appends Markdown to the job summary; without `GITHUB_STEP_SUMMARY` (outside
/// Actions) it goes to stdout.
pub fn append_summary(markdown: &str) -> Result<()> {
    match std::env::var_os(SUMMARY_ENV) {
        Some(path) => {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("cannot open {SUMMARY_ENV} {path:?}"))?;
            file.write_all(markdown.as_bytes())
                .with_context(|| format!("cannot write {SUMMARY_ENV} {path:?}"))
        }
        None => {
            print!("{markdown}");
            Ok(())
        }
    }
}

/// A Markdown table of figures under a heading.
pub fn table(heading: &str, rows: &[(&str, String)]) -> String {
    let mut out = format!("### {heading}\n\n|   |   |\n| --- | --: |\n");
    for (name, value) in rows {
        let _ = writeln!(out, "| {name} | {value} |");
    }
    out.push('\n');
    out
}

/// The problems as a Markdown list (at most 50, then a count).
pub fn problem_list(problems: &[Problem]) -> String {
    if problems.is_empty() {
        return String::new();
    }
    let mut out = String::from("#### Problems\n\n");
    for problem in problems.iter().take(50) {
        let line = problem.line.map(|l| format!(":{l}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "- `{}{line}`: {}",
            workspace_path(&problem.path),
            inline(&problem.message)
        );
    }
    if problems.len() > 50 {
        let _ = writeln!(out, "- … and {} more", problems.len() - 50);
    }
    out.push('\n');
    out
}

/// Comments in the tree whose files do not exist at `base` (a branch, tag or commit of
/// the repository holding the comments directory): what a pull request adds.
pub fn new_comments<'a>(
    store: &'a Store,
    comments_dir: &Path,
    base: &str,
) -> Result<Vec<&'a Comment>> {
    let repo = Repository::discover(comments_dir).with_context(|| {
        format!(
            "--base: {} is not in a git repository",
            comments_dir.display()
        )
    })?;
    let tree = repo
        .revparse_single(base)
        .and_then(|o| o.peel_to_tree())
        .with_context(|| format!("--base {base}: no such commit, branch or tag"))?;
    let workdir = repo
        .workdir()
        .context("--base: the repository has no work tree")?
        .canonicalize()?;
    let dir = comments_dir.canonicalize()?;
    let prefix = dir.strip_prefix(&workdir).unwrap_or(Path::new(""));
    let mut added = Vec::new();
    for comment in store.comments() {
        let thread_dir = prefix.join(crate::thread::dir(&comment.thread));
        let known = crate::comment::EXTENSIONS.iter().any(|ext| {
            tree.get_path(&thread_dir.join(format!("{}.{ext}", comment.id)))
                .is_ok()
        });
        if !known {
            added.push(comment);
        }
    }
    added.sort_by_key(|c| (c.date, c.id));
    Ok(added)
}

/// The new comments as the moderator should see them: who, where, when, and the body
/// rendered and sanitized exactly as the site will show it.
pub fn comment_list(comments: &[&Comment], site_url: &str) -> String {
    let mut out = format!("#### New comments ({})\n\n", comments.len());
    for comment in comments {
        let author = comment.author.as_deref().unwrap_or("Anonymous");
        let website = comment
            .website
            .as_deref()
            .map(|w| format!(" ({})", inline(w)))
            .unwrap_or_default();
        let reply = comment
            .parent
            .map(|p| format!(", in reply to `{p}`"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "**{}**{website} on [{}]({}{}) at {}{reply} — `{}`\n",
            inline(author),
            inline(&comment.thread),
            site_url.trim_end_matches('/'),
            comment.thread,
            comment.date_string(),
            comment.id,
        );
        let _ = writeln!(
            out,
            "<blockquote>\n{}</blockquote>\n",
            markdown::to_html(&comment.body)
        );
    }
    out
}

/// Text safe inside Markdown inline context: no markup, no line breaks.
fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_escape_what_github_would_misread() {
        let problem = Problem {
            path: PathBuf::from("comments/a,b:c/x.yml"),
            line: Some(3),
            severity: Severity::Error,
            message: "bad 100%\nvalue".into(),
        };
        assert_eq!(
            annotation(&problem),
            "::error file=comments/a%2Cb%3Ac/x.yml,line=3,title=cairn::bad 100%25%0Avalue"
        );
        let warning = Problem {
            line: None,
            severity: Severity::Warning,
            ..problem
        };
        assert!(annotation(&warning).starts_with("::warning file=comments/a%2Cb%3Ac/x.yml,title="));
    }

    #[test]
    fn names_cannot_inject_markdown_or_html_into_the_summary() {
        assert_eq!(
            inline("<img src=x>*[a](b)*\n#"),
            "&lt;img src=x&gt;\\*\\[a\\](b)\\* \\#"
        );
    }
}
