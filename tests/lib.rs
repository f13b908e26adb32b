//! The test rig shared by dllgen's end-to-end tests: where the fixture binaries are, how to
//! build the loader probe for each target, and how to run Windows binaries under the
//! project's private Wine (installed by `tests/setup/setup.sh`).

pub mod pe_builder;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The directory holding the fixture binaries built by `build.rs` from `tests/fixtures`.
pub fn fixtures() -> &'static Path {
    Path::new(env!("DLLGEN_FIXTURES"))
}

/// The path of one fixture binary; panics with a clear message when it was not built.
pub fn fixture(name: &str) -> PathBuf {
    let path = fixtures().join(name);
    assert!(path.is_file(), "fixture {} is missing; build.rs builds it", path.display());
    path
}

/// The workspace's root directory.
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent")
}

/// What a finished child process left behind.
#[derive(Debug)]
pub struct Output {
    /// The exit code; `None` when killed by a signal or by the timeout.
    pub code: Option<i32>,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
    /// Whether the timeout killed it.
    pub timed_out: bool,
}

/// Runs `cmd` with no standard input, capturing its output, and kills it after `timeout`.
pub fn run(cmd: &mut Command, timeout: Duration) -> Output {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    // A program a test just copied may be "busy" (ETXTBSY) while another test's child,
    // forked in between, still holds the copy's write descriptor: that passes in moments.
    let mut tries = 0;
    let mut child = loop {
        match cmd.spawn() {
            Ok(child) => break child,
            Err(e) if e.raw_os_error() == Some(26) && tries < 50 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("cannot start {cmd:?}: {e}"),
        }
    };
    let drain = |mut pipe: Box<dyn Read + Send>| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
        });
        rx
    };
    // A process the child left behind may hold its pipes open (Wine's debugger, attached
    // to a crashed program): the output is not waited for past a moment after the child.
    let collect = |rx: std::sync::mpsc::Receiver<String>| {
        rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| {
            "(the output stayed open after the program ended: a process it left behind holds it)".into()
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("piped")));
    let err = drain(Box::new(child.stderr.take().expect("piped")));
    let start = Instant::now();
    let (code, timed_out) = loop {
        if let Some(status) = child.try_wait().expect("wait on child") {
            break (status.code(), false);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break (None, true);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Output { code, stdout: collect(out), stderr: collect(err), timed_out }
}

/// Builds the loader probe (`tests/probe`) for `target` and returns the executable's path.
pub fn probe(target: &str) -> PathBuf {
    build_bin("dllgen-probe", "dllgen-probe", target)
}

/// Builds binary `bin` of workspace package `package` for `target` (once per test
/// process) and returns its path. Uses its own target directory: the outer `cargo test`
/// holds the lock on the main one.
pub fn build_bin(package: &str, bin: &str, target: &str) -> PathBuf {
    build(package, bin, target, false)
}

/// [`build_bin`] with optimizations, for benchmarks.
pub fn build_bin_release(package: &str, bin: &str, target: &str) -> PathBuf {
    build(package, bin, target, true)
}

/// [`build_bin`] with cargo features of `package` on (`trace`), in target folder
/// `target/<dir>`: features change the files, so they are kept apart from the others.
pub fn build_bin_with(
    dir: &str,
    package: &str,
    bin: &str,
    target: &str,
    features: &str,
    release: bool,
) -> PathBuf {
    build_in(dir, package, bin, target, features, release)
}

fn build(package: &str, bin: &str, target: &str, release: bool) -> PathBuf {
    build_in("rig", package, bin, target, "", release)
}

fn build_in(dir: &str, package: &str, bin: &str, target: &str, features: &str, release: bool) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut built = BUILT.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    let key = format!("{dir}/{package}/{bin}/{target}/{features}/{release}");
    if let Some(path) = built.get(&key) {
        return path.clone();
    }
    let target_dir = workspace_root().join("target").join(dir);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let features = (!features.is_empty()).then_some(["--features", features]);
    let out = run(
        Command::new(cargo)
            .args(["build", "--quiet", "-p", package, "--bin", bin, "--target", target, "--target-dir"])
            .arg(&target_dir)
            .args(release.then_some("--release"))
            .args(features.into_iter().flatten())
            .current_dir(workspace_root()),
        Duration::from_secs(600),
    );
    assert_eq!(out.code, Some(0), "building {bin} for {target} failed:\n{}", out.stderr);
    let exe = if target.contains("windows") { format!("{bin}.exe") } else { bin.to_string() };
    let path = target_dir.join(target).join(if release { "release" } else { "debug" }).join(exe);
    built.insert(key, path.clone());
    path
}

/// Builds the `cdylib` of workspace package `package` for `target` (once per test
/// process) and returns the path of `file` (`libdemo.so`, `zlib1.dll`) in its output.
pub fn build_cdylib(package: &str, file: &str, target: &str) -> PathBuf {
    cdylib(package, file, target, false)
}

/// [`build_cdylib`] with optimizations, for benchmarks.
pub fn build_cdylib_release(package: &str, file: &str, target: &str) -> PathBuf {
    cdylib(package, file, target, true)
}

