//! End to end: the checked-in generated crates for the demo library (specs/demo.yaml).
//! The 64-bit generated client calls the 32-bit library through the generated host (built
//! for i686-unknown-linux-gnu); every result is compared with a direct call into the
//! library's 64-bit build.

use demo_client::{Demo, Error, HostPath};
use dllgen_tests::{build_bin, demo_library};
use std::ffi::{c_char, c_void, CStr, CString};

fn demo() -> Demo {
    let build = demo_library();
    let host = build_bin("demo-host", "demo-host", "i686-unknown-linux-gnu");
    let mut config = Demo::config();
    config.host = HostPath::Explicit(host);
    config.envs.push(("DEMO_LIBRARY".into(), build.join("libdemo32.so").into()));
    Demo::with_config(config)
}

/// The 64-bit build of the same library, called directly.
struct Direct(*mut c_void);

extern "C" {
    fn dlopen(path: *const c_char, flags: i32) -> *mut c_void;
    fn dlsym(h: *mut c_void, name: *const c_char) -> *mut c_void;
}

impl Direct {
    fn open() -> Direct {
        let path = CString::new(demo_library().join("libdemo64.so").to_str().unwrap()).unwrap();
        // SAFETY: a NUL-terminated path.
        let h = unsafe { dlopen(path.as_ptr(), 2) };
        assert!(!h.is_null());
        Direct(h)
    }

    fn sym<T: Copy>(&self, name: &str) -> T {
        let c = CString::new(name).unwrap();
        // SAFETY: the caller names the function's real type.
        unsafe {
            let p = dlsym(self.0, c.as_ptr());
            assert!(!p.is_null(), "{name}");
            std::mem::transmute_copy::<*mut c_void, T>(&p)
        }
    }
}

/// A small deterministic generator for test inputs.
fn numbers(seed: u64, n: usize) -> Vec<i32> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as i32
        })
        .collect()
}

#[test]
fn every_function_matches_the_64bit_build() {
    let d = demo();
    let direct = Direct::open();

    let add: extern "C" fn(i32, i32) -> i32 = direct.sym("demo_add");
    for v in numbers(1, 50).chunks(2) {
        assert_eq!(d.demo_add(v[0], v[1]), Ok(add(v[0], v[1])));
    }

    let version: extern "C" fn() -> *const c_char = direct.sym("demo_version");
    // SAFETY: a static NUL-terminated string.
    let expected = unsafe { CStr::from_ptr(version()) }.to_str().unwrap().to_string();
    assert_eq!(d.demo_version(), Ok(Some(expected)));

    let sum: extern "C" fn(*const i32, u32) -> i64 = direct.sym("demo_sum");
    for n in [0usize, 1, 7, 1000, 100_000] {
        let v = numbers(n as u64, n);
        assert_eq!(d.demo_sum(&v), Ok(sum(v.as_ptr(), n as u32)), "sum of {n}");
    }

    let toggle: extern "C" fn(*mut u32) -> u32 = direct.sym("demo_toggle");
    for seed in 0..20u32 {
        let (mut a, mut b) = (seed.wrapping_mul(2654435761), seed.wrapping_mul(2654435761));
        assert_eq!(d.demo_toggle(&mut a), Ok(toggle(&mut b)));
        assert_eq!(a, b);
    }
}

/// Optional pointers: every combination of given and absent, against the direct call.
#[test]
fn optional_pointers_match_direct_calls() {
    let d = demo();
    let direct = Direct::open();
    let clamp: extern "C" fn(*const i32, *mut i32, *mut u8) -> i32 = direct.sym("demo_clamp");
    for low in [None, Some(-5), Some(50)] {
        for value in [None, Some(-20), Some(7), Some(60), Some(1000)] {
            let (mut a, mut b) = (value, value);
            let mut flag = 9u8;
            let expected = clamp(
                low.as_ref().map_or(std::ptr::null(), |l| l as *const i32),
                b.as_mut().map_or(std::ptr::null_mut(), |v| v as *mut i32),
                &mut flag,
            );
            let got = d.demo_clamp(low, a.as_mut());
            assert_eq!(got, Ok((expected, flag)), "low {low:?}, value {value:?}");
            assert_eq!(a, b, "low {low:?}, value {value:?}: the in-out value");
        }
    }
}

