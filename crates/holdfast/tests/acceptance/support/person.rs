//! A person with a browser that has JavaScript turned off: it follows links and redirects,
//! reads pages and posts forms the way a browser does, and nothing more.

use std::collections::BTreeMap;

use regex::Regex;

/// A person's browser.
pub struct Person {
    base: String,
    http: reqwest::Client,
}

/// A page the browser shows.
#[derive(Debug)]
pub struct Page {
    /// The HTTP status it came with.
    pub status: u16,
    /// Its path (after redirects).
    pub path: String,
    /// The HTML.
    pub html: String,
}

impl Person {
    /// A fresh browser.
    pub fn new(base: &str) -> Person {
        Person {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_store(true)
                .build()
                .expect("client"),
        }
    }

    /// Opens a path (or a full URL on this server), following redirects.
    pub async fn open(&self, path: &str) -> Page {
        let path = path.strip_prefix(&self.base).unwrap_or(path).to_owned();
        self.follow(self.http.get(format!("{}{path}", self.base)), path)
            .await
    }

    /// Posts a form to `path` with the given fields, following the redirect.
    pub async fn post(&self, path: &str, fields: &[(String, String)]) -> Page {
        let request = self.http.post(format!("{}{path}", self.base)).form(fields);
        self.follow(request, path.to_owned()).await
    }

    /// Opens the start page of a process and presses Start.
    pub async fn start(&self, org: &str, process: &str) -> Page {
        let start = self.open(&format!("/p/{org}/{process}")).await;
        assert_eq!(start.status, 200, "start page: {}", start.html);
        assert!(start.has_button("Start"), "no Start button: {}", start.html);
        self.post(&start.form_action(), &[]).await
    }

    async fn follow(&self, mut request: reqwest::RequestBuilder, mut path: String) -> Page {
        for _ in 0..5 {
            let response = request.send().await.expect("the server answers");
            let status = response.status().as_u16();
            if (300..400).contains(&status) {
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .expect("a redirect has a Location")
                    .to_owned();
                path = location.clone();
                request = self.http.get(format!("{}{location}", self.base));
                continue;
            }
            let html = response.text().await.expect("a body");
            return Page { status, path, html };
        }
        panic!("too many redirects");
    }
}

