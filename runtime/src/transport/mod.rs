//! How frames travel between the two processes: the shared-memory region of a child host
//! ([`shm`]: rings, bulk area, the per-OS parts in `shm/linux.rs`, `shm/windows.rs`), and
//! the sockets and named pipes of a listening host (`listen`: `listen/unix.rs`,
//! `listen/windows.rs`). A child host without a region uses its stdin/stdout pipes.

pub(crate) mod listen;
pub mod shm;
