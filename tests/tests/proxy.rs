//! End to end: the proxy library (generated/demo-proxy), a 64-bit `libdemo.so` that runs
//! every call in the 32-bit library through its host. A C program written against the
//! demo's header is compiled twice, linked with the library's own 64-bit build and with
//! the proxy; both runs must print the same, byte for byte.

use dllgen_tests::{build_bin, build_cdylib, demo_library, run, workspace_root, Output, Wine};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const TARGET64: &str = "x86_64-unknown-linux-gnu";

/// An empty folder of this test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dllgen-proxy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A folder holding proxy `name` as a program would find it installed: `lib<name>.so`,
/// its soname `lib<name>.so.<version>`, and the host beside them.
fn install(dir: &Path, spec: &str, name: &str, version: &str) -> PathBuf {
    let lib = dir.join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    let file = format!("lib{name}.so");
    std::fs::copy(build_cdylib(&format!("{spec}-proxy"), &file, TARGET64), lib.join(&file)).unwrap();
    std::os::unix::fs::symlink(&file, lib.join(format!("{file}.{version}"))).unwrap();
    let host = format!("{spec}-host");
    std::fs::copy(build_bin(&host, &host, "i686-unknown-linux-gnu"), lib.join(&host)).unwrap();
    lib
}

fn installed_proxy(dir: &Path) -> PathBuf {
    install(dir, "demo", "demo", "1")
}

/// `tests/proxy/<source>` compiled 64-bit and linked with `-ldemo` from `lib`.
fn compile(source: &str, lib: &Path, exe: &Path) {
    compile_with(source, &workspace_root().join("examples/demo"), "demo", lib, exe)
}

/// `tests/proxy/<source>` compiled 64-bit with the headers in `include`, linked with
/// `-l<name>` from `lib`.
fn compile_with(source: &str, include: &Path, name: &str, lib: &Path, exe: &Path) {
    let out = run(
        Command::new("gcc")
            .args(["-Wall", "-Werror", "-O1", "-I"])
            .arg(include)
            .arg(workspace_root().join("tests/proxy").join(source))
            .arg("-L")
            .arg(lib)
            .arg(format!("-l{name}"))
            .arg("-lpthread")
            .arg(format!("-Wl,-rpath,{}", lib.display()))
            .arg("-o")
            .arg(exe),
        Duration::from_secs(60),
    );
    assert_eq!(out.code, Some(0), "gcc failed:\n{}", out.stderr);
}

/// Runs `cmd` with the 32-bit libraries the hosts load named, and nothing else pointing
/// at a host or a library: cargo's LD_LIBRARY_PATH names target/debug, where the workspace
/// build leaves a `libdemo.so` too, so each program finds its library through its own run
/// path (or the path it is given) only.
fn run_program(cmd: &mut Command) -> Output {
    run_with(cmd, &[])
}

/// [`run_program`] with `envs` set too.
fn run_with(cmd: &mut Command, envs: &[(&str, &Path)]) -> Output {
    let real = workspace_root().join("tests/real");
    cmd.env("DEMO_LIBRARY", demo_library().join("libdemo32.so"))
        .env("ZLIB_LIBRARY", real.join("zlib/i386/libz.so.1"))
        .env("SQLITE3_LIBRARY", real.join("sqlite3/i386/libsqlite3.so.0"))
        .env_remove("DEMO_HOST")
        .env_remove("ZLIB_HOST")
        .env_remove("SQLITE3_HOST")
        .env_remove("LD_LIBRARY_PATH");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    run(cmd, Duration::from_secs(60))
}

fn run_demo(exe: &Path, envs: &[(&str, &Path)]) -> Output {
    run_with(&mut Command::new(exe), envs)
}

