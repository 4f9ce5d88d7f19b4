//! Rendering a thread into the HTML of the comments section: Markdown bodies made
//! safe, identicons, dates and strings in the site's language, laid out by Jinja
//! templates (minijinja) that a site may override file by file.

pub mod avatar;
pub mod i18n;
pub mod markdown;
mod stencil;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::comment::Comment;
use crate::config::{Config, Sort, FORM_FIELDS};
use crate::store::Thread;
use i18n::Strings;
use stencil::{marker, Stencil};

/// Name of the hidden field that people leave empty and form-filling bots do not.
pub const HONEYPOT_FIELD: &str = "subject";

/// Built-in templates, embedded in the binary; a file of the same name in the site's
/// templates directory replaces one.
pub const TEMPLATES: [(&str, &str); 7] = [
    (
        "comments.html",
        include_str!("../../templates/comments.html"),
    ),
    ("comment.html", include_str!("../../templates/comment.html")),
    ("form.html", include_str!("../../templates/form.html")),
    ("inbox.html", include_str!("../../templates/inbox.html")),
    ("page.html", include_str!("../../templates/page.html")),
    ("notice.html", include_str!("../../templates/notice.html")),
    ("recent.html", include_str!("../../templates/recent.html")),
];

/// Static files written next to the site, overridable the same way.
pub const ASSETS: [(&str, &str); 2] = [
    ("cairn.css", include_str!("../../templates/cairn.css")),
    ("cairn.js", include_str!("../../templates/cairn.js")),
];

/// Everything needed to turn threads into HTML for one site; shared by all pages.
pub struct Renderer {
    env: minijinja::Environment<'static>,
    pub strings: Strings,
    date_format: i18n::DateFormat,
    max_depth: usize,
    sort: Sort,
    /// `comments.closed`: threads shown without the form.
    closed: Vec<String>,
    /// `comments.owners`: avatar keys whose comments are marked as the author's.
    owners: Vec<String>,
    /// `s` and `form` as template values, built once.
    strings_value: minijinja::Value,
    form_value: minijinja::Value,
    form: FormView,
    templates_dir: PathBuf,
    language: String,
    stylesheet: String,
    /// The inbox's reply page.
    reply_page: String,
    /// Whether the section's templates are all built-in, so stencils may stand in for them.
    builtin_section: bool,
    /// The section's templates specialised for this run, made on first use; `None`
    /// when they cannot be (overridden templates), and every comment runs the template.
    stencils: OnceLock<Option<Stencils>>,
}

/// The site's renderer, and one for each other language a page asks for
/// (`data-cairn-lang`), made the first time one does.
pub struct Languages {
    config: Config,
    site: Renderer,
    others: [OnceLock<Result<Renderer, String>>; i18n::LANGUAGES.len()],
}

impl Languages {
    pub fn new(config: &Config) -> Result<Languages> {
        Ok(Languages {
            site: Renderer::new(config)?,
            config: config.clone(),
            others: Default::default(),
        })
    }

    /// The renderer of the site's language.
    pub fn site(&self) -> &Renderer {
        &self.site
    }

