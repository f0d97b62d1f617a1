//! The one place that touches the types `bindgen!` generates from the WIT packages.
//!
//! The host runs components built against any released version of the contract: `wit/`
//! (`sluice:connector@0.4.0`, with dlt's `scd2` merge strategy), the frozen
//! `host/wit-0.3.0/` (`@0.3.0`, with dlt's merge hints and the other merge strategies),
//! `host/wit-0.2.0/` (`@0.2.0`, with the table hints in `resource-info`) and
//! `host/wit-0.1.0/` (`@0.1.0`, the first release third parties built against). Everything
//! else in the host works with [`crate::protocol`], `sluice_sink` and `sluice_transport`
//! types through [`ConnectorWorld`]; the conversions live beside the generated code, as in
//! wasmtime's `wasi-http`.

use wasmtime::component::{Component, Linker, ResourceAny};
use wasmtime::{AsContextMut, Engine};

use crate::protocol::{ConnectorError, Level, Notice, Page, ResourceInfo};
use sluice_sink::{
    ColumnHint, ContractMode, DataType, MergeStrategy, NestedHints, Scd2, SchemaContract,
    SortOrder, TableHints, WriteDisposition,
};
use sluice_transport::{Auth, ClientAuth, Credential, Method, OAuth2, Request, Response};

/// `sluice:connector@0.4.0`, the current contract (`wit/`).
mod current {
    wasmtime::component::bindgen!({
        world: "connector",
        path: "../wit",
    });
}

/// `sluice:connector@0.3.0`, kept for components built against it.
mod v0_3 {
    wasmtime::component::bindgen!({
        world: "connector",
        path: "wit-0.3.0",
    });
}

/// `sluice:connector@0.2.0`, kept for components built against it.
mod v0_2 {
    wasmtime::component::bindgen!({
        world: "connector",
        path: "wit-0.2.0",
    });
}

/// `sluice:connector@0.1.0`, kept for components built against the first release.
mod legacy {
    wasmtime::component::bindgen!({
        world: "connector",
        path: "wit-0.1.0",
    });
}

/// A planned request, with the sequence number the connector expects back.
pub(crate) struct Planned {
    pub seq: u64,
    pub request: Request,
}

