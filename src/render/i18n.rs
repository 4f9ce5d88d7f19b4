//! Interface strings and dates in the site's language. Each language is a TOML file
//! under `templates/i18n/`, embedded in the binary; a site overrides any string in
//! `[strings]` of its `cairn.toml`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Utc};
use icu_plurals::{PluralCategory, PluralRules};

/// Languages cairn ships strings and date formats for: Chinese in Simplified (`zh`)
/// and in Traditional characters (`zh-Hant`).
pub const LANGUAGES: [&str; 18] = [
    "en", "de", "fr", "es", "pt", "it", "nl", "ja", "ru", "pl", "zh", "zh-Hant", "ar", "uk", "ko",
    "he", "id", "tr",
];

/// Languages written from right to left (their sections and the inbox's pages get
/// `dir="rtl"`): cairn's own, and those a site may write its strings in.
const RIGHT_TO_LEFT: [&str; 10] = ["ar", "ckb", "dv", "fa", "he", "ps", "sd", "ug", "ur", "yi"];

/// The forms a count phrase (`title_*`, `count_*`) may take: `zero` is for no comments
/// at all, the others are Unicode's plural categories (CLDR) of the language, chosen
/// for every other number; a form a language does not write falls back to `other`.
const COUNT_FORMS: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];

/// The language of a tag (`de`, `de-AT`, `pt_BR`): its first part, in any case.
pub fn primary(tag: &str) -> String {
    tag.trim()
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The language of a tag as cairn writes pages in it: its first part (`de` for
/// `de-AT`, `pt` for `pt_BR`), except that Chinese in Traditional characters
/// (`zh-Hant`, `zh-Hant-HK`, and `zh-TW`, `zh-HK` or `zh-MO` without a script) is
/// `zh-Hant`.
pub fn language_of(tag: &str) -> String {
    let primary = primary(tag);
    if primary == "zh" {
        let rest: Vec<String> = tag
            .trim()
            .split(['-', '_'])
            .skip(1)
            .map(str::to_ascii_lowercase)
            .collect();
        let traditional = match rest.iter().find(|part| part.len() == 4) {
            Some(script) => script == "hant",
            None => rest
                .iter()
                .any(|r| matches!(r.as_str(), "tw" | "hk" | "mo")),
        };
        if traditional {
            return "zh-Hant".into();
        }
    }
    primary
}

/// Whether `code` is a language code as `site.language` takes it: two or three
/// lowercase letters (ISO 639: `sv`, `fil`), or one of cairn's languages (`zh-Hant`).
pub fn is_language_code(code: &str) -> bool {
    ((2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase()))
        || LANGUAGES.contains(&code)
}

/// For a site whose language cairn has no strings in: the strings `[strings]` does not
/// give yet, which show in English, said in one line (`None` when there are none).
pub fn untranslated(language: &str, overrides: &BTreeMap<String, String>) -> Option<String> {
    if builtin(language).is_some() {
        return None;
    }
    let en: BTreeMap<String, String> = toml::from_str(builtin("en")?).ok()?;
    let missing: Vec<&str> = en
        .keys()
        .filter(|key| !overrides.contains_key(*key))
        .map(String::as_str)
        .collect();
    let (shown, more) = missing.split_at(missing.len().min(6));
    (!missing.is_empty()).then(|| {
        format!(
            "site.language `{language}`: cairn has no strings in it, so {} of its {} strings show \
             in English until [strings] in cairn.toml gives them (the keys of \
             templates/i18n/en.toml; `locale`, such as `sv_SE`, names the months in dates): {}{}",
            missing.len(),
            en.len(),
            shown.join(", "),
            if more.is_empty() {
                String::new()
            } else {
                format!(" and {} more", more.len())
            }
        )
    })
}

/// The one of cairn's [languages](LANGUAGES) a tag is in, if any.
pub fn known(tag: &str) -> Option<&'static str> {
    let language = language_of(tag);
    LANGUAGES.iter().find(|l| **l == language).copied()
}

fn builtin(language: &str) -> Option<&'static str> {
    Some(match language {
        "en" => include_str!("../../templates/i18n/en.toml"),
        "de" => include_str!("../../templates/i18n/de.toml"),
        "fr" => include_str!("../../templates/i18n/fr.toml"),
        "es" => include_str!("../../templates/i18n/es.toml"),
        "pt" => include_str!("../../templates/i18n/pt.toml"),
        "it" => include_str!("../../templates/i18n/it.toml"),
        "nl" => include_str!("../../templates/i18n/nl.toml"),
        "ja" => include_str!("../../templates/i18n/ja.toml"),
        "ru" => include_str!("../../templates/i18n/ru.toml"),
        "pl" => include_str!("../../templates/i18n/pl.toml"),
        "zh" => include_str!("../../templates/i18n/zh.toml"),
        "zh-Hant" => include_str!("../../templates/i18n/zh-Hant.toml"),
        "ar" => include_str!("../../templates/i18n/ar.toml"),
        "uk" => include_str!("../../templates/i18n/uk.toml"),
        "ko" => include_str!("../../templates/i18n/ko.toml"),
        "he" => include_str!("../../templates/i18n/he.toml"),
        "id" => include_str!("../../templates/i18n/id.toml"),
        "tr" => include_str!("../../templates/i18n/tr.toml"),
        _ => return None,
    })
}

