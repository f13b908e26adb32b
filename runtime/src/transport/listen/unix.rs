use super::*;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Component, Path, PathBuf};

impl Conn for UnixStream {
    fn split(&self) -> io::Result<Box<dyn Conn>> {
        Ok(Box::new(self.try_clone()?))
    }
    fn cut(&self) {
        let _ = self.shutdown(std::net::Shutdown::Both);
    }
}

extern "C" {
    fn geteuid() -> u32;
}

fn me() -> u32 {
    // SAFETY: geteuid has no preconditions.
    unsafe { geteuid() }
}

fn refuse(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, message)
}

/// Binds the socket `endpoint`. The trust model: only this user may be able to put a
/// socket at that path or move one there, so every folder from the root down is
/// checked without following links (see [`trusted_folder`]); a missing final folder
/// is created with mode 0700. A stale socket is replaced; anything else at the path is
/// left alone.
pub(crate) fn listen(endpoint: &str) -> io::Result<(String, Accept)> {
    if endpoint.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "--listen needs the socket's path"));
    }
    let path = std::path::absolute(endpoint)?;
    let dir = path.parent().unwrap_or(Path::new("/"));
    trusted_folder(dir, me())?;
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_socket() => {
            if UnixStream::connect(&path).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("another host is already listening on {}", path.display()),
                ));
            }
            std::fs::remove_file(&path)?;
        }
        Ok(m) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is {}, not a socket; it is left alone", path.display(), kind(&m)),
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(&path)?;
    Ok((
        path.display().to_string(),
        Box::new(move || listener.accept().map(|(s, _)| Box::new(s) as Box<dyn Conn>)),
    ))
}

/// What a file is, for messages.
fn kind(m: &std::fs::Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a folder"
    } else if t.is_file() {
        "a regular file"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a device"
    }
}

/// Checks (creating what is missing of it) the folder chain from `/` to `dir`, each
/// component with `lstat`: no symbolic links; every folder owned by `user` or root and
/// writable by no one else, except sticky ones like `/tmp` (where no one else can
/// rename what `user` owns); `dir` itself owned by `user` with no access for anyone
/// else. Once this holds, no other user can swap a folder of the chain afterwards.
pub(crate) fn trusted_folder(dir: &Path, user: u32) -> io::Result<()> {
    let mut at = PathBuf::new();
    let parts: Vec<Component> = dir.components().collect();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        if matches!(part, Component::CurDir | Component::ParentDir) {
            return Err(refuse(format!("{}: give the socket's folder without '.' or '..'", dir.display())));
        }
        let last = i + 1 == parts.len();
        let meta = match std::fs::symlink_metadata(&at) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // A parent already checked, so no one else can interfere here.
                match std::fs::DirBuilder::new().mode(0o700).create(&at) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(e),
                }
                std::fs::symlink_metadata(&at)?
            }
            other => other?,
        };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&at).map(|t| t.display().to_string()).unwrap_or_default();
            let dangling = if std::fs::metadata(&at).is_err() { ", which does not exist" } else { "" };
            return Err(refuse(format!(
                "{} is a symbolic link (to {target}{dangling}); the socket's folders must be real folders, so no one can redirect the path later: give the path without links",
                at.display()
            )));
        }
        if !meta.is_dir() {
            return Err(refuse(format!("{} is {}, not a folder", at.display(), kind(&meta))));
        }
        let (owner, mode) = (meta.uid(), meta.mode() & 0o7777);
        if last {
            if owner != user || mode & 0o077 != 0 {
                return Err(refuse(format!(
                    "{} must belong to this user (uid {user}) with mode 0700, so no one else can reach the socket; it belongs to uid {owner} with mode {mode:04o}",
                    at.display()
                )));
            }
        } else if owner != user && owner != 0 {
            return Err(refuse(format!(
                "{} belongs to uid {owner}, who could replace the folders inside it; put the socket under folders owned by this user (uid {user}) or root",
                at.display()
            )));
        } else if mode & 0o022 != 0 && mode & 0o1000 == 0 {
            return Err(refuse(format!(
                "{} (mode {mode:04o}) can be written by other users, who could replace the folders inside it",
                at.display()
            )));
        }
    }
    Ok(())
}