/// Conversions of the types both versions share (same shape, distinct generated types).
macro_rules! shared_conversions {
    ($version:ident, $conv:ident) => {
        mod $conv {
            use super::*;
            use $version::sluice::connector::types as wit;

            impl From<wit::WriteDisposition> for WriteDisposition {
                fn from(d: wit::WriteDisposition) -> Self {
                    match d {
                        wit::WriteDisposition::Append => WriteDisposition::Append,
                        wit::WriteDisposition::Replace => WriteDisposition::Replace,
                        wit::WriteDisposition::Merge => WriteDisposition::Merge,
                    }
                }
            }

            impl From<wit::Request> for Planned {
                fn from(r: wit::Request) -> Self {
                    Planned {
                        seq: r.seq,
                        request: Request {
                            method: match r.method {
                                wit::Method::Get => Method::Get,
                                wit::Method::Post => Method::Post,
                            },
                            url: r.url,
                            headers: r.headers,
                            body: r.body,
                            auth: r.auth.map(Into::into),
                        },
                    }
                }
            }

            impl From<wit::Credential> for Credential {
                fn from(c: wit::Credential) -> Self {
                    match c {
                        wit::Credential::Secret(name) => Credential::Secret(name),
                        wit::Credential::Literal(value) => Credential::Literal(value),
                    }
                }
            }

            impl From<wit::Auth> for Auth {
                fn from(a: wit::Auth) -> Self {
                    match a {
                        wit::Auth::Query(n) => Auth::Query {
                            name: n.name,
                            value: n.value.into(),
                        },
                        wit::Auth::Header(n) => Auth::Header {
                            name: n.name,
                            value: n.value.into(),
                        },
                        wit::Auth::Cookie(n) => Auth::Cookie {
                            name: n.name,
                            value: n.value.into(),
                        },
                        wit::Auth::Bearer(c) => Auth::Bearer(c.into()),
                        wit::Auth::Basic(b) => Auth::Basic {
                            username: b.username.into(),
                            password: b.password.into(),
                        },
                        wit::Auth::Oauth2(o) => Auth::OAuth2(OAuth2 {
                            token_url: o.token_url,
                            client_id: o.client_id.into(),
                            client_secret: o.client_secret.into(),
                            scopes: o.scopes,
                            client_auth: match o.client_auth {
                                wit::ClientAuth::Basic => ClientAuth::Basic,
                                wit::ClientAuth::Body => ClientAuth::Body,
                            },
                            extra_params: o.extra_params,
                        }),
                    }
                }
            }

            pub(crate) fn response(seq: u64, r: Response) -> wit::Response {
                wit::Response {
                    seq,
                    status: r.status,
                    headers: r.headers,
                    body: r.body,
                }
            }

            impl From<wit::Page> for Page {
                fn from(p: wit::Page) -> Self {
                    Page {
                        records: p.records,
                        count: p.count,
                        state: p.state,
                        done: p.done,
                        notices: p
                            .notices
                            .into_iter()
                            .map(|n| Notice {
                                level: match n.level {
                                    wit::Level::Debug => Level::Debug,
                                    wit::Level::Info => Level::Info,
                                    wit::Level::Warn => Level::Warn,
                                },
                                message: n.message,
                            })
                            .collect(),
                    }
                }
            }

            impl From<wit::Error> for ConnectorError {
                fn from(e: wit::Error) -> Self {
                    match e {
                        wit::Error::Config(c) => ConnectorError::Config {
                            path: c.path,
                            message: c.message,
                        },
                        wit::Error::Response(r) => ConnectorError::Response {
                            status: r.status,
                            message: r.message,
                        },
                        wit::Error::State(m) => ConnectorError::State(m),
                        wit::Error::Protocol(m) => ConnectorError::Protocol(m),
                    }
                }
            }
        }
    };
}

shared_conversions!(current, current_conv);
shared_conversions!(v0_3, v0_3_conv);
shared_conversions!(v0_2, v0_2_conv);
shared_conversions!(legacy, legacy_conv);

/// `resource-info` of the versions with table hints (0.2.0 on). `$merge_hints` reads what a
/// column hint `$c` says of merges, and `$nested` the child tables' hints and the merge
/// strategy of `$r` (0.3.0 on; `scd2` 0.4.0 on).
macro_rules! hinted_resource_info {
    ($version:ident, |$c:ident| $merge_hints:expr, |$r:ident, $column:ident, $contract:ident| $nested:expr) => {
        impl From<$version::sluice::connector::types::ResourceInfo> for ResourceInfo {
            fn from(r: $version::sluice::connector::types::ResourceInfo) -> Self {
                use $version::sluice::connector::types as wit;
                let mode = |m: wit::ContractMode| match m {
                    wit::ContractMode::Evolve => ContractMode::Evolve,
                    wit::ContractMode::Freeze => ContractMode::Freeze,
                    wit::ContractMode::DiscardRow => ContractMode::DiscardRow,
                    wit::ContractMode::DiscardValue => ContractMode::DiscardValue,
                };
                let $contract = |c: &wit::SchemaContract| SchemaContract {
                    tables: mode(c.tables),
                    columns: mode(c.columns),
                    data_type: mode(c.data_type),
                };
                let data_type = |t: wit::DataType| match t {
                    wit::DataType::Text => DataType::Text,
                    wit::DataType::Bigint => DataType::Bigint,
                    wit::DataType::Double => DataType::Double,
                    wit::DataType::Bool => DataType::Bool,
                    wit::DataType::Timestamp => DataType::Timestamp,
                    wit::DataType::Date => DataType::Date,
                    wit::DataType::Decimal => DataType::Decimal,
                    wit::DataType::Json => DataType::Json,
                    wit::DataType::Binary => DataType::Binary,
                };
                let $column = |$c: &wit::ColumnHint| {
                    let (hard_delete, dedup_sort) = $merge_hints;
                    ColumnHint {
                        name: $c.name.clone(),
                        data_type: $c.data_type.map(data_type),
                        nullable: $c.nullable,
                        primary_key: $c.primary_key,
                        merge_key: $c.merge_key,
                        unique: $c.unique,
                        hard_delete,
                        dedup_sort,
                    }
                };
                let (nested, merge_strategy) = {
                    let $r = &r;
                    $nested
                };
                ResourceInfo {
                    hints: TableHints {
                        table_name: r.table_name,
                        columns: r.columns.iter().map($column).collect(),
                        merge_key: r.merge_key,
                        schema_contract: $contract(&r.schema_contract),
                        nested,
                        merge_strategy,
                    },
                    name: r.name,
                    primary_key: r.primary_key,
                    write_disposition: r.write_disposition.into(),
                    parent: r.parent,
                    selected: r.selected,
                    max_table_nesting: r.max_table_nesting,
                }
            }
        }
    };
}