/// Optional buffers: given or absent, of random lengths, against the direct call.
#[test]
fn optional_buffers_match_direct_calls() {
    let d = demo();
    let direct = Direct::open();
    let mix: extern "C" fn(*const i16, u32, *mut i32, u32) -> i32 = direct.sym("demo_mix");
    for seed in 0..24u64 {
        let add: Vec<i16> = numbers(seed, (seed as usize * 7) % 40).iter().map(|&x| x as i16).collect();
        let acc0: Vec<i32> = numbers(seed + 100, (seed as usize * 5) % 30).iter().map(|x| x >> 4).collect();
        let (give_add, give_acc) = (seed % 4 != 1, seed % 4 != 2 && seed % 4 != 3);
        let (mut a, mut b) = (acc0.clone(), acc0.clone());
        let expected = mix(
            if give_add { add.as_ptr() } else { std::ptr::null() },
            if give_add { add.len() as u32 } else { 0 },
            if give_acc { b.as_mut_ptr() } else { std::ptr::null_mut() },
            if give_acc { b.len() as u32 } else { 0 },
        );
        let got = d.demo_mix(give_add.then_some(&add[..]), give_acc.then_some(&mut a[..]));
        assert_eq!(got, Ok(expected), "seed {seed}");
        assert_eq!(a, b, "seed {seed}: the in-place buffer");
    }
    assert_eq!(d.demo_mix(None, None), Ok(-1));
}

#[test]
fn a_device_session_through_the_32bit_host() {
    let d = demo();
    let (status, dev) = d.demo_open("sim3").unwrap();
    assert_eq!(status, 0);
    assert_eq!(d.demo_open("nope"), Err(Error::Library(-2)), "DEMO_ERR_NOT_FOUND");

    assert_eq!(d.demo_name(dev, 16).map(|(_, name)| name), Ok("sim3".to_string()));
    let data: Vec<u8> = (0..=255).collect();
    assert_eq!(d.demo_write(dev, &data), Ok(0));
    assert_eq!(d.demo_read(dev, 1000).map(|(_, b)| b), Ok(data.clone()));
    assert_eq!(d.demo_read(dev, 10).map(|(_, b)| b), Ok(data[..10].to_vec()));
    assert_eq!(d.demo_write(dev, &vec![0u8; 5000]), Err(Error::Library(-3)), "DEMO_ERR_FULL");

    let mut samples = [1.0f32, -2.5, 3.25, 0.0];
    assert_eq!(d.demo_scale(dev, &mut samples, 2.0), Ok(0));
    assert_eq!(samples, [2.0, -5.0, 6.5, 0.0]);

    // The host is the 32-bit build: the library says so itself.
    assert_eq!(d.demo_describe(dev), Ok(Some("sim3 with 256 bytes logged (32-bit build)".to_string())));
    // errno, read in the host right after the call.
    assert_eq!(d.demo_fail(34), Err(Error::Library(34)));
    assert_eq!(d.demo_close(dev), Ok(()));
}

/// `demo_reading` in the 64-bit build.
#[repr(C)]
struct Reading64 {
    channel: u32,
    value: f64,
    sequence: u64,
    unit: *const c_char,
    flags: u8,
}

type Progress = extern "C" fn(*mut c_void, u32, u32) -> i32;

/// Counts calls and cancels at step `*ctx`.
extern "C" fn stop_at(ctx: *mut c_void, done: u32, _total: u32) -> i32 {
    // SAFETY: the test passes a pointer to its `(u32, u32)` (stop, calls).
    let state = unsafe { &mut *ctx.cast::<(u32, u32)>() };
    state.1 += 1;
    i32::from(done == state.0)
}

