use serde_json::{Value, json};

use super::*;
use crate::paginator::OffsetConfig;
use crate::protocol::{Credential, Method, NamedCredential, WriteDisposition};

fn parse(v: Value) -> Result<Config, Error> {
    Config::from_value(&v)
}

fn err(v: Value) -> String {
    parse(v).unwrap_err().to_string()
}

fn base() -> Value {
    json!({"client": {"base_url": "https://api.example.com"}, "resources": ["items"]})
}

fn with(mut v: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    match v.pointer_mut(parent).unwrap() {
        Value::Array(a) => a[key.parse::<usize>().unwrap()] = value,
        Value::Object(m) => {
            m.insert(key.to_string(), value);
        }
        _ => panic!("bad pointer"),
    }
    v
}

#[test]
fn unknown_paginator_type_with_did_you_mean() {
    let v = json!({"client": {"base_url": "https://a.io"},
        "resources": [{"name": "a", "endpoint": {"path": "/a", "paginator": {"type": "ofset", "limit": 100}}}]});
    assert_eq!(
        err(v),
        "resources[0].endpoint.paginator.type: unknown paginator \"ofset\" (expected one of: auto, single_page, offset, page_number, cursor, header_cursor, json_link, json_response, header_link; did you mean \"offset\"?)"
    );
}

#[test]
fn missing_base_url() {
    let v = json!({"client": {}, "resources": ["a"]});
    assert_eq!(err(v), "client.base_url: missing required key");
    assert_eq!(
        err(json!({"resources": ["a"]})),
        "client: missing required key"
    );
    let e = parse(json!({"client": {}, "resources": ["a"]})).unwrap_err();
    assert_eq!(
        e,
        Error::Config {
            path: "client.base_url".into(),
            message: "missing required key".into()
        }
    );
}

#[test]
fn wrong_types_say_what_was_expected() {
    assert_eq!(
        err(with(base(), "/client/base_url", json!(3))),
        "client.base_url: expected a string, found a number"
    );
    assert_eq!(
        err(with(base(), "/resources", json!({}))),
        "resources: expected a list, found an object"
    );
    let v = with(
        base(),
        "/resources/0",
        json!({"name": "a", "endpoint": {"params": {"q": [1]}}}),
    );
    assert_eq!(
        err(v),
        "resources[0].endpoint.params.q: expected a string, number, boolean, or a {\"type\": \"resolve\" | \"incremental\"} object, found a list"
    );
    let v = with(
        base(),
        "/resources/0",
        json!({"name": "a", "primary_key": ["id", 2]}),
    );
    assert_eq!(
        err(v),
        "resources[0].primary_key[1]: expected a string, found a number"
    );
    let v = with(base(), "/client/headers", json!({"Accept": 1}));
    assert_eq!(
        err(v),
        "client.headers.Accept: expected a string, found a number"
    );
    assert_eq!(
        err(with(base(), "/client/base_url", json!("ftp://x"))),
        "client.base_url: expected an absolute http:// or https:// URL"
    );
    let e = Config::parse("{nope").unwrap_err();
    assert!(matches!(&e, Error::Config { path, .. } if path.is_empty()));
    assert!(
        e.to_string().starts_with("config is not valid JSON: "),
        "{e}"
    );
    assert_eq!(
        Config::parse("[]").unwrap_err().to_string(),
        "expected an object, found a list"
    );
}

#[test]
fn unknown_keys_with_did_you_mean() {
    let v = with(
        base(),
        "/resources/0",
        json!({"name": "a", "endpoint": {"pth": "/a"}}),
    );
    assert_eq!(
        err(v),
        "resources[0].endpoint.pth: unknown key \"pth\" (expected one of: path, method, params, json, data, headers, data_selector, paginator, response_actions, incremental, auth; did you mean \"path\"?)"
    );
    let mut v = base();
    v["client"]["baseurl"] = json!("x");
    assert!(err(v).starts_with("client.baseurl: unknown key \"baseurl\""));
    let mut v = base();
    v["resource"] = json!([]);
    assert!(err(v).ends_with("did you mean \"resources\"?)"));
    let v = with(
        base(),
        "/resources/0",
        json!({"name": "a", "primary_keys": "id"}),
    );
    assert!(err(v).contains("did you mean \"primary_key\"?"));
    let mut v = base();
    v["resource_defaults"] = json!({"endpoint": {"data_selektor": "data"}});
    assert!(err(v).starts_with("resource_defaults.endpoint.data_selektor: unknown key"));
}

