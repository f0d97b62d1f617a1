//! Compressed responses: requests ask for gzip or deflate (as dlt's `requests` client does),
//! and a body that comes so encoded is inflated here, after it was read whole, so that a
//! failure says which it was: the connection (while reading) or the encoding (here). The
//! body limit applies to the inflated bytes too: a small body that inflates without end (a
//! "zip bomb") stops at the limit.

use std::io::Read;

use flate2::read::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};

use crate::exchange::Failure;

/// The `Accept-Encoding` sent unless the request sets its own.
pub(crate) const ACCEPT_ENCODING: &str = "gzip, deflate";

/// How a response body is encoded (its `Content-Encoding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    Identity,
    Gzip,
    Deflate,
    /// One this client does not decode, on a body only read for its message: none is kept.
    Unknown,
}

impl Encoding {
    /// The encoding a `Content-Encoding` value names; `Err` with the value for one this
    /// client does not decode (it never asks for those).
    pub(crate) fn parse(value: Option<&str>) -> Result<Encoding, String> {
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(Encoding::Identity);
        };
        match value.to_ascii_lowercase().as_str() {
            "identity" => Ok(Encoding::Identity),
            "gzip" | "x-gzip" => Ok(Encoding::Gzip),
            "deflate" => Ok(Encoding::Deflate),
            _ => Err(value.to_string()),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
            Encoding::Deflate => "deflate",
            Encoding::Unknown => "unknown",
        }
    }
}

/// `body` inflated, at most `cap` bytes of it (more is [`Failure::TooLarge`]). A body that
/// does not inflate is [`Failure::BadBody`]: retried, as a cut-off body is.
pub(crate) fn decode(encoding: Encoding, body: Vec<u8>, cap: u64) -> Result<Vec<u8>, Failure> {
    let reader: Box<dyn Read + '_> = match encoding {
        // An empty body says "gzip" too at times (a 204, an empty page): it is empty.
        _ if body.is_empty() => return Ok(body),
        Encoding::Identity => return Ok(body),
        Encoding::Unknown => return Ok(Vec::new()),
        Encoding::Gzip => Box::new(MultiGzDecoder::new(&body[..])),
        // "deflate" is meant to be zlib-wrapped; some servers send the raw stream.
        Encoding::Deflate if zlib_header(&body) => Box::new(ZlibDecoder::new(&body[..])),
        Encoding::Deflate => Box::new(DeflateDecoder::new(&body[..])),
    };
    // Compressed JSON is rarely less than a quarter of its text.
    let guess = body
        .len()
        .saturating_mul(4)
        .min(usize::try_from(cap).unwrap_or(usize::MAX));
    let mut inflated = Vec::with_capacity(guess);
    match reader
        .take(cap.saturating_add(1))
        .read_to_end(&mut inflated)
    {
        Ok(_) if inflated.len() as u64 > cap => Err(Failure::TooLarge),
        Ok(_) => Ok(inflated),
        Err(e) => Err(Failure::BadBody(format!(
            "the body does not decompress ({}): {e}",
            encoding.name()
        ))),
    }
}

/// Whether `body` opens with a zlib header (RFC 1950): deflate, and a check on the two bytes.
fn zlib_header(body: &[u8]) -> bool {
    match body {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};

    use super::*;

    const TEXT: &[u8] = br#"{"data": [{"id": 1, "name": "widget"}, {"id": 2, "name": "gadget"}]}"#;

    fn encoded<W: Write>(mut w: W, finish: impl FnOnce(W) -> std::io::Result<Vec<u8>>) -> Vec<u8> {
        w.write_all(TEXT).unwrap();
        finish(w).unwrap()
    }

    #[test]
    fn gzip_zlib_and_raw_deflate_inflate() {
        let gz = encoded(
            GzEncoder::new(Vec::new(), Compression::fast()),
            GzEncoder::finish,
        );
        let zlib = encoded(
            ZlibEncoder::new(Vec::new(), Compression::fast()),
            ZlibEncoder::finish,
        );
        let raw = encoded(
            DeflateEncoder::new(Vec::new(), Compression::fast()),
            DeflateEncoder::finish,
        );
        for (encoding, body) in [
            (Encoding::Gzip, gz),
            (Encoding::Deflate, zlib),
            (Encoding::Deflate, raw),
            (Encoding::Identity, TEXT.to_vec()),
        ] {
            assert_eq!(decode(encoding, body, 1 << 20).ok().as_deref(), Some(TEXT));
        }
    }

    #[test]
    fn an_empty_body_is_empty_whatever_its_encoding() {
        for encoding in [Encoding::Gzip, Encoding::Deflate] {
            assert_eq!(decode(encoding, Vec::new(), 10).ok(), Some(Vec::new()));
        }
    }

    #[test]
    fn the_limit_applies_to_the_inflated_bytes() {
        let gz = encoded(
            GzEncoder::new(Vec::new(), Compression::fast()),
            GzEncoder::finish,
        );
        let n = TEXT.len() as u64;
        assert!(decode(Encoding::Gzip, gz.clone(), n).is_ok());
        assert!(matches!(
            decode(Encoding::Gzip, gz, n - 1),
            Err(Failure::TooLarge)
        ));
    }

    #[test]
    fn a_body_that_does_not_inflate_says_so() {
        let mut gz = encoded(
            GzEncoder::new(Vec::new(), Compression::fast()),
            GzEncoder::finish,
        );
        gz.truncate(gz.len() / 2);
        for (encoding, body) in [(Encoding::Gzip, TEXT.to_vec()), (Encoding::Gzip, gz)] {
            match decode(encoding, body, 1 << 20) {
                Err(Failure::BadBody(why)) => {
                    assert!(
                        why.starts_with("the body does not decompress (gzip): "),
                        "{why}"
                    )
                }
                _ => panic!("decoded"),
            }
        }
    }

    #[test]
    fn content_encoding_values() {
        assert_eq!(Encoding::parse(None), Ok(Encoding::Identity));
        assert_eq!(Encoding::parse(Some(" ")), Ok(Encoding::Identity));
        assert_eq!(Encoding::parse(Some("GZIP")), Ok(Encoding::Gzip));
        assert_eq!(Encoding::parse(Some("x-gzip")), Ok(Encoding::Gzip));
        assert_eq!(Encoding::parse(Some("deflate")), Ok(Encoding::Deflate));
        assert_eq!(Encoding::parse(Some("br")), Err("br".to_string()));
        assert_eq!(
            Encoding::parse(Some("gzip, br")),
            Err("gzip, br".to_string())
        );
    }
}