/// The user id and process id of the process at the other end of `s`.
#[cfg(target_os = "linux")]
pub(crate) fn peer(s: &UnixStream) -> io::Result<(u32, u32)> {
    use std::os::fd::AsRawFd;
    #[repr(C)]
    struct Ucred {
        pid: i32,
        uid: u32,
        gid: u32,
    }
    extern "C" {
        fn getsockopt(fd: i32, level: i32, name: i32, value: *mut Ucred, len: *mut u32) -> i32;
    }
    const SOL_SOCKET: i32 = 1;
    const SO_PEERCRED: i32 = 17;
    let mut cred = Ucred { pid: 0, uid: u32::MAX, gid: u32::MAX };
    let mut len = std::mem::size_of::<Ucred>() as u32;
    // SAFETY: a socket we own and a buffer of the size passed.
    if unsafe { getsockopt(s.as_raw_fd(), SOL_SOCKET, SO_PEERCRED, &mut cred, &mut len) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((cred.uid, cred.pid as u32))
}

/// The user id of the process at the other end of `s` (its process id is not known).
#[cfg(not(target_os = "linux"))]
pub(crate) fn peer(s: &UnixStream) -> io::Result<(u32, u32)> {
    use std::os::fd::AsRawFd;
    extern "C" {
        fn getpeereid(fd: i32, uid: *mut u32, gid: *mut u32) -> i32;
    }
    let (mut uid, mut gid) = (u32::MAX, u32::MAX);
    // SAFETY: a socket we own and two out-values.
    if unsafe { getpeereid(s.as_raw_fd(), &mut uid, &mut gid) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((uid, 0))
}

/// Whether the peer `(uid, pid)` is this user's: the only process a client talks to.
pub(crate) fn check_peer(endpoint: &str, (uid, pid): (u32, u32), user: u32) -> Result<(), String> {
    if uid == user {
        return Ok(());
    }
    Err(format!(
        "the process listening on {endpoint} (pid {pid}) runs as uid {uid}, not as this user (uid {user}); nothing was sent to it"
    ))
}

/// Connects to a listening host, after checking that it runs as this user; the closure
/// interrupts a blocked read (timeouts).
pub(crate) fn connect(endpoint: &str) -> Result<Connected, ConnectError> {
    let s = UnixStream::connect(endpoint)?;
    check_peer(endpoint, peer(&s)?, me()).map_err(ConnectError::Untrusted)?;
    let cut = s.try_clone()?;
    Ok((
        Box::new(s.try_clone()?),
        Box::new(s),
        Box::new(move || {
            let _ = cut.shutdown(std::net::Shutdown::Both);
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peer_of_our_own_socket_is_us_and_another_user_is_refused() {
        let (a, _b) = UnixStream::pair().unwrap();
        let (uid, pid) = peer(&a).unwrap();
        assert_eq!(uid, me());
        if cfg!(target_os = "linux") {
            assert_eq!(pid, std::process::id());
        }
        assert!(check_peer("x.sock", (uid, pid), me()).is_ok());
        let other = me().wrapping_add(1);
        let refused = check_peer("/run/x.sock", (other, 42), me()).unwrap_err();
        assert!(refused.contains("/run/x.sock") && refused.contains("pid 42"), "{refused}");
        assert!(refused.contains(&format!("uid {other}")), "{refused}");
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("dllgen-trust-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::DirBuilder::new().mode(0o700).create(&d).unwrap();
        d
    }

    #[test]
    fn the_folder_chain_is_checked_without_following_links() {
        let d = scratch("chain");
        let user = me();
        // Missing folders are created 0700 and accepted.
        trusted_folder(&d.join("a/b"), user).unwrap();
        let mode = std::fs::metadata(d.join("a/b")).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o700);
        // A link anywhere in the chain, dangling or not.
        std::os::unix::fs::symlink(d.join("a"), d.join("link")).unwrap();
        let e = trusted_folder(&d.join("link/b"), user).unwrap_err().to_string();
        assert!(e.contains("is a symbolic link"), "{e}");
        std::os::unix::fs::symlink(d.join("nowhere"), d.join("dangling")).unwrap();
        let e = trusted_folder(&d.join("dangling"), user).unwrap_err().to_string();
        assert!(e.contains("does not exist"), "{e}");
        // A file where a folder should be.
        std::fs::write(d.join("file"), b"").unwrap();
        let e = trusted_folder(&d.join("file/x"), user).unwrap_err().to_string();
        assert!(e.contains("is a regular file, not a folder"), "{e}");
        // An ancestor others can write (not sticky).
        std::fs::DirBuilder::new().mode(0o700).create(d.join("open")).unwrap();
        std::fs::set_permissions(d.join("open"), std::os::unix::fs::PermissionsExt::from_mode(0o777))
            .unwrap();
        let e = trusted_folder(&d.join("open/x"), user).unwrap_err().to_string();
        assert!(e.contains("can be written by other users"), "{e}");
        // ...but a sticky one (like /tmp) is fine.
        std::fs::set_permissions(d.join("open"), std::os::unix::fs::PermissionsExt::from_mode(0o1777))
            .unwrap();
        trusted_folder(&d.join("open/x"), user).unwrap();
        // An ancestor owned by someone else (as seen by a user who is not its owner).
        let e = trusted_folder(&d.join("a/b"), user.wrapping_add(1)).unwrap_err().to_string();
        assert!(e.contains(&format!("belongs to uid {user}")), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