#[test]
fn parallelized_is_a_boolean_the_host_reads() {
    let mut v = with(
        base(),
        "/resources/0",
        json!({"name": "a", "parallelized": true}),
    );
    v["resource_defaults"] = json!({"parallelized": false});
    assert!(parse(v).is_ok());
    let v = with(
        base(),
        "/resources/0",
        json!({"name": "a", "parallelized": "yes"}),
    );
    assert_eq!(
        err(v),
        "resources[0].parallelized: expected a boolean, found a string"
    );
}

#[test]
fn auth_variants_and_errors() {
    let auth = |a: Value| parse(with(base(), "/client/auth", a)).map(|c| c.client.auth.unwrap());
    let a = auth(json!({"type": "api_key", "api_key": {"secret": "k"}})).unwrap();
    assert_eq!(
        a,
        Auth::Header(NamedCredential {
            name: "Authorization".into(),
            value: Credential::Secret("k".into())
        })
    );
    let a = auth(json!({"type": "api_key", "name": "sid", "api_key": "lit", "location": "cookie"}))
        .unwrap();
    assert_eq!(
        a,
        Auth::Cookie(NamedCredential {
            name: "sid".into(),
            value: Credential::Literal("lit".into())
        })
    );
    let a = auth(json!({"type": "bearer", "token": {"secret": "tok"}})).unwrap();
    // dlt: an auth object without `type` is a bearer token.
    assert_eq!(auth(json!({"token": {"secret": "tok"}})).unwrap(), a);
    assert_eq!(a, Auth::Bearer(Credential::Secret("tok".into())));
    let a =
        auth(json!({"type": "http_basic", "username": "u", "password": {"secret": "pw"}})).unwrap();
    assert!(matches!(a, Auth::Basic(ref b) if b.password == Credential::Secret("pw".into())));
    assert_eq!(a.literal_secret(), None, "a literal user name is no secret");
    let a = auth(json!({"type": "http_basic", "username": "u", "password": "pw"})).unwrap();
    assert_eq!(a.literal_secret(), Some("password"));
    let e = auth(json!({"type": "oauth2"})).unwrap_err().to_string();
    assert_eq!(
        e,
        "client.auth.type: unknown auth type \"oauth2\" (expected one of: api_key, bearer, http_basic, oauth2_client_credentials)"
    );
    let e = auth(json!({"type": "bearr", "token": "x"}))
        .unwrap_err()
        .to_string();
    assert!(e.ends_with("did you mean \"bearer\"?)"), "{e}");
    let e = auth(json!({"type": "api_key", "api_key": "x", "location": "body"}))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("client.auth.location: unknown location \"body\""),
        "{e}"
    );
    assert_eq!(
        auth(json!({"type": "bearer"})).unwrap_err().to_string(),
        "client.auth.token: missing required key"
    );
    assert_eq!(
        auth(json!({"name": "x"})).unwrap_err().to_string(),
        "client.auth.type: missing required key (without `type`, dlt reads auth as bearer, which needs `token`)"
    );
}

#[test]
fn secret_values_never_appear_in_errors() {
    let v = with(
        base(),
        "/client/auth",
        json!({"type": "bearer", "token": "s3cr3t-value", "tokn": 1}),
    );
    let e = err(v);
    assert!(!e.contains("s3cr3t"), "{e}");
    let v = with(
        base(),
        "/client/auth",
        json!({"type": "bearer", "token": {"secret": 99}}),
    );
    assert_eq!(
        err(v),
        "client.auth.token.secret: expected a string, found a number"
    );
    let cfg = parse(with(
        base(),
        "/client/auth",
        json!({"type": "bearer", "token": "s3cr3t-value"}),
    ))
    .unwrap();
    assert!(!format!("{cfg:?}").contains("s3cr3t"));
    assert_eq!(cfg.literal_secret().as_deref(), Some("client.auth.token"));
}

