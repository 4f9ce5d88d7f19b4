//! `cairn init`: sets a site repository up: detects the static site generator (or takes
//! any other's output directory and build command), writes a commented `cairn.toml`,
//! creates the comments directory, and says what to put in the templates and which
//! workflow runs cairn in CI.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::config::TimeZone;

/// The GitHub Action that runs cairn, as workflows reference it: the release of this
/// cairn, the one that set the site up.
pub const ACTION: &str = concat!("cairn-comments/cairn@v", env!("CARGO_PKG_VERSION"));

/// The release the action installs (its binary for the runner: no build).
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The theme component a Docusaurus site's blog posts get: it wraps the theme's post
/// footer (src/theme/BlogPostItem/Footer/index.js). Docusaurus' pages are rendered by
/// React, so each placeholder is an element given its HTML (empty): React keeps what it
/// finds in such an element when it hydrates a page, so it keeps what cairn wrote there
/// (other content it finds is a mismatch, for which it renders the whole page again).
const DOCUSAURUS_FOOTER: &str = "\
import React from 'react';
import Footer from '@theme-original/BlogPostItem/Footer';
import {useBlogPost} from '@docusaurus/plugin-content-blog/client';

// cairn writes comments and counts into these in the built pages: React keeps
// what it finds in an element whose HTML it is given (none here).
const keep = {__html: ''};

export default function FooterWrapper(props) {
  const {metadata, isBlogPostPage} = useBlogPost();
  return (
    <>
      <Footer {...props} />
      {isBlogPostPage ? (
        <div id=\"cairn-comments\" dangerouslySetInnerHTML={keep} />
      ) : (
        <span data-cairn-count={metadata.permalink} dangerouslySetInnerHTML={keep} />
      )}
    </>
  );
}
";

/// [`DOCUSAURUS_FOOTER`] for a site in several languages: each placeholder names the
/// page's locale.
fn docusaurus_footer_multilingual() -> String {
    DOCUSAURUS_FOOTER
        .replace(
            "/client';\n",
            "/client';\nimport useDocusaurusContext from '@docusaurus/useDocusaurusContext';\n",
        )
        .replace(
            "useBlogPost();\n",
            "useBlogPost();\n  const {i18n} = useDocusaurusContext();\n",
        )
        .replace(
            " dangerouslySetInnerHTML",
            " data-cairn-lang={i18n.currentLocale} dangerouslySetInnerHTML",
        )
}

/// Code, indented as the printed instructions show it.
fn indented(code: &str) -> String {
    code.lines()
        .map(|line| match line {
            "" => "\n".to_string(),
            line => format!("    {line}\n"),
        })
        .collect()
}

/// What the Docusaurus snippet says after the component: where it shows, and the
/// stylesheet and script every page must load.
const DOCUSAURUS_SNIPPET_END: &str = "
The comments go under a post on its own page, a count under each post listed. (For
docs pages, wrap DocItem/Footer the same way, with the comments alone.)

Docusaurus renders every page after the first in the browser, and the placeholders
empty: cairn's script fills them from the page's HTML file. So every page must load it
and the stylesheet. In docusaurus.config.js (with a baseUrl other than /, put it in
front of both paths):

    stylesheets: ['/cairn.css'],
    scripts: [{src: '/cairn.js', defer: true}],
";

/// The generators cairn knows how to wire up, and `Other`: any generator, whose output
/// directory and build command the owner names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Generator {
    Hugo,
    Jekyll,
    Eleventy,
    Hexo,
    Astro,
    #[value(name = "vitepress")]
    VitePress,
    Docusaurus,
    Zola,
    #[value(name = "mkdocs")]
    MkDocs,
    Pelican,
    Other,
}

impl Generator {
    /// The generator's name, as in "a Hugo site" ("a static site" for any other).
    pub fn name(self) -> &'static str {
        match self {
            Generator::Hugo => "Hugo",
            Generator::Jekyll => "Jekyll",
            Generator::Eleventy => "Eleventy",
            Generator::Hexo => "Hexo",
            Generator::Astro => "Astro",
            Generator::VitePress => "VitePress",
            Generator::Docusaurus => "Docusaurus",
            Generator::Zola => "Zola",
            Generator::MkDocs => "MkDocs",
            Generator::Pelican => "Pelican",
            Generator::Other => "static",
        }
    }

    /// Where the generator writes the built site unless its configuration says otherwise
    /// (`None` for a generator cairn does not know).
    pub fn default_output(self) -> Option<&'static str> {
        match self {
            Generator::Hugo | Generator::Hexo | Generator::Zola => Some("public"),
            Generator::Jekyll | Generator::Eleventy => Some("_site"),
            Generator::Astro => Some("dist"),
            // Under its source directory: `Generator::output` puts that in front.
            Generator::VitePress => Some(".vitepress/dist"),
            Generator::Docusaurus => Some("build"),
            Generator::MkDocs => Some("site"),
            Generator::Pelican => Some("output"),
            Generator::Other => None,
        }
    }

    /// The generator's configuration file in `dir`, when it has one.
    pub fn config_file(self, dir: &Path) -> Option<PathBuf> {
        match self {
            Generator::Hugo => hugo_config(dir).or_else(|| first(dir, "config", HUGO_FORMATS)),
            Generator::Jekyll => first(dir, "_config", JEKYLL_FORMATS),
            Generator::Hexo => first(dir, "_config", HEXO_FORMATS),
            Generator::Eleventy => ELEVENTY_CONFIGS
                .iter()
                .map(|name| dir.join(name))
                .find(|path| path.is_file()),
            Generator::Astro => first(dir, "astro.config", JS_FORMATS),
            Generator::VitePress => vitepress_config(dir),
            Generator::Docusaurus => first(dir, "docusaurus.config", JS_FORMATS),
            // Zola reads zola.toml first (since 0.19), then config.toml.
            Generator::Zola => ["zola.toml", "config.toml"]
                .iter()
                .map(|name| dir.join(name))
                .find(|path| path.is_file()),
            Generator::MkDocs => first(dir, "mkdocs", &["yml", "yaml"]),
            Generator::Pelican => Some(dir.join("pelicanconf.py")).filter(|path| path.is_file()),
            Generator::Other => None,
        }
    }

    /// The language the site in `dir` is written in, as its configuration names it
    /// (Hugo's `locale` (since 0.158), `languageCode` or `defaultContentLanguage`, Jekyll's `lang` or
    /// `locale`, Hexo's `language`, Astro's and Docusaurus' `i18n.defaultLocale`, Zola's
    /// `default_language`, MkDocs' theme's `language` (Material) or `locale`, Pelican's
    /// `DEFAULT_LANG`), with the key that names it.
    pub fn language(self, dir: &Path) -> Option<Named> {
        let keys: &[&'static str] = match self {
            Generator::Hugo => &[
                "locale",
                "languageCode",
                "languagecode",
                "defaultContentLanguage",
                "defaultcontentlanguage",
            ],
            Generator::Jekyll => &["lang", "locale"],
            Generator::Hexo => &["language"],
            Generator::Astro | Generator::Docusaurus => &["i18n.defaultLocale"],
            Generator::VitePress => &["lang"],
            Generator::Zola => &["default_language"],
            Generator::MkDocs => &["theme.language", "theme.locale"],
            Generator::Pelican => &["DEFAULT_LANG"],
            Generator::Eleventy | Generator::Other => return None,
        };
        self.setting(dir, keys)
    }

    /// The site's name, as its configuration gives it (`title`; MkDocs' `site_name`,
    /// Pelican's `SITENAME`), with the key that holds it.
    pub fn title(self, dir: &Path) -> Option<Named> {
        let keys: &[&'static str] = match self {
            Generator::Hugo
            | Generator::Jekyll
            | Generator::Hexo
            | Generator::VitePress
            | Generator::Docusaurus
            | Generator::Zola => &["title"],
            Generator::MkDocs => &["site_name"],
            Generator::Pelican => &["SITENAME"],
            Generator::Astro | Generator::Eleventy | Generator::Other => return None,
        };
        self.setting(dir, keys)
            .map(|(title, key)| (title.trim().to_string(), key))
    }

    /// The time zone the site in `dir` dates its pages in, as its configuration names it
    /// (Hugo's `timeZone`, Jekyll's and Hexo's `timezone`, Pelican's `TIMEZONE`), with
    /// the key that names it.
    pub fn timezone(self, dir: &Path) -> Option<Named> {
        let keys: &[&'static str] = match self {
            Generator::Hugo => &["timeZone", "timezone"],
            Generator::Jekyll | Generator::Hexo => &["timezone"],
            Generator::Pelican => &["TIMEZONE"],
            Generator::Zola
            | Generator::Eleventy
            | Generator::Astro
            | Generator::VitePress
            | Generator::Docusaurus
            | Generator::MkDocs
            | Generator::Other => return None,
        };
        self.setting(dir, keys)
    }

    /// The first of `keys` the configuration of the site in `dir` sets, and its value.
    fn setting(self, dir: &Path, keys: &[&'static str]) -> Option<Named> {
        let path = self.config_file(dir)?;
        keys.iter()
            .find_map(|key| Some((config_string(&path, &[key])?, *key)))
    }

    /// Where the generator writes the site in `dir`, relative to it: what its
    /// configuration sets (Hugo's `publishDir`, Jekyll's `destination`, Hexo's
    /// `public_dir`, Astro's `outDir`, Zola's `output_dir`, MkDocs' `site_dir`,
    /// Pelican's `OUTPUT_PATH` (its publishing configuration's, where it has one),
    /// Eleventy's `dir.output` or `setOutputDirectory`; an `--output` (Eleventy) or
    /// `--out-dir` (Docusaurus) in the build script wins), else its default; `None` for a
    /// generator cairn does not know.
    pub fn output(self, dir: &Path) -> Option<String> {
        let set = self.config_file(dir).and_then(|path| match self {
            Generator::Hugo => config_string(&path, &["publishDir", "publishdir"]),
            Generator::Jekyll => config_string(&path, &["destination"]),
            Generator::Hexo => config_string(&path, &["public_dir"]),
            Generator::Astro => config_string(&path, &["outDir"]),
            Generator::VitePress => config_string(&path, &["outDir"]),
            Generator::Zola => config_string(&path, &["output_dir"]),
            Generator::MkDocs => config_string(&path, &["site_dir"]),
            Generator::Pelican => pelican_setting(dir, "OUTPUT_PATH"),
            Generator::Eleventy => eleventy_output(&std::fs::read_to_string(&path).ok()?),
            Generator::Docusaurus | Generator::Other => None,
        });
        let option = match self {
            Generator::Eleventy => Some("--output"),
            Generator::Docusaurus => Some("--out-dir"),
            _ => None,
        };
        let set = option
            .and_then(|option| option_value(&build_script(dir)?, option))
            .or(set);
        let output = set
            .as_deref()
            .and_then(relative_dir)
            .or_else(|| self.default_output().map(str::to_string))?;
        // VitePress's `outDir` is relative to its source directory (`../public` is
        // `public`).
        match (self, vitepress_source(dir)) {
            (Generator::VitePress, Some(source)) => {
                let mut parts = Vec::new();
                for part in source.split('/').chain(output.split('/')) {
                    match part {
                        "" | "." => {}
                        ".." => {
                            parts.pop()?;
                        }
                        part => parts.push(part),
                    }
                }
                relative_dir(&parts.join("/"))
            }
            _ => Some(output),
        }
    }

    /// The languages of a site written in several, as its configuration lists them:
    /// Hugo's `languages` (in its configuration file, or `languages.*` of its
    /// configuration directory), Zola's `default_language` and `languages`, Astro's and
    /// Docusaurus' `i18n.locales`, the `lang` of VitePress's `locales`; empty for a site in
    /// one, or a generator that does not say.
    pub fn languages(self, dir: &Path) -> Vec<String> {
        let keys = |value: Option<&serde_json::Value>| -> Vec<String> {
            value
                .and_then(serde_json::Value::as_object)
                .map(|object| object.keys().cloned().collect())
                .unwrap_or_default()
        };
        let config = self.config_file(dir);
        let languages = match self {
            Generator::Hugo => {
                let value = config.and_then(|c| config_value(&c));
                let own = keys(value.as_ref().and_then(|v| v.get("languages")));
                if own.is_empty() {
                    let file = first(&dir.join("config/_default"), "languages", HUGO_FORMATS);
                    keys(file.and_then(|path| config_value(&path)).as_ref())
                } else {
                    own
                }
            }
            Generator::Zola => {
                let value = config.and_then(|c| config_value(&c)).unwrap_or_default();
                let default = value["default_language"].as_str().unwrap_or("en");
                std::iter::once(default.to_string())
                    .chain(
                        keys(value.get("languages"))
                            .into_iter()
                            .filter(|l| l != default),
                    )
                    .collect()
            }
            Generator::Astro | Generator::Docusaurus => config
                .and_then(|c| std::fs::read_to_string(c).ok())
                .and_then(|text| js_strings(property(&text, "locales")?))
                .unwrap_or_default(),
            Generator::VitePress => config
                .and_then(|c| std::fs::read_to_string(c).ok())
                .and_then(|text| vitepress_languages(&text))
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        if languages.len() > 1 {
            languages
        } else {
            Vec::new()
        }
    }

    /// For a site in several languages: the placeholders, each naming the language of
    /// the page it is on, in the generator's templates.
    pub fn multilingual_snippet(self) -> Option<Cow<'static, str>> {
        Some(match self {
            Generator::Hugo => {
                "    <div id=\"cairn-comments\" data-cairn-lang=\"{{ .Language.Lang }}\"></div>\n\
                 \x20   <span data-cairn-count=\"{{ .RelPermalink }}\" data-cairn-lang=\"{{ .Language.Lang }}\"></span>\n"
            }
            Generator::Zola => {
                "    <div id=\"cairn-comments\" data-cairn-lang=\"{{ lang }}\"></div>\n\
                 \x20   <span data-cairn-count=\"{{ page.path }}\" data-cairn-lang=\"{{ lang }}\"></span>\n"
            }
            Generator::Astro => {
                "    <div id=\"cairn-comments\" data-cairn-lang={Astro.currentLocale}></div>\n\
                 \x20   <span data-cairn-count={`/blog/${post.id}/`} data-cairn-lang={Astro.currentLocale}></span>\n"
            }
            // A page's Markdown is in one language, which its author knows: VitePress
            // offers Markdown no value that says it.
            Generator::VitePress => {
                "    <div id=\"cairn-comments\" data-cairn-lang=\"fr\"></div>\n\
                 \x20   <span data-cairn-count=\"/fr/posts/mousse.html\" data-cairn-lang=\"fr\"></span>\n\n\
                 (on the pages of each locale, its `lang`, as here for `fr`;\n\
                 those of the root locale need none)\n"
            }
            Generator::Docusaurus => {
                return Some(
                    format!(
                        "the theme component above becomes \
                         (src/theme/BlogPostItem/Footer/index.js):\n\n{}",
                        indented(&docusaurus_footer_multilingual())
                    )
                    .into(),
                )
            }
            _ => return None,
        }
        .into())
    }

    /// The template snippet: the comments placeholder, and a count for index pages.
    pub fn snippet(self) -> Cow<'static, str> {
        let snippet = match self {
            Generator::Hugo => return format!("{HUGO_PLACEHOLDER}\n{HUGO_COUNT}").into(),
            Generator::Jekyll => {
                "In _layouts/post.html (copy your theme's there first if the site has none),\n\
                 where comments go:\n\
                 \n    <div id=\"cairn-comments\"></div>\n\n\
                 On index pages, a comment count per post:\n\
                 \n    <span data-cairn-count=\"{{ post.url | relative_url }}\"></span>\n"
            }
            Generator::Eleventy => {
                "In the layout of your posts, where comments go:\n\
                 \n    <div id=\"cairn-comments\"></div>\n\n\
                 In a collection loop, a comment count per post:\n\
                 \n    <span data-cairn-count=\"{{ post.url }}\"></span>\n"
            }
            Generator::Hexo => {
                "In your theme's post layout (layout/post.ejs, or layout/_partial/article.ejs\n\
                 in themes like landscape; copy a theme installed with npm into themes/ first),\n\
                 where comments go:\n\
                 \n    <div id=\"cairn-comments\"></div>\n\n\
                 On index pages, a comment count per post:\n\
                 \n    <span data-cairn-count=\"<%- url_for(post.path) %>\"></span>\n"
            }
            Generator::Astro => {
                "In the layout of your posts (in src/layouts/), where comments go:\n\
                 \n    <div id=\"cairn-comments\"></div>\n\n\
                 Where you list posts, a comment count per post: its path, as your link to\n\
                 it has it, e.g.\n\
                 \n    <span data-cairn-count={`/blog/${post.id}/`}></span>\n"
            }
            Generator::VitePress => {
                "In the Markdown of each page that takes comments, where comments go:\n\
                 \n    <div id=\"cairn-comments\"></div>\n\n\
                 Where you list pages, a comment count per page: its path, as your link to it\n\
                 has it (`/posts/moss.html`; `/posts/moss` with cleanUrls), e.g.\n\
                 \n    <span data-cairn-count=\"/posts/moss.html\"></span>\n\n\
                 VitePress renders every page after the first in the browser, and the\n\
                 placeholders empty: cairn's script fills them from the page's HTML file. So\n\
                 every page must load it and the stylesheet. In .vitepress/config.*, add to the\n\
                 configuration (with `base` set, put it in front of both paths):\n\
                 \n    head: [\
                 \n      [\"link\", { rel: \"stylesheet\", href: \"/cairn.css\" }],\
                 \n      [\"script\", { src: \"/cairn.js\", defer: \"\" }],\
                 \n    ],\n"
            }
            Generator::Docusaurus => {
                return format!(
                    "For blog posts, wrap the theme's post footer: write \
                     src/theme/BlogPostItem/Footer/index.js:\n\n{}{DOCUSAURUS_SNIPPET_END}",
                    indented(DOCUSAURUS_FOOTER)
                )
                .into()
            }
            Generator::Zola => {
                "In templates/page.html, where comments go:\n\
                 \n    <div id=\"cairn-comments\"></div>\n\n\
                 In a section's page loop, a comment count per page:\n\
                 \n    <span data-cairn-count=\"{{ page.path }}\"></span>\n"
            }
            Generator::MkDocs => {
                "In the theme's main.html, overridden: with `custom_dir: overrides` under\n\
                 `theme:` in mkdocs.yml, write overrides/main.html:\n\
                 \n    {% extends \"base.html\" %}\
                 \n    {% block content %}\
                 \n      {{ super() }}\
                 \n      <div id=\"cairn-comments\"></div>\
                 \n    {% endblock %}\n\n\
                 A page's comment count, anywhere in it (or in a nav loop, with nav_item):\n\
                 \n    <span data-cairn-count=\"{{ page.abs_url }}\"></span>\n"
            }
            Generator::Pelican => {
                "In the theme's article.html; or, keeping the theme, in an override: with\n\
                 THEME_TEMPLATES_OVERRIDES = [\"overrides\"] in pelicanconf.py, write\n\
                 overrides/article.html:\n\
                 \n    {% extends \"!theme/article.html\" %}\
                 \n    {% block content %}\
                 \n      {{ super() }}\
                 \n      <div id=\"cairn-comments\"></div>\
                 \n    {% endblock %}\n\n\
                 In an article loop (index.html), a comment count per article:\n\
                 \n    <span data-cairn-count=\"{{ SITEURL }}/{{ article.url }}\"></span>\n"
            }
            Generator::Other => {
                "In the template of the pages that take comments, where comments go:\n\
                 \n    <div id=\"cairn-comments\"></div>\n\n\
                 On index pages, a comment count per page: the page's path (or full URL),\n\
                 as your templates print a link to it:\n\
                 \n    <span data-cairn-count=\"/path/of/the/page/\"></span>\n"
            }
        };
        snippet.into()
    }

    /// The list of the site's newest comments, which takes no template variable.
    pub fn recent_snippet(self) -> &'static str {
        match self {
            Generator::Docusaurus => {
                "Anywhere (a page's MDX, a swizzled component), the site's newest comments:\n\
                 \n    <div data-cairn-recent=\"5\" dangerouslySetInnerHTML={{__html: ''}} />\n"
            }
            _ => {
                "Anywhere (a sidebar, the home page), the site's newest comments:\n\
                 \n    <div data-cairn-recent=\"5\"></div>\n"
            }
        }
    }

    /// How this site is built, locally and in a GitHub workflow, by what `dir` keeps: a
    /// Jekyll site without a Gemfile is built the way GitHub Pages' own build does it (the
    /// `github-pages` gem), an Eleventy or Hexo site with its `build` script if it has
    /// one, after `npm install` where it has no lock file for `npm ci`. `None` for a
    /// generator cairn does not know.
    pub fn build(self, dir: &Path) -> Option<Build> {
        Some(match self {
            Generator::Hugo => Build {
                local: "hugo".into(),
                watch: Some("hugo --watch".into()),
                steps: hugo_steps(local_version(dir, "hugo", "version")),
            },
            Generator::Jekyll if dir.join("Gemfile").is_file() => Build {
                local: "bundle exec jekyll build".into(),
                watch: Some("bundle exec jekyll build --watch".into()),
                steps: "      - uses: ruby/setup-ruby@v1\n\
                     \x20       with:\n\
                     \x20         ruby-version: '3.3'\n\
                     \x20         bundler-cache: true\n\
                     \x20     - run: bundle exec jekyll build\n\
                     \x20       env:\n\
                     \x20         JEKYLL_ENV: production\n"
                    .into(),
            },
            Generator::Jekyll => Build {
                local: "jekyll build".into(),
                watch: Some("jekyll build --watch".into()),
                steps: "      - uses: ruby/setup-ruby@v1\n\
                     \x20       with:\n\
                     \x20         ruby-version: '3.3'\n\
                     \x20     # No Gemfile: the gems GitHub Pages' own build uses.\n\
                     \x20     - run: gem install github-pages && jekyll build\n\
                     \x20       env:\n\
                     \x20         JEKYLL_ENV: production\n"
                    .into(),
            },
            Generator::Eleventy => node_build(dir, "build", "npx @11ty/eleventy", true),
            Generator::Hexo => node_build(dir, "build", "npx hexo generate", true),
            // `astro dev` serves from memory; `astro build` has no watch.
            Generator::Astro => node_build(dir, "build", "npx astro build", false),
            // Nor has `vitepress build`. `vitepress init` names its script `docs:build`.
            Generator::VitePress => {
                let command = match vitepress_source(dir).as_deref() {
                    None | Some(".") => "npx vitepress build".to_string(),
                    Some(source) => format!("npx vitepress build {source}"),
                };
                let script = match script(dir, "docs:build") {
                    Some(_) => "docs:build",
                    None => "build",
                };
                node_build(dir, script, &command, false)
            }
            Generator::Docusaurus => node_build(dir, "build", "npx docusaurus build", false),
            Generator::Zola => Build {
                local: "zola build".into(),
                watch: None,
                steps: zola_steps(local_version(dir, "zola", "--version")),
            },
            Generator::MkDocs => {
                let theme = self.setting(dir, &["theme", "theme.name"]).map(|t| t.0);
                let package = match theme.as_deref() {
                    Some("material") => "mkdocs-material",
                    _ => "mkdocs",
                };
                python_build(dir, package, "mkdocs build", "mkdocs build", None)
            }
            // The publishing configuration (the site's URL, absolute links) in CI.
            Generator::Pelican => python_build(
                dir,
                "\"pelican[markdown]\"",
                "pelican content",
                if dir.join("publishconf.py").is_file() {
                    "pelican content -s publishconf.py"
                } else {
                    "pelican content"
                },
                Some("pelican content --autoreload"),
            ),
            Generator::Other => return None,
        })
    }
}