#[test]
fn structs_and_callbacks_match_the_64bit_build() {
    let d = demo();
    let direct = Direct::open();
    let open: extern "C" fn(*const c_char, *mut *mut c_void) -> i32 = direct.sym("demo_open");
    let write: extern "C" fn(*mut c_void, *const u8, u32) -> i32 = direct.sym("demo_write");
    let measure: extern "C" fn(*mut c_void, u32, *mut Reading64) -> i32 = direct.sym("demo_measure");
    let calibrate: extern "C" fn(*mut c_void, u32, Option<Progress>, *mut c_void) -> i32 =
        direct.sym("demo_calibrate");
    let (_, dev) = d.demo_open("sim5").unwrap();
    let mut raw = std::ptr::null_mut();
    let name = CString::new("sim5").unwrap();
    assert_eq!(open(name.as_ptr(), &mut raw), 0);
    for (seed, v) in numbers(9, 40).iter().enumerate() {
        let len = (*v as u32) % 50;
        let bytes = vec![7u8; len as usize];
        assert_eq!(d.demo_write(dev, &bytes), Ok(write(raw, bytes.as_ptr(), len)));
        let channel = (*v as u32 >> 8) % 5;
        let mut expected =
            Reading64 { channel: 0, value: 0.0, sequence: 0, unit: std::ptr::null(), flags: 0 };
        let status = measure(raw, channel, &mut expected);
        match d.demo_measure(dev, channel) {
            Ok((s, r)) => {
                assert_eq!(s, status);
                assert_eq!(
                    (r.channel, r.value.to_bits(), r.sequence, r.flags),
                    (expected.channel, expected.value.to_bits(), expected.sequence, expected.flags),
                    "seed {seed}"
                );
                // SAFETY: a static string of the library.
                assert_eq!(r.unit, unsafe { CStr::from_ptr(expected.unit) }.to_str().unwrap());
            }
            Err(e) => assert_eq!(e, Error::Library(status.into()), "seed {seed}: channel {channel}"),
        }
        // Cancel at a random step (or never): same status, same number of callbacks.
        let (steps, stop) = (len % 9, (*v as u32 >> 12) % 10);
        let mut state = (stop, 0u32);
        let status = calibrate(raw, steps, Some(stop_at), (&mut state as *mut (u32, u32)).cast());
        let mut calls = 0;
        let got = d.demo_calibrate(
            dev,
            steps,
            Some(&mut |done, total| {
                calls += 1;
                assert_eq!(total, steps);
                i32::from(done == stop)
            }),
        );
        assert_eq!(got, if status < 0 { Err(Error::Library(status.into())) } else { Ok(status) });
        assert_eq!(calls, state.1);
        assert_eq!(d.demo_calibrate(dev, steps, None), Ok(calibrate(raw, steps, None, std::ptr::null_mut())));
    }
    assert_eq!(d.demo_close(dev), Ok(()));
}

/// No call hangs by default: the generated client's configuration carries the spec's
/// timeout (specs/demo.yaml names none: 60 s) and the runtime's liveness limit.
#[test]
fn the_generated_client_has_a_timeout_and_a_liveness_limit_by_default() {
    let config = Demo::config();
    assert_eq!(config.timeout, Some(std::time::Duration::from_secs(60)));
    assert_eq!(config.liveness, Some(dllgen_runtime::DEFAULT_LIVENESS));
}

/// Mixed calls from four threads through one client (one host): every result is compared
/// with the 64-bit build, and none may be wrong. `DLLGEN_SOAK_CALLS` sets the calls per
/// thread (default 5,000; the soak used 500,000).
#[test]
fn a_soak_of_mixed_calls_from_four_threads_has_no_wrong_result() {
    let per_thread: usize =
        std::env::var("DLLGEN_SOAK_CALLS").ok().and_then(|n| n.parse().ok()).unwrap_or(5_000);
    let d = std::sync::Arc::new(demo());
    let direct = Direct::open();
    let add: extern "C" fn(i32, i32) -> i32 = direct.sym("demo_add");
    let sum: extern "C" fn(*const i32, u32) -> i64 = direct.sym("demo_sum");
    let toggle: extern "C" fn(*mut u32) -> u32 = direct.sym("demo_toggle");
    let start = std::time::Instant::now();
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let d = d.clone();
            std::thread::spawn(move || {
                let mut wrong = 0usize;
                let values = numbers(t, per_thread + 64);
                for i in 0..per_thread {
                    let ok = match i % 3 {
                        0 => d.demo_add(values[i], values[i + 1]) == Ok(add(values[i], values[i + 1])),
                        1 => {
                            let v = &values[i..i + (i % 64)];
                            d.demo_sum(v) == Ok(sum(v.as_ptr(), v.len() as u32))
                        }
                        _ => {
                            let (mut a, mut b) = (values[i] as u32, values[i] as u32);
                            d.demo_toggle(&mut a) == Ok(toggle(&mut b)) && a == b
                        }
                    };
                    wrong += usize::from(!ok);
                }
                wrong
            })
        })
        .collect();
    let wrong: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    eprintln!("soak: {} calls in {:?}, {wrong} wrong", 4 * per_thread, start.elapsed());
    assert_eq!(wrong, 0);
}