#[test]
fn defaults_merge_into_resources() {
    let v = json!({
    "client": {"base_url": "https://a.io", "headers": {"Accept": "application/json"}},
    "resource_defaults": {"primary_key": "id", "write_disposition": "merge",
        "endpoint": {"params": {"x": 1, "y": "d"}, "paginator": {"type": "offset", "limit": 10}}},
    "resources": [
        {"name": "a", "endpoint": {"path": "/a", "params": {"y": "r", "z": true, "n": null}}},
        {"name": "b", "primary_key": ["k1", "k2"], "write_disposition": "append",
         "endpoint": {"paginator": {"type": "offset", "limit": 5, "offset_param": "skip"}}},
        {"name": "c", "endpoint": {"paginator": "single_page"}},
        "d"
    ]});
    let cfg = parse(v).unwrap();
    let a = &cfg.resources[0];
    assert_eq!(a.primary_key, ["id"]);
    assert_eq!(a.write_disposition, WriteDisposition::Merge);
    let params: Vec<(&str, &str)> = a
        .endpoint
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(params, [("x", "1"), ("y", "r"), ("z", "true")]);
    let b = &cfg.resources[1];
    assert_eq!(b.primary_key, ["k1", "k2"]);
    assert_eq!(b.write_disposition, WriteDisposition::Append);
    assert_eq!(b.endpoint.path, "b", "default path is the name");
    let PaginatorConfig::Offset(OffsetConfig {
        limit,
        offset_param,
        ..
    }) = &b.endpoint.paginator
    else {
        panic!()
    };
    assert_eq!((*limit, offset_param.as_str()), (5, "skip"));
    assert_eq!(
        cfg.resources[2].endpoint.paginator,
        PaginatorConfig::SinglePage
    );
    let d = &cfg.resources[3];
    assert_eq!((d.name.as_str(), d.endpoint.path.as_str()), ("d", "d"));
    assert!(
        matches!(d.endpoint.paginator, PaginatorConfig::Offset(_)),
        "defaults apply to bare names"
    );
    assert_eq!(d.endpoint.method, Method::Get);
}

#[test]
fn resource_short_forms_and_defaults() {
    let v = json!({"client": {"base_url": "https://a.io"},
        "resources": ["items", {"name": "x", "endpoint": "/v1/x"}]});
    let cfg = parse(v).unwrap();
    assert_eq!(cfg.resources[0].endpoint.path, "items");
    assert_eq!(
        cfg.resources[0].write_disposition,
        WriteDisposition::Append,
        "dlt default"
    );
    assert!(cfg.resources[0].primary_key.is_empty());
    assert_eq!(
        cfg.resources[0].endpoint.paginator,
        PaginatorConfig::Auto,
        "no paginator: detected from the first response"
    );
    assert_eq!(cfg.resources[1].endpoint.path, "/v1/x");
}

#[test]
fn write_disposition_forms() {
    let wd = |d: Value| {
        parse(with(
            base(),
            "/resources/0",
            json!({"name": "a", "write_disposition": d}),
        ))
    };
    assert_eq!(
        wd(json!("replace")).unwrap().resources[0].write_disposition,
        WriteDisposition::Replace
    );
    use crate::protocol::MergeStrategy;
    let keyed = |d: Value| {
        parse(with(
            base(),
            "/resources/0",
            json!({"name": "a", "primary_key": "id", "write_disposition": d}),
        ))
    };
    for (strategy, expected) in [
        ("upsert", MergeStrategy::Upsert),
        ("delete-insert", MergeStrategy::DeleteInsert),
        ("insert-only", MergeStrategy::InsertOnly),
    ] {
        let c = keyed(json!({"disposition": "merge", "strategy": strategy})).unwrap();
        assert_eq!(c.resources[0].write_disposition, WriteDisposition::Merge);
        assert_eq!(c.resources[0].merge_strategy, Some(expected));
    }
    assert_eq!(
        wd(json!("merge")).unwrap().resources[0].merge_strategy,
        None
    );
    assert_eq!(
        wd(json!({"disposition": "merge", "strategy": "insert-only"}))
            .unwrap_err()
            .to_string(),
        "resources[0].write_disposition: the insert-only strategy needs a primary_key (as in dlt)"
    );
    let e = parse(with(
        base(),
        "/resources/0",
        json!({"name": "a", "primary_key": "id", "merge_key": "day",
               "write_disposition": {"disposition": "merge", "strategy": "upsert"}}),
    ))
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "resources[0].merge_key: the upsert strategy takes no merge_key (as in dlt)"
    );
    // scd2, with dlt's default options, and with its own (a boundary in UTC).
    let c = keyed(json!({"disposition": "merge", "strategy": "scd2"})).unwrap();
    let Some(MergeStrategy::Scd2(o)) = &c.resources[0].merge_strategy else {
        panic!("{:?}", c.resources[0].merge_strategy)
    };
    assert_eq!(
        (o.valid_from.as_str(), o.valid_to.as_str()),
        ("_dlt_valid_from", "_dlt_valid_to")
    );
    assert_eq!(
        (&o.boundary_timestamp, &o.row_version_column),
        (&None, &None)
    );
    let c = wd(json!({"disposition": "merge", "strategy": "scd2",
                      "validity_column_names": ["from", "to"],
                      "boundary_timestamp": "2024-01-01T01:00:00+01:00",
                      "row_version_column_name": "version"}))
    .unwrap();
    let Some(MergeStrategy::Scd2(o)) = &c.resources[0].merge_strategy else {
        panic!("{:?}", c.resources[0].merge_strategy)
    };
    assert_eq!(o.valid_to, "to");
    assert_eq!(
        o.boundary_timestamp.as_deref(),
        Some("2024-01-01T00:00:00+00:00")
    );
    assert_eq!(o.row_version_column.as_deref(), Some("version"));
    let e = wd(json!({"disposition": "merge", "strategy": "scd2", "boundary_timestamp": "soon"}))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("resources[0].write_disposition.boundary_timestamp: expected an ISO 8601"),
        "{e}"
    );
    let e = wd(json!({"disposition": "merge", "strategy": "scd3"}))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("resources[0].write_disposition.strategy: unsupported strategy \"scd3\""),
        "{e}"
    );
    let e = wd(json!("merj")).unwrap_err().to_string();
    assert_eq!(
        e,
        "resources[0].write_disposition: unknown write disposition \"merj\" (expected one of: append, replace, merge; did you mean \"merge\"?)"
    );
}

