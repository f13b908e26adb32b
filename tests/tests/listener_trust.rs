//! Listener mode against another local user (run as root: the test creates the user
//! `dllgen-impostor`; otherwise each test says why it is skipped). Three ways another user
//! could put a socket where a client looks for its host: (a) a folder they pre-created,
//! (b) a symbolic link they swap after the host bound through it, (c) an ancestor folder
//! they own, whose child they rename away and recreate. In each the real host refuses the
//! folder, and a client finding the impostor's socket refuses it before sending a byte.

use dllgen_runtime::{Client, Config, Error, HostPath, Reader, WireError, Writer};
use dllgen_tests::{build_bin, listening_host};
use std::os::unix::fs::{chown, lchown, symlink, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const HASH: u64 = 0x0d11_6e40_0000_0001;
const ADD: u32 = 1;
const USER: &str = "dllgen-impostor";

extern "C" {
    fn geteuid() -> u32;
}

/// The other user's (uid, gid), created when missing; `None` (with the reason printed)
/// when this test cannot act as another user.
fn other_user() -> Option<(u32, u32)> {
    static USER_IDS: OnceLock<Option<(u32, u32)>> = OnceLock::new();
    *USER_IDS.get_or_init(|| {
        // SAFETY: geteuid has no preconditions.
        if unsafe { geteuid() } != 0 {
            eprintln!("skipped: creating and acting as a second local user needs root");
            return None;
        }
        let id = |flag: &str| -> Option<u32> {
            let out = Command::new("id").arg(flag).arg(USER).output().ok()?;
            String::from_utf8_lossy(&out.stdout).trim().parse().ok()
        };
        if id("-u").is_none() {
            let made = Command::new("useradd")
                .args(["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER])
                .status();
            if !made.is_ok_and(|s| s.success()) {
                eprintln!("skipped: useradd {USER} failed");
                return None;
            }
        }
        Some((id("-u")?, id("-g")?))
    })
}

/// A fresh folder for one scenario: root's, 0755, holding a copy of the test host the
/// other user can run (the build tree may be out of its reach).
fn scratch(name: &str) -> (PathBuf, PathBuf) {
    let base = std::env::temp_dir().join(format!("dllgen-trust-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir(&base).unwrap();
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();
    let host = base.join("dllgen-test-host");
    std::fs::copy(build_bin("dllgen-test-host", "dllgen-test-host", "i686-unknown-linux-gnu"), &host)
        .unwrap();
    (base, host)
}

fn folder(path: &Path, mode: u32, owner: Option<(u32, u32)>) {
    std::fs::create_dir(path).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    if let Some((u, g)) = owner {
        chown(path, Some(u), Some(g)).unwrap();
    }
}

/// The impostor process, killed when dropped (also when an assertion fails).
struct Impostor(Child);

impl Drop for Impostor {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The impostor, as the other user, listening on `sock`.
fn impostor(host: &Path, sock: &Path, (uid, gid): (u32, u32)) -> Impostor {
    let mut cmd = Command::new(host);
    cmd.env("DLLGEN_TEST_HOST_MODE", "impostor").uid(uid).gid(gid).stderr(std::process::Stdio::null());
    Impostor(listening_host(cmd, Some(sock.to_str().unwrap())).0)
}

/// The real host (this user) asked to listen on `sock`: it must refuse, saying `why`.
fn real_host_refuses(host: &Path, sock: &Path, why: &str) {
    let out = dllgen_tests::run(Command::new(host).arg("--listen").arg(sock), Duration::from_secs(10));
    assert_eq!(out.code, Some(2), "the host listened on {}: {}", sock.display(), out.stderr);
    assert!(out.stderr.contains(why), "expected {why:?} in: {}", out.stderr);
}

/// A client looking for its host at `sock` finds the impostor: it refuses, naming the
/// other user, and the impostor received nothing.
fn client_refuses(sock: &Path, impostor: Impostor, uid: u32) {
    let mut config = Config::new(HostPath::Explicit(PathBuf::from("unused")), HASH);
    config.listener = Some(sock.to_str().unwrap().to_string());
    config.timeout = Some(Duration::from_secs(10));
    let client = Client::new(config);
    let add = client.call(
        ADD,
        |w: &mut Writer| {
            w.i32(1).i32(2);
        },
        |mut r: Reader<'_>| r.i32(),
        &mut |_, _, _| Err(WireError::Payload("no callbacks")),
    );
    match &add {
        Err(Error::Untrusted(m)) => assert!(m.contains(&format!("uid {uid}")), "{m}"),
        other => panic!("the client talked to the impostor: {other:?}"),
    }
    drop(client);
    let log = PathBuf::from(format!("{}.log", sock.display()));
    let until = Instant::now() + Duration::from_secs(5);
    while !log.exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    drop(impostor);
    assert_eq!(logged, "received 0 bytes\n", "what the impostor got");
}

#[test]
fn a_folder_another_user_created_is_refused_by_host_and_client() {
    let Some(other) = other_user() else { return };
    let (base, host) = scratch("a");
    let dir = base.join("a");
    folder(&dir, 0o711, Some(other));
    let sock = dir.join("host.sock");
    let impostor = impostor(&host, &sock, other);
    real_host_refuses(&host, &sock, "must belong to this user");
    client_refuses(&sock, impostor, other.0);
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_symlinked_folder_is_refused_and_a_swapped_link_is_caught_by_the_client() {
    let Some(other) = other_user() else { return };
    let (base, host) = scratch("b");
    folder(&base.join("pub"), 0o1777, None);
    folder(&base.join("real"), 0o700, None);
    folder(&base.join("evil"), 0o700, Some(other));
    let link = base.join("pub/link");
    symlink(base.join("real"), &link).unwrap();
    lchown(&link, Some(other.0), Some(other.1)).unwrap();
    real_host_refuses(&host, &link.join("host.sock"), "is a symbolic link");
    // The other user points the link at a folder of theirs, with the impostor inside.
    std::fs::remove_file(&link).unwrap();
    symlink(base.join("evil"), &link).unwrap();
    lchown(&link, Some(other.0), Some(other.1)).unwrap();
    let sock = link.join("host.sock");
    let impostor = impostor(&host, &sock, other);
    client_refuses(&sock, impostor, other.0);
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn an_ancestor_another_user_owns_is_refused_and_its_replaced_child_is_caught_by_the_client() {
    let Some(other) = other_user() else { return };
    let (base, host) = scratch("c");
    folder(&base.join("other"), 0o755, Some(other));
    let mine = base.join("other/mine");
    folder(&mine, 0o700, None);
    real_host_refuses(&host, &mine.join("host.sock"), &format!("belongs to uid {}", other.0));
    // The owner of `other` renames `mine` away and puts their own in its place.
    std::fs::rename(&mine, base.join("other/away")).unwrap();
    folder(&mine, 0o700, Some(other));
    let sock = mine.join("host.sock");
    let impostor = impostor(&host, &sock, other);
    client_refuses(&sock, impostor, other.0);
    let _ = std::fs::remove_dir_all(&base);
}
