//! The header parsers: `Retry-After` (seconds or an HTTP date) and `Link` (`rel="next"`).
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let _ = sluice_transport::parse_retry_after(&text, now);
    let headers = vec![("Link".to_string(), text.to_string())];
    for rel in ["next", "last", "prev"] {
        if let Some(url) = sluice_connector::paginator::link_rel(&headers, rel) {
            assert!(text.contains(url.as_str()), "a link comes from the header");
        }
    }
});
