//! The runtime across the real boundary: a 64-bit client (this test) and a 32-bit host
//! process (tests/runtime-host built for i686-unknown-linux-gnu), over shared memory (the
//! default for a child host) and over the child's pipes.

use dllgen_runtime::{Client, Config, Error, HostPath, Reader, ShmConfig, WireError, Writer};
use dllgen_tests::{build_bin, HOST_TARGET};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const HASH: u64 = 0x0d11_6e40_0000_0001;
const SCRIBBLE: u32 = 13;
const ECHO: u32 = 0;
const ADD: u32 = 1;
const SLEEP: u32 = 2;
const CRASH: u32 = 3;
const ABORT: u32 = 4;
const PRINT: u32 = 5;
const REVERSE: u32 = 6;
const CALLBACKS: u32 = 7;
const PANIC: u32 = 8;
const LIBRARY_ERROR: u32 = 9;
const WHO: u32 = 10;

fn host() -> PathBuf {
    build_bin("dllgen-test-host", "dllgen-test-host", "i686-unknown-linux-gnu")
}

fn client_with(f: impl FnOnce(&mut Config)) -> Client {
    let mut config = Config::new(HostPath::Explicit(host()), HASH);
    f(&mut config);
    Client::new(config)
}

fn client() -> Client {
    client_with(|_| {})
}

/// The transports every basic test runs over: shared memory with the default rings,
/// shared memory with rings much smaller than the frames, and the pipe.
fn transports() -> Vec<(&'static str, Option<ShmConfig>)> {
    vec![
        ("shared memory", Some(ShmConfig::default())),
        ("small rings", Some(ShmConfig { ring_bytes: 64 << 10, ..ShmConfig::default() })),
        ("pipe", None),
    ]
}

fn client_over(shm: Option<ShmConfig>) -> Client {
    let c = client_with(|cfg| cfg.shm = shm);
    c.connect().unwrap();
    assert_eq!(c.uses_shared_memory(), shm.is_some(), "the transport in use");
    c
}

fn no_callbacks(_: u32, _: Reader<'_>, _: &mut Writer) -> Result<(), WireError> {
    Err(WireError::Payload("no callbacks expected"))
}

fn add(c: &Client, a: i32, b: i32) -> Result<i32, Error> {
    c.call(
        ADD,
        |w| {
            w.i32(a).i32(b);
        },
        |mut r| r.i32(),
        &mut no_callbacks,
    )
}

fn who(c: &Client) -> (u32, u32) {
    c.call(WHO, |_| {}, |mut r| Ok((r.u32()?, r.u32()?)), &mut no_callbacks).unwrap()
}

fn call_unit(c: &Client, id: u32, arg: u32) -> Result<(), Error> {
    c.call(
        id,
        |w| {
            w.u32(arg);
        },
        |_| Ok(()),
        &mut no_callbacks,
    )
}

#[test]
fn calls_cross_into_a_32bit_host() {
    for (name, shm) in transports() {
        eprintln!("over {name}");
        crossing(&client_over(shm));
    }
}

fn crossing(c: &Client) {
    assert_eq!(add(c, 40, 2), Ok(42));
    let (pid, pointer) = who(c);
    assert_eq!(pointer, 4, "the host is a 32-bit process");
    assert_ne!(pid, std::process::id());
    for size in [0usize, 1, 15, 65_536, 1 << 20] {
        let data: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
        let echoed = c
            .call(
                ECHO,
                |w| {
                    w.bytes(&data);
                },
                |mut r| Ok(r.bytes()?.to_vec()),
                &mut no_callbacks,
            )
            .unwrap();
        assert_eq!(echoed, data, "echo of {size} bytes");
        let reversed = c
            .call(
                REVERSE,
                |w| {
                    w.bytes(&data);
                },
                |mut r| Ok(r.bytes()?.to_vec()),
                &mut no_callbacks,
            )
            .unwrap();
        assert!(reversed.iter().eq(data.iter().rev()), "reverse of {size} bytes");
    }
}

#[test]
fn a_library_that_prints_does_not_corrupt_the_stream() {
    let c = client();
    assert_eq!(c.call(PRINT, |_| {}, |mut r| r.u32(), &mut no_callbacks), Ok(1));
    assert_eq!(add(&c, 1, 2), Ok(3));
}

#[test]
fn callbacks_run_in_the_client_during_the_call() {
    for (name, shm) in transports() {
        eprintln!("over {name}");
        callbacks_over(&client_over(shm));
    }
}