#[test]
fn duplicate_and_empty_resources() {
    let e = err(with(base(), "/resources", json!(["a", {"name": "a"}])));
    assert_eq!(e, "resources[1].name: duplicate resource name \"a\"");
    assert_eq!(
        err(with(base(), "/resources", json!([]))),
        "resources: expected at least one resource"
    );
    assert_eq!(
        err(with(base(), "/resources", json!([{"endpoint": "/x"}]))),
        "resources[0].name: missing required key"
    );
}

#[test]
fn client_paginator_is_the_default() {
    let mut v = base();
    v["client"]["paginator"] = json!({"type": "offset", "limit": 7});
    let cfg = parse(v).unwrap();
    assert!(
        matches!(&cfg.resources[0].endpoint.paginator, PaginatorConfig::Offset(c) if c.limit == 7)
    );
}

#[test]
fn endpoint_auth_overrides_client_auth_and_null_opts_out() {
    let cfg = parse(json!({
        "client": {"base_url": "https://api.example.com",
                   "auth": {"type": "bearer", "token": {"secret": "client_token"}}},
        "resources": [
            "inherits",
            {"name": "own", "endpoint": {"path": "/own", "auth": {
                "type": "api_key", "name": "X-Key", "api_key": {"secret": "own_key"}}}},
            {"name": "public", "endpoint": {"path": "/public", "auth": null}},
        ]
    }))
    .unwrap();
    let auth = |name: &str| cfg.resource(name).unwrap().endpoint.auth.clone();
    assert_eq!(
        auth("inherits"),
        Some(Auth::Bearer(Credential::Secret("client_token".into())))
    );
    assert_eq!(
        auth("own"),
        Some(Auth::Header(NamedCredential {
            name: "X-Key".into(),
            value: Credential::Secret("own_key".into()),
        }))
    );
    assert_eq!(auth("public"), None);
    let bad = json!({"client": {"base_url": "https://a.io"},
        "resources": [{"name": "x", "endpoint": {"auth": {"type": "bearr", "token": "t"}}}]});
    assert!(
        err(bad).starts_with("resources[0].endpoint.auth.type: unknown"),
        "the key path names the endpoint"
    );
    let literal = json!({"client": {"base_url": "https://a.io"},
        "resources": [{"name": "x", "endpoint": {"auth": {"type": "bearer", "token": "lit"}}}]});
    assert_eq!(
        parse(literal).unwrap().literal_secret().as_deref(),
        Some("resources[\"x\"].endpoint.auth.token")
    );
}

