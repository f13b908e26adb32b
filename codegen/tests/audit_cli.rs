//! `dllgen audit` as a user runs it: what it says about each kind of fixture, and how it
//! fails on bad input (one error line, exit code 2, never a panic).

use dllgen_tests::fixture;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn dllgen(args: &[&str], file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dllgen")).args(args).arg(file).output().unwrap()
}

fn text(file: &Path) -> String {
    let out = dllgen(&["audit"], file);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn json(file: &Path) -> Value {
    let out = dllgen(&["audit", "--json"], file);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn verdict(file: &str) -> String {
    let out = text(&fixture(file));
    out.lines().last().unwrap().to_string()
}

fn export<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["exports"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no export {name}"))
}

#[test]
fn verdicts_say_who_can_load_what() {
    let cases = [
        ("fx_cdecl.dll", "verdict: loadable by a 32-bit host: yes: an I386 PE32 DLL with 7 exports"),
        ("fx_cdecl64.dll", "verdict: loadable by a 32-bit host: no: Machine AMD64 (0x8664): a 64-bit image"),
        ("fx_managed.dll", "verdict: loadable by a 32-bit host: no: a .NET assembly (CLR header, runtime 2.5, IL only)"),
        ("fx_app.exe", "verdict: loadable by a 32-bit host: no: an executable (IMAGE_FILE_DLL is not set)"),
        ("libfx_cdecl32.so", "verdict: loadable by a 32-bit host: yes: an ELF32 386 (DYN) shared object with 5 exported functions"),
        ("libfx_cdecl64.so", "verdict: loadable by a 32-bit host: no: ELF64 X86_64 (DYN): a 64-bit object"),
    ];
    for (file, want) in cases {
        let got = verdict(file);
        assert!(got.starts_with(want), "{file}:\n got: {got}\nwant: {want}…");
    }
}

#[test]
fn header_facts() {
    let r = json(&fixture("fx_cdecl.dll"));
    assert_eq!(r["schema"], "dllgen-audit/1");
    assert_eq!(r["format"], "pe");
    assert_eq!(r["machine"], serde_json::json!({"value": 0x14c, "name": "I386"}));
    assert_eq!(r["kind"], "PE32");
    assert_eq!(r["is_dll"], true);
    assert!(r["characteristics"]["names"].as_array().unwrap().contains(&"DLL".into()));
    assert_eq!(r["subsystem"]["name"], "WINDOWS_CUI");
    assert!(r["dll_characteristics"]["names"].as_array().unwrap().contains(&"NX_COMPAT".into()));
    assert_eq!(r["verdict"]["loadable_by_32bit_host"], true);
    let r64 = json(&fixture("fx_cdecl64.dll"));
    assert_eq!((&r64["kind"], &r64["machine"]["value"]), (&"PE32+".into(), &0x8664.into()));
}

#[test]
fn decorated_names_give_convention_and_argument_bytes() {
    let r = json(&fixture("fx_stdcall.dll"));
    let d = |name: &str| export(&r, name)["decoration"].clone();
    assert_eq!(
        d("fx_add_std@8"),
        serde_json::json!({"scheme": "stdcall", "name": "fx_add_std", "arg_bytes": 8})
    );
    assert_eq!(
        d("fx_scale@12"),
        serde_json::json!({"scheme": "stdcall", "name": "fx_scale", "arg_bytes": 12})
    );
    assert_eq!(
        d("fx_sum_pair@12"),
        serde_json::json!({"scheme": "stdcall", "name": "fx_sum_pair", "arg_bytes": 12})
    );
    assert_eq!(
        d("fx_nothing@0"),
        serde_json::json!({"scheme": "stdcall", "name": "fx_nothing", "arg_bytes": 0})
    );
    assert_eq!(
        d("@fx_fast_add@8"),
        serde_json::json!({"scheme": "fastcall", "name": "fx_fast_add", "arg_bytes": 8})
    );
    assert_eq!(d("fx_plain"), Value::Null);
    // --kill-at strips the decoration: nothing left to read.
    let killed = json(&fixture("fx_stdcall_killat.dll"));
    assert_eq!(export(&killed, "fx_add_std")["decoration"], Value::Null);

    let cpp = json(&fixture("fx_cpp.dll"));
    assert_eq!(export(&cpp, "?twice@fx@@YAHH@Z")["decoration"]["scheme"], "msvc_cpp");
    assert_eq!(export(&cpp, "_ZN2fx5twiceEi")["decoration"]["scheme"], "itanium_cpp");
    assert_eq!(export(&cpp, "fx_c_entry")["decoration"], Value::Null);
    let t = text(&fixture("fx_cpp.dll"));
    assert!(t.contains("?twice@fx@@YAHH@Z  (C++ (MSVC mangling))"), "{t}");
}

#[test]
fn ordinals_noname_data_and_forwarders() {
    let r = json(&fixture("fx_ordinals.dll"));
    let dir = &r["exports"];
    assert_eq!(dir["dll_name"], "fx_ordinals_internal.dll", "the name inside the DLL, not the file name");
    assert_eq!(
        (&dir["ordinal_base"], &dir["number_of_functions"], &dir["number_of_names"]),
        (&5.into(), &8.into(), &3.into())
    );
    let entries = dir["entries"].as_array().unwrap();
    let summary: Vec<(u64, Option<&str>, &str)> = entries
        .iter()
        .map(|e| (e["ordinal"].as_u64().unwrap(), e["name"].as_str(), e["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [
            (5, Some("ord_named"), "code"),
            (6, None, "code"),
            (9, None, "code"),
            (10, Some("ord_alias"), "code"),
            (12, Some("ord_table"), "data")
        ]
    );
    assert_eq!(entries[1]["hint"], Value::Null);
    assert_eq!(
        export(&r, "ord_alias")["rva"],
        export(&r, "ord_named")["rva"],
        "an alias shares its function"
    );
    assert!(text(&fixture("fx_ordinals.dll")).contains("[NONAME]"));

    let cdecl = json(&fixture("fx_cdecl.dll"));
    assert_eq!(export(&cdecl, "fx_counter")["kind"], "data");
    assert_eq!(export(&cdecl, "fx_add")["kind"], "code");

    let fwd = json(&fixture("fx_forward.dll"));
    assert_eq!(export(&fwd, "fwd_tick")["forwarder"], "kernel32.GetTickCount");
    assert_eq!(export(&fwd, "fwd_add")["kind"], "forwarder");
    assert_eq!(export(&fwd, "fwd_local")["forwarder"], Value::Null);
    assert!(text(&fixture("fx_forward.dll")).contains("fwd_add  (-> fx_cdecl.fx_add)"));
}

#[test]
fn imports_by_name_ordinal_and_delay_load() {
    let r = json(&fixture("fx_importer.dll"));
    let ordinals = r["imports"].as_array().unwrap().iter().find(|d| d["dll"] == "fx_ordinals.dll").unwrap();
    assert_eq!(ordinals["functions"], serde_json::json!([{"name": null, "ordinal": 6, "hint": null}]));
    assert_eq!(r["delay_imports"][0]["dll"], "fx_cdecl.dll");
    assert_eq!(r["delay_imports"][0]["functions"][0]["name"], "fx_add");
    let t = text(&fixture("fx_importer.dll"));
    assert!(t.contains("delay-load imports: 1 function from 1 DLL"), "{t}");
    assert!(t.contains("    #6\n"), "{t}");
}

#[test]
fn every_json_key_is_documented() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/AUDIT-JSON.md")).unwrap();
    fn keys(v: &Value, out: &mut std::collections::BTreeSet<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    out.insert(k.clone());
                    keys(v, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }
    let mut all = std::collections::BTreeSet::new();
    for f in ["fx_importer.dll", "fx_forward.dll", "fx_stdcall.dll", "fx_managed.dll", "libfx_cdecl32.so"] {
        keys(&json(&fixture(f)), &mut all);
    }
    keys(&header_check("fx_stdcall.dll", "stdcall_wrong.h"), &mut all);
    let missing: Vec<_> = all.iter().filter(|k| !doc.contains(&format!("`{k}`"))).collect();
    assert!(missing.is_empty(), "keys missing from docs/AUDIT-JSON.md: {missing:?}");
}

/// Runs audit on `bytes` written to a temporary file; returns (exit code, stdout, stderr).
fn audit_bytes(name: &str, bytes: &[u8]) -> (Option<i32>, String, String) {
    let dir = std::env::temp_dir().join(format!("dllgen-audit-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let out = dllgen(&["audit"], &path);
    let _ = std::fs::remove_file(&path);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[track_caller]
fn assert_rejected(name: &str, bytes: &[u8], message: &str) {
    let (code, stdout, stderr) = audit_bytes(name, bytes);
    assert_eq!(code, Some(2), "{name}: {stderr}");
    assert_eq!(stdout, "", "{name}: nothing on stdout");
    assert_eq!(stderr.lines().count(), 1, "{name}: one line: {stderr}");
    assert!(
        stderr.starts_with("dllgen: error: ") && stderr.contains(name),
        "{name}: names the file: {stderr}"
    );
    assert!(stderr.contains(message), "{name}: expected {message:?} in {stderr:?}");
}

fn le32_at(bytes: &[u8], at: usize) -> usize {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize
}

/// File offset of fx_cdecl.dll's export directory (it is the start of .edata).
fn edata_offset(report: &Value) -> usize {
    let s = report["sections"].as_array().unwrap().iter().find(|s| s["name"] == ".edata").unwrap();
    s["file_offset"].as_u64().unwrap() as usize
}

#[test]
fn bad_input_gets_one_clear_line_and_exit_code_2() {
    assert_rejected("empty.dll", b"", "the file is empty");
    assert_rejected("notes.txt", b"hello, world\n", "not a PE or ELF file (it starts with bytes 68 65 6c 6c");
    assert_rejected(
        "dos.exe",
        &[b"MZ".as_slice(), &[0u8; 62]].concat(),
        "without a PE signature at offset 0x0",
    );
    assert_rejected(
        "short.dll",
        b"MZ\x90\x00",
        "truncated: the DOS header's e_lfanew field at file offset 0x3c",
    );
    assert_rejected("elf.so", b"\x7fELF\x01\x01\x01", "malformed ELF file");

    let good = std::fs::read(fixture("fx_cdecl.dll")).unwrap();
    let report = json(&fixture("fx_cdecl.dll"));
    let pe = le32_at(&good, 0x3c);
    let edata = edata_offset(&report);

    let mut far = good.clone();
    far[0x3c..0x40].copy_from_slice(&0x00ff_0000u32.to_le_bytes());
    assert_rejected("far.dll", &far, "truncated: the PE signature at file offset 0xff0000 needs 4 bytes");

    // Data directory 0 (exports) sits 96 bytes into the PE32 optional header.
    let mut bad_rva = good.clone();
    let dir0 = pe + 24 + 96;
    bad_rva[dir0..dir0 + 4].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
    assert_rejected(
        "rva.dll",
        &bad_rva,
        "the export directory at RVA 0x7fff0000 is not backed by any section",
    );

    let mut huge = good.clone();
    huge[edata + 20..edata + 24].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    assert_rejected("huge.dll", &huge, "the export address table claims 2147483647 entries; at most 65536");

    let mut names = good.clone();
    names[edata + 24..edata + 28].copy_from_slice(&0x0100_0000u32.to_le_bytes());
    assert_rejected("names.dll", &names, "the export name table claims 16777216 entries");

    // Point the first name's ordinal past the end of the address table.
    let mut slot = good.clone();
    let ordinals_rva = le32_at(&good, edata + 36);
    let edata_rva = report["sections"].as_array().unwrap().iter().find(|s| s["name"] == ".edata").unwrap()
        ["rva"]
        .as_u64()
        .unwrap() as usize;
    let at = edata + (ordinals_rva - edata_rva);
    slot[at..at + 2].copy_from_slice(&500u16.to_le_bytes());
    assert_rejected(
        "slot.dll",
        &slot,
        "export name #0 refers to export address table slot 500, but the table has 7 slots",
    );

    let (code, _, stderr) = {
        let out = dllgen(&["audit"], &std::env::temp_dir());
        (out.status.code(), (), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    assert_eq!(code, Some(2));
    assert!(stderr.contains("is a directory"), "{stderr}");
    let out = dllgen(&["audit"], Path::new("/nonexistent/x.dll"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/x.dll does not exist"));
}

/// Every prefix of a real DLL, and every header and export-table byte overwritten: the
/// reader returns a report or an error, never panics (fuzzing covers the rest).
#[test]
fn truncated_and_corrupted_images_never_panic() {
    for name in ["fx_cdecl.dll", "fx_importer.dll", "libfx_cdecl32.so"] {
        let good = std::fs::read(fixture(name)).unwrap();
        for len in (0..good.len()).filter(|l| *l < 8192 || l % 61 == 0) {
            let _ = dllgen::audit::audit(name, &good[..len]);
        }
        let report = dllgen::audit::audit(name, &good).unwrap();
        let mut regions = Vec::new();
        regions.push(0..1024.min(good.len()));
        if name.ends_with(".dll") {
            let edata = edata_offset(&serde_json::to_value(&report).unwrap());
            regions.push(edata..edata + 256);
        }
        for region in regions {
            for at in region {
                for value in [0x00, 0xff, 0x80, 0x7f] {
                    let mut bad = good.clone();
                    bad[at] = value;
                    if let Ok(r) = dllgen::audit::audit(name, &bad) {
                        let _ = dllgen::audit::text::render(&r);
                    }
                }
            }
        }
    }
}

fn fixture_source(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(name).display().to_string()
}

/// The `header_check` object of `audit --json --header`.
fn header_check(binary: &str, header: &str) -> Value {
    let out = dllgen(&["audit", "--json", "--header", &fixture_source(header)], &fixture(binary));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    report["header_check"].clone()
}

#[test]
fn header_cross_check_finds_missing_extra_and_disagreeing_declarations() {
    let clean = header_check("fx_stdcall.dll", "stdcall.h");
    assert_eq!(clean["target"], "windows32");
    assert_eq!(clean["matched"], 6);
    for list in ["exports_without_prototype", "prototypes_without_export", "cpp_exports", "mismatches"] {
        assert_eq!(clean[list], serde_json::json!([]), "{list}");
    }

    let wrong = header_check("fx_stdcall.dll", "stdcall_wrong.h");
    assert_eq!(wrong["matched"], 5);
    assert_eq!(wrong["exports_without_prototype"], serde_json::json!(["fx_nothing@0"]));
    assert_eq!(wrong["prototypes_without_export"], serde_json::json!(["fx_ghost", "fx_ghost_var"]));
    assert_eq!(
        wrong["mismatches"],
        serde_json::json!([
            {"export": "@fx_fast_add@8", "function": "fx_fast_add", "problem": "exported as fastcall but declared stdcall"},
            {"export": "fx_scale@12", "function": "fx_scale", "problem": "exported with 12 argument bytes but the prototype takes 8 on the 32-bit target"},
            {"export": "fx_sum_pair@12", "function": "fx_sum_pair", "problem": "exported as stdcall but declared cdecl"},
        ])
    );

    // ELF: parsed for i686 Linux; data exports match extern variables.
    let elf = header_check("libfx_cdecl32.so", "cdecl.h");
    assert_eq!((&elf["target"], &elf["matched"]), (&"linux32".into(), &7.into()));
    assert_eq!(elf["exports_without_prototype"], serde_json::json!([]));

    let cpp = header_check("fx_cpp.dll", "cdecl.h");
    assert_eq!(
        cpp["cpp_exports"],
        serde_json::json!(["?twice@fx@@YAHH@Z", "_ZN2fx5twiceEd", "_ZN2fx5twiceEi"])
    );

    let out = dllgen(&["audit", "--header", &fixture_source("stdcall_wrong.h")], &fixture("fx_stdcall.dll"));
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(
        t.contains("header check: ") && t.contains("fx_scale@12: exported with 12 argument bytes"),
        "{t}"
    );
}

#[test]
fn a_broken_header_is_reported_with_its_position() {
    let dir = std::env::temp_dir().join(format!("dllgen-audit-header-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.h");
    std::fs::write(&bad, "int ok(void);\nint broken(int a b);\n").unwrap();
    let out = dllgen(&["audit", "--header", &bad.display().to_string()], &fixture("fx_cdecl.dll"));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:2:18: error: expected ')'", bad.display())), "{err}");
}

#[test]
fn special_files_are_refused_before_reading() {
    let out = dllgen(&["audit"], Path::new("/dev/zero"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/dev/zero is a character device, not a regular file")
    );
}

#[test]
fn a_reader_that_goes_away_is_not_an_error() {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_dllgen"))
        .args(["audit"])
        .arg(fixture("fx_big.dll"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // like `| head` exiting at once
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A system DLL against `<windows.h>`: with `--system-headers` its exports match the
/// functions the system headers declare, and each prototype's convention agrees with what
/// the export's code pops (Wine's version.dll, fetched by tests/setup/libs.sh).
#[test]
fn a_system_dll_against_the_system_headers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dll = root.join("tests/real/win32/version.dll");
    assert!(dll.is_file(), "run tests/setup/setup.sh (it copies Wine's version.dll to {})", dll.display());
    let header = root.join("specs/win32.h").display().to_string();
    let check = |extra: &[&str]| -> Value {
        let mut args = vec!["audit", "--json", "--header", header.as_str()];
        args.extend_from_slice(extra);
        let out = dllgen(&args, &dll);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["header_check"].clone()
    };
    let own = check(&[]);
    assert_eq!(own["matched"], 0, "without it, only the header's own declarations count");
    let system = check(&["--system-headers"]);
    assert!(system["matched"].as_u64().unwrap() >= 14, "{system}");
    assert_eq!(system["mismatches"], Value::Array(Vec::new()), "stdcall prototypes, stdcall code");
}
