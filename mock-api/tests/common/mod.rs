//! A plain std HTTP/1.1 client for the tests (no extra dependencies).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;
use sluice_mock_api::MockServer;

pub const KEY: &str = "demo-secret-key";

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            let start: String = self.body.chars().take(300).collect();
            panic!("{e}: {start}")
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn ids(&self) -> Vec<u64> {
        self.json()["data"]
            .as_array()
            .expect("data array")
            .iter()
            .map(|v| v["id"].as_u64().expect("id"))
            .collect()
    }
}

/// Sends one request on a fresh connection and reads the whole reply.
pub fn request(server: &MockServer, method: &str, target: &str, headers: &[(&str, &str)]) -> Reply {
    let base = server.base_url();
    let host = base.strip_prefix("http://").expect("http base url");
    let mut stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    parse(&String::from_utf8(raw).expect("utf-8 reply"))
}

pub fn get(server: &MockServer, target: &str) -> Reply {
    request(server, "GET", target, &[])
}

/// GET /v1/inventory with the default key and extra query text.
pub fn page(server: &MockServer, query: &str) -> Reply {
    get(server, &format!("/v1/inventory?api_key={KEY}&{query}"))
}

fn parse(raw: &str) -> Reply {
    let (head, body) = raw.split_once("\r\n\r\n").expect("header end");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: Option<usize> = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok());
    let length = length.expect("every reply has a Content-Length (never chunked)");
    assert_eq!(body.len(), length, "body length matches Content-Length");
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}