#[test]
fn dlt_table_hints_are_parsed_with_key_paths() {
    use crate::protocol::{ColumnHint, ContractMode, DataType};
    let cfg = parse(json!({
        "client": {"base_url": "https://a.io"},
        "resource_defaults": {"schema_contract": {"columns": "freeze"}},
        "resources": [
            {"name": "items", "table_name": "catalog_items", "merge_key": "day",
             "columns": {"price": {"data_type": "decimal", "nullable": false},
                         "updated_at": {"data_type": "text", "precision": 3}}},
            {"name": "other", "columns": [{"name": "sku", "unique": true, "data_type": "complex"}],
             "schema_contract": "discard_row"},
        ]
    }))
    .unwrap();
    let items = &cfg.resource("items").unwrap().hints;
    assert_eq!(items.table_name.as_deref(), Some("catalog_items"));
    assert_eq!(items.merge_key, ["day"]);
    assert_eq!(
        items.columns[0],
        ColumnHint {
            name: "price".into(),
            data_type: Some(DataType::Decimal),
            nullable: Some(false),
            primary_key: false,
            merge_key: false,
            unique: false,
            hard_delete: false,
            dedup_sort: None,
        }
    );
    assert_eq!(items.columns[1].data_type, Some(DataType::Text));
    assert_eq!(items.schema_contract.columns, ContractMode::Freeze);
    assert_eq!(items.schema_contract.tables, ContractMode::Evolve);
    let other = &cfg.resource("other").unwrap().hints;
    assert_eq!(other.columns[0].data_type, Some(DataType::Json));
    assert!(other.columns[0].unique);
    assert_eq!(other.schema_contract.data_type, ContractMode::DiscardRow);

    let bad = |resource: Value| {
        err(json!({"client": {"base_url": "https://a.io"}, "resources": [resource]}))
    };
    assert_eq!(
        bad(json!({"name": "x", "columns": {"price": {"data_type": "decimel"}}})),
        "resources[0].columns.price.data_type: unknown data type \"decimel\" (expected one of: text, bigint, double, bool, timestamp, date, decimal, json, binary, complex, wei; did you mean \"decimal\"?)"
    );
    assert!(
        bad(json!({"name": "x", "columns": {"price": {"nulable": false}}}))
            .starts_with("resources[0].columns.price.nulable: unknown key"),
    );
    assert!(
        bad(json!({"name": "x", "schema_contract": "frozen"}))
            .starts_with("resources[0].schema_contract: unknown contract mode \"frozen\""),
    );
    assert_eq!(
        bad(json!({"name": "x", "columns": [{"data_type": "text"}]})),
        "resources[0].columns[0].name: missing required key"
    );
    assert_eq!(
        bad(json!({"name": "x", "columns": {"lsn": {"dedup_sort": "des"}}})),
        "resources[0].columns.lsn.dedup_sort: unknown sort order \"des\" (expected one of: asc, desc; did you mean \"desc\"?)"
    );
}

#[test]
fn dlt_hints_sqlite_does_not_use_are_accepted_and_checked() {
    let ok = parse(json!({
        "client": {"base_url": "https://a.io"},
        "resource_defaults": {"table_format": "delta", "file_format": "parquet"},
        "resources": [{"name": "purchases", "references": [
            {"referenced_table": "customers", "columns": ["customer_id"],
             "referenced_columns": "id"}]}]
    }));
    assert!(ok.is_ok(), "{ok:?}");
    let bad = |resource: Value| {
        err(json!({"client": {"base_url": "https://a.io"}, "resources": [resource]}))
    };
    assert_eq!(
        bad(json!({"name": "x", "table_format": "icebrg"})),
        "resources[0].table_format: unknown value \"icebrg\" (expected one of: iceberg, delta, hive, native; did you mean \"iceberg\"?)"
    );
    assert_eq!(
        bad(
            json!({"name": "x", "references": [{"referenced_table": "c", "columns": ["a", "b"],
                                                  "referenced_columns": ["id"]}]})
        ),
        "resources[0].references[0].referenced_columns: 2 columns refer to 1 referenced columns: they must pair up"
    );
    assert_eq!(
        bad(json!({"name": "x", "references": [{"columns": "a", "referenced_columns": "b"}]})),
        "resources[0].references[0].referenced_table: missing required key"
    );
}

#[test]
fn dlt_merge_hints_hard_delete_and_dedup_sort() {
    use crate::protocol::SortOrder;
    let cfg = parse(json!({
        "client": {"base_url": "https://a.io"},
        "resources": [{"name": "items", "primary_key": "id", "write_disposition": "merge",
            "columns": {"deleted": {"hard_delete": true}, "lsn": {"dedup_sort": "desc"},
                        "at": {"dedup_sort": "asc", "sort": true, "partition": false,
                               "cluster": true}}}]
    }))
    .unwrap();
    let columns = &cfg.resource("items").unwrap().hints.columns;
    assert!(columns[0].hard_delete && columns[0].dedup_sort.is_none());
    assert_eq!(columns[1].dedup_sort, Some(SortOrder::Desc));
    assert_eq!(columns[2].dedup_sort, Some(SortOrder::Asc));
    assert!(!columns[1].hard_delete);
}
