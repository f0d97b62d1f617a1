//! Secrets: a wrapper that never prints its value, a redactor that scrubs every known value
//! (raw, percent-encoded, base64) from text, and dlt's lookup rule for named secrets.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::encode::{base64, percent_encode};

/// What every redacted value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// A secret value. Its `Debug` and `Display` print `[redacted]`; only [`Secret::expose`] gives the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(v: String) -> Self {
        Secret(v)
    }

    /// The raw value, for injection into a request at send time.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Replaces every known secret value, in each form it may travel in, with `[redacted]`.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Longest first, so a value is replaced whole before any shorter one inside it.
    patterns: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("patterns", &self.patterns.len())
            .finish()
    }
}

impl Redactor {
    /// Remembers `secret`: its raw value, its percent-encoded forms and its base64 forms
    /// (as it appears inside e.g. a basic-auth `user:password` header at any alignment).
    pub fn add(&mut self, secret: &Secret) {
        let raw = secret.expose();
        if raw.is_empty() {
            return;
        }
        self.add_pattern(raw.to_string());
        let encoded = percent_encode(raw);
        self.add_pattern(encoded.clone());
        self.add_pattern(lowercase_hex(&encoded));
        self.add_pattern(encoded.replace("%20", "+"));
        let full = base64(raw.as_bytes());
        self.add_pattern(full.trim_end_matches('=').to_string());
        self.add_pattern(full);
        for core in base64_cores(raw.as_bytes()) {
            self.add_pattern(core);
        }
    }

    /// Remembers one exact string (e.g. the base64 of a whole `user:password` pair).
    pub(crate) fn add_pattern(&mut self, pattern: String) {
        if pattern.is_empty() || self.patterns.contains(&pattern) {
            return;
        }
        let at = self.patterns.partition_point(|p| p.len() >= pattern.len());
        self.patterns.insert(at, pattern);
    }

    /// Whether `raw` is already redacted as a whole.
    pub(crate) fn covers(&self, raw: &str) -> bool {
        raw.is_empty() || self.patterns.iter().any(|p| p == raw)
    }

    /// How many patterns it redacts: grows whenever a secret or token is added.
    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Adds every pattern `other` knows: redactors of several clients merge, so no secret
    /// any of them saw stops being redacted.
    pub fn merge(&mut self, other: &Redactor) {
        for p in &other.patterns {
            self.add_pattern(p.clone());
        }
    }

    /// Whether `text` holds any known secret form (a fast substring search per form).
    pub fn contains(&self, text: &str) -> bool {
        self.patterns.iter().any(|p| text.contains(p.as_str()))
    }

    /// `text` with every known secret form replaced by `[redacted]`.
    pub fn redact(&self, text: &str) -> String {
        if self.patterns.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        'scan: while let Some(c) = rest.chars().next() {
            for p in &self.patterns {
                if rest.starts_with(p.as_str()) {
                    out.push_str(REDACTED);
                    rest = &rest[p.len()..];
                    continue 'scan;
                }
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        out
    }
}

fn lowercase_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut chars = encoded.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            out.extend(chars.by_ref().take(2).map(|h| h.to_ascii_lowercase()));
        }
    }
    out
}

/// The base64 characters that depend only on `value`, for each of the 3 alignments it can have
/// inside a longer encoded string. Cores shorter than 4 characters are skipped (too common).
fn base64_cores(value: &[u8]) -> Vec<String> {
    let mut cores = Vec::new();
    for k in 0..3usize {
        let mut bytes = vec![0u8; k];
        bytes.extend_from_slice(value);
        let encoded = base64(&bytes);
        let start = (8 * k).div_ceil(6);
        let end = (8 * (k + value.len())) / 6;
        if end >= start + 4 {
            cores.push(encoded[start..end].to_string());
        }
    }
    cores
}

