//! dlt's `schema_contract` over a page's planned schema changes (dialect-free): a new table,
//! a new column or a value of another type (a variant column) is evolved, refused
//! (`freeze`), dropped with its record (`discard_row`) or dropped alone (`discard_value`).

use std::collections::BTreeSet;

use crate::coerce::coerce;
use crate::error::SinkError;
use crate::flatten::Row;
use crate::hints::{ContractMode, SchemaContract};
use crate::schema::{Kind, TableSchema};
use crate::types::ColumnInfo;

/// The plan of one table of a page.
#[derive(Debug)]
pub(crate) struct TablePlan<'p, 'a> {
    /// Position of the table in the page.
    pub(crate) table: usize,
    pub(crate) name: String,
    /// Whether the table exists already.
    pub(crate) exists: bool,
    pub(crate) rows: Vec<&'p Row<'a>>,
    pub(crate) added: Vec<(ColumnInfo, Kind)>,
    /// True when the table's rows are dropped (`tables: discard_value`).
    pub(crate) skip: bool,
}

/// Applies each plan's contract to the plans of a page (`contracts` and `schemas`: the
/// contract and the current schema of each plan's table). Returns the records (root rows)
/// to drop; drops discarded columns and tables from the plans; fails on a `freeze`.
pub(crate) fn apply(
    contracts: &[SchemaContract],
    plans: &mut [TablePlan<'_, '_>],
    schemas: &[&TableSchema],
) -> Result<BTreeSet<usize>, SinkError> {
    let mut dropped = BTreeSet::new();
    for ((plan, schema), contract) in plans.iter_mut().zip(schemas).zip(contracts) {
        if !plan.exists && plan.table > 0 {
            match contract.tables {
                ContractMode::Evolve => {}
                ContractMode::Freeze => {
                    return Err(SinkError::Contract {
                        table: plan.name.clone(),
                        index: plan.rows.first().map_or(0, |r| r.root),
                        change: format!("would create table `{}`", plan.name),
                        setting: "tables",
                    });
                }
                ContractMode::DiscardValue => plan.skip = true,
                ContractMode::DiscardRow => dropped.extend(plan.rows.iter().map(|r| r.root)),
            }
            // A table the contract lets in takes its columns as they come.
            continue;
        }
        let mut kept = Vec::with_capacity(plan.added.len());
        for (column, kind) in std::mem::take(&mut plan.added) {
            let (mode, setting) = match &kind {
                Kind::Hinted => (ContractMode::Evolve, ""),
                Kind::New => (contract.columns, "columns"),
                Kind::Variant { .. } => (contract.data_type, "data_type"),
            };
            if mode == ContractMode::Evolve {
                kept.push((column, kind));
                continue;
            }
            let rows: Vec<usize> = plan
                .rows
                .iter()
                .filter(|r| lands_in(r, &column, &kind, schema))
                .map(|r| r.root)
                .collect();
            match mode {
                ContractMode::Freeze => {
                    let change = match &kind {
                        Kind::Variant { base } => format!(
                            "has a value of another type for column `{base}` (it would go to `{}`)",
                            column.name
                        ),
                        _ => format!("would add column `{}`", column.name),
                    };
                    return Err(SinkError::Contract {
                        table: plan.name.clone(),
                        index: rows.first().copied().unwrap_or(0),
                        change,
                        setting,
                    });
                }
                ContractMode::DiscardRow => dropped.extend(rows),
                ContractMode::DiscardValue | ContractMode::Evolve => {}
            }
        }
        plan.added = kept;
    }
    Ok(dropped)
}

/// Whether `row` has a value that goes to the planned `column`.
fn lands_in(row: &Row<'_>, column: &ColumnInfo, kind: &Kind, schema: &TableSchema) -> bool {
    match kind {
        Kind::Hinted => false,
        Kind::New => row
            .cells
            .iter()
            .any(|(n, c)| **n == *column.name && c.data_type().is_some()),
        Kind::Variant { base } => {
            let Some(t) = schema.position(base).map(|i| schema.columns()[i].data_type) else {
                return false;
            };
            row.cells
                .iter()
                .any(|(n, c)| **n == **base && coerce(c, t).is_none())
        }
    }
}
