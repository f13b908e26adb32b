//! Benchmark: `dllgen audit` on a DLL with 10,000 exports, next to GNU objdump doing the
//! same job on the same file in the same run (these machines are shared and noisy, so only
//! the ratio is comparable across runs).
//!
//! Run: `cargo bench -p dllgen --bench audit` (docs/PERFORMANCE.md has the figures).

use std::hint::black_box;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm the page cache and the allocator
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect(),
    )
}

fn process(program: &str, args: &[&str], file: &Path) -> impl FnMut() {
    let (program, args, file) =
        (program.to_string(), args.iter().map(|s| s.to_string()).collect::<Vec<_>>(), file.to_path_buf());
    move || {
        let status = Command::new(&program).args(&args).arg(&file).stdout(Stdio::null()).status().unwrap();
        assert!(status.success(), "{program} failed");
    }
}

fn main() {
    let dll = dllgen_tests::fixture("fx_big.dll");
    let bytes = std::fs::read(&dll).unwrap();
    let exports = dllgen::audit::audit("fx_big.dll", &bytes).unwrap();
    let count = match &exports.binary {
        dllgen::binary::Binary::Pe(pe) => pe.exports.as_ref().map_or(0, |e| e.entries.len()),
        dllgen::binary::Binary::Elf(_) => 0,
    };
    assert_eq!(count, 10_000);
    let runs = 31;

    let in_process = time(runs, || {
        let report = dllgen::audit::audit("fx_big.dll", black_box(&bytes)).unwrap();
        black_box(dllgen::audit::text::render(&report));
    });
    let cli_text = time(runs, process(env!("CARGO_BIN_EXE_dllgen"), &["audit"], &dll));
    let cli_json = time(runs, process(env!("CARGO_BIN_EXE_dllgen"), &["audit", "--json"], &dll));
    let objdump = time(runs, process("x86_64-w64-mingw32-objdump", &["-p"], &dll));

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("audit of fx_big.dll ({count} exports, {} KiB), median of {runs} runs", bytes.len() / 1024);
    println!("{:<40} {:>10} {:>16}", "", "ms", "x objdump -p");
    for (label, d) in [
        ("objdump -p (baseline, process)", objdump),
        ("dllgen audit (process)", cli_text),
        ("dllgen audit --json (process)", cli_json),
        ("parse + render text (in process)", in_process),
    ] {
        println!("{label:<40} {:>10.2} {:>16.3}", ms(d), d.as_secs_f64() / objdump.as_secs_f64());
    }
}
