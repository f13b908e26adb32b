//! The header stage on the fixture headers, parsed by libclang for i686 Windows (mingw
//! headers) and i686 Linux: layouts, conventions, SAL, comments, and errors.

use dllgen::header::{self, CType, CallConv, Header, HeaderError, Options, Target, TypeDefKind};
use std::path::PathBuf;

fn fixtures_src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

fn try_parse(file: PathBuf, target: Target) -> Result<Header, HeaderError> {
    header::parse(&Options::new(vec![file], target))
}

fn parse(file: &str, target: Target) -> Header {
    try_parse(fixtures_src().join(file), target).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn sal(h: &Header, function: &str, param: &str) -> Vec<(String, Vec<String>)> {
    let f = h.function(function).unwrap();
    let p = f.params.iter().find(|p| p.name == param).unwrap();
    p.sal.iter().map(|s| (s.name.clone(), s.args.clone())).collect()
}

fn fields(h: &Header, ty: &str) -> Vec<(String, u64, Option<u32>)> {
    match &h.types[ty].kind {
        TypeDefKind::Struct { fields } | TypeDefKind::Union { fields } => {
            fields.iter().map(|f| (f.name.clone(), f.offset_bits, f.bit_width)).collect()
        }
        other => panic!("{ty} is {other:?}"),
    }
}

fn named(name: &str) -> CType {
    CType::Named { name: name.into() }
}

#[test]
fn layouts_come_from_clang_for_each_32bit_target() {
    let win = parse("kinds.h", Target::Windows32);
    let lin = parse("kinds.h", Target::Linux32);
    // uint64_t and double are 8-aligned on Windows, 4-aligned in the i386 System V ABI.
    assert_eq!((win.types["struct kx_info"].size, win.types["struct kx_info"].align), (Some(56), Some(8)));
    assert_eq!((lin.types["struct kx_info"].size, lin.types["struct kx_info"].align), (Some(52), Some(4)));
    let f = fields(&win, "struct kx_info");
    assert_eq!(f[..3], [("name".into(), 0, None), ("serial".into(), 128, None), ("gain".into(), 192, None)]);
    assert_eq!(f[5..7], [("flags".into(), 352, Some(3)), ("mode".into(), 355, Some(5))]);
    assert_eq!(f[7].0, "value");
    // Anonymous members get a stable name: kind, file name, line and column.
    let unions: Vec<&String> =
        win.types.keys().filter(|k| k.starts_with("union (anonymous at kinds.h:")).collect();
    assert_eq!(unions.len(), 2, "kx_info's and kx_value's");
    let union = unions.iter().find(|u| fields(&win, u)[0].0 == "as_int").unwrap();
    assert_eq!(fields(&win, union), [("as_int".into(), 0, None), ("as_float".into(), 0, None)]);
    // An anonymous struct takes its typedef's name; its fields keep their comments.
    assert_eq!(fields(&win, "kx_point"), [("x".into(), 0, None), ("y".into(), 32, None)]);
    let TypeDefKind::Struct { fields: point } = &win.types["kx_point"].kind else { panic!() };
    assert_eq!(point[0].doc.as_deref(), Some("column"));
    assert_eq!(win.types["kx_point"].doc.as_deref(), Some("A point on the device's grid."));
    assert!(matches!(win.types["struct kx_device"].kind, TypeDefKind::Opaque));
    let TypeDefKind::Enum { constants, .. } = &win.types["enum kx_status"].kind else { panic!() };
    assert_eq!(constants[1], ("KX_ERR_ARG".into(), -1));
}

#[test]
fn functions_conventions_and_flags() {
    let win = parse("kinds.h", Target::Windows32);
    let lin = parse("kinds.h", Target::Linux32);
    assert_eq!(win.function("kx_open").unwrap().convention, CallConv::Stdcall);
    assert_eq!(lin.function("kx_open").unwrap().convention, CallConv::Cdecl);
    assert_eq!(win.function("kx_error_text").unwrap().convention, CallConv::Cdecl);
    assert!(win.function("kx_log").unwrap().variadic);
    assert!(!win.function("kx_legacy").unwrap().prototyped);
    assert!(win.function("kx_helper").is_none(), "static inline functions are not exported");
    assert_eq!(win.variables.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), ["kx_verbosity"]);
    let open = win.function("kx_open").unwrap();
    assert_eq!(open.doc.as_deref(), Some("Opens the device at `path`."));
    assert_eq!(open.ret, named("kx_status"));
    assert_eq!(win.function("kx_close").unwrap().doc.as_deref(), Some("Closes a device."));
    let out = &open.params[1];
    assert_eq!(
        out.ty,
        CType::Pointer {
            pointee: Box::new(CType::Pointer { pointee: Box::new(named("kx_device")), const_pointee: false }),
            const_pointee: false
        }
    );
    let TypeDefKind::Typedef { target: CType::Pointer { pointee, .. } } = &win.types["kx_progress_fn"].kind
    else {
        panic!()
    };
    let CType::Function(sig) = pointee.as_ref() else { panic!("{pointee:?}") };
    assert_eq!(sig.params.len(), 2);
    assert_eq!(sig.ret, CType::Int { bytes: 4, signed: true });
}