    /// The renderer for pages in the language of `tag` (`de`, `de-AT`, `pt_BR`: its
    /// first part, in any case; `zh-TW`: `zh-Hant`; see [`i18n::language_of`]; none,
    /// the site's). Another language than the site's has its built-in strings: the
    /// site's `[strings]` overrides are written in the site's language.
    /// An error says why there is none; callers then use the site's.
    pub fn get(&self, tag: &str) -> Result<&Renderer, String> {
        let language = i18n::language_of(tag);
        // No tag (every post from a page in the site's language) is the site's.
        if language.is_empty() || language == self.config.site.language {
            return Ok(&self.site);
        }
        let Some(at) = i18n::LANGUAGES.iter().position(|l| *l == language) else {
            return Err(format!(
                "cairn has no interface strings in `{tag}` (it has {}); the site's language is used",
                i18n::LANGUAGES.join(", ")
            ));
        };
        self.others[at]
            .get_or_init(|| {
                let mut config = self.config.clone();
                config.site.language = language.clone();
                config.strings.clear();
                Renderer::build(&config, Some(&language)).map_err(|e| format!("{e:#}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// [`Languages::get`], or the site's renderer when there is none for `tag` (a
    /// reader's request names whatever it names).
    pub fn get_or_site(&self, tag: &str) -> &Renderer {
        self.get(tag).unwrap_or(&self.site)
    }

    /// The one of cairn's [languages](i18n::LANGUAGES) `tag` is in, when it is not the
    /// site's: what is kept of a reader's language for the mail and the links they
    /// get later (none: the site's, as it is then).
    pub fn other(&self, tag: &str) -> Option<&'static str> {
        i18n::known(tag).filter(|l| *l != self.config.site.language)
    }
}

/// Templates whose output for a comment or a thread is cut into stencils.
const SECTION_TEMPLATES: [&str; 3] = ["comments.html", "comment.html", "form.html"];

/// What the form templates need: where they post, limits, and (on the inbox's error page)
/// what the reader typed and what was wrong with it.
#[derive(Debug, Clone, Serialize)]
pub struct FormView {
    pub action: String,
    pub honeypot: &'static str,
    pub max_author: usize,
    pub max_website: usize,
    pub max_body: usize,
    pub required: BTreeMap<&'static str, bool>,
    /// Whether the form offers mail about publication and replies.
    pub replies: bool,
    /// Whether a moderator reviews comments (not in `direct` delivery).
    pub moderated: bool,
    /// The page's language when it is not the site's: a hidden field tells the inbox.
    pub lang: Option<String>,
    pub values: BTreeMap<&'static str, String>,
    pub errors: BTreeMap<&'static str, String>,
}

/// One comment of a list of the site's newest (`recent.html`).
#[derive(Debug, Serialize)]
pub struct RecentView<'a> {
    pub id: String,
    pub author: Cow<'a, str>,
    /// The title of the comment's page, or its path.
    pub page: &'a str,
    /// "Ann on Page", as the site's feed titles its entries.
    pub title: String,
    /// The comment on its page.
    pub url: String,
    pub date_iso: String,
    pub date_text: String,
    /// By one of the site's own people (`comments.owners`), as on its page.
    pub owner: bool,
}

/// One comment as templates see it.
#[derive(Debug, Serialize)]
pub struct CommentView<'a> {
    pub id: String,
    pub thread: &'a str,
    pub author: Cow<'a, str>,
    pub website: Option<&'a str>,
    pub avatar: String,
    /// Whether the comment is by one of the site's own people (`comments.owners`).
    pub owner: bool,
    pub date_iso: String,
    pub date_text: String,
    pub body: &'a str,
    /// An empty element with the anchor an imported comment had on the site it came
    /// from (`<span class="cairn-former" id="comment-7"></span>`), or nothing.
    pub former: String,
    pub reply_to: String,
    /// The inbox's reply page for this comment (empty in a preview).
    pub reply_url: String,
    pub in_reply_to: Option<ParentLink>,
    /// Whether the next items are this comment's replies, nested one level deeper.
    pub has_replies: bool,
    /// How many nested reply lists end after this comment.
    pub close: usize,
}

#[derive(Debug, Serialize)]
pub struct ParentLink {
    pub id: String,
    pub text: String,
}

/// A rendered section, with the HTML of each comment body so feeds need not render it again.
pub struct Section {
    pub html: String,
    pub bodies: Vec<String>,
    /// The comments shown as text, their HTML nesting too deep
    /// ([`markdown::MAX_NESTING`]).
    pub as_text: Vec<ulid::Ulid>,
}

/// What an inbox notice page says and offers (`templates/notice.html`).
#[derive(Debug, Default)]
pub struct Notice<'a> {
    pub title: &'a str,
    /// What the page says, in one paragraph.
    pub text: Option<&'a str>,
    /// A comment, shown as it appears on the page.
    pub comment: Option<&'a Comment>,
    /// The form that changes a comment's text.
    pub edit: Option<NoticeEdit>,
    /// Forms of one button each.
    pub actions: Vec<NoticeAction>,
    /// The page to go back to.
    pub back: Option<String>,
}

/// The form that changes a comment's text: where it posts, the text it holds, and
/// what was wrong with the text last sent.
#[derive(Debug, serde::Serialize)]
pub struct NoticeEdit {
    pub action: String,
    pub source: String,
    pub error: Option<String>,
}

/// A button, and the URL its form posts to.
#[derive(Debug, serde::Serialize)]
pub struct NoticeAction {
    pub url: String,
    pub label: String,
}

impl Renderer {
    pub fn new(config: &Config) -> Result<Renderer> {
        Renderer::build(config, None)
    }

