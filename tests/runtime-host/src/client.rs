//! A 64-bit client of the test host, for what the test harness cannot do in-process:
//!
//! - `dllgen-test-client HOST [hang]`: starts a host, prints its process id, optionally
//!   starts a call that never returns, then waits to be killed (the orphan test kills it
//!   and checks the host goes too).
//! - `dllgen-test-client scenario HOST`: runs the runtime's checks and prints `ok NAME`
//!   for each (`FAIL NAME: why` and exit code 1 otherwise). Built for
//!   x86_64-pc-windows-gnu, it proves the Windows pair under Wine.
//! - `dllgen-test-client listener HOST`: the same for a host in listener mode (a named
//!   pipe on Windows).
//! - `dllgen-test-client bench HOST`: medians of a null call and of a 1 MiB echo over shared
//!   memory and over the pipe, printed as `bench NAME MICROSECONDS` (the runtime benchmark
//!   runs it under Wine).

use dllgen_runtime::{Client, Config, Error, HostPath, Reader, WireError, Writer};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

const HASH: u64 = 0x0d11_6e40_0000_0001;

fn none(_: u32, _: Reader<'_>, _: &mut Writer) -> Result<(), WireError> {
    Err(WireError::Payload("no callbacks expected"))
}

fn add(c: &Client, a: i32, b: i32) -> Result<i32, Error> {
    c.call(
        1,
        |w| {
            w.i32(a).i32(b);
        },
        |mut r| r.i32(),
        &mut none,
    )
}

fn unit(c: &Client, id: u32, arg: u32) -> Result<(), Error> {
    c.call(
        id,
        |w| {
            w.u32(arg);
        },
        |_| Ok(()),
        &mut none,
    )
}

fn check(name: &str, ok: bool, detail: impl std::fmt::Debug) -> bool {
    if ok {
        println!("ok {name}");
    } else {
        println!("FAIL {name}: {detail:?}");
    }
    let _ = std::io::stdout().flush();
    ok
}

fn scenario(host: PathBuf) -> bool {
    let config = |f: &dyn Fn(&mut Config)| {
        let mut c = Config::new(HostPath::Explicit(host.clone()), HASH);
        f(&mut c);
        Client::new(c)
    };
    let c = config(&|_| {});
    let mut all = true;
    let r = add(&c, 40, 2);
    all &= check("add", r == Ok(42), r);
    all &= check("shared memory", c.uses_shared_memory(), ());
    let p = config(&|c| c.shm = None);
    let r = add(&p, 5, 6);
    all &= check("pipe", r == Ok(11) && !p.uses_shared_memory(), r);
    let who = c.call(10, |_| {}, |mut r| Ok((r.u32()?, r.u32()?)), &mut none);
    all &= check("32-bit host", matches!(who, Ok((_, 4))), who);
    let mib: Vec<u8> = (0..1u32 << 20).map(|i| (i % 253) as u8).collect();
    let echoed = c.call(
        0,
        |w| {
            w.bytes(&mib);
        },
        |mut r| Ok(r.bytes()?.to_vec()),
        &mut none,
    );
    all &= check("1 MiB echo", echoed.as_deref() == Ok(&mib[..]), echoed.as_ref().map(Vec::len));
    let printed = c.call(5, |_| {}, |mut r| r.u32(), &mut none);
    let after = add(&c, 1, 2);
    all &= check("printing library", printed == Ok(1) && after == Ok(3), (printed, after));
    let mut seen = 0;
    let sum = c.call(
        7,
        |w| {
            w.u32(4);
        },
        |mut r| r.i32(),
        &mut |_, mut r, reply| {
            seen += 1;
            reply.i32(r.u32()? as i32 + 1);
            Ok(())
        },
    );
    all &= check("callbacks", sum == Ok(10) && seen == 4, (sum, seen));
    let crash = unit(&c, 3, 0);
    let again = add(&c, 2, 2);
    all &= check(
        "crash, then a new host",
        matches!(crash, Err(Error::HostCrashed(_))) && again == Ok(4),
        (crash, again),
    );
    let t = config(&|c| c.timeout = Some(Duration::from_millis(500)));
    let hung = unit(&t, 2, 60_000);
    let again = add(&t, 3, 3);
    all &= check(
        "timeout, then a new host",
        matches!(hung, Err(Error::Timeout(_))) && again == Ok(6),
        (hung, again),
    );
    let other = config(&|c| c.model_hash = 1);
    let refused = add(&other, 1, 1);
    all &= check(
        "handshake refused",
        matches!(&refused, Err(Error::Refused(m)) if m.contains("0000000000000001")),
        refused,
    );
    all
}

