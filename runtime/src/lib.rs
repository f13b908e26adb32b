//! The pipe runtime shared by every generated 32-bit host and 64-bit client: wire format,
//! handshake, transports and host lifecycle. See `docs/ARCHITECTURE.md`; the crate is
//! filled in by the runtime issue and has no API yet.
