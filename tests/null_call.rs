//! The null call of the test host, timed: `dllgen-null-call HOST ROUNDS PER_ROUND` prints
//! the median time per call in nanoseconds. Built with and without the runtime's `trace`
//! feature, the bench (benches/runtime.rs) compares the two in one run.

use dllgen_runtime::{Client, Config, HostPath, Reader, WireError, Writer};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, rounds, per_round] = &args[..] else {
        eprintln!("usage: dllgen-null-call HOST ROUNDS PER_ROUND");
        std::process::exit(2);
    };
    let (rounds, per_round): (usize, u32) =
        (rounds.parse().expect("ROUNDS"), per_round.parse().expect("PER_ROUND"));
    // The test host's model hash and its null function (tests/runtime-host).
    let client = Client::new(Config::new(HostPath::Explicit(host.into()), 0x0d11_6e40_0000_0001));
    fn none(_: u32, _: Reader<'_>, _: &mut Writer) -> Result<(), WireError> {
        Ok(())
    }
    let null = || client.call(11, |_| {}, |_| Ok(()), &mut none).expect("the null call");
    null();
    let mut v: Vec<u128> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_round {
                null();
            }
            t.elapsed().as_nanos() / u128::from(per_round)
        })
        .collect();
    v.sort();
    println!("{}", v[v.len() / 2]);
}