fn callbacks_over(c: &Client) {
    let mut seen = Vec::new();
    let sum = c.call(
        CALLBACKS,
        |w| {
            w.u32(5);
        },
        |mut r| r.i32(),
        &mut |id, mut r, reply| {
            let i = r.u32()?;
            seen.push((id, i));
            reply.i32(i as i32 * 10);
            Ok(())
        },
    );
    assert_eq!(sum, Ok(100));
    assert_eq!(seen, [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4)]);
}

#[test]
fn a_handshake_with_another_model_is_refused_naming_both_hashes() {
    let c = client_with(|cfg| cfg.envs.push(("DLLGEN_TEST_HOST_HASH".into(), "0123456789abcdef".into())));
    match add(&c, 1, 1) {
        Err(Error::Refused(m)) => {
            assert!(m.contains("0d116e4000000001") && m.contains("0123456789abcdef"), "{m}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_library_that_fails_to_load_is_reported_at_the_handshake() {
    let c = client_with(|cfg| {
        cfg.envs.push(("DLLGEN_TEST_HOST_FAIL_LOAD".into(), "libfoo.so: cannot open".into()))
    });
    assert_eq!(
        add(&c, 1, 1),
        Err(Error::Refused("the host could not load the library: libfoo.so: cannot open".into()))
    );
}

#[test]
fn a_crash_is_an_error_and_the_next_call_starts_a_new_host() {
    let c = client();
    let (first, _) = who(&c);
    match call_unit(&c, CRASH, 0) {
        Err(Error::HostCrashed(status)) => {
            assert!(status.contains("SIGSEGV") || status.contains("11"), "{status}")
        }
        other => panic!("expected a crash, got {other:?}"),
    }
    assert_eq!(add(&c, 2, 2), Ok(4));
    let (second, _) = who(&c);
    assert_ne!(first, second, "a new host was started");
    assert!(matches!(call_unit(&c, ABORT, 0), Err(Error::HostCrashed(_))));
    assert_eq!(add(&c, 3, 3), Ok(6));
}

#[test]
fn a_hung_call_times_out_and_the_host_is_replaced() {
    let c = client_with(|cfg| cfg.timeout = Some(Duration::from_millis(300)));
    let (first, _) = who(&c);
    let start = Instant::now();
    assert_eq!(call_unit(&c, SLEEP, 60_000), Err(Error::Timeout(Duration::from_millis(300))));
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    assert!(!alive(first), "the hung host was killed");
    assert_eq!(add(&c, 5, 5), Ok(10));
    // A call within the timeout is unaffected.
    assert_eq!(call_unit(&c, SLEEP, 10), Ok(()));
}

#[test]
fn panics_and_library_errors_are_errors_and_the_host_goes_on() {
    let c = client();
    let (pid, _) = who(&c);
    assert_eq!(call_unit(&c, PANIC, 0), Err(Error::HostPanic("a bug in the generated host".into())));
    assert_eq!(c.call(LIBRARY_ERROR, |_| {}, |_| Ok(()), &mut no_callbacks), Err(Error::Library(42)));
    assert_eq!(add(&c, 1, 1), Ok(2));
    assert_eq!(who(&c).0, pid, "the same host");
}

/// A panic the host answers as `HostPanic` is the client's to report: the host prints
/// nothing on the user's stderr. The call runs in a child of this test binary (this same
/// test, told so by an environment variable), whose stderr the host inherits and this
/// test reads.
#[test]
fn a_panic_answered_to_the_client_is_not_printed_by_the_host() {
    const NAME: &str = "a_panic_answered_to_the_client_is_not_printed_by_the_host";
    if std::env::var_os("DLLGEN_PANIC_CHILD").is_some() {
        let c = client();
        assert_eq!(call_unit(&c, PANIC, 0), Err(Error::HostPanic("a bug in the generated host".into())));
        assert_eq!(add(&c, 2, 2), Ok(4));
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
        .env("DLLGEN_PANIC_CHILD", "1")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && stdout.contains("1 passed"), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "the host printed the panic it answered:\n{stderr}");
}

#[test]
fn garbage_and_absurd_frames_from_the_host_are_protocol_errors() {
    for mode in ["garbage", "huge"] {
        let c = client_with(|cfg| cfg.envs.push(("DLLGEN_TEST_HOST_MODE".into(), mode.into())));
        let start = Instant::now();
        match add(&c, 1, 1) {
            Err(Error::Protocol(_)) => {}
            other => panic!("{mode}: expected a protocol error, got {other:?}"),
        }
        assert!(start.elapsed() < Duration::from_secs(4), "{mode}: the client did not wait for the host");
    }
}

#[test]
fn calls_from_many_threads_are_serialized_without_mixing_replies() {
    for (name, shm) in transports() {
        eprintln!("over {name}");
        many_threads(Arc::new(client_over(shm)));
    }
}

fn many_threads(c: Arc<Client>) {
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                for i in 0..10_000 {
                    assert_eq!(add(&c, i, t * 1_000_000), Ok(i + t * 1_000_000));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn a_missing_host_is_named() {
    let c = Client::new(Config::new(
        HostPath::Find { file_name: "no-such-host".into(), env_var: "DLLGEN_NO_SUCH_HOST".into() },
        HASH,
    ));
    match add(&c, 1, 1) {
        Err(Error::HostNotFound(m)) => {
            assert!(m.contains("no-such-host") && m.contains("DLLGEN_NO_SUCH_HOST"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

fn alive(pid: u32) -> bool {
    // A zombie is dead for our purposes: its reaper is the client, which already waited.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

#[test]
fn the_host_dies_with_its_client_even_inside_a_call() {
    let helper = build_bin("dllgen-test-host", "dllgen-test-client", HOST_TARGET);
    for mode in [None, Some("hang")] {
        let mut cmd = std::process::Command::new(&helper);
        cmd.arg(host()).args(mode).stdout(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line)
            .unwrap();
        let host_pid: u32 =
            line.trim().parse().unwrap_or_else(|_| panic!("no pid from the helper: {line:?}"));
        assert!(alive(host_pid));
        std::thread::sleep(Duration::from_millis(100));
        child.kill().unwrap();
        child.wait().unwrap();
        let until = Instant::now() + Duration::from_secs(5);
        while alive(host_pid) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(host_pid), "{mode:?}: host {host_pid} outlived its client");
    }
}

/// The Windows pair: an i686-pc-windows-gnu host and an x86_64-pc-windows-gnu client, run
/// under Wine, through the same checks (see tests/runtime-host/src/client.rs).
#[test]
fn the_windows_pair_works_under_wine() {
    let host = build_bin("dllgen-test-host", "dllgen-test-host", "i686-pc-windows-gnu");
    let client = build_bin("dllgen-test-host", "dllgen-test-client", "x86_64-pc-windows-gnu");
    let wine = dllgen_tests::Wine::get();
    let mut cmd = wine.command(&client);
    cmd.arg("scenario").arg(dllgen_tests::Wine::path(&host));
    let out = dllgen_tests::run(&mut cmd, Duration::from_secs(180));
    assert_eq!(out.code, Some(0), "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    for check in [
        "add",
        "shared memory",
        "pipe",
        "32-bit host",
        "1 MiB echo",
        "printing library",
        "callbacks",
        "crash, then a new host",
        "timeout, then a new host",
        "handshake refused",
    ] {
        assert!(out.stdout.lines().any(|l| l == format!("ok {check}")), "{check} missing:\n{}", out.stdout);
    }
}

#[test]
fn a_listening_host_serves_several_clients_on_a_private_socket() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("dllgen-listen-{}", std::process::id())).join("private");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    let sock = dir.join("host.sock");
    let (mut host_process, endpoint) =
        dllgen_tests::listening_host(std::process::Command::new(host()), Some(sock.to_str().unwrap()));
    assert_eq!(endpoint, sock.to_str().unwrap());
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700,
        "the socket's folder is private"
    );

    let connect = |hash: u64, timeout: Option<Duration>| {
        let mut config = Config::new(HostPath::Explicit(PathBuf::from("unused")), hash);
        config.listener = Some(endpoint.clone());
        config.timeout = timeout;
        Client::new(config)
    };
    let workers: Vec<_> = (0..3)
        .map(|t| {
            let c = connect(HASH, None);
            std::thread::spawn(move || {
                for i in 0..2000 {
                    assert_eq!(add(&c, i, t * 100_000), Ok(i + t * 100_000));
                }
                let mut calls = 0;
                let sum = c.call(
                    CALLBACKS,
                    |w| {
                        w.u32(3);
                    },
                    |mut r| r.i32(),
                    &mut |_, mut r, reply| {
                        calls += 1;
                        reply.i32(r.u32()? as i32 + t);
                        Ok(())
                    },
                );
                assert_eq!((sum, calls), (Ok(3 + 3 * t), 3));
                who(&c).0
            })
        })
        .collect();
    let pids: Vec<u32> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    assert!(pids.windows(2).all(|p| p[0] == p[1]), "one host served them all: {pids:?}");
    assert_eq!(pids[0], host_process.id());

    // Another model is refused; the host goes on serving.
    assert!(matches!(add(&connect(7, None), 1, 1), Err(Error::Refused(_))));
    // A client whose call times out is cut off; the host and the other clients go on.
    let impatient = connect(HASH, Some(Duration::from_millis(200)));
    assert_eq!(call_unit(&impatient, SLEEP, 700), Err(Error::Timeout(Duration::from_millis(200))));
    assert_eq!(add(&connect(HASH, None), 2, 3), Ok(5));
    host_process.kill().unwrap();
    host_process.wait().unwrap();
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

#[test]
fn a_listener_refuses_a_folder_others_can_enter() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("dllgen-open-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = dllgen_tests::run(
        std::process::Command::new(host()).arg("--listen").arg(dir.join("host.sock")),
        Duration::from_secs(10),
    );
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("mode 0700"), "{}", out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_pool_spreads_calls_over_several_hosts() {
    let pool = Arc::new(dllgen_runtime::Pool::new(Config::new(HostPath::Explicit(host()), HASH), 3));
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let mut pids = std::collections::BTreeSet::new();
                for i in 0..300 {
                    let sum = pool.call(
                        ADD,
                        |w| {
                            w.i32(i).i32(t);
                        },
                        |mut r| r.i32(),
                        &mut no_callbacks,
                    );
                    assert_eq!(sum, Ok(i + t));
                    let pid = pool.call(WHO, |_| {}, |mut r| r.u32(), &mut no_callbacks).unwrap();
                    pids.insert(pid);
                }
                pids
            })
        })
        .collect();
    let pids: std::collections::BTreeSet<u32> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    assert_eq!(pids.len(), 3, "{pids:?}");
}

#[test]
fn a_call_from_inside_a_callback_nests_on_the_same_connection() {
    let c = client();
    let mut inner = None;
    let outer = c.call(
        CALLBACKS,
        |w| {
            w.u32(1);
        },
        |mut r| r.i32(),
        &mut |_, _, reply| {
            inner = Some(add(&c, 1, 1));
            reply.i32(0);
            Ok(())
        },
    );
    assert_eq!(outer, Ok(0));
    // Served by the host's library thread while it waits for the callback's answer.
    assert_eq!(inner, Some(Ok(2)));
    assert_eq!(add(&c, 1, 1), Ok(2));
}

#[test]
fn a_host_that_stops_talking_but_lives_on_is_not_waited_for() {
    let c = client_with(|cfg| cfg.envs.push(("DLLGEN_TEST_HOST_MODE".into(), "mute".into())));
    let start = Instant::now();
    assert!(matches!(add(&c, 1, 1), Err(Error::HostCrashed(_))));
    assert!(start.elapsed() < Duration::from_secs(5), "waited {:?}", start.elapsed());
}

#[test]
fn programs_the_library_starts_do_not_keep_the_protocol_open() {
    let c = client();
    let start = Instant::now();
    assert!(matches!(call_unit(&c, 12, 0), Err(Error::HostCrashed(_))));
    assert!(start.elapsed() < Duration::from_secs(5), "waited {:?} for an inherited pipe", start.elapsed());
    assert_eq!(add(&c, 1, 1), Ok(2));
}

#[test]
fn a_panicking_callback_handler_leaves_no_deadline_behind() {
    let c = client_with(|cfg| cfg.timeout = Some(Duration::from_millis(300)));
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        c.call(
            CALLBACKS,
            |w| {
                w.u32(1);
            },
            |mut r| r.i32(),
            &mut |_, _, _| panic!("handler bug"),
        )
    }));
    assert!(panicked.is_err());
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(add(&c, 2, 2), Ok(4));
    // A timeout too large to represent means no deadline, not an overflow.
    let patient = client_with(|cfg| cfg.timeout = Some(Duration::MAX));
    assert_eq!(add(&patient, 1, 2), Ok(3));
}

#[test]
fn a_listener_client_that_never_reads_does_not_stall_the_others() {
    use std::io::Write as _;
    let dir = std::env::temp_dir().join(format!("dllgen-slow-{}", std::process::id())).join("private");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    let sock = dir.join("host.sock");
    let (mut host_process, endpoint) =
        dllgen_tests::listening_host(std::process::Command::new(host()), Some(sock.to_str().unwrap()));
    // A raw client: handshake, then a 4 MiB echo whose reply it never reads.
    let mut raw = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    let mut w = Writer::new();
    w.u32(dllgen_runtime::PROTOCOL_VERSION).u64(HASH);
    w.send(&mut raw, dllgen_runtime::wire::Kind::Hello, dllgen_runtime::Status::Ok, 0, 0).unwrap();
    let mut w = Writer::new();
    w.bytes(&vec![7u8; 4 << 20]);
    w.send(&mut raw, dllgen_runtime::wire::Kind::Call, dllgen_runtime::Status::Ok, ECHO, 1).unwrap();
    raw.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut config = Config::new(HostPath::Explicit(PathBuf::from("unused")), HASH);
    config.listener = Some(endpoint);
    config.timeout = Some(Duration::from_secs(5));
    let other = Client::new(config);
    let start = Instant::now();
    for i in 0..100 {
        assert_eq!(add(&other, i, 1), Ok(i + 1));
    }
    assert!(start.elapsed() < Duration::from_secs(3), "{:?}", start.elapsed());
    drop(raw);
    host_process.kill().unwrap();
    host_process.wait().unwrap();
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

/// A host killed while the client waits on the ring (spinning, then sleeping) is noticed
/// through the control pipe within a bounded time.
#[test]
fn a_host_killed_while_the_client_waits_on_shared_memory_is_a_crash() {
    let c = client_over(Some(ShmConfig::default()));
    let pid = c.host_pid().unwrap();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
    });
    let start = Instant::now();
    match call_unit(&c, SLEEP, 10_000) {
        Err(Error::HostCrashed(status)) => {
            assert!(status.contains("9") || status.contains("KILL"), "{status}")
        }
        other => panic!("expected a crash, got {other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(2), "noticed after {:?}", start.elapsed());
    killer.join().unwrap();
    assert_eq!(add(&c, 1, 2), Ok(3), "a new host");
    assert!(c.uses_shared_memory());
}

/// A host that scribbles on the shared region (an absurd write position, bytes that are not
/// a frame) gets a protocol error, never a hang or a panic; the next call starts afresh.
#[test]
fn a_host_scribbling_on_the_region_is_a_protocol_error() {
    for how in [0u32, 1] {
        // No beats: the host's own beat would write its frame over the scribbled bytes
        // (its writer keeps its own position) before the client looked at them.
        let c = client_with(|cfg| cfg.liveness = None);
        c.connect().unwrap();
        assert!(c.uses_shared_memory());
        let start = Instant::now();
        match call_unit(&c, SCRIBBLE, how) {
            Err(Error::Protocol(_)) => {}
            other => panic!("scribble {how}: expected a protocol error, got {other:?}"),
        }
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(add(&c, 2, 3), Ok(5), "scribble {how}: a new host");
    }
}

/// A host started through a runner (Wine, say) may not be a native program: no region is
/// offered, and the pipe is used without complaint.
#[test]
fn a_host_started_through_a_runner_uses_the_pipe() {
    let c = client_with(|cfg| cfg.runner = Some("/usr/bin/env".into()));
    assert_eq!(add(&c, 20, 22), Ok(42));
    assert!(!c.uses_shared_memory());
}

fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status();
    assert!(ok.is_ok_and(|s| s.success()), "kill -{sig} {pid}");
}

/// Stops host process `pid` 200 ms into a 5 s call of `c`: the call must end as
/// `Unresponsive` well before the call would have.
fn stopped_mid_call(c: &Client, pid: u32, limit: Duration) {
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        signal(pid, "STOP");
    });
    let start = Instant::now();
    assert_eq!(call_unit(c, SLEEP, 5000), Err(Error::Unresponsive(limit)));
    assert!(start.elapsed() < Duration::from_millis(2500), "noticed after {:?}", start.elapsed());
    stopper.join().unwrap();
}

