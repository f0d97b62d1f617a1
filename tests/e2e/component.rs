//! The built connector is a standard WebAssembly component: tooling other than our host
//! (the `wit-component` decoder behind `wasm-tools component wit`) reads its world.

#[test]
fn the_connector_is_a_standard_component_exporting_source() {
    let bytes = sluice::runtime::BUILTIN_CONNECTOR;
    assert!(bytes.len() > 1000);
    let decoded = wit_component::decode(bytes).expect("decodes as a component");
    let resolve = decoded.resolve();
    let mut printer = wit_component::WitPrinter::default();
    printer
        .print(resolve, decoded.package(), &[])
        .expect("prints WIT");
    let wit = printer.output.to_string();
    assert!(
        wit.contains("export sluice:connector/source@0.1.0;"),
        "{wit}"
    );
    // It imports nothing beyond WASI and our own types-only interface: no host functions.
    for line in wit
        .lines()
        .filter(|l| l.trim_start().starts_with("import "))
    {
        assert!(
            line.contains("wasi:") || line.contains("sluice:connector/types@0.1.0"),
            "unexpected import: {line}\n{wit}"
        );
    }
    let types = resolve
        .interfaces
        .iter()
        .find(|(_, i)| i.name.as_deref() == Some("types"))
        .expect("types interface");
    assert!(
        types.1.functions.is_empty(),
        "the types interface declares no functions"
    );
}
