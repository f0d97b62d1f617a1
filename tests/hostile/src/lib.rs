//! A connector that misbehaves on purpose, chosen by the config's `"hostile"` value:
//! `alloc` grows its memory without bound, `panic` panics with a message, `loop` never
//! returns. Anything else is a config error. Built by the e2e tests (`tests/e2e/sandbox.rs`).
#![allow(unsafe_code)] // the code `wit_bindgen::generate!` expands to

wit_bindgen::generate!({
    world: "connector",
    path: "../../wit",
});

use exports::sluice::connector::source::{Guest, GuestSession, Session};
use sluice::connector::types::{ConfigError, Error, Page, Request, ResourceInfo, Response};

struct Component;

struct Hostile;

impl Guest for Component {
    type Session = Hostile;

    fn config_schema() -> String {
        "{}".to_string()
    }
}

impl GuestSession for Hostile {
    fn open(config: String, _state: Vec<(String, String)>) -> Result<Session, Error> {
        if config.contains("\"alloc\"") {
            let mut kept: Vec<Vec<u8>> = Vec::new();
            loop {
                kept.push(std::hint::black_box(vec![7u8; 1 << 20]));
            }
        }
        if config.contains("\"panic\"") {
            panic!("the hostile connector gave up on purpose");
        }
        if config.contains("\"loop\"") {
            let mut n = 0u64;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        Err(Error::Config(ConfigError {
            path: "hostile".into(),
            message: "expected alloc, panic or loop".into(),
        }))
    }

    fn resources(&self) -> Vec<ResourceInfo> {
        Vec::new()
    }

    fn next_requests(&self, _name: String) -> Result<Vec<Request>, Error> {
        Ok(Vec::new())
    }

    fn on_response(&self, _name: String, _response: Response) -> Result<Page, Error> {
        Err(Error::Protocol("no requests".into()))
    }
}

export!(Component);