/// One host started with `--listen` (a random named pipe on Windows) serving three
/// clients at once; another model is refused.
fn listener(host: PathBuf) -> bool {
    let mut process = match std::process::Command::new(&host)
        .arg("--listen")
        .stdout(std::process::Stdio::piped())
        .spawn()
    {
        Ok(p) => p,
        Err(e) => return check("listener starts", false, e),
    };
    let mut line = String::new();
    let _ =
        std::io::BufRead::read_line(&mut std::io::BufReader::new(process.stdout.take().unwrap()), &mut line);
    let Some(endpoint) = line.trim().strip_prefix("dllgen host: listening on ").map(str::to_string) else {
        let _ = process.kill();
        return check("listener starts", false, line);
    };
    let mut all =
        check("listener starts", endpoint.starts_with(r"\\.\pipe\") || endpoint.starts_with('/'), &endpoint);
    let connect = |hash: u64| {
        let mut c = Config::new(HostPath::Explicit(host.clone()), hash);
        c.listener = Some(endpoint.clone());
        Client::new(c)
    };
    let workers: Vec<_> = (0..3)
        .map(|t| {
            let c = connect(HASH);
            std::thread::spawn(move || {
                (0..500).map(|i| (add(&c, i, t * 1000), i + t * 1000)).find(|(got, want)| *got != Ok(*want))
            })
        })
        .collect();
    let failures: Vec<_> = workers.into_iter().filter_map(|w| w.join().ok().flatten()).collect();
    all &= check("listener serves three clients", failures.is_empty(), failures);
    let c = connect(HASH);
    let sum = c.call(
        7,
        |w| {
            w.u32(3);
        },
        |mut r| r.i32(),
        &mut |_, mut r, reply| {
            reply.i32(r.u32()? as i32);
            Ok(())
        },
    );
    all &= check("listener callbacks", sum == Ok(3), sum);
    let refused = add(&connect(1), 1, 1);
    all &= check("listener refuses another model", matches!(refused, Err(Error::Refused(_))), refused);
    let _ = process.kill();
    let _ = process.wait();
    all
}

/// Median time per call of `f`: 11 rounds of `n` calls.
fn median(n: u32, mut f: impl FnMut()) -> Duration {
    f();
    let mut v: Vec<Duration> = (0..11)
        .map(|_| {
            let t = std::time::Instant::now();
            for _ in 0..n {
                f();
            }
            t.elapsed() / n
        })
        .collect();
    v.sort();
    v[5]
}

fn bench(host: PathBuf) {
    let mib: Vec<u8> = vec![7; 1 << 20];
    for (name, shm) in [("shm", Some(dllgen_runtime::ShmConfig::default())), ("pipe", None)] {
        let mut config = Config::new(HostPath::Explicit(host.clone()), HASH);
        config.shm = shm;
        let c = Client::new(config);
        add(&c, 0, 0).expect("the host starts");
        let null = median(200, || c.call(11, |_| {}, |_| Ok(()), &mut none).unwrap());
        let big = median(5, || {
            c.call(
                0,
                |w| {
                    w.bytes(&mib);
                },
                |mut r| Ok(r.bytes()?.to_vec()),
                &mut none,
            )
            .unwrap();
        });
        println!("bench {name}-null {:.2}", null.as_secs_f64() * 1e6);
        println!("bench {name}-1mib {:.1}", big.as_secs_f64() * 1e6);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("bench") {
        return bench(PathBuf::from(&args[2]));
    }
    if matches!(args.get(1).map(String::as_str), Some("scenario" | "listener")) {
        let host = PathBuf::from(&args[2]);
        let ok = if args[1] == "scenario" { scenario(host) } else { listener(host) };
        println!("{}", if ok { "all ok" } else { "some checks failed" });
        std::process::exit(if ok { 0 } else { 1 });
    }
    let host = PathBuf::from(&args[1]);
    let client = std::sync::Arc::new(Client::new(Config::new(HostPath::Explicit(host), HASH)));
    if let Err(e) = client.connect() {
        eprintln!("dllgen-test-client: {e}");
        std::process::exit(1);
    }
    println!("{}", client.host_pid().unwrap_or(0));
    let _ = std::io::stdout().flush();
    if args.get(2).map(String::as_str) == Some("hang") {
        let c = client.clone();
        // SLEEP (2) for a minute: the host is inside the "library" when we are killed.
        std::thread::spawn(move || unit(&c, 2, 60_000));
    }
    std::thread::sleep(Duration::from_secs(120));
}