/// The `{name}` placeholders a string names, in order, once each.
fn placeholders(text: &str) -> Vec<&str> {
    let mut found: Vec<&str> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find('}') else { break };
        let name = &rest[..close];
        if !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !found.contains(&name)
        {
            found.push(name);
        }
    }
    found
}

/// A date format in a language's words, ready to write dates.
#[derive(Debug, Clone)]
pub struct DateFormat {
    items: Vec<Item<'static>>,
    locale: chrono::Locale,
    zone: chrono_tz::Tz,
}

impl DateFormat {
    /// `date` in this format, in this format's time zone.
    pub fn format(&self, date: &DateTime<Utc>) -> String {
        date.with_timezone(&self.zone)
            .format_localized_with_items(self.items.iter(), self.locale)
            .to_string()
    }
}

/// The strings of one language with the site's overrides applied.
#[derive(Debug, Clone)]
pub struct Strings {
    map: HashMap<String, String>,
    locale: chrono::Locale,
    plurals: Arc<PluralRules>,
    right_to_left: bool,
}

/// The plural rules of `language` (a primary tag such as `ru`).
fn plural_rules(language: &str) -> Result<PluralRules> {
    let locale = icu_locale_core::Locale::try_from_str(language)
        .map_err(|e| anyhow::anyhow!("`{language}` is not a language tag: {e}"))?;
    PluralRules::try_new_cardinal((&locale).into())
        .map_err(|e| anyhow::anyhow!("no plural rules for `{language}`: {e}"))
}

/// The key of count phrase `prefix` and form `form` (`title`, `few`: `title_few`).
fn count_key(prefix: &str, form: &str) -> String {
    format!("{prefix}_{form}")
}

/// The count phrase a key is a form of (`title_few`: `title`), if it is one of the
/// phrases `known` has.
fn count_prefix<'a>(key: &'a str, known: &HashMap<String, String>) -> Option<&'a str> {
    COUNT_FORMS
        .iter()
        .find_map(|form| key.strip_suffix(form)?.strip_suffix('_'))
        .filter(|prefix| known.contains_key(&count_key(prefix, "other")))
}

impl Strings {
    /// Strings for `language`, with `overrides` (from `[strings]`) on top. A language
    /// cairn has no strings in starts from English ones (see [`untranslated`]), and
    /// takes its own plural forms and direction.
    pub fn new(language: &str, overrides: &BTreeMap<String, String>) -> Result<Strings> {
        let text = builtin(language)
            .or_else(|| builtin("en"))
            .context("no built-in strings")?;
        let mut map: HashMap<String, String> = toml::from_str(text)
            .with_context(|| format!("built-in strings for `{language}` are broken"))?;
        for (key, value) in overrides {
            map.insert(key.clone(), value.clone());
        }
        let locale = chrono::Locale::try_from(map["locale"].as_str())
            .map_err(|_| anyhow::anyhow!("unknown locale `{}`", map["locale"]))?;
        Ok(Strings {
            map,
            locale,
            plurals: Arc::new(plural_rules(language)?),
            right_to_left: RIGHT_TO_LEFT.contains(&language),
        })
    }

