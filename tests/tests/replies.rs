//! A host that lies in its replies (tests/runtime-host/src/liar.rs, a real i686 process
//! speaking the demo's functions) against the generated demo client: every reply longer
//! than the call asked for, inline or through the shared bulk area, and every reply under
//! another function's id, is a protocol error, allocates nothing of the claimed size, and
//! the host is replaced.

use demo_client::{Config, Demo, Error, HostPath, MODEL_HASH};
use dllgen_runtime::ShmConfig;
use dllgen_tests::build_bin;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Records the largest single allocation made on a thread that asked for it.
struct Largest;

thread_local! {
    /// `Some(largest so far)` while this thread records.
    static LARGEST: Cell<Option<usize>> = const { Cell::new(None) };
}

fn note(size: usize) {
    let _ = LARGEST.try_with(|l| {
        if let Some(max) = l.get() {
            l.set(Some(max.max(size)));
        }
    });
}

// SAFETY: forwards to the system allocator; the bookkeeping allocates nothing.
unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's layout, forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        // SAFETY: `p` came from `System` through this allocator, with `layout`.
        unsafe { System.dealloc(p, layout) }
    }
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: as for `dealloc`, with the caller's new size.
        unsafe { System.realloc(p, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Largest = Largest;

/// Runs `f`, returning its result and the largest allocation it made on this thread.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|l| l.set(Some(0)));
    let v = f();
    (v, LARGEST.with(|l| l.take()).unwrap_or(0))
}

/// A demo client whose host is the liar, lying as `mode`; `shm: None` is the pipe.
fn liar(mode: &str, shm: Option<ShmConfig>) -> Demo {
    let host = build_bin("dllgen-test-host", "dllgen-liar-host", "i686-unknown-linux-gnu");
    let mut config = Config::new(HostPath::Explicit(host), 0);
    config.envs.push(("DLLGEN_LIAR_HASH".into(), format!("{MODEL_HASH:x}").into()));
    config.envs.push(("DLLGEN_LIAR_MODE".into(), mode.into()));
    config.shm = shm;
    let d = Demo::with_config(config);
    assert_eq!(d.demo_add(2, 3), Ok(5), "the liar answers honest calls");
    assert_eq!(d.client().uses_shared_memory(), shm.is_some(), "the transport in use");
    d
}

/// Checks `got` is a protocol error and returns its message (an accepted reply is not
/// printed: it is megabytes).
fn protocol_error<T>(got: Result<T, Error>, what: &str) -> String {
    match got {
        Err(Error::Protocol(m)) => m,
        Err(e) => panic!("{what}: {e:?}"),
        Ok(_) => panic!("{what}: the reply was accepted"),
    }
}

/// After a lie, the next call goes to a new host process.
fn replaced(d: &Demo, before: Option<u32>) {
    assert_eq!(d.client().host_pid(), None, "the lying host was stopped");
    assert_eq!(d.demo_add(20, 22), Ok(42));
    assert!(d.client().host_pid().is_some_and(|pid| Some(pid) != before), "a fresh host answers");
}

#[test]
fn out_buffers_longer_than_their_capacity_are_refused_and_the_host_replaced() {
    for (transport, shm) in [("shared memory", Some(ShmConfig::default())), ("pipe", None)] {
        let d = liar("long", shm);
        let (_, dev) = d.demo_open("sim0").unwrap();
        let pid = d.client().host_pid();
        let (got, largest) = largest_allocation(|| d.demo_read(dev, 64));
        protocol_error(got, &format!("demo_read(dev, 64) answered with 3 MiB over {transport}"));
        if shm.is_some() {
            // The frame is a reference into the bulk area, so nothing of the claimed size
            // is allocated at all. (Over the pipe the 3 MiB arrive in the frame itself,
            // bounded by the frame limit; what is refused there is the copy.)
            assert!(largest < 1 << 20, "allocated {largest} bytes for a refused reply");
        }
        replaced(&d, pid);

        let (_, dev) = d.demo_open("sim0").unwrap();
        let pid = d.client().host_pid();
        protocol_error(
            d.demo_name(dev, 16),
            &format!("demo_name(dev, 16) answered with 3 MiB over {transport}"),
        );
        replaced(&d, pid);

        // An in-place buffer coming back longer than the caller's slice.
        let (_, dev) = d.demo_open("sim0").unwrap();
        let pid = d.client().host_pid();
        let mut samples = [1.0f32, 2.0, 3.0];
        protocol_error(d.demo_scale(dev, &mut samples, 2.0), &format!("demo_scale over {transport}"));
        assert_eq!(samples, [1.0, 2.0, 3.0], "the caller's slice is left as it was");
        replaced(&d, pid);
    }
}

#[test]
fn a_forged_bulk_reference_is_bounded_by_the_capacity() {
    let d = liar("forged", Some(ShmConfig::default()));
    let (_, dev) = d.demo_open("sim0").unwrap();
    let pid = d.client().host_pid();
    // 4 MiB at offset 0 lies inside the bulk area (as large as a ring, 4 MiB by default):
    // only the capacity check stands between it and a 4 MiB copy.
    let (got, largest) = largest_allocation(|| d.demo_read(dev, 64));
    let message = protocol_error(got, "a forged 4 MiB reference for 64 bytes");
    assert!(message.contains("4194304 bytes where the call asked for at most 64"), "{message}");
    assert!(largest < 1 << 20, "allocated {largest} bytes for a refused reply");
    replaced(&d, pid);
}

#[test]
fn a_reply_under_another_functions_id_is_refused() {
    let d = liar("wrong-id", None);
    let pid = d.client().host_pid();
    // The payload would decode as demo_version's result; the id says it is not one.
    let message = protocol_error(d.demo_version(), "a reply under demo_add's id");
    assert!(message.contains("a reply from function 0 to a call of function 14"), "{message}");
    replaced(&d, pid);
}
