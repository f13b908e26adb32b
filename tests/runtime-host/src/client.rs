//! A client that starts a test host, prints the host's process id, optionally starts a
//! call that never returns, and then waits to be killed: the orphan test kills it and
//! checks that the host goes too.
//!
//! Usage: `dllgen-test-client HOST [hang]`

use dllgen_runtime::{Client, Config, HostPath};
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let host = std::path::PathBuf::from(&args[1]);
    let client =
        std::sync::Arc::new(Client::new(Config::new(HostPath::Explicit(host), 0x0d11_6e40_0000_0001)));
    if let Err(e) = client.connect() {
        eprintln!("dllgen-test-client: {e}");
        std::process::exit(1);
    }
    println!("{}", client.host_pid().unwrap_or(0));
    let _ = std::io::stdout().flush();
    if args.get(2).map(String::as_str) == Some("hang") {
        let c = client.clone();
        // SLEEP (2) for a minute: the host is inside the "library" when we are killed.
        std::thread::spawn(move || {
            c.call(
                2,
                |w| {
                    w.u32(60_000);
                },
                |_| Ok(()),
                &mut |_, _, _| Ok(()),
            )
        });
    }
    std::thread::sleep(std::time::Duration::from_secs(120));
}