/// Why a secret could not be resolved. Never contains a secret value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "secret `{name}` not found: set env {env} or add `{name}` to .dlt/secrets.toml (looked in {looked})",
        env = env_var_name(.name),
        looked = display_paths(.looked)
    )]
    Missing { name: String, looked: Vec<PathBuf> },
    #[error("cannot read {}: {message}", .path.display())]
    Read { path: PathBuf, message: String },
    #[error("cannot parse {}: invalid TOML{}", .path.display(), .line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    Parse { path: PathBuf, line: Option<usize> },
    #[error("secret `{name}` in {} is not a string", .path.display())]
    NotAString { name: String, path: PathBuf },
}

fn display_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "no secrets.toml".to_string();
    }
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// dlt's environment variable for a secret name: `sources.inventory.api_key` -> `SOURCES__INVENTORY__API_KEY`.
pub fn env_var_name(name: &str) -> String {
    name.to_uppercase().replace('.', "__")
}

type EnvFn = dyn Fn(&str) -> Option<String> + Send + Sync;

/// Resolves named secrets the way dlt does: environment first, then `.dlt/secrets.toml`.
#[derive(Clone)]
pub struct SecretResolver {
    config_dir: Option<PathBuf>,
    working_dir: PathBuf,
    env: Arc<EnvFn>,
}

impl fmt::Debug for SecretResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretResolver")
            .field("config_dir", &self.config_dir)
            .field("working_dir", &self.working_dir)
            .finish_non_exhaustive()
    }
}

impl SecretResolver {
    pub fn new(config_dir: Option<PathBuf>, working_dir: PathBuf) -> Self {
        SecretResolver {
            config_dir,
            working_dir,
            env: Arc::new(|var| std::env::var(var).ok()),
        }
    }

    /// Replaces the process environment (for tests and embedding).
    pub fn with_env(self, f: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        SecretResolver {
            env: Arc::new(f),
            ..self
        }
    }

    /// The `secrets.toml` files consulted, in order.
    fn files(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for dir in self
            .config_dir
            .iter()
            .chain(std::iter::once(&self.working_dir))
        {
            let file = dir.join(".dlt").join("secrets.toml");
            if !files.contains(&file) {
                files.push(file);
            }
        }
        files
    }

    /// dlt's rule for `dlt.secrets["api_key"]`: env var `API_KEY` (dots become `__`), then
    /// `.dlt/secrets.toml` next to the config file, then in the working directory: a top-level
    /// key `api_key`, or a dotted name as nested tables. Empty values count as missing.
    pub fn resolve(&self, name: &str) -> Result<Secret, SecretError> {
        if let Some(v) = (self.env)(&env_var_name(name))
            && !v.is_empty()
        {
            return Ok(Secret::new(v));
        }
        let files = self.files();
        for file in &files {
            if let Some(v) = lookup_file(file, name)? {
                return Ok(v);
            }
        }
        Err(SecretError::Missing {
            name: name.to_string(),
            looked: files,
        })
    }
}

fn lookup_file(path: &Path, name: &str) -> Result<Option<Secret>, SecretError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(SecretError::Read {
                path: path.to_path_buf(),
                message: e.to_string(),
            });
        }
    };
    // toml's error Display quotes the offending line, which may hold a secret: keep only its line number.
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| SecretError::Parse {
            path: path.to_path_buf(),
            line: e.span().map(|s| {
                text.as_bytes()[..s.start.min(text.len())]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1
            }),
        })?;
    let value = table.get(name).or_else(|| {
        let mut parts = name.split('.');
        let first = table.get(parts.next()?)?;
        parts.try_fold(first, |v, part| v.as_table()?.get(part))
    });
    match value {
        None => Ok(None),
        Some(toml::Value::String(s)) if s.is_empty() => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(Secret::new(s.clone()))),
        Some(_) => Err(SecretError::NotAString {
            name: name.to_string(),
            path: path.to_path_buf(),
        }),
    }
}
