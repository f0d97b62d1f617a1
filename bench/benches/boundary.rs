//! How a page of records should cross the component boundary: JSON text vs typed rows.
//!
//! `cargo bench -p sluice-bench` (set `SLUICE_BENCH_QUICK=1` for a short run). For pages
//! of 100 and 1,000 inventory items (`sluice_mock_api::item`) it times, per page, with
//! interleaved samples and medians:
//! - the guest alone turning its `Value`s into the form (built and dropped in the guest);
//! - the call: the guest building the form, the canonical-ABI crossing, and wasmtime
//!   lifting it into host types (`String` / `Rows`), plus post-return freeing;
//! - the host turning what crossed into the `Vec<Value>` the sink takes.
//!
//! It reports json/rows ratios from the same run, then the guest's memory for each form.

use std::cell::RefCell;
use std::error::Error;
use std::time::Duration;

use serde_json::Value;
use sluice_bench::timing::{self, Case, Plan, Summary};
use sluice_bench::{Cell, Guest, Rows, compile, engine, json_to_values, rows_to_values};
use sluice_mock_api::item;
use wasmtime::Engine;
use wasmtime::component::Component;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> Result<()> {
    let plan = if std::env::var_os("SLUICE_BENCH_QUICK").is_some() {
        Plan {
            warmup: Duration::from_millis(50),
            sample: Duration::from_millis(2),
            samples: 11,
        }
    } else {
        Plan::default()
    };
    let engine = engine()?;
    let component = compile(&engine)?;
    let all: Vec<Value> = (1..=1000).map(|id| item(id, 0)).collect();
    println!("sluice-bench: a page across the component boundary, JSON text vs typed rows");
    println!(
        "plan: {} ms warm-up per case, {} interleaved samples of >= {} ms; times are medians per page\n",
        plan.warmup.as_millis(),
        plan.samples,
        plan.sample.as_millis()
    );
    for n in [100u32, 1000] {
        page_table(&engine, &component, &all, n, plan)?;
    }
    memory(&engine, &component, &all)?;
    Ok(())
}

fn page_table(
    engine: &Engine,
    component: &Component,
    all: &[Value],
    n: u32,
    plan: Plan,
) -> Result<()> {
    let guest = RefCell::new(Guest::new(engine, component)?);
    guest.borrow_mut().load(all)?;
    let text = guest.borrow_mut().page_json(n)?;
    let rows = guest.borrow_mut().page_rows(n)?;
    let shape = Shape::of(&rows);
    // Both forms carry the page before anything is timed.
    let from_json = json_to_values(&text)?;
    if from_json.len() != n as usize || rows_to_values(rows)?.len() != n as usize {
        return Err(format!("a form of the {n}-record page lost records").into());
    }

    let g = &guest;
    let mut cases = [
        Case::new("json guest", || keep(g.borrow_mut().json_only(n)?)),
        Case::new("rows guest", || keep(g.borrow_mut().rows_only(n)?)),
        Case::new("json call", || keep(g.borrow_mut().page_json(n)?)),
        Case::new("rows call", || keep(g.borrow_mut().page_rows(n)?)),
        Case::new("json host", || keep(json_to_values(&text)?)),
        Case::new("json e2e", || {
            let text = g.borrow_mut().page_json(n)?;
            keep(json_to_values(&text)?)
        }),
        Case::new("rows e2e", || {
            let rows = g.borrow_mut().page_rows(n)?;
            keep(rows_to_values(rows)?)
        }),
    ];
    let s = timing::run(&mut cases, plan)?;
    let medians = stages(&s, Summary::median)?;
    let fastest = stages(&s, |x| x.spread().0)?;

    println!(
        "== page of {n} records: JSON text {:.1} KiB | rows {} columns, {} cells, {:.1} KiB of strings",
        text.len() as f64 / 1024.0,
        shape.columns,
        shape.cells,
        shape.string_bytes as f64 / 1024.0
    );
    println!(
        "{:<46} {:>9} {:>9} {:>10} {:>10}",
        "stage (per page)", "json us", "rows us", "json/rows", "at p10"
    );
    for ((stage, json, rows), (_, json10, rows10)) in medians.iter().zip(&fastest) {
        println!(
            "{stage:<46} {:>9.1} {:>9.1} {:>10.2} {:>10.2}",
            json * 1e6,
            rows * 1e6,
            json / rows,
            json10 / rows10
        );
    }
    println!("spread (p10..p90 us):");
    for x in &s {
        let (lo, hi) = x.spread();
        println!(
            "  {:<12} {:>9.1} .. {:<9.1} (batch {})",
            x.name,
            lo * 1e6,
            hi * 1e6,
            x.batch
        );
    }
    println!();
    Ok(())
}

