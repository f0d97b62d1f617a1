use serde_json::json;

use super::*;

fn parent(r: &str, f: &str) -> Placeholder {
    Placeholder::Parent {
        resource: r.into(),
        field: f.into(),
    }
}

#[test]
fn scans_parent_and_incremental_placeholders_keeping_others() {
    let found = scan(
        "p",
        "/repos/{owner}/issues/{resources.issues.number}/c?since={incremental.start_value}",
    )
    .unwrap();
    assert_eq!(
        found,
        vec![
            parent("issues", "number"),
            Placeholder::Incremental(IncValue::Start)
        ]
    );
    assert_eq!(
        scan("p", "/a/{resources.users.profile.id}").unwrap(),
        vec![parent("users", "profile.id")]
    );
    assert!(scan("p", "/plain/{x}/{").unwrap().is_empty());
}

#[test]
fn bad_placeholders_name_the_key_path() {
    let e = scan("resources[1].endpoint.path", "/x/{resources.issues}").unwrap_err();
    assert_eq!(
        e.to_string(),
        "resources[1].endpoint.path: placeholder {resources.issues}: expected {resources.<parent>.<field>}"
    );
    let e = scan("p", "{resources.issues.a..b}").unwrap_err();
    assert!(
        e.to_string().contains("\"a..b\" is not a valid field path"),
        "{e}"
    );
    let e = scan("p", "{incremental.start_valu}").unwrap_err();
    assert!(
        e.to_string().contains("did you mean \"start_value\""),
        "{e}"
    );
}

#[test]
fn renders_path_encoded_or_raw() {
    let value = |p: &Placeholder| -> Result<Option<Value>, Error> {
        Ok(match p {
            Placeholder::Parent { field, .. } if field == "name" => Some(json!("a b/c")),
            Placeholder::Parent { .. } => Some(json!(42)),
            Placeholder::Incremental(_) => None,
        })
    };
    let t = "/u/{resources.users.name}/n/{resources.users.id}";
    assert_eq!(
        render("p", t, Encode::Path, &value).unwrap().unwrap(),
        "/u/a%20b%2Fc/n/42"
    );
    assert_eq!(
        render("p", "{resources.users.name}", Encode::Raw, &value)
            .unwrap()
            .unwrap(),
        "a b/c"
    );
    assert_eq!(
        render("p", "x{incremental.start_value}", Encode::Raw, &value).unwrap(),
        None
    );
    let body = json!({"q": {"id": "{resources.users.id}", "label": "id-{resources.users.id}"}, "since": "{incremental.start_value}", "n": 1});
    assert_eq!(
        render_json("p", &body, &value).unwrap(),
        json!({"q": {"id": 42, "label": "id-42"}, "since": null, "n": 1})
    );
}

#[test]
fn lookup_follows_dotted_paths() {
    let r = json!({"user": {"id": 7, "tags": ["a", "b"]}, "gone": null});
    assert_eq!(lookup(&r, "user.id"), Some(&json!(7)));
    assert_eq!(lookup(&r, "user.tags.1"), Some(&json!("b")));
    assert_eq!(lookup(&r, "user.name"), None);
    assert_eq!(lookup(&r, "gone"), None);
}

#[test]
fn resolve_params_bind_the_path_or_stay_in_the_query() {
    let mut path = "/issues/{issue_number}/comments".to_string();
    let mut params = vec![
        (
            "issue_number".to_string(),
            "{resources.issues.number}".to_string(),
        ),
        ("user".to_string(), "{resources.issues.user.id}".to_string()),
        ("sort".to_string(), "asc".to_string()),
    ];
    bind_resolved(
        &mut path,
        &mut params,
        &["issue_number".into(), "user".into()],
    );
    assert_eq!(path, "/issues/{resources.issues.number}/comments");
    assert_eq!(
        params,
        vec![
            ("user".to_string(), "{resources.issues.user.id}".to_string()),
            ("sort".to_string(), "asc".to_string())
        ]
    );
}
