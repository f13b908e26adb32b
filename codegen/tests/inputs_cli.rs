//! Every input path (`audit` FILE, `init --dll/--header`, the spec, its `library:` and
//! `header:`) as a user can get it wrong: a FIFO, a device, a folder, a socket, a symlink
//! loop or a dangling one is refused by name before it is opened; oversized or binary
//! inputs are refused before they are read. Each run has a timeout, so a regression (a
//! blocking open, a read that never ends) fails instead of hanging.

use dllgen_tests::{demo_library, run, Output};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Far longer than any refusal takes; short enough that a hang fails the test quickly.
const TIMEOUT: Duration = Duration::from_secs(10);

fn dllgen(args: &[&str]) -> Output {
    let out = run(Command::new(env!("CARGO_BIN_EXE_dllgen")).args(args), TIMEOUT);
    assert!(!out.timed_out, "dllgen {args:?} hung:\n{}", out.stderr);
    out
}

/// Exit code 2 and `message` on stderr.
#[track_caller]
fn assert_refused(args: &[&str], message: &str) {
    let out = dllgen(args);
    assert_eq!(out.code, Some(2), "dllgen {args:?}: {}", out.stderr);
    assert!(out.stderr.contains(message), "dllgen {args:?}: expected {message:?} in:\n{}", out.stderr);
}