/// The Hugo a workflow installs when the machine `cairn init` runs on has none: a recent
/// release.
const HUGO_RELEASE: (u32, u32, u32) = (0, 168, 0);

/// The version of the generator `program` that builds the site in `dir` on this
/// machine, as its `version_arg` prints it, if it is installed.
fn local_version(dir: &Path, program: &str, version_arg: &str) -> Option<(u32, u32, u32)> {
    let out = std::process::Command::new(program)
        .arg(version_arg)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|out| out.status.success())?;
    printed_version(&String::from_utf8_lossy(&out.stdout))
}

/// The first version a program's version line names, as `hugo version` (`hugo
/// v0.111.3+extended linux/amd64 ...`; before 0.80, `Hugo Static Site Generator
/// v0.68.3-157669A0 ...`) or `zola --version` (`zola 0.17.2`) prints it.
fn printed_version(printed: &str) -> Option<(u32, u32, u32)> {
    let rest = printed
        .split_whitespace()
        .map(|word| word.strip_prefix('v').unwrap_or(word))
        .find(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))?;
    let end = rest
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(rest.len());
    let mut parts = rest[..end].split('.').map(str::parse::<u32>);
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor)), Some(Ok(patch)), None) => Some((major, minor, patch)),
        _ => None,
    }
}

/// A workflow's steps that install Zola (with taiki-e/install-action, from Zola's
/// releases), pinned to `local`, the one the site is built with here (Zola's releases
/// rename configuration keys), and build the site.
fn zola_steps(local: Option<(u32, u32, u32)>) -> String {
    let (comment, tool) = match local {
        Some((major, minor, patch)) => (
            "      # The Zola installed where `cairn init` ran; raise its version to upgrade.\n",
            format!("zola@{major}.{minor}.{patch}"),
        ),
        None => ("", "zola".to_string()),
    };
    format!(
        "{comment}\
         \x20     - uses: taiki-e/install-action@v2\n\
         \x20       with:\n\
         \x20         tool: {tool}\n\
         \x20     - run: zola build\n"
    )
}

/// A workflow's steps that install Hugo's extended edition from its release on GitHub,
/// pinned to `local` (the one the site is built with here), else to [`HUGO_RELEASE`],
/// and build the site. Distributions' packages lag far behind what current themes need.
fn hugo_steps(local: Option<(u32, u32, u32)>) -> String {
    let ((major, minor, patch), why) = match local {
        Some(version) => (
            version,
            "The Hugo installed where `cairn init` ran; raise HUGO_VERSION to upgrade.",
        ),
        None => (
            HUGO_RELEASE,
            "A recent Hugo: set HUGO_VERSION to the one you build with.",
        ),
    };
    // Hugo's release files were renamed in 0.103.0.
    let platform = if (major, minor) < (0, 103) {
        "Linux-64bit"
    } else {
        "linux-amd64"
    };
    format!(
        "      # {why}\n\
         \x20     - run: |\n\
         \x20         wget -q -O \"$RUNNER_TEMP/hugo.deb\" \"https://github.com/gohugoio/hugo/releases/download/v${{HUGO_VERSION}}/hugo_extended_${{HUGO_VERSION}}_{platform}.deb\"\n\
         \x20         sudo dpkg -i \"$RUNNER_TEMP/hugo.deb\"\n\
         \x20       env:\n\
         \x20         HUGO_VERSION: {major}.{minor}.{patch}\n\
         \x20     - run: hugo --minify\n"
    )
}

/// How a site built with Node is built: with its own script `script_name` when its
/// package.json has one (it may do more than run the generator), else with `command`
/// (whose `--watch`, if it `watches`, builds it again on every change). `npm ci` and
/// setup-node's npm cache need npm's lock file.
fn node_build(dir: &Path, script_name: &str, command: &str, watches: bool) -> Build {
    // What a build script does besides running the generator is not known, so there is
    // no telling how it would watch.
    let (local, watch) = if script(dir, script_name).is_some() {
        (format!("npm run {script_name}"), None)
    } else {
        let watch = watches.then(|| format!("{command} --watch"));
        (command.to_string(), watch)
    };
    let (install, cache) = if dir.join("package-lock.json").is_file() {
        ("npm ci", "          cache: npm\n")
    } else {
        ("npm install", "")
    };
    Build {
        steps: format!(
            "      - uses: actions/setup-node@v4\n\
             \x20       with:\n\
             \x20         node-version: 22\n\
             {cache}\
             \x20     - run: {install} && {local}\n"
        ),
        local,
        watch,
    }
}

/// How a site built with Python is built: `local` on the owner's machine (`watch` to
/// build it again on every change), `ci` in a workflow after installing the site's
/// `requirements.txt`, else `package`.
fn python_build(dir: &Path, package: &str, local: &str, ci: &str, watch: Option<&str>) -> Build {
    let install = if dir.join("requirements.txt").is_file() {
        "-r requirements.txt"
    } else {
        package
    };
    Build {
        local: local.into(),
        watch: watch.map(str::to_string),
        steps: format!(
            "      - uses: actions/setup-python@v5\n\
             \x20       with:\n\
             \x20         python-version: '3.12'\n\
             \x20     - run: pip install {install} && {ci}\n"
        ),
    }
}

/// How cairn is wired into a site: its generator, the directory the site is built
/// into (relative to the repository), and how it is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wiring {
    pub generator: Generator,
    pub output: String,
    pub build: Build,
}

impl Wiring {
    /// The wiring of the site in `dir`: the generator's own, with the output directory
    /// the owner gives (`output`) over the one its configuration sets; for `Other`,
    /// `output` and `build` (its build command) are needed, and only there is a build
    /// command taken.
    pub fn new(
        dir: &Path,
        generator: Generator,
        output: Option<&str>,
        build: Option<&str>,
    ) -> Result<Wiring> {
        let output = match output {
            Some(given) => relative_dir(given).with_context(|| {
                format!(
                    "--output {given:?}: name the directory the site is built into, \
                     relative to the repository"
                )
            })?,
            None => match generator.output(dir) {
                Some(output) => output,
                None => bail!("{}", Self::NEEDED),
            },
        };
        let build = match (generator.build(dir), build.map(str::trim)) {
            (Some(own), None) => own,
            (None, Some(command)) if !command.is_empty() => Build {
                local: command.to_string(),
                watch: None,
                steps: format!(
                    "      # Install what `{command}` needs first (actions/setup-node, \
                     actions/setup-python, ...).\n\
                     \x20     - run: {}\n",
                    yaml_string(command)
                ),
            },
            (None, _) => bail!("{}", Self::NEEDED),
            (Some(own), Some(_)) => bail!(
                "--build is for a generator cairn does not know (--generator other); the \
                 printed workflow builds a {} site with `{}`: edit it there to build it \
                 another way",
                generator.name(),
                own.local
            ),
        };
        Ok(Wiring {
            generator,
            output,
            build,
        })
    }

