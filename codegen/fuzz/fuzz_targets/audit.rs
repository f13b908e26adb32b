//! Fuzzes the binary reader behind `dllgen audit` (PE and ELF) and both renderers: any
//! input must give a report or an error, never a panic, a hang or a huge allocation.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(report) = dllgen::audit::audit("fuzz-input", data) {
        let _ = dllgen::audit::text::render(&report);
        let _ = serde_json::to_string(&report);
    }
});