/// Exit code 1 (a failed check) and `message` on stderr.
#[track_caller]
fn assert_check_fails(args: &[&str], message: &str) {
    let out = dllgen(args);
    assert_eq!(out.code, Some(1), "dllgen {args:?}: {}", out.stderr);
    assert!(out.stderr.contains(message), "dllgen {args:?}: expected {message:?} in:\n{}", out.stderr);
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dllgen-inputs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn demo_header() -> PathBuf {
    dllgen_tests::workspace_root().join("examples/demo/demo.h")
}

/// A spec over the demo library whose `header:` and `library:` are given.
fn spec(dir: &Path, header: &Path, library: &Path) -> PathBuf {
    let path = dir.join("spec.yaml");
    let text = format!("name: demo\nheader: {}\nlibrary: {}\n", header.display(), library.display());
    std::fs::write(&path, text).unwrap();
    path
}

/// A FIFO, a character device, a folder, a socket, a symlink loop and a dangling symlink,
/// each with the words its refusal must contain. The socket's listener must stay alive.
fn special_files(dir: &Path) -> (Vec<(PathBuf, String)>, std::os::unix::net::UnixListener) {
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let socket = dir.join("socket");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let (a, b) = (dir.join("loop-a"), dir.join("loop-b"));
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let dangling = dir.join("dangling");
    std::os::unix::fs::symlink(dir.join("gone"), &dangling).unwrap();
    let folder = dir.join("folder");
    std::fs::create_dir(&folder).unwrap();
    let cases = vec![
        (fifo.clone(), format!("{} is a FIFO, not a regular file", fifo.display())),
        ("/dev/null".into(), "/dev/null is a character device, not a regular file".into()),
        (folder.clone(), format!("{} is a directory, not a regular file", folder.display())),
        (socket.clone(), format!("{} is a socket, not a regular file", socket.display())),
        (a.clone(), format!("{}: too many levels of symbolic links", a.display())),
        (
            dangling.clone(),
            format!("{} is a dangling symlink to {}", dangling.display(), dir.join("gone").display()),
        ),
    ];
    (cases, listener)
}

#[test]
fn special_files_are_refused_by_name_on_every_input_path() {
    let lib = demo_library().join("libdemo32.so");
    let dir = scratch("special");
    let (cases, _listener) = special_files(&dir);
    for (path, message) in &cases {
        let p = s(path);
        assert_refused(&["audit", p], message);
        assert_refused(&["init", "--header", s(&demo_header()), "--dll", p], message);
        assert_refused(&["init", "--header", p, "--dll", s(&lib)], message);
        assert_refused(&["audit", "--header", p, s(&lib)], message);
        assert_check_fails(&["check", p], message);
        assert_check_fails(&["generate", p, "--out", s(&dir.join("out"))], message);
        let with_library = spec(&dir, &demo_header(), path);
        assert_check_fails(&["check", s(&with_library)], &format!("spec.yaml:3:10: error: {message}"));
        let with_header = spec(&dir, path, &lib);
        assert_check_fails(&["check", s(&with_header)], &format!("spec.yaml:2:9: error: {message}"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn endless_devices_are_refused_before_reading() {
    for command in [&["check", "/dev/zero"][..], &["generate", "/dev/zero", "--out", "/tmp/never"]] {
        assert_check_fails(command, "/dev/zero is a character device, not a regular file");
    }
    assert_refused(&["audit", "/dev/zero"], "/dev/zero is a character device");
}

/// A sparse file: its length costs no disk and no time to make.
fn sparse(path: &Path, len: u64, start: &[u8]) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(start).unwrap();
    f.set_len(len).unwrap();
}

#[track_caller]
fn assert_fast(started: Instant) {
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}: the input was read", started.elapsed());
}

#[test]
fn binaries_over_4_gib_or_without_a_magic_number_are_not_read() {
    let dir = scratch("large");
    let huge = dir.join("huge.dll");
    sparse(&huge, (4 << 30) + 1, b"MZ");
    let started = Instant::now();
    assert_refused(
        &["audit", s(&huge)],
        &format!("{} is 4.0 GiB (4294967297 bytes); a PE or ELF file is at most 4 GiB", huge.display()),
    );
    assert_fast(started);
    let started = Instant::now();
    assert_check_fails(
        &["check", s(&spec(&dir, &demo_header(), &huge))],
        "a PE or ELF file is at most 4 GiB",
    );
    assert_fast(started);
    // Under the limit but no magic number: refused from the first bytes, not read whole.
    let zeros = dir.join("zeros.dll");
    sparse(&zeros, 3 << 30, b"");
    let started = Instant::now();
    assert_refused(
        &["audit", s(&zeros)],
        &format!("{}: not a PE or ELF file (it starts with bytes 00 00 00 00", zeros.display()),
    );
    assert_fast(started);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn oversized_and_binary_text_inputs_are_refused_before_parsing() {
    let lib = demo_library().join("libdemo32.so");
    let dir = scratch("text");
    let big_spec = dir.join("big.yaml");
    sparse(&big_spec, 300 << 20, b"");
    let started = Instant::now();
    assert_check_fails(
        &["check", s(&big_spec)],
        &format!(
            "{}: error: {} is 300 MiB (314572800 bytes); a spec is at most 16 MiB",
            big_spec.display(),
            big_spec.display()
        ),
    );
    assert_fast(started);
    let big_header = dir.join("big.h");
    sparse(&big_header, 300 << 20, b"int f(void);\n");
    let started = Instant::now();
    assert_check_fails(&["check", s(&spec(&dir, &big_header, &lib))], "a header is at most 64 MiB");
    assert_refused(&["audit", "--header", s(&big_header), s(&lib)], "a header is at most 64 MiB");
    assert_fast(started);
    let nul_header = dir.join("nul.h");
    std::fs::write(&nul_header, b"int f(void);\n\0\0\0").unwrap();
    let message = format!("{} is not text: it has a NUL byte at offset 13", nul_header.display());
    assert_check_fails(&["check", s(&spec(&dir, &nul_header, &lib))], &message);
    assert_refused(&["init", "--header", s(&nul_header), "--dll", s(&lib)], &message);
    let nul_spec = dir.join("nul.yaml");
    std::fs::write(&nul_spec, b"name: demo\n\0").unwrap();
    assert_check_fails(&["check", s(&nul_spec)], "nul.yaml is not text: it has a NUL byte at offset 11");
    let latin1 = dir.join("latin1.yaml");
    std::fs::write(&latin1, b"name: d\xe9mo\n").unwrap();
    assert_check_fails(&["check", s(&latin1)], "latin1.yaml is not UTF-8 text: invalid byte at offset 7");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_output_escapes_control_characters_from_the_spec() {
    let dir = scratch("escape");
    // A key spelled with a YAML escape reaches the message; a raw escape byte is a YAML
    // error whose source line is shown.
    let quoted = dir.join("quoted.yaml");
    std::fs::write(&quoted, "name: demo\n\"evil\\e[31m\": 1\n").unwrap();
    let raw = dir.join("raw.yaml");
    std::fs::write(&raw, "name: demo\nevil\x1b[31m: 1\n").unwrap();
    for spec in [&quoted, &raw] {
        let out = dllgen(&["check", s(spec)]);
        assert_eq!(out.code, Some(1), "{}", out.stderr);
        assert!(!out.stderr.contains('\x1b'), "a raw escape reached the terminal:\n{}", out.stderr);
        assert!(out.stderr.contains("evil\\u{1b}[31m"), "{}", out.stderr);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_spec_on_one_long_line_shows_a_bounded_excerpt() {
    let dir = scratch("long");
    let path = dir.join("long.yaml");
    let padding = "x".repeat(1 << 20);
    std::fs::write(&path, format!("{{name: demo, comment: {padding}, bad_key: 1, more: {padding}}}\n"))
        .unwrap();
    let out = dllgen(&["check", s(&path)]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.lines().all(|l| l.chars().count() < 300),
        "{}",
        &out.stderr[..out.stderr.len().min(2000)]
    );
    // The caret is under the key the message names.
    let lines: Vec<&str> = out.stderr.lines().collect();
    let at =
        lines.iter().position(|l| l.contains("unknown key `bad_key`")).expect("the unknown key is reported");
    let column = lines[at + 2].chars().count() - 1;
    let shown: String = lines[at + 1].chars().skip(column).take(7).collect();
    assert_eq!(shown, "bad_key", "{}\n{}", lines[at + 1], lines[at + 2]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn out_must_be_a_folder_and_is_named_with_what_it_is() {
    demo_library();
    let dir = scratch("out");
    let spec = dllgen_tests::workspace_root().join("specs/demo.yaml");
    let file = dir.join("file");
    std::fs::write(&file, "").unwrap();
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    for (out, kind) in [
        (file.as_path(), "a regular file"),
        (Path::new("/dev/null"), "a character device"),
        (&fifo, "a FIFO"),
    ] {
        for check in [false, true] {
            let mut args = vec!["generate", s(&spec), "--out", s(out)];
            args.extend(check.then_some("--check"));
            assert_refused(&args, &format!("--out {} is {kind}, not a folder", out.display()));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_suggests_a_command_a_shell_takes_as_is() {
    demo_library();
    let dir = scratch("quoting");
    let spec = dllgen_tests::workspace_root().join("specs/demo.yaml");
    let out = dir.join("with space/it's");
    assert_eq!(dllgen(&["generate", s(&spec), "--out", s(&out)]).code, Some(0));
    // A FIFO where a generated file was: stale, and not opened.
    let main = out.join("demo-host/src/main.rs");
    std::fs::remove_file(&main).unwrap();
    assert!(Command::new("mkfifo").arg(&main).status().unwrap().success());
    let quoted = format!("'{}'", out.display().to_string().replace('\'', r"'\''"));
    assert_check_fails(
        &["generate", s(&spec), "--out", s(&out), "--check"],
        &format!("run `dllgen generate {} --out {quoted}`:\n  demo-host/src/main.rs\n", spec.display()),
    );
    // The suggestion works when pasted into a shell.
    std::fs::remove_file(&main).unwrap();
    let pasted = format!("{} generate {} --out {quoted}", env!("CARGO_BIN_EXE_dllgen"), spec.display());
    assert_eq!(run(Command::new("sh").args(["-c", &pasted]), TIMEOUT).code, Some(0));
    assert!(main.is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A spec with tens of thousands of problems (a file of near-garbage) is reported in
/// bounded time: the first `diag::SHOWN` in full, the rest counted.
#[test]
fn a_spec_with_very_many_problems_shows_the_first_and_counts_the_rest() {
    let dir = scratch("many");
    let path = dir.join("spec.yaml");
    let mut text = String::from("name: demo\nheader: demo.h\nlibrary: demo.so\n");
    for i in 0..20_000 {
        text.push_str(&format!("unknown_{i}: 1\n"));
    }
    std::fs::write(&path, text).unwrap();
    let start = Instant::now();
    assert_check_fails(&["check", s(&path)], "... and 19800 more problems not shown (fix these first)");
    // Not a speed test (the machines are shared): a bound a quadratic pass over the file
    // (a source-line lookup per problem) would exceed by far, and a loaded machine does not.
    assert!(start.elapsed() < Duration::from_secs(30), "took {:?}", start.elapsed());
    let out = dllgen(&["check", s(&path)]);
    assert_eq!(out.stderr.matches(": error: ").count(), 200, "problems printed in full");
    assert!(out.stderr.contains("dllgen: 20000 problems found"), "{}", out.stderr);
}
