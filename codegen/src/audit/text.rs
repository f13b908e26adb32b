//! The human-readable audit report.

use super::header_check::HeaderCheck;
use super::Report;
use crate::binary::elf::ElfFile;
use crate::binary::pe::{Export, ExportKind, Flags, ImportedDll, PeFile};
use crate::binary::Binary;
use crate::diag::printable;

use std::fmt::Write;

/// Renders `report` as text for a terminal; the last line is the verdict.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    match &report.binary {
        Binary::Pe(pe) => pe_text(&mut out, report, pe),
        Binary::Elf(elf) => elf_text(&mut out, report, elf),
    }
    if let Some(check) = &report.header_check {
        header_text(&mut out, check);
    }
    let v = &report.verdict;
    let answer = if v.loadable_by_32bit_host { "yes" } else { "no" };
    let _ = writeln!(out, "\nverdict: loadable by a 32-bit host: {answer}: {}", v.reason);
    out
}

fn flags(f: &Flags) -> String {
    if f.names.is_empty() {
        format!("{:#06x}", f.value)
    } else {
        format!("{:#06x} {}", f.value, f.names.join(" "))
    }
}

fn pe_text(out: &mut String, report: &Report, pe: &PeFile) {
    let kind = if pe.is_dll { "DLL" } else { "executable" };
    let _ = writeln!(out, "{}: {} {kind}, {} bytes", report.file, pe.kind, report.size);
    let rows = [
        ("machine", format!("{} ({:#x})", pe.machine.name, pe.machine.value)),
        ("characteristics", flags(&pe.characteristics)),
        ("subsystem", format!("{} ({})", pe.subsystem.name, pe.subsystem.value)),
        ("dll characteristics", flags(&pe.dll_characteristics)),
        ("timestamp", format!("{:#010x} ({})", pe.timestamp, utc(pe.timestamp))),
        ("image base", format!("{:#x}", pe.image_base)),
        ("entry point", format!("{:#x}", pe.entry_point)),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "  {k:<20} {v}");
    }

    let _ = writeln!(out, "\nsections ({})", pe.sections.len());
    let w = pe.sections.iter().map(|s| s.name.len()).max().unwrap_or(0).max(8);
    let _ = writeln!(
        out,
        "  {:<w$} {:>10} {:>10} {:>10} {:>10}  flags",
        "name", "rva", "vsize", "offset", "size"
    );
    for s in &pe.sections {
        let _ = writeln!(
            out,
            "  {:<w$} {:#010x} {:#010x} {:#010x} {:#010x}  {}",
            printable(&s.name),
            s.rva,
            s.virtual_size,
            s.file_offset,
            s.file_size,
            s.flags.names.join(" ")
        );
    }

    match &pe.exports {
        None => out.push_str("\nexports: none (no export directory)\n"),
        Some(dir) => {
            let name = dir.dll_name.as_deref().map_or("(none)".to_string(), |n| format!("{n:?}"));
            let _ = writeln!(
                out,
                "\nexports: DLL name {name}, ordinal base {}, {} functions, {} names, {} entries",
                dir.ordinal_base,
                dir.number_of_functions,
                dir.number_of_names,
                dir.entries.len()
            );
            if !dir.entries.is_empty() {
                let _ = writeln!(out, "  {:>7} {:>5} {:>10}  {:<9} name", "ordinal", "hint", "rva", "kind");
                for e in &dir.entries {
                    export_row(out, e);
                }
            }
        }
    }
    imports_text(out, "imports", &pe.imports);
    if !pe.delay_imports.is_empty() {
        imports_text(out, "delay-load imports", &pe.delay_imports);
    }
    if let Some(clr) = &pe.clr {
        let managed = if clr.il_only { "managed, IL only" } else { "mixed-mode (native code and IL)" };
        let _ =
            writeln!(out, "\n.NET: runtime {}, flags {}: {managed}", clr.runtime_version, flags(&clr.flags));
    }
}

