//! The deterministic inventory items: a pure function of `(id, generation)`.

use serde_json::{Map, Value, json};

/// Generation `g > 0` changes the items whose `id % CHANGE_MODULUS == g % CHANGE_MODULUS`.
pub const CHANGE_MODULUS: u64 = 10;

/// 2024-01-01T00:00:00Z: original `updated_at` values fall within 2024.
const ORIGINAL_EPOCH: u64 = 1_704_067_200;
const LEAP_YEAR_SECONDS: u64 = 366 * 86_400;
/// 2025-01-01T00:00:00Z: revised items are updated after every original item.
const REVISION_EPOCH: u64 = 1_735_689_600;

const ADJECTIVES: [&str; 12] = [
    "Sturdy", "Compact", "Deluxe", "Classic", "Rugged", "Slim", "Heavy", "Smart", "Quiet",
    "Bright", "Modular", "Portable",
];
const NOUNS: [&str; 12] = [
    "Widget", "Bracket", "Valve", "Sprocket", "Lamp", "Cable", "Pump", "Hinge", "Gasket", "Sensor",
    "Fan", "Drill",
];
const CATEGORIES: [&str; 6] = [
    "hardware",
    "electrical",
    "plumbing",
    "lighting",
    "tools",
    "outdoor",
];
const TAGS: [&str; 8] = [
    "new",
    "sale",
    "bulk",
    "fragile",
    "eco",
    "imported",
    "clearance",
    "bestseller",
];
const CITIES: [&str; 6] = ["Lyon", "Berlin", "Madrid", "Milan", "Porto", "Ghent"];

/// splitmix64, used as a tiny deterministic stream (no RNG crate).
struct Mix(u64);

impl Mix {
    fn new(a: u64, b: u64) -> Mix {
        Mix(a.wrapping_mul(0xD6E8_FEB8_6659_FD93) ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }
}

/// Whether generation `generation` changes item `id` relative to generation 0: true
/// for `generation > 0` and `id % 10 == generation % 10`, so ~10% of the items.
/// Generations are not cumulative: `item(id, g)` equals `item(id, 0)` unless this holds.
pub fn changed_in_generation(id: u64, generation: u64) -> bool {
    generation > 0 && id % CHANGE_MODULUS == generation % CHANGE_MODULUS
}

/// The item with this id as the API serves it at this generation.
///
/// Fields: `id`, `sku`, `name`, `category` (null for ~1 in 7), `price` (always a float,
/// some whole), `quantity` (absent for ~1 in 11), `tags` (0-3 strings), `warehouse`
/// (absent for ~1 in 13), `discontinued` (present for ~1 in 5), `updated_at` (RFC 3339).
/// At a generation `g` that changes the item (see [`changed_in_generation`]) it has a
/// new `quantity` (present even where the original has none), its name suffixed
/// `" (rev g)"` and an `updated_at` in 2025 or later, after every original one; all other
/// fields are identical to generation 0.
pub fn item(id: u64, generation: u64) -> Value {
    let mut mix = Mix::new(id, 0);
    let mut name = format!("{} {}", mix.pick(&ADJECTIVES), mix.pick(&NOUNS));
    let category = if mix.below(7) == 0 {
        Value::Null
    } else {
        Value::from(mix.pick(&CATEGORIES))
    };
    let mut cents = 99 + mix.below(50_000);
    if mix.below(6) == 0 {
        cents = (cents / 100).max(1) * 100;
    }
    let quantity_absent = mix.below(11) == 0;
    let mut quantity = mix.below(1000);
    let tag_count = mix.below(4) as usize;
    let first_tag = mix.below(TAGS.len() as u64) as usize;
    let tags: Vec<&str> = (0..tag_count)
        .map(|i| TAGS[(first_tag + i * 3) % TAGS.len()])
        .collect();
    let warehouse_absent = mix.below(13) == 0;
    let warehouse = mix.below(CITIES.len() as u64) as usize;
    let discontinued = (mix.below(5) == 0).then(|| mix.below(2) == 0);
    let mut updated = ORIGINAL_EPOCH + mix.below(LEAP_YEAR_SECONDS);

    let revision = changed_in_generation(id, generation).then_some(generation);
    if let Some(rev) = revision {
        let mut rmix = Mix::new(id, rev);
        // Always differs from the original value.
        quantity = quantity
            .saturating_add(rev.saturating_mul(10))
            .saturating_add(rmix.below(10));
        name = format!("{name} (rev {rev})");
        updated = REVISION_EPOCH
            .saturating_add((rev - 1).saturating_mul(86_400))
            .saturating_add(rmix.below(86_400));
    }

    let mut obj = Map::new();
    obj.insert("id".into(), json!(id));
    obj.insert("sku".into(), json!(format!("SKU-{id:05}")));
    obj.insert("name".into(), json!(name));
    obj.insert("category".into(), category);
    obj.insert("price".into(), json!(cents as f64 / 100.0));
    if !quantity_absent || revision.is_some() {
        obj.insert("quantity".into(), json!(quantity));
    }
    obj.insert("tags".into(), json!(tags));
    if !warehouse_absent {
        obj.insert(
            "warehouse".into(),
            json!({"code": format!("WH-{}", warehouse + 1), "city": CITIES[warehouse]}),
        );
    }
    if let Some(flag) = discontinued {
        obj.insert("discontinued".into(), json!(flag));
    }
    obj.insert("updated_at".into(), json!(rfc3339(updated)));
    Value::Object(obj)
}

/// Movements one page of `/v1/inventory/{id}/movements` holds.
pub const MOVEMENTS_PER_PAGE: usize = 5;

/// The stock movements of item `id`, as `/v1/inventory/{id}/movements` serves them:
/// `id % 12` of them (0 to 11: a chain of one to three pages), each with `id`
/// (`item id * 100 + n`), `item_id`, `kind` (`in` or `out`), `quantity` and `at`.
pub fn movements(id: u64) -> Vec<Value> {
    let mut mix = Mix::new(id, u64::MAX);
    (0..id % 12)
        .map(|n| {
            let kind = if mix.below(3) == 0 { "out" } else { "in" };
            json!({
                "id": id * 100 + n,
                "item_id": id,
                "kind": kind,
                "quantity": 1 + mix.below(50),
                "at": rfc3339(ORIGINAL_EPOCH + n * 3600 + mix.below(3600)),
            })
        })
        .collect()
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), after Howard Hinnant's algorithm.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
#[path = "items_tests.rs"]
mod tests;
