//! The allow-list's URL checks: normalizing an arbitrary URL never panics, and a URL is
//! allowed only if its normalized host and port are the allowed ones.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let allowed = [
        "http://127.0.0.1:4000".to_string(),
        "api.example.com".to_string(),
    ];
    let host = sluice_transport::host_of(&text);
    if sluice_transport::url_allowed(&allowed, &text) {
        let host = host.expect("an allowed URL has a host");
        assert!(
            host == "127.0.0.1:4000" || host.starts_with("api.example.com:"),
            "{text:?} allowed as {host}"
        );
    }
    if let Ok(ip) = text.parse::<std::net::IpAddr>() {
        let _ = sluice_transport::special_range(ip);
    }
});
