//! Dependent resources: a resource whose endpoint names `{resources.<parent>.<field>}` makes
//! one request chain per parent record, each with a fresh paginator.
//!
//! [`link`] validates the placeholders of every resource before any request and orders
//! parents before children. At run time the parent's pages feed each child a queue of
//! [`Row`]s holding only the parent fields the child needs; [`render`] fills a request's
//! templates from the current row and the incremental values.

use serde_json::{Map, Value};

use crate::config::Resource;
use crate::config::walk;
use crate::form;
use crate::incremental::Tracker;
use crate::placeholder::{self, Encode, Placeholder, json_strings};
use crate::protocol::Error;

/// The parent fields one parent record gives its child's request chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Field path -> value; `None` when the parent record lacks the field.
    pub values: Vec<(String, Option<Value>)>,
    /// Status of the parent response, for errors about this row.
    pub status: u16,
    /// Position of the parent record in its run, from 1, for errors.
    pub number: u64,
}

impl Row {
    fn get(&self, field: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(f, _)| f == field)
            .and_then(|(_, v)| v.as_ref())
    }
}

/// The templates of a resource's endpoint, as `(key path, text)`.
fn templates(i: usize, r: &Resource) -> Vec<(String, String)> {
    let ep = walk::join(&walk::index("resources", i), "endpoint");
    let mut out = vec![(walk::join(&ep, "path"), r.endpoint.path.clone())];
    for (k, v) in &r.endpoint.params {
        out.push((walk::join(&walk::join(&ep, "params"), k), v.clone()));
    }
    for (k, v) in &r.endpoint.headers {
        out.push((walk::join(&walk::join(&ep, "headers"), k), v.clone()));
    }
    if let Some(json) = r.endpoint.json.as_deref()
        && let Ok(v) = serde_json::from_str::<Value>(json)
    {
        let mut strings = Vec::new();
        json_strings(&v, &mut strings);
        out.extend(
            strings
                .into_iter()
                .map(|s| (walk::join(&ep, "json"), s.to_string())),
        );
    }
    if let Some(data) = &r.endpoint.data {
        out.extend(data.templates(&walk::join(&ep, "data")));
    }
    out
}

/// Whether the requests of `r` carry `{incremental.last_value}`: it moves as records come
/// in, so each chain must be planned after the chains before it were answered (as in dlt).
pub fn renders_last_value(r: &Resource) -> bool {
    templates(0, r).iter().any(|(path, text)| {
        placeholder::scan(path, text).is_ok_and(|holes| {
            holes.contains(&Placeholder::Incremental(placeholder::IncValue::Last))
        })
    })
}

/// Validates every placeholder, sets each resource's `parent` and `parent_fields`, and
/// orders parents before their children (otherwise keeping config order).
pub(crate) fn link(mut resources: Vec<Resource>) -> Result<Vec<Resource>, Error> {
    let names: Vec<String> = resources.iter().map(|r| r.name.clone()).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    for (i, r) in resources.iter_mut().enumerate() {
        let mut parent: Option<String> = None;
        let mut fields: Vec<String> = Vec::new();
        for (path, text) in templates(i, r) {
            for p in placeholder::scan(&path, &text)? {
                match p {
                    Placeholder::Parent { resource, field } => {
                        let hole = format!("{{resources.{resource}.{field}}}");
                        if !names.contains(&resource) {
                            let mut m = format!("placeholder {hole} names no resource");
                            if let Some(near) = walk::did_you_mean(&resource, &name_refs) {
                                m.push_str(&format!(" (did you mean \"{near}\"?)"));
                            }
                            return Err(Error::config(path, m));
                        }
                        if resource == r.name {
                            return Err(Error::config(
                                path,
                                format!("placeholder {hole} names the resource itself"),
                            ));
                        }
                        if let Some(other) = parent.as_ref().filter(|p| **p != resource) {
                            return Err(Error::config(
                                path,
                                format!(
                                    "placeholder {hole} names a second parent (a resource has one parent; \"{other}\" already is)"
                                ),
                            ));
                        }
                        parent = Some(resource);
                        if !fields.contains(&field) {
                            fields.push(field);
                        }
                    }
                    Placeholder::Incremental(_) if r.endpoint.incremental.is_none() => {
                        return Err(Error::config(
                            path,
                            "an {incremental.*} placeholder needs endpoint.incremental (or a params entry of type incremental)",
                        ));
                    }
                    Placeholder::Incremental(_) => {}
                }
            }
        }
        if parent.is_none() && !r.include_from_parent.is_empty() {
            return Err(Error::config(
                walk::join(&walk::index("resources", i), "include_from_parent"),
                "needs a parent: the endpoint names no {resources.<parent>.<field>} placeholder",
            ));
        }
        for f in &r.include_from_parent {
            if !fields.contains(f) {
                fields.push(f.clone());
            }
        }
        r.parent = parent;
        r.parent_fields = fields;
    }
    order(resources)
}

