//! Identifier normalization (dialect-free): snake_case like dlt.

/// Separator between a parent field and its child in flattened column names.
pub(crate) const NESTING: &str = "__";

/// Normalizes a table or column name to snake_case like dlt: camelCase boundaries become
/// `_`, every character that is not a letter or digit becomes `_`, runs of `_` collapse,
/// letters are lowercased and a leading digit gets a `_` prefix. Never returns "".
///
/// `updatedAt` -> `updated_at`, `HTTPCode` -> `http_code`, `"; DROP TABLE x; --` -> `_drop_table_x_`.
pub fn normalize_identifier(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && i > 0 {
                let prev = chars[i - 1];
                let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
                let boundary = prev.is_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_uppercase() && next_lower);
                if boundary {
                    push_underscore(&mut out);
                }
            }
            out.extend(c.to_lowercase());
        } else {
            push_underscore(&mut out);
        }
    }
    if out.is_empty() {
        return "_".to_owned();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

fn push_underscore(out: &mut String) {
    if !out.ends_with('_') {
        out.push('_');
    }
}

/// Normalizes a primary-key field path (`parent.child`, `parent__child` or `parentChild`)
/// to the flattened column name.
pub(crate) fn normalize_path(path: &str) -> String {
    path.split('.')
        .flat_map(|part| part.split(NESTING))
        .map(normalize_identifier)
        .collect::<Vec<_>>()
        .join(NESTING)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_like_dlt() {
        assert_eq!(normalize_identifier("updatedAt"), "updated_at");
        assert_eq!(normalize_identifier("HTTPCode"), "http_code");
        assert_eq!(normalize_identifier("Unit Price ($)"), "unit_price_");
        assert_eq!(normalize_identifier("sku"), "sku");
        assert_eq!(normalize_identifier("item2Name"), "item2_name");
        assert_eq!(normalize_identifier("2fa"), "_2fa");
        assert_eq!(normalize_identifier(""), "_");
        assert_eq!(
            normalize_identifier("\"; DROP TABLE x; --"),
            "_drop_table_x_"
        );
    }

    #[test]
    fn paths_join_with_double_underscore() {
        assert_eq!(normalize_path("warehouse.code"), "warehouse__code");
        assert_eq!(normalize_path("warehouse__code"), "warehouse__code");
        assert_eq!(normalize_path("orderId"), "order_id");
    }
}
