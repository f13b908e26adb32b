//! Per-call tracing, the `trace` feature: each call is traced on both sides, as Wine's
//! `+relay` traces one library, through the `tracing` crate (target `dllgen`, level DEBUG):
//! a `call` event (side, call id, function, the arguments' bytes) before it, and a `return`
//! event (the results' bytes, status, duration) after. The call id is the frame's sequence
//! number, the same on both sides.
//!
//! Off, nothing is paid beyond one check of whether the event is enabled; without the
//! feature, not even that. `DLLGEN_TRACE=1` in the environment makes the client and the
//! host each print their events on stderr (a subscriber is installed if the program has
//! none); `Config::trace` asks the host for it without the variable. A program with its own
//! subscriber sees the client's events there.

/// The variable that turns tracing on for both sides.
pub const ENV: &str = "DLLGEN_TRACE";

/// Whether call events are wanted now.
#[inline]
pub fn on() -> bool {
    #[cfg(feature = "trace")]
    return tracing::enabled!(target: "dllgen", tracing::Level::DEBUG);
    #[cfg(not(feature = "trace"))]
    return false;
}

/// Installs a subscriber printing on stderr when `DLLGEN_TRACE` is set and the program has
/// none (once per process).
pub fn init_from_env() {
    #[cfg(feature = "trace")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            if std::env::var_os(ENV).is_some_and(|v| !v.is_empty() && v != "0") {
                let subscriber = tracing_subscriber::fmt()
                    .with_writer(std::io::stderr)
                    .with_max_level(tracing::Level::DEBUG)
                    .with_ansi(false)
                    .finish();
                let _ = tracing::subscriber::set_global_default(subscriber);
            }
        });
    }
}

/// A short rendering of a payload: its length and its first 32 bytes in hex, 4-byte groups
/// (scalars are little-endian words, as in `+relay`).
pub fn render(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(32)];
    let mut s = format!("{} bytes", bytes.len());
    for (i, b) in shown.iter().enumerate() {
        if i % 4 == 0 {
            s.push(' ');
        }
        s.push_str(&format!("{b:02x}"));
    }
    if bytes.len() > shown.len() {
        s.push_str(" ...");
    }
    s
}

/// The event before a call (the caller checked [`on`]).
#[allow(unused_variables)]
pub fn call(side: &'static str, seq: u32, function: &str, args: &[u8]) {
    #[cfg(feature = "trace")]
    tracing::debug!(target: "dllgen", side, call = seq, function, args = %render(args), "call");
}

/// The event after a call (the caller checked [`on`] before it).
pub fn ret(
    side: &'static str,
    seq: u32,
    function: &str,
    results: &[u8],
    status: &str,
    elapsed: std::time::Duration,
) {
    ret_rendered(side, seq, function, &render(results), status, elapsed);
}

/// [`ret`] with the results already rendered.
#[allow(unused_variables)]
pub fn ret_rendered(
    side: &'static str,
    seq: u32,
    function: &str,
    results: &str,
    status: &str,
    elapsed: std::time::Duration,
) {
    #[cfg(feature = "trace")]
    tracing::debug!(
        target: "dllgen",
        side,
        call = seq,
        function,
        results = %results,
        status = %status,
        micros = elapsed.as_micros() as u64,
        "return"
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_payload_is_rendered_short() {
        assert_eq!(super::render(&[]), "0 bytes");
        assert_eq!(super::render(&[1, 0, 0, 0, 2, 0]), "6 bytes 01000000 0200");
        let long: Vec<u8> = (0..40).collect();
        let r = super::render(&long);
        assert!(r.starts_with("40 bytes 00010203 04050607") && r.ends_with("1c1d1e1f ..."), "{r}");
    }
}