#[test]
fn sal_annotations_are_read_from_the_tokens() {
    let h = parse("kinds.h", Target::Windows32);
    let s = |n: &str, a: &[&str]| vec![(n.to_string(), a.iter().map(|a| a.to_string()).collect::<Vec<_>>())];
    assert_eq!(sal(&h, "kx_open", "path"), s("_In_z_", &[]));
    assert_eq!(sal(&h, "kx_open", "out"), s("_Outptr_", &[]));
    assert_eq!(sal(&h, "kx_read", "buf"), s("_Out_writes_to_", &["cap", "*got"]));
    assert_eq!(sal(&h, "kx_read", "cap"), vec![]);
    assert_eq!(sal(&h, "kx_read", "got"), s("_Out_", &[]));
    assert_eq!(sal(&h, "kx_write", "data"), s("_In_reads_bytes_", &["len"]));
    assert_eq!(sal(&h, "kx_sum_points", "pts"), s("_In_reads_", &["n"]));
    let ret = |f: &str| {
        h.function(f).unwrap().ret_sal.iter().map(|s| (s.name.clone(), s.args.clone())).collect::<Vec<_>>()
    };
    assert_eq!(ret("kx_error_text"), s("_Ret_z_", &[]));
    assert_eq!(ret("kx_info_get"), s("_Success_", &["return == 0"]));
    assert_eq!(ret("kx_open"), vec![]);
}

#[test]
fn windows_headers_resolve_with_mingw() {
    let h = parse("winapi.h", Target::Windows32);
    let read = h.function("WxReadBlock").unwrap();
    assert_eq!(read.convention, CallConv::Stdcall);
    assert_eq!(
        read.params.iter().map(|p| p.ty.clone()).collect::<Vec<_>>(),
        ["HANDLE", "LPVOID", "DWORD", "LPDWORD"].map(named)
    );
    assert_eq!(read.stack_bytes(), Some(16));
    assert_eq!(h.function("WxTicks").unwrap().stack_bytes(), Some(8));
    assert_eq!(h.types["RECT"].size, Some(16));
    assert_eq!(
        h.resolve(&named("LPCWSTR")),
        &CType::Pointer { pointee: Box::new(named("WCHAR")), const_pointee: true }
    );
    assert_eq!(h.resolve(&named("WCHAR")), &CType::Int { bytes: 2, signed: false });
    assert_eq!(
        sal(&h, "WxReadBlock", "buffer"),
        vec![("_Out_writes_bytes_".to_string(), vec!["cb".to_string()])]
    );
    // Functions from <windows.h> itself are system declarations, not the library's.
    assert!(h.function("CreateFileA").is_none());
}

#[test]
fn stack_bytes_follow_the_stdcall_rules() {
    let h = parse("stdcall.h", Target::Windows32);
    let bytes = |f: &str| h.function(f).unwrap().stack_bytes();
    assert_eq!(bytes("fx_add_std"), Some(8));
    assert_eq!(bytes("fx_scale"), Some(12));
    assert_eq!(bytes("fx_nothing"), Some(0));
    assert_eq!(bytes("fx_sum_pair"), Some(12), "a 12-byte struct by value");
    assert_eq!(h.function("fx_fast_add").unwrap().convention, CallConv::Fastcall);
}

#[test]
fn header_errors_name_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("dllgen-header-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.h");
    std::fs::write(&bad, "int ok(int a);\nint broken(int a b);\n").unwrap();
    let Err(HeaderError::Diagnostics(errors)) = try_parse(bad.clone(), Target::Linux32) else { panic!() };
    assert!(
        errors.0[0].to_string().starts_with(&format!("{}:2:18: error: expected ')'", bad.display())),
        "{errors:?}"
    );
    let missing = dir.join("missing.h");
    let err = try_parse(missing.clone(), Target::Linux32).unwrap_err();
    assert_eq!(err.to_string(), format!("{} does not exist", missing.display()));
}

