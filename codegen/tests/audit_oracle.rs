//! `dllgen audit --json` on every fixture, checked against an independent oracle: GNU
//! objdump's reading of the same PE files and readelf's of the ELF ones.

use dllgen_tests::{fixture, fixtures};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn audit_json(path: &Path) -> Value {
    let out =
        Command::new(env!("CARGO_BIN_EXE_dllgen")).arg("audit").arg("--json").arg(path).output().unwrap();
    assert!(
        out.status.success(),
        "audit {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("audit --json prints JSON")
}

fn tool(program: &str, args: &[&str], path: &Path) -> String {
    let out =
        Command::new(program).args(args).arg(path).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program} failed on {}", path.display());
    String::from_utf8(out.stdout).unwrap()
}

/// What objdump -p says about a PE file's exports and imports.
#[derive(Debug, Default)]
struct Objdump {
    format: String,
    dll_name: Option<String>,
    ordinal_base: u32,
    number_of_functions: u32,
    number_of_names: u32,
    /// (ordinal, rva, forwarder) for every non-zero EAT slot.
    eat: BTreeSet<(u32, u32, Option<String>)>,
    /// (name, ordinal) for every name.
    names: BTreeSet<(String, u32)>,
    /// (dll, name or "#ordinal").
    imports: BTreeSet<(String, String)>,
}

fn hex(s: &str) -> u32 {
    u32::from_str_radix(s, 16).unwrap_or_else(|_| panic!("not hex: {s:?}"))
}

fn objdump(path: &Path) -> Objdump {
    // The x86-64 objdump reads both pei-i386 and pei-x86-64.
    let text = tool("x86_64-w64-mingw32-objdump", &["-p"], path);
    let mut o = Objdump::default();
    let mut section = "";
    let mut dll = String::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(fmt) = line.split("file format ").nth(1) {
            o.format = fmt.trim().to_string();
        } else if t.starts_with("The Import Tables") {
            section = "imports";
        } else if t.starts_with("The Export Tables") {
            section = "exports";
        } else if t.starts_with("Export Address Table -- Ordinal Base") {
            section = "eat";
        } else if t.starts_with("[Ordinal/Name Pointer] Table") {
            section = "names";
        } else if t == "Table Addresses" || (t.is_empty() && (section == "eat" || section == "names")) {
            section = "";
        } else if section == "exports" {
            let fields: Vec<&str> = t.split_whitespace().collect();
            match fields.as_slice() {
                ["Name", _rva, name] => o.dll_name = Some(name.to_string()),
                ["Ordinal", "Base", n] => o.ordinal_base = n.parse().unwrap(),
                ["Export", "Address", "Table", n] => o.number_of_functions = hex(n),
                ["[Name", "Pointer/Ordinal]", "Table", n] => o.number_of_names = hex(n),
                _ => {}
            }
        } else if section == "eat" {
            // "[   1] +base[   2] 14b0 Export RVA" or "... 705f Forwarder RVA -- dll.name"
            let (_, rest) = t.split_once("+base[").unwrap();
            let (ordinal, rest) = rest.split_once(']').unwrap();
            let mut words = rest.split_whitespace();
            let rva = hex(words.next().unwrap());
            let forwarder = rest.split_once(" -- ").map(|(_, f)| f.to_string());
            o.eat.insert((ordinal.trim().parse().unwrap(), rva, forwarder));
        } else if section == "names" {
            // "[   5] ord_alias": the EAT index, then the name.
            let (index, name) = t.trim_start_matches('[').split_once(']').unwrap();
            o.names.insert((name.trim().to_string(), o.ordinal_base + index.trim().parse::<u32>().unwrap()));
        } else if section == "imports" {
            if let Some(name) = t.strip_prefix("DLL Name: ") {
                dll = name.to_string();
            } else if !dll.is_empty() && !t.starts_with("vma:") {
                let fields: Vec<&str> = t.split_whitespace().collect();
                match fields.as_slice() {
                    [_vma, ordinal, "<none>"] => o.imports.insert((dll.clone(), format!("#{ordinal}"))),
                    [_vma, _hint, name] => o.imports.insert((dll.clone(), name.to_string())),
                    _ => {
                        dll.clear();
                        false
                    }
                };
            }
        }
    }
    o
}

