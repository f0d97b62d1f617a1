//! The one place that touches the types `bindgen!` generates from `wit/`.
//!
//! Everything else in the host works with [`crate::protocol`] and `sluice_transport` types;
//! the conversions live beside the generated code, as in wasmtime's `wasi-http`.

use crate::protocol::{ConnectorError, Level, Notice, Page, ResourceInfo};
use sluice_sink::WriteDisposition;
use sluice_transport::{Auth, ClientAuth, Credential, Method, OAuth2, Request, Response};

wasmtime::component::bindgen!({
    world: "connector",
    path: "../wit",
});

use self::sluice::connector::types as wit;

pub(crate) use Connector as ConnectorWorld;

/// A planned request, with the sequence number the connector expects back.
pub(crate) struct Planned {
    pub seq: u64,
    pub request: Request,
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

impl From<wit::ResourceInfo> for ResourceInfo {
    fn from(r: wit::ResourceInfo) -> Self {
        ResourceInfo {
            name: r.name,
            primary_key: r.primary_key,
            write_disposition: match r.write_disposition {
                wit::WriteDisposition::Append => WriteDisposition::Append,
                wit::WriteDisposition::Replace => WriteDisposition::Replace,
                wit::WriteDisposition::Merge => WriteDisposition::Merge,
            },
            parent: r.parent,
            selected: r.selected,
            max_table_nesting: r.max_table_nesting,
        }
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