    /// `lang` is `Some` for a renderer of another language than the site's.
    fn build(config: &Config, lang: Option<&str>) -> Result<Renderer> {
        let strings = Strings::new(&config.site.language, &config.strings)?;
        let date_format = strings
            .date_format(
                config.comments.date_format.as_deref(),
                config.site.timezone.0,
            )
            .context("comments.date_format")?;
        let templates_dir = config.templates_dir();
        let mut overridden = Vec::new();
        let mut sources: Vec<(String, String)> = TEMPLATES
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect();
        if templates_dir.is_dir() {
            for entry in std::fs::read_dir(&templates_dir)
                .with_context(|| format!("cannot read templates dir {}", templates_dir.display()))?
            {
                let path = entry?.path();
                if path.extension().is_some_and(|e| e == "html") {
                    let name = path
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .to_string();
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read template {}", path.display()))?;
                    sources.retain(|(n, _)| *n != name);
                    overridden.push(name.clone());
                    // Templates are pieces of a page: a byte order mark in front
                    // would land in the middle of it.
                    sources.push((name, crate::comment::without_bom(&text).to_string()));
                }
            }
        }
        let mut env = minijinja::Environment::new();
        env.set_formatter(format_value);
        // A name a template prints that is not there (`{{ c.autor }}`) is an error that
        // names the template and line, not an empty spot on every page; testing for
        // one (`{% if c.website %}`) is how templates ask whether a value is there.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
        for (name, text) in sources {
            env.add_template_owned(name.clone(), text)
                .map_err(|e| anyhow::anyhow!("{}", template_error(&e)))
                .with_context(|| {
                    format!("template {name} (overrides in {})", templates_dir.display())
                })?;
        }
        let fields = || {
            FORM_FIELDS
                .iter()
                .chain(["form", "notify"].iter())
                .map(|f| (*f, String::new()))
                .collect()
        };
        let form = FormView {
            action: config.post_url(),
            honeypot: HONEYPOT_FIELD,
            max_author: config.form.max_author,
            max_website: config.form.max_website,
            max_body: config.form.max_body,
            required: FORM_FIELDS
                .iter()
                .map(|f| (*f, config.form.required.iter().any(|r| r == f)))
                .collect(),
            replies: config.inbox.notify.replies,
            moderated: config.moderated(),
            lang: lang.map(str::to_string),
            values: fields(),
            errors: fields(),
        };
        let renderer = Renderer {
            env,
            strings_value: minijinja::Value::from(minijinja::value::Serde(strings.all())),
            form_value: minijinja::Value::from(minijinja::value::Serde(&form)),
            form,
            strings,
            date_format,
            max_depth: config.comments.max_depth,
            sort: config.comments.sort,
            closed: config.comments.closed.clone(),
            owners: config.comments.owners.clone(),
            templates_dir,
            language: config.site.language.clone(),
            stylesheet: config.public_url("/cairn.css"),
            reply_page: config.reply_url(),
            builtin_section: !overridden
                .iter()
                .any(|name| SECTION_TEMPLATES.contains(&name.as_str())),
            stencils: OnceLock::new(),
        };
        if !overridden.is_empty() {
            renderer.try_every_page().with_context(|| {
                format!(
                    "a template of the site's own (in {}) does not render",
                    renderer.templates_dir.display()
                )
            })?;
        }
        Ok(renderer)
    }

    /// Renders every kind of page and section once, with comments that have every value
    /// and with none, so a template of the site's own that prints a name that is not
    /// there (`{{ c.autor }}`) fails the run before any page is touched, naming the
    /// template and line, rather than the first page that shows a comment.
    fn try_every_page(&self) -> Result<()> {
        let date = chrono::DateTime::UNIX_EPOCH;
        let full = Comment {
            id: ulid::Ulid::from_parts(1, 1),
            thread: "/cairn-trial/".into(),
            parent: None,
            date,
            author: Some("Ann".into()),
            website: Some("https://ann.example/".into()),
            // One of the site's own people, when it names any, so a template's branch
            // for their comments is tried too.
            avatar: Some(
                self.owners
                    .first()
                    .map_or("0123456789abcdef", String::as_str)
                    .into(),
            ),
            origin: Some("trial:1".into()),
            body: "Some *text*.".into(),
        };
        let reply = Comment {
            id: ulid::Ulid::from_parts(2, 2),
            parent: Some(full.id),
            ..full.clone()
        };
        let bare = Comment {
            id: ulid::Ulid::from_parts(3, 3),
            author: None,
            website: None,
            avatar: None,
            origin: None,
            ..full.clone()
        };
        let thread = Thread {
            comments: vec![full.clone(), reply.clone(), bare.clone()],
            parents: vec![None, Some(0), None],
        };
        let feed = Some("https://blog.example/cairn-trial/comments.xml");
        self.section(&full.thread, Some(&thread), feed)?;
        self.section(&full.thread, None, None)?;
        for comment in [&full, &reply, &bare] {
            self.confirmation_page(comment, "/", "https://inbox.example/own")?;
            self.preview_page(comment, &[("body", "Some *text*.")], "/")?;
        }
        let link = format!("/cairn-trial/#c-{}", full.id);
        self.recent(&[
            (&full, "A page", link.clone()),
            (&bare, "/cairn-trial/", link),
        ])?;
        self.recent(&[])?;
        self.reply_page(&full.thread, &full.id.to_string(), Some("Ann"), "/")?;
        self.reply_page(&full.thread, "", None, "/")?;
        self.form_page(
            &full.thread,
            "",
            &[("body", "x")],
            &[("body", "Too short.")],
            "/",
        )?;
        self.notice_page(&Notice {
            title: "Your comment",
            text: Some("It is waiting for review."),
            comment: Some(&full),
            edit: Some(NoticeEdit {
                action: "https://inbox.example/own".into(),
                source: full.body.clone(),
                error: Some("Too short.".into()),
            }),
            actions: vec![NoticeAction {
                url: "https://inbox.example/own".into(),
                label: "Withdraw".into(),
            }],
            back: Some("/".into()),
        })?;
        self.notice_page(&Notice {
            title: "Done",
            text: None,
            comment: None,
            edit: None,
            actions: Vec::new(),
            back: None,
        })?;
        Ok(())
    }

