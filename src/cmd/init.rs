//! `cairn init`: sets up a site repository for cairn and prints the template snippet
//! and the CI workflow for its static site generator.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};

use super::shown;
use crate::former;
use crate::init::{self, Generator, Wiring};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The site's repository (default: the current directory).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The static site generator, when it cannot be detected (or to override it);
    /// `other` for any generator, with --output and --build.
    #[arg(long, value_enum)]
    pub generator: Option<Generator>,
    /// The directory the site is built into, relative to DIR (default: from the
    /// generator's configuration).
    #[arg(long, value_name = "DIR")]
    pub output: Option<String>,
    /// The command that builds the site, for a generator cairn does not know (used in
    /// the printed workflow).
    #[arg(long, value_name = "COMMAND")]
    pub build: Option<String>,
    /// The site's public base URL (default: from the generator's configuration).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Where the inbox will be reached.
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://comments.example.org"
    )]
    pub inbox_url: String,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let detected = init::detect(&args.dir);
    // A site whose generator names its output and build command is any generator's.
    let other = (args.output.is_some() && args.build.is_some()).then_some(Generator::Other);
    let Some(generator) = args.generator.or(detected.as_ref().map(|d| d.0)).or(other) else {
        bail!(
            "no Hugo, Jekyll, Eleventy, Hexo, Astro, VitePress, Docusaurus, Zola, MkDocs or Pelican configuration in {}: \
             name the generator with --generator; {}",
            shown(&args.dir),
            Wiring::NEEDED
        );
    };
    let wiring = Wiring::new(
        &args.dir,
        generator,
        args.output.as_deref(),
        args.build.as_deref(),
    )?;
    let (url, unused) = init::site_url(args.url.as_deref(), detected.and_then(|d| d.1));
    let setup = init::init(&args.dir, &wiring, &url, &args.inbox_url)?;
    println!(
        "{} site: wrote {} (site URL {url}, built into {}/)",
        generator.name(),
        shown(&setup.config),
        wiring.output
    );
    if let Some((configured, why)) = unused {
        println!(
            "The {} configuration's site URL {configured:?} {why}: put the site's public \
             address in [site] url (comment links, feeds and the inbox's checks need it).",
            generator.name()
        );
    }
    if let Some((title, key)) = &setup.title {
        println!(
            "site title: {title:?} (the {} configuration's {key})",
            generator.name()
        );
    }
    match &setup.language {
        Some(((tag, key), Some(known))) => println!(
            "site language: {known} (the {} configuration's {key} {tag:?})",
            generator.name()
        ),
        Some(((tag, key), None))
            if !crate::render::i18n::is_language_code(&crate::render::i18n::primary(tag)) =>
        {
            println!(
                "The {} configuration's {key} {tag:?} is not a language code: the comments are \
                 in English (set site.language in cairn.toml).",
                generator.name()
            )
        }
        Some(((tag, key), None)) => println!(
            "site language: {} (the {} configuration's {key} {tag:?}), which cairn has no \
             strings in: the comments show English ones until you translate them in [strings] \
             of cairn.toml (the keys are those of templates/i18n/en.toml in cairn's \
             repository; `locale`, such as sv_SE, names the months in dates). Its plural forms \
             and direction are its own already.",
            crate::render::i18n::primary(tag),
            generator.name()
        ),
        None => {}
    }
    match &setup.timezone {
        Some(((name, key), Ok(_))) => println!(
            "time zone of dates: {name} (the {} configuration's {key})",
            generator.name()
        ),
        Some(((_, key), Err(why))) => println!(
            "The {} configuration's {key}: {why}. Dates on pages are shown in UTC until \
             [site] timezone in cairn.toml names the site's.",
            generator.name()
        ),
        None => {}
    }
    println!("created {}/ for comment files", shown(&setup.comments_dir));
    if setup.gitignored {
        println!("added .cairn/ (the inbox's spool) to .gitignore");
    }
    let config_file = generator.config_file(&args.dir);
    for found in former::find(
        &args.dir,
        config_file.as_deref(),
        &wiring.output,
        "comments",
    ) {
        print!("\n{}", found.advice());
    }
    match &setup.hook {
        Some(hook) => {
            println!(
                "wrote {} with the comments placeholder: the theme {} shows that partial where \
                 comments go ({}:{}).",
                hook.partial.display(),
                hook.theme,
                hook.call.0.display(),
                hook.call.1
            );
            if let Some(guard) = &hook.guard {
                let setting = config_file
                    .as_deref()
                    .and_then(|file| {
                        Some(format!(" (in {}: {})", shown(file), hook.setting(file)?))
                    })
                    .unwrap_or_default();
                println!("It does so when\n\n    {guard}\n\nso turn that on{setting}.");
            }
            println!("\n{}\n{}", init::HUGO_COUNT, generator.recent_snippet());
        }
        None => {
            println!("\n{}\n{}", generator.snippet(), generator.recent_snippet());
            if let Some(layout) = init::theme_layout(generator, &args.dir) {
                let folder = Path::new(layout.to).parent().unwrap_or(Path::new("."));
                println!(
                    "The site has no {} of its own: its posts take the theme {}'s. Copy it \
                     into the site, then put the placeholder in it:\n\n    \
                     mkdir -p {} && cp {} {}\n",
                    layout.to,
                    layout.theme,
                    folder.display(),
                    crate::forget::sh_quote(&layout.from.to_string_lossy()),
                    layout.to
                );
            }
        }
    }
    let languages = generator.languages(&args.dir);
    if let (false, Some(snippet)) = (languages.is_empty(), generator.multilingual_snippet()) {
        println!(
            "The site is in several languages ({}): on each placeholder, name the language \
             of its page, so that page's comments, counts and form are in it:\n\n{snippet}",
            languages.join(", ")
        );
        let unknown: Vec<&str> = languages
            .iter()
            .filter(|tag| crate::render::i18n::known(tag).is_none())
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            println!(
                "cairn has no strings for {}: pages in {} get the site's language.\n",
                unknown.join(", "),
                if unknown.len() == 1 { "it" } else { "them" }
            );
        }
    }
    if generator == Generator::Jekyll {
        match init::jekyll_exclude(&args.dir, "comments") {
            (file, Some(line)) => println!(
                "And keep cairn's files out of Jekyll's output: in {file}, set\n\n    {line}\n"
            ),
            (file, None) => {
                println!(
                    "({file} keeps comments/ and cairn.toml out of Jekyll's output already.)\n"
                )
            }
        }
    }
    let build = &wiring.build;
    println!("Build and render locally:\n");
    println!("    {}\n    cairn render\n", build.local);
    match &build.watch {
        Some(watch) => println!(
            "Look at it with its comments as you write, in two terminals (open pages reload \
             themselves after a change):\n\n    {watch}\n    cairn render --serve\n"
        ),
        None => println!(
            "Look at it with its comments as you write: `cairn render --serve` serves it and \
             renders it again after each `{}` (open pages reload themselves).\n",
            build.local
        ),
    }
    println!("Render in CI (GitHub Pages); add this workflow:\n");
    println!("{}", wiring.workflow());
    println!("Check that [site] url and [inbox] url in cairn.toml are right, then commit.");
    Ok(ExitCode::SUCCESS)
}
