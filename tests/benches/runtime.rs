//! Benchmark: the runtime between a 64-bit client and a 32-bit host over the child's pipes,
//! next to a raw ping-pong over the same kind of pipes with a bare 32-bit echo process
//! (the floor), measured in the same run, unpinned and with both processes on one core.
//!
//! Run: `cargo bench -p dllgen-tests --bench runtime` (figures in docs/PERFORMANCE.md).

use dllgen_runtime::{Client, Config, HostPath, Reader, WireError, Writer};
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

fn row(label: &str, ours: Duration, floor: Duration, bytes: Option<usize>) {
    let us = |d: Duration| d.as_secs_f64() * 1e6;
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

fn measure(host: &std::path::Path, demo: &demo_client::Demo, title: &str) {
    println!("{title}");
    let client = Client::new(Config::new(HostPath::Explicit(host.to_path_buf()), HASH));
    client.connect().unwrap();
    let mut raw = Raw::start(host);

    let null = median(21, 2000, || client.call(NULL, |_| {}, |_| Ok(()), &mut none).unwrap());
    let floor = median(21, 2000, || raw.ping(&[0u8; 16]));
    row("null call (16-byte frames)", null, floor, None);

    let mib: Vec<u8> = (0..1 << 20).map(|i| i as u8).collect();
    let big = median(11, 20, || {
        client
            .call(
                ECHO,
                |w| {
                    w.bytes(&mib);
                },
                |mut r| Ok(r.bytes()?.len()),
                &mut none,
            )
            .unwrap();
    });
    let big_floor = median(11, 20, || raw.ping(&mib));
    row("1 MiB in + 1 MiB out", big, big_floor, Some(2 << 20));

    // Generated code: the demo client calling the 32-bit demo library through its host.
    let add = median(21, 2000, || {
        demo.demo_add(40, 2).unwrap();
    });
    row("generated call: demo_add(i32, i32)", add, floor, None);
    let (_, dev) = demo.demo_open("sim1").unwrap();
    let mut samples = vec![1.0f32; 1 << 18];
    let scale = median(11, 20, || {
        demo.demo_scale(dev, &mut samples, 1.0).unwrap();
    });
    row("generated: demo_scale, 1 MiB in place", scale, big_floor, Some(2 << 20));
    let measure_call = median(21, 2000, || {
        demo.demo_measure(dev, 1).unwrap();
    });
    row("generated: demo_measure, out-struct", measure_call, floor, None);
    // 100 callbacks in one call: each is a round trip from the host to this process.
    let calibrate = median(11, 20, || {
        demo.demo_calibrate(dev, 100, Some(&mut |_, _| 0)).unwrap();
    });
    row("generated: demo_calibrate, per callback", calibrate / 100, floor, None);
    demo.demo_close(dev).unwrap();

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
    measure(&host, &demo, "runtime vs raw pipe ping-pong, 64-bit client <-> 32-bit host, unpinned (median)");
    if pin_to_cpu0() {
        // The demo host was started unpinned; a fresh one inherits the affinity.
        demo.client().restart();
        demo.demo_add(0, 0).unwrap();
        measure(&host, &demo, "same, both processes pinned to CPU 0");
    }
}