    /// Renders the comments section of one thread (which may have no comments yet).
    pub fn section(
        &self,
        thread: &str,
        comments: Option<&Thread>,
        feed_url: Option<&str>,
    ) -> Result<Section> {
        let empty = Thread::default();
        let t = comments.unwrap_or(&empty);
        let mut as_text = Vec::new();
        let bodies: Vec<String> = t
            .comments
            .iter()
            .map(|c| {
                let body = markdown::render(&c.body);
                if body.as_text {
                    as_text.push(c.id);
                }
                body.html
            })
            .collect();
        let views = self.tree(thread, t, &bodies);
        let title = self.strings.count("title", views.len());
        let closed = crate::config::is_closed(&self.closed, thread);
        let html = match self.stencils() {
            Some(stencils) => stencils.section(thread, &views, &title, feed_url, closed),
            None => self.section_by_templates(thread, &views, &title, feed_url, closed)?,
        };
        Ok(Section {
            html,
            bodies,
            as_text,
        })
    }

    /// The section rendered by running the templates, once per comment.
    fn section_by_templates(
        &self,
        thread: &str,
        views: &[CommentView<'_>],
        title: &str,
        feed_url: Option<&str>,
        closed: bool,
    ) -> Result<String> {
        let mut items = String::new();
        for view in views {
            items.push_str(&self.render(
                "comment.html",
                minijinja::context! {
                    c => minijinja::Value::from(minijinja::value::Serde(view)),
                    thread => thread,
                    closed => closed,
                    s => self.strings_value.clone(),
                    form => self.form_value.clone(),
                },
            )?);
        }
        // One flat context: merged contexts cost a lookup chain on every access.
        self.render(
            "comments.html",
            minijinja::context! {
                lang => self.language.as_str(),
                dir => self.strings.dir(),
                thread => thread,
                parent => "",
                count => views.len(),
                title => title,
                comments => minijinja::Value::from_safe_string(items),
                feed_url => feed_url,
                closed => closed,
                s => self.strings_value.clone(),
                form => self.form_value.clone(),
            },
        )
    }

    /// The stencils of this run's section templates, made the first time they are
    /// needed; `None` when the site overrides one of them, or they cannot be cut.
    fn stencils(&self) -> Option<&Stencils> {
        self.stencils
            .get_or_init(|| {
                if !self.builtin_section {
                    return None;
                }
                Stencils::new(self)
                    .map_err(|e| tracing::debug!("section templates run per comment: {e:#}"))
                    .ok()
            })
            .as_ref()
    }

    /// The inbox's answer to an accepted form post: the comment as it will appear,
    /// awaiting moderation (or the site's next build), with a link back to `back`.
    /// `manage` is the author's private link to edit or withdraw the comment.
    pub fn confirmation_page(&self, comment: &Comment, back: &str, manage: &str) -> Result<String> {
        let body = markdown::to_html(&comment.body);
        let view = self.view(comment, &body);
        self.render(
            "page.html",
            minijinja::context! {
                lang => self.language.as_str(),
                dir => self.strings.dir(),
                title => self.strings.get(if self.form.moderated {
                    "pending_title"
                } else {
                    "posted_title"
                }),
                stylesheet => self.stylesheet.as_str(),
                back => back,
                comment => minijinja::Value::from(minijinja::value::Serde(&view)),
                preview => true,
                manage => manage,
                thread => comment.thread.as_str(),
                s => self.strings_value.clone(),
                form => self.form_value.clone(),
            },
        )
    }

    /// The inbox's reply page: the form, for an answer to comment `parent` of `thread`
    /// (by `to`, when the link names its author), for readers without JavaScript.
    pub fn reply_page(
        &self,
        thread: &str,
        parent: &str,
        to: Option<&str>,
        back: &str,
    ) -> Result<String> {
        let title = match to {
            Some(author) => &self.strings.fill("reply_to", &[("author", author)]),
            None => self.strings.get("reply_title"),
        };
        self.page_with_form(title, thread, parent, self.form_value.clone(), None, back)
    }

    /// The inbox's answer to a rejected form post: the form again, holding what the
    /// reader typed, with `errors` by field name (`form` for the whole form).
    pub fn form_page(
        &self,
        thread: &str,
        parent: &str,
        values: &[(&'static str, &str)],
        errors: &[(&'static str, &str)],
        back: &str,
    ) -> Result<String> {
        let form = self.form_holding(values, errors);
        self.page_with_form(
            self.strings.get("error_title"),
            thread,
            parent,
            form,
            None,
            back,
        )
    }

    /// The inbox's answer to a form's "Preview": `comment` as it would appear, and the
    /// form again holding what the reader typed, to change it or post it.
    pub fn preview_page(
        &self,
        comment: &Comment,
        values: &[(&'static str, &str)],
        back: &str,
    ) -> Result<String> {
        let body = markdown::to_html(&comment.body);
        let view = self.view(comment, &body);
        let parent = comment.parent.map(|p| p.to_string()).unwrap_or_default();
        self.page_with_form(
            self.strings.get("preview_title"),
            &comment.thread,
            &parent,
            self.form_holding(values, &[]),
            Some(minijinja::Value::from(minijinja::value::Serde(&view))),
            back,
        )
    }

    /// The form's values with `values` typed in and `errors` by field name.
    fn form_holding(
        &self,
        values: &[(&'static str, &str)],
        errors: &[(&'static str, &str)],
    ) -> minijinja::Value {
        let mut form = self.form.clone();
        for (name, value) in values {
            form.values.insert(name, (*value).to_string());
        }
        for (name, error) in errors {
            form.errors.insert(name, (*error).to_string());
        }
        minijinja::Value::from(minijinja::value::Serde(&form))
    }

    /// An inbox page that tells a reader something (`notice.html`): the page of an
    /// author's private link, or of a link that stops mail, and what came of them.
    pub fn notice_page(&self, notice: &Notice<'_>) -> Result<String> {
        let body;
        let comment = match notice.comment {
            Some(comment) => {
                body = markdown::to_html(&comment.body);
                minijinja::Value::from(minijinja::value::Serde(&self.view(comment, &body)))
            }
            None => minijinja::Value::from(()),
        };
        self.render(
            "notice.html",
            minijinja::context! {
                lang => self.language.as_str(),
                dir => self.strings.dir(),
                title => notice.title,
                stylesheet => self.stylesheet.as_str(),
                text => notice.text,
                comment => comment,
                preview => true,
                edit => minijinja::Value::from(minijinja::value::Serde(&notice.edit)),
                actions => minijinja::Value::from(minijinja::value::Serde(&notice.actions)),
                back => notice.back.as_deref(),
                s => self.strings_value.clone(),
                form => self.form_value.clone(),
            },
        )
    }

    /// An inbox page holding the form: `page.html` without a comment.
    /// An inbox page holding the form; `draft` is a comment shown as it would appear
    /// (a preview) above it.
    fn page_with_form(
        &self,
        title: &str,
        thread: &str,
        parent: &str,
        form: minijinja::Value,
        draft: Option<minijinja::Value>,
        back: &str,
    ) -> Result<String> {
        self.render(
            "page.html",
            minijinja::context! {
                lang => self.language.as_str(),
                dir => self.strings.dir(),
                title => title,
                stylesheet => self.stylesheet.as_str(),
                back => back,
                thread => thread,
                parent => parent,
                draft => draft,
                preview => true,
                s => self.strings_value.clone(),
                form => form,
            },
        )
    }

    fn render(&self, template: &str, ctx: minijinja::Value) -> Result<String> {
        self.env
            .get_template(template)
            .and_then(|t| t.render(ctx))
            .map_err(|e| anyhow::anyhow!("template {template}: {}", template_error(&e)))
    }

    /// The list of a `data-cairn-recent` placeholder: each comment with the name of
    /// its page and the link to it there, newest first.
    pub fn recent(&self, comments: &[(&Comment, &str, String)]) -> Result<String> {
        let items: Vec<RecentView<'_>> = comments
            .iter()
            .map(|(c, page, url)| RecentView {
                id: c.id.to_string(),
                title: self.entry_title(c, page),
                author: self.author(c),
                page,
                url: url.clone(),
                date_iso: c.date_string(),
                date_text: self.date_format.format(&c.date),
                owner: self.is_owner(c),
            })
            .collect();
        self.render(
            "recent.html",
            minijinja::context! {
                items => minijinja::Value::from(minijinja::value::Serde(&items)),
                s => self.strings_value.clone(),
            },
        )
    }

    /// The language this renderer writes in (`site.language`, or a page's own).
    pub fn language(&self) -> &str {
        &self.language
    }

    /// "Ann on Page": a comment named by its author and page, as feeds and lists of
    /// the newest comments name it.
    pub fn entry_title(&self, c: &Comment, page: &str) -> String {
        self.strings.fill(
            "entry_title",
            &[("author", &self.author(c)), ("page", page)],
        )
    }

    /// The text of a count placeholder, e.g. "3 comments".
    pub fn count_text(&self, n: usize) -> String {
        self.strings.count("count", n)
    }

    /// A stylesheet or script written next to the site: the site's own if it has one.
    pub fn asset(&self, name: &str) -> Result<Cow<'static, str>> {
        let own = self.templates_dir.join(name);
        if own.is_file() {
            return Ok(Cow::Owned(
                std::fs::read_to_string(&own)
                    .with_context(|| format!("cannot read {}", own.display()))?,
            ));
        }
        ASSETS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| Cow::Borrowed(*text))
            .with_context(|| format!("no asset named {name}"))
    }

    /// Whether the page marks `c` as by one of the site's own people: its avatar key
    /// is one that `comments.owners` names.
    fn is_owner(&self, c: &Comment) -> bool {
        crate::config::is_owner(&self.owners, c.avatar.as_deref())
    }

    /// The name shown for a comment's author, without the characters that [cannot be
    /// shown](crate::comment::is_showable).
    pub fn author<'a>(&'a self, c: &'a Comment) -> Cow<'a, str> {
        match c.author.as_deref() {
            Some(name) => crate::comment::showable(name),
            None => Cow::Borrowed(self.strings.get("anonymous")),
        }
    }

    /// One comment's view with no replies, e.g. for a preview.
    pub fn view<'a>(&'a self, c: &'a Comment, body: &'a str) -> CommentView<'a> {
        let author = self.author(c);
        let key = match (&c.avatar, &c.author) {
            (Some(key), _) => Cow::Borrowed(key.as_str()),
            (None, Some(name)) => Cow::Owned(format!("name:{name}")),
            (None, None) => Cow::Borrowed("anonymous"),
        };
        CommentView {
            id: c.id.to_string(),
            thread: &c.thread,
            reply_to: self.strings.fill("reply_to", &[("author", &author)]),
            author,
            website: c
                .website
                .as_deref()
                .filter(|w| crate::comment::is_web_link(w)),
            avatar: avatar::identicon(&key),
            owner: self.is_owner(c),
            date_iso: c.date_string(),
            date_text: self.date_format.format(&c.date),
            body,
            former: c
                .origin
                .as_deref()
                .and_then(crate::import::former_anchor)
                .map(|id| format!("<span class=\"cairn-former\" id=\"{id}\"></span>"))
                .unwrap_or_default(),
            reply_url: String::new(),
            in_reply_to: None,
            has_replies: false,
            close: 0,
        }
    }

    /// The thread in display order. Replies nest under their parents down to
    /// `max_depth`; deeper replies follow the comment at the deepest level, each
    /// saying whom it answers.
    fn tree<'a>(
        &'a self,
        thread: &str,
        t: &'a Thread,
        bodies: &'a [String],
    ) -> Vec<CommentView<'a>> {
        // A page in another language than the site's tells the inbox, as its form does.
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(lang) = &self.form.lang {
            query.append_pair("lang", lang);
        }
        query.append_pair("thread", thread);
        let reply_base = format!("{}?{}&parent=", self.reply_page, query.finish());
        let n = t.comments.len();
        let mut children = vec![Vec::new(); n];
        let mut roots = Vec::new();
        for (i, parent) in t.parents.iter().enumerate() {
            match parent {
                Some(p) => children[*p].push(i),
                None => roots.push(i),
            }
        }
        if self.sort == Sort::Newest {
            roots.reverse();
        }
        // (comment, depth, shown flattened under an ancestor)
        let mut order: Vec<(usize, usize, bool)> = Vec::with_capacity(n);
        let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&i| (i, 1)).collect();
        while let Some((i, depth)) = stack.pop() {
            order.push((i, depth, false));
            if depth < self.max_depth {
                stack.extend(children[i].iter().rev().map(|&c| (c, depth + 1)));
                continue;
            }
            let mut descendants = Vec::new();
            let mut pending = children[i].clone();
            while let Some(d) = pending.pop() {
                descendants.push(d);
                pending.extend_from_slice(&children[d]);
            }
            descendants.sort_unstable();
            order.extend(descendants.into_iter().map(|d| (d, depth, true)));
        }
        let mut views = Vec::with_capacity(order.len());
        // Former anchors given already: two sources may have used the same one.
        let mut formers = HashSet::new();
        for (k, &(i, depth, flattened)) in order.iter().enumerate() {
            let next_depth = order.get(k + 1).map_or(1, |o| o.1);
            let mut view = self.view(&t.comments[i], &bodies[i]);
            if !view.former.is_empty() && !formers.insert(view.former.clone()) {
                view.former.clear();
            }
            view.reply_url = [reply_base.as_str(), &view.id].concat();
            // The reply page names whom the reader answers.
            if let Some(name) = &t.comments[i].author {
                view.reply_url.push_str("&to=");
                view.reply_url
                    .extend(url::form_urlencoded::byte_serialize(name.as_bytes()));
            }
            view.has_replies = next_depth > depth;
            view.close = depth.saturating_sub(next_depth);
            if let (true, Some(p)) = (flattened, t.parents[i]) {
                let parent_author = self.author(&t.comments[p]);
                view.in_reply_to = Some(ParentLink {
                    id: t.comments[p].id.to_string(),
                    text: self
                        .strings
                        .fill("in_reply_to", &[("author", &parent_author)]),
                });
            }
            views.push(view);
        }
        views
    }
}

/// Escapes values printed into `.html` templates. minijinja's default also escapes
/// `/`, which makes every URL in the page unreadable for no gain.
fn format_value(
    out: &mut minijinja::Output<'_>,
    state: &mut minijinja::State<'_, '_>,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if *state.auto_escape() == minijinja::AutoEscape::Html
        && !value.is_safe()
        && !value.is_none()
        && !value.is_undefined()
    {
        let written = match value.as_str() {
            Some(s) => write_escaped(out, s, html_entity),
            None => write_escaped(out, &value.to_string(), html_entity),
        };
        return written.map_err(minijinja::Error::from);
    }
    minijinja::escape_formatter(out, state, value)
}

/// HTML escaping for text and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let _ = write_escaped(&mut out, text, html_entity);
    out
}

/// HTML text as the characters a reader sees: character references (`&#229;`,
/// `&#xE5;`) and the common named entities decoded. An `&` that starts no reference
/// it knows (a bare `AT&T`, or one cut short) stays as it is.
pub fn unescape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        let reference = rest
            .find(';')
            .filter(|&end| end <= 10)
            .and_then(|end| Some((character(&rest[..end])?, end)));
        match reference {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => out.push('&'),
        }
    }
    out.push_str(rest);
    out
}

/// The character a reference (what stands between `&` and `;`) stands for.
fn character(reference: &str) -> Option<char> {
    if let Some(number) = reference.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => number.parse(),
        };
        return code.ok().filter(|&c| c != 0).and_then(char::from_u32);
    }
    Some(match reference {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "rsquo" => '’',
        "lsquo" => '‘',
        "rdquo" => '”',
        "ldquo" => '“',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        _ => return None,
    })
}

