//! Fuzzes the host's frame decoder and serving loop with arbitrary client bytes (the
//! input starts with a valid handshake half the time, so calls are reached; half of those
//! ask for events, so frames go through the reader thread and its lanes), and the
//! client-side frame reader: never a panic, a hang or a huge allocation.
#![no_main]

use dllgen_runtime::host::{serve, Library};
use dllgen_runtime::wire::{read_frame, Reader, Status, WireError, Writer};

struct Echo;

impl Library for Echo {
    fn model_hash(&self) -> u64 {
        0x1234
    }
    fn call(&self, id: u32, mut args: Reader<'_>, out: &mut Writer) -> Result<Status, WireError> {
        match id {
            0 => {
                let b = args.bytes()?;
                out.bytes(b);
            }
            1 => {
                out.i64(args.i64()?.wrapping_add(args.f64()? as i64));
            }
            _ => return Err(WireError::Payload("no such function")),
        }
        args.finish()?;
        Ok(Status::Ok)
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut input = Vec::new();
    if data.first().is_some_and(|b| b & 1 == 1) {
        let mut w = Writer::new();
        w.u32(dllgen_runtime::PROTOCOL_VERSION).u64(0x1234);
        if data.first().is_some_and(|b| b & 2 == 2) {
            // No shared region, no beats, events.
            w.u8(0).u32(0).u8(1);
        }
        w.send(&mut input, dllgen_runtime::wire::Kind::Hello, Status::Ok, 0, 0).unwrap();
    }
    input.extend_from_slice(data.get(1..).unwrap_or_default());
    let _ = serve(&Echo, &mut input.as_slice(), Box::new(std::io::sink()), 1 << 16);
    // The client's reader on the same bytes.
    let mut rest = data;
    let mut payload = dllgen_runtime::Payload::new();
    while let Ok(h) = read_frame(&mut rest, 1 << 16, &mut payload) {
        let mut r = Reader::new(&payload);
        let _ = (h, r.bytes(), r.i64(), r.finish());
    }
});
