//! A 64-bit program calling the 32-bit demo library (examples/demo) through the crates
//! `dllgen generate specs/demo.yaml` wrote: the client starts the 32-bit host on the
//! first call. Run by `bash examples/demo.sh`. Built for Windows it uses the pair
//! generated from specs/demo-win.yaml (demo32.dll) instead; the API is the same.
//!
//! `demo-app --connect ENDPOINT` uses a host already started with `demo-host --listen`
//! (a Unix socket path, or a Windows named pipe) instead of starting its own.

#[cfg(not(windows))]
use demo_client::{Config, Demo, Error, HostPath};
#[cfg(windows)]
use demo_win_client::{Config, DemoWin as Demo, Error, HostPath};

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let demo = match args.iter().position(|a| a == "--connect") {
        Some(i) => {
            let Some(endpoint) = args.get(i + 1) else {
                eprintln!("usage: demo-app [--connect ENDPOINT]");
                std::process::exit(2);
            };
            // The host path is not used when connecting to a listener.
            let mut config = Config::new(HostPath::Explicit("demo-host".into()), 0);
            config.listener = Some(endpoint.clone());
            Demo::with_config(config)
        }
        None => Demo::new(),
    };
    println!("64-bit process, pointers of {} bytes", std::mem::size_of::<usize>());
    println!("library version: {}", demo.demo_version()?.unwrap_or_default());
    println!("demo_add(40, 2) = {}", demo.demo_add(40, 2)?);
    println!("demo_sum([1..=100]) = {}", demo.demo_sum(&(1..=100).collect::<Vec<i32>>())?);
    let mut totals = [100, 200];
    let sum = demo.demo_mix(Some(&[1, 2, 3]), Some(&mut totals))?;
    println!("demo_mix([1, 2, 3], [100, 200]) = {sum}, totals now {totals:?}");
    let mut level = 250;
    let (_, clamped) = demo.demo_clamp(Some(10), Some(&mut level))?;
    println!(
        "demo_clamp(10, 250) -> {level} (changed: {clamped}); without a value: {:?}",
        demo.demo_clamp(None, None)?
    );

    let (_, dev) = demo.demo_open("sim7")?;
    let (_, name) = demo.demo_name(dev, 32)?;
    println!("opened {name}");
    demo.demo_write(dev, b"hello from 64-bit Rust")?;
    let (_, log) = demo.demo_read(dev, 64)?;
    println!("read back: {:?}", String::from_utf8_lossy(&log));
    let mut samples = [0.5f32, 1.5, -2.0];
    demo.demo_scale(dev, &mut samples, 4.0)?;
    println!("scaled in place: {samples:?}");
    println!("describe: {}", demo.demo_describe(dev)?.unwrap_or_default());
    let (_, r) = demo.demo_measure(dev, 1)?;
    println!(
        "reading #{} on channel {}: {:.2} {} (flags {})",
        r.sequence, r.channel, r.value, r.unit, r.flags
    );
    // The library calls the closure back (in the 32-bit host) during the call.
    let mut seen = Vec::new();
    let status = demo.demo_calibrate(
        dev,
        10,
        Some(&mut |done, total| {
            seen.push(format!("{done}/{total}"));
            i32::from(done == 3)
        }),
    );
    println!("calibration progress {seen:?}, then {status:?}");
    demo.demo_calibrate(dev, 5, None)?;
    let (_, r) = demo.demo_measure(dev, 1)?;
    println!("after calibrating: {:.2} {}", r.value, r.unit);
    match demo.demo_open("no-such-device") {
        Err(Error::Library(code)) => {
            println!("demo_open(\"no-such-device\") failed with status {code}, as it should")
        }
        other => println!("unexpected: {other:?}"),
    }
    match demo.demo_fail(34) {
        Err(Error::Library(code)) => println!("demo_fail(34) failed with errno {code}"),
        other => println!("unexpected: {other:?}"),
    }
    demo.demo_close(dev)?;
    if let Some(pid) = demo.client().host_pid() {
        println!("served by the 32-bit host, process {pid}");
    }
    Ok(())
}
