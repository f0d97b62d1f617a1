//! Process-wide redaction of secret values from anything the host prints, including panics.

use std::sync::{Mutex, PoisonError};

use sluice_transport::Redactor;

static REDACTOR: Mutex<Option<Redactor>> = Mutex::new(None);

/// Remembers every secret `redactor` knows, besides those already remembered, for
/// [`redact`] and the panic hook.
pub fn remember(redactor: &Redactor) {
    REDACTOR
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_or_insert_with(Redactor::default)
        .merge(redactor);
}

/// Replaces every known secret value in `text`, and writes its control characters but
/// newline and tab as escapes (`\u{1b}`): text from a connector or an API (a notice, an
/// error, a response's message) cannot drive the terminal it is printed on.
pub fn redact(text: &str) -> String {
    let redacted = match &*REDACTOR.lock().unwrap_or_else(PoisonError::into_inner) {
        Some(r) => r.redact(text),
        None => text.to_string(),
    };
    escape_controls(redacted)
}

/// `text` with control characters (C0 but `\n` and `\t`, DEL, C1) written as `\u{..}`.
fn escape_controls(text: String) -> String {
    let control = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.contains(control) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if control(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `text` holds a known secret value (in any form [`redact`] would replace).
pub fn contains(text: &str) -> bool {
    REDACTOR
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .is_some_and(|r| r.contains(text))
}

/// Installs a panic hook that prints the panic message with secrets redacted.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("sluice panicked{location}: {}", redact(&payload));
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_written_as_escapes() {
        let text = "warned \u{1b}]0;pwned\u{7}\u{1b}[2J\rfake\u{9b}1m\u{7f}\n\tnext line";
        assert_eq!(
            redact(text),
            "warned \\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{d}fake\\u{9b}1m\\u{7f}\n\tnext line"
        );
        assert_eq!(redact("plain: ünïcode ✓"), "plain: ünïcode ✓");
    }
}
