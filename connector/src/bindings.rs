//! The component export (wasm32 only): the ONLY place that touches generated types.
//!
//! Converts between the generated WIT types and the crate's own [`crate::protocol`] types
//! and wraps [`crate::session::Session`] in the `session` resource.
#![allow(unsafe_code)]

use std::cell::RefCell;

use crate::protocol as p;
use crate::session::Session;

wit_bindgen::generate!({
    world: "connector",
    path: "../wit",
});

use exports::sluice::connector::source::{Guest, GuestSession};
use sluice::connector::types as w;

/// The component's export.
#[derive(Debug)]
struct Component;

/// The `session` resource: the state machine behind a `RefCell` (methods take `&self`).
#[derive(Debug)]
struct SessionResource {
    inner: RefCell<Session>,
}

impl Guest for Component {
    type Session = SessionResource;

    fn config_schema() -> String {
        crate::schema::config_schema().to_string()
    }
}

impl GuestSession for SessionResource {
    fn open(
        config: String,
        state: Vec<(String, String)>,
    ) -> Result<exports::sluice::connector::source::Session, w::Error> {
        let session = Session::open(&config, &state).map_err(w::Error::from)?;
        Ok(exports::sluice::connector::source::Session::new(
            SessionResource {
                inner: RefCell::new(session),
            },
        ))
    }

    fn resources(&self) -> Vec<w::ResourceInfo> {
        self.inner
            .borrow()
            .resources()
            .into_iter()
            .map(Into::into)
            .collect()
    }

    fn next_requests(&self, resource: String) -> Result<Vec<w::Request>, w::Error> {
        let requests = self.inner.borrow_mut().next_requests(&resource)?;
        Ok(requests.into_iter().map(Into::into).collect())
    }

    fn on_response(&self, resource: String, response: w::Response) -> Result<w::Page, w::Error> {
        let page = self
            .inner
            .borrow_mut()
            .on_response(&resource, response.into())?;
        Ok(page.into())
    }
}

export!(Component);

impl From<p::Method> for w::Method {
    fn from(m: p::Method) -> Self {
        match m {
            p::Method::Get => w::Method::Get,
            p::Method::Post => w::Method::Post,
        }
    }
}

impl From<p::Credential> for w::Credential {
    fn from(c: p::Credential) -> Self {
        match c {
            p::Credential::Secret(name) => w::Credential::Secret(name),
            p::Credential::Literal(value) => w::Credential::Literal(value),
        }
    }
}

impl From<p::NamedCredential> for w::NamedCredential {
    fn from(n: p::NamedCredential) -> Self {
        w::NamedCredential {
            name: n.name,
            value: n.value.into(),
        }
    }
}

impl From<p::Auth> for w::Auth {
    fn from(a: p::Auth) -> Self {
        match a {
            p::Auth::Query(n) => w::Auth::Query(n.into()),
            p::Auth::Header(n) => w::Auth::Header(n.into()),
            p::Auth::Cookie(n) => w::Auth::Cookie(n.into()),
            p::Auth::Bearer(c) => w::Auth::Bearer(c.into()),
            p::Auth::Basic(b) => w::Auth::Basic(w::BasicCredentials {
                username: b.username.into(),
                password: b.password.into(),
            }),
            p::Auth::OAuth2(o) => w::Auth::Oauth2(w::Oauth2ClientCredentials {
                token_url: o.token_url,
                client_id: o.client_id.into(),
                client_secret: o.client_secret.into(),
                scopes: o.scopes,
                client_auth: match o.client_auth {
                    p::ClientAuth::Basic => w::ClientAuth::Basic,
                    p::ClientAuth::Body => w::ClientAuth::Body,
                },
                extra_params: o.extra_params,
            }),
        }
    }
}

impl From<p::Request> for w::Request {
    fn from(r: p::Request) -> Self {
        w::Request {
            seq: r.seq,
            method: r.method.into(),
            url: r.url,
            headers: r.headers,
            body: r.body,
            auth: r.auth.map(Into::into),
        }
    }
}

impl From<w::Response> for p::Response {
    fn from(r: w::Response) -> Self {
        p::Response {
            seq: r.seq,
            status: r.status,
            headers: r.headers,
            body: r.body,
        }
    }
}

impl From<p::WriteDisposition> for w::WriteDisposition {
    fn from(d: p::WriteDisposition) -> Self {
        match d {
            p::WriteDisposition::Append => w::WriteDisposition::Append,
            p::WriteDisposition::Replace => w::WriteDisposition::Replace,
            p::WriteDisposition::Merge => w::WriteDisposition::Merge,
        }
    }
}

