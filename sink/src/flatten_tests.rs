use super::*;

#[test]
fn names_are_normalized_once_and_shared_across_rows() {
    let mut f = Flattener::new("t", None, false, "1");
    let mut a = f.start_record(0);
    let first = f.column(&mut a, None, "updatedAt");
    let mut b = f.start_record(1);
    let second = f.column(&mut b, None, "updatedAt");
    assert_eq!(&*first, "updated_at");
    assert!(
        Arc::ptr_eq(&first, &second),
        "same position, same key: one shared name"
    );
    let nested = f.column(&mut b, Some(&second), "Zone Id");
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