/// A host whose process stops during a call (SIGSTOP: a debugger, a frozen machine, a
/// deadlock in the host itself) is declared unresponsive within the liveness limit instead
/// of being waited for; a call that is merely slow, or a slow callback handler, is not
/// (the host's beats come from a thread other than the library thread).
#[test]
fn a_stopped_host_is_unresponsive_but_a_slow_call_is_not() {
    let limit = Duration::from_millis(400);
    for (name, shm) in transports() {
        eprintln!("over {name}");
        let c = client_with(|cfg| {
            cfg.shm = shm;
            cfg.liveness = Some(limit);
        });
        assert_eq!(call_unit(&c, SLEEP, 1500), Ok(()), "a slow call is not cut");
        let slow_handler = c.call(
            CALLBACKS,
            |w| {
                w.u32(1);
            },
            |mut r| r.i32(),
            &mut |_, _, reply| {
                std::thread::sleep(Duration::from_millis(1000));
                reply.i32(5);
                Ok(())
            },
        );
        assert_eq!(slow_handler, Ok(5), "the client's own slow handler is not the host's silence");
        let (pid, _) = who(&c);
        stopped_mid_call(&c, pid, limit);
        let until = Instant::now() + Duration::from_secs(5);
        while alive(pid) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(pid), "the stopped host was killed");
        assert_eq!(add(&c, 1, 2), Ok(3), "the next call gets a new host");
    }
}