impl From<p::ResourceInfo> for w::ResourceInfo {
    fn from(r: p::ResourceInfo) -> Self {
        w::ResourceInfo {
            name: r.name,
            primary_key: r.primary_key,
            write_disposition: r.write_disposition.into(),
            merge_strategy: r.merge_strategy.map(|s| match s {
                p::MergeStrategy::DeleteInsert => w::MergeStrategy::DeleteInsert,
                p::MergeStrategy::Upsert => w::MergeStrategy::Upsert,
                p::MergeStrategy::InsertOnly => w::MergeStrategy::InsertOnly,
                p::MergeStrategy::Scd2(o) => w::MergeStrategy::Scd2(w::Scd2Options {
                    valid_from: o.valid_from,
                    valid_to: o.valid_to,
                    active_record_timestamp: o.active_record_timestamp,
                    boundary_timestamp: o.boundary_timestamp,
                    row_version_column: o.row_version_column,
                }),
            }),
            parent: r.parent,
            selected: r.selected,
            max_table_nesting: r.max_table_nesting,
            table_name: r.table_name,
            columns: r.columns.into_iter().map(Into::into).collect(),
            merge_key: r.merge_key,
            schema_contract: contract(r.schema_contract),
            nested_hints: r
                .nested_hints
                .into_iter()
                .map(|n| w::NestedHint {
                    path: n.path,
                    columns: n.columns.into_iter().map(Into::into).collect(),
                    schema_contract: n.schema_contract.map(contract),
                })
                .collect(),
        }
    }
}

fn contract(c: p::SchemaContract) -> w::SchemaContract {
    w::SchemaContract {
        tables: c.tables.into(),
        columns: c.columns.into(),
        data_type: c.data_type.into(),
    }
}

impl From<p::ColumnHint> for w::ColumnHint {
    fn from(c: p::ColumnHint) -> Self {
        w::ColumnHint {
            name: c.name,
            data_type: c.data_type.map(|t| match t {
                p::DataType::Text => w::DataType::Text,
                p::DataType::Bigint => w::DataType::Bigint,
                p::DataType::Double => w::DataType::Double,
                p::DataType::Bool => w::DataType::Bool,
                p::DataType::Timestamp => w::DataType::Timestamp,
                p::DataType::Date => w::DataType::Date,
                p::DataType::Decimal => w::DataType::Decimal,
                p::DataType::Json => w::DataType::Json,
                p::DataType::Binary => w::DataType::Binary,
            }),
            nullable: c.nullable,
            primary_key: c.primary_key,
            merge_key: c.merge_key,
            unique: c.unique,
            hard_delete: c.hard_delete,
            dedup_sort: c.dedup_sort.map(|o| match o {
                p::SortOrder::Asc => w::SortOrder::Asc,
                p::SortOrder::Desc => w::SortOrder::Desc,
            }),
        }
    }
}

impl From<p::ContractMode> for w::ContractMode {
    fn from(m: p::ContractMode) -> Self {
        match m {
            p::ContractMode::Evolve => w::ContractMode::Evolve,
            p::ContractMode::Freeze => w::ContractMode::Freeze,
            p::ContractMode::DiscardRow => w::ContractMode::DiscardRow,
            p::ContractMode::DiscardValue => w::ContractMode::DiscardValue,
        }
    }
}

impl From<p::Level> for w::Level {
    fn from(l: p::Level) -> Self {
        match l {
            p::Level::Debug => w::Level::Debug,
            p::Level::Info => w::Level::Info,
            p::Level::Warn => w::Level::Warn,
        }
    }
}

impl From<p::Notice> for w::Notice {
    fn from(n: p::Notice) -> Self {
        w::Notice {
            level: n.level.into(),
            message: n.message,
        }
    }
}

impl From<p::Page> for w::Page {
    fn from(pg: p::Page) -> Self {
        w::Page {
            records: pg.records,
            count: pg.count,
            state: pg.state,
            done: pg.done,
            notices: pg.notices.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<p::Error> for w::Error {
    fn from(e: p::Error) -> Self {
        match e {
            p::Error::Config { path, message } => {
                w::Error::Config(w::ConfigError { path, message })
            }
            p::Error::Response { status, message } => {
                w::Error::Response(w::ResponseError { status, message })
            }
            p::Error::State(m) => w::Error::State(m),
            p::Error::Protocol(m) => w::Error::Protocol(m),
        }
    }
}
