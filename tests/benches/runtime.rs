//! Benchmark: the runtime between a 64-bit client and a 32-bit host, over shared memory
//! and over the child's pipes, next to floors measured in the same run with a bare 32-bit
//! echo process: a ping-pong over the same kind of pipes, and over shared memory with one
//! sequence word each way (spinning, and sleeping on a futex); unpinned and with both
//! processes on one core.
//!
//! Run: `cargo bench -p dllgen-tests --bench runtime` (figures in docs/PERFORMANCE.md).

use dllgen_runtime::shm;
use dllgen_runtime::{Client, Config, HostPath, Reader, ShmConfig, WireError, Writer};

#[path = "../floor.rs"]
mod floor;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HASH: u64 = 0x0d11_6e40_0000_0001;
const ECHO: u32 = 0;
const NULL: u32 = 11;

fn none(_: u32, _: Reader<'_>, _: &mut Writer) -> Result<(), WireError> {
    Ok(())
}

/// Median time per operation: `rounds` rounds of `per_round` operations.
fn median(rounds: usize, per_round: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut v: Vec<Duration> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_round {
                f();
            }
            t.elapsed() / per_round as u32
        })
        .collect();
    v.sort();
    v[v.len() / 2]
}

struct Raw {
    child: std::process::Child,
    input: std::process::ChildStdout,
    output: std::process::ChildStdin,
    buf: Vec<u8>,
}

impl Raw {
    fn start(host: &std::path::Path) -> Raw {
        let mut child = Command::new(host)
            .env("DLLGEN_TEST_HOST_MODE", "raw")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let (output, input) = (child.stdin.take().unwrap(), child.stdout.take().unwrap());
        Raw { child, input, output, buf: Vec::new() }
    }

    fn ping(&mut self, msg: &[u8]) {
        let mut frame = Vec::with_capacity(4 + msg.len());
        frame.extend_from_slice(&(msg.len() as u32).to_le_bytes());
        frame.extend_from_slice(msg);
        self.output.write_all(&frame).unwrap();
        let mut len = [0u8; 4];
        self.input.read_exact(&mut len).unwrap();
        self.buf.resize(u32::from_le_bytes(len) as usize, 0);
        self.input.read_exact(&mut self.buf).unwrap();
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pin_to_cpu0() -> bool {
    extern "C" {
        fn sched_setaffinity(pid: i32, size: usize, mask: *const u64) -> i32;
    }
    let mask: u64 = 1;
    // SAFETY: pid 0 (this process), one u64 of mask; children inherit the affinity.
    unsafe { sched_setaffinity(0, std::mem::size_of::<u64>(), &mask) == 0 }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn row(label: &str, ours: Duration, floor: Duration, bytes: Option<usize>) {
    match bytes {
        Some(b) => {
            let gbps = |d: Duration| b as f64 / d.as_secs_f64() / 1e9;
            println!(
                "  {label:<40} {:>9.1} us {:>7.3} GB/s   floor {:>9.1} us {:>7.3} GB/s   throughput x{:.2}",
                us(ours),
                gbps(ours),
                us(floor),
                gbps(floor),
                floor.as_secs_f64() / ours.as_secs_f64()
            );
        }
        None => println!(
            "  {label:<40} {:>9.1} us   floor {:>9.1} us   x{:.2} the floor",
            us(ours),
            us(floor),
            ours.as_secs_f64() / floor.as_secs_f64()
        ),
    }
}

/// The shared-memory floor's peer: the test host in `shm-floor` mode.
struct ShmFloor {
    child: std::process::Child,
    floor: floor::Floor,
    buf: Vec<u8>,
}

impl ShmFloor {
    fn start(host: &std::path::Path, spin: Duration) -> ShmFloor {
        let floor = floor::Floor::create(4 << 20, spin);
        let mut cmd = Command::new(host);
        cmd.env("DLLGEN_TEST_HOST_MODE", "shm-floor")
            .env("DLLGEN_FLOOR_SPIN_US", spin.as_micros().to_string())
            .env(shm::ENV, floor.region().token());
        shm::inheritable(floor.region(), &mut cmd);
        ShmFloor { child: cmd.spawn().unwrap(), floor, buf: Vec::new() }
    }

    fn ping(&mut self, msg: &[u8]) {
        self.floor.ping(msg, &mut self.buf);
    }
}

impl Drop for ShmFloor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// msl-loadlib doing the same calls (tests/benches/msl_loadlib.sh, optional: it installs
/// into a private venv and says why when it cannot run), next to ours: (null call, 1 MiB).
fn msl_loadlib(null_ours: Duration, big_ours: Duration, proxy: Option<&std::path::Path>) {
    if std::env::var_os("DLLGEN_BENCH_NO_MSL").is_some() {
        println!("msl-loadlib: skipped (DLLGEN_BENCH_NO_MSL is set)");
        return;
    }
    let script = dllgen_tests::workspace_root().join("tests/benches/msl_loadlib.sh");
    let out = match Command::new("bash").arg(&script).output() {
        Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
        Err(e) => return println!("msl-loadlib: skipped: cannot run {}: {e}", script.display()),
    };
    print!("{out}");
    let number = |prefix: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok())
    };
    if let Some(null) = number("msl-loadlib: null call ") {
        println!("  our null call (shared memory, unpinned) is {:.0}x faster", null / us(null_ours));
    }
    if let Some(big) = number("msl-loadlib: 1 MiB in + 1 MiB out ") {
        println!("  our 1 MiB in + 1 MiB out (shared memory, unpinned) is {:.1}x faster", big / us(big_ours));
    }
    // The same null call from Python: ctypes on the proxy, next to ctypes on the 64-bit
    // library itself.
    let (Some(proxy), Some(msl)) = (proxy, number("msl-loadlib: null call ")) else { return };
    let native = dllgen_tests::demo_library().join("libdemo64.so");
    let script = dllgen_tests::workspace_root().join("tests/benches/ctypes_proxy.py");
    let out = match Command::new("python3").arg(&script).arg(&native).arg(proxy).output() {
        Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
        Err(e) => return println!("ctypes: skipped: {e}"),
    };
    let time = |p: &std::path::Path| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("ctypes {} ", p.display())))
            .and_then(|n| n.trim().parse::<f64>().ok())
    };
    if let (Some(n), Some(p)) = (time(&native), time(proxy)) {
        println!(
            "  Python ctypes, demo_add: the proxy {p:.2} us (the 64-bit library itself {n:.2} us): {:.0}x faster than msl-loadlib's null call",
            msl / p
        );
    }
}