#[test]
fn macros_and_enum_constants_get_the_values_clang_gives_them() {
    use dllgen::header::ConstValue;
    let h = parse("constants.h", Target::Linux32);
    let get = |name: &str| h.constants.iter().find(|c| c.name == name).map(|c| c.value.clone());
    let int =
        |name: &str| get(name).and_then(|v| v.int()).unwrap_or_else(|| panic!("{name}: {:?}", get(name)));
    assert_eq!(int("CX_OK"), 0);
    assert_eq!(int("CX_ERR"), -3);
    assert_eq!(int("CX_MASK"), 0xFFFF_FFFF);
    assert_eq!(int("CX_BIG"), 0x1_2345_6789);
    assert_eq!(int("CX_LONG"), 100_000);
    assert_eq!(int("CX_SHIFTED"), 16);
    assert_eq!(int("CX_CHAR"), 65);
    assert_eq!(int("CX_VERSION_NUM"), 0x12d0);
    // sizeof for the 32-bit target: double is 4-aligned on i386 System V.
    assert_eq!(int("CX_SIZE"), 12);
    assert_eq!(get("CX_MASK"), Some(ConstValue::Int { bits: 0xFFFF_FFFF, bytes: 4, signed: false }));
    assert!(matches!(get("CX_BIG"), Some(ConstValue::Int { bytes: 8, signed: true, .. })));
    // `long` is 32-bit on the target.
    assert!(matches!(get("CX_LONG"), Some(ConstValue::Int { bytes: 4, signed: true, .. })));
    assert_eq!(get("CX_RATIO"), Some(ConstValue::Float { value: 0.5, bytes: 8 }));
    assert_eq!(get("CX_VERSION"), Some(ConstValue::Str { bytes: b"cx-1.2.13".to_vec() }));
    assert_eq!(get("CX_STATIC"), Some(ConstValue::Pointer { address: 0 }));
    assert_eq!(get("CX_TRANSIENT"), Some(ConstValue::Pointer { address: 0xFFFF_FFFF }));
    assert_eq!(int("CX_BOTH"), 3);
    assert_eq!(int("CX_ANON"), -7);
    assert_eq!(int("CX_HUGE"), 0xF000_0000);
    // Not constants: empty, keywords, function-like, unbalanced, blocks, calls.
    for name in ["CX_API", "CX_EXTERN", "CX_LOCAL", "CX_MAX", "CX_OPEN", "CX_BLOCK", "CX_CALL", "CONSTANTS_H"]
    {
        assert_eq!(get(name), None, "{name}");
    }
    // Nothing from system headers or the SAL prelude.
    assert!(h.constants.iter().all(|c| c.name.starts_with("CX_")), "{:?}", h.constants);
}

#[test]
fn spec_expressions_are_evaluated_after_the_headers_or_say_why_not() {
    use dllgen::header::ConstValue;
    let mut options = Options::new(vec![fixtures_src().join("constants.h")], Target::Windows32);
    options.expressions =
        ["sizeof(struct cx_pair)", "CX_VERSION", "no_such_thing", "CX_TRANSIENT"].map(String::from).to_vec();
    let h = header::parse(&options).unwrap();
    // mingw i686: double is 8-aligned in structs.
    assert_eq!(h.expressions["sizeof(struct cx_pair)"].as_ref().unwrap().int(), Some(16));
    assert_eq!(h.expressions["CX_VERSION"], Ok(ConstValue::Str { bytes: b"cx-1.2.13".to_vec() }));
    assert_eq!(h.expressions["CX_TRANSIENT"], Ok(ConstValue::Pointer { address: 0xFFFF_FFFF }));
    let why = h.expressions["no_such_thing"].as_ref().unwrap_err();
    assert!(why.contains("no_such_thing"), "{why}");
}

#[test]
fn system_headers_give_functions_and_the_constants_named_only_when_asked() {
    let file = fixtures_src().join("winapi.h");
    let plain = header::parse(&Options::new(vec![file.clone()], Target::Windows32)).unwrap();
    assert!(plain.function("CloseHandle").is_none(), "not from <windows.h> by default");
    assert!(plain.constants.iter().all(|c| c.name != "INVALID_HANDLE_VALUE"));
    let mut options = Options::new(vec![file], Target::Windows32);
    options.system = true;
    options.constants = (vec!["INVALID_HANDLE_VALUE".into(), "GENERIC_*".into()], vec!["GENERIC_ALL".into()]);
    let h = header::parse(&options).unwrap();
    assert!(h.function("CloseHandle").is_some());
    let names: Vec<&str> = h.constants.iter().map(|c| c.name.as_str()).collect();
    assert!(names.contains(&"INVALID_HANDLE_VALUE") && names.contains(&"GENERIC_READ"), "{names:?}");
    assert!(!names.contains(&"GENERIC_ALL") && !names.contains(&"MAX_PATH"), "{names:?}");
}