/// Parents first, otherwise config order; a cycle is an error.
fn order(resources: Vec<Resource>) -> Result<Vec<Resource>, Error> {
    let mut pending: Vec<(usize, Resource)> = resources.into_iter().enumerate().collect();
    let mut out: Vec<Resource> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let ready = pending.iter().position(|(_, r)| match &r.parent {
            None => true,
            Some(p) => out.iter().any(|o| &o.name == p),
        });
        match ready {
            Some(k) => out.push(pending.remove(k).1),
            None => {
                let (i, r) = &pending[0];
                let mut cycle = vec![r.name.clone()];
                let mut at = r.parent.clone();
                while let Some(p) = at {
                    if cycle.contains(&p) {
                        cycle.push(p);
                        break;
                    }
                    at = pending
                        .iter()
                        .find(|(_, o)| o.name == p)
                        .and_then(|(_, o)| o.parent.clone());
                    cycle.push(p);
                }
                return Err(Error::config(
                    walk::join(&walk::index("resources", *i), "endpoint"),
                    format!("placeholders form a cycle: {}", cycle.join(" -> ")),
                ));
            }
        }
    }
    Ok(out)
}

/// The endpoint of one request with every placeholder filled.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub path: String,
    pub params: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub json: Option<String>,
    /// `endpoint.data` rendered: a form or a raw body.
    pub data: Option<form::Body>,
}

/// Fills the templates of `res` from the chain's parent `row` and the incremental values.
/// A param whose value is missing is left out (dlt drops `None` params).
pub fn render(res: &Resource, row: Option<&Row>, inc: Option<&Tracker>) -> Result<Rendered, Error> {
    let ep = &res.endpoint;
    let value = |p: &Placeholder| -> Result<Option<Value>, Error> {
        match p {
            Placeholder::Parent { resource, field } => {
                let row = row.ok_or_else(|| {
                    Error::Protocol(format!("resource \"{}\" has no parent row", res.name))
                })?;
                match row.get(field) {
                    Some(v) => Ok(Some(v.clone())),
                    None => Err(Error::response(
                        row.status,
                        format!(
                            "resource \"{}\": record {} of parent \"{resource}\" has no field \"{field}\" (needed by {{resources.{resource}.{field}}})",
                            res.name, row.number
                        ),
                    )),
                }
            }
            Placeholder::Incremental(which) => Ok(inc.and_then(|t| t.value(*which))),
        }
    };
    let missing = |what: &str| {
        Error::config(
            format!("resources.{}.endpoint.{what}", res.name),
            "an {incremental.*} placeholder has no value (set incremental.initial_value)",
        )
    };
    let path = placeholder::render("endpoint.path", &ep.path, Encode::Path, &value)?
        .ok_or_else(|| missing("path"))?;
    let mut params = Vec::with_capacity(ep.params.len());
    for (k, v) in &ep.params {
        if let Some(t) = placeholder::render("endpoint.params", v, Encode::Raw, &value)? {
            params.push((k.clone(), t));
        }
    }
    let mut headers = Vec::with_capacity(ep.headers.len());
    for (k, v) in &ep.headers {
        let t = placeholder::render("endpoint.headers", v, Encode::Raw, &value)?
            .ok_or_else(|| missing("headers"))?;
        headers.push((k.clone(), t));
    }
    let json = match ep.json.as_deref() {
        None => None,
        Some(text) => {
            let body: Value = serde_json::from_str(text)
                .map_err(|e| Error::Protocol(format!("endpoint.json: {e}")))?;
            Some(placeholder::render_json("endpoint.json", &body, &value)?.to_string())
        }
    };
    let data = match &ep.data {
        None => None,
        Some(d) => Some(d.render(&format!("resources.{}.endpoint.data", res.name), &value)?),
    };
    Ok(Rendered {
        path,
        params,
        headers,
        json,
        data,
    })
}

/// Copies the `include_from_parent` fields of `row` into each record as `_<parent>_<field>`
/// (dots of a nested field path become `_`).
pub fn include_parent_fields(
    records: &mut [Value],
    parent: &str,
    include: &[String],
    row: &Row,
    child: &str,
) -> Result<(), Error> {
    for field in include {
        let v = row.get(field).cloned().ok_or_else(|| {
            Error::response(
                row.status,
                format!(
                    "resource \"{child}\": record {} of parent \"{parent}\" has no field \"{field}\" (listed in include_from_parent)",
                    row.number
                ),
            )
        })?;
        let column = format!("_{parent}_{}", field.replace('.', "_"));
        for record in records.iter_mut() {
            if let Value::Object(m) = record {
                m.insert(column.clone(), v.clone());
            } else {
                let mut m = Map::new();
                m.insert("value".into(), record.take());
                m.insert(column.clone(), v.clone());
                *record = Value::Object(m);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "dependent_tests.rs"]
mod tests;