/// The Windows pair under Wine (64-bit client, i686 host, both release): shared memory
/// against the child's pipes in the same run.
fn under_wine() {
    let host = dllgen_tests::build_bin_release("dllgen-test-host", "dllgen-test-host", "i686-pc-windows-gnu");
    let client =
        dllgen_tests::build_bin_release("dllgen-test-host", "dllgen-test-client", "x86_64-pc-windows-gnu");
    let wine = dllgen_tests::Wine::get();
    let out = dllgen_tests::run(
        wine.command(&client).arg("bench").arg(dllgen_tests::Wine::path(&host)),
        Duration::from_secs(300),
    );
    let get = |name: &str| {
        out.stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("bench {name} ")))
            .and_then(|v| v.parse::<f64>().ok())
    };
    match (get("shm-null"), get("pipe-null"), get("shm-1mib"), get("pipe-1mib")) {
        (Some(sn), Some(pn), Some(sb), Some(pb)) => {
            println!("under Wine (Windows client and host), unpinned (median)");
            println!(
                "  null call, shared memory {sn:>9.1} us   pipe {pn:>9.1} us   x{:.3} the pipe",
                sn / pn
            );
            let gbps = |us: f64| (2 << 20) as f64 / us / 1e3;
            println!(
                "  1 MiB in + 1 MiB out, shared memory {sb:>9.1} us ({:.3} GB/s)   pipe {pb:>9.1} us ({:.3} GB/s)",
                gbps(sb),
                gbps(pb)
            );
        }
        _ => println!("under Wine: no figures:\n{}\n{}", out.stdout, out.stderr),
    }
}

