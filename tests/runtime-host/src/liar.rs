//! A host that lies: it speaks the demo library's functions (specs/demo.yaml, as the
//! generated demo client numbers them) and answers some of them with replies no honest
//! host sends, so tests/tests/replies.rs can prove the generated client refuses them.
//!
//! Environment: `DLLGEN_LIAR_HASH` is the demo client's model hash (hex; the handshake
//! needs it); `DLLGEN_LIAR_MODE` says how it lies:
//! - `long`: `demo_read` and `demo_name` answered with megabytes whatever capacity was
//!   asked for (over shared memory the host places them in the bulk area, as it would a
//!   real result), `demo_scale` with twice the samples it was given;
//! - `forged`: `demo_read` answered with a bulk-area reference to 4 MiB it never wrote;
//! - `wrong-id`: `demo_version` answered in a `Return` carrying `demo_add`'s id (over the
//!   pipe: the runtime's host loop always echoes the call's id, so this one speaks the
//!   protocol itself).
//!
//! `demo_add`, `demo_open` and `demo_version` (but in `wrong-id`) are answered honestly, so
//! a test can tell a replaced host answers.

mod by_hand;

use dllgen_runtime::{run_host, Library, Reader, Status, WireError, Writer};

// The demo functions' indices in generated/demo-client (model order).
const ADD: u32 = 0;
const NAME: u32 = 8;
const OPEN: u32 = 9;
const READ: u32 = 10;
const SCALE: u32 = 11;
const VERSION: u32 = 14;

/// What `long` answers with: far more than any test asks for, within the bulk area.
const LONG: usize = 3 << 20;

struct Liar {
    hash: u64,
    forged: bool,
}

impl Library for Liar {
    fn model_hash(&self) -> u64 {
        self.hash
    }

    fn call(&self, id: u32, mut args: Reader<'_>, out: &mut Writer) -> Result<Status, WireError> {
        match id {
            ADD => {
                let (a, b) = (args.i32()?, args.i32()?);
                out.i32(a.wrapping_add(b));
            }
            OPEN => {
                args.bytes()?;
                // demo_status 0 and handle id 1 (the client cannot tell it from a real one).
                out.i32(0).u64(1);
            }
            VERSION => {
                out.u8(1).bytes(b"liar");
            }
            READ if self.forged => {
                let _ = (args.u64()?, args.u64()?);
                // 4 MiB at offset 0 with the top bit set: a bulk reference (wire::Bulk).
                out.i32(0).u32((4 << 20) | 1 << 31).u32(0);
            }
            READ | NAME => {
                let _ = (args.u64()?, args.u64()?);
                out.i32(0).bytes(&vec![b'x'; LONG]);
            }
            SCALE => {
                args.u64()?;
                let samples = args.bytes()?.to_vec();
                let _ = (args.u64()?, args.f64()?);
                out.i32(0).bytes(&[&samples[..], &samples[..]].concat());
            }
            _ => return Err(WireError::Payload("the liar does not know this function")),
        }
        args.finish()?;
        Ok(Status::Ok)
    }
}

/// The `wrong-id` host: the handshake (shared memory declined), then `demo_add` answered
/// honestly and `demo_version` under `demo_add`'s id; it exits when the client goes.
fn wrong_id(hash: u64) {
    let (mut input, mut output) = (std::io::stdin().lock(), std::io::stdout().lock());
    by_hand::serve(&mut input, &mut output, hash, |id, mut r, out| match id {
        ADD => {
            let (Ok(a), Ok(b)) = (r.i32(), r.i32()) else { return None };
            out.i32(a.wrapping_add(b));
            Some(ADD)
        }
        VERSION => {
            out.u8(1).bytes(b"liar");
            Some(ADD)
        }
        _ => None,
    });
}

fn main() {
    let hash = std::env::var("DLLGEN_LIAR_HASH").ok().and_then(|h| u64::from_str_radix(&h, 16).ok());
    let Some(hash) = hash else {
        eprintln!("dllgen-liar-host: set DLLGEN_LIAR_HASH to the demo client's MODEL_HASH (hex)");
        std::process::exit(2)
    };
    let mode = std::env::var("DLLGEN_LIAR_MODE").unwrap_or_default();
    if mode == "wrong-id" {
        return wrong_id(hash);
    }
    run_host(move || Ok(Box::new(Liar { hash, forged: mode == "forged" })))
}