    /// The direction the language is written in, for an HTML `dir` attribute.
    pub fn dir(&self) -> &'static str {
        if self.right_to_left {
            "rtl"
        } else {
            "ltr"
        }
    }

    /// Rejects override keys that name no string, so a typo does not go unnoticed.
    pub fn check_overrides(overrides: &BTreeMap<String, String>) -> Result<()> {
        let known: HashMap<String, String> = toml::from_str(builtin("en").unwrap_or_default())?;
        for key in overrides.keys() {
            if !known.contains_key(key) && count_prefix(key, &known).is_none() {
                let mut keys: Vec<&str> = known.keys().map(String::as_str).collect();
                keys.sort_unstable();
                bail!(
                    "strings: unknown key `{key}` (known keys: {})",
                    keys.join(", ")
                );
            }
        }
        for (key, value) in overrides {
            // The values a string is filled with are those its English one names; the
            // forms of a count (`_zero`, `_one`, `_few`, `_other`, ...) all get `{count}`.
            let mut allowed = known.get(key).map(|s| placeholders(s)).unwrap_or_default();
            if let Some(prefix) = count_prefix(key, &known) {
                allowed.extend(placeholders(&known[&count_key(prefix, "other")]));
            }
            if let Some(unknown) = placeholders(value)
                .into_iter()
                .find(|p| !allowed.contains(p))
            {
                let can = if allowed.is_empty() {
                    "it takes none".to_string()
                } else {
                    let names: Vec<String> = allowed.iter().map(|p| format!("{{{p}}}")).collect();
                    format!("it takes {}", names.join(", "))
                };
                bail!("strings.{key}: {{{unknown}}} is not filled in here ({can})");
            }
        }
        Ok(())
    }

    /// One string by key; a missing key shows as itself rather than failing a build.
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.map.get(key).map_or(key, String::as_str)
    }

    /// A string with `{name}` placeholders filled in (what a value holds is never
    /// taken for a placeholder).
    pub fn fill(&self, key: &str, vars: &[(&str, &str)]) -> String {
        let mut rest = self.get(key);
        let mut out = String::with_capacity(rest.len() + 32);
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let var = after.find('}').and_then(|close| {
                let name = &after[..close];
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, value)| (close, *value))
            });
            match var {
                Some((close, value)) => {
                    out.push_str(value);
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// A count phrase filled with `n`: `{prefix}_zero` for none, `{prefix}_one` for
    /// one, else the form of `n`'s plural category in the language (`{prefix}_few`
    /// for 3 in Russian), or `{prefix}_other` when the language has no such form.
    pub fn count(&self, prefix: &str, n: usize) -> String {
        let form = match (n, self.plurals.category_for(n)) {
            (0, _) => "zero",
            (1, _) | (_, PluralCategory::One) => "one",
            (_, PluralCategory::Two) => "two",
            (_, PluralCategory::Few) => "few",
            (_, PluralCategory::Many) => "many",
            (_, PluralCategory::Zero | PluralCategory::Other) => "other",
        };
        let mut key = count_key(prefix, form);
        if !self.map.contains_key(&key) {
            key = count_key(prefix, "other");
        }
        self.fill(&key, &[("count", &n.to_string())])
    }

    /// The given date format (strftime), or the language's, read once for every date
    /// it writes, in time zone `zone`.
    pub fn date_format(&self, format: Option<&str>, zone: chrono_tz::Tz) -> Result<DateFormat> {
        let format = format.unwrap_or_else(|| self.get("date_format"));
        let items = StrftimeItems::new_with_locale(format, self.locale)
            .parse_to_owned()
            .map_err(|_| anyhow::anyhow!("date format `{format}` is not a strftime format"))?;
        Ok(DateFormat {
            items,
            locale: self.locale,
            zone,
        })
    }

    /// All strings, for templates.
    pub fn all(&self) -> &HashMap<String, String> {
        &self.map
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn every_language_has_every_key_and_every_form_of_its_counts() {
        let en: HashMap<String, String> = toml::from_str(builtin("en").unwrap()).unwrap();
        for lang in LANGUAGES {
            let other: HashMap<String, String> = toml::from_str(builtin(lang).unwrap()).unwrap();
            let mut missing: Vec<&String> = en.keys().filter(|k| !other.contains_key(*k)).collect();
            // Beyond English's keys, only the forms of a count its language has.
            missing.extend(
                other
                    .keys()
                    .filter(|k| !en.contains_key(*k) && count_prefix(k, &en).is_none()),
            );
            assert!(missing.is_empty(), "{lang}: keys differ: {missing:?}");
            // Every form a count of comments takes, up to a thousand, is written (the
            // `many` of French, Spanish, Italian and Portuguese is for millions).
            let rules = plural_rules(lang).unwrap();
            for n in 2..=1000_usize {
                let form = match rules.category_for(n) {
                    PluralCategory::Zero => continue,
                    category => format!("{category:?}").to_lowercase(),
                };
                for prefix in ["title", "count"] {
                    let key = count_key(prefix, &form);
                    assert!(
                        other.contains_key(&key),
                        "{lang}: no `{key}`, the form of {n}"
                    );
                }
            }
            Strings::new(lang, &BTreeMap::new()).unwrap();
            // Each translation names only the values its string is filled with.
            Strings::check_overrides(&other.into_iter().collect()).unwrap();
        }
    }

    #[test]
    fn counts_take_the_form_their_number_takes_in_the_language() {
        let counts = |lang: &str| -> Vec<String> {
            let s = Strings::new(lang, &BTreeMap::new()).unwrap();
            [0, 1, 2, 3, 5, 11, 21, 22, 25, 100, 102, 111]
                .into_iter()
                .map(|n| s.count("title", n))
                .collect()
        };
        assert_eq!(
            counts("ru"),
            [
                "Комментариев пока нет",
                "1 комментарий",
                "2 комментария",
                "3 комментария",
                "5 комментариев",
                "11 комментариев",
                "21 комментарий",
                "22 комментария",
                "25 комментариев",
                "100 комментариев",
                "102 комментария",
                "111 комментариев",
            ]
        );
        assert_eq!(
            counts("pl")[1..9],
            [
                "1 komentarz",
                "2 komentarze",
                "3 komentarze",
                "5 komentarzy",
                "11 komentarzy",
                "21 komentarzy",
                "22 komentarze",
                "25 komentarzy",
            ]
        );
        assert_eq!(
            counts("ar"),
            [
                "لا توجد تعليقات بعد",
                "تعليق واحد",
                "تعليقان",
                "3 تعليقات",
                "5 تعليقات",
                "11 تعليقًا",
                "21 تعليقًا",
                "22 تعليقًا",
                "25 تعليقًا",
                "100 تعليق",
                "102 تعليق",
                "111 تعليقًا",
            ]
        );
        assert_eq!(
            counts("uk")[1..9],
            [
                "1 коментар",
                "2 коментарі",
                "3 коментарі",
                "5 коментарів",
                "11 коментарів",
                "21 коментар",
                "22 коментарі",
                "25 коментарів",
            ]
        );
        assert_eq!(
            counts("he")[..4],
            ["אין עדיין תגובות", "תגובה אחת", "שתי תגובות", "3 תגובות"]
        );
        assert_eq!(counts("zh")[..3], ["还没有评论", "1 条评论", "2 条评论"]);
        assert_eq!(
            counts("ko")[..3],
            ["아직 댓글이 없습니다", "댓글 1개", "댓글 2개"]
        );
        assert_eq!(
            counts("en")[..3],
            ["No comments yet", "1 comment", "2 comments"]
        );
        assert_eq!(
            counts("fr")[..3],
            [
                "Aucun commentaire pour l’instant",
                "1 commentaire",
                "2 commentaires"
            ]
        );
    }

    #[test]
    fn a_site_may_write_each_form_of_a_count() {
        let forms = BTreeMap::from([
            ("count_few".to_string(), "{count} komentáře".to_string()),
            ("count_other".to_string(), "{count} komentářů".to_string()),
        ]);
        Strings::check_overrides(&forms).unwrap();
        // In English no number takes `few`: the site's `few` goes unused, not wrong.
        let s = Strings::new("en", &forms).unwrap();
        assert_eq!(s.count("count", 3), "3 komentářů");
        let s = Strings::new("ru", &forms).unwrap();
        assert_eq!(s.count("count", 3), "3 komentáře");
        assert_eq!(
            s.count("count", 5),
            "5 комментариев",
            "the built-in `many` stays"
        );
        let bad = |key: &str, value: &str| {
            Strings::check_overrides(&BTreeMap::from([(key.to_string(), value.to_string())]))
                .map_err(|e| e.to_string())
        };
        assert!(bad("title_few", "{n} Kommentare")
            .unwrap_err()
            .contains("it takes {count}"));
        assert!(bad("reply_few", "x")
            .unwrap_err()
            .contains("unknown key `reply_few`"));
        assert!(bad("title_several", "x").is_err());
    }

    #[test]
    fn a_language_cairn_lacks_starts_from_english_with_its_own_plural_forms_and_direction() {
        let czech = BTreeMap::from([
            ("title_one".to_string(), "1 komentář".to_string()),
            ("title_few".to_string(), "{count} komentáře".to_string()),
            ("title_other".to_string(), "{count} komentářů".to_string()),
        ]);
        let s = Strings::new("cs", &czech).unwrap();
        assert_eq!(s.count("title", 3), "3 komentáře");
        assert_eq!(s.count("title", 5), "5 komentářů");
        assert_eq!(s.count("title", 0), "No comments yet", "not given: English");
        assert_eq!(s.dir(), "ltr");
        assert_eq!(Strings::new("fa", &BTreeMap::new()).unwrap().dir(), "rtl");
        // A code Unicode has no rules for counts as `other` beyond one.
        let unknown = Strings::new("qq", &BTreeMap::new()).unwrap();
        assert_eq!(unknown.count("title", 3), "3 comments");

        let note = untranslated("cs", &czech).unwrap();
        let en: BTreeMap<String, String> = toml::from_str(builtin("en").unwrap()).unwrap();
        assert!(
            note.starts_with(&format!(
                "site.language `cs`: cairn has no strings in it, so {} of its {} strings show in English",
                en.len() - 2,
                en.len()
            )),
            "{note}"
        );
        assert!(
            note.ends_with(&format!(" and {} more", en.len() - 2 - 6)),
            "{note}"
        );
        assert!(
            !note.contains("title_one") && !note.contains("title_other"),
            "{note}"
        );
        let everything: BTreeMap<String, String> = en.into_iter().collect();
        assert_eq!(untranslated("cs", &everything), None);
        assert_eq!(
            untranslated("de", &BTreeMap::new()),
            None,
            "cairn has German"
        );
        assert!(is_language_code("sv") && is_language_code("fil"));
        assert!(!is_language_code("sv-SE") && !is_language_code("EN") && !is_language_code("e"));
        assert!(is_language_code("zh-Hant") && !is_language_code("zh-TW"));
    }

    #[test]
    fn chinese_in_traditional_characters_is_its_own_language() {
        for tag in [
            "zh-Hant",
            "zh-TW",
            "zh_tw",
            "zh-HK",
            "zh-Hant-CN",
            "zh-hant",
            "zh-MO",
        ] {
            assert_eq!(language_of(tag), "zh-Hant", "{tag}");
            assert_eq!(known(tag), Some("zh-Hant"), "{tag}");
        }
        for tag in ["zh", "zh-CN", "zh-Hans", "zh-Hans-TW", "zh-SG"] {
            assert_eq!(language_of(tag), "zh", "{tag}");
        }
        assert_eq!(language_of("pt_BR"), "pt");
        let strings = Strings::new("zh-Hant", &BTreeMap::new()).unwrap();
        assert_eq!(strings.count("title", 3), "3 則留言");
        assert_eq!(strings.get("reply"), "回覆");
    }

    #[test]
    fn arabic_and_hebrew_are_written_right_to_left() {
        let dir = |lang| Strings::new(lang, &BTreeMap::new()).unwrap().dir();
        assert_eq!(dir("ar"), "rtl");
        assert_eq!(dir("he"), "rtl");
        assert_eq!(dir("en"), "ltr");
        assert_eq!(dir("ja"), "ltr");
    }

    #[test]
    fn dates_in_each_language() {
        let date = Utc.with_ymd_and_hms(2026, 3, 5, 12, 0, 0).unwrap();
        let got: Vec<String> = LANGUAGES
            .iter()
            .map(|l| {
                let strings = Strings::new(l, &BTreeMap::new()).unwrap();
                strings
                    .date_format(None, chrono_tz::Tz::UTC)
                    .unwrap()
                    .format(&date)
            })
            .collect();
        assert_eq!(
            got,
            [
                "March 5, 2026",
                "5. März 2026",
                "5 mars 2026",
                "5 de marzo de 2026",
                "5 de março de 2026",
                "5 marzo 2026",
                "5 maart 2026",
                "2026年3月5日",
                "5 марта 2026",
                "5 marca 2026",
                "2026年3月5日",
                "2026年3月5日",
                "5 مارس 2026",
                "5 березня 2026",
                "2026년 3월 5일",
                "5 במרץ 2026",
                "5 Maret 2026",
                "5 Mart 2026",
            ]
        );
    }

    #[test]
    fn overrides_and_plurals() {
        let overrides =
            BTreeMap::from([("title_other".to_string(), "{count} thoughts".to_string())]);
        let s = Strings::new("en", &overrides).unwrap();
        assert_eq!(s.count("title", 3), "3 thoughts");
        assert_eq!(s.count("title", 1), "1 comment");
        assert_eq!(s.count("count", 0), "No comments");
        assert!(Strings::check_overrides(&BTreeMap::from([("titel".into(), "x".into())])).is_err());
        let tricky = BTreeMap::from([(
            "entry_title".to_string(),
            "{author} on {page} {x}".to_string(),
        )]);
        let s = Strings::new("en", &tricky).unwrap();
        assert_eq!(
            s.fill("entry_title", &[("author", "{page}"), ("page", "P")]),
            "{page} on P {x}",
            "a value is never filled in again"
        );
        assert!(s.date_format(Some("%d %Q"), chrono_tz::Tz::UTC).is_err());
    }

    #[test]
    fn an_override_naming_a_value_its_string_is_not_filled_with_is_refused() {
        let check = |key: &str, value: &str| {
            Strings::check_overrides(&BTreeMap::from([(key.to_string(), value.to_string())]))
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            check("reply_to", "Antwort an {autor}"),
            Err("strings.reply_to: {autor} is not filled in here (it takes {author})".into())
        );
        assert_eq!(
            check("reply", "Reply {author}"),
            Err("strings.reply: {author} is not filled in here (it takes none)".into())
        );
        assert!(check("reply_to", "Antwort an {author}").is_ok());
        assert!(check("reply_to", "Antworten").is_ok());
        // Every form of a count gets the count, though English writes "1 comment".
        assert!(check("title_one", "{count} Kommentar").is_ok());
        assert!(check("count_zero", "{count} comments yet").is_ok());
        // Braces around what is no name are text.
        assert!(check("reply", "Reply {:-)}").is_ok());
    }
}
