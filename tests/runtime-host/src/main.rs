//! A host on the dllgen runtime whose "library" is a set of test functions, so the tests
//! can make a real 32-bit process crash, hang, print, panic and call back.
//!
//! Environment: `DLLGEN_TEST_HOST_HASH` overrides the model hash (handshake tests);
//! `DLLGEN_TEST_HOST_FAIL_LOAD` makes loading fail with that message; `DLLGEN_TEST_HOST_MODE`
//! = `garbage` or `huge` makes the host answer the handshake with garbage or an absurd
//! frame length (client robustness tests), `raw` makes it a bare echo of length-prefixed
//! messages (the benchmark's pipe floor), `shm-floor` a bare echo over the shared region
//! with one sequence word each way (the benchmark's shared-memory floor; see
//! `tests/floor.rs`), `mute` closes its output and lingers, `impostor` (with `--listen
//! PATH`) listens on PATH without any of the runtime's checks and answers like a host
//! would (`add` = 1337), logging how many bytes each client sent to `PATH.log`: what
//! another local user could set up to catch a client's calls.

use dllgen_runtime::{run_host, Library, Reader, Status, WireError, Writer};

#[cfg(unix)]
mod by_hand;
#[path = "../../floor.rs"]
mod floor;
use std::io::Write;

/// The test host's model hash.
pub const HASH: u64 = 0x0d11_6e40_0000_0001;

pub const ECHO: u32 = 0;
pub const ADD: u32 = 1;
pub const SLEEP: u32 = 2;
pub const CRASH: u32 = 3;
pub const ABORT: u32 = 4;
pub const PRINT: u32 = 5;
pub const REVERSE: u32 = 6;
pub const CALLBACKS: u32 = 7;
pub const PANIC: u32 = 8;
pub const LIBRARY_ERROR: u32 = 9;
pub const WHO: u32 = 10;
pub const NULL: u32 = 11;
pub const SPAWN_AND_CRASH: u32 = 12;
/// Over shared memory: scribbles on the region the way a broken host could (argument 0:
/// an absurd write position; 1: bytes that are not a frame), then answers normally.
pub const SCRIBBLE: u32 = 13;

struct Tests {
    hash: u64,
}

extern "C" {
    fn puts(s: *const std::ffi::c_char) -> i32;
    fn fflush(stream: *mut std::ffi::c_void) -> i32;
    fn system(command: *const std::ffi::c_char) -> i32;
}

impl Library for Tests {
    fn model_hash(&self) -> u64 {
        self.hash
    }