/// The column merge hints and the child tables' hints of 0.3.0 on, and `$strategy`, the
/// merge strategy of a `&wit::MergeStrategy` `$s`.
macro_rules! merge_hinted_resource_info {
    ($version:ident, |$s:ident| $strategy:expr) => {
        hinted_resource_info!(
            $version,
            |c| (
                c.hard_delete,
                c.dedup_sort.map(|o| match o {
                    wit::SortOrder::Asc => SortOrder::Asc,
                    wit::SortOrder::Desc => SortOrder::Desc,
                })
            ),
            |r, column, contract| (
                r.nested_hints
                    .iter()
                    .map(|n| NestedHints {
                        path: n.path.clone(),
                        columns: n.columns.iter().map(column).collect(),
                        schema_contract: n.schema_contract.as_ref().map(contract),
                    })
                    .collect(),
                r.merge_strategy.as_ref().map(|$s| $strategy)
            )
        );
    };
}

merge_hinted_resource_info!(current, |s| match s {
    wit::MergeStrategy::DeleteInsert => MergeStrategy::DeleteInsert,
    wit::MergeStrategy::Upsert => MergeStrategy::Upsert,
    wit::MergeStrategy::InsertOnly => MergeStrategy::InsertOnly,
    wit::MergeStrategy::Scd2(o) => MergeStrategy::Scd2(Scd2 {
        valid_from: o.valid_from.clone(),
        valid_to: o.valid_to.clone(),
        active_record_timestamp: o.active_record_timestamp.clone(),
        boundary_timestamp: o.boundary_timestamp.clone(),
        row_version_column: o.row_version_column.clone(),
    }),
});
merge_hinted_resource_info!(v0_3, |s| match s {
    wit::MergeStrategy::DeleteInsert => MergeStrategy::DeleteInsert,
    wit::MergeStrategy::Upsert => MergeStrategy::Upsert,
    wit::MergeStrategy::InsertOnly => MergeStrategy::InsertOnly,
});
hinted_resource_info!(v0_2, |c| (false, None), |_r, _column, _contract| (
    Vec::new(),
    None
));

impl From<legacy::sluice::connector::types::ResourceInfo> for ResourceInfo {
    fn from(r: legacy::sluice::connector::types::ResourceInfo) -> Self {
        ResourceInfo {
            name: r.name,
            primary_key: r.primary_key,
            write_disposition: r.write_disposition.into(),
            parent: r.parent,
            selected: r.selected,
            max_table_nesting: r.max_table_nesting,
            hints: TableHints::default(),
        }
    }
}

/// An instantiated connector of one contract version.
pub(crate) enum ConnectorWorld {
    Current(current::Connector),
    V0_3(v0_3::Connector),
    V0_2(v0_2::Connector),
    Legacy(legacy::Connector),
}

/// A released version of the contract.
#[derive(Clone, Copy)]
enum Version {
    Current,
    V0_3,
    V0_2,
    Legacy,
}

/// The contract version a component exports, from its type: `None` when it exports none
/// (not a sluice connector).
fn version_of(component: &Component, engine: &Engine) -> Option<Version> {
    let ty = component.component_type();
    let mut names = ty.exports(engine).map(|(name, _)| name);
    names.find_map(|name| match name {
        "sluice:connector/source@0.4.0" => Some(Version::Current),
        "sluice:connector/source@0.3.0" => Some(Version::V0_3),
        "sluice:connector/source@0.2.0" => Some(Version::V0_2),
        "sluice:connector/source@0.1.0" => Some(Version::Legacy),
        _ => None,
    })
}