/// Keeps the optimizer from discarding a result.
fn keep<T>(value: T) -> Result<()> {
    std::hint::black_box(value);
    Ok(())
}

/// The stages of both forms, `(label, json seconds, rows seconds)`, from one statistic of
/// every case; differences derive the stages not timed alone.
fn stages(s: &[Summary], stat: fn(&Summary) -> f64) -> Result<Vec<(&'static str, f64, f64)>> {
    let m = |name: &str| -> Result<f64> {
        s.iter()
            .find(|x| x.name == name)
            .map(stat)
            .ok_or_else(|| format!("no case {name}").into())
    };
    let (jg, rg, jc, rc) = (
        m("json guest")?,
        m("rows guest")?,
        m("json call")?,
        m("rows call")?,
    );
    let (jh, je, re) = (m("json host")?, m("json e2e")?, m("rows e2e")?);
    Ok(vec![
        ("guest: Values -> form (built, dropped)", jg, rg),
        ("crossing + lift (call - guest)", jc - jg, rc - rg),
        ("call: guest + crossing + lift", jc, rc),
        ("host: form -> Vec<Value> (rows: e2e - call)", jh, re - rc),
        ("END TO END -> Vec<Value> (the sink's input)", je, re),
        ("end to end, rows used as lifted (no Value)", je, rc),
    ])
}

/// Sizes of a page in the rows form.
struct Shape {
    columns: usize,
    cells: usize,
    string_bytes: usize,
}

impl Shape {
    fn of(rows: &Rows) -> Shape {
        let cells = rows.values.iter().map(Vec::len).sum();
        let string_bytes = rows
            .values
            .iter()
            .flatten()
            .map(|c| match c {
                Cell::Text(s) | Cell::Json(s) => s.len(),
                _ => 0,
            })
            .sum::<usize>()
            + rows.columns.iter().map(String::len).sum::<usize>();
        Shape {
            columns: rows.columns.len(),
            cells,
            string_bytes,
        }
    }

    /// Bytes the canonical ABI lays out in guest memory: 16 per `cell`, 8 per list or
    /// string header, plus the strings.
    fn canonical_bytes(&self, rows: usize) -> usize {
        self.cells * 16 + (rows + self.columns) * 8 + self.string_bytes
    }
}

/// Guest memory for a 1,000-record page, each form in a fresh instance: the heap
/// high-water mark during the call above the heap in use before it (the kept records), and
/// the linear memory (64 KiB pages, what the host's memory limit sees).
fn memory(engine: &Engine, component: &Component, all: &[Value]) -> Result<()> {
    let n = 1000u32;
    println!("== guest memory, page of {n} records (fresh instance per form)");
    println!(
        "{:<28} {:>14} {:>14} {:>16} {:>16}",
        "form", "heap before", "heap peak +", "linear before", "linear after"
    );
    let measure = |label: &str, call: &dyn Fn(&mut Guest) -> Result<()>| -> Result<()> {
        let mut guest = Guest::new(engine, component)?;
        guest.load(all)?;
        let linear = guest.peak_memory();
        guest.heap_reset()?;
        let (before, _) = guest.heap()?;
        call(&mut guest)?;
        let (after, peak) = guest.heap()?;
        if after != before {
            return Err(format!("{label}: the guest heap went {before} -> {after}").into());
        }
        println!(
            "{label:<28} {:>10} KiB {:>10} KiB {:>12} KiB {:>12} KiB",
            before / 1024,
            (peak - before) / 1024,
            linear / 1024,
            guest.peak_memory() / 1024
        );
        Ok(())
    };
    measure("json: page-json (call)", &|g| keep(g.page_json(n)?))?;
    measure("rows: page-rows (call)", &|g| keep(g.page_rows(n)?))?;
    measure("json: built in guest only", &|g| keep(g.json_only(n)?))?;
    measure("rows: built in guest only", &|g| keep(g.rows_only(n)?))?;
    let mut guest = Guest::new(engine, component)?;
    guest.load(all)?;
    let text = guest.page_json(n)?;
    let rows = guest.page_rows(n)?;
    let shape = Shape::of(&rows);
    println!(
        "payload in canonical-ABI layout: json {} KiB, rows {} KiB\n",
        text.len() / 1024,
        shape.canonical_bytes(rows.values.len()) / 1024
    );
    Ok(())
}