fn ours(report: &Value) -> Objdump {
    let exports = &report["exports"];
    let mut o = Objdump {
        format: match report["kind"].as_str().unwrap() {
            "PE32" => "pei-i386".into(),
            _ => "pei-x86-64".into(),
        },
        dll_name: exports["dll_name"].as_str().map(str::to_string),
        ordinal_base: exports["ordinal_base"].as_u64().unwrap_or(0) as u32,
        number_of_functions: exports["number_of_functions"].as_u64().unwrap_or(0) as u32,
        number_of_names: exports["number_of_names"].as_u64().unwrap_or(0) as u32,
        ..Default::default()
    };
    for e in exports["entries"].as_array().into_iter().flatten() {
        let ordinal = e["ordinal"].as_u64().unwrap() as u32;
        o.eat.insert((
            ordinal,
            e["rva"].as_u64().unwrap() as u32,
            e["forwarder"].as_str().map(str::to_string),
        ));
        if let Some(name) = e["name"].as_str() {
            o.names.insert((name.to_string(), ordinal));
        }
    }
    for dll in report["imports"].as_array().unwrap() {
        for f in dll["functions"].as_array().unwrap() {
            let name = match f["name"].as_str() {
                Some(name) => name.to_string(),
                None => format!("#{}", f["ordinal"]),
            };
            o.imports.insert((dll["dll"].as_str().unwrap().to_string(), name));
        }
    }
    o
}

fn pe_fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".dll") || n.ends_with(".exe"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "expected every PE fixture, found {names:?}");
    names
}

#[test]
fn pe_exports_and_imports_match_objdump() {
    for name in pe_fixtures() {
        let path = fixture(&name);
        let (want, got) = (objdump(&path), ours(&audit_json(&path)));
        assert_eq!(got.format, want.format, "{name}: format");
        assert_eq!(got.dll_name, want.dll_name, "{name}: export directory DLL name");
        assert_eq!(got.ordinal_base, want.ordinal_base, "{name}: ordinal base");
        assert_eq!(got.number_of_functions, want.number_of_functions, "{name}: NumberOfFunctions");
        assert_eq!(got.number_of_names, want.number_of_names, "{name}: NumberOfNames");
        assert_eq!(got.eat, want.eat, "{name}: ordinals, RVAs and forwarders");
        assert_eq!(got.names, want.names, "{name}: names and their ordinals");
        assert_eq!(got.imports, want.imports, "{name}: imports");
    }
}

#[test]
fn the_big_fixture_really_has_ten_thousand_exports() {
    let report = audit_json(&fixture("fx_big.dll"));
    assert_eq!(report["exports"]["entries"].as_array().unwrap().len(), 10_000);
}

/// (name, kind, value) of the defined, visible dynamic symbols readelf lists.
fn readelf_symbols(path: &Path) -> BTreeSet<(String, String, u64)> {
    tool("readelf", &["--dyn-syms", "-W"], path)
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            // Num: Value Size Type Bind Vis Ndx Name
            let numbered = f.first().is_some_and(|n| n.trim_end_matches(':').parse::<u32>().is_ok());
            if f.len() < 8 || !numbered || f[6] == "UND" || f[5] == "HIDDEN" || f[4] == "LOCAL" {
                return None;
            }
            let kind = match f[3] {
                "FUNC" | "IFUNC" => "function",
                "OBJECT" | "COMMON" => "data",
                "TLS" => "tls",
                "SECTION" | "FILE" => return None,
                _ => "other",
            };
            Some((
                f[7].split('@').next().unwrap().to_string(),
                kind.to_string(),
                u64::from_str_radix(f[1], 16).unwrap(),
            ))
        })
        .collect()
}

#[test]
fn elf_symbols_match_readelf() {
    for (name, class, machine) in
        [("libfx_cdecl32.so", "ELF32", "386"), ("libfx_cdecl64.so", "ELF64", "X86_64")]
    {
        let path = fixture(name);
        let report = audit_json(&path);
        assert_eq!(report["format"], "elf");
        assert_eq!(report["class"], class, "{name}");
        assert_eq!(report["machine"]["name"], machine, "{name}");
        let header = tool("readelf", &["-h"], &path);
        assert!(
            header.contains(&format!("Class:                             {class}")),
            "{name}: readelf says\n{header}"
        );
        let ours: BTreeSet<_> = report["symbols"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap().to_string(),
                    s["kind"].as_str().unwrap().to_string(),
                    s["value"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(ours, readelf_symbols(&path), "{name}");
        let needed: Vec<String> = tool("readelf", &["-d", "-W"], &path)
            .lines()
            .filter(|l| l.contains("(NEEDED)"))
            .map(|l| l.split('[').nth(1).unwrap().trim_end_matches(']').to_string())
            .collect();
        assert_eq!(report["needed"], serde_json::json!(needed), "{name}");
    }
}
