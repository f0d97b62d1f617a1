//! Property: a secret the transport sends (in a query string, a header, a bearer token, a
//! cookie or inside a basic-auth `user:password` pair) cannot be read back from any text
//! after redaction, whatever characters it holds and whatever surrounds it.

use proptest::prelude::*;

use crate::encode::{base64, percent_encode};
use crate::inject::{basic_value, with_query};
use crate::secret::{Redactor, Secret};

/// The base64 characters of `user:secret` that encode bytes of the secret only (whole
/// 3-byte groups inside it): what could give the secret away in a basic-auth header.
fn secret_only_base64(user: &str, secret: &str) -> Option<String> {
    let start = user.len() + 1;
    let end = start + secret.len();
    let first = start.div_ceil(3);
    let last = end / 3;
    (last > first).then(|| {
        let full = base64(format!("{user}:{secret}").as_bytes());
        full[first * 4..last * 4].to_string()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn every_form_the_transport_sends_is_redacted(
        secret in "[ -~]{4,24}|\\PC{4,12}",
        user in "[a-z]{0,8}",
        before in "[ -~]{0,20}",
        after in "[ -~]{0,20}",
    ) {
        let mut r = Redactor::default();
        r.add(&Secret::new(secret.clone()));
        let wrap = |s: &str| format!("{before}{s}{after}");
        let forms = [
            wrap(&secret),
            wrap(&with_query("https://api.example.com/x?a=1", "key", &secret)),
            wrap(&format!("Authorization: Bearer {secret}")),
            wrap(&format!("Cookie: session={}", percent_encode(&secret))),
            wrap(&format!("Authorization: Basic {}", basic_value(&user, &secret))),
        ];
        for text in forms {
            let redacted = r.redact(&text);
            prop_assert!(!redacted.contains(&secret), "raw secret left in {redacted:?}");
            prop_assert!(
                !redacted.contains(&percent_encode(&secret)),
                "percent-encoded secret left in {redacted:?}"
            );
            if let Some(core) = secret_only_base64(&user, &secret) {
                prop_assert!(!redacted.contains(&core), "base64 of the secret left in {redacted:?}");
            }
            prop_assert!(r.contains(&text));
        }
    }
}
