//! Times cairn's parsers on hostile input: comment bodies and files built to make a
//! parser's work grow faster than their length (CommonMark's pathological cases, deep
//! nesting, billion laughs). For each input it prints the time at N and 2N repetitions
//! and the power of the length the time grows with: about 1 is linear; 2 means the time
//! grows with the square of the length, and a long comment could stall a render or the
//! inbox.
//!
//! Usage: hostile [N]   (N repetitions of each pattern, 20000 by default)

use std::time::{Duration, Instant};

use cairn::comment::{Comment, Format};

/// What reads the input.
#[derive(Clone, Copy)]
enum Reader {
    /// `cairn render` and the inbox: a comment's Markdown body to safe HTML.
    Markdown,
    /// The importers: an HTML body (Disqus, WordPress) to Markdown.
    Html,
    /// `cairn import wordpress`: a comment's stored text to the HTML WordPress shows.
    WordPress,
    /// `cairn import isso`: Isso 0.14's Markdown to Markdown that shows the same.
    Isso,
    /// `cairn check` and `cairn render`: a comment file.
    File(Format),
}

impl Reader {
    fn label(self) -> &'static str {
        match self {
            Reader::Markdown => "markdown",
            Reader::Html => "html import",
            Reader::WordPress => "wordpress",
            Reader::Isso => "isso",
            Reader::File(Format::Yaml) => "yaml file",
            Reader::File(Format::Json) => "json file",
            Reader::File(Format::Toml) => "toml file",
        }
    }

    fn read(self, input: &str) -> usize {
        match self {
            Reader::Markdown => cairn::render::markdown::render(input).html.len(),
            Reader::Html => cairn::import::html::to_markdown(input).len(),
            Reader::WordPress => cairn::import::html::wordpress_html(input).len(),
            Reader::Isso => cairn::import::isso::as_isso_showed_it(input).len(),
            Reader::File(format) => Comment::parse(input, format).map_or(0, |c| c.body.len()),
        }
    }
}

/// `middle` inside `n` of `before` and `n` of `after`.
fn nested(before: &str, middle: &str, after: &str, n: usize) -> String {
    format!("{}{middle}{}", before.repeat(n), after.repeat(n))
}

const HEAD: &str = "id: 01HZX3K5V6Q7R8S9T0A1B2C3D4\nthread: /a/\ndate: 2024-01-01T00:00:00Z\n";

type Make = Box<dyn Fn(usize) -> String>;

