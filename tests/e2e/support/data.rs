//! The small datasets the scenario servers serve, and encodings to check requests with.

use serde_json::Value;

use super::Req;

/// Standard base64 (for checking HTTP basic auth headers).
pub fn base64(input: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = input.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= n {
                out.push(ALPHABET[((v >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Record `id` of the scenario datasets.
pub fn rec(id: usize) -> Value {
    serde_json::json!({"id": id, "name": format!("item {id}")})
}

/// The records at positions `[from, from + count)` of a dataset of `n` (ids `from + 1`...).
pub fn records(from: usize, count: usize, n: usize) -> Value {
    Value::Array((from..(from + count).min(n)).map(|i| rec(i + 1)).collect())
}

/// `1..=n` as ids.
pub fn id_range(from: i64, to: i64) -> Vec<i64> {
    (from..=to).collect()
}

/// The `http://host:port` the request was sent to.
pub fn origin(req: &Req) -> String {
    format!("http://{}", req.header("host").unwrap_or("127.0.0.1"))
}

/// A config of one resource `items` (primary key `id`): one page from `{base_url}/items`,
/// its records under `data`.
pub fn one_page_config(base_url: &str) -> Value {
    serde_json::json!({
        "client": {"base_url": base_url},
        "resources": [{"name": "items", "primary_key": "id",
                       "endpoint": {"path": "/items", "data_selector": "data",
                                    "paginator": "single_page"}}]
    })
}