#[test]
fn comments_after_declarations_and_names_from_another_declaration() {
    let h = parse("trailing.h", Target::Linux32);
    let doc = |f: &str| h.function(f).unwrap().doc.clone();
    assert_eq!(doc("t_a").as_deref(), Some("t_a's doc, after it (zlib's style)."));
    assert_eq!(doc("t_b").as_deref(), Some("t_b's doc, before it."));
    assert_eq!(doc("t_c").as_deref(), Some("t_c's, on its line"));
    assert_eq!(doc("t_d"), None, "a comment followed by code is the next declaration's");
    let names: Vec<&str> = h.function("t_e").unwrap().params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["named", "arg1"]);
}

#[test]
fn a_prelude_supplies_the_types_a_vendor_header_does_not_include() {
    let file = fixtures_src().join("prelude.h");
    let Err(HeaderError::Diagnostics(d)) = try_parse(file.clone(), Target::Windows32) else {
        panic!("DWORD is unknown without <windows.h>");
    };
    assert!(d.to_string().contains("DWORD"), "{d}");
    let mut options = Options::new(vec![file], Target::Windows32);
    options.prelude = vec!["windows.h".into()];
    let h = header::parse(&options).unwrap();
    let f = h.function("pr_ticks").unwrap();
    assert_eq!(f.convention, CallConv::Stdcall);
    assert_eq!(f.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["device", "out"]);
    assert!(h.function("CloseHandle").is_none(), "the prelude's own functions are system ones");
}

/// Static assertions of every named struct's size, alignment and field offsets as clang
/// laid them out in `h`, for a C compiler to check.
fn layout_assertions(h: &Header) -> (String, usize) {
    let mut out = String::from("#include <stddef.h>\n#include \"kinds.h\"\n");
    let mut n = 0;
    for (name, t) in &h.types {
        let (TypeDefKind::Struct { fields }, Some(size), Some(align)) = (&t.kind, t.size, t.align) else {
            continue;
        };
        // Anonymous members, and the compiler's own types (`struct __va_list_tag`).
        let own = name.trim_start_matches("struct ").starts_with("__");
        if own || name.contains("(anonymous") || name.contains(' ') && !name.starts_with("struct ") {
            continue;
        }
        out.push_str(&format!(
            "_Static_assert(sizeof({name}) == {size} && _Alignof({name}) == {align}, \"{name}\");\n"
        ));
        n += 1;
        for f in fields.iter().filter(|f| f.bit_width.is_none() && !f.name.starts_with("__anon")) {
            out.push_str(&format!(
                "_Static_assert(offsetof({name}, {}) == {}, \"{name}.{}\");\n",
                f.name,
                f.offset_bits / 8,
                f.name
            ));
        }
    }
    (out, n)
}

/// The 64-bit targets: what a 64-bit program compiled against the same header sees (the
/// proxy library's side). `long` is 64 bits on LP64 Linux and 32 on LLP64 Windows, pointers
/// are 8 bytes, and every struct of the fixtures is laid out as that target's own C compiler
/// lays it out (gcc for x86_64 Linux, mingw-w64 for x86_64 Windows, checking static
/// assertions made from clang's layouts).
#[test]
fn the_64bit_targets_lay_out_what_a_64bit_caller_sees() {
    let dir = std::env::temp_dir().join(format!("dllgen-abi64-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let abi = dir.join("abi.h");
    std::fs::write(
        &abi,
        "typedef struct abi_s { char c; long l; void *p; unsigned long ul; short s; } abi_s;\nlong abi_f(long a, unsigned long *b, const abi_s *s);\n",
    )
    .unwrap();
    for (target, compiler, long, size) in
        [(Target::Linux64, "gcc", 8, 40), (Target::Windows64, "x86_64-w64-mingw32-gcc", 4, 24)]
    {
        let h = try_parse(abi.clone(), target).unwrap_or_else(|e| panic!("{target:?}: {e}"));
        let f = h.function("abi_f").unwrap();
        assert_eq!(h.resolve(&f.params[0].ty), &CType::Int { bytes: long, signed: true }, "{target:?}: long");
        assert_eq!(f.params[1].size, Some(8), "{target:?}: a pointer");
        let s = &h.types["struct abi_s"];
        assert_eq!((s.size, s.align), (Some(size), Some(8)), "{target:?}");

        let kinds = parse("kinds.h", target);
        let (asserts, structs) = layout_assertions(&kinds);
        assert!(structs > 10, "{target:?}: the fixture's structs ({structs})");
        let mut child = std::process::Command::new(compiler)
            .args(["-std=c11", "-fsyntax-only", "-x", "c", "-", "-I"])
            .arg(fixtures_src())
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{compiler}: {e}"));
        use std::io::Write;
        child.stdin.take().unwrap().write_all(asserts.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{compiler} disagrees with clang's {target:?} layouts:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
