//! Injected faults and their textual form `STATUS[xTIMES][@OFFSET][:retry-after=VALUE]`.

use std::str::FromStr;

/// A fault to inject: answer `status` (body `{"error": "injected"}`) `times` times, to any
/// request (`at_offset: None`) or only to requests whose `offset` equals `at_offset`.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub status: u16,
    pub times: u32,
    pub at_offset: Option<usize>,
    pub retry_after: Option<String>,
}

impl Fault {
    /// A fault answering `status` once to any request.
    pub fn new(status: u16) -> Fault {
        Fault {
            status,
            times: 1,
            at_offset: None,
            retry_after: None,
        }
    }

    /// Whether this fault applies to a request with this `offset` (`None` when the
    /// request's offset could not be parsed).
    pub(crate) fn matches(&self, offset: Option<usize>) -> bool {
        self.times > 0
            && match self.at_offset {
                None => true,
                Some(at) => offset == Some(at),
            }
    }
}

/// Why a fault specification could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FaultParseError {
    #[error("empty fault spec; expected STATUS[xTIMES][@OFFSET][:retry-after=VALUE], e.g. 503x2")]
    Empty,
    #[error("fault status {0:?} is not a number; expected e.g. 503")]
    BadStatus(String),
    #[error("fault status {0} is out of range; expected 400..=599")]
    StatusOutOfRange(u16),
    #[error("fault times {0:?} is not a positive integer; expected e.g. x2")]
    BadTimes(String),
    #[error("fault offset {0:?} is not a non-negative integer; expected e.g. @500")]
    BadOffset(String),
    #[error("unknown fault option {0:?}; the only option is retry-after=VALUE")]
    UnknownOption(String),
    #[error("fault retry-after value is empty or has characters not allowed in a header")]
    BadRetryAfter,
}

impl FromStr for Fault {
    type Err = FaultParseError;

    fn from_str(spec: &str) -> Result<Fault, FaultParseError> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(FaultParseError::Empty);
        }
        // Only the first ':' separates: an HTTP-date Retry-After value contains colons.
        let (head, option) = match spec.split_once(':') {
            Some((head, option)) => (head, Some(option)),
            None => (spec, None),
        };
        let (head, offset) = match head.split_once('@') {
            Some((head, offset)) => (head, Some(offset)),
            None => (head, None),
        };
        let (status, times) = match head.split_once(['x', 'X']) {
            Some((status, times)) => (status, Some(times)),
            None => (head, None),
        };

        let status = parse_status(status)?;
        let times = match times {
            None => 1,
            Some(t) => match t.trim().parse::<u32>() {
                Ok(n) if n > 0 => n,
                _ => return Err(FaultParseError::BadTimes(t.to_string())),
            },
        };
        let at_offset = match offset {
            None => None,
            Some(o) => Some(
                o.trim()
                    .parse::<usize>()
                    .map_err(|_| FaultParseError::BadOffset(o.to_string()))?,
            ),
        };
        let retry_after = option.map(parse_option).transpose()?;
        Ok(Fault {
            status,
            times,
            at_offset,
            retry_after,
        })
    }
}

fn parse_status(text: &str) -> Result<u16, FaultParseError> {
    let status = text
        .trim()
        .parse::<u16>()
        .map_err(|_| FaultParseError::BadStatus(text.to_string()))?;
    if (400..=599).contains(&status) {
        Ok(status)
    } else {
        Err(FaultParseError::StatusOutOfRange(status))
    }
}

fn parse_option(option: &str) -> Result<String, FaultParseError> {
    let Some((key, value)) = option.split_once('=') else {
        return Err(FaultParseError::UnknownOption(option.to_string()));
    };
    if !key.trim().eq_ignore_ascii_case("retry-after") {
        return Err(FaultParseError::UnknownOption(key.to_string()));
    }
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(FaultParseError::BadRetryAfter);
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Fault, FaultParseError> {
        s.parse()
    }

    #[test]
    fn status_only_defaults_to_once_anywhere() {
        assert_eq!(parse("503"), Ok(Fault::new(503)));
    }

    #[test]
    fn full_forms() {
        assert_eq!(
            parse("503x2"),
            Ok(Fault {
                times: 2,
                ..Fault::new(503)
            })
        );
        assert_eq!(
            parse("429x1@500:retry-after=1"),
            Ok(Fault {
                status: 429,
                times: 1,
                at_offset: Some(500),
                retry_after: Some("1".into()),
            })
        );
        assert_eq!(
            parse("500x3@1200"),
            Ok(Fault {
                status: 500,
                times: 3,
                at_offset: Some(1200),
                retry_after: None,
            })
        );
        assert_eq!(
            parse("502@0"),
            Ok(Fault {
                at_offset: Some(0),
                ..Fault::new(502)
            })
        );
        assert_eq!(
            parse("429:Retry-After=2").map(|f| f.retry_after),
            Ok(Some("2".into()))
        );
    }

    #[test]
    fn retry_after_may_be_an_http_date_with_colons() {
        let f = parse("503:retry-after=Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(
            f.retry_after.as_deref(),
            Some("Wed, 21 Oct 2015 07:28:00 GMT")
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(parse(""), Err(FaultParseError::Empty));
        assert_eq!(parse("abc"), Err(FaultParseError::BadStatus("abc".into())));
        assert_eq!(parse("200"), Err(FaultParseError::StatusOutOfRange(200)));
        assert_eq!(
            parse("70000"),
            Err(FaultParseError::BadStatus("70000".into()))
        );
        assert_eq!(parse("503x0"), Err(FaultParseError::BadTimes("0".into())));
        assert_eq!(parse("503x"), Err(FaultParseError::BadTimes("".into())));
        assert_eq!(parse("503x-1"), Err(FaultParseError::BadTimes("-1".into())));
        assert_eq!(parse("503@x"), Err(FaultParseError::BadOffset("x".into())));
        assert_eq!(
            parse("503@-5"),
            Err(FaultParseError::BadOffset("-5".into()))
        );
        assert_eq!(
            parse("503:delay=1"),
            Err(FaultParseError::UnknownOption("delay".into()))
        );
        assert_eq!(
            parse("503:retry-after"),
            Err(FaultParseError::UnknownOption("retry-after".into()))
        );
        assert_eq!(
            parse("503:retry-after="),
            Err(FaultParseError::BadRetryAfter)
        );
        assert_eq!(
            parse("503:retry-after=1\u{7}"),
            Err(FaultParseError::BadRetryAfter)
        );
        let msg = parse("503x0").unwrap_err().to_string();
        assert!(msg.contains("times") && msg.contains("\"0\""), "{msg}");
        let msg = parse("200").unwrap_err().to_string();
        assert!(msg.contains("400..=599"), "{msg}");
    }

    #[test]
    fn matching() {
        let any = Fault::new(503);
        assert!(any.matches(Some(0)) && any.matches(None));
        let at = Fault {
            at_offset: Some(500),
            ..Fault::new(503)
        };
        assert!(at.matches(Some(500)));
        assert!(!at.matches(Some(400)) && !at.matches(None));
        let spent = Fault {
            times: 0,
            ..Fault::new(503)
        };
        assert!(!spent.matches(Some(0)));
    }
}
