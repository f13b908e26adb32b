//! Kind `descriptor`: a file descriptor (`int fd`) the client gives the library, which takes
//! it over when the call succeeds (zlib's `gzdopen`; `gzclose` closes it later). The client
//! passes a [`Descriptor`] (a `File`, or an owned descriptor or handle); the host takes a
//! duplicate of its own before the call (Linux: `pidfd_getfd` on the client, sharing the
//! open file description as `dup` would; Windows: the client duplicates the handle into the
//! host, which wraps it in a C runtime descriptor), gives it to the library, and closes it
//! if the call failed. The client's own copy is closed when the call returns. Only a host
//! the client started can take one (not a listening host, not one under another runner).

use crate::wire::{Reader, WireError, Writer};

/// What the client gives for a `descriptor` parameter.
#[derive(Debug)]
pub struct Descriptor {
    #[cfg(unix)]
    pub(crate) fd: std::os::fd::OwnedFd,
    #[cfg(windows)]
    pub(crate) handle: std::os::windows::io::OwnedHandle,
}

impl From<std::fs::File> for Descriptor {
    fn from(f: std::fs::File) -> Self {
        #[cfg(unix)]
        return Descriptor { fd: f.into() };
        #[cfg(windows)]
        return Descriptor { handle: f.into() };
    }
}

#[cfg(unix)]
impl From<std::os::fd::OwnedFd> for Descriptor {
    fn from(fd: std::os::fd::OwnedFd) -> Self {
        Descriptor { fd }
    }
}

#[cfg(windows)]
impl From<std::os::windows::io::OwnedHandle> for Descriptor {
    fn from(handle: std::os::windows::io::OwnedHandle) -> Self {
        Descriptor { handle }
    }
}

/// Client: writes the token [`crate::Client::lend_descriptor`] made.
pub fn encode(w: &mut Writer, token: u64) {
    w.u64(token);
}

/// Host: a descriptor taken for the library: closed when dropped, unless [`given`].
#[derive(Debug)]
pub struct Taken(Option<i32>);

impl Drop for Taken {
    fn drop(&mut self) {
        if let Some(fd) = self.0 {
            crate::sys::close_descriptor(fd);
        }
    }
}

/// Host: takes the descriptor the client's token names.
pub fn decode(r: &mut Reader<'_>) -> Result<Taken, WireError> {
    let token = r.u64()?;
    let client = std::env::var("DLLGEN_CLIENT_PID").ok().and_then(|p| p.parse::<u32>().ok());
    let Some(client) = client else {
        return Err(WireError::BadHandle("a descriptor, which only a host its client started can take"));
    };
    match crate::sys::take_descriptor(client, token) {
        Ok(fd) => Ok(Taken(Some(fd))),
        Err(e) => {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "dllgen host: cannot take the client's descriptor: {e}");
            Err(WireError::BadHandle(
                "a descriptor the host could not take from the client (see the host's stderr)",
            ))
        }
    }
}

/// Host: what the library gets.
pub fn fd(t: &Taken) -> i32 {
    t.0.unwrap_or(-1)
}

/// Host: the call succeeded: the library owns the descriptor now.
pub fn given(mut t: Taken) {
    t.0 = None;
}