/// The entity for a byte that text and attribute values must not hold as it is.
pub(crate) fn html_entity(bytes: &[u8], at: usize) -> Option<(&'static str, usize)> {
    let entity = match bytes[at] {
        b'&' => "&amp;",
        b'<' => "&lt;",
        b'>' => "&gt;",
        b'"' => "&quot;",
        b'\'' => "&#39;",
        _ => return None,
    };
    Some((entity, 1))
}

/// Writes `text` with escapes: `entity` says, for the byte at an index, which entity
/// replaces how many bytes, if any. It is asked only about the bytes an escape may
/// start with (`"&'<>`, and the lead byte of a no-break space, `C2 A0`), which are
/// found with memchr; runs between escapes are written whole.
pub(crate) fn write_escaped<W: std::fmt::Write + ?Sized>(
    out: &mut W,
    text: &str,
    entity: impl Fn(&[u8], usize) -> Option<(&'static str, usize)>,
) -> std::fmt::Result {
    let bytes = text.as_bytes();
    // The next byte of each set at or after `at`, searched again only once passed.
    let find = |set: [u8; 3], from: usize| {
        memchr::memchr3(set[0], set[1], set[2], &bytes[from..]).map_or(bytes.len(), |i| from + i)
    };
    const MARKUP: [u8; 3] = [b'&', b'<', b'>'];
    const QUOTES_AND_NBSP: [u8; 3] = [b'"', b'\'', 0xC2];
    let (mut markup, mut quotes) = (find(MARKUP, 0), find(QUOTES_AND_NBSP, 0));
    let mut from = 0;
    loop {
        let at = markup.min(quotes);
        if at == bytes.len() {
            break;
        }
        let next = match entity(bytes, at) {
            Some((escape, len)) => {
                out.write_str(&text[from..at])?;
                out.write_str(escape)?;
                from = at + len;
                from
            }
            None => at + 1,
        };
        if markup < next {
            markup = find(MARKUP, next);
        }
        if quotes < next {
            quotes = find(QUOTES_AND_NBSP, next);
        }
    }
    out.write_str(&text[from..])
}

/// The values a comment's stencil is filled with, by slot.
mod comment_slot {
    pub const ID: usize = 0;
    pub const THREAD: usize = 1;
    pub const AUTHOR: usize = 2;
    pub const WEBSITE: usize = 3;
    pub const AVATAR: usize = 4;
    pub const DATE_ISO: usize = 5;
    pub const DATE_TEXT: usize = 6;
    pub const BODY: usize = 7;
    pub const REPLY_TO: usize = 8;
    pub const PARENT_ID: usize = 9;
    pub const PARENT_TEXT: usize = 10;
    /// The thread being rendered (the template's `thread`).
    pub const SECTION_THREAD: usize = 11;
    pub const REPLY_URL: usize = 12;
    pub const FORMER: usize = 13;
    pub const COUNT: usize = 14;
}

/// The values a section's stencil is filled with, by slot.
mod section_slot {
    pub const THREAD: usize = 0;
    pub const COUNT: usize = 1;
    pub const TITLE: usize = 2;
    pub const COMMENTS: usize = 3;
    pub const FEED_URL: usize = 4;
    pub const COUNT_SLOTS: usize = 5;
}

/// The section's templates cut into stencils, one per shape.
struct Stencils {
    /// By [`Stencils::comment_shape`].
    comments: Vec<Stencil>,
    /// By [`Stencils::section_shape`].
    sections: Vec<Stencil>,
    max_depth: usize,
}

impl Stencils {
    fn new(renderer: &Renderer) -> Result<Stencils> {
        use comment_slot as c;
        let max_depth = renderer.max_depth;
        let m = |i| minijinja::Value::from(marker(i));
        let cut = |template: &str, ctx: minijinja::Value, slots: usize| -> Result<Stencil> {
            Stencil::parse(&renderer.render(template, ctx)?, slots)
                .map_err(|e| anyhow::anyhow!("template {template}: {e}"))
        };
        // Comments by the site's own people have shapes of their own, needed only
        // where `comments.owners` names any.
        let flag_sets = if renderer.owners.is_empty() { 16 } else { 32 };
        let mut comments = Vec::with_capacity(flag_sets * (max_depth + 1));
        for shape in 0..flag_sets * (max_depth + 1) {
            let (flags, close) = (shape / (max_depth + 1), shape % (max_depth + 1));
            let view = minijinja::context! {
                id => m(c::ID),
                thread => m(c::THREAD),
                author => m(c::AUTHOR),
                website => (flags & 1 != 0).then(|| m(c::WEBSITE)),
                avatar => m(c::AVATAR),
                owner => flags & 16 != 0,
                date_iso => m(c::DATE_ISO),
                date_text => m(c::DATE_TEXT),
                body => m(c::BODY),
                former => m(c::FORMER),
                reply_to => m(c::REPLY_TO),
                reply_url => m(c::REPLY_URL),
                in_reply_to => (flags & 2 != 0).then(|| minijinja::context! {
                    id => m(c::PARENT_ID),
                    text => m(c::PARENT_TEXT),
                }),
                has_replies => flags & 4 != 0,
                close => close,
            };
            let ctx = minijinja::context! {
                c => view,
                thread => m(c::SECTION_THREAD),
                closed => flags & 8 != 0,
                s => renderer.strings_value.clone(),
                form => renderer.form_value.clone(),
            };
            comments.push(cut("comment.html", ctx, c::COUNT)?);
        }
        let mut sections = Vec::with_capacity(8);
        for shape in 0..8 {
            use section_slot as s;
            let ctx = minijinja::context! {
                lang => renderer.language.as_str(),
                dir => renderer.strings.dir(),
                thread => m(s::THREAD),
                parent => "",
                count => if shape & 1 != 0 { m(s::COUNT) } else { minijinja::Value::from(0) },
                title => m(s::TITLE),
                comments => m(s::COMMENTS),
                feed_url => (shape & 2 != 0).then(|| m(s::FEED_URL)),
                closed => shape & 4 != 0,
                s => renderer.strings_value.clone(),
                form => renderer.form_value.clone(),
            };
            sections.push(cut("comments.html", ctx, s::COUNT_SLOTS)?);
        }
        Ok(Stencils {
            comments,
            sections,
            max_depth,
        })
    }

    /// Which optional values a comment has, where it sits in the lists, whether its
    /// thread is closed, and whether it is by one of the site's own people.
    fn comment_shape(&self, view: &CommentView<'_>, closed: bool) -> usize {
        let flags = usize::from(view.website.is_some_and(|w| !w.is_empty()))
            | usize::from(view.in_reply_to.is_some()) << 1
            | usize::from(view.has_replies) << 2
            | usize::from(closed) << 3
            | usize::from(view.owner) << 4;
        flags * (self.max_depth + 1) + view.close.min(self.max_depth)
    }

    fn section(
        &self,
        thread: &str,
        views: &[CommentView<'_>],
        title: &str,
        feed_url: Option<&str>,
        closed: bool,
    ) -> String {
        use comment_slot as c;
        let mut items = String::with_capacity(
            views
                .iter()
                .map(|v| v.body.len() + v.avatar.len() + 2048)
                .sum(),
        );
        for view in views {
            let parent = view.in_reply_to.as_ref();
            self.comments[self.comment_shape(view, closed)].write(&mut items, |slot| match slot {
                c::ID => &view.id,
                c::THREAD => view.thread,
                c::AUTHOR => &view.author,
                c::WEBSITE => view.website.unwrap_or_default(),
                c::AVATAR => &view.avatar,
                c::DATE_ISO => &view.date_iso,
                c::DATE_TEXT => &view.date_text,
                c::BODY => view.body,
                c::FORMER => &view.former,
                c::REPLY_TO => &view.reply_to,
                c::REPLY_URL => &view.reply_url,
                c::PARENT_ID => parent.map_or("", |p| p.id.as_str()),
                c::PARENT_TEXT => parent.map_or("", |p| p.text.as_str()),
                _ => thread,
            });
        }
        let shape = usize::from(!views.is_empty())
            | usize::from(feed_url.is_some_and(|u| !u.is_empty())) << 1
            | usize::from(closed) << 2;
        let count = views.len().to_string();
        let mut html = String::with_capacity(items.len() + 4096);
        self.sections[shape].write(&mut html, |slot| match slot {
            section_slot::THREAD => thread,
            section_slot::COUNT => &count,
            section_slot::TITLE => title,
            section_slot::COMMENTS => &items,
            _ => feed_url.unwrap_or_default(),
        });
        html
    }
}

/// Template errors with their whole cause chain, which names file and line.
fn template_error(e: &minijinja::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

#[cfg(test)]
mod tests;
