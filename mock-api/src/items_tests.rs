use super::*;

const N: u64 = 2500;

fn count(pred: impl Fn(&Value) -> bool) -> u64 {
    (1..=N).filter(|id| pred(&item(*id, 0))).count() as u64
}

/// `count` is within 40% of `N / one_in`.
fn about(count: u64, one_in: u64) -> bool {
    let expected = N / one_in;
    count * 10 >= expected * 6 && count * 10 <= expected * 14
}

#[test]
fn dates() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(ORIGINAL_EPOCH), "2024-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_709_634_030), "2024-03-05T10:20:30Z");
    assert_eq!(rfc3339(1_709_164_800), "2024-02-29T00:00:00Z");
    assert_eq!(rfc3339(REVISION_EPOCH), "2025-01-01T00:00:00Z");
    assert_eq!(
        rfc3339(ORIGINAL_EPOCH + LEAP_YEAR_SECONDS - 1),
        "2024-12-31T23:59:59Z"
    );
}

#[test]
fn item_is_deterministic_and_well_formed() {
    assert_eq!(item(42, 0), item(42, 0));
    assert_ne!(item(42, 0), item(43, 0));
    let it = item(7, 0);
    assert_eq!(it["id"], 7);
    assert_eq!(it["sku"], "SKU-00007");
    assert_eq!(item(12345, 0)["sku"], "SKU-12345");
    assert!(it["name"].as_str().is_some_and(|n| n.contains(' ')));
    assert!(it["price"].is_f64());
    let ts = it["updated_at"].as_str().unwrap();
    assert!(
        ts.starts_with("2024-") && ts.ends_with('Z') && ts.len() == 20,
        "{ts}"
    );
}

#[test]
fn field_distributions() {
    assert!(about(count(|v| v["category"].is_null()), 7));
    assert!(about(count(|v| v.get("quantity").is_none()), 11));
    assert!(about(count(|v| v.get("warehouse").is_none()), 13));
    assert!(about(count(|v| v.get("discontinued").is_some()), 5));
    assert!(count(|v| v["price"].as_f64().is_some_and(|p| p.fract() == 0.0)) > 100);
    for n in 0..=3 {
        assert!(count(|v| v["tags"].as_array().is_some_and(|t| t.len() == n)) > 300);
    }
    // Every price has at most two decimals and serializes as a float.
    for id in 1..=N {
        let v = item(id, 0);
        let text = v["price"].to_string();
        let (_, decimals) = text.split_once('.').expect("price serialized as float");
        assert!(decimals.len() <= 2, "{text}");
        if let Some(w) = v.get("warehouse") {
            assert!(w["code"].as_str().unwrap().starts_with("WH-"));
            assert!(w["city"].is_string());
        }
        assert!(v["tags"].as_array().unwrap().len() <= 3);
    }
}

#[test]
fn whole_price_serializes_with_decimal_point() {
    let id = (1..=N)
        .find(|id| item(*id, 0)["price"].as_f64().unwrap().fract() == 0.0)
        .unwrap();
    let text = serde_json::to_string(&item(id, 0)).unwrap();
    let price = item(id, 0)["price"].as_f64().unwrap();
    assert!(text.contains(&format!("\"price\":{price:.1}")), "{text}");
}

#[test]
fn changed_subset() {
    assert!(changed_in_generation(11, 1) && !changed_in_generation(11, 2));
    assert!(changed_in_generation(10, 10) && changed_in_generation(23, 13));
    assert!(!changed_in_generation(10, 0) && !changed_in_generation(1, 0));
}

#[test]
fn generation_changes_only_its_subset() {
    for g in [1u64, 2, 3, 9, 10, 11, 25] {
        let mut changed = 0;
        for id in 1..=N {
            let (before, after) = (item(id, 0), item(id, g));
            if changed_in_generation(id, g) {
                changed += 1;
                assert_ne!(before["quantity"], after["quantity"], "id {id} g {g}");
                assert!(after["quantity"].is_u64());
                let name = after["name"].as_str().unwrap();
                assert!(name.ends_with(&format!(" (rev {g})")), "{name}");
                assert!(after["updated_at"].as_str() > before["updated_at"].as_str());
                for key in [
                    "id",
                    "sku",
                    "price",
                    "category",
                    "tags",
                    "warehouse",
                    "discontinued",
                ] {
                    assert_eq!(before.get(key), after.get(key), "{key} id {id} g {g}");
                }
            } else {
                assert_eq!(before, after, "id {id} g {g}");
            }
        }
        assert_eq!(changed, N / 10);
    }
}

#[test]
fn revised_items_are_newer_than_every_original() {
    let newest_original = (1..=N)
        .map(|id| item(id, 0)["updated_at"].as_str().unwrap().to_string())
        .max()
        .unwrap();
    let oldest_revised = (1..=N)
        .filter(|id| changed_in_generation(*id, 1))
        .map(|id| item(id, 1)["updated_at"].as_str().unwrap().to_string())
        .min()
        .unwrap();
    assert!(oldest_revised > newest_original);
}
