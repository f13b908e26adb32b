//! Fuzzes the binary reader behind `dllgen audit` (PE and ELF), both renderers and the walk
//! of each export's code to its first `ret`: any input must give a report or an error,
//! never a panic, a hang or a huge allocation.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(report) = dllgen::audit::audit("fuzz-input", data) {
        let _ = dllgen::audit::text::render(&report);
        let _ = serde_json::to_string(&report);
        let names: Vec<String> = match &report.binary {
            dllgen::binary::Binary::Pe(pe) => {
                pe.exports.iter().flat_map(|d| &d.entries).filter_map(|e| e.name.clone()).take(64).collect()
            }
            dllgen::binary::Binary::Elf(elf) => elf.symbols.iter().map(|s| s.name.clone()).take(64).collect(),
        };
        for name in names {
            if let Some(code) = dllgen::binary::x86::code(data, &report.binary, &name) {
                let _ = dllgen::binary::x86::pops(code);
            }
        }
    }
});