    fn call(&self, id: u32, mut args: Reader<'_>, out: &mut Writer) -> Result<Status, WireError> {
        match id {
            ECHO => {
                let b = args.bytes()?;
                out.bytes(b);
            }
            ADD => {
                let (a, b) = (args.i32()?, args.i32()?);
                out.i32(a.wrapping_add(b));
            }
            SLEEP => std::thread::sleep(std::time::Duration::from_millis(args.u32()?.into())),
            CRASH => {
                // What a faulty DLL does: write through a null pointer.
                // SAFETY: deliberately undefined; the point is to kill this process.
                unsafe { std::ptr::write_volatile(std::ptr::null_mut::<u32>(), 1) };
            }
            ABORT => std::process::abort(),
            PRINT => {
                // A library printing through every path it could: Rust's stdout, C stdio.
                println!("noise from the library on stdout");
                let _ = std::io::stdout().flush();
                // SAFETY: a NUL-terminated literal; fflush(NULL) flushes every C stream.
                unsafe {
                    puts(c"noise from C's puts".as_ptr());
                    fflush(std::ptr::null_mut());
                }
                out.u32(1);
            }
            REVERSE => {
                let b = args.bytes()?;
                out.bytes_with(b.len(), |dst| {
                    for (d, s) in dst.iter_mut().zip(b.iter().rev()) {
                        *d = *s;
                    }
                    b.len()
                });
            }
            CALLBACKS => {
                let n = args.u32()?;
                let mut sum = 0i32;
                for i in 0..n {
                    let mut w = Writer::new();
                    w.u32(i);
                    // A callback that fails gives 0 here, and fails the call once it returns.
                    sum = sum.wrapping_add(dllgen_runtime::callback(CALLBACKS, 0, &mut w, |r| r.i32()));
                }
                out.i32(sum);
            }
            PANIC => panic!("a bug in the generated host"),
            LIBRARY_ERROR => {
                out.i64(42);
                return Ok(Status::LibraryError);
            }
            WHO => {
                out.u32(std::process::id()).u32(std::mem::size_of::<usize>() as u32);
            }
            NULL => {}
            SPAWN_AND_CRASH => {
                // A library that starts a long-lived program (inheriting whatever is not
                // close-on-exec), then crashes.
                // SAFETY: a NUL-terminated literal; then a deliberate crash.
                unsafe {
                    system(c"sleep 20 &".as_ptr());
                    std::ptr::write_volatile(std::ptr::null_mut::<u32>(), 1);
                }
            }
            SCRIBBLE => {
                let how = args.u32()?;
                let Some((base, len)) = dllgen_runtime::shm::in_use() else {
                    return Err(WireError::Payload("no shared region"));
                };
                // While the client waits for this call's answer, another thread scribbles.
                let scribbler = std::thread::spawn(move || scribble(how, base, len));
                let _ = scribbler.join();
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
            _ => return Err(WireError::Payload("no such test function")),
        }
        args.finish()?;
        Ok(Status::Ok)
    }
}

/// Corrupts the host-to-client ring: `how` 0 an absurd write position, 1 bytes that are
/// not a frame behind a plausible one.
fn scribble(how: u32, base: usize, len: usize) {
    let (tail, data) = dllgen_runtime::shm::Region::layout(1, 0);
    let cap = (len - data) / 3;
    let base = base as *mut u8;
    // SAFETY: inside the mapping; the point is to corrupt what the client reads.
    unsafe {
        let word = base.add(tail) as *mut u32;
        if how == 0 {
            std::ptr::write_volatile(word, 0x7fff_0000);
        } else {
            let at = std::ptr::read_volatile(word) as usize;
            for i in 0..64 {
                std::ptr::write_volatile(base.add(data + cap + (at + i) % cap), 0xa5);
            }
            std::ptr::write_volatile(word, (at + 64) as u32);
        }
    }
}

/// The benchmark's floor: length-prefixed messages echoed over stdin/stdout with nothing
/// else (no frames, no dispatch, no library).
fn raw_echo() {
    use std::io::Read;
    let (mut input, mut output) = (std::io::stdin().lock(), std::io::stdout().lock());
    let mut buf = Vec::new();
    loop {
        let mut len = [0u8; 4];
        if input.read_exact(&mut len).is_err() {
            return;
        }
        buf.resize(u32::from_le_bytes(len) as usize, 0);
        if input.read_exact(&mut buf).is_err() {
            return;
        }
        if output.write_all(&len).and_then(|()| output.write_all(&buf)).and_then(|()| output.flush()).is_err()
        {
            return;
        }
    }
}

/// Listens where it is told, trusting everything, and answers whatever a client sends.
#[cfg(unix)]
fn impostor(hash: u64) {
    use std::os::unix::net::UnixListener;
    let path = std::env::args().nth(2).expect("--listen PATH");
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).expect("bind");
    println!("dllgen host: listening on {path}");
    let _ = std::io::stdout().flush();
    for conn in listener.incoming() {
        let Ok(mut conn) = conn else { continue };
        let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(2)));
        let mut output = conn.try_clone().expect("a second handle");
        let received = by_hand::serve(&mut conn, &mut output, hash, |id, _, out| {
            out.i32(1337);
            Some(id)
        });
        let log = format!("{path}.log");
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("log");
        let _ = writeln!(f, "received {received} bytes");
    }
}

fn main() {
    let hash = std::env::var("DLLGEN_TEST_HOST_HASH")
        .ok()
        .and_then(|h| u64::from_str_radix(&h, 16).ok())
        .unwrap_or(HASH);
    match std::env::var("DLLGEN_TEST_HOST_MODE").as_deref() {
        Ok("garbage") => {
            let _ = std::io::stdout().write_all(b"this is not a frame, just bytes on stdout\n");
            std::thread::sleep(std::time::Duration::from_secs(5));
            return;
        }
        Ok("raw") => return raw_echo(),
        #[cfg(unix)]
        Ok("impostor") => return impostor(hash),
        Ok("shm-floor") => return floor::serve(),
        Ok("mute") => {
            // Closes its output and lingers: the client must not wait for it.
            #[cfg(unix)]
            // SAFETY: closing stdout on purpose.
            unsafe {
                extern "C" {
                    fn close(fd: i32) -> i32;
                }
                close(1);
            }
            std::thread::sleep(std::time::Duration::from_secs(30));
            return;
        }
        Ok("huge") => {
            let mut frame = vec![0xf0, 0xff, 0xff, 0xff, 2, 0, 0, 0];
            frame.extend_from_slice(&[0; 8]);
            let _ = std::io::stdout().write_all(&frame);
            let _ = std::io::stdout().flush();
            std::thread::sleep(std::time::Duration::from_secs(5));
            return;
        }
        _ => {}
    }
    run_host(|| match std::env::var("DLLGEN_TEST_HOST_FAIL_LOAD") {
        Ok(reason) => Err(reason),
        Err(_) => Ok(Box::new(Tests { hash })),
    })
}
