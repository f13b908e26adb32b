//! The few operating-system calls the runtime needs, declared here rather than through a
//! bindings crate (the host is built for i686 targets; the fewer crates, the faster).

use std::fs::File;
use std::io;

/// The protocol's two ends in a host a client started: the original stdin and stdout.
pub struct Stdio {
    /// Requests arrive here.
    pub input: File,
    /// Replies go here.
    pub output: File,
}

#[cfg(unix)]
#[path = "unix.rs"]
mod imp;

#[cfg(windows)]
#[path = "windows.rs"]
mod imp;

#[cfg(unix)]
pub use imp::allow_taking;
pub use imp::{
    adopt_child, close_descriptor, die_with_parent, kill_process, quiet, take_descriptor, take_stdio,
};
#[cfg(windows)]
pub use imp::{give_handle, own_process_handle};