    /// What a site built by a generator cairn does not know must say.
    pub const NEEDED: &str = "for a generator cairn does not know, give the directory it \
                          builds the site into and the command that builds it: --output DIR \
                          --build COMMAND (e.g. --output dist --build \"npm run build\")";

    /// A GitHub Pages workflow: builds the site, renders the comments, deploys; on a
    /// pull request (moderation included) it checks the comment files instead.
    pub fn workflow(&self) -> String {
        let output = yaml_string(&self.output);
        format!(
            "# .github/workflows/pages.yml\n\
             name: Pages\n\
             on:\n\
             \x20 push:\n\
             \x20   branches: [main]\n\
             \x20 pull_request:\n\
             \x20 workflow_dispatch:\n\
             permissions:\n\
             \x20 contents: read\n\
             \x20 pages: write\n\
             \x20 id-token: write\n\
             concurrency:\n\
             \x20 group: pages\n\
             \x20 cancel-in-progress: false\n\
             jobs:\n\
             \x20 build:\n\
             \x20   runs-on: ubuntu-latest\n\
             \x20   steps:\n\
             \x20     - uses: actions/checkout@v4\n\
             \x20       with:\n\
             \x20         fetch-depth: 0\n\
             \x20         # Themes kept as git submodules.\n\
             \x20         submodules: recursive\n\
             \x20     # Moderation pull requests: check the new comment files and show them rendered.\n\
             \x20     - if: github.event_name == 'pull_request'\n\
             \x20       uses: {ACTION}\n\
             \x20       with:\n\
             \x20         command: check\n\
             \x20         strict: true\n\
             \x20         version: {VERSION}\n\
             {build}\
             \x20     - if: github.event_name != 'pull_request'\n\
             \x20       uses: {ACTION}\n\
             \x20       with:\n\
             \x20         command: render\n\
             \x20         site-dir: {output}\n\
             \x20         version: {VERSION}\n\
             \x20     - if: github.event_name != 'pull_request'\n\
             \x20       uses: actions/upload-pages-artifact@v3\n\
             \x20       with:\n\
             \x20         path: {output}\n\
             \x20 deploy:\n\
             \x20   if: github.event_name != 'pull_request'\n\
             \x20   needs: build\n\
             \x20   runs-on: ubuntu-latest\n\
             \x20   environment:\n\
             \x20     name: github-pages\n\
             \x20     url: ${{{{ steps.deployment.outputs.page_url }}}}\n\
             \x20   steps:\n\
             \x20     - id: deployment\n\
             \x20       uses: actions/deploy-pages@v4\n",
            build = self.build.steps,
        )
    }
}

/// A string as a YAML scalar: as it is when every YAML reader reads it back as that
/// string (YAML 1.1's readers take `yes` and `off` for booleans), else double-quoted (a
/// JSON string is a YAML double-quoted scalar).
fn yaml_string(text: &str) -> String {
    const BOOLEANS_1_1: &[&str] = &["y", "n", "yes", "no", "on", "off"];
    let plain = !text.is_empty()
        && !BOOLEANS_1_1.contains(&text.to_ascii_lowercase().as_str())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ' '))
        && !text.starts_with([' ', '-'])
        && !text.ends_with(' ')
        && serde_norway::from_str::<serde_json::Value>(text).ok()
            == Some(serde_json::Value::from(text));
    if plain {
        text.to_string()
    } else {
        serde_json::Value::from(text).to_string()
    }
}

/// A directory named relative to the site's repository, as cairn.toml keeps it: without
/// a leading `./` or a trailing `/`; `None` when it names the repository itself, or is
/// absolute.
fn relative_dir(dir: &str) -> Option<String> {
    let mut dir = dir.trim();
    while let Some(rest) = dir.strip_prefix("./") {
        dir = rest;
    }
    let dir = dir.trim_end_matches('/');
    (!dir.is_empty() && dir != "." && !Path::new(dir).is_absolute()).then(|| dir.to_string())
}

/// The commands that build a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    /// The command that builds it on the owner's machine.
    pub local: String,
    /// The command that builds it again on every change, if the generator has one that
    /// surely writes where `local` does.
    pub watch: Option<String>,
    /// The steps of a GitHub workflow that install the generator and build the site.
    steps: String,
}

/// The generator a site directory uses, by its configuration files, and the site's
/// URL when its configuration names one.
pub fn detect(dir: &Path) -> Option<(Generator, Option<String>)> {
    const HUGO_URL: &[&str] = &["baseURL", "baseurl"];
    if let Some(config) = hugo_config(dir) {
        return Some((Generator::Hugo, config_string(&config, HUGO_URL)));
    }
    if Generator::Pelican.config_file(dir).is_some() {
        return Some((Generator::Pelican, pelican_setting(dir, "SITEURL")));
    }
    if let Some(config) = Generator::MkDocs.config_file(dir) {
        return Some((Generator::MkDocs, config_string(&config, &["site_url"])));
    }
    // Hexo's configuration is `_config.yml` too; its package.json tells it from Jekyll's.
    if let Some(config) = Generator::Hexo.config_file(dir).filter(|_| uses_hexo(dir)) {
        return Some((Generator::Hexo, config_string(&config, &["url"])));
    }
    if let Some(config) = Generator::Jekyll.config_file(dir) {
        let url = config_string(&config, &["url"])
            .map(|url| with_base(&url, config_string(&config, &["baseurl"])));
        return Some((Generator::Jekyll, url));
    }
    let astro = Generator::Astro.config_file(dir);
    if astro.is_some() || depends_on(dir, "astro") {
        let setting = |key| astro.as_deref().and_then(|c| config_string(c, &[key]));
        let url = setting("site").map(|site| with_base(&site, setting("base")));
        return Some((Generator::Astro, url));
    }
    // VitePress names no site URL but its sitemap's.
    let vitepress = Generator::VitePress.config_file(dir);
    if vitepress.is_some() || depends_on(dir, "vitepress") {
        let setting = |key| vitepress.as_deref().and_then(|c| config_string(c, &[key]));
        let url = setting("sitemap.hostname").map(|host| with_base(&host, setting("base")));
        return Some((Generator::VitePress, url));
    }
    let docusaurus = Generator::Docusaurus.config_file(dir);
    if docusaurus.is_some() || depends_on(dir, "@docusaurus/core") {
        let setting = |key| docusaurus.as_deref().and_then(|c| config_string(c, &[key]));
        let url = setting("url").map(|url| with_base(&url, setting("baseUrl")));
        return Some((Generator::Docusaurus, url));
    }
    if Generator::Eleventy.config_file(dir).is_some() || depends_on(dir, "@11ty/eleventy") {
        return Some((Generator::Eleventy, None));
    }
    // Hugo's older config.toml has `baseURL`; Zola's has `base_url`. A zola.toml is
    // Zola's alone.
    if let Some(config) = Generator::Zola.config_file(dir) {
        let url = config_string(&config, &["base_url"]);
        if url.is_some() || config.ends_with("zola.toml") {
            return Some((Generator::Zola, url));
        }
        if let Some(url) = config_string(&config, HUGO_URL) {
            return Some((Generator::Hugo, Some(url)));
        }
    }
    first(dir, "config", &["yaml", "yml", "json"])
        .map(|config| (Generator::Hugo, config_string(&config, HUGO_URL)))
}

/// A site URL with the base path a configuration gives apart from it (Jekyll's
/// `baseurl`, Astro's and VitePress's `base`, Docusaurus' `baseUrl`).
fn with_base(url: &str, base: Option<String>) -> String {
    let base = base.unwrap_or_default();
    format!("{}/{}", url.trim_end_matches('/'), base.trim_matches('/'))
}

const HUGO_FORMATS: &[&str] = &["toml", "yaml", "yml", "json"];

/// Hugo's configuration file by its current names: `hugo.*`, or in its configuration
/// directory (not the older `config.*`, which other generators use too).
/// Where a Hugo site's comments go, when its theme has no place for them.
const HUGO_PLACEHOLDER: &str =
    "In the template of single pages (layouts/_default/single.html, or\n\
     layouts/page.html since Hugo 0.146; copy your theme's there first),\n\
     where comments go:\n\
     \n    <div id=\"cairn-comments\"></div>\n";

/// A Hugo site's comment count per post.
pub const HUGO_COUNT: &str = "On list pages, a comment count per post:\n\
     \n    <span data-cairn-count=\"{{ .RelPermalink }}\"></span>\n";

/// A Hugo theme's place for comments: a partial its page templates call where comments
/// go, which the theme leaves empty (or does not have) for the site to fill, as
/// PaperMod, Congo and Blowfish do with `comments.html`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeHook {
    pub theme: String,
    /// The theme's template that calls the partial, relative to the site, and the line.
    pub call: (PathBuf, usize),
    /// The condition the call is under, as written (`{{- if (.Param "comments") }}`).
    pub guard: Option<String>,
    /// The site's file that fills it, relative to the site
    /// (`layouts/partials/comments.html`).
    pub partial: PathBuf,
}

impl ThemeHook {
    /// The site parameter that turns the theme's comments on, where its condition names
    /// one (`.Param "comments"`: `comments`; `site.Params.article.showComments`:
    /// `article.showComments`).
    pub fn param(&self) -> Option<String> {
        let guard = self.guard.as_deref()?;
        let site = ["site.Params.", "Site.Params."]
            .iter()
            .find_map(|p| guard.split(p).nth(1))
            .map(|rest| {
                rest.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                    .next()
                    .unwrap_or_default()
                    .trim_end_matches('.')
                    .to_string()
            });
        let param = || {
            let rest = guard.split(".Param \"").nth(1)?;
            Some(rest.split('"').next()?.to_string())
        };
        site.or_else(param).filter(|name| !name.is_empty())
    }

    /// How to set [`ThemeHook::param`] in the configuration file `config` (TOML, YAML or
    /// JSON), as a hint: "`comments = true` under `[params]`".
    pub fn setting(&self, config: &Path) -> Option<String> {
        let param = self.param()?;
        let (table, key) = match param.rsplit_once('.') {
            Some((table, key)) => (format!("params.{table}"), key.to_string()),
            None => ("params".to_string(), param),
        };
        let toml = config.extension().is_some_and(|e| e == "toml");
        Some(if toml {
            format!("`{key} = true` under `[{table}]`")
        } else {
            format!("`{key}: true` under `{table}`")
        })
    }
}

/// The theme a Hugo site names (`theme`, the first of a list) and its directory,
/// relative to the site (under `themesDir`, `themes` by default).
fn hugo_theme(dir: &Path) -> Option<(String, PathBuf)> {
    let theme = Generator::Hugo.setting(dir, &["theme"])?.0;
    let themes = Generator::Hugo
        .setting(dir, &["themesDir"])
        .map_or("themes".to_string(), |t| t.0);
    let theme_dir = Path::new(&themes).join(&theme);
    Some((theme, theme_dir))
}

/// The partial where the theme of the Hugo site in `dir` shows comments, when the site
/// does not fill it yet (see [`ThemeHook`]); `None` for a site without a theme, a
/// theme that shows no such partial or fills it itself (with a comment system of its
/// own), and a site that fills it already.
pub fn hugo_theme_hook(dir: &Path) -> Option<ThemeHook> {
    let (theme, theme_dir) = hugo_theme(dir)?;
    let layouts = dir.join(theme_dir).join("layouts");
    let pages = walkdir::WalkDir::new(&layouts)
        .max_depth(4)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy();
            e.file_type().is_file()
                && name.ends_with(".html")
                && (name.starts_with("single") || name == "page.html")
        });
    for page in pages {
        let Ok(text) = std::fs::read_to_string(page.path()) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        let calls = |l: &str| {
            ["partial \"comments.html\"", "partial \"comments\""]
                .iter()
                .any(|call| l.contains(call))
        };
        let Some(at) = lines.iter().position(|l| calls(l)) else {
            continue;
        };
        // A template of the site's own in its place is what Hugo uses: the partial
        // counts only if that calls it too.
        let relative = page.path().strip_prefix(&layouts).unwrap_or(page.path());
        if let Ok(own) = std::fs::read_to_string(dir.join("layouts").join(relative)) {
            if !own.lines().any(calls) {
                return None;
            }
        }
        // The theme's own partial, if it has one, must be a stub for the site to replace.
        let folders = ["partials", "_partials"];
        let own = folders
            .iter()
            .map(|f| layouts.join(f).join("comments.html"))
            .find(|p| p.is_file());
        if let Some(own) = &own {
            if !is_stub(&std::fs::read_to_string(own).ok()?) {
                return None;
            }
        }
        if folders
            .iter()
            .any(|f| dir.join("layouts").join(f).join("comments.html").exists())
        {
            return None;
        }
        // The site's file goes in the folder the theme keeps its partials in.
        let folder = match own.as_ref().and_then(|p| p.parent()?.file_name()) {
            Some(name) => name.to_string_lossy().into_owned(),
            None if layouts.join("_partials").is_dir() => "_partials".into(),
            None => "partials".into(),
        };
        // The nearest condition above the call, but for one asking whether the partial
        // exists (Congo's and Blowfish's `templates.Exists`).
        let guard = lines[at.saturating_sub(8)..=at]
            .iter()
            .rev()
            .find(|l| {
                let action = l
                    .trim_start()
                    .trim_start_matches("{{")
                    .trim_start_matches('-');
                let action = action.trim_start();
                (action.starts_with("if ") || action.starts_with("with "))
                    && !action.contains("templates.Exists")
            })
            .map(|l| l.trim().to_string());
        return Some(ThemeHook {
            theme,
            call: (
                page.path()
                    .strip_prefix(dir)
                    .unwrap_or(page.path())
                    .to_path_buf(),
                at + 1,
            ),
            guard,
            partial: Path::new("layouts").join(folder).join("comments.html"),
        });
    }
    None
}

/// A theme's template for the pages that take comments, which the site must copy into
/// its own templates to put the placeholder in (see [`theme_layout`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeLayout {
    pub theme: String,
    /// The theme's file (under the site for a Hugo theme, in the gem for Jekyll).
    pub from: PathBuf,
    /// Where the site's copy goes, relative to the site.
    pub to: &'static str,
}