fn cases() -> Vec<(Reader, &'static str, Make)> {
    use Reader::{File, Html, Isso, Markdown, WordPress};
    let rep = |unit: &'static str| -> Make { Box::new(move |n| unit.repeat(n)) };
    vec![
        (Markdown, "unmatched * and _", rep("*a_ ")),
        (
            Markdown,
            "nested * and **",
            Box::new(|n| nested("*a **a ", "b", " a** a*", n)),
        ),
        (Markdown, "_ closers", rep("a_ ")),
        (Markdown, "_ openers", rep("_a ")),
        (
            Markdown,
            "* runs of 3",
            Box::new(|n| format!("a**b{}", "c* ".repeat(n))),
        ),
        (Markdown, "[ openers", rep("[a")),
        (Markdown, "] closers", rep("a]")),
        (Markdown, "[ and _", rep("[ a_")),
        (
            Markdown,
            "nested brackets",
            Box::new(|n| nested("[", "a", "]", n)),
        ),
        (
            Markdown,
            "nested parentheses",
            Box::new(|n| nested("[a](", "b", ")", n)),
        ),
        (Markdown, "unclosed <link", rep("[a](<b")),
        (Markdown, "unclosed link", rep("[a](b")),
        (
            Markdown,
            "backtick runs",
            Box::new(|n| (0..n / 20).map(|i| format!("e{}", "`".repeat(i))).collect()),
        ),
        (Markdown, "~~ openers", rep("~~a ")),
        (Markdown, "<!-- openers", rep("a <!--")),
        (Markdown, "<![CDATA[ openers", rep("a <![CDATA[")),
        (
            Markdown,
            "link references",
            Box::new(|n| {
                (0..n / 5)
                    .map(|i| format!("[{i}]: u\n"))
                    .chain((0..n / 5).map(|i| format!("[{i}] ")))
                    .collect()
            }),
        ),
        (
            Markdown,
            "nested quotes",
            Box::new(|n| format!("{} a", ">".repeat(n))),
        ),
        (
            Markdown,
            "nested lists",
            Box::new(|n| {
                (0..n / 50)
                    .map(|i| format!("{}* a\n", "  ".repeat(i)))
                    .collect()
            }),
        ),
        (
            Markdown,
            "table rows",
            Box::new(|n| format!("|a|\n|-|\n{}", "|b|\n".repeat(n))),
        ),
        (Markdown, "nested <div>", rep("<div>")),
        (Markdown, "<b><p> misnested", rep("<b><p>")),
        (Markdown, "<a><p><a> misnested", rep("<a><p><a>")),
        (
            Html,
            "<br> at a link's end",
            rep("<a href=\"https://a.example/\">a<br></a>"),
        ),
        (
            Html,
            "spans in <pre>",
            Box::new(|n| format!("<pre>{}</pre>", "<span class=k>a</span>".repeat(n))),
        ),
        (Html, "breaks before lists", rep("a<br>1. b<br>")),
        (
            WordPress,
            "bare addresses",
            rep("http://x.org/(a). www.y.org "),
        ),
        (WordPress, "< without >", rep("<a http://x.org ")),
        (WordPress, "unclosed <pre>", rep("<pre a\n\n b")),
        (WordPress, "breaks after <br>", rep("a<br>\n \n")),
        (Isso, "raw HTML and references", rep("<b>&amp;</b> ")),
        (Isso, "sub- and superscript", rep("H~2~O 2^10^ ~a~ ")),
        (Isso, "table rows", rep("| a | b |\n|---|---|\n")),
        (Isso, "carets without an end", rep("^a ")),
        (Html, "breaks and space at ends", rep("<b>a<br> <br> </b>")),
        (Html, "emphasis kept as HTML", rep("a<em>.b</em>")),
        (
            Html,
            "backslashes in emphasis",
            Box::new(|n| format!("<em>.{}*a</em>", "\\".repeat(n))),
        ),
        (
            Html,
            "<pre>s before <code>",
            Box::new(|n| format!("{}<code>a<br>b</code>", "<pre>x</pre>".repeat(n))),
        ),
        (
            Html,
            "code with tags",
            rep("<code><b>&lt;a&gt;</b><br>~</code>"),
        ),
        (
            Html,
            "nested <blockquote>",
            Box::new(|n| nested("<blockquote>", "a", "</blockquote>", n)),
        ),
        (
            Html,
            "nested emphasis with a break",
            Box::new(|n| nested("<em><b>", "a<br>", "</b></em>", 40).repeat(n / 100)),
        ),
        (
            File(Format::Yaml),
            "billion laughs",
            Box::new(|_| {
                let mut text = format!("{HEAD}a: &a [{}]\n", ["\"lol\""; 9].join(","));
                for level in b'a'..b'i' {
                    let (from, to) = (level as char, (level + 1) as char);
                    text += &format!("{to}: &{to} [{}]\n", vec![format!("*{from}"); 9].join(","));
                }
                text + "body: x\n"
            }),
        ),
        (
            File(Format::Yaml),
            "nested flow sequences",
            Box::new(|n| format!("{HEAD}x: {}\nbody: x\n", nested("[", "1", "]", n))),
        ),
        (
            File(Format::Yaml),
            "nested block mappings",
            Box::new(|n| {
                format!(
                    "{HEAD}{}body: x\n",
                    (0..n / 50)
                        .map(|i| format!("{}k:\n", " ".repeat(i)))
                        .collect::<String>()
                )
            }),
        ),
        (
            File(Format::Yaml),
            "repeated keys",
            Box::new(|n| format!("{HEAD}x: {{{}}}\nbody: x\n", "a: b, ".repeat(n))),
        ),
        (
            File(Format::Yaml),
            "long block scalar",
            Box::new(|n| format!("{HEAD}body: |\n{}", "  line of text\n".repeat(n))),
        ),
        (
            File(Format::Json),
            "nested arrays",
            Box::new(|n| format!("{{\"x\":{}}}", nested("[", "1", "]", n))),
        ),
        (
            File(Format::Toml),
            "nested inline tables",
            Box::new(|n| format!("x = {}\n", nested("{a=", "1", "}", n))),
        ),
        (
            File(Format::Toml),
            "dotted keys",
            Box::new(|n| {
                format!(
                    "{} = 1\n",
                    (0..n)
                        .map(|i| format!("k{i}"))
                        .collect::<Vec<_>>()
                        .join(".")
                )
            }),
        ),
    ]
}

/// The median of three reads of `input`.
fn time(reader: Reader, input: &str) -> Duration {
    let mut times: Vec<Duration> = (0..3)
        .map(|_| {
            let began = Instant::now();
            std::hint::black_box(reader.read(std::hint::black_box(input)));
            began.elapsed()
        })
        .collect();
    times.sort();
    times[1]
}

fn main() {
    let n: usize = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 20_000,
        Some(Ok(n)) if n >= 100 => n,
        Some(_) => {
            eprintln!("usage: hostile [N]   (N: repetitions of each pattern, at least 100)");
            std::process::exit(2);
        }
    };
    println!(
        "{:<12} {:<30} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "reader", "input", "N bytes", "2N bytes", "N ms", "2N ms", "power"
    );
    let mut worst: Option<(f64, &str)> = None;
    for (reader, name, make) in cases() {
        let (small, large) = (make(n), make(2 * n));
        let (t1, t2) = (time(reader, &small), time(reader, &large));
        // Below a tenth of a millisecond, the clock's noise would be the growth; an
        // input that does not grow (billion laughs) has none to measure.
        let power = (t1 >= Duration::from_micros(100) && large.len() > small.len()).then(|| {
            (t2.as_secs_f64() / t1.as_secs_f64()).ln()
                / (large.len() as f64 / small.len() as f64).ln()
        });
        let (shown, flag) = match power {
            Some(p) if p > 1.5 => (format!("{p:.2}"), "  <- grows faster than the input"),
            Some(p) => (format!("{p:.2}"), ""),
            None => ("-".to_string(), ""),
        };
        println!(
            "{:<12} {:<30} {:>9} {:>9} {:>9.2} {:>9.2} {shown:>6}{flag}",
            reader.label(),
            name,
            small.len(),
            large.len(),
            t1.as_secs_f64() * 1e3,
            t2.as_secs_f64() * 1e3,
        );
        if let Some(p) = power.filter(|p| worst.is_none_or(|(w, _)| *p > w)) {
            worst = Some((p, name));
        }
    }
    if let Some((power, name)) = worst {
        println!("largest power: {power:.2} ({name})");
    }
}