/// The same for a listening host: the stopped host's client is cut off with
/// `Unresponsive`; the host itself is not the client's to kill.
#[test]
fn a_stopped_listening_host_is_unresponsive() {
    let dir = std::env::temp_dir().join(format!("dllgen-stopped-{}", std::process::id())).join("private");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    let sock = dir.join("host.sock");
    let (mut host_process, endpoint) =
        dllgen_tests::listening_host(std::process::Command::new(host()), Some(sock.to_str().unwrap()));
    let limit = Duration::from_millis(400);
    let mut config = Config::new(HostPath::Explicit(PathBuf::from("unused")), HASH);
    config.listener = Some(endpoint);
    config.liveness = Some(limit);
    let c = Client::new(config);
    assert_eq!(call_unit(&c, SLEEP, 1200), Ok(()), "a slow call is not cut");
    let pid = host_process.id();
    stopped_mid_call(&c, pid, limit);
    signal(pid, "CONT");
    host_process.kill().unwrap();
    host_process.wait().unwrap();
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

#[test]
fn a_health_check_is_a_round_trip_through_the_host() {
    let c = client();
    assert!(c.health().is_ok(), "starts the host and answers");
    let pid = c.host_pid().expect("running");
    assert!(c.health().unwrap() < Duration::from_secs(5));
    assert_eq!(c.host_pid(), Some(pid), "the same host: nothing was restarted");
    assert_eq!(add(&c, 2, 3), Ok(5), "calls go on");
}

#[test]
fn a_host_that_fails_to_start_is_retried_with_growing_waits() {
    // A "host" that records each start and exits at once.
    let dir = std::env::temp_dir().join(format!("dllgen-backoff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let starts = dir.join("starts");
    let script = dir.join("host.sh");
    std::fs::write(&script, format!("#!/bin/sh\necho start >> '{}'\nexit 1\n", starts.display())).unwrap();
    let mut perms = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&script, perms).unwrap();
    let count = || std::fs::read_to_string(&starts).map_or(0, |s| s.lines().count());
    let backoff = dllgen_runtime::Backoff { first: Duration::from_millis(200), max: Duration::from_secs(1) };
    let c = Client::new({
        let mut config = Config::new(HostPath::Explicit(script.clone()), HASH);
        config.start_backoff = Some(backoff);
        config
    });
    let first = c.connect().unwrap_err().to_string();
    assert!(!first.contains("attempt"), "the first failure as it is: {first}");
    // Within the wait: refused at once with the same reason, the host not started again.
    let e = c.connect().unwrap_err().to_string();
    assert!(
        e.contains("exit status: 1") && e.contains("(start attempt 1 failed; the next is tried in"),
        "{e}"
    );
    assert_eq!(count(), 1);
    std::thread::sleep(Duration::from_millis(300));
    let e = c.connect().unwrap_err().to_string();
    assert_eq!(count(), 2, "tried again once the wait was over");
    assert!(e.contains("start attempt 2 failed"), "{e}");
    let ms: u64 =
        e.split("tried in ").nth(1).and_then(|r| r.split(' ').next()).and_then(|n| n.parse().ok()).unwrap();
    assert!((300..=500).contains(&ms), "twice the first wait, a quarter either way: {ms} ms");
    // The waits double up to the limit.
    assert_eq!(backoff.wait(1), Duration::from_millis(200));
    assert_eq!(backoff.wait(3), Duration::from_millis(800));
    assert_eq!(backoff.wait(9), Duration::from_secs(1));
    // Without a back-off every call tries.
    let c = Client::new({
        let mut config = Config::new(HostPath::Explicit(script), HASH);
        config.start_backoff = None;
        config
    });
    let _ = c.connect();
    let _ = c.connect();
    assert_eq!(count(), 4);
    let _ = std::fs::remove_dir_all(&dir);
}