/// Decodes the character references a server may write (named and numeric).
fn unescape(s: &str) -> String {
    let numeric = Regex::new(r"&#(x[0-9a-fA-F]+|[0-9]+);").expect("regex");
    let decoded = numeric.replace_all(s, |c: &regex::Captures| {
        let code = &c[1];
        let value = match code.strip_prefix('x') {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => code.parse(),
        };
        value
            .ok()
            .and_then(char::from_u32)
            .map(String::from)
            .unwrap_or_default()
    });
    decoded
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attributes(tag: &str) -> BTreeMap<String, String> {
    let pattern = Regex::new(r#"([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:="([^"]*)")?"#).expect("regex");
    pattern
        .captures_iter(tag)
        .skip(1) // the tag name
        .map(|c| {
            (
                c[1].to_owned(),
                c.get(2).map(|v| unescape(v.as_str())).unwrap_or_default(),
            )
        })
        .collect()
}

impl Page {
    /// The text of the first `<h1>`.
    pub fn heading(&self) -> String {
        let re = Regex::new(r"(?s)<h1>(.*?)</h1>").expect("regex");
        re.captures(&self.html)
            .map(|c| unescape(c[1].trim()))
            .unwrap_or_default()
    }

    /// Whether a button with this name is on the page.
    pub fn has_button(&self, name: &str) -> bool {
        let re = Regex::new(r"(?s)<button[^>]*>(.*?)</button>").expect("regex");
        re.captures_iter(&self.html).any(|c| c[1].trim() == name)
    }

    /// Where the page's form posts to.
    pub fn form_action(&self) -> String {
        let re = Regex::new(r#"<form[^>]*action="([^"]*)""#).expect("regex");
        re.captures(&self.html)
            .map(|c| unescape(&c[1]))
            .expect("the page has a form")
    }

    /// The text of the element with `role="alert"`, if there is one.
    pub fn alert(&self) -> Option<String> {
        let re = Regex::new(r#"(?s)<div[^>]*role="alert"[^>]*>(.*?)</div>"#).expect("regex");
        re.captures(&self.html).map(|c| {
            let tags = Regex::new(r"<[^>]+>").expect("regex");
            unescape(&tags.replace_all(&c[1], " "))
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
    }

    /// The message shown at a field, if any.
    pub fn field_error(&self, field: &str) -> Option<String> {
        let re = Regex::new(&format!(
            r#"(?s)<p class="field-error" id="f-{field}-error"><span[^>]*>Error:</span>(.*?)</p>"#
        ))
        .expect("regex");
        re.captures(&self.html).map(|c| unescape(c[1].trim()))
    }

    /// Whether a field is on the page and not hidden.
    pub fn shows_field(&self, field: &str) -> bool {
        let re = Regex::new(&format!(
            r#"<div class="field[^"]*" id="field-{field}"[^>]*>"#
        ))
        .expect("regex");
        re.find(&self.html)
            .is_some_and(|m| !m.as_str().contains(" hidden"))
    }

    /// The label text of the input with this id, via its `<label for>`.
    pub fn label_for(&self, id: &str) -> Option<String> {
        let re = Regex::new(&format!(r#"(?s)<label for="{id}">(.*?)</label>"#)).expect("regex");
        re.captures(&self.html).map(|c| {
            let tags = Regex::new(r"<[^>]+>").expect("regex");
            unescape(tags.replace_all(&c[1], "").trim())
        })
    }

    /// The legend of the fieldset of a field.
    pub fn legend_of(&self, field: &str) -> Option<String> {
        let re = Regex::new(&format!(
            r#"(?s)id="field-{field}"[^>]*>\s*<fieldset[^>]*>\s*<legend>(.*?)</legend>"#
        ))
        .expect("regex");
        re.captures(&self.html).map(|c| {
            let tags = Regex::new(r"<[^>]+>").expect("regex");
            unescape(tags.replace_all(&c[1], "").trim())
        })
    }

    /// What the browser would post for this form right now: every named input's value,
    /// checked radios and checkboxes, selected options and textarea contents.
    pub fn form_state(&self) -> Vec<(String, String)> {
        let mut fields = Vec::new();
        let input = Regex::new(r"<input\b[^>]*>").expect("regex");
        for tag in input.find_iter(&self.html) {
            let attrs = attributes(tag.as_str());
            let Some(name) = attrs.get("name") else {
                continue;
            };
            let kind = attrs.get("type").map(String::as_str).unwrap_or("text");
            if matches!(kind, "radio" | "checkbox") && !attrs.contains_key("checked") {
                continue;
            }
            fields.push((
                name.clone(),
                attrs.get("value").cloned().unwrap_or_default(),
            ));
        }
        let textarea = Regex::new(r#"(?s)<textarea\b([^>]*)>(.*?)</textarea>"#).expect("regex");
        for c in textarea.captures_iter(&self.html) {
            let attrs = attributes(&format!("<textarea {}>", &c[1]));
            if let Some(name) = attrs.get("name") {
                fields.push((name.clone(), unescape(&c[2])));
            }
        }
        let select = Regex::new(r#"(?s)<select\b([^>]*)>(.*?)</select>"#).expect("regex");
        let option = Regex::new(r#"<option value="([^"]*)"( selected)?>"#).expect("regex");
        for c in select.captures_iter(&self.html) {
            let attrs = attributes(&format!("<select {}>", &c[1]));
            if let Some(name) = attrs.get("name") {
                let chosen = option
                    .captures_iter(&c[2])
                    .find(|o| o.get(2).is_some())
                    .map(|o| unescape(&o[1]))
                    .unwrap_or_default();
                fields.push((name.clone(), chosen));
            }
        }
        fields
    }

    /// The values the form holds for one field.
    pub fn values(&self, field: &str) -> Vec<String> {
        self.form_state()
            .into_iter()
            .filter(|(name, _)| name == field)
            .map(|(_, value)| value)
            .collect()
    }

    /// The single value the form holds for one field ("" if none).
    pub fn value(&self, field: &str) -> String {
        self.values(field).into_iter().next().unwrap_or_default()
    }

    /// Fills in fields and presses a button (Back, Next or Submit), as a person would:
    /// everything already in the form is posted too.
    pub async fn press(&self, person: &Person, button: &str, changes: &[(&str, &[&str])]) -> Page {
        assert!(
            self.has_button(button),
            "no {button} button on {}: {}",
            self.path,
            self.html
        );
        let mut fields: Vec<(String, String)> = self
            .form_state()
            .into_iter()
            .filter(|(name, _)| !changes.iter().any(|(changed, _)| changed == name))
            .collect();
        for (name, values) in changes {
            for value in *values {
                fields.push(((*name).to_owned(), (*value).to_owned()));
            }
        }
        fields.push(("_action".to_owned(), button.to_lowercase()));
        person.post(&self.form_action(), &fields).await
    }
}
