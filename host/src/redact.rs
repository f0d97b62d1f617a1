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

/// Replaces every known secret value in `text`.
pub fn redact(text: &str) -> String {
    match &*REDACTOR.lock().unwrap_or_else(PoisonError::into_inner) {
        Some(r) => r.redact(text),
        None => text.to_string(),
    }
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
