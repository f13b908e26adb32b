//! The generated client's `_async` methods (generated/demo-client) from two executors,
//! pollster's `block_on` and a tokio runtime: results as the blocking methods give them, a
//! pending call that does not hold the executor's thread, and a dropped future whose call
//! still completes in the host.

use demo_client::{Demo, HostPath};
use dllgen_tests::{build_bin, demo_library};
use std::future::Future;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

fn demo() -> Demo {
    let host = build_bin("demo-host", "demo-host", "i686-unknown-linux-gnu");
    let mut config = Demo::config();
    config.host = HostPath::Explicit(host);
    config.envs.push(("DEMO_LIBRARY".into(), demo_library().join("libdemo32.so").into()));
    Demo::with_config(config)
}

fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill").args([sig, &pid.to_string()]).status().unwrap();
    assert!(ok.success());
}

#[test]
fn async_methods_run_from_pollster_and_tokio() {
    let d = demo();
    assert_eq!(pollster::block_on(d.demo_add_async(40, 2)).unwrap(), 42);
    let values: Vec<i32> = (1..=100).collect();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let (sum, version, added) = rt.block_on(async {
        // Two calls in flight from one thread; one as a task of its own.
        let sum = tokio::spawn(d.demo_sum_async(values.clone()));
        let version = d.demo_version_async();
        let added = d.demo_add_async(1, 2).await.unwrap();
        (sum.await.unwrap().unwrap(), version.await.unwrap(), added)
    });
    assert_eq!((sum, added), (d.demo_sum(&values).unwrap(), 3));
    assert_eq!(version, d.demo_version().unwrap());
    // The library's own failure arrives as the blocking method's error.
    let failed = pollster::block_on(d.demo_open_async("no-such-device".into())).unwrap_err();
    assert_eq!(failed, d.demo_open("no-such-device").unwrap_err());
}

#[test]
fn a_pending_call_does_not_hold_the_executor_and_a_dropped_one_completes() {
    let d = demo();
    d.demo_add(0, 0).unwrap();
    let pid = d.client().host_pid().unwrap();
    // The host stopped: the call cannot complete, and polling it returns at once.
    signal(pid, "-STOP");
    let mut pending = Box::pin(d.demo_add_async(20, 22));
    let t = Instant::now();
    let polled = pending.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    assert!(polled.is_pending() && t.elapsed() < Duration::from_millis(100), "{:?}", t.elapsed());
    signal(pid, "-CONT");
    assert_eq!(pollster::block_on(pending).unwrap(), 42);
    // Dropped at once: the write still happens in the host.
    let (_, dev) = d.demo_open("sim7").unwrap();
    drop(d.demo_write_async(dev, b"written by a dropped future".to_vec()));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, read) = d.demo_read(dev, 64).unwrap();
        if read == b"written by a dropped future" {
            break;
        }
        assert!(Instant::now() < deadline, "the dropped future's write never happened: {read:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
