//! The redactor and dlt's secret resolution rule.

use std::fs;
use std::path::Path;

use sluice_transport::{Redactor, Secret, SecretError, SecretResolver};

fn redactor(values: &[&str]) -> Redactor {
    let mut r = Redactor::default();
    for v in values {
        r.add(&Secret::new(v.to_string()));
    }
    r
}

#[test]
fn secret_never_prints_its_value() {
    let s = Secret::new("hunter22".into());
    assert_eq!(format!("{s}"), "[redacted]");
    assert_eq!(format!("{s:?}"), "[redacted]");
    assert_eq!(s.expose(), "hunter22");
}

#[test]
fn redacts_raw_and_percent_encoded_forms() {
    let r = redactor(&["p@ss word/1"]);
    assert_eq!(r.redact("raw p@ss word/1 end"), "raw [redacted] end");
    assert_eq!(
        r.redact("url ?k=p%40ss%20word%2F1&x"),
        "url ?k=[redacted]&x"
    );
    assert_eq!(r.redact("lower p%40ss%20word%2f1"), "lower [redacted]");
    assert_eq!(r.redact("form p%40ss+word%2F1"), "form [redacted]");
    assert_eq!(r.redact("nothing here"), "nothing here");
}

#[test]
fn short_values_are_still_redacted() {
    let r = redactor(&["ab1"]);
    assert_eq!(r.redact("key=ab1;"), "key=[redacted];");
    // Empty values are ignored rather than matching everywhere.
    assert_eq!(redactor(&[""]).redact("text"), "text");
}

#[test]
fn redacts_base64_basic_auth_at_any_alignment() {
    let r = redactor(&["opensesame"]);
    // base64("aladdin:opensesame"), base64("ab:opensesame"), base64("a:opensesame")
    for (encoded, user) in [
        ("YWxhZGRpbjpvcGVuc2VzYW1l", "aladdin"),
        ("YWI6b3BlbnNlc2FtZQ==", "ab"),
        ("YTpvcGVuc2VzYW1l", "a"),
    ] {
        let out = r.redact(&format!("Authorization: Basic {encoded}"));
        assert!(out.contains("[redacted]"), "{user}: {out}");
        assert!(
            !out.contains(&encoded[encoded.len() - 8..]),
            "{user}: {out}"
        );
    }
    assert_eq!(r.redact("b3BlbnNlc2FtZQ=="), "[redacted]");
}

#[test]
fn longest_value_wins_and_output_is_stable() {
    let r = redactor(&["abcd", "abcdefgh"]);
    assert_eq!(
        r.redact("x abcdefgh y abcd z"),
        "x [redacted] y [redacted] z"
    );
    // The replacement itself is not re-redacted.
    assert_eq!(redactor(&["red", "act"]).redact("red"), "[redacted]");
    assert!(!format!("{r:?}").contains("abcd"));
}

fn write_secrets(dir: &Path, text: &str) {
    fs::create_dir_all(dir.join(".dlt")).unwrap();
    fs::write(dir.join(".dlt/secrets.toml"), text).unwrap();
}

#[test]
fn env_comes_first_and_dots_become_double_underscores() {
    let cwd = tempfile::tempdir().unwrap();
    write_secrets(cwd.path(), "api_key = \"from-file\"\n");
    let r = SecretResolver::new(None, cwd.path().to_path_buf()).with_env(|v| match v {
        "API_KEY" => Some("from-env".into()),
        "SOURCES__INVENTORY__API_KEY" => Some("nested-env".into()),
        _ => None,
    });
    assert_eq!(r.resolve("api_key").unwrap().expose(), "from-env");
    assert_eq!(
        r.resolve("sources.inventory.api_key").unwrap().expose(),
        "nested-env"
    );
}

#[test]
fn empty_env_counts_as_missing() {
    let cwd = tempfile::tempdir().unwrap();
    write_secrets(cwd.path(), "api_key = \"from-file\"\n");
    let r = SecretResolver::new(None, cwd.path().to_path_buf()).with_env(|_| Some(String::new()));
    assert_eq!(r.resolve("api_key").unwrap().expose(), "from-file");
}

#[test]
fn secrets_toml_next_to_config_wins_over_cwd() {
    let config = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    write_secrets(config.path(), "api_key = \"config-dir\"\n");
    write_secrets(cwd.path(), "api_key = \"cwd\"\ntoken = \"cwd-token\"\n");
    let r = SecretResolver::new(Some(config.path().to_path_buf()), cwd.path().to_path_buf())
        .with_env(|_| None);
    assert_eq!(r.resolve("api_key").unwrap().expose(), "config-dir");
    assert_eq!(r.resolve("token").unwrap().expose(), "cwd-token");
}

#[test]
fn dotted_names_are_nested_tables_or_quoted_keys() {
    let cwd = tempfile::tempdir().unwrap();
    write_secrets(
        cwd.path(),
        "\"flat.key\" = \"quoted\"\n[sources.inventory]\napi_key = \"nested\"\nport = 5\n",
    );
    let r = SecretResolver::new(None, cwd.path().to_path_buf()).with_env(|_| None);
    assert_eq!(
        r.resolve("sources.inventory.api_key").unwrap().expose(),
        "nested"
    );
    assert_eq!(r.resolve("flat.key").unwrap().expose(), "quoted");
    assert!(matches!(
        r.resolve("sources.inventory.port"),
        Err(SecretError::NotAString { .. })
    ));
    assert!(matches!(
        r.resolve("sources.inventory.other"),
        Err(SecretError::Missing { .. })
    ));
}

#[test]
fn missing_names_env_var_and_files() {
    let config = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let r = SecretResolver::new(Some(config.path().to_path_buf()), cwd.path().to_path_buf())
        .with_env(|_| None);
    let msg = r
        .resolve("sources.inventory.api_key")
        .unwrap_err()
        .to_string();
    assert!(msg.starts_with("secret `sources.inventory.api_key` not found: set env SOURCES__INVENTORY__API_KEY or add `sources.inventory.api_key` to .dlt/secrets.toml (looked in "), "{msg}");
    assert!(
        msg.contains(
            &config
                .path()
                .join(".dlt/secrets.toml")
                .display()
                .to_string()
        ),
        "{msg}"
    );
    assert!(
        msg.contains(&cwd.path().join(".dlt/secrets.toml").display().to_string()),
        "{msg}"
    );
}

#[test]
fn errors_never_contain_values() {
    let cwd = tempfile::tempdir().unwrap();
    write_secrets(cwd.path(), "api_key = \"topsecret-value\nbroken = \n");
    let r = SecretResolver::new(None, cwd.path().to_path_buf()).with_env(|_| None);
    let err = r.resolve("api_key").unwrap_err();
    assert!(
        matches!(err, SecretError::Parse { line: Some(_), .. }),
        "{err:?}"
    );
    for text in [err.to_string(), format!("{err:?}"), format!("{r:?}")] {
        assert!(!text.contains("topsecret"), "{text}");
    }
    let ok = tempfile::tempdir().unwrap();
    write_secrets(ok.path(), "api_key = \"topsecret-value\"\n");
    let r = SecretResolver::new(None, ok.path().to_path_buf()).with_env(|_| None);
    let s = r.resolve("api_key").unwrap();
    assert!(!format!("{s:?} {s} {r:?}").contains("topsecret"));
}
