//! A host speaking the protocol by hand, for the tests that need one the runtime would
//! never be (an impostor, a liar about function ids): it accepts the handshake (shared
//! memory declined, no beats), then lets `answer` fill the reply to each call and say
//! under which function id it goes (`None` ends serving). Returns the bytes received.

use dllgen_runtime::wire::{read_frame, Kind, DEFAULT_MAX_FRAME};
use dllgen_runtime::{Payload, Reader, Status, Writer};
use std::io::{Read, Write};

pub fn serve(
    input: &mut impl Read,
    output: &mut impl Write,
    hash: u64,
    mut answer: impl FnMut(u32, Reader<'_>, &mut Writer) -> Option<u32>,
) -> usize {
    let (mut received, mut payload, mut out) = (0, Payload::new(), Writer::new());
    while let Ok(h) = read_frame(input, DEFAULT_MAX_FRAME, &mut payload) {
        received += 16 + payload.len();
        out.clear();
        let (kind, id) = match h.kind {
            Kind::Hello => {
                out.u32(dllgen_runtime::PROTOCOL_VERSION).u64(hash).u8(0);
                (Kind::HelloAck, 0)
            }
            Kind::Call => match answer(h.id, Reader::new(&payload), &mut out) {
                Some(id) => (Kind::Return, id),
                None => break,
            },
            _ => break,
        };
        if out.send(output, kind, Status::Ok, id, h.seq).is_err() {
            break;
        }
    }
    received
}