fn export_row(out: &mut String, e: &Export) {
    let hint = e.hint.map_or("-".to_string(), |h| h.to_string());
    let kind = match e.kind {
        ExportKind::Code => "code",
        ExportKind::Data => "data",
        ExportKind::Forwarder => "forwarder",
        ExportKind::Unmapped => "unmapped",
    };
    let name = printable(e.name.as_deref().unwrap_or("[NONAME]"));
    let mut notes = Vec::new();
    if let Some(target) = &e.forwarder {
        notes.push(format!("-> {}", printable(target)));
    }
    if let Some(d) = &e.decoration {
        let mut note = d.scheme.describe().to_string();
        if let Some(bytes) = d.arg_bytes {
            let _ = write!(note, ", {bytes} argument bytes");
        }
        if let Some(base) = &d.name {
            let _ = write!(note, ", C name {}", printable(base));
        }
        notes.push(note);
    }
    let notes = if notes.is_empty() { String::new() } else { format!("  ({})", notes.join("; ")) };
    let _ = writeln!(out, "  {:>7} {hint:>5} {:#010x}  {kind:<9} {name}{notes}", e.ordinal, e.rva);
}

fn imports_text(out: &mut String, title: &str, dlls: &[ImportedDll]) {
    let count: usize = dlls.iter().map(|d| d.functions.len()).sum();
    let _ = writeln!(out, "\n{title}: {} from {}", plural(count, "function"), plural(dlls.len(), "DLL"));
    for dll in dlls {
        if dll.bound {
            let _ = writeln!(out, "  {} (bound at link time: names unavailable)", printable(&dll.dll));
            continue;
        }
        let _ = writeln!(out, "  {} ({})", printable(&dll.dll), dll.functions.len());
        for f in &dll.functions {
            match (&f.name, f.ordinal) {
                (Some(name), _) => {
                    let _ = writeln!(out, "    {}", printable(name));
                }
                (None, Some(ordinal)) => {
                    let _ = writeln!(out, "    #{ordinal}");
                }
                (None, None) => {}
            }
        }
    }
}

fn header_text(out: &mut String, check: &HeaderCheck) {
    let target = check.target.describe();
    let _ = writeln!(
        out,
        "\nheader check: {} parsed for {target}; {} matched a declaration",
        check.headers.join(", "),
        plural(check.matched, "export")
    );
    let lists: [(&str, Vec<String>); 4] = [
        ("exports without a prototype", check.exports_without_prototype.clone()),
        ("declarations the binary does not export", check.prototypes_without_export.clone()),
        ("C++ exports (no C declaration can match)", check.cpp_exports.clone()),
        (
            "convention or argument bytes disagree",
            check.mismatches.iter().map(|m| format!("{}: {}", m.export, m.problem)).collect(),
        ),
    ];
    for (title, items) in lists {
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {title} ({}):", items.len());
        for item in items {
            let _ = writeln!(out, "    {}", printable(&item));
        }
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn elf_text(out: &mut String, report: &Report, elf: &ElfFile) {
    let _ = writeln!(
        out,
        "{}: {} {} ({}), {} bytes",
        report.file, elf.class, elf.machine.name, elf.file_type.name, report.size
    );
    let _ = writeln!(out, "  {:<20} {} ({})", "machine", elf.machine.name, elf.machine.value);
    let _ = writeln!(out, "  {:<20} {}", "soname", printable(elf.soname.as_deref().unwrap_or("(none)")));
    let _ = writeln!(
        out,
        "  {:<20} {}",
        "needed",
        if elf.needed.is_empty() { "(none)".into() } else { printable(&elf.needed.join(", ")).into_owned() }
    );
    let _ = writeln!(out, "\nexported symbols: {}", elf.symbols.len());
    if !elf.symbols.is_empty() {
        let _ = writeln!(out, "  {:>18} {:>8}  {:<8} {:<7} name", "value", "size", "kind", "binding");
        for s in &elf.symbols {
            let _ = writeln!(
                out,
                "  {:#018x} {:>8}  {:<8} {:<7} {}",
                s.value,
                s.size,
                s.kind,
                s.binding,
                printable(&s.name)
            );
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC` for a Unix timestamp (days-to-civil conversion from Howard
/// Hinnant's calendar algorithms; no time-zone database needed).
fn utc(secs: u32) -> String {
    let days = i64::from(secs / 86_400);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem / 60 % 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(u32::MAX), "2106-02-07 06:28:15 UTC");
    }
}
