//! Identifier normalization (dialect-free): dlt's `snake_case` naming convention, rule for
//! rule, so a dlt user gets the table and column names they had.

use base64::Engine as _;
use sha3::digest::{ExtendableOutput, Update, XofReader};

/// Separator between a parent and its child in table and flattened column names.
pub(crate) const NESTING: &str = "__";

/// What an empty (or blank) key of a record becomes, as in dlt.
pub(crate) const EMPTY_KEY: &str = "_empty";

/// Normalizes a table or column name with dlt's `snake_case` rules:
/// surrounding whitespace is trimmed; `+` and `*` become `x`, `-` becomes `_`, `@` becomes
/// `a`, `|` becomes `l`; every other run of characters that are not ASCII letters, digits or
/// `_` becomes one `_`; camelCase is split (`updatedAt` -> `updated_at`, `HTTPCode` ->
/// `http_code`); letters are lowercased; a leading digit gets a `_` prefix; each trailing `_`
/// becomes `x` (`Unit Price ($)` -> `unit_pricex`); runs of `_` collapse to one, so a single
/// name never contains the `__` nesting separator. A blank name becomes `_empty`.
///
/// No length limit: see [`shorten`] for databases with one.
pub fn normalize_identifier(name: &str) -> String {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return EMPTY_KEY.to_owned();
    }
    let mut reduced: Vec<char> = Vec::with_capacity(trimmed.len());
    let mut in_run = false;
    for c in trimmed.chars() {
        let c = match c {
            '+' | '*' => 'x',
            '-' => '_',
            '@' => 'a',
            '|' => 'l',
            c => c,
        };
        if c.is_ascii_alphabetic() || is_digit(c) || c == '_' {
            reduced.push(c);
            in_run = false;
        } else if !in_run {
            reduced.push('_');
            in_run = true;
        }
    }
    let split = break_lower_upper(&break_before_words(&reduced));
    let mut out: String = split.iter().flat_map(|c| c.to_lowercase()).collect();
    if out.starts_with(is_digit) {
        out.insert(0, '_');
    }
    let kept = out.trim_end_matches('_').len();
    let trailing = out.len() - kept;
    out.truncate(kept);
    out.extend(std::iter::repeat_n('x', trailing));
    collapse_underscores(&out)
}

/// Python's `\d`: a decimal digit of any script.
fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric())
}

/// dlt's first camelCase break, `([^_])([A-Z][a-z]+)` -> `\1_\2`, applied left to right.
fn break_before_words(c: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(c.len() + 4);
    let mut i = 0;
    while i < c.len() {
        let word = c[i] != '_'
            && c.get(i + 1).is_some_and(char::is_ascii_uppercase)
            && c.get(i + 2).is_some_and(char::is_ascii_lowercase);
        if word {
            out.extend([c[i], '_', c[i + 1]]);
            let mut j = i + 2;
            while j < c.len() && c[j].is_ascii_lowercase() {
                out.push(c[j]);
                j += 1;
            }
            i = j;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// dlt's second camelCase break, `([a-z0-9])([A-Z])` -> `\1_\2`.
fn break_lower_upper(c: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(c.len() + 4);
    let mut i = 0;
    while i < c.len() {
        let lower_or_digit = c[i].is_ascii_lowercase() || c[i].is_ascii_digit();
        if lower_or_digit && c.get(i + 1).is_some_and(char::is_ascii_uppercase) {
            out.extend([c[i], '_', c[i + 1]]);
            i += 2;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn collapse_underscores(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    out
}

/// Joins normalized names with the nesting separator (dlt's `make_path`).
pub(crate) fn path(parts: &[&str]) -> String {
    parts.join(NESTING)
}

/// Shortens `normalized` to `max_length` characters the way dlt does when a database limits
/// identifiers: the middle is replaced by a 6-character tag hashed (SHAKE-128) from
/// `original`, so two long names that share a prefix and suffix stay distinct. Names within
/// the limit, or with no limit, are returned as they are.
pub fn shorten(normalized: &str, original: &str, max_length: Option<usize>) -> String {
    let Some(max) = max_length.filter(|&m| normalized.chars().count() > m) else {
        return normalized.to_owned();
    };
    let tag = tag(original);
    let remaining = max.saturating_sub(tag.len());
    let chars: Vec<char> = normalized.chars().collect();
    let head = remaining / 2 + remaining % 2;
    let tail = remaining / 2;
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&tag);
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// dlt's collision tag: 4 bytes of SHAKE-128, base64 without padding, `/` -> `a`, `+` -> `b`,
/// lowercased.
fn tag(original: &str) -> String {
    let mut bytes = [0u8; 4];
    shake128(original.as_bytes(), &mut bytes);
    base64::engine::general_purpose::STANDARD_NO_PAD
        .encode(bytes)
        .replace('/', "a")
        .replace('+', "b")
        .to_lowercase()
}

/// Fills `out` with the SHAKE-128 digest of `input`.
fn shake128(input: &[u8], out: &mut [u8]) {
    let mut hasher = sha3::Shake128::default();
    hasher.update(input);
    hasher.finalize_xof().read(out);
}

/// Normalizes a primary-key field path (`parent.child`, `parent__child` or `parentChild`)
/// to the flattened column name.
pub(crate) fn normalize_path(p: &str) -> String {
    let parts: Vec<String> = p
        .split('.')
        .flat_map(|part| part.split(NESTING))
        .filter(|part| !part.trim().is_empty())
        .map(normalize_identifier)
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    path(&parts)
}

#[cfg(test)]
#[path = "naming_tests.rs"]
mod tests;