/// Kept callbacks through the generated kinds client: one fired inside a call, and events
/// fired by the fake camera's acquisition thread with no call in flight (each frame a
/// round trip: the library thread waits for the closure's result), small and 64 KiB.
fn library_threads(k: &'static kinds_linux_client::KindsLinux, floor: Duration, floor_64k: Duration) {
    let (_, dev) = k.open("bench").unwrap();
    k.kx_listen(dev, Some(Box::new(|e, _| e))).unwrap();
    let in_call = median(11, 20, || {
        k.kx_emit(dev, 100, "x").unwrap();
    });
    row("kept callback inside a call, each", in_call / 100, floor, None);
    k.kx_close(Some(dev)).unwrap();
    let frames = |bytes: u32, n: u32| {
        let cam = k.kx_camera_open(bytes).unwrap();
        k.kx_camera_on_frame(cam, Some(Box::new(|_, data: &[u8], _| i32::from(data.is_empty())))).unwrap();
        let per_frame = median(7, 1, || {
            k.kx_camera_start(cam, n).unwrap();
            assert_eq!(k.kx_camera_wait(cam).unwrap(), n as i32);
        }) / n;
        k.kx_camera_close(cam).unwrap();
        per_frame
    };
    let small = frames(16, 2000);
    row("event from a library thread, 16 B", small, floor, None);
    let big = frames(64 << 10, 1000);
    row("event from a library thread, 64 KiB", big, floor_64k, None);
    println!(
        "  64 KiB frames: {:.0} frames/s, {:.3} GB/s (the floor's 64 KiB ping, echoed back: {:.0}/s)",
        1.0 / big.as_secs_f64(),
        f64::from(64 << 10) / big.as_secs_f64() / 1e9,
        1.0 / floor_64k.as_secs_f64()
    );
    let queued = queued_frames(k, 64 << 10, 1000);
    row("64 KiB frame into a queued buffer, read back", queued, floor_64k, None);
    println!(
        "  queued 64 KiB frames: {:.0} frames/s, {:.3} GB/s",
        1.0 / queued.as_secs_f64(),
        f64::from(64 << 10) / queued.as_secs_f64() / 1e9
    );
}

/// Frames into buffers the client queues (retained output buffers the camera's thread
/// fills): each completion, an event, reads its buffer back and queues the next (two calls
/// nested in the event). Per frame.
fn queued_frames(k: &'static kinds_linux_client::KindsLinux, bytes: usize, n: u32) -> Duration {
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
    use std::sync::{Arc, Mutex};
    struct Q {
        tokens: Mutex<std::collections::HashMap<i32, kinds_linux_client::Retained<u8>>>,
        queued: AtomicU32,
        n: u32,
        bytes: usize,
        cam: kinds_linux_client::Camera,
    }
    fn queue(k: &'static kinds_linux_client::KindsLinux, q: &Arc<Q>) {
        let again = q.clone();
        let filled = move |id: i32, _frame: u32, _len: u32| {
            let token = again.tokens.lock().unwrap().remove(&id).expect("a token");
            std::hint::black_box(k.client().read_retained(&token).unwrap());
            if again.queued.load(SeqCst) < again.n {
                queue(k, &again);
            }
        };
        let (id, token) = k.kx_camera_queue(q.cam, q.bytes, Box::new(filled)).unwrap();
        q.queued.fetch_add(1, SeqCst);
        q.tokens.lock().unwrap().insert(id, token);
    }
    median(5, 1, || {
        let cam = k.kx_camera_open(bytes as u32).unwrap();
        let q = Arc::new(Q { tokens: Mutex::default(), queued: AtomicU32::new(0), n, bytes, cam });
        for _ in 0..4 {
            queue(k, &q);
        }
        k.kx_camera_start(cam, n).unwrap();
        assert_eq!(k.kx_camera_wait(cam).unwrap(), n as i32);
        k.kx_camera_close(cam).unwrap();
    }) / n
}

/// The demo's proxy library (generated/demo-proxy, release), loaded into this process as a
/// C program would: its functions by name, called through the C ABI.
struct Proxy {
    /// The library file (its host beside it).
    path: std::path::PathBuf,
    add: extern "C" fn(i32, i32) -> i32,
    open: OpenFn,
    scale: ScaleFn,
    measure: MeasureFn,
    calibrate: CalibrateFn,
    close: CloseFn,
}

type OpenFn = unsafe extern "C" fn(*const std::ffi::c_char, *mut *mut std::ffi::c_void) -> i32;
type ScaleFn = unsafe extern "C" fn(*mut std::ffi::c_void, *mut f32, u32, f64) -> i32;
type MeasureFn = unsafe extern "C" fn(*mut std::ffi::c_void, u32, *mut [u8; 40]) -> i32;
type CalibrateFn = unsafe extern "C" fn(
    *mut std::ffi::c_void,
    u32,
    Option<extern "C" fn(*mut std::ffi::c_void, u32, u32) -> i32>,
    *mut std::ffi::c_void,
) -> i32;
type CloseFn = unsafe extern "C" fn(*mut std::ffi::c_void);