#[test]
fn a_c_program_prints_the_same_through_the_proxy() {
    let tmp = scratch("same");
    let native = tmp.join("native");
    std::fs::create_dir_all(&native).unwrap();
    std::fs::copy(demo_library().join("libdemo64.so"), native.join("libdemo.so")).unwrap();
    let proxied = installed_proxy(&tmp);
    let (a, b) = (tmp.join("demo-native"), tmp.join("demo-proxied"));
    compile("demo.c", &native, &a);
    compile("demo.c", &proxied, &b);
    let expected = run_demo(&a, &[]);
    assert_eq!(expected.code, Some(0), "{}", expected.stderr);
    assert!(expected.stdout.contains("calibrate -4 after 3 calls"), "{}", expected.stdout);
    // The executable is not beside the host: the proxy finds it beside itself.
    let got = run_demo(&b, &[]);
    assert_eq!(got.code, Some(0), "{}", got.stderr);
    assert_eq!(got.stdout, expected.stdout);
    // The program really ran through the 32-bit host: the proxy exports the library's
    // functions and not a line of the library itself.
    let nm = run(
        Command::new("nm").args(["-D", "--defined-only"]).arg(proxied.join("libdemo.so")),
        Duration::from_secs(30),
    );
    assert!(
        nm.stdout.contains(" T demo_calibrate") && nm.stdout.contains(" T dllgen_last_error_message"),
        "{}",
        nm.stdout
    );
}

/// With the `embed-host` feature the proxy carries its host: a folder holding the proxy
/// and the 32-bit library only serves the same program, the host written to the user's
/// cache on first use.
#[test]
fn a_proxy_carrying_its_host_needs_only_the_32_bit_library_beside_it() {
    let tmp = scratch("embedded");
    let native = tmp.join("native");
    std::fs::create_dir_all(&native).unwrap();
    std::fs::copy(demo_library().join("libdemo64.so"), native.join("libdemo.so")).unwrap();
    let lib = tmp.join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    let proxy = dllgen_tests::build_cdylib_embedded("demo-proxy", "libdemo.so", TARGET64);
    std::fs::copy(proxy, lib.join("libdemo.so")).unwrap();
    std::os::unix::fs::symlink("libdemo.so", lib.join("libdemo.so.1")).unwrap();
    std::fs::copy(demo_library().join("libdemo32.so"), lib.join("libdemo32.so")).unwrap();
    let (a, b) = (tmp.join("demo-native"), tmp.join("demo-proxied"));
    compile("demo.c", &native, &a);
    compile("demo.c", &lib, &b);
    let expected = run_demo(&a, &[]);
    assert_eq!(expected.code, Some(0), "{}", expected.stderr);
    let cache = tmp.join("cache");
    let mut cmd = Command::new(&b);
    cmd.env("XDG_CACHE_HOME", &cache)
        .env_remove("DLLGEN_CACHE")
        .env_remove("DEMO_LIBRARY")
        .env_remove("DEMO_HOST")
        .env_remove("LD_LIBRARY_PATH");
    let got = run(&mut cmd, Duration::from_secs(60));
    assert_eq!(got.code, Some(0), "{}", got.stderr);
    assert_eq!(got.stdout, expected.stdout);
    let hosts: Vec<PathBuf> = std::fs::read_dir(cache.join("dllgen"))
        .unwrap()
        .map(|e| e.unwrap().path().join("demo-host"))
        .filter(|p| p.is_file())
        .collect();
    assert_eq!(hosts.len(), 1, "the host in the cache: {hosts:?}");
}

