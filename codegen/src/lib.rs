//! dllgen: call 32-bit DLLs from 64-bit programs.
//!
//! The generator reads a DLL's C header, its export table and a YAML spec, and emits a
//! 32-bit host crate and a 64-bit client crate on a shared pipe runtime. This crate holds
//! the command-line tool's stages; see `docs/ARCHITECTURE.md` for how they fit.

pub mod audit;
pub mod binary;
pub mod check;
pub mod cli;
pub mod diag;
pub mod emit;
pub mod header;
pub mod init;
pub mod input;
pub mod model;
pub mod spec;
