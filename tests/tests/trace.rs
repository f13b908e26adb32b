//! Per-call tracing (the `trace` feature): examples/demo-app and demo-host built with it,
//! run with `DLLGEN_TRACE=1`. Each call shows on both sides under the same call id, with
//! its function, arguments, results, status and duration; without the variable, nothing.

use dllgen_tests::{build_bin_with, demo_library, run, HOST_TARGET};
use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

/// One traced event: (side, message, call id, function, the rest of the line).
fn events(stderr: &str) -> Vec<(String, String, u32, String, String)> {
    let field = |line: &str, name: &str| -> Option<String> {
        let at = line.find(&format!(" {name}="))? + name.len() + 2;
        let rest = &line[at..];
        Some(match rest.strip_prefix('"') {
            Some(quoted) => quoted[..quoted.find('"')?].to_string(),
            None => rest.split(' ').next()?.to_string(),
        })
    };
    stderr
        .lines()
        .filter(|l| l.contains(" dllgen: "))
        .filter_map(|l| {
            let message = l.split(" dllgen: ").nth(1)?.split(' ').next()?.to_string();
            Some((
                field(l, "side")?,
                message,
                field(l, "call")?.parse().ok()?,
                field(l, "function")?,
                l.to_string(),
            ))
        })
        .collect()
}

#[test]
fn a_traced_call_shows_on_both_sides_with_the_same_id() {
    let client = build_bin_with("rig-trace", "demo-app", "demo-app", HOST_TARGET, "trace", false);
    let host =
        build_bin_with("rig-trace", "demo-host", "demo-host", "i686-unknown-linux-gnu", "trace", false);
    let mut cmd = Command::new(&client);
    cmd.env("DEMO_HOST", &host).env("DEMO_LIBRARY", demo_library().join("libdemo32.so"));
    let quiet = run(&mut cmd, Duration::from_secs(120));
    assert_eq!(quiet.code, Some(0), "{}", quiet.stderr);
    assert!(events(&quiet.stderr).is_empty(), "traced without DLLGEN_TRACE:\n{}", quiet.stderr);

    let out = run(cmd.env("DLLGEN_TRACE", "1"), Duration::from_secs(120));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // Tracing changes nothing the program sees (but the host's process id, last).
    let but_pid = |s: &str| s.lines().filter(|l| !l.contains(" process ")).collect::<Vec<_>>().join("\n");
    assert_eq!(but_pid(&out.stdout), but_pid(&quiet.stdout));
    let all = events(&out.stderr);
    let side = |s: &str, m: &str| -> BTreeSet<(u32, String)> {
        all.iter().filter(|e| e.0 == s && e.1 == m).map(|e| (e.2, e.3.clone())).collect()
    };
    let (client_calls, host_calls) = (side("client", "call"), side("host", "call"));
    assert!(client_calls.len() >= 10, "{}", out.stderr);
    // Every call the client made is the host's call of the same id and function (the host
    // also answers the runtime's own requests, which have no function name).
    let host_named: BTreeSet<_> = host_calls.iter().filter(|(_, f)| !f.is_empty()).cloned().collect();
    assert_eq!(client_calls, host_named, "{}", out.stderr);
    assert_eq!(side("client", "return"), client_calls);
    assert_eq!(side("host", "return"), host_calls);
    // demo_add(40, 2): the same arguments on both sides, its result 42 back, and how long.
    let add: Vec<_> = all.iter().filter(|e| e.3 == "demo_add").collect();
    let id = add[0].2;
    assert!(add.iter().all(|e| e.2 == id), "{add:?}");
    for e in add.iter().filter(|e| e.1 == "call") {
        assert!(e.4.contains("args=8 bytes 28000000 02000000"), "{}", e.4);
    }
    for e in add.iter().filter(|e| e.1 == "return") {
        assert!(e.4.contains("results=4 bytes 2a000000") && e.4.contains(" micros="), "{}", e.4);
        assert!(e.4.contains("status=Ok"), "{}", e.4);
    }
    // A call the library fails is traced with its status on both sides.
    let failed: Vec<_> = all.iter().filter(|e| e.1 == "return" && !e.4.contains("status=Ok")).collect();
    assert!(failed.iter().any(|e| e.0 == "client") && failed.iter().any(|e| e.0 == "host"), "{}", out.stderr);
}
