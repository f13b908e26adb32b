//! The runtime shared by every generated 32-bit host and 64-bit client. Its rooms, by
//! which binary the code ends up in:
//!
//! - both: [`wire`] (frames and payload encoding), [`transport`] (shared memory, sockets,
//!   named pipes), [`marshal`] (each marshaling kind's wire contract, both halves), `sys`
//!   (process plumbing: standard streams, parent death);
//! - the 64-bit client: [`client`] (spawning or connecting to the host, calls, callbacks,
//!   the watchdog);
//! - the 32-bit host: [`host`] (serving calls, the call context for callbacks, the handle
//!   table [`handles`], loading the library [`native`], the liveness beats).
//!
//! No dependencies (the host is built for i686 targets), but `tracing` with the `trace`
//! feature (see [`trace`]).
//!
//! A client spawns its host as a child and talks over the child's stdin/stdout; the host
//! moves those out of the way of the library first (see [`run_host`]), so a DLL that prints
//! cannot corrupt the stream.

pub mod client;
pub mod host;
pub mod marshal;
pub mod proxy;
mod sys;
pub mod trace;
pub mod transport;
pub mod wire;

pub use host::{handles, native};
pub use transport::shm;

pub use client::{Backoff, Client, Config, Error, HostPath, Pool, DEFAULT_LIVENESS};
pub use host::{callback, kept_begin, kept_callback, owner, CallContext, Library};
pub use shm::ShmConfig;
pub use wire::{Payload, Reader, Status, WireError, Writer};

/// Bumped on any incompatible change to the wire format or the handshake.
pub const PROTOCOL_VERSION: u32 = 4;

/// What a caught panic says (its `&str` or `String` payload).
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// A host that could not load its library: it answers the handshake with the reason.
struct Unloadable(String);

impl Library for Unloadable {
    fn model_hash(&self) -> u64 {
        0
    }
    fn load_error(&self) -> Option<&str> {
        Some(&self.0)
    }
    fn call(&self, _: u32, _: Reader<'_>, _: &mut Writer) -> Result<Status, WireError> {
        Err(WireError::Payload("the library is not loaded"))
    }
}

/// The whole life of a host: with `--listen ENDPOINT`, a long-lived host serving every
/// client that connects (a Unix socket path in a 0700 folder; a Windows pipe name, random
/// when ENDPOINT is omitted), printing `dllgen host: listening on ENDPOINT` first.
/// Otherwise a host started by its client: take stdin/stdout for the protocol and point the
/// standard streams elsewhere (before the library is loaded), die with the client, load the
/// library with `load`, serve until the client goes away, exit.
pub fn run_host(load: impl FnOnce() -> Result<Box<dyn Library>, String>) -> ! {
    trace::init_from_env();
    // A panic in a call is answered as `HostPanic`, for the client to report: the host does
    // not also print it on the user's stderr. Any other panic ends the host: one line.
    std::panic::set_hook(Box::new(|info| {
        if !host::answering() {
            eprintln!("dllgen host: {info}");
        }
    }));
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "--listen") {
        let endpoint = args.get(at + 1).cloned().unwrap_or_default();
        match transport::listen::listen(&endpoint) {
            Ok((name, accept)) => {
                use std::io::Write;
                println!("dllgen host: listening on {name}");
                let _ = std::io::stdout().flush();
                // From here on (library loading included), what the library prints goes
                // to stderr, not after the line a launcher reads.
                let _ = sys::take_stdio();
                let lib: &'static dyn Library = Box::leak(
                    load().unwrap_or_else(|reason| Box::new(Unloadable(reason)) as Box<dyn Library>),
                );
                transport::listen::serve_all(lib, accept, wire::DEFAULT_MAX_FRAME)
            }
            Err(e) => {
                eprintln!("dllgen host: cannot listen on {endpoint:?}: {e}");
                std::process::exit(2);
            }
        }
    }
    let parent = std::env::var("DLLGEN_CLIENT_PID").ok().and_then(|p| p.parse().ok());
    sys::die_with_parent(parent);
    let stdio = match sys::take_stdio() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dllgen host: cannot take over stdin/stdout: {e}");
            std::process::exit(2);
        }
    };
    // A region the client offers in its `Hello` is taken then; the watch on the input pipe
    // shows the client leaving while the host waits on a ring.
    let region = Some(shm::PipeWatch::new(&stdio.input));
    // The library lives as long as the process (threads of its own may call back late).
    let lib: &'static dyn Library =
        Box::leak(load().unwrap_or_else(|reason| Box::new(Unloadable(reason)) as Box<dyn Library>));
    // Buffered input: a frame's header and a small payload arrive in one read.
    let mut input = std::io::BufReader::with_capacity(1 << 16, stdio.input);
    let served = host::serve_with(lib, &mut input, Box::new(stdio.output), wire::DEFAULT_MAX_FRAME, region);
    let code = match served {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("dllgen host: {e}");
            2
        }
    };
    std::process::exit(code)
}