#[test]
fn without_a_host_calls_fail_as_the_library_would_and_say_why() {
    let tmp = scratch("nohost");
    let proxied = installed_proxy(&tmp);
    std::fs::remove_file(proxied.join("demo-host")).unwrap();
    let exe = tmp.join("nohost");
    compile("nohost.c", &proxied, &exe);
    let out = run_demo(&exe, &[("DEMO_HOST", &tmp.join("missing-host"))]);
    // demo_open fails with its rule's value (-1, negative) and errno untouched (its rule
    // reads the return value); demo_fail's rule reads errno: EIO. demo_add has no value
    // that says it failed: the process stops with the reason.
    assert!(out.stdout.contains("open -1 untouched\n"), "{}", out.stdout);
    assert!(
        out.stdout.contains("message demo_open: the 32-bit host was not found: tried "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("missing-host (from DEMO_HOST)"), "{}", out.stdout);
    assert!(out.stdout.contains("fail -1 errno 5\n"), "{}", out.stdout);
    assert!(!out.stdout.contains("add"), "{}", out.stdout);
    assert_eq!(out.code, None, "stopped by SIGABRT: {}", out.stderr);
    assert!(
        out.stderr.contains("demo_add has no return value that tells its caller it failed"),
        "{}",
        out.stderr
    );
    // The host is found through the environment variable when it is not beside the proxy.
    let elsewhere = tmp.join("bin");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::copy(build_bin("demo-host", "demo-host", "i686-unknown-linux-gnu"), elsewhere.join("demo-host"))
        .unwrap();
    let out = run_demo(&exe, &[("DEMO_HOST", &elsewhere.join("demo-host"))]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("open -2 untouched\nmessage demo_open: the library reported error -2\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("fail -1 errno 42\n") && out.stdout.contains("add 5\n"), "{}", out.stdout);
}

#[test]
fn a_zlib_program_streams_through_the_proxy_as_with_debians_64_bit_zlib() {
    let real = workspace_root().join("tests/real/zlib");
    let tmp = scratch("zlib");
    let native = native(&tmp, "z", "1", &real.join("amd64/libz.so.1"));
    let proxied = install(&tmp, "zlib", "z", "1");
    let (a, b) = (tmp.join("zlib-native"), tmp.join("zlib-proxied"));
    compile_with("zlib.c", &real.join("include"), "z", &native, &a);
    compile_with("zlib.c", &real.join("include"), "z", &proxied, &b);
    let run_zlib = |exe: &Path, gz: &Path| run_program(Command::new(exe).arg(gz));
    let expected = run_zlib(&a, &tmp.join("native.gz"));
    assert_eq!(expected.code, Some(0), "{}", expected.stderr);
    assert!(
        expected.stdout.contains("inflated 200000 same 1") && expected.stdout.ends_with("done\n"),
        "{}",
        expected.stdout
    );
    let got = run_zlib(&b, &tmp.join("proxied.gz"));
    assert_eq!(got.code, Some(0), "{}", got.stderr);
    assert_eq!(got.stdout, expected.stdout);
    assert_eq!(
        std::fs::read(tmp.join("proxied.gz")).unwrap(),
        std::fs::read(tmp.join("native.gz")).unwrap(),
        "the same gzip file"
    );
}

/// Links `lib<name>.so` and its soname `lib<name>.so.<version>` in `dir` to Debian's
/// 64-bit build at `real`.
fn native(dir: &Path, name: &str, version: &str, real: &Path) -> PathBuf {
    let native = dir.join("native");
    std::fs::create_dir_all(&native).unwrap();
    std::os::unix::fs::symlink(real, native.join(format!("lib{name}.so"))).unwrap();
    std::os::unix::fs::symlink(real, native.join(format!("lib{name}.so.{version}"))).unwrap();
    native
}

#[test]
fn a_sqlite3_program_queries_through_the_proxy_as_with_debians_64_bit_sqlite3() {
    let real = workspace_root().join("tests/real/sqlite3");
    let tmp = scratch("sqlite3");
    let native = native(&tmp, "sqlite3", "0", &real.join("amd64/libsqlite3.so.0"));
    let proxied = install(&tmp, "sqlite3", "sqlite3", "0");
    let (a, b) = (tmp.join("sqlite3-native"), tmp.join("sqlite3-proxied"));
    compile_with("sqlite3.c", &real.join("include"), "sqlite3", &native, &a);
    compile_with("sqlite3.c", &real.join("include"), "sqlite3", &proxied, &b);
    let run_sqlite3 = |exe: &Path| run_program(&mut Command::new(exe));
    let expected = run_sqlite3(&a);
    assert_eq!(expected.code, Some(0), "{}", expected.stderr);
    assert!(expected.stdout.contains("exec 4 after 3 rows err query aborted"), "{}", expected.stdout);
    let got = run_sqlite3(&b);
    assert_eq!(got.code, Some(0), "{}", got.stderr);
    assert_eq!(got.stdout, expected.stdout);
}

#[test]
fn a_program_loading_the_proxy_at_run_time_resolves_the_same_functions() {
    let tmp = scratch("dlopen");
    let proxied = installed_proxy(&tmp);
    let exe = tmp.join("dlopen");
    let out = run(
        Command::new("gcc")
            .args(["-Wall", "-Werror", "-O1"])
            .arg(workspace_root().join("tests/proxy/dlopen.c"))
            .arg("-o")
            .arg(&exe),
        Duration::from_secs(60),
    );
    assert_eq!(out.code, Some(0), "gcc failed:\n{}", out.stderr);
    let expected = run_program(Command::new(&exe).arg(demo_library().join("libdemo64.so")));
    assert_eq!(expected.code, Some(0), "{}", expected.stdout);
    assert!(expected.stdout.contains("read 0 6 plugin"), "{}", expected.stdout);
    let got = run_program(Command::new(&exe).arg(proxied.join("libdemo.so.1")));
    assert_eq!(got.code, Some(0), "{}", got.stderr);
    assert_eq!(got.stdout, expected.stdout);
}

#[test]
fn python_ctypes_gets_what_it_gets_from_debians_64_bit_libraries() {
    let tmp = scratch("ctypes");
    let zlib = install(&tmp.join("zlib"), "zlib", "z", "1");
    let sqlite3 = install(&tmp.join("sqlite3"), "sqlite3", "sqlite3", "0");
    let script = workspace_root().join("tests/proxy/ctypes_check.py");
    let real = workspace_root().join("tests/real");
    let python = |z: &Path, s: &Path| {
        let mut cmd = Command::new("python3");
        cmd.arg(&script).arg(z).arg(s);
        run_program(&mut cmd)
    };
    let expected = python(&real.join("zlib/amd64/libz.so.1"), &real.join("sqlite3/amd64/libsqlite3.so.0"));
    assert_eq!(expected.code, Some(0), "{}", expected.stderr);
    assert!(expected.stdout.contains("row (('k', 'b'), ('v', None), ('w', None))"), "{}", expected.stdout);
    let got = python(&zlib.join("libz.so.1"), &sqlite3.join("libsqlite3.so.0"));
    assert_eq!(got.code, Some(0), "{}", got.stderr);
    assert_eq!(got.stdout, expected.stdout);
}

/// `tests/proxy/<source>` compiled as an x86_64 Windows program with the headers in
/// `include`, linked with `libs` (a DLL itself, or `-L`/`-l` flags for an import library).
fn compile_windows(source: &str, include: &Path, libs: &[&std::ffi::OsStr], exe: &Path) {
    let out = run(
        Command::new("x86_64-w64-mingw32-gcc")
            .args(["-Wall", "-Werror", "-O1", "-I"])
            .arg(include)
            .arg(workspace_root().join("tests/proxy").join(source))
            .args(libs)
            .arg("-o")
            .arg(exe),
        Duration::from_secs(60),
    );
    assert_eq!(out.code, Some(0), "x86_64-w64-mingw32-gcc failed:\n{}", out.stderr);
}

/// A folder holding Windows proxy `dll` of spec `spec` with its 32-bit host beside it,
/// and an import library `lib<link>.dll.a` made from the generated `.def` file (in `dir`).
fn install_windows(dir: &Path, spec: &str, dll: &str, link: &str) -> PathBuf {
    let bin = dir.join("proxy");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(build_cdylib(&format!("{spec}-proxy"), dll, "x86_64-pc-windows-gnu"), bin.join(dll))
        .unwrap();
    let host = format!("{spec}-host");
    std::fs::copy(build_bin(&host, &host, "i686-pc-windows-gnu"), bin.join(format!("{host}.exe"))).unwrap();
    let def =
        workspace_root().join("generated").join(format!("{spec}-proxy")).join(dll.replace(".dll", ".def"));
    let out = run(
        Command::new("x86_64-w64-mingw32-dlltool")
            .arg("-d")
            .arg(&def)
            .arg("-l")
            .arg(dir.join(format!("lib{link}.dll.a"))),
        Duration::from_secs(60),
    );
    assert_eq!(out.code, Some(0), "dlltool failed:\n{}", out.stderr);
    bin
}

fn run_wine(exe: &Path, args: &[String], envs: &[(&str, String)]) -> Output {
    let mut cmd = Wine::get().command(exe);
    cmd.args(args).env_remove("DEMO_WIN_HOST").env_remove("ZLIB_WIN_HOST");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    run(&mut cmd, Duration::from_secs(120))
}

#[test]
fn under_wine_a_windows_c_program_prints_the_same_through_the_proxy_dll() {
    let tmp = scratch("wine-demo");
    let build = demo_library();
    let native = tmp.join("native");
    std::fs::create_dir_all(&native).unwrap();
    std::fs::copy(build.join("demo64.dll"), native.join("demo64.dll")).unwrap();
    let include = workspace_root().join("examples/demo");
    compile_windows("demo.c", &include, &[native.join("demo64.dll").as_os_str()], &native.join("demo.exe"));
    let proxied = install_windows(&tmp, "demo-win", "demo.dll", "demo");
    let flags = [std::ffi::OsString::from("-L"), tmp.clone().into_os_string(), "-ldemo".into()];
    let flags: Vec<&std::ffi::OsStr> = flags.iter().map(|f| f.as_os_str()).collect();
    compile_windows("demo.c", &include, &flags, &proxied.join("demo.exe"));
    let expected = run_wine(&native.join("demo.exe"), &[], &[]);
    assert_eq!(expected.code, Some(0), "{}", expected.stderr);
    assert!(expected.stdout.contains("calibrate -4 after 3 calls"), "{}", expected.stdout);
    let library = ("DEMO_WIN_LIBRARY", Wine::path(&build.join("demo32.dll")));
    let got = run_wine(&proxied.join("demo.exe"), &[], &[library]);
    assert_eq!(got.code, Some(0), "{}", got.stderr);
    assert_eq!(got.stdout, expected.stdout);
}

#[test]
fn under_wine_a_zlib_program_streams_through_the_proxy_zlib1_dll() {
    let tmp = scratch("wine-zlib");
    let real = workspace_root().join("tests/real/zlib");
    let native = tmp.join("native");
    std::fs::create_dir_all(&native).unwrap();
    std::fs::copy(real.join("win64/zlib1.dll"), native.join("zlib1.dll")).unwrap();
    compile_windows(
        "zlib.c",
        &real.join("include"),
        &[native.join("zlib1.dll").as_os_str()],
        &native.join("zlib.exe"),
    );
    let proxied = install_windows(&tmp, "zlib-win", "zlib1.dll", "z");
    // Linked as a mingw program links zlib: -lz.
    let flags = [std::ffi::OsString::from("-L"), tmp.clone().into_os_string(), "-lz".into()];
    let flags: Vec<&std::ffi::OsStr> = flags.iter().map(|f| f.as_os_str()).collect();
    compile_windows("zlib.c", &real.join("include"), &flags, &proxied.join("zlib.exe"));
    let expected = run_wine(&native.join("zlib.exe"), &[Wine::path(&tmp.join("native.gz"))], &[]);
    assert_eq!(expected.code, Some(0), "{}", expected.stderr);
    assert!(expected.stdout.contains("inflated 200000 same 1"), "{}", expected.stdout);
    let library = ("ZLIB_WIN_LIBRARY", Wine::path(&real.join("win32/zlib1.dll")));
    let got = run_wine(&proxied.join("zlib.exe"), &[Wine::path(&tmp.join("proxied.gz"))], &[library]);
    assert_eq!(got.code, Some(0), "{}", got.stderr);
    assert_eq!(got.stdout, expected.stdout);
    assert_eq!(std::fs::read(tmp.join("proxied.gz")).unwrap(), std::fs::read(tmp.join("native.gz")).unwrap());
}

#[test]
fn a_64_bit_length_the_32_bit_library_cannot_take_is_refused_not_truncated() {
    let real = workspace_root().join("tests/real/zlib");
    let tmp = scratch("limits");
    let proxied = install(&tmp, "zlib", "z", "1");
    let exe = tmp.join("limits");
    compile_with("zlib_limits.c", &real.join("include"), "z", &proxied, &exe);
    let out = run_program(&mut Command::new(&exe));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // Z_ERRNO (-1, its negative rule's value), the caller's destLen untouched.
    assert!(out.stdout.contains("uncompress -1 destLen 64\n"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("message uncompress: `uncompress` parameter `sourceLen`: 4294967312 does not fit"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("crc32 "), "later calls go on: {}", out.stdout);
    // A resident stream's input NULL with a count is refused (Z_STREAM_ERROR, the spec's
    // proxy_error), the stream left as it was.
    assert!(out.stdout.contains("inflate -2 next_in NULL avail_in 5\n"), "{}", out.stdout);
    assert!(
        out.stdout.contains("`struct z_stream_s` field `next_in`: NULL with a length of 5"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("inflateEnd 0\n"), "{}", out.stdout);
}

#[test]
fn the_proxy_prototypes_are_the_64_bit_headers() {
    // zlib's uLong is `unsigned long`: 64 bits on LP64 Linux, 32 on LLP64 Windows.
    let read = |p: &str| std::fs::read_to_string(workspace_root().join(p)).unwrap();
    let linux = read("generated/zlib-proxy/src/lib.rs");
    let windows = read("generated/zlib-win-proxy/src/lib.rs");
    assert!(linux.contains("pub unsafe extern \"C\" fn compressBound(sourceLen: u64) -> u64"), "Linux");
    assert!(windows.contains("pub unsafe extern \"C\" fn compressBound(sourceLen: u32) -> u32"), "Windows");
}

#[test]
fn under_wine_a_program_loading_the_proxy_dll_with_loadlibraryw_resolves_the_same_functions() {
    let tmp = scratch("wine-loadlibrary");
    let build = demo_library();
    let proxied = install_windows(&tmp, "demo-win", "demo.dll", "demo");
    let exe = tmp.join("loadlibrary.exe");
    compile_windows("loadlibrary.c", &workspace_root().join("examples/demo"), &[], &exe);
    let expected = run_wine(&exe, &[Wine::path(&build.join("demo64.dll"))], &[]);
    assert_eq!(expected.code, Some(0), "{}", expected.stdout);
    assert!(expected.stdout.contains("read 0 6 plugin"), "{}", expected.stdout);
    let library = ("DEMO_WIN_LIBRARY", Wine::path(&build.join("demo32.dll")));
    let got = run_wine(&exe, &[Wine::path(&proxied.join("demo.dll"))], &[library]);
    assert_eq!(got.code, Some(0), "{}", got.stderr);
    assert_eq!(got.stdout, expected.stdout);
}

#[test]
fn a_c_program_drives_the_fake_device_sdk_through_the_proxy_as_with_its_64_bit_build() {
    // Kept callbacks with destroy notifications, a listener kept on a handle, frames from the
    // library's own thread, a resident stream, out-strings the caller frees, fixed values.
    let fixtures = dllgen_tests::fixtures();
    let tmp = scratch("kinds");
    let native = native(&tmp, "fx_kinds", "1", &fixtures.join("libfx_kinds64.so"));
    let proxied = install(&tmp, "kinds-linux", "fx_kinds", "1");
    let include = workspace_root().join("tests/fixtures");
    let (a, b) = (tmp.join("kinds-native"), tmp.join("kinds-proxied"));
    compile_with("kinds.c", &include, "fx_kinds", &native, &a);
    compile_with("kinds.c", &include, "fx_kinds", &proxied, &b);
    let library = ("KINDS_LINUX_LIBRARY", fixtures.join("libfx_kinds32.so"));
    let expected = run_with(&mut Command::new(&a), &[]);
    assert_eq!(expected.code, Some(0), "{}", expected.stderr);
    assert!(expected.stdout.contains("frames 50 bad 0 delivered 50"), "{}", expected.stdout);
    let got = run_with(&mut Command::new(&b), &[(library.0, &library.1)]);
    assert_eq!(got.code, Some(0), "{}", got.stderr);
    assert_eq!(got.stdout, expected.stdout);
}
