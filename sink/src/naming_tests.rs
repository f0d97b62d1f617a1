//! Expected names computed with dlt 1.31's `snake_case` naming convention.

use super::*;

#[test]
fn snake_case_like_dlt() {
    let cases = [
        ("updatedAt", "updated_at"),
        ("HTTPCode", "http_code"),
        ("Unit Price ($)", "unit_pricex"),
        ("sku", "sku"),
        ("item2Name", "item2_name"),
        ("2fa", "_2fa"),
        ("a+b*c", "axbxc"),
        ("x-y", "x_y"),
        ("user@host", "userahost"),
        ("a|b", "alb"),
        ("trailing__", "trailingxx"),
        ("__dunder__", "_dunderxx"),
        ("a__b", "a_b"),
        ("  spaced name  ", "spaced_name"),
        ("ABCDef", "abc_def"),
        ("aBcDe", "a_bc_de"),
        ("getHTTPResponseCode", "get_http_response_code"),
        ("Émile", "_mile"),
        ("price€", "pricex"),
        ("1st place", "_1st_place"),
        ("camelCase_with__under", "camel_case_with_under"),
        ("\"; DROP TABLE x; --", "_drop_table_xxxx"),
        ("a.b", "a_b"),
        ("$", "x"),
        ("MyURLIsHere", "my_url_is_here"),
        ("v2API", "v2_api"),
        ("", "_empty"),
        ("   ", "_empty"),
    ];
    for (raw, want) in cases {
        assert_eq!(normalize_identifier(raw), want, "{raw:?}");
    }
}

#[test]
fn long_names_are_shortened_with_dlts_tag() {
    let long =
        "a_very_long_column_name_that_goes_on_and_on_and_on_well_past_sixty_three_characters";
    assert_eq!(
        shorten(&normalize_identifier(long), long, Some(63)),
        "a_very_long_column_name_that_h4zrwg_past_sixty_three_characters"
    );
    let nested = format!("items__{long}");
    assert_eq!(
        shorten(&nested, &nested, Some(63)),
        "items__a_very_long_column_namzatblw_past_sixty_three_characters"
    );
    let table = "inventory_items__warehouse_locations_with_a_quite_long_name__sub_list_of_things";
    assert_eq!(
        shorten(table, table, Some(63)),
        "inventory_items__warehouse_loptvzcaong_name__sub_list_of_things"
    );
    assert_eq!(shorten(long, long, None), long);
    assert_eq!(shorten("short", "short", Some(63)), "short");
}

#[test]
fn paths_join_with_double_underscore() {
    assert_eq!(normalize_path("warehouse.code"), "warehouse__code");
    assert_eq!(normalize_path("warehouse__code"), "warehouse__code");
    assert_eq!(normalize_path("orderId"), "order_id");
}
