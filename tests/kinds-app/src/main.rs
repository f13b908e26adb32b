//! `kinds-check LIB64 [--connect ENDPOINT | --pipe]`: runs every check in `checks` through the
//! generated kinds client (host and 32-bit library found as the client finds them:
//! `KINDS_HOST` / `KINDS_LIBRARY` on Windows, `KINDS_LINUX_HOST` / `KINDS_LINUX_LIBRARY` on
//! Linux), comparing with LIB64, the 64-bit build of the same library. Prints one line per
//! check; a failure panics (exit status 101) with what differed. A host it starts is
//! reached through shared memory (Linux, Windows), or the pipe with `--pipe`.

mod checks;

/// The generated client of this OS's build of the library, under one name.
mod api {
    #[cfg(windows)]
    pub use kinds_client::{
        Camera, Clash, Config, Device, Error, HostPath, Kinds, KxBlock, KxFrame, KxFrameFnKept, KxInfo,
        KxPacked, KxPacket, KxPoint, KxSeries, KxStream, KxTextReq, KxValue, KxValueU, KxVerdict, Retained,
        KX_MAGIC, KX_VERSION,
    };
    #[cfg(not(windows))]
    pub use kinds_linux_client::{
        Camera, Clash, Config, Device, Error, HostPath, KindsLinux as Kinds, KxBlock, KxFrame, KxFrameFnKept,
        KxInfo, KxPacked, KxPacket, KxPoint, KxSeries, KxStream, KxTextReq, KxValue, KxValueU, KxVerdict,
        Retained, KX_MAGIC, KX_VERSION,
    };
}

mod direct;
pub use direct::Direct;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(lib64) = args.first() else {
        eprintln!("usage: kinds-check LIB64 [--connect ENDPOINT]");
        std::process::exit(2);
    };
    let direct = Direct::open(lib64);
    let shared = args.iter().any(|a| a == "--connect");
    let k = match args.iter().position(|a| a == "--connect") {
        Some(at) => {
            // The host path is not used when connecting to a listener.
            let mut config = api::Config::new(api::HostPath::Explicit("kinds-host".into()), 0);
            config.listener = Some(args.get(at + 1).cloned().unwrap_or_default());
            api::Kinds::with_config(config)
        }
        None if args.iter().any(|a| a == "--pipe") => {
            let mut config = api::Kinds::config();
            config.shm = None;
            api::Kinds::with_config(config)
        }
        None => api::Kinds::new(),
    };
    k.client().connect().expect("the host starts");
    let expect_shm = !shared && !args.iter().any(|a| a == "--pipe");
    assert_eq!(k.client().uses_shared_memory(), expect_shm, "the transport in use");
    checks::scalars_and_structs_by_value(&k, &direct);
    println!("ok: scalars and structs by value");
    checks::buffers_strings_and_bools(&k, &direct);
    println!("ok: buffers, strings and bools");
    checks::a_device_session(&k, &direct, shared);
    println!("ok: a device session");
    checks::callbacks(&k);
    println!("ok: callbacks");
    checks::errno(&k);
    println!("ok: errno");
    checks::edges(&k, &direct);
    println!("ok: edges");
    checks::large_buffers(&k, &direct);
    println!("ok: large buffers");
    checks::fixed_and_library_strings(&k, &direct);
    println!("ok: fixed arguments, constants and library strings");
    checks::pointer_fields(&k, &direct);
    println!("ok: struct fields that point: counted buffers, nested structs, the library's own chain");
    checks::struct_callbacks(&k, &direct);
    println!("ok: callbacks given pointers to structs: read, filled, updated");
    checks::tagged_unions(&k, &direct);
    println!("ok: unions selected by a tag field");
    checks::flexible_arrays(&k, &direct);
    println!("ok: structs ending in a flexible array member");
    checks::callback_arrays(&k, &direct);
    println!("ok: callbacks given arrays with their counts: bytes, structs, handles");
    checks::struct_out_buffers(&k, &direct);
    println!("ok: struct fields the library fills, their capacity set by the caller");
    let k = std::sync::Arc::new(k);
    checks::kept_callbacks(&k, &direct);
    println!("ok: callbacks kept past their call: on a handle, until a destroy-notify, for good");
    let endpoint = args.iter().position(|a| a == "--connect").and_then(|at| args.get(at + 1).cloned());
    checks::resident_structs(&k, &direct, endpoint);
    println!("ok: a struct that lives in the host: its buffers bound per call, ended when dropped");
    checks::retained_buffers(&k);
    println!("ok: buffers the library keeps writing after the call: read back once it lets go");
    checks::library_threads(&k, shared);
    println!("ok: callbacks from a thread of the library's own, with no call in flight");
    if !shared {
        checks::queued_frames(&k);
    }
    println!("ok: frames from the library's thread into buffers the client queued");
}
