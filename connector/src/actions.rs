//! `response_actions`: responses that yield no records and end their request chain.
//!
//! dlt semantics: a rule matches on `status_code`, on `content` (a substring of the body),
//! or on both; the first matching rule applies. The only action a JSON config can name is
//! `ignore`: the response is an empty last page of its chain, whatever its status.

use serde_json::Value;

use crate::config::spec::{ObjSpec, Ty, key};
use crate::config::walk::{self, Obj};
use crate::protocol::{Error, Response};

const ACTIONS: &[&str] = &["ignore"];

/// The keys of one `response_actions` rule.
pub static ACTION_SPEC: ObjSpec = ObjSpec {
    name: "response_action",
    keys: &[
        key("status_code", Ty::Int, "HTTP status the rule matches"),
        key(
            "content",
            Ty::Str,
            "a substring of the body the rule matches",
        ),
        key(
            "action",
            Ty::Enum(ACTIONS),
            "what to do with a matching response",
        ),
    ],
    required: &["action"],
};

/// What to do with a matching response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// No records; stop paging this chain.
    Ignore,
}

/// One rule of `response_actions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseAction {
    pub status_code: Option<u16>,
    pub content: Option<String>,
    pub action: Action,
}

impl ResponseAction {
    /// Parses the list at `path`.
    pub(crate) fn parse_list(path: &str, value: &Value) -> Result<Vec<ResponseAction>, Error> {
        let Value::Array(items) = value else {
            return Err(walk::wrong_type(path, "a list", value));
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let p = walk::index(path, i);
            let obj = Obj::new(&p, item)?;
            obj.check(&ACTION_SPEC)?;
            let status_code = match obj.u64_opt("status_code")? {
                None => None,
                Some(c) if (100..=599).contains(&c) => u16::try_from(c).ok(),
                Some(_) => {
                    return Err(Error::config(
                        obj.at("status_code"),
                        "expected an HTTP status code (100-599)",
                    ));
                }
            };
            let content = obj.str_opt("content")?.map(str::to_string);
            if content.as_deref() == Some("") {
                return Err(Error::config(obj.at("content"), "must not be empty"));
            }
            if status_code.is_none() && content.is_none() {
                return Err(Error::config(
                    p.clone(),
                    "a response action needs status_code, content or both",
                ));
            }
            let action = match obj.str_req("action")? {
                "ignore" => Action::Ignore,
                other => {
                    return Err(Error::config(
                        obj.at("action"),
                        format!(
                            "unknown action \"{other}\" {}",
                            walk::expected_one_of(other, ACTIONS)
                        ),
                    ));
                }
            };
            out.push(ResponseAction {
                status_code,
                content,
                action,
            });
        }
        Ok(out)
    }

    /// True when this rule matches `response`.
    pub fn matches(&self, response: &Response) -> bool {
        let status_ok = self.status_code.is_none_or(|c| c == response.status);
        status_ok
            && self.content.as_ref().is_none_or(|needle| {
                String::from_utf8_lossy(&response.body).contains(needle.as_str())
            })
    }
}

/// The action of the first rule of `rules` matching `response`.
pub fn action_for(rules: &[ResponseAction], response: &Response) -> Option<Action> {
    rules.iter().find(|r| r.matches(response)).map(|r| r.action)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resp(status: u16, body: &str) -> Response {
        Response {
            seq: 0,
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn matches_status_content_or_both() {
        let rules = ResponseAction::parse_list(
            "a",
            &json!([
                {"status_code": 404, "action": "ignore"},
                {"content": "not found", "action": "ignore"},
                {"status_code": 400, "content": "gone", "action": "ignore"}
            ]),
        )
        .unwrap();
        assert_eq!(action_for(&rules, &resp(404, "")), Some(Action::Ignore));
        assert_eq!(
            action_for(&rules, &resp(200, "{\"msg\": \"user not found\"}")),
            Some(Action::Ignore)
        );
        assert_eq!(
            action_for(&rules, &resp(400, "it is gone")),
            Some(Action::Ignore)
        );
        assert_eq!(action_for(&rules, &resp(400, "bad")), None);
        assert_eq!(action_for(&rules, &resp(200, "[]")), None);
    }

    #[test]
    fn invalid_rules_name_their_path() {
        let e = |v: Value| {
            ResponseAction::parse_list("ep.response_actions", &v)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e(json!([{"status_code": 404, "action": "ignor"}])),
            "ep.response_actions[0].action: unknown action \"ignor\" (expected one of: ignore; did you mean \"ignore\"?)"
        );
        assert_eq!(
            e(json!([{"status_code": 404, "action": "ignore", "stauts": 1}]))
                .split(' ')
                .next(),
            Some("ep.response_actions[0].stauts:")
        );
        assert_eq!(
            e(json!([{"action": "ignore"}])),
            "ep.response_actions[0]: a response action needs status_code, content or both"
        );
        assert_eq!(
            e(json!([{"status_code": 99, "action": "ignore"}])),
            "ep.response_actions[0].status_code: expected an HTTP status code (100-599)"
        );
        assert_eq!(
            e(json!([{"status_code": "404", "action": "ignore"}])),
            "ep.response_actions[0].status_code: expected a non-negative integer, found a string"
        );
        assert_eq!(
            e(json!([{"status_code": 404}])),
            "ep.response_actions[0].action: missing required key"
        );
        assert_eq!(
            e(json!({})),
            "ep.response_actions: expected a list, found an object"
        );
    }
}