extern "C" {
    fn dlopen(path: *const std::ffi::c_char, flags: i32) -> *mut std::ffi::c_void;
    fn dlsym(h: *mut std::ffi::c_void, name: *const std::ffi::c_char) -> *mut std::ffi::c_void;
}

impl Proxy {
    /// The proxy, with the release host beside it; `None` (said why) when it cannot load.
    fn load(demo_host: &std::path::Path) -> Option<Proxy> {
        let lib = dllgen_tests::build_cdylib_release("demo-proxy", "libdemo.so", "x86_64-unknown-linux-gnu");
        let dir = std::env::temp_dir().join(format!("dllgen-bench-proxy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        std::fs::copy(&lib, dir.join("libdemo.so")).ok()?;
        std::fs::copy(demo_host, dir.join("demo-host")).ok()?;
        let path = std::ffi::CString::new(dir.join("libdemo.so").to_str()?).ok()?;
        // SAFETY: a NUL-terminated path; the library stays loaded for the process.
        let h = unsafe { dlopen(path.as_ptr(), 2) };
        if h.is_null() {
            println!("proxy: skipped: dlopen failed");
            return None;
        }
        let sym = |name: &str| {
            let c = std::ffi::CString::new(name).unwrap();
            // SAFETY: a NUL-terminated name; the handle is open.
            let p = unsafe { dlsym(h, c.as_ptr()) };
            assert!(!p.is_null(), "the proxy exports {name}");
            p
        };
        // SAFETY: each symbol is the demo function of that prototype (demo.h, 64-bit).
        unsafe {
            Some(Proxy {
                path: dir.join("libdemo.so"),
                add: std::mem::transmute::<*mut std::ffi::c_void, extern "C" fn(i32, i32) -> i32>(sym(
                    "demo_add",
                )),
                open: std::mem::transmute::<*mut std::ffi::c_void, OpenFn>(sym("demo_open")),
                scale: std::mem::transmute::<*mut std::ffi::c_void, ScaleFn>(sym("demo_scale")),
                measure: std::mem::transmute::<*mut std::ffi::c_void, MeasureFn>(sym("demo_measure")),
                calibrate: std::mem::transmute::<*mut std::ffi::c_void, CalibrateFn>(sym("demo_calibrate")),
                close: std::mem::transmute::<*mut std::ffi::c_void, CloseFn>(sym("demo_close")),
            })
        }
    }
}

extern "C" fn keep_going(_: *mut std::ffi::c_void, _: u32, _: u32) -> i32 {
    0
}

/// The proxy's calls next to the same calls through the Rust client, in the same run.
fn proxy_calls(p: &Proxy, rust: &[(&str, Duration)]) {
    let base = |name: &str| rust.iter().find(|(n, _)| *n == name).map(|(_, d)| *d).unwrap();
    let line = |label: &str, ours: Duration, name: &str| {
        let b = base(name);
        println!(
            "  {label:<40} {:>9.1} us   Rust client {:>9.1} us   x{:.2} the Rust client",
            us(ours),
            us(b),
            ours.as_secs_f64() / b.as_secs_f64()
        );
    };
    let add = median(21, 2000, || {
        assert_eq!((p.add)(40, 2), 42);
    });
    line("proxy (C ABI): demo_add", add, "add");
    let mut dev = std::ptr::null_mut();
    // SAFETY: the prototypes of demo.h; the buffers outlive each call.
    unsafe {
        assert_eq!((p.open)(c"sim1".as_ptr(), &mut dev), 0);
        let mut samples = vec![1.0f32; 1 << 18];
        let scale = median(11, 20, || {
            assert_eq!((p.scale)(dev, samples.as_mut_ptr(), samples.len() as u32, 1.0), 0);
        });
        line("proxy: demo_scale, 1 MiB in place", scale, "scale");
        let mut reading = [0u8; 40];
        let measure = median(21, 2000, || {
            assert_eq!((p.measure)(dev, 1, &mut reading), 0);
        });
        line("proxy: demo_measure, out-struct", measure, "measure");
        let calibrate = median(11, 20, || {
            assert_eq!((p.calibrate)(dev, 100, Some(keep_going), std::ptr::null_mut()), 0);
        });
        line("proxy: demo_calibrate, per callback", calibrate / 100, "calibrate");
        (p.close)(dev);
    }
}

fn measure(
    host: &std::path::Path,
    demo: &demo_client::Demo,
    kinds: &'static kinds_linux_client::KindsLinux,
    proxy: Option<&Proxy>,
    title: &str,
) -> (Duration, Duration) {
    println!("{title}");
    // Spinning only pays with a second CPU to run the other side (the runtime's own rule).
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let spin = if cpus > 1 { ShmConfig::default().spin } else { Duration::ZERO };
    let over = |shm: Option<ShmConfig>| {
        let mut config = Config::new(HostPath::Explicit(host.to_path_buf()), HASH);
        config.shm = shm;
        let c = Client::new(config);
        c.connect().unwrap();
        c
    };
    let (shm_client, pipe_client) = (over(Some(ShmConfig::default())), over(None));
    let mut raw = Raw::start(host);
    let mut spin_floor = ShmFloor::start(host, spin);
    let mut futex_floor = ShmFloor::start(host, Duration::ZERO);

    let null = |c: &Client| median(21, 2000, || c.call(NULL, |_| {}, |_| Ok(()), &mut none).unwrap());
    let pipe_floor = median(21, 2000, || raw.ping(&[0u8; 16]));
    let shm_spin = median(21, 2000, || spin_floor.ping(&[0u8; 16]));
    let shm_futex = median(21, 500, || futex_floor.ping(&[0u8; 16]));
    println!(
        "  floors, 16 bytes each way: pipe {:.2} us, shared memory spinning {:.2} us, sleeping {:.2} us",
        us(pipe_floor),
        us(shm_spin),
        us(shm_futex)
    );
    let (null_shm, null_pipe) = (null(&shm_client), null(&pipe_client));
    row("null call, shared memory", null_shm, shm_spin, None);
    row("null call, shared memory (vs pipe floor)", null_shm, pipe_floor, None);
    row("null call, pipe", null_pipe, pipe_floor, None);

    let mib: Vec<u8> = (0..1 << 20).map(|i| i as u8).collect();
    // The echo is copied out of the reply, as the floors copy it into their buffer.
    let mut back = Vec::with_capacity(1 << 20);
    let mut big = |c: &Client| {
        median(11, 20, || {
            c.call(
                ECHO,
                |w| {
                    w.bytes(&mib);
                },
                |mut r| {
                    back.clear();
                    back.extend_from_slice(r.bytes()?);
                    Ok(())
                },
                &mut none,
            )
            .unwrap();
        })
    };
    let big_pipe_floor = median(11, 20, || raw.ping(&mib));
    let big_shm_floor = median(11, 20, || spin_floor.ping(&mib));
    let floor_64k = median(11, 200, || spin_floor.ping(&mib[..64 << 10]));
    let (big_shm, big_pipe) = (big(&shm_client), big(&pipe_client));
    row("1 MiB in + 1 MiB out, shared memory", big_shm, big_shm_floor, Some(2 << 20));
    row("1 MiB in + 1 MiB out, pipe", big_pipe, big_pipe_floor, Some(2 << 20));
    drop((spin_floor, futex_floor));

    // Generated code: the demo client calling the 32-bit demo library through its host
    // (shared memory, the default).
    let add = median(21, 2000, || {
        demo.demo_add(40, 2).unwrap();
    });
    row("generated call: demo_add(i32, i32)", add, shm_spin, None);
    let (_, dev) = demo.demo_open("sim1").unwrap();
    let mut samples = vec![1.0f32; 1 << 18];
    let scale = median(11, 20, || {
        demo.demo_scale(dev, &mut samples, 1.0).unwrap();
    });
    row("generated: demo_scale, 1 MiB in place", scale, big_shm_floor, Some(2 << 20));
    let measure_call = median(21, 2000, || {
        demo.demo_measure(dev, 1).unwrap();
    });
    row("generated: demo_measure, out-struct", measure_call, shm_spin, None);
    // 100 callbacks in one call: each is a round trip from the host to this process.
    let calibrate = median(11, 20, || {
        demo.demo_calibrate(dev, 100, Some(&mut |_, _| 0)).unwrap();
    });
    row("generated: demo_calibrate, per callback", calibrate / 100, shm_spin, None);
    demo.demo_close(dev).unwrap();
    if let Some(p) = proxy {
        let rust =
            [("add", add), ("scale", scale), ("measure", measure_call), ("calibrate", calibrate / 100)];
        proxy_calls(p, &rust);
    }
    library_threads(kinds, shm_spin, floor_64k);

    // Only the start-up is timed; shutting down happens after the clock stops.
    let timed = |start: &mut dyn FnMut() -> Box<dyn std::any::Any>| {
        let mut v: Vec<Duration> = (0..21)
            .map(|_| {
                let t = Instant::now();
                let keep = start();
                let d = t.elapsed();
                drop(keep);
                d
            })
            .collect();
        v.sort();
        v[v.len() / 2]
    };
    let spawn = timed(&mut || {
        let c = Client::new(Config::new(HostPath::Explicit(host.to_path_buf()), HASH));
        c.connect().unwrap();
        Box::new(c)
    });
    let spawn_floor = timed(&mut || {
        let mut r = Raw::start(host);
        r.ping(&[0u8; 16]);
        Box::new(r)
    });
    row("spawn + handshake", spawn, spawn_floor, None);
    (null_shm, big_shm)
}

/// The null call with the runtime's `trace` feature compiled in but off, against the same
/// program without it: two builds of tests/null_call.rs, run in turns.
fn tracing_cost(host: &std::path::Path) {
    let target = dllgen_tests::HOST_TARGET;
    let plain = dllgen_tests::build_bin_release("dllgen-tests", "dllgen-null-call", target);
    let traced =
        dllgen_tests::build_bin_with("rig-trace", "dllgen-tests", "dllgen-null-call", target, "trace", true);
    let time = |exe: &std::path::Path| -> f64 {
        let out =
            Command::new(exe).arg(host).args(["21", "2000"]).env_remove("DLLGEN_TRACE").output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().parse::<f64>().unwrap() / 1000.0
    };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        a.push(time(&plain));
        b.push(time(&traced));
    }
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (a, b) = (a[2], b[2]);
    println!(
        "  null call, shared memory: tracing compiled in but off {b:.2} us, without it {a:.2} us: x{:.3}",
        b / a
    );
}

fn main() {
    let host =
        dllgen_tests::build_bin_release("dllgen-test-host", "dllgen-test-host", "i686-unknown-linux-gnu");
    let demo_host = dllgen_tests::build_bin_release("demo-host", "demo-host", "i686-unknown-linux-gnu");
    let mut config = demo_client::Config::new(demo_client::HostPath::Explicit(demo_host), 0);
    let library = dllgen_tests::demo_library().join("libdemo32.so");
    config.envs.push(("DEMO_LIBRARY".into(), library.into()));
    let demo = demo_client::Demo::with_config(config);
    demo.demo_add(0, 0).unwrap();
    let kinds_host =
        dllgen_tests::build_bin_release("kinds-linux-host", "kinds-linux-host", "i686-unknown-linux-gnu");
    let mut config = kinds_linux_client::KindsLinux::config();
    config.host = kinds_linux_client::HostPath::Explicit(kinds_host);
    config.envs.push(("KINDS_LINUX_LIBRARY".into(), dllgen_tests::fixture("libfx_kinds32.so").into()));
    // For the life of the bench: closures the camera's thread runs call it.
    let kinds: &'static kinds_linux_client::KindsLinux =
        Box::leak(Box::new(kinds_linux_client::KindsLinux::with_config(config)));
    // Its host, started on its first call, inherits this process's environment.
    std::env::set_var("DEMO_LIBRARY", dllgen_tests::demo_library().join("libdemo32.so"));
    let proxy =
        Proxy::load(&dllgen_tests::build_bin_release("demo-host", "demo-host", "i686-unknown-linux-gnu"));
    let (null, big) = measure(
        &host,
        &demo,
        kinds,
        proxy.as_ref(),
        "runtime vs raw ping-pongs, 64-bit client <-> 32-bit host, unpinned (median)",
    );
    tracing_cost(&host);
    // Before pinning: their processes would inherit the affinity.
    msl_loadlib(null, big, proxy.as_ref().map(|p| p.path.as_path()));
    under_wine();
    if pin_to_cpu0() {
        // The demo host was started unpinned; a fresh one inherits the affinity.
        demo.client().restart();
        demo.demo_add(0, 0).unwrap();
        kinds.client().restart();
        // (The proxy's host was started unpinned: the proxy is measured above only.)
        measure(&host, &demo, kinds, None, "same, both processes pinned to CPU 0");
    }
}