/// Calls `$call` on the `source` interface `$src` of the world's version, with `$conv`
/// naming that version's conversions module (one arm per released version).
macro_rules! on_source {
    ($world:expr, |$src:ident, $conv:ident| $call:expr) => {
        on_source!(@arms $world, $src, $conv, $call, [
            Current current_conv, V0_3 v0_3_conv, V0_2 v0_2_conv, Legacy legacy_conv
        ])
    };
    (@arms $world:expr, $src:ident, $conv:ident, $call:expr, [$($v:ident $c:ident),*]) => {
        match $world {
            $(ConnectorWorld::$v(w) => {
                #[allow(unused_imports)]
                use $c as $conv;
                let $src = w.sluice_connector_source();
                $call
            })*
        }
    };
}

/// [`on_source!`] with `$s` the session accessor.
macro_rules! on_session {
    ($world:expr, |$s:ident| $call:expr) => {
        on_session!($world, |$s, _conv| $call)
    };
    ($world:expr, |$s:ident, $conv:ident| $call:expr) => {
        on_source!($world, |src, $conv| {
            let $s = src.session();
            $call
        })
    };
}

impl ConnectorWorld {
    /// Instantiates `component` with the bindings of the contract version it exports.
    pub(crate) fn instantiate<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        component: &Component,
        linker: &Linker<T>,
    ) -> wasmtime::Result<Self> {
        let engine = store.as_context().engine().clone();
        match version_of(component, &engine) {
            Some(Version::Legacy) => Ok(ConnectorWorld::Legacy(legacy::Connector::instantiate(
                &mut store, component, linker,
            )?)),
            Some(Version::V0_3) => Ok(ConnectorWorld::V0_3(v0_3::Connector::instantiate(
                &mut store, component, linker,
            )?)),
            Some(Version::V0_2) => Ok(ConnectorWorld::V0_2(v0_2::Connector::instantiate(
                &mut store, component, linker,
            )?)),
            // Unknown exports: the current bindings name what is missing.
            _ => Ok(ConnectorWorld::Current(current::Connector::instantiate(
                &mut store, component, linker,
            )?)),
        }
    }

    pub(crate) fn config_schema(&self, store: impl AsContextMut) -> wasmtime::Result<String> {
        on_source!(self, |src, _conv| src.call_config_schema(store))
    }

    pub(crate) fn open(
        &self,
        store: impl AsContextMut,
        config: &str,
        state: &[(String, String)],
    ) -> wasmtime::Result<Result<ResourceAny, ConnectorError>> {
        on_session!(self, |s| s
            .call_open(store, config, state)
            .map(|r| r.map_err(Into::into)))
    }

    pub(crate) fn resources(
        &self,
        store: impl AsContextMut,
        session: ResourceAny,
    ) -> wasmtime::Result<Vec<ResourceInfo>> {
        on_session!(self, |s| s
            .call_resources(store, session)
            .map(|list| list.into_iter().map(Into::into).collect()))
    }

    pub(crate) fn next_requests(
        &self,
        store: impl AsContextMut,
        session: ResourceAny,
        resource: &str,
    ) -> wasmtime::Result<Result<Vec<Planned>, ConnectorError>> {
        on_session!(self, |s| s
            .call_next_requests(store, session, resource)
            .map(|r| r
                .map(|list| list.into_iter().map(Into::into).collect())
                .map_err(Into::into)))
    }

    pub(crate) fn on_response(
        &self,
        store: impl AsContextMut,
        session: ResourceAny,
        resource: &str,
        seq: u64,
        response: Response,
    ) -> wasmtime::Result<Result<Page, ConnectorError>> {
        on_session!(self, |s, conv| s
            .call_on_response(store, session, resource, &conv::response(seq, response))
            .map(|r| r.map(Into::into).map_err(Into::into)))
    }
}
