//! Reading `application/x-www-form-urlencoded` bodies, where a name may repeat (checkboxes).

use std::collections::HashMap;

/// A posted form: every value under each name, in order.
#[derive(Debug, Default)]
pub struct PostedForm(HashMap<String, Vec<String>>);

impl PostedForm {
    /// Parses a form body.
    pub fn parse(body: &[u8]) -> Self {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in form_urlencoded::parse(body) {
            map.entry(name.into_owned())
                .or_default()
                .push(value.into_owned());
        }
        PostedForm(map)
    }

    /// Every value posted under `name`.
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.0
            .get(name)
            .map(|values| values.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The first value posted under `name`.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.first()).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_names_keep_every_value() {
        let form = PostedForm::parse(b"damage=windows&damage=lights&name=A+%26+B&empty=");
        assert_eq!(form.values("damage"), vec!["windows", "lights"]);
        assert_eq!(form.first("name"), Some("A & B"));
        assert_eq!(form.first("empty"), Some(""));
        assert!(form.values("missing").is_empty());
    }
}