/// [`build_cdylib`] with the host embedded (the `embed-host` feature), in a target folder
/// of its own (the library's file name is the same as without it).
pub fn build_cdylib_embedded(package: &str, file: &str, target: &str) -> PathBuf {
    cdylib_in("rig-lib-embedded", package, file, target, "embed-host", false)
}

fn cdylib(package: &str, file: &str, target: &str, release: bool) -> PathBuf {
    // Not beside the rig's programs: a proxy named like a library (zlib1.dll) would be the
    // one a program in its folder loads, even Wine's own user32 for its zlib.
    cdylib_in("rig-lib", package, file, target, "", release)
}

fn cdylib_in(dir: &str, package: &str, file: &str, target: &str, features: &str, release: bool) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut built = BUILT.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    let key = format!("{dir}/{package}/{target}/{features}/{release}");
    if let Some(path) = built.get(&key) {
        return path.clone();
    }
    let target_dir = workspace_root().join("target").join(dir);
    let features = (!features.is_empty()).then_some(["--features", features]);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = run(
        Command::new(cargo)
            .args(["build", "--quiet", "-p", package, "--lib", "--target", target, "--target-dir"])
            .arg(&target_dir)
            .args(release.then_some("--release"))
            .args(features.into_iter().flatten())
            .current_dir(workspace_root()),
        Duration::from_secs(600),
    );
    assert_eq!(out.code, Some(0), "building {package} for {target} failed:\n{}", out.stderr);
    let path = target_dir.join(target).join(if release { "release" } else { "debug" }).join(file);
    assert!(path.is_file(), "{} was not built", path.display());
    built.insert(key, path.clone());
    path
}

/// Builds the demo library (examples/demo/build.sh; quick when up to date) and returns
/// its build folder: libdemo32.so, libdemo64.so, demo32.dll.
pub fn demo_library() -> PathBuf {
    let out = run(
        Command::new("bash").arg(workspace_root().join("examples/demo/build.sh")),
        Duration::from_secs(120),
    );
    assert_eq!(out.code, Some(0), "building the demo library failed:\n{}", out.stderr);
    workspace_root().join("examples/demo/build")
}

/// Starts a host through `cmd` with `--listen [ENDPOINT]` and returns it with the endpoint
/// it reports on its first line.
pub fn listening_host(mut cmd: Command, endpoint: Option<&str>) -> (std::process::Child, String) {
    cmd.arg("--listen").args(endpoint).stdout(Stdio::piped()).stdin(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line)
        .unwrap();
    let name = line
        .trim()
        .strip_prefix("dllgen host: listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    (child, name)
}

/// The host triple of the machine running the tests (for 64-bit helper programs).
pub const HOST_TARGET: &str = "x86_64-unknown-linux-gnu";

/// The project's private Wine (see `tests/setup/wine.sh`).
pub struct Wine {
    loader: PathBuf,
    prefix: PathBuf,
}

impl Wine {
    /// Wine, started and warmed up once per test process. Panics when it is not installed:
    /// the test command installs it, so a missing Wine is a broken set-up, not a skip.
    pub fn get() -> &'static Wine {
        static WINE: OnceLock<Wine> = OnceLock::new();
        WINE.get_or_init(|| {
            let tools = std::env::var_os("DLLGEN_TOOLS")
                .map_or_else(|| PathBuf::from("/opt/dllgen-tools"), PathBuf::from);
            let root =
                std::env::var_os("DLLGEN_WINE_ROOT").map_or_else(|| tools.join("wine-root"), PathBuf::from);
            let prefix =
                std::env::var_os("WINEPREFIX").map_or_else(|| tools.join("wine-prefix"), PathBuf::from);
            let loader = root.join("usr/lib/wine/wine64");
            assert!(
                loader.is_file(),
                "Wine is not installed at {}; run `bash tests/setup/setup.sh`",
                root.display()
            );
            let wine = Wine { loader, prefix };
            // Wine's helper processes (wineserver, services.exe, ...) inherit stdio; started
            // here with stdio on /dev/null they never hold a test's pipes open. The server
            // lingers 60 s after the last client so later runs skip the start-up.
            let server = root.join("usr/lib/wine/wineserver64");
            let quiet = |cmd: &mut Command| {
                let status =
                    wine.env(cmd).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
                assert!(status.is_ok(), "cannot start {cmd:?}");
            };
            quiet(Command::new(server).arg("-p60"));
            quiet(Command::new(&wine.loader).args(["cmd", "/c", "exit"]));
            wine
        })
    }

    fn env<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        cmd.env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env_remove("DISPLAY")
    }

    /// A command that runs the Windows executable `exe` (either architecture) under Wine.
    pub fn command(&self, exe: &Path) -> Command {
        let mut cmd = Command::new(&self.loader);
        cmd.arg(exe);
        self.env(&mut cmd);
        cmd
    }

    /// The Windows path Wine gives a Unix path (through its `Z:` drive).
    pub fn path(unix: &Path) -> String {
        format!("Z:{}", unix.display()).replace('/', "\\")
    }
}
