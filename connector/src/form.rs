//! dlt's `endpoint.data`: a request body that is not JSON. An object is sent as a form
//! (`application/x-www-form-urlencoded`, as `requests` encodes a dict); a string is sent as
//! it is, with no `Content-Type` of its own. Placeholders in its strings are filled as in
//! params: as text, never keeping a value's type (dlt's `preserve_value_type=False`).

use serde_json::Value;

use crate::config::walk;
use crate::placeholder::{self, Encode, Placeholder};
use crate::protocol::Error;

/// The `Content-Type` of a form body.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// `endpoint.data` as parsed, its strings still templates.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// Form fields in config order; a field with several values repeats (a list in the
    /// config), as `requests` does with `doseq`. `null` values are left out, as there.
    Form(Vec<(String, Vec<String>)>),
    /// A raw body.
    Raw(String),
}

/// A rendered body and the `Content-Type` it needs (none for a raw body).
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub text: String,
    pub content_type: Option<&'static str>,
}

impl Data {
    /// Parses `endpoint.data` at `path`: a string, or an object of scalars and lists of them.
    pub fn parse(path: &str, value: &Value) -> Result<Data, Error> {
        match value {
            Value::String(s) => Ok(Data::Raw(s.clone())),
            Value::Object(m) => {
                let mut fields = Vec::with_capacity(m.len());
                for (k, v) in m {
                    let at = walk::join(path, k);
                    let values = match v {
                        Value::Array(items) => items
                            .iter()
                            .enumerate()
                            .filter_map(|(i, x)| text(&walk::index(&at, i), x).transpose())
                            .collect::<Result<Vec<_>, _>>()?,
                        other => text(&at, other)?.into_iter().collect(),
                    };
                    fields.push((k.clone(), values));
                }
                Ok(Data::Form(fields))
            }
            other => Err(walk::wrong_type(
                path,
                "a string (a raw body) or an object (form fields)",
                other,
            )),
        }
    }

    /// The template strings with where they are, for checking placeholders.
    pub fn templates(&self, path: &str) -> Vec<(String, String)> {
        match self {
            Data::Raw(s) => vec![(path.to_string(), s.clone())],
            Data::Form(fields) => fields
                .iter()
                .flat_map(|(k, vs)| vs.iter().map(move |v| (walk::join(path, k), v.clone())))
                .collect(),
        }
    }

    /// Fills the placeholders. A form value whose placeholder has no value is left out (as a
    /// param is); a raw body with one is an error at `path`.
    pub fn render(
        &self,
        path: &str,
        value: &dyn Fn(&Placeholder) -> Result<Option<Value>, Error>,
    ) -> Result<Body, Error> {
        match self {
            Data::Raw(s) => {
                let text = placeholder::render(path, s, Encode::Raw, value)?.ok_or_else(|| {
                    Error::config(
                        path,
                        "an {incremental.*} placeholder has no value (set incremental.initial_value)",
                    )
                })?;
                Ok(Body {
                    text,
                    content_type: None,
                })
            }
            Data::Form(fields) => {
                let mut text = String::new();
                for (k, vs) in fields {
                    for v in vs {
                        let Some(v) = placeholder::render(path, v, Encode::Raw, value)? else {
                            continue;
                        };
                        if !text.is_empty() {
                            text.push('&');
                        }
                        text.push_str(&form_encode(k));
                        text.push('=');
                        text.push_str(&form_encode(&v));
                    }
                }
                Ok(Body {
                    text,
                    content_type: Some(FORM_CONTENT_TYPE),
                })
            }
        }
    }
}

/// A form value as `requests` writes it (Python's `str`): `true` is `True`; `null` is none.
fn text(path: &str, v: &Value) -> Result<Option<String>, Error> {
    Ok(match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(true) => Some("True".into()),
        Value::Bool(false) => Some("False".into()),
        Value::Number(n) => Some(n.to_string()),
        other => {
            return Err(walk::wrong_type(
                path,
                "a string, a number, a boolean, null or a list of them",
                other,
            ));
        }
    })
}

/// `application/x-www-form-urlencoded` as Python's `quote_plus`: unreserved bytes stay,
/// a space is `+`, everything else `%XX`.
pub fn form_encode(s: &str) -> String {
    crate::url::percent_encode(s).replace("%20", "+")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn none(_: &Placeholder) -> Result<Option<Value>, Error> {
        Ok(None)
    }

    #[test]
    fn an_object_is_a_form_as_requests_encodes_a_dict() {
        let data = Data::parse(
            "d",
            &json!({"q": "red shoes", "n": 5, "all": true, "skip": null, "tag": ["a&b", 2], "x": 1.5}),
        )
        .unwrap();
        let body = data.render("d", &none).unwrap();
        assert_eq!(body.text, "q=red+shoes&n=5&all=True&tag=a%26b&tag=2&x=1.5");
        assert_eq!(body.content_type, Some(FORM_CONTENT_TYPE));
    }

    #[test]
    fn a_string_is_sent_as_it_is() {
        let data = Data::parse("d", &json!("<query>x y</query>")).unwrap();
        let body = data.render("d", &none).unwrap();
        assert_eq!(body.text, "<query>x y</query>");
        assert_eq!(body.content_type, None);
    }

    #[test]
    fn placeholders_fill_as_text_and_a_missing_form_value_is_left_out() {
        let data = Data::parse(
            "d",
            &json!({"since": "{incremental.start_value}", "id": "{resources.a.id}", "k": "v"}),
        )
        .unwrap();
        let value = |p: &Placeholder| -> Result<Option<Value>, Error> {
            Ok(match p {
                Placeholder::Parent { .. } => Some(json!(42)),
                Placeholder::Incremental(_) => None,
            })
        };
        assert_eq!(data.render("d", &value).unwrap().text, "id=42&k=v");
        let raw = Data::parse("d", &json!("since={incremental.start_value}")).unwrap();
        let e = raw.render("resources.a.endpoint.data", &value).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "resources.a.endpoint.data: an {incremental.*} placeholder has no value"
            ),
            "{e}"
        );
    }

    #[test]
    fn nested_values_and_other_types_name_their_key_path() {
        let e = Data::parse("resources[0].endpoint.data", &json!({"a": {"b": 1}})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources[0].endpoint.data.a: expected a string, a number, a boolean, null or a list of them, found an object"
        );
        let e = Data::parse("resources[0].endpoint.data", &json!({"a": [[1]]})).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("resources[0].endpoint.data.a[0]: expected"),
            "{e}"
        );
        let e = Data::parse("resources[0].endpoint.data", &json!(3)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources[0].endpoint.data: expected a string (a raw body) or an object (form fields), found a number"
        );
    }

    #[test]
    fn templates_list_every_string_with_its_key() {
        let data = Data::parse("d", &json!({"a": ["{x}", "y"], "b": 1})).unwrap();
        assert_eq!(
            data.templates("d"),
            vec![
                ("d.a".to_string(), "{x}".to_string()),
                ("d.a".to_string(), "y".to_string()),
                ("d.b".to_string(), "1".to_string())
            ]
        );
    }
}
