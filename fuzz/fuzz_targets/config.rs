//! Config parsing: `Session::open` with arbitrary bytes (as text) and the resources it
//! describes; it may refuse the config, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_connector::Session;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(mut session) = Session::open(&text, &[("r".into(), text.to_string())]) {
        for info in session.resources() {
            let _ = session.next_requests(&info.name);
        }
    }
});