/// The template of a site's theme that its posts are written with, when the site has
/// none of its own: a Hugo theme's single-page template (`themes/NAME/layouts/…`), or
/// the post layout of a Jekyll gem theme (`theme: minima`; found with Bundler when the
/// site has a Gemfile, else RubyGems). `None` for a site without a theme, with a
/// template of its own, or whose theme's files are not here.
pub fn theme_layout(generator: Generator, dir: &Path) -> Option<ThemeLayout> {
    match generator {
        Generator::Hugo => {
            let (theme, theme_dir) = hugo_theme(dir)?;
            // Hugo before 0.146 and after it, each for the site's copy and the theme's.
            let kinds = ["layouts/_default/single.html", "layouts/page.html"];
            if kinds.iter().any(|k| dir.join(k).exists()) {
                return None;
            }
            kinds.iter().find_map(|kind| {
                let from = theme_dir.join(kind);
                dir.join(&from).is_file().then(|| ThemeLayout {
                    theme: theme.clone(),
                    from,
                    to: kind,
                })
            })
        }
        Generator::Jekyll => {
            let theme = generator.setting(dir, &["theme"])?.0;
            let to = "_layouts/post.html";
            if dir.join(to).exists() {
                return None;
            }
            let found = if dir.join("Gemfile").is_file() {
                std::process::Command::new("bundle")
                    .args(["info", "--path", &theme])
                    .current_dir(dir)
                    .output()
            } else {
                std::process::Command::new("ruby")
                    .args([
                        "-e",
                        "print Gem::Specification.find_by_name(ARGV[0]).gem_dir",
                        &theme,
                    ])
                    .current_dir(dir)
                    .output()
            }
            .ok()
            .filter(|out| out.status.success())?;
            let gem = String::from_utf8(found.stdout).ok()?;
            let from = Path::new(gem.trim()).join(to);
            from.is_file().then_some(ThemeLayout { theme, from, to })
        }
        _ => None,
    }
}

/// Whether a Hugo template holds nothing but comments (`{{/* … */}}`, `<!-- … -->`).
fn is_stub(template: &str) -> bool {
    let mut rest = template;
    loop {
        rest = rest.trim_start();
        let (open, close) = if rest.starts_with("{{")
            && rest[2..]
                .trim_start_matches('-')
                .trim_start()
                .starts_with("/*")
        {
            ("{{", "*/")
        } else if rest.starts_with("<!--") {
            ("<!--", "-->")
        } else {
            return rest.is_empty();
        };
        let Some(end) = rest[open.len()..].find(close) else {
            return false;
        };
        rest = &rest[open.len() + end + close.len()..];
        if open == "{{" {
            let Some(end) = rest.find("}}") else {
                return false;
            };
            rest = &rest[end + 2..];
        }
    }
}

fn hugo_config(dir: &Path) -> Option<PathBuf> {
    let config_dir = dir.join("config/_default");
    first(dir, "hugo", HUGO_FORMATS).or_else(|| {
        first(&config_dir, "hugo", HUGO_FORMATS)
            .or_else(|| first(&config_dir, "config", HUGO_FORMATS))
    })
}

const ELEVENTY_CONFIGS: &[&str] = &[
    "eleventy.config.js",
    "eleventy.config.mjs",
    "eleventy.config.cjs",
    "eleventy.config.ts",
    ".eleventy.js",
];

/// The output directory an Eleventy configuration (JavaScript) sets as a string:
/// `setOutputDirectory("dist")`, or `output: "dist"` in its `dir: { … }` object.
fn eleventy_output(config: &str) -> Option<String> {
    if let Some(at) = config.find("setOutputDirectory(") {
        return js_literal(&config[at + "setOutputDirectory(".len()..]);
    }
    let dir = property(config, "dir")?.strip_prefix('{')?;
    js_literal(property(
        &dir[..dir.find('}').unwrap_or(dir.len())],
        "output",
    )?)
}

/// The string literal at the start of `text` (JavaScript), after spaces: its contents;
/// `None` for anything else, a template literal with a `${…}` in it included.
fn js_literal(text: &str) -> Option<String> {
    let text = text.trim_start();
    let quote = text
        .chars()
        .next()
        .filter(|c| matches!(c, '"' | '\'' | '`'))?;
    let rest = &text[1..];
    let string = &rest[..rest.find(quote)?];
    (!string.contains("${") && !string.contains('\\')).then(|| string.to_string())
}

/// The string literals of the JavaScript array `text` starts with (Astro's
/// `locales: ["en", "fr"]`), leaving out any item that is not one (a `{ path, codes }`
/// object of Astro's); `None` when `text` does not start with an array.
fn js_strings(text: &str) -> Option<Vec<String>> {
    let items = text.strip_prefix('[')?;
    let items = &items[..items.find(']')?];
    Some(items.split(',').filter_map(js_literal).collect())
}

/// The JavaScript object literal `text` starts with, braces included: up to the brace
/// that closes the first (braces in string literals are not told from others, which a
/// configuration's locales do not have).
fn js_object(text: &str) -> Option<&str> {
    if !text.starts_with('{') {
        return None;
    }
    let mut depth = 0usize;
    for (at, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[..=at]);
                }
            }
            _ => {}
        }
    }
    None
}

/// The languages of a VitePress site with `locales`: each locale's `lang`, its root's
/// first (which is the configuration's own `lang`, `en-US` by default, when the root
/// names none); `None` without `locales`.
fn vitepress_languages(config: &str) -> Option<Vec<String>> {
    let locales = js_object(property(config, "locales")?)?;
    let root = property(locales, "root")
        .and_then(js_object)
        .and_then(|root| js_literal(property(root, "lang")?));
    let root = root.unwrap_or_else(|| {
        let outside = config.replacen(locales, "{}", 1);
        property(&outside, "lang")
            .and_then(js_literal)
            .unwrap_or_else(|| "en-US".into())
    });
    let mut languages = vec![root];
    let mut rest = locales;
    while let Some(value) = property(rest, "lang") {
        rest = value;
        if let Some(lang) = js_literal(value).filter(|lang| !languages.contains(lang)) {
            languages.push(lang);
        }
    }
    Some(languages)
}

/// What follows the first property `key` (quoted or not) of a JavaScript object
/// literal in `text`: the text after its colon, spaces skipped.
fn property<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$' || c == '.';
    let mut from = 0;
    while let Some(at) = text[from..].find(key).map(|at| at + from) {
        from = at + key.len();
        let before = text[..at].chars().next_back();
        let quoted = before.filter(|c| matches!(c, '"' | '\''));
        if before.is_some_and(|c| word(c) && quoted.is_none()) {
            continue;
        }
        let mut after = &text[from..];
        if let Some(quote) = quoted {
            let Some(rest) = after.strip_prefix(quote) else {
                continue;
            };
            after = rest;
        }
        if let Some(value) = after.trim_start().strip_prefix(':') {
            return Some(value.trim_start());
        }
    }
    None
}

/// The site URL for cairn.toml: the one given, else the one the generator's
/// configuration names, else a placeholder. A configured one that is only a path
/// (Hugo's `baseURL = "/"`, for hosts that serve the site anywhere) cannot be cairn's,
/// and one that is the address generators put in a new site's configuration (the root
/// of `example.org`, `.com` or `.net`, which are reserved for examples) is not the
/// site's: either comes back second, with what is wrong with it, to tell the owner,
/// and the placeholder stands in.
pub fn site_url(
    given: Option<&str>,
    configured: Option<String>,
) -> (String, Option<(String, &'static str)>) {
    const PLACEHOLDER: &str = "https://blog.example.org/";
    if let Some(given) = given {
        return (given.to_string(), None);
    }
    let Some(url) = configured else {
        return (PLACEHOLDER.into(), None);
    };
    let example = |parsed: url::Url| {
        parsed.path() == "/"
            && parsed.host_str().is_some_and(|host| {
                ["example.org", "example.com", "example.net"]
                    .contains(&host.trim_start_matches("www."))
            })
    };
    let why = if crate::config::origin_of(&url).is_err() {
        "is not a full http(s) URL"
    } else if url::Url::parse(&url).is_ok_and(example) {
        "is the example address a new site is made with, not the site's"
    } else {
        return (url, None);
    };
    (PLACEHOLDER.into(), Some((url, why)))
}

/// The first of `dir/stem.ext` for these extensions that is a file.
fn first(dir: &Path, stem: &str, extensions: &[&str]) -> Option<PathBuf> {
    extensions
        .iter()
        .map(|ext| dir.join(format!("{stem}.{ext}")))
        .find(|path| path.is_file())
}

const JEKYLL_FORMATS: &[&str] = &["yml", "yaml", "toml"];

const HEXO_FORMATS: &[&str] = &["yml", "yaml", "json"];

/// The extensions of JavaScript (and TypeScript) configuration files.
const JS_FORMATS: &[&str] = &["mjs", "js", "ts", "mts", "cjs", "cts"];

/// What Jekyll leaves out of a site by default (as `jekyll new` lists it). Jekyll 3,
/// which GitHub Pages' built-in build runs, forgets these once a site sets `exclude`.
const JEKYLL_EXCLUDES: &[&str] = &[
    ".sass-cache/",
    ".jekyll-cache/",
    "gemfiles/",
    "Gemfile",
    "Gemfile.lock",
    "node_modules/",
    "vendor/bundle/",
    "vendor/cache/",
    "vendor/gems/",
    "vendor/ruby/",
];

/// The `exclude` setting that keeps cairn's files (`comments_dir`, `cairn.toml`) out of
/// a Jekyll site's output: the site's own list, else Jekyll's defaults, with them
/// added, written for its configuration file (`_config.yml` or `_config.toml`): the
/// file's name and the setting, `None` when its list has them already.
pub fn jekyll_exclude(dir: &Path, comments_dir: &str) -> (String, Option<String>) {
    let config = first(dir, "_config", JEKYLL_FORMATS);
    let name = config.as_ref().map_or("_config.yml".into(), |path| {
        path.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    });
    let own: Option<Vec<String>> = config.as_deref().and_then(config_value).and_then(|value| {
        let list = value.get("exclude")?.as_array()?;
        Some(
            list.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
        )
    });
    let had_list = own.is_some();
    let mut list = own.unwrap_or_else(|| JEKYLL_EXCLUDES.iter().map(|s| s.to_string()).collect());
    let bare = |entry: &str| entry.trim().trim_matches('/').to_string();
    let mut added = false;
    for wanted in [comments_dir, "cairn.toml"] {
        if !list.iter().any(|entry| bare(entry) == bare(wanted)) {
            list.push(wanted.to_string());
            added = true;
        }
    }
    if had_list && !added {
        return (name, None);
    }
    // A JSON string is a TOML basic string and a YAML double-quoted scalar too.
    let quote = |e: &str| serde_json::Value::from(e).to_string();
    let line = if name.ends_with(".toml") {
        let quoted: Vec<String> = list.iter().map(|e| quote(e)).collect();
        format!("exclude = [{}]", quoted.join(", "))
    } else {
        let items: Vec<String> = list.iter().map(|e| yaml_string(e)).collect();
        format!("exclude: [{}]", items.join(", "))
    };
    (name, Some(line))
}

/// The site's package.json, read.
fn package_json(dir: &Path) -> Option<serde_json::Value> {
    serde_json::from_str(&std::fs::read_to_string(dir.join("package.json")).ok()?).ok()
}

/// Whether the site's package.json lists `package` among its dependencies (Eleventy
/// runs without a configuration file; Hexo's `_config.yml` is told from Jekyll's so).
fn depends_on(dir: &Path, package: &str) -> bool {
    package_json(dir).is_some_and(|value| {
        ["dependencies", "devDependencies"]
            .iter()
            .any(|key| value[key].get(package).is_some())
    })
}

/// Whether the site's package.json is a Hexo site's: it depends on Hexo, or has the
/// `hexo` key `hexo init` writes (the version that made it).
fn uses_hexo(dir: &Path) -> bool {
    depends_on(dir, "hexo") || package_json(dir).is_some_and(|value| value.get("hexo").is_some())
}

/// The `build` script of the site's package.json.
fn build_script(dir: &Path) -> Option<String> {
    script(dir, "build")
}

/// The script `name` of the site's package.json.
fn script(dir: &Path, name: &str) -> Option<String> {
    let script = package_json(dir)?["scripts"][name]
        .as_str()?
        .trim()
        .to_string();
    (!script.is_empty()).then_some(script)
}

/// The source directory of a VitePress site (the one holding `.vitepress/`), relative
/// to `dir`: as a package.json script's `vitepress build DIR` names it, else `.` or
/// `docs` where `.vitepress/` is.
fn vitepress_source(dir: &Path) -> Option<String> {
    let scripts = package_json(dir).and_then(|value| value.get("scripts").cloned());
    let named = scripts
        .as_ref()
        .and_then(serde_json::Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(_, script)| script.as_str())
        .find_map(|script| {
            let after = &script[script.find("vitepress build")? + "vitepress build".len()..];
            let word = after
                .split_whitespace()
                .next()
                .filter(|w| !w.starts_with('-'));
            // `vitepress build && …` builds the directory it runs in.
            Some(
                word.filter(|w| !matches!(*w, "&&" | ";" | "|"))
                    .unwrap_or(".")
                    .to_string(),
            )
        });
    named.or_else(|| {
        [".", "docs"]
            .into_iter()
            .find(|source| dir.join(source).join(".vitepress").is_dir())
            .map(str::to_string)
    })
}

/// A VitePress site's configuration file: `.vitepress/config.*` in its source directory.
fn vitepress_config(dir: &Path) -> Option<PathBuf> {
    let source = vitepress_source(dir)?;
    first(&dir.join(source).join(".vitepress"), "config", JS_FORMATS)
}

/// The value an `OPTION=VALUE` (or `OPTION VALUE`) option in a command gives, such as
/// Eleventy's `--output=DIR`.
fn option_value(command: &str, option: &str) -> Option<String> {
    let mut words = command.split_whitespace();
    while let Some(word) = words.next() {
        let value = match word.strip_prefix(option) {
            Some("") => words.next()?,
            Some(rest) => match rest.strip_prefix('=') {
                Some(value) => value,
                None => continue,
            },
            None => continue,
        };
        return Some(value.trim_matches(['"', '\'']).to_string());
    }
    None
}

/// A TOML, YAML, JSON or (the plain strings of) Python configuration file, read.
pub(crate) fn config_value(path: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(path).ok()?;
    match path.extension()?.to_str()? {
        "toml" => toml::from_str(&text).ok(),
        "py" => Some(python_strings(&text)),
        "json" => serde_json::from_str(&text).ok(),
        _ => serde_norway::from_str(&text).ok(),
    }
}

/// The top-level `NAME = "text"` assignments of a Python configuration file (Pelican's),
/// as an object: cairn reads only strings of it, and only plain ones (no escapes, no
/// expressions); a later assignment wins, as in Python.
fn python_strings(text: &str) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    for line in text.lines().filter(|line| !line.starts_with([' ', '\t'])) {
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim_end();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let value = value.trim_start();
        let Some(quote) = value.chars().next().filter(|c| matches!(c, '"' | '\'')) else {
            continue;
        };
        let Some((string, rest)) = value[1..].split_once(quote) else {
            continue;
        };
        let rest = rest.trim_start();
        if !string.contains('\\') && (rest.is_empty() || rest.starts_with('#')) {
            object.insert(name.to_string(), string.into());
        }
    }
    object.into()
}

/// A setting of a Pelican site: its publishing configuration's (publishconf.py, which
/// CI builds with), else its own (pelicanconf.py).
fn pelican_setting(dir: &Path, key: &str) -> Option<String> {
    ["publishconf.py", "pelicanconf.py"]
        .iter()
        .find_map(|name| config_string(&dir.join(name), &[key]))
}

