//! dllgen: call 32-bit DLLs from 64-bit programs.
//!
//! The generator reads a DLL's C header, its export table and a YAML spec, and emits a
//! 32-bit host crate and a 64-bit client crate on a shared pipe runtime. This crate holds
//! the command-line tool's stages; see `docs/ARCHITECTURE.md` for how they fit.

pub mod audit;
pub mod binary;
pub mod builder;
pub mod check;
pub mod cli;
pub mod diag;
pub mod emit;
pub mod header;
pub mod init;
pub mod input;
pub mod model;
pub mod spec;

pub use builder::{Builder, GenerateError};

/// `*` and `?` globs.
pub fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}
