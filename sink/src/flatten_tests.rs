use super::*;

#[test]
fn names_are_normalized_once_and_shared_across_rows() {
    let mut f = Flattener::new("t", None, false, "1");
    let mut a = f.start_record(0);
    let first = f.column(&mut a, None, "updatedAt").short;
    let mut b = f.start_record(1);
    let second = f.column(&mut b, None, "updatedAt").short;
    assert_eq!(&*first, "updated_at");
    assert!(
        Arc::ptr_eq(&first, &second),
        "same position, same key: one shared name"
    );
    let nested = f.column(&mut b, Some(&second), "Zone Id").short;
    assert_eq!(&*nested, "updated_at__zone_id");
}

#[test]
fn child_tables_are_named_under_their_parent() {
    let mut f = Flattener::new("items", None, false, "1");
    let tags = f.child_table(0, "tags");
    let sub = f.child_table(tags, "sub");
    assert_eq!(&**f.table_name(tags), "items__tags");
    assert_eq!(&**f.table_name(sub), "items__tags__sub");
    assert_eq!(f.child_table(0, "tags"), tags);
    assert_eq!(f.table_count(), 3);
}

#[test]
fn names_past_an_identifier_limit_are_shortened_like_dlt() {
    // PostgreSQL's 63: the expected names are dlt 1.31's `shorten_fragments` of the same paths.
    let long = "warehouse_locations_with_a_quite_long_name";
    let mut f = Flattener::new("inventory_items", None, false, "1").with_identifier_limit(Some(63));
    let t = f.child_table(0, long);
    let sub = f.child_table(t, "sub_list_of_things");
    assert_eq!(
        &**f.table_name(t),
        "inventory_items__warehouse_locations_with_a_quite_long_name"
    );
    assert_eq!(
        &**f.table_name(sub),
        "inventory_items__warehouse_loptvzcaong_name__sub_list_of_things"
    );
    let mut row = f.start_record(0);
    let col = f.column(
        &mut row,
        None,
        "a_very_long_column_name_that_goes_on_and_on_and_on_well_past_sixty_three_characters",
    );
    assert_eq!(
        &*col.short,
        "a_very_long_column_name_that_h4zrwg_past_sixty_three_characters"
    );
    assert_eq!(
        col.full.len(),
        83,
        "nested names and child tables build on the whole name"
    );
}

#[test]
fn record_ids_are_unique_and_increase_within_a_load() {
    let mut f = Flattener::new("t", None, false, "1");
    let ids: Vec<String> = (0..1000)
        .map(|i| f.start_record(i).id.as_str().to_owned())
        .collect();
    assert!(ids.iter().all(|id| id.len() == 14), "{:?}", ids[0]);
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "sorted as text in load order"
    );
    let later = Flattener::new("t", None, false, "2").start_record(0).id;
    assert!(
        later.as_str() > ids[0].as_str(),
        "a later load starts past an earlier one"
    );
}