/// A string of a configuration file ([`config_value`]), by its key (`a.b` for key `b`
/// of table `a`); of a list, the first (Hexo's `language` lists the site's languages,
/// its default first). Of a JavaScript one, the string literal its key's last part is
/// first set to, wherever that is ([`property`]).
fn config_string(path: &Path, keys: &[&str]) -> Option<String> {
    let js = path
        .extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| JS_FORMATS.contains(&ext));
    if js {
        let text = std::fs::read_to_string(path).ok()?;
        return keys
            .iter()
            .find_map(|key| js_literal(property(&text, key.rsplit('.').next()?)?))
            .filter(|u| !u.trim().is_empty());
    }
    let value = config_value(path)?;
    keys.iter()
        .find_map(|k| {
            let value = k.split('.').try_fold(&value, |value, key| value.get(key))?;
            let value = value.as_array().map_or(Some(value), |list| list.first())?;
            value.as_str().map(str::to_string)
        })
        .filter(|u| !u.trim().is_empty())
}

/// A value of the generator's configuration, and the key that holds it.
pub type Named = (String, &'static str);

/// What `init` wrote.
#[derive(Debug)]
pub struct Setup {
    pub config: PathBuf,
    pub comments_dir: PathBuf,
    /// Whether `.cairn/` was added to `.gitignore`.
    pub gitignored: bool,
    /// The site's name as its configuration gives it (and the key), which `cairn.toml`
    /// was given.
    pub title: Option<Named>,
    /// The site's language as its configuration names it (the tag, and the key), and
    /// the one of cairn's languages it is, which `cairn.toml` was given.
    pub language: Option<(Named, Option<&'static str>)>,
    /// The site's time zone as its configuration names it (the name, and the key), and
    /// whether cairn knows it (then `cairn.toml` was given it) or why not.
    pub timezone: Option<(Named, Result<TimeZone, String>)>,
    /// The Hugo theme's place for comments, which was given the placeholder.
    pub hook: Option<ThemeHook>,
}

/// Writes `cairn.toml`, the comments directory and the `.gitignore` entry in `dir`, and
/// the placeholder into the partial a Hugo theme shows comments in ([`ThemeHook`]).
pub fn init(dir: &Path, wiring: &Wiring, site_url: &str, inbox_url: &str) -> Result<Setup> {
    let generator = wiring.generator;
    let config = dir.join("cairn.toml");
    if config.exists() {
        bail!("{} already exists; not overwriting it", config.display());
    }
    crate::config::origin_of(site_url).with_context(|| format!("site URL {site_url:?}"))?;
    crate::config::origin_of(inbox_url).with_context(|| format!("inbox URL {inbox_url:?}"))?;
    let language = generator.language(dir).map(|named| {
        let known = crate::render::i18n::known(&named.0);
        (named, known)
    });
    // A language cairn has no strings in is written all the same: its strings are then
    // the site's to give in [strings].
    let code = language.as_ref().and_then(|((tag, _), known)| {
        known.map(str::to_string).or_else(|| {
            Some(crate::render::i18n::primary(tag))
                .filter(|code| crate::render::i18n::is_language_code(code))
        })
    });
    let timezone = generator.timezone(dir).map(|named| {
        let zone = TimeZone::named(named.0.trim());
        (named, zone)
    });
    let zone = timezone.as_ref().and_then(|(_, zone)| zone.as_ref().ok());
    let title = generator.title(dir);
    let text = config_text(
        generator,
        &wiring.output,
        site_url,
        inbox_url,
        title.as_ref().map(|(title, _)| title.as_str()),
        code.as_deref(),
        zone.map(|z| z.0.name()),
    );
    std::fs::write(&config, text).with_context(|| format!("cannot write {}", config.display()))?;
    let comments_dir = dir.join("comments");
    std::fs::create_dir_all(&comments_dir)
        .with_context(|| format!("cannot create {}", comments_dir.display()))?;
    let keep = comments_dir.join(".gitkeep");
    if !keep.exists() {
        std::fs::write(&keep, "").with_context(|| format!("cannot write {}", keep.display()))?;
    }
    let gitignore = dir.join(".gitignore");
    let existing = std::fs::read_to_string(&gitignore).unwrap_or_default();
    let gitignored = !existing
        .lines()
        .any(|l| matches!(l.trim(), ".cairn" | ".cairn/" | "/.cairn/"));
    if gitignored {
        let mut text = existing;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("# cairn inbox's spool of accepted comments\n.cairn/\n");
        std::fs::write(&gitignore, text)
            .with_context(|| format!("cannot write {}", gitignore.display()))?;
    }
    let hook = match generator {
        Generator::Hugo => hugo_theme_hook(dir),
        _ => None,
    };
    if let Some(hook) = &hook {
        let path = dir.join(&hook.partial);
        std::fs::create_dir_all(path.parent().unwrap_or(dir))
            .and_then(|()| std::fs::write(&path, "<div id=\"cairn-comments\"></div>\n"))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(Setup {
        config,
        comments_dir,
        gitignored,
        title,
        language,
        timezone,
        hook,
    })
}

/// A commented `cairn.toml` with the required keys set and every other at its default.
fn config_text(
    generator: Generator,
    output: &str,
    site_url: &str,
    inbox_url: &str,
    title: Option<&str>,
    language: Option<&str>,
    timezone: Option<&str>,
) -> String {
    let quoted = |s: &str| toml::Value::String(s.to_string()).to_string();
    let title_line = match title {
        Some(title) => commented(
            &format!("title = {}", quoted(title)),
            &format!(
                "the {} site's; titles the site's feed, taken off page titles",
                generator.name()
            ),
        ),
        None => "# title = \"My blog\"                 # titles the site's feed, taken off page titles (\"Post | My blog\")".into(),
    };
    let language_line = match language {
        Some(language) => commented(
            &format!("language = {}", quoted(language)),
            &match crate::render::i18n::known(language) {
                Some(_) => format!(
                    "the {} site's; {}",
                    generator.name(),
                    crate::render::i18n::LANGUAGES.join(", ")
                ),
                None => format!(
                    "the {} site's; cairn has no strings in it: give them in [strings]",
                    generator.name()
                ),
            },
        ),
        None => format!(
            "# language = \"en\"                   # {}",
            crate::render::i18n::LANGUAGES.join(", ")
        ),
    };
    let timezone_line = match timezone {
        Some(zone) => commented(
            &format!("timezone = {}", quoted(zone)),
            &format!("the {} site's; dates on pages are shown in it", generator.name()),
        ),
        None => "# timezone = \"UTC\"                  # dates on pages are shown in it, e.g. \"Europe/Berlin\"".into(),
    };
    format!(
        "# cairn: comments for this {name} site. Every key is documented in cairn's README;\n\
         # the commented-out ones show their defaults.\n\
         \n\
         [site]\n\
         {site_line}\n\
         {title_line}\n\
         {output_line}\n\
         {language_line}\n\
         {timezone_line}\n\
         # templates = \"cairn/templates\"     # overrides of cairn's templates\n\
         \n\
         [comments]\n\
         dir = \"comments\"                    # one file per comment, one folder per page\n\
         # sort = \"oldest\"                   # or \"newest\" first\n\
         # max_depth = 4                     # deepest nesting shown\n\
         # closed = [\"/2019/*\"]              # threads that take no new comments\n\
         # owners = [\"9f2c4e1a77b0c3d2\"]     # your comments marked: `cairn avatar ADDRESS` prints your key\n\
         \n\
         [form]\n\
         # required = [\"body\"]               # among author, email, website, body\n\
         # max_body = 10000\n\
         # max_links = 3\n\
         # blocked = [\"casino\"]              # words that turn a comment away\n\
         \n\
         [feeds]\n\
         # enabled = true                    # Atom feeds of comments, site-wide and per page\n\
         \n\
         [inbox]\n\
         {inbox_line}\n\
         # listen = \"127.0.0.1:8080\"\n\
         # spool = \".cairn/spool\"            # in .gitignore\n\
         # secret_file = \"/etc/cairn/secret\" # or CAIRN_SECRET; make one with `openssl rand -hex 32`\n\
         # trusted_proxies = [\"127.0.0.1\"]   # the reverse proxy in front of the inbox\n\
         \n\
         [inbox.delivery]\n\
         # backend = \"git\"\n\
         # mode = \"review\"                   # a branch per comment; merge to publish\n\
         # remote = \"git@github.com:you/site.git\"  # needed by `cairn inbox`\n\
         # branch = \"main\"\n",
        name = generator.name(),
        title_line = title_line,
        language_line = language_line,
        timezone_line = timezone_line,
        site_line = commented(&format!("url = {}", quoted(site_url)), "the site's public base URL"),
        output_line = commented(
            &format!("output = {}", quoted(output)),
            "the built site; `cairn render` injects comments there",
        ),
        inbox_line = commented(
            &format!("url = {}", quoted(inbox_url)),
            "where `cairn inbox` is reached; the form posts to {url}/v1/comments",
        ),
    )
}

/// A setting with its comment in the column the file's other comments use.
fn commented(setting: &str, comment: &str) -> String {
    format!("{setting:<35} # {comment}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wiring of a site of a generator cairn knows.
    fn wired(dir: &Path, generator: Generator) -> Wiring {
        Wiring::new(dir, generator, None, None).unwrap()
    }

    #[test]
    fn detects_each_generator_and_its_url() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(detect(d), None);
        std::fs::write(
            d.join("config.toml"),
            "base_url = \"https://zola.example\"\n",
        )
        .unwrap();
        assert_eq!(
            detect(d),
            Some((Generator::Zola, Some("https://zola.example".into())))
        );
        std::fs::write(
            d.join("config.toml"),
            "baseURL = \"https://old-hugo.example/\"\n",
        )
        .unwrap();
        assert_eq!(
            detect(d),
            Some((Generator::Hugo, Some("https://old-hugo.example/".into())))
        );
        // Zola's zola.toml comes before its config.toml, and is Zola's even without a URL.
        std::fs::write(d.join("zola.toml"), "title = \"Notes\"\n").unwrap();
        assert_eq!(detect(d), Some((Generator::Zola, None)));
        std::fs::write(d.join("zola.toml"), "base_url = \"https://z.example\"\n").unwrap();
        assert_eq!(
            detect(d),
            Some((Generator::Zola, Some("https://z.example".into())))
        );
        std::fs::remove_file(d.join("zola.toml")).unwrap();
        std::fs::write(
            d.join("package.json"),
            r#"{"devDependencies": {"@11ty/eleventy": "^3.0.0"}}"#,
        )
        .unwrap();
        assert_eq!(detect(d), Some((Generator::Eleventy, None)));
        std::fs::write(d.join(".eleventy.js"), "module.exports = {};\n").unwrap();
        assert_eq!(detect(d), Some((Generator::Eleventy, None)));
        std::fs::write(
            d.join("_config.yml"),
            "url: https://j.example\nbaseurl: /blog\n",
        )
        .unwrap();
        assert_eq!(
            detect(d),
            Some((Generator::Jekyll, Some("https://j.example/blog".into())))
        );
        std::fs::create_dir_all(d.join("config/_default")).unwrap();
        std::fs::write(
            d.join("config/_default/hugo.toml"),
            "baseURL = \"https://dir.example/\"\n",
        )
        .unwrap();
        assert_eq!(
            detect(d),
            Some((Generator::Hugo, Some("https://dir.example/".into())))
        );
        std::fs::write(d.join("hugo.yaml"), "baseURL: https://hugo.example/\n").unwrap();
        assert_eq!(
            detect(d),
            Some((Generator::Hugo, Some("https://hugo.example/".into())))
        );
    }

    #[test]
    fn a_hexo_site_is_told_from_a_jekyll_site_by_its_package_json() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Hexo's `url` holds the whole base URL; `root` repeats its path.
        std::fs::write(
            d.join("_config.yml"),
            "url: https://h.example/blog\nroot: /blog/\n",
        )
        .unwrap();
        std::fs::write(d.join("package.json"), r#"{"name": "blog"}"#).unwrap();
        assert_eq!(detect(d).map(|d| d.0), Some(Generator::Jekyll));
        std::fs::write(
            d.join("package.json"),
            r#"{"dependencies": {"hexo": "^8.0.0"}}"#,
        )
        .unwrap();
        assert_eq!(
            detect(d),
            Some((Generator::Hexo, Some("https://h.example/blog".into())))
        );
        // What `hexo init` writes: the version that made the site.
        std::fs::write(d.join("package.json"), r#"{"hexo": {"version": "8.1.2"}}"#).unwrap();
        assert_eq!(detect(d).map(|d| d.0), Some(Generator::Hexo));
        // Hexo's own build script, else Hexo's command (which can watch).
        assert_eq!(wired(d, Generator::Hexo).build.local, "npx hexo generate");
        assert_eq!(
            wired(d, Generator::Hexo).build.watch.as_deref(),
            Some("npx hexo generate --watch")
        );
        std::fs::write(
            d.join("package.json"),
            r#"{"hexo": {}, "scripts": {"build": "hexo generate"}}"#,
        )
        .unwrap();
        assert_eq!(wired(d, Generator::Hexo).build.local, "npm run build");
    }

    #[test]
    fn an_astro_site_is_read_from_its_javascript_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // A site made by create-astro before its URL is set: Astro by its package.json.
        std::fs::write(
            d.join("package.json"),
            r#"{"scripts": {"build": "astro build"}, "dependencies": {"astro": "^7.4.0"}}"#,
        )
        .unwrap();
        assert_eq!(detect(d), Some((Generator::Astro, None)));
        assert_eq!(Generator::Astro.output(d).as_deref(), Some("dist"));
        assert_eq!(wired(d, Generator::Astro).build.local, "npm run build");
        std::fs::write(d.join("package.json"), "{}").unwrap();
        // Astro's own command when there is no build script: it cannot watch.
        let build = wired(d, Generator::Astro).build;
        assert_eq!(
            (build.local.as_str(), build.watch),
            ("npx astro build", None)
        );
        // `site` and `base` make the URL; a `site:` elsewhere (an integration's options)
        // comes after the first, and `sitemap` is not `site`.
        std::fs::write(
            d.join("astro.config.ts"),
            "import sitemap from '@astrojs/sitemap';\n\
             // https://astro.build/config\n\
             export default defineConfig({\n\
             \x20 site: 'https://a.example',\n\
             \x20 base: '/docs/',\n\
             \x20 outDir: `./build`,\n\
             \x20 i18n: { defaultLocale: \"fr\", locales: [\"fr\", \"en\"] },\n\
             \x20 integrations: [sitemap({ site: 'https://other.example' })],\n\
             });\n",
        )
        .unwrap();
        assert_eq!(
            detect(d),
            Some((Generator::Astro, Some("https://a.example/docs".into())))
        );
        assert_eq!(Generator::Astro.output(d).as_deref(), Some("build"));
        assert_eq!(
            Generator::Astro.language(d),
            Some(("fr".into(), "i18n.defaultLocale"))
        );
        // What the configuration computes is not read.
        std::fs::write(
            d.join("astro.config.ts"),
            "export default defineConfig({ site: `https://${host}`, outDir: OUT });\n",
        )
        .unwrap();
        assert_eq!(detect(d), Some((Generator::Astro, None)));
        assert_eq!(Generator::Astro.output(d).as_deref(), Some("dist"));
    }

    #[test]
    fn a_site_in_several_languages_is_told_by_its_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let write = |name: &str, text: &str| {
            let path = d.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("hugo.toml", "[languages.en]\nweight = 1\n");
        assert!(Generator::Hugo.languages(d).is_empty(), "one language");
        write(
            "hugo.toml",
            "[languages.en]\nweight = 1\n[languages.de]\nweight = 2\n",
        );
        assert_eq!(Generator::Hugo.languages(d), ["de", "en"]);
        // Hugo's configuration directory may list them in a file of their own.
        write("hugo.toml", "title = \"x\"\n");
        write(
            "config/_default/languages.yaml",
            "en:\n  weight: 1\nja:\n  weight: 2\n",
        );
        assert_eq!(Generator::Hugo.languages(d), ["en", "ja"]);
        assert!(Generator::Hugo
            .multilingual_snippet()
            .unwrap()
            .contains(".Language.Lang"));

        // Zola: the default language, and the others.
        write(
            "zola.toml",
            "default_language = \"fr\"\n[languages.en]\ntitle = \"x\"\n",
        );
        assert_eq!(Generator::Zola.languages(d), ["fr", "en"]);
        write("zola.toml", "base_url = \"https://z/\"\n");
        assert!(Generator::Zola.languages(d).is_empty());

        // Astro: i18n.locales, its `{ path, codes }` items left out.
        write(
            "astro.config.mjs",
            "export default defineConfig({ i18n: { defaultLocale: 'es', locales: ['es', \"en\", { path: 'x' }] } });\n",
        );
        assert_eq!(Generator::Astro.languages(d), ["es", "en"]);
        write("astro.config.mjs", "export default defineConfig({});\n");
        assert!(Generator::Astro.languages(d).is_empty());

        // VitePress: the `lang` of each of its `locales`, the root's from the
        // configuration's own `lang` when it names none (and en-US without one).
        write(
            "docs/.vitepress/config.mjs",
            "export default {\n  locales: {\n    root: { label: 'English', themeConfig: { nav: [] } },\n                 fr: { label: 'Français', lang: 'fr-FR', link: '/fr/' },\n    \"de\": { lang: \"de\" },\n  },\n  lang: 'en-GB',\n};\n",
        );
        assert_eq!(Generator::VitePress.languages(d), ["en-GB", "fr-FR", "de"]);
        write(
            "docs/.vitepress/config.mjs",
            "export default { locales: { root: { lang: 'pt-BR' }, en: { lang: 'en-US', link: '/en/' } } }\n",
        );
        assert_eq!(Generator::VitePress.languages(d), ["pt-BR", "en-US"]);
        write(
            "docs/.vitepress/config.mjs",
            "export default { locales: { ja: { lang: 'ja', link: '/ja/' } } }\n",
        );
        assert_eq!(Generator::VitePress.languages(d), ["en-US", "ja"]);
        // One locale, or none, is one language.
        write(
            "docs/.vitepress/config.mjs",
            "export default { lang: 'fr', locales: { root: { label: 'Français' } } }\n",
        );
        assert!(Generator::VitePress.languages(d).is_empty());
        write(
            "docs/.vitepress/config.mjs",
            "export default { lang: 'fr' }\n",
        );
        assert!(Generator::VitePress.languages(d).is_empty());
        assert_eq!(Generator::Jekyll.multilingual_snippet(), None);
    }

    #[test]
    fn an_mkdocs_site_is_built_with_its_requirements_or_mkdocs_and_its_theme() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("mkdocs.yml"),
            "site_name: Docs\nsite_url: https://d.example/docs/\n",
        )
        .unwrap();
        // Beside a Hugo-style config.yaml, mkdocs.yml tells.
        std::fs::write(d.join("config.yaml"), "title: x\n").unwrap();
        assert_eq!(
            detect(d),
            Some((Generator::MkDocs, Some("https://d.example/docs/".into())))
        );
        let run = |d: &Path| {
            let workflow: serde_json::Value =
                serde_norway::from_str(&wired(d, Generator::MkDocs).workflow()).unwrap();
            let steps = workflow["jobs"]["build"]["steps"].as_array().unwrap();
            let runs: Vec<String> = steps
                .iter()
                .filter_map(|s| s["run"].as_str().map(str::to_string))
                .collect();
            runs.join("\n")
        };
        assert!(
            run(d).contains("pip install mkdocs && mkdocs build"),
            "{}",
            run(d)
        );
        // Material's tags (`!!python/name:`) do not stop the configuration being read.
        std::fs::write(
            d.join("mkdocs.yml"),
            "site_name: Docs\ntheme:\n  name: material\nmarkdown_extensions:\n  - pymdownx.emoji:\n      emoji_index: !!python/name:material.extensions.emoji.twemoji\n",
        )
        .unwrap();
        assert!(
            run(d).contains("pip install mkdocs-material && mkdocs build"),
            "{}",
            run(d)
        );
        std::fs::write(
            d.join("requirements.txt"),
            "mkdocs-material\nmkdocs-rss-plugin\n",
        )
        .unwrap();
        assert!(
            run(d).contains("pip install -r requirements.txt && mkdocs build"),
            "{}",
            run(d)
        );
        let build = wired(d, Generator::MkDocs).build;
        assert_eq!((build.local.as_str(), build.watch), ("mkdocs build", None));
    }

    #[test]
    fn a_pelican_site_is_read_from_its_python_configuration_and_published_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("pelicanconf.py"),
            "AUTHOR = 'Ana'\nSITEURL = \"\"\nOUTPUT_PATH = 'output/'\n",
        )
        .unwrap();
        // Locally, Pelican's site URL is empty: none is taken.
        assert_eq!(detect(d), Some((Generator::Pelican, None)));
        let ci = |d: &Path| {
            let workflow: serde_json::Value =
                serde_norway::from_str(&wired(d, Generator::Pelican).workflow()).unwrap();
            let steps = workflow["jobs"]["build"]["steps"].as_array().unwrap();
            steps
                .iter()
                .filter_map(|s| s["run"].as_str().map(str::to_string))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(
            ci(d),
            "pip install \"pelican[markdown]\" && pelican content"
        );
        // What pelican-quickstart writes: the publishing configuration has the URL,
        // and CI builds with it.
        std::fs::write(
            d.join("publishconf.py"),
            "import os\nfrom pelicanconf import *\n\nSITEURL = \"https://p.example/notes\"\nif os.environ.get('X'):\n    SITEURL = 'https://other.example'\nOUTPUT_PATH = \"public/\"\n",
        )
        .unwrap();
        assert_eq!(
            detect(d),
            Some((Generator::Pelican, Some("https://p.example/notes".into())))
        );
        assert_eq!(Generator::Pelican.output(d).as_deref(), Some("public"));
        std::fs::write(d.join("requirements.txt"), "pelican\n").unwrap();
        assert_eq!(
            ci(d),
            "pip install -r requirements.txt && pelican content -s publishconf.py"
        );
        let build = wired(d, Generator::Pelican).build;
        assert_eq!(build.local, "pelican content");
        assert_eq!(build.watch.as_deref(), Some("pelican content --autoreload"));
    }

    #[test]
    fn python_configuration_gives_its_plain_top_level_strings() {
        let read = python_strings(
            "A = 'one'\nB=\"two\"  # note\nC = 'x' + D\nE = 'a\\'b'\nF = 3\n  G = 'inner'\nif A == 'one':\n    H = 'no'\nA = \"later\"\nI = ''\n",
        );
        assert_eq!(read, serde_json::json!({"A": "later", "B": "two", "I": ""}));
    }

    #[test]
    fn any_other_generator_is_wired_by_its_output_directory_and_build_command() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Both are needed, and said so.
        for (output, build) in [(None, None), (Some("site"), None), (None, Some("make"))] {
            let err = Wiring::new(d, Generator::Other, output, build).unwrap_err();
            assert!(
                err.to_string().contains("--output DIR --build COMMAND"),
                "{err}"
            );
        }
        for bad in ["", ".", "./", "/srv/www"] {
            let err = Wiring::new(d, Generator::Other, Some(bad), Some("make")).unwrap_err();
            assert!(
                err.to_string().contains("relative to the repository"),
                "{err}"
            );
        }
        // A known generator is built its own way.
        let err = Wiring::new(d, Generator::Hugo, None, Some("make")).unwrap_err();
        assert!(err.to_string().contains("`hugo`"), "{err}");
        // The output given wins over the configuration's.
        std::fs::write(d.join("hugo.toml"), "publishDir = \"docs\"\n").unwrap();
        let hugo = Wiring::new(d, Generator::Hugo, Some("./www/"), None).unwrap();
        assert_eq!(hugo.output, "www");

        // A command and a directory that YAML would misread are quoted in the workflow.
        let command = "pip install -r requirements.txt && mkdocs build: --strict # all";
        let wiring = Wiring::new(d, Generator::Other, Some("my site/"), Some(command)).unwrap();
        assert_eq!(wiring.build.local, command);
        assert_eq!(wiring.build.watch, None);
        let workflow: serde_json::Value = serde_norway::from_str(&wiring.workflow()).unwrap();
        let steps = workflow["jobs"]["build"]["steps"].as_array().unwrap();
        assert!(steps.iter().any(|s| s["run"] == command), "{steps:?}");
        assert!(steps.iter().any(|s| s["with"]["site-dir"] == "my site"));
        assert!(steps.iter().any(|s| s["with"]["path"] == "my site"));
        for plain in ["site", "yes", "1.5", "null", "~", "-x", "a:b"] {
            let wiring = Wiring::new(d, Generator::Other, Some(plain), Some("make")).unwrap();
            let workflow: serde_json::Value = serde_norway::from_str(&wiring.workflow()).unwrap();
            let steps = workflow["jobs"]["build"]["steps"].as_array().unwrap();
            assert!(
                steps.iter().any(|s| s["with"]["site-dir"] == plain),
                "{plain}: {steps:?}"
            );
        }

        let setup = init(d, &wiring, "https://o.example/", "https://c.example").unwrap();
        let config = crate::config::Config::from_file(&setup.config).unwrap();
        assert_eq!(config.site.output.as_deref(), Some(Path::new("my site")));
        let text = std::fs::read_to_string(&setup.config).unwrap();
        assert!(
            text.starts_with("# cairn: comments for this static site."),
            "{text}"
        );
    }

    #[test]
    fn a_site_url_that_is_only_a_path_or_an_example_gives_way_to_the_placeholder() {
        let configured = |url: &str| site_url(None, Some(url.into()));
        for taken in [
            "https://b.example/blog/",
            "https://example.org/blog/",
            "https://docs.example.com/",
        ] {
            assert_eq!(configured(taken), (taken.into(), None));
        }
        for relative in ["/", "/blog/", "b.example", ""] {
            assert_eq!(
                configured(relative),
                (
                    "https://blog.example.org/".into(),
                    Some((relative.into(), "is not a full http(s) URL"))
                )
            );
        }
        // What `hugo new site`, `hexo init` and `zola init` write.
        for example in [
            "https://example.org/",
            "http://example.com",
            "https://www.example.net",
        ] {
            let (url, why) = configured(example);
            assert_eq!(url, "https://blog.example.org/");
            assert_eq!(
                why.unwrap().1,
                "is the example address a new site is made with, not the site's"
            );
        }
        assert_eq!(
            site_url(Some("https://given.example/"), Some("/".into())),
            ("https://given.example/".into(), None)
        );
        assert_eq!(
            site_url(None, None),
            ("https://blog.example.org/".into(), None)
        );
        // The placeholder passes init's own check.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hugo.toml"), "baseURL = \"/\"\n").unwrap();
        let (url, unused) = site_url(None, detect(dir.path()).and_then(|d| d.1));
        assert_eq!(unused.unwrap().0, "/");
        init(
            dir.path(),
            &wired(dir.path(), Generator::Hugo),
            &url,
            "https://c.example",
        )
        .unwrap();
    }

    /// `init` on a site whose generator's configuration `file` holds `text`.
    fn init_site(generator: Generator, file: &str, text: &str) -> (tempfile::TempDir, Setup) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(file), text).unwrap();
        let setup = init(
            dir.path(),
            &wired(dir.path(), generator),
            "https://s.example/",
            "https://c.example",
        )
        .unwrap();
        (dir, setup)
    }

    #[test]
    fn the_sites_time_zone_comes_from_its_generators_configuration() {
        for (generator, file, text, named, zone) in [
            (
                Generator::Hugo,
                "hugo.toml",
                "timeZone = \"Europe/Oslo\"\n",
                Some(("Europe/Oslo", "timeZone")),
                Some(chrono_tz::Europe::Oslo),
            ),
            (
                Generator::Jekyll,
                "_config.yml",
                "timezone: America/New_York\n",
                Some(("America/New_York", "timezone")),
                Some(chrono_tz::America::New_York),
            ),
            (
                Generator::Jekyll,
                "_config.yml",
                "timezone: Mars/Olympus\n",
                Some(("Mars/Olympus", "timezone")),
                None,
            ),
            (
                Generator::Pelican,
                "pelicanconf.py",
                "TIMEZONE = \"Europe/Rome\"\n",
                Some(("Europe/Rome", "TIMEZONE")),
                Some(chrono_tz::Europe::Rome),
            ),
            (
                Generator::Hexo,
                "_config.yml",
                "timezone: Asia/Tokyo\n",
                Some(("Asia/Tokyo", "timezone")),
                Some(chrono_tz::Asia::Tokyo),
            ),
            (
                Generator::Zola,
                "config.toml",
                "title = \"x\"\n",
                None,
                None,
            ),
        ] {
            let (_dir, setup) = init_site(generator, file, text);
            let got = setup
                .timezone
                .as_ref()
                .map(|((name, key), _)| (name.as_str(), *key));
            assert_eq!(got, named, "{text}");
            let known = setup.timezone.and_then(|(_, zone)| zone.ok()).map(|z| z.0);
            assert_eq!(known, zone, "{text}");
            let config = crate::config::Config::from_file(&setup.config).unwrap();
            assert_eq!(config.site.timezone.0, zone.unwrap_or_default(), "{text}");
        }
    }

    #[test]
    fn the_sites_language_comes_from_its_generators_configuration() {
        for (generator, file, text, named, known) in [
            (
                Generator::Hugo,
                "hugo.toml",
                "languageCode = \"de-de\"\n",
                Some(("de-de", "languageCode")),
                Some("de"),
            ),
            (
                Generator::Hugo,
                "hugo.toml",
                "locale = \"nl-NL\"\nlanguageCode = \"en\"\n",
                Some(("nl-NL", "locale")),
                Some("nl"),
            ),
            (
                Generator::Hugo,
                "hugo.yaml",
                "defaultContentLanguage: fr\n",
                Some(("fr", "defaultContentLanguage")),
                Some("fr"),
            ),
            (
                Generator::Jekyll,
                "_config.yml",
                "locale: pt_BR\n",
                Some(("pt_BR", "locale")),
                Some("pt"),
            ),
            (
                Generator::Jekyll,
                "_config.yml",
                "lang: sv\n",
                Some(("sv", "lang")),
                None,
            ),
            (
                Generator::Zola,
                "config.toml",
                "default_language = \"ja\"\n",
                Some(("ja", "default_language")),
                Some("ja"),
            ),
            (
                Generator::Hexo,
                "_config.yml",
                "language: nl\n",
                Some(("nl", "language")),
                Some("nl"),
            ),
            (
                Generator::Hexo,
                "_config.yml",
                "language: zh-TW\n",
                Some(("zh-TW", "language")),
                Some("zh-Hant"),
            ),
            (
                Generator::Hexo,
                "_config.yml",
                "language:\n  - es\n  - en\n",
                Some(("es", "language")),
                Some("es"),
            ),
            (
                Generator::MkDocs,
                "mkdocs.yml",
                "theme:\n  name: material\n  language: it\n",
                Some(("it", "theme.language")),
                Some("it"),
            ),
            (
                Generator::MkDocs,
                "mkdocs.yml",
                "theme:\n  name: mkdocs\n  locale: pt_BR\n",
                Some(("pt_BR", "theme.locale")),
                Some("pt"),
            ),
            (
                Generator::MkDocs,
                "mkdocs.yml",
                "theme: readthedocs\n",
                None,
                None,
            ),
            (
                Generator::Pelican,
                "pelicanconf.py",
                "AUTHOR = 'Ana'\nDEFAULT_LANG = 'pt'  # Portuguese\n",
                Some(("pt", "DEFAULT_LANG")),
                Some("pt"),
            ),
            (Generator::Hugo, "hugo.toml", "title = \"x\"\n", None, None),
        ] {
            let (_dir, setup) = init_site(generator, file, text);
            let got = setup
                .language
                .as_ref()
                .map(|((tag, key), _)| (tag.as_str(), *key));
            assert_eq!(got, named, "{text}");
            assert_eq!(setup.language.and_then(|(_, known)| known), known, "{text}");
            // A language cairn has no strings in is the site's all the same.
            let config = crate::config::Config::from_file(&setup.config).unwrap();
            let written = named.map_or("en".to_string(), |(tag, _)| {
                crate::render::i18n::language_of(tag)
            });
            assert_eq!(config.site.language, written, "{text}");
        }
    }

    #[test]
    fn the_sites_title_comes_from_its_generators_configuration() {
        for (generator, file, text, named) in [
            (
                Generator::Hugo,
                "hugo.toml",
                "title = \"Moss & Co\"\n",
                Some(("Moss & Co", "title")),
            ),
            (
                Generator::Jekyll,
                "_config.yml",
                "title: Field notes\n",
                Some(("Field notes", "title")),
            ),
            (
                Generator::Zola,
                "zola.toml",
                "base_url = \"https://z/\"\ntitle = \"Z\"\n",
                Some(("Z", "title")),
            ),
            (
                Generator::Docusaurus,
                "docusaurus.config.js",
                "const config = {\n  title: 'Field notes',\n  themeConfig: { navbar: { title: 'Notes' } },\n};\n",
                Some(("Field notes", "title")),
            ),
            (
                Generator::MkDocs,
                "mkdocs.yml",
                "site_name: Docs \"of\" moss\n",
                Some(("Docs \"of\" moss", "site_name")),
            ),
            (
                Generator::Pelican,
                "pelicanconf.py",
                "SITENAME = 'Lichens'\n",
                Some(("Lichens", "SITENAME")),
            ),
            (Generator::Hugo, "hugo.toml", "title = \"  \"\n", None),
            (Generator::Jekyll, "_config.yml", "lang: en\n", None),
        ] {
            let (_dir, setup) = init_site(generator, file, text);
            let got = setup.title.as_ref().map(|(t, key)| (t.as_str(), *key));
            assert_eq!(got, named, "{text}");
            let config = crate::config::Config::from_file(&setup.config).unwrap();
            assert_eq!(
                config.site.title.as_deref(),
                named.map(|(t, _)| t),
                "{text}"
            );
        }
    }

    #[test]
    fn detects_the_other_configuration_file_names() {
        for (name, text, expected) in [
            (
                "config.yaml",
                "baseURL: https://h.example/\n",
                Generator::Hugo,
            ),
            (
                "config.json",
                r#"{"baseURL": "https://h.example/"}"#,
                Generator::Hugo,
            ),
            (
                "_config.yaml",
                "url: https://h.example/\n",
                Generator::Jekyll,
            ),
            (
                "eleventy.config.mjs",
                "export default {}\n",
                Generator::Eleventy,
            ),
        ] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(name), text).unwrap();
            let (generator, _) = detect(dir.path()).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(generator, expected, "{name}");
        }
    }

    #[test]
    fn the_output_directory_is_the_one_the_generators_configuration_sets() {
        let cases: &[(Generator, &str, &str, &str)] = &[
            (Generator::Hugo, "hugo.toml", "publishDir = \"docs\"\n", "docs"),
            (Generator::Hugo, "hugo.yaml", "publishdir: ./build/\n", "build"),
            (Generator::Hugo, "config/_default/hugo.json", r#"{"publishDir": "out"}"#, "out"),
            (Generator::Hugo, "config.toml", "baseURL = \"https://h/\"\n", "public"),
            (Generator::Jekyll, "_config.yml", "destination: ./_build\n", "_build"),
            (Generator::Jekyll, "_config.toml", "title = \"x\"\n", "_site"),
            (Generator::Zola, "config.toml", "base_url = \"https://z/\"\noutput_dir = \"dist\"\n", "dist"),
            (Generator::Hexo, "_config.yml", "public_dir: ./site/\n", "site"),
            (Generator::Hexo, "_config.yml", "url: https://x/\n", "public"),
            (Generator::MkDocs, "mkdocs.yml", "site_dir: _build/html\n", "_build/html"),
            (Generator::MkDocs, "mkdocs.yaml", "site_name: x\n", "site"),
            (Generator::Pelican, "pelicanconf.py", "OUTPUT_PATH = 'build/'\n", "build"),
            (Generator::Pelican, "pelicanconf.py", "PATH = 'content'\n", "output"),
            (
                Generator::Eleventy,
                "eleventy.config.mjs",
                "export const config = {\n  dir: {\n    input: \"src\",\n    output: \"dist\",\n  },\n};\n",
                "dist",
            ),
            (
                Generator::Eleventy,
                ".eleventy.js",
                "module.exports = function (c) {\n  c.addPassthroughCopy({ output: 'x' });\n  return { \"dir\": { \"input\": 'src', \"output\": 'www/' } };\n};\n",
                "www",
            ),
            (
                Generator::Eleventy,
                "eleventy.config.js",
                "export default function (c) {\n  c.setOutputDirectory(`public`);\n}\n",
                "public",
            ),
            (
                Generator::Eleventy,
                "eleventy.config.js",
                "export default function (c) {\n  c.addPlugin(img, { outputDir: \"img\" });\n}\n",
                "_site",
            ),
        ];
        for (generator, name, text, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            assert_eq!(
                generator.output(dir.path()).as_deref(),
                Some(*expected),
                "{name}: {text}"
            );
            // The written cairn.toml and the workflow use it.
            let setup = init(
                dir.path(),
                &wired(dir.path(), *generator),
                "https://b.example/",
                "https://c.example",
            )
            .unwrap();
            let config = crate::config::Config::from_file(&setup.config).unwrap();
            assert_eq!(config.site.output.as_deref(), Some(Path::new(expected)));
            let workflow: serde_json::Value =
                serde_norway::from_str(&wired(dir.path(), *generator).workflow()).unwrap();
            let steps = workflow["jobs"]["build"]["steps"].as_array().unwrap();
            assert!(steps.iter().any(|s| s["with"]["site-dir"] == *expected));
            assert!(steps.iter().any(|s| s["with"]["path"] == *expected));
        }
    }

    #[test]
    fn jekyll_exclude_keeps_the_sites_list_or_jekylls_defaults_and_adds_cairns_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let listed = |line: &str| -> Vec<String> {
            let value: serde_json::Value = match line.strip_prefix("exclude = ") {
                Some(toml) => toml::from_str::<serde_json::Value>(&format!("x = {toml}")).unwrap()
                    ["x"]
                    .clone(),
                None => {
                    serde_norway::from_str::<serde_json::Value>(line).unwrap()["exclude"].clone()
                }
            };
            serde_json::from_value(value).unwrap()
        };
        // No list of its own: Jekyll's defaults stay (Jekyll 3 would drop them).
        std::fs::write(d.join("_config.yml"), "title: x\n").unwrap();
        let (file, line) = jekyll_exclude(d, "comments");
        assert_eq!(file, "_config.yml");
        let list = listed(&line.unwrap());
        assert_eq!(list.len(), JEKYLL_EXCLUDES.len() + 2);
        assert!(list.contains(&"Gemfile".to_string()));
        assert_eq!(list[list.len() - 2..], ["comments", "cairn.toml"]);
        // Its own list, with a glob that YAML must quote.
        std::fs::write(
            d.join("_config.yml"),
            "exclude:\n  - \"*.gemspec\"\n  - vendor\n",
        )
        .unwrap();
        let list = listed(&jekyll_exclude(d, "comments").1.unwrap());
        assert_eq!(list, ["*.gemspec", "vendor", "comments", "cairn.toml"]);
        // Already there (a trailing slash or not).
        std::fs::write(d.join("_config.yml"), "exclude: [comments/, cairn.toml]\n").unwrap();
        assert_eq!(jekyll_exclude(d, "comments"), ("_config.yml".into(), None));
        // A TOML configuration gets TOML.
        std::fs::remove_file(d.join("_config.yml")).unwrap();
        std::fs::write(d.join("_config.toml"), "exclude = [\"vendor\"]\n").unwrap();
        let (file, line) = jekyll_exclude(d, "comments");
        assert_eq!(file, "_config.toml");
        assert_eq!(listed(&line.unwrap()), ["vendor", "comments", "cairn.toml"]);
    }

    #[test]
    fn the_written_config_loads_and_init_refuses_to_overwrite() {
        for generator in [
            Generator::Hugo,
            Generator::Jekyll,
            Generator::Eleventy,
            Generator::Hexo,
            Generator::Zola,
            Generator::MkDocs,
            Generator::Pelican,
        ] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(".gitignore"), "public/").unwrap();
            let setup = init(
                dir.path(),
                &wired(dir.path(), generator),
                "https://blog.example.org/",
                "https://c.example.org",
            )
            .unwrap();
            let config = crate::config::Config::from_file(&setup.config).unwrap();
            assert_eq!(config.site.url, "https://blog.example.org/");
            assert_eq!(
                config.site.output.as_deref(),
                generator.default_output().map(Path::new)
            );
            assert!(setup.comments_dir.join(".gitkeep").is_file());
            // Each setting's comment starts in the column the others use.
            let text = std::fs::read_to_string(&setup.config).unwrap();
            for line in text.lines().filter(|l| !l.starts_with("# ")) {
                if let Some(at) = line.find(" # ") {
                    assert_eq!(at, 35, "comment out of line in {line:?}");
                }
            }
            let ignore = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap();
            assert_eq!(
                ignore,
                "public/\n# cairn inbox's spool of accepted comments\n.cairn/\n"
            );
            let again = init(
                dir.path(),
                &wired(dir.path(), generator),
                "https://b.example/",
                "https://c.example",
            );
            assert!(again.unwrap_err().to_string().contains("already exists"));
        }
    }

    #[test]
    fn workflows_are_valid_yaml_that_check_pull_requests_and_render_pushes() {
        let bare = tempfile::tempdir().unwrap();
        let locked = tempfile::tempdir().unwrap();
        std::fs::write(locked.path().join("Gemfile"), "gem \"jekyll\"\n").unwrap();
        std::fs::write(locked.path().join("package-lock.json"), "{}").unwrap();
        for generator in [
            Generator::Hugo,
            Generator::Jekyll,
            Generator::Eleventy,
            Generator::Hexo,
            Generator::VitePress,
            Generator::Docusaurus,
            Generator::Zola,
            Generator::MkDocs,
            Generator::Pelican,
        ] {
            for dir in [bare.path(), locked.path()] {
                let workflow: serde_json::Value =
                    serde_norway::from_str(&wired(dir, generator).workflow()).unwrap();
                let steps = workflow["jobs"]["build"]["steps"].as_array().unwrap();
                // Themes kept as submodules are there to build with.
                assert_eq!(steps[0]["with"]["submodules"], "recursive");
                let cairn: Vec<&serde_json::Value> =
                    steps.iter().filter(|s| s["uses"] == ACTION).collect();
                assert_eq!(cairn[0]["with"]["command"], "check");
                assert_eq!(cairn[1]["with"]["command"], "render");
                // This cairn's release binary, the action of that release.
                for step in &cairn {
                    assert_eq!(step["with"]["version"], env!("CARGO_PKG_VERSION"));
                }
                assert_eq!(cairn.len(), 2);
                assert_eq!(
                    cairn[1]["with"]["site-dir"].as_str(),
                    generator.default_output()
                );
            }
        }
    }

    #[test]
    fn hugo_and_zola_workflows_install_the_version_the_site_is_built_with() {
        for (printed, version) in [
            (
                "hugo v0.111.3+extended linux/amd64 BuildDate=2023-03-16T08:41:31Z \
                 VendorInfo=debian:0.111.3-1\n",
                Some((0, 111, 3)),
            ),
            (
                "hugo v0.168.0-e27a6760c5547237f87d353aebe0580feadb20f4+extended+withdeploy \
                 linux/amd64 BuildDate=2026-10-13T16:42:50Z\n",
                Some((0, 168, 0)),
            ),
            (
                "Hugo Static Site Generator v0.68.3-157669A0 linux/amd64 BuildDate: \
                 2020-03-24T12:05:34Z\n",
                Some((0, 68, 3)),
            ),
            ("zola 0.17.2\n", Some((0, 17, 2))),
            ("bash: hugo: command not found\n", None),
            ("hugo v1.2 linux/amd64\n", None),
        ] {
            assert_eq!(printed_version(printed), version, "{printed}");
        }
        // The step that installs it, and the release file of that version's naming.
        let install = |local| -> (String, String) {
            let steps: serde_json::Value = serde_norway::from_str(&hugo_steps(local)).unwrap();
            let step = &steps[0];
            (
                step["env"]["HUGO_VERSION"].as_str().unwrap().to_string(),
                step["run"].as_str().unwrap().to_string(),
            )
        };
        let (version, run) = install(Some((0, 111, 3)));
        assert_eq!(version, "0.111.3");
        assert!(
            run.contains(
                "/download/v${HUGO_VERSION}/hugo_extended_${HUGO_VERSION}_linux-amd64.deb"
            ),
            "{run}"
        );
        assert!(run.contains("sudo dpkg -i"), "{run}");
        let (version, run) = install(Some((0, 92, 2)));
        assert_eq!(version, "0.92.2");
        assert!(run.contains("_Linux-64bit.deb"), "{run}");
        let (version, _) = install(None);
        let (major, minor, patch) = HUGO_RELEASE;
        assert_eq!(version, format!("{major}.{minor}.{patch}"));
        let steps: serde_json::Value = serde_norway::from_str(&hugo_steps(None)).unwrap();
        assert_eq!(steps[1]["run"], "hugo --minify");

        // Zola, the same way.
        let tool = |local| -> serde_json::Value {
            let steps: serde_json::Value = serde_norway::from_str(&zola_steps(local)).unwrap();
            assert_eq!(steps[1]["run"], "zola build");
            steps[0]["with"]["tool"].clone()
        };
        assert_eq!(tool(Some((0, 19, 2))), "zola@0.19.2");
        assert_eq!(tool(None), "zola");
    }

    #[test]
    fn a_docusaurus_site_is_found_by_its_configuration_or_its_package() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // As `create-docusaurus` writes it (TypeScript), comments included.
        std::fs::write(
            d.join("docusaurus.config.ts"),
            "import type {Config} from '@docusaurus/types';\n\
             const config: Config = {\n  title: 'Notes',\n\
             \x20 // Set the production url of your site here\n  url: 'https://notes.example',\n\
             \x20 // Set the /<baseUrl>/ pathname under which your site is served\n\
             \x20 baseUrl: '/field/',\n\
             \x20 i18n: {\n    defaultLocale: 'fr',\n    locales: ['fr', 'en'],\n  },\n};\n\
             export default config;\n",
        )
        .unwrap();
        assert_eq!(
            detect(d),
            Some((
                Generator::Docusaurus,
                Some("https://notes.example/field".into())
            ))
        );
        assert_eq!(Generator::Docusaurus.output(d).as_deref(), Some("build"));
        assert_eq!(
            Generator::Docusaurus.language(d),
            Some(("fr".into(), "i18n.defaultLocale"))
        );
        assert_eq!(Generator::Docusaurus.languages(d), ["fr", "en"]);
        assert!(Generator::Docusaurus
            .multilingual_snippet()
            .unwrap()
            .contains("data-cairn-lang={i18n.currentLocale}"));
        let build = wired(d, Generator::Docusaurus).build;
        assert_eq!(build.local, "npx docusaurus build");
        assert_eq!(build.watch, None, "`docusaurus build` cannot watch");

        // Without a configuration file cairn reads, by its package; the build script's
        // `--out-dir` is where the site goes.
        std::fs::remove_file(d.join("docusaurus.config.ts")).unwrap();
        std::fs::write(
            d.join("package.json"),
            r#"{"dependencies": {"@docusaurus/core": "3.10.2"},
                "scripts": {"build": "docusaurus build --out-dir public"}}"#,
        )
        .unwrap();
        assert_eq!(detect(d), Some((Generator::Docusaurus, None)));
        assert_eq!(Generator::Docusaurus.output(d).as_deref(), Some("public"));
        assert_eq!(wired(d, Generator::Docusaurus).build.local, "npm run build");
    }

    #[test]
    fn a_vitepress_site_is_found_by_its_configuration_or_its_package() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // As `vitepress init` makes it: the configuration in docs/.vitepress/, its scripts.
        std::fs::create_dir_all(d.join("docs/.vitepress")).unwrap();
        std::fs::write(
            d.join("docs/.vitepress/config.mts"),
            "import { defineConfig } from 'vitepress'\n\
             export default defineConfig({\n  lang: 'fr-FR',\n  base: '/guide/',\n\
             \x20 outDir: '../public',\n  sitemap: { hostname: 'https://v.example' },\n})\n",
        )
        .unwrap();
        assert_eq!(
            detect(d),
            Some((Generator::VitePress, Some("https://v.example/guide".into())))
        );
        assert_eq!(Generator::VitePress.output(d).as_deref(), Some("public"));
        assert_eq!(
            Generator::VitePress.language(d),
            Some(("fr-FR".into(), "lang"))
        );
        let build = wired(d, Generator::VitePress).build;
        assert_eq!(build.local, "npx vitepress build docs");
        assert_eq!(build.watch, None, "`vitepress build` cannot watch");
        std::fs::write(
            d.join("package.json"),
            r#"{"devDependencies": {"vitepress": "^1.6.4"},
                "scripts": {"docs:dev": "vitepress dev docs", "docs:build": "vitepress build docs"}}"#,
        )
        .unwrap();
        assert_eq!(
            wired(d, Generator::VitePress).build.local,
            "npm run docs:build"
        );

        // Its source directory named by the build script; the default output under it.
        std::fs::remove_dir_all(d.join("docs")).unwrap();
        std::fs::write(
            d.join("package.json"),
            r#"{"devDependencies": {"vitepress": "1.6.4"}, "scripts": {"build": "vitepress build site && echo done"}}"#,
        )
        .unwrap();
        assert_eq!(detect(d), Some((Generator::VitePress, None)));
        assert_eq!(
            Generator::VitePress.output(d).as_deref(),
            Some("site/.vitepress/dist")
        );
        assert_eq!(wired(d, Generator::VitePress).build.local, "npm run build");
        // At the root, with `vitepress build` alone.
        std::fs::write(
            d.join("package.json"),
            r#"{"scripts": {"docs:build": "vitepress build"}}"#,
        )
        .unwrap();
        std::fs::create_dir_all(d.join(".vitepress")).unwrap();
        std::fs::write(d.join(".vitepress/config.js"), "export default {}\n").unwrap();
        assert_eq!(detect(d), Some((Generator::VitePress, None)));
        assert_eq!(
            Generator::VitePress.output(d).as_deref(),
            Some(".vitepress/dist")
        );
    }

    #[test]
    fn the_build_uses_bundler_and_npm_ci_only_where_the_site_has_their_files() {
        // The workflow's commands, and the `with` of the step that sets the toolchain up.
        let run = |generator: Generator, dir: &Path| -> (String, serde_json::Value) {
            let workflow: serde_json::Value =
                serde_norway::from_str(&wired(dir, generator).workflow()).unwrap();
            let steps = workflow["jobs"]["build"]["steps"].as_array().unwrap();
            let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
            let setup = steps
                .iter()
                .find(|s| s["uses"].as_str().is_some_and(|u| u.contains("/setup-")))
                .unwrap();
            (runs.join("\n"), setup["with"].clone())
        };
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();

        // Without a Gemfile, `bundle exec` fails: GitHub Pages' gems are installed instead.
        let (runs, setup) = run(Generator::Jekyll, d);
        assert_eq!(wired(d, Generator::Jekyll).build.local, "jekyll build");
        assert_eq!(
            wired(d, Generator::Jekyll).build.watch.as_deref(),
            Some("jekyll build --watch")
        );
        assert!(!runs.contains("bundle"), "{runs}");
        assert!(runs.contains("gem install github-pages && jekyll build"));
        assert_eq!(setup["ruby-version"], "3.3");
        assert!(setup.get("bundler-cache").is_none());
        std::fs::write(d.join("Gemfile"), "gem \"jekyll\"\n").unwrap();
        let (runs, setup) = run(Generator::Jekyll, d);
        assert_eq!(
            wired(d, Generator::Jekyll).build.local,
            "bundle exec jekyll build"
        );
        assert_eq!(
            wired(d, Generator::Jekyll).build.watch.as_deref(),
            Some("bundle exec jekyll build --watch")
        );
        assert!(runs.contains("bundle exec jekyll build"));
        assert_eq!(setup["bundler-cache"], true);

        // `npm ci` and setup-node's npm cache both need npm's lock file.
        let (runs, setup) = run(Generator::Eleventy, d);
        assert!(runs.contains("npm install && npx @11ty/eleventy"), "{runs}");
        assert_eq!(setup["node-version"], 22);
        assert!(setup.get("cache").is_none());
        std::fs::write(d.join("package-lock.json"), "{}").unwrap();
        let (runs, setup) = run(Generator::Eleventy, d);
        assert!(runs.contains("npm ci && npx @11ty/eleventy"), "{runs}");
        assert_eq!(setup["cache"], "npm");
        assert_eq!(
            wired(d, Generator::Eleventy).build.local,
            "npx @11ty/eleventy"
        );
        assert_eq!(
            wired(d, Generator::Eleventy).build.watch.as_deref(),
            Some("npx @11ty/eleventy --watch")
        );

        // A site with a build script of its own is built with it; its `--output` is
        // where the site goes, over what the configuration says.
        std::fs::write(
            d.join("package.json"),
            r#"{"scripts": {"build": "rm -rf www && eleventy --output=\"www\" --quiet"}}"#,
        )
        .unwrap();
        std::fs::write(
            d.join("eleventy.config.js"),
            "export const config = { dir: { output: \"dist\" } };\n",
        )
        .unwrap();
        let (runs, _) = run(Generator::Eleventy, d);
        assert!(runs.contains("npm ci && npm run build"), "{runs}");
        assert_eq!(wired(d, Generator::Eleventy).build.local, "npm run build");
        assert_eq!(wired(d, Generator::Eleventy).build.watch.as_deref(), None);
        assert_eq!(Generator::Eleventy.output(d).as_deref(), Some("www"));
        std::fs::write(
            d.join("package.json"),
            r#"{"scripts": {"build": "npx @11ty/eleventy --output public"}}"#,
        )
        .unwrap();
        assert_eq!(Generator::Eleventy.output(d).as_deref(), Some("public"));
        std::fs::write(
            d.join("package.json"),
            r#"{"scripts": {"build": "eleventy --outputformat=json"}}"#,
        )
        .unwrap();
        assert_eq!(Generator::Eleventy.output(d).as_deref(), Some("dist"));
    }

    fn hugo_theme(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        crate::testing::write_files(dir.path(), files);
        dir
    }

    #[test]
    fn a_hugo_themes_empty_comments_partial_is_the_place_for_the_placeholder() {
        // PaperMod: a partial of comments only, shown when the `comments` parameter is on.
        let papermod = hugo_theme(&[
            ("hugo.toml", "title = \"Notes\"\ntheme = \"PaperMod\"\n"),
            (
                "themes/PaperMod/layouts/_default/single.html",
                "{{- define \"main\" }}\n<article>\n  {{ .Content }}\n  {{- if (.Param \"comments\") }}\n  \
                 {{- partial \"comments.html\" . }}\n  {{- end }}\n</article>\n{{- end }}\n",
            ),
            (
                "themes/PaperMod/layouts/partials/comments.html",
                "{{- /* Comments area start */ -}}\n{{- /* to add comments read => https://gohugo.io/content-management/comments/ */ -}}\n\
                 {{- /* Comments area end */ -}}\n",
            ),
        ]);
        let hook = hugo_theme_hook(papermod.path()).expect("PaperMod's comments partial");
        assert_eq!(hook.theme, "PaperMod");
        assert_eq!(
            hook.call,
            (
                PathBuf::from("themes/PaperMod/layouts/_default/single.html"),
                5
            )
        );
        assert_eq!(
            hook.guard.as_deref(),
            Some("{{- if (.Param \"comments\") }}")
        );
        assert_eq!(hook.partial, Path::new("layouts/partials/comments.html"));
        assert_eq!(
            hook.setting(Path::new("hugo.toml")).as_deref(),
            Some("`comments = true` under `[params]`")
        );
        // A single-page template of the site's own that does not show the partial is
        // what Hugo uses: the placeholder goes there (the usual advice).
        let own = papermod.path().join("layouts/_default/single.html");
        std::fs::create_dir_all(own.parent().unwrap()).unwrap();
        std::fs::write(&own, "<article>{{ .Content }}</article>\n").unwrap();
        assert_eq!(hugo_theme_hook(papermod.path()), None);
        std::fs::write(
            &own,
            "<article>{{ .Content }}{{ partial \"comments.html\" . }}</article>\n",
        )
        .unwrap();
        assert!(hugo_theme_hook(papermod.path()).is_some());
        // Once the site has its own partial, it is the site's.
        std::fs::create_dir_all(papermod.path().join("layouts/partials")).unwrap();
        std::fs::write(
            papermod.path().join("layouts/partials/comments.html"),
            "<div id=\"isso-thread\"></div>",
        )
        .unwrap();
        assert_eq!(hugo_theme_hook(papermod.path()), None);

        // Congo: no partial of its own, under a condition on a parameter of its own.
        let congo = hugo_theme(&[
            ("hugo.yaml", "theme: congo\n"),
            (
                "themes/congo/layouts/_default/single.html",
                "{{ if .Params.showComments | default (.Site.Params.article.showComments | default false) }}\n  \
                 {{ if templates.Exists \"_partials/comments.html\" }}\n    <div class=\"pt-3\">\n      <hr />\n      \
                 <div class=\"pt-3\">\n        {{ partial \"comments.html\" . }}\n      </div>\n    </div>\n  {{ end }}\n{{ end }}\n",
            ),
            ("themes/congo/layouts/_partials/article-link.html", "<a></a>"),
        ]);
        let hook = hugo_theme_hook(congo.path()).expect("Congo's comments partial");
        assert_eq!(hook.partial, Path::new("layouts/_partials/comments.html"));
        assert_eq!(hook.param().as_deref(), Some("article.showComments"));
        assert_eq!(
            hook.setting(Path::new("hugo.yaml")).as_deref(),
            Some("`showComments: true` under `params.article`")
        );

        // A theme whose partial is a comment system of its own is not a place to fill, nor
        // is a theme without the partial.
        let own = hugo_theme(&[
            ("hugo.toml", "theme = \"loveit\"\n"),
            ("themes/loveit/layouts/posts/single.html", "{{ partial \"comments.html\" . }}\n"),
            ("themes/loveit/layouts/partials/comments.html", "{{- if .Site.Params.giscus }}<script src=\"https://giscus.app/client.js\"></script>{{ end }}\n"),
        ]);
        assert_eq!(hugo_theme_hook(own.path()), None);
        let ananke = hugo_theme(&[
            ("hugo.toml", "theme = \"ananke\"\n"),
            (
                "themes/ananke/layouts/_default/single.html",
                "{{ template \"_internal/disqus.html\" . }}\n",
            ),
        ]);
        assert_eq!(hugo_theme_hook(ananke.path()), None);
        // Such a theme's single-page template is the one to copy in.
        assert_eq!(
            theme_layout(Generator::Hugo, ananke.path()),
            Some(ThemeLayout {
                theme: "ananke".into(),
                from: PathBuf::from("themes/ananke/layouts/_default/single.html"),
                to: "layouts/_default/single.html",
            })
        );
        crate::testing::write_files(ananke.path(), &[("layouts/page.html", "{{ .Content }}")]);
        assert_eq!(theme_layout(Generator::Hugo, ananke.path()), None);
    }

    #[test]
    fn a_hugo_template_of_comments_only_is_a_stub() {
        assert!(is_stub(""));
        assert!(is_stub("  \n{{/* a */}}\n{{- /* b */ -}}\n<!-- c -->\n"));
        assert!(!is_stub("{{/* a */}}<div></div>"));
        assert!(!is_stub("{{ template \"_internal/disqus.html\" . }}"));
        assert!(!is_stub("{{/* never closed"));
    }
}
