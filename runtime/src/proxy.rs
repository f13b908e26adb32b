//! What a generated proxy library (`<name>-proxy`, a 64-bit `cdylib` exporting the
//! library's own C functions) needs besides its client: reading the caller's raw memory
//! with every pointer and length checked, writing results back into it, the value a
//! failed call returns, and the message `dllgen_last_error_message()` gives.
//!
//! A proxy function converts its C arguments into the typed client's, calls the typed
//! method and writes the results where the C caller expects them. Nothing here panics on
//! what a caller passes: a NULL where the library needs memory, a length that does not fit
//! the 32-bit side or text that is not the spec's encoding is a [`Failure`], and the C
//! function returns its failure value with the reason kept for the message.

use crate::client::{library_failure, Error, LibraryFailure};
use crate::marshal::error::Code;
use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr, CString};
use std::path::PathBuf;

/// Why a proxy call did not return the library's own result.
#[derive(Debug)]
pub enum Failure {
    /// The library's error rule fired: what it returned and its error codes, for the
    /// caller to see unchanged.
    Library(LibraryFailure),
    /// The proxy could not make the call (no host, a timeout, a refusal, an argument the
    /// 32-bit side cannot take): the message.
    Proxy(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        match (&e, library_failure()) {
            (Error::Library(code), Some(f)) if f.code == *code => Failure::Library(f),
            _ => Failure::Proxy(e.to_string()),
        }
    }
}

/// A proxy function's result.
pub type Result<T> = std::result::Result<T, Failure>;

/// A refusal: `what` (the function's parameter) and why.
pub fn refuse(what: &str, why: impl std::fmt::Display) -> Failure {
    Failure::Proxy(format!("{what}: {why}"))
}

/// `v` as the 32-bit library's type, refused when it does not fit (a 64-bit `long` above
/// 2^31, a `size_t` above 4 GiB): never truncated.
pub fn narrow<T: TryFrom<S>, S: Copy + std::fmt::Display>(v: S, what: &str) -> Result<T> {
    T::try_from(v).map_err(|_| refuse(what, format!("{v} does not fit the 32-bit library's type")))
}

/// The library's value as the caller's (wider or equal) type; refused should it not fit.
pub fn widen<T: TryFrom<S>, S: Copy + std::fmt::Display>(v: S, what: &str) -> Result<T> {
    T::try_from(v).map_err(|_| refuse(what, format!("{v} does not fit the caller's type")))
}

/// A count the caller passes, as `u64`: refused when negative.
pub fn count<S: Copy + std::fmt::Display + TryInto<u64>>(v: S, what: &str) -> Result<u64> {
    v.try_into().map_err(|_| refuse(what, format!("the count {v} is negative")))
}

/// A count in `units` of `elem_size`-byte elements as a number of elements.
pub fn elements(count: u64, bytes: bool, elem_size: u64, what: &str) -> Result<usize> {
    let n = if bytes && elem_size > 1 {
        if count % elem_size != 0 {
            return Err(refuse(
                what,
                format!("{count} bytes is not a whole number of {elem_size}-byte elements"),
            ));
        }
        count / elem_size
    } else {
        count
    };
    usize::try_from(n)
        .map_err(|_| refuse(what, format!("{n} elements is more than this process can address")))
}

/// The byte offset of element `n` of a buffer of `cap` elements of `elem_size` bytes, for
/// a result that points into it (refused past its end).
pub fn offset(n: usize, cap: usize, elem_size: u64, what: &str) -> Result<usize> {
    if n > cap {
        return Err(refuse(what, format!("a pointer to element {n} of a buffer of {cap}")));
    }
    Ok(n * elem_size as usize)
}

/// A count of `n` elements in `units`, as the caller's count type.
pub fn units<T: TryFrom<u64>>(n: usize, bytes: bool, elem_size: u64, what: &str) -> Result<T> {
    let v = n as u64 * if bytes { elem_size } else { 1 };
    T::try_from(v).map_err(|_| refuse(what, format!("the count {v} does not fit the caller's type")))
}

/// A callback's context as the caller gave it, owned by the closure around its function:
/// the library may call the closure on another thread (`Send`), and when it lets go of it
/// (the closure is dropped), the caller's destroy function, if any, gets the context.
pub struct Context {
    ctx: *mut c_void,
    destroy: Option<unsafe extern "C" fn(*mut c_void)>,
}

// SAFETY: the pointer is the caller's and only handed back to the caller's functions, as
// the library itself would, from whatever thread it calls them on.
unsafe impl Send for Context {}
// SAFETY: as above; it is never dereferenced here.
unsafe impl Sync for Context {}

impl Context {
    /// The context `ctx` and what ends it.
    pub fn new(ctx: *mut c_void, destroy: Option<unsafe extern "C" fn(*mut c_void)>) -> Context {
        Context { ctx, destroy }
    }
    /// The pointer the caller's function gets (a method, so a closure captures the whole
    /// `Context`, not the bare pointer).
    pub fn get(&self) -> *mut c_void {
        self.ctx
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        if let Some(d) = self.destroy {
            // SAFETY: the caller's destroy function with the context it gave for it, once, as
            // the library would call it when it lets go of the callback.
            unsafe { d(self.ctx) }
        }
    }
}

/// A callback's argument for the caller's type, or the answer it gave for the library's:
/// one that does not fit ends the callback with a panic, which the client reports as the
/// call's `Error::Callback` (the library gets the callback's default).
pub fn answer<T: TryFrom<S>, S: Copy + std::fmt::Display>(v: S, what: &str) -> T {
    match T::try_from(v) {
        Ok(t) => t,
        Err(_) => panic!("{what}: {v} does not fit the other side's type"),
    }
}

/// Text for a C callback: a NUL-terminated copy (NULL for `None`) living as long as this.
pub struct CText(Option<CString>);

impl CText {
    /// A copy of `s`, up to any NUL inside it.
    pub fn new(s: Option<&str>) -> CText {
        CText(s.map(|s| CString::new(up_to_nul(s)).unwrap_or_default()))
    }
    /// The pointer the callback gets.
    pub fn as_ptr(&self) -> *const c_char {
        self.0.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
    }
}

/// An array of texts for a C callback (`char **argv`, NULL entries kept), followed by a
/// NULL pointer.
pub struct CTexts {
    _texts: Vec<CText>,
    ptrs: Vec<*mut c_char>,
}

impl CTexts {
    /// Copies of `texts`.
    pub fn new(texts: &[Option<String>]) -> CTexts {
        let texts: Vec<CText> = texts.iter().map(|t| CText::new(t.as_deref())).collect();
        let mut ptrs: Vec<*mut c_char> = texts.iter().map(|t| t.as_ptr().cast_mut()).collect();
        ptrs.push(std::ptr::null_mut());
        CTexts { _texts: texts, ptrs }
    }
    /// The array the callback gets.
    pub fn as_mut_ptr(&mut self) -> *mut *mut c_char {
        self.ptrs.as_mut_ptr()
    }
}

/// The client's objects for a resident struct, by the caller's address of its struct
/// (`z_stream`): the caller's struct is the library's handle to the object, as the
/// library's own struct would be.
pub struct Residents<T: 'static> {
    objects: std::sync::Mutex<std::collections::BTreeMap<usize, Box<T>>>,
}

impl<T: Default + 'static> Residents<T> {
    /// An empty table (for a `static`).
    pub const fn new() -> Residents<T> {
        Residents { objects: std::sync::Mutex::new(std::collections::BTreeMap::new()) }
    }

    /// The object of the caller's struct at `addr` for one call: a new one for a function
    /// that sets it up (`setup`; one already there is let go of), else the one set up
    /// before (refused when there is none: the struct was never set up, or ended).
    pub fn lend(&'static self, addr: usize, setup: bool, what: &str) -> Result<Lent<T>> {
        if addr == 0 {
            return Err(refuse(what, "NULL where the library needs its struct"));
        }
        let mut objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
        let value = match objects.remove(&addr) {
            Some(old) if setup => {
                drop(objects);
                drop(old);
                Box::default()
            }
            None if setup => Box::default(),
            Some(v) => v,
            None => {
                return Err(refuse(what, "a struct this library never set up (or one it ended)"));
            }
        };
        Ok(Lent { home: self, addr, value: Some(value), ended: false })
    }
}

impl<T: Default + 'static> Default for Residents<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A resident object out of its table for a call: put back when dropped, unless ended.
pub struct Lent<T: 'static> {
    home: &'static Residents<T>,
    addr: usize,
    value: Option<Box<T>>,
    ended: bool,
}

impl<T: 'static> Lent<T> {
    /// Let go of it when dropped (an end function ran, or a set-up failed).
    pub fn end(&mut self) {
        self.ended = true;
    }
    /// Keep it after all (the set-up succeeded).
    pub fn keep(&mut self) {
        self.ended = false;
    }
}

impl<T: 'static> std::ops::Deref for Lent<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_deref().expect("present until dropped")
    }
}

impl<T: 'static> std::ops::DerefMut for Lent<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_deref_mut().expect("present until dropped")
    }
}

impl<T: 'static> Drop for Lent<T> {
    fn drop(&mut self) {
        let Some(v) = self.value.take() else { return };
        if self.ended {
            return;
        }
        let mut objects = self.home.objects.lock().unwrap_or_else(|e| e.into_inner());
        // A set-up of the same address on another thread meanwhile wins.
        if let std::collections::btree_map::Entry::Vacant(e) = objects.entry(self.addr) {
            e.insert(v);
        }
    }
}

/// How far a caller's pointer field moves when the library consumed or produced `n` of
/// the `sent` elements of `elem_size` bytes (refused when it reports more than it was
/// given).
pub fn advance(p: usize, n: usize, sent: usize, elem_size: usize, what: &str) -> Result<usize> {
    if n > sent {
        return Err(refuse(what, format!("{n} elements reported for {sent} given")));
    }
    Ok(p.wrapping_add(n * elem_size))
}

/// The NUL-terminated UTF-8 (or ANSI) text at `p`; `None` for NULL when `optional`.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that lives as long as the result.
pub unsafe fn in_str<'a>(p: *const c_char, optional: bool, what: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        return if optional { Ok(None) } else { Err(refuse(what, "NULL where the library needs a string")) };
    }
    // SAFETY: not NULL, and NUL-terminated as the caller promises.
    unsafe { CStr::from_ptr(p) }.to_str().map(Some).map_err(|e| {
        refuse(what, format!("the text is not UTF-8 ({e}); the spec says the library takes UTF-8"))
    })
}

/// The NUL-terminated UTF-16 text at `p`, decoded; `None` for NULL when `optional`.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string of `u16` units.
pub unsafe fn in_str16(p: *const u16, optional: bool, what: &str) -> Result<Option<String>> {
    if p.is_null() {
        return if optional { Ok(None) } else { Err(refuse(what, "NULL where the library needs a string")) };
    }
    // SAFETY: not NULL, and NUL-terminated as the caller promises: every unit up to the
    // NUL is readable.
    let units = unsafe {
        let mut n = 0;
        while *p.add(n) != 0 {
            n += 1;
        }
        std::slice::from_raw_parts(p, n)
    };
    String::from_utf16(units)
        .map(Some)
        .map_err(|_| refuse(what, "the text is not valid UTF-16 (an unpaired surrogate)"))
}

/// `n` elements at `p`: `None` for NULL when `optional`, an empty slice for NULL with
/// `n == 0` (C callers pass `NULL, 0`).
///
/// # Safety
/// `p` is NULL or points to `n` readable elements that live as long as the result.
pub unsafe fn slice<'a, T>(p: *const T, n: usize, optional: bool, what: &str) -> Result<Option<&'a [T]>> {
    match (p.is_null(), optional, n) {
        (true, true, _) => Ok(None),
        (true, false, 0) => Ok(Some(&[])),
        (true, false, _) => Err(refuse(what, format!("NULL with a length of {n}"))),
        // SAFETY: not NULL, with `n` readable elements as the caller promises.
        (false, _, _) => Ok(Some(unsafe { std::slice::from_raw_parts(p, n) })),
    }
}

/// As [`slice`], writable.
///
/// # Safety
/// `p` is NULL or points to `n` writable elements no one else uses during the call.
pub unsafe fn slice_mut<'a, T>(
    p: *mut T,
    n: usize,
    optional: bool,
    what: &str,
) -> Result<Option<&'a mut [T]>> {
    match (p.is_null(), optional, n) {
        (true, true, _) => Ok(None),
        (true, false, 0) => Ok(Some(&mut [])),
        (true, false, _) => Err(refuse(what, format!("NULL with a length of {n}"))),
        // SAFETY: not NULL, with `n` writable elements as the caller promises.
        (false, _, _) => Ok(Some(unsafe { std::slice::from_raw_parts_mut(p, n) })),
    }
}

/// The value at `p`; `None` for NULL.
///
/// # Safety
/// `p` is NULL or points to a readable `T`.
pub unsafe fn read<T: Copy>(p: *const T) -> Option<T> {
    // SAFETY: not NULL, and readable as the caller promises.
    (!p.is_null()).then(|| unsafe { p.read_unaligned() })
}

/// The value at `p`, which must not be NULL.
///
/// # Safety
/// `p` is NULL or points to a readable `T`.
pub unsafe fn read_required<T: Copy>(p: *const T, what: &str) -> Result<T> {
    // SAFETY: as the caller promises.
    unsafe { read(p) }.ok_or_else(|| refuse(what, "NULL where the library needs a value"))
}

/// Refuses NULL where the library writes a value (the host passes its own storage, so
/// the library would not crash: the caller would just lose the result).
pub fn needed<T>(p: *mut T, what: &str) -> Result<()> {
    if p.is_null() {
        Err(refuse(what, "NULL where the library writes a result"))
    } else {
        Ok(())
    }
}

/// Writes `v` at `p` unless it is NULL.
///
/// # Safety
/// `p` is NULL or points to a writable `T`.
pub unsafe fn write<T>(p: *mut T, v: T) {
    if !p.is_null() {
        // SAFETY: not NULL, and writable as the caller promises.
        unsafe { p.write_unaligned(v) };
    }
}

/// Copies `v` into the caller's buffer of `cap` elements at `p`.
///
/// # Safety
/// `p` is NULL or points to `cap` writable elements.
pub unsafe fn copy_out<T: Copy>(p: *mut T, cap: usize, v: &[T], what: &str) -> Result<()> {
    if v.is_empty() {
        return Ok(());
    }
    if p.is_null() || v.len() > cap {
        return Err(refuse(what, format!("{} elements came back for a buffer of {cap}", v.len())));
    }
    // SAFETY: `p` has room for `cap` >= `v.len()` elements, as the caller promises.
    unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), p, v.len()) };
    Ok(())
}

/// Copies `s` and a NUL into the caller's buffer of `cap` bytes at `p`.
///
/// # Safety
/// `p` is NULL or points to `cap` writable bytes.
pub unsafe fn copy_out_str(p: *mut u8, cap: usize, s: &str, what: &str) -> Result<()> {
    if p.is_null() || s.len() >= cap {
        return Err(refuse(what, format!("{} bytes and a NUL came back for a buffer of {cap}", s.len())));
    }
    // SAFETY: `p` has room for `cap` > `s.len()` bytes, as the caller promises.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
        *p.add(s.len()) = 0;
    }
    Ok(())
}

/// Text the library keeps and the caller only reads (a version string, a struct's name
/// field): one copy per distinct text, kept for the life of the process, so the pointer
/// stays valid as the library's own would. Text with a NUL inside ends there, as C sees it.
pub fn intern(s: &str) -> *const c_char {
    keep_text(Owner::PROCESS, s)
}

/// Whose results the copies below are: a handle (its type's number and its id: they go
/// when the caller closes it through the proxy), or the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Owner(pub u32, pub u64);

impl Owner {
    /// Results of no handle: kept for the life of the process.
    pub const PROCESS: Owner = Owner(u32::MAX, 0);
}

/// The copies of results the library owns (text it returns and keeps, its blobs), by owner:
/// each distinct one once, at an address that stays put until its owner closes.
#[derive(Default)]
struct Kept {
    bytes: std::collections::HashSet<Box<[u8]>>,
    units: std::collections::HashSet<Box<[u16]>>,
}

fn kept() -> std::sync::MutexGuard<'static, std::collections::HashMap<Owner, Kept>> {
    use std::sync::{Mutex, OnceLock};
    static KEPT: OnceLock<Mutex<std::collections::HashMap<Owner, Kept>>> = OnceLock::new();
    KEPT.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner())
}

/// `data` kept in `set`: the address of its one copy.
fn keep_in<T: Eq + std::hash::Hash>(set: &mut std::collections::HashSet<Box<[T]>>, data: Vec<T>) -> *const T {
    if let Some(b) = set.get(data.as_slice()) {
        return b.as_ptr();
    }
    let b = data.into_boxed_slice();
    let p = b.as_ptr();
    set.insert(b);
    p
}

/// Text as C sees it: up to a NUL inside it, if any.
fn up_to_nul(s: &str) -> &str {
    s.split('\0').next().unwrap_or_default()
}

/// Text the library returns and keeps, for the caller to read: a NUL-terminated copy,
/// valid until `owner` closes (text with a NUL inside ends there, as C sees it).
pub fn keep_text(owner: Owner, s: &str) -> *const c_char {
    keep_bytes(owner, up_to_nul(s).as_bytes()).cast()
}

/// Bytes the library returns and keeps (a blob), valid until `owner` closes; a NUL after
/// them, as sqlite3 gives one. Never NULL: an empty blob has an address too.
pub fn keep_bytes(owner: Owner, b: &[u8]) -> *const u8 {
    let mut v = b.to_vec();
    v.push(0);
    keep_in(&mut kept().entry(owner).or_default().bytes, v)
}

/// UTF-16 text the library returns and keeps: a NUL-terminated copy, valid until `owner`
/// closes.
pub fn keep_text16(owner: Owner, s: &str) -> *const u16 {
    let mut v: Vec<u16> = s.encode_utf16().take_while(|u| *u != 0).collect();
    v.push(0);
    keep_in(&mut kept().entry(owner).or_default().units, v)
}

/// Lets go of what was kept for a handle when the caller closes it, as the library's
/// own pointers would then be invalid: when dropped, after the close function's call.
pub struct ReleaseOnDrop(pub Owner);

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        kept().remove(&self.0);
    }
}

extern "C" {
    fn malloc(n: usize) -> *mut c_void;
    #[link_name = "free"]
    fn c_free(p: *mut c_void);
}

/// Text the caller frees (with the library's free function, which the proxy exports as
/// the C runtime's `free`): a `malloc` copy with a NUL; NULL when out of memory.
pub fn malloc_str(s: &str) -> *mut c_char {
    let s = up_to_nul(s);
    // SAFETY: a fresh allocation of len + 1 bytes, filled before it is returned.
    unsafe {
        let p = malloc(s.len() + 1).cast::<u8>();
        if !p.is_null() {
            std::ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
            *p.add(s.len()) = 0;
        }
        p.cast()
    }
}

/// Frees what [`malloc_str`] returned (NULL is ignored).
///
/// # Safety
/// `p` is NULL or came from [`malloc_str`] and was not freed.
pub unsafe fn free(p: *mut c_void) {
    // SAFETY: `p` is NULL or malloc's, as the caller promises.
    unsafe { c_free(p) }
}

thread_local! {
    static MESSAGE: RefCell<CString> = RefCell::new(CString::default());
}

/// Keeps `message` as this thread's latest failure.
pub fn set_message(message: &str) {
    let c = CString::new(message.replace('\0', " ")).unwrap_or_default();
    MESSAGE.with(|m| *m.borrow_mut() = c);
}

/// This thread's latest failure ("" before any): valid until the thread's next failure.
pub fn message() -> *const c_char {
    MESSAGE.with(|m| m.borrow().as_ptr())
}

/// `errno` (on Windows also `SetLastError`) for a call the proxy could not make: `EIO`
/// and `ERROR_GEN_FAILURE`.
const PROXY_ERRNO: i32 = 5;
const PROXY_LAST_ERROR: u32 = 31;

/// A failed call of `function`: keeps the message, sets `errno` / `SetLastError` as the
/// library would (its own codes for a library failure, `EIO` / `ERROR_GEN_FAILURE` where
/// the error rule reads them otherwise), and returns the library's failure, if it was one.
pub fn failed(f: Failure, function: &str, code: Option<Code>) -> Option<LibraryFailure> {
    match f {
        Failure::Library(l) => {
            set_message(&format!("{function}: the library reported error {}", l.code));
            crate::native::set_errno(l.errno);
            crate::native::set_last_error(l.last_error);
            Some(l)
        }
        Failure::Proxy(m) => {
            set_message(&format!("{function}: {m}"));
            match code {
                Some(Code::Errno) => crate::native::set_errno(PROXY_ERRNO),
                Some(Code::LastError) => crate::native::set_last_error(PROXY_LAST_ERROR),
                _ => {}
            }
            None
        }
    }
}

/// The end of a function with no value that tells its caller it failed (no error rule
/// and no `proxy_error`): carrying on would hand the caller a made-up result, so the
/// process stops with the reason, as it would had the library crashed in it.
pub fn abort(function: &str) -> ! {
    let m = MESSAGE.with(|m| m.borrow().to_string_lossy().into_owned());
    eprintln!(
        "dllgen proxy: {m}\n{function} has no return value that tells its caller it failed (set `proxy_error` for it in the spec); stopping"
    );
    std::process::abort()
}

/// A panic in the proxy's own code, as a failure (it must not unwind into C).
pub fn panicked(p: Box<dyn std::any::Any + Send>) -> Failure {
    let m = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    Failure::Proxy(format!("the proxy panicked: {m}"))
}

/// The folder of the module (the proxy library) containing `addr`: its host is looked
/// for there first.
pub fn module_dir(addr: *const c_void) -> Vec<PathBuf> {
    imp::module_path(addr).and_then(|p| p.parent().map(PathBuf::from)).into_iter().collect()
}

/// Keeps the module containing `addr` loaded for the life of the process: once its client
/// runs threads (the call watchdog, event readers), a `FreeLibrary` / `dlclose` by the
/// program must not unmap the code they run.
pub fn pin(addr: *const c_void) {
    imp::pin(addr)
}

#[cfg(unix)]
mod imp {
    use std::ffi::{c_char, c_int, c_void, CStr};
    use std::os::unix::ffi::OsStrExt;
    use std::path::PathBuf;

    #[repr(C)]
    struct DlInfo {
        fname: *const c_char,
        fbase: *mut c_void,
        sname: *const c_char,
        saddr: *mut c_void,
    }

    extern "C" {
        fn dladdr(addr: *const c_void, info: *mut DlInfo) -> c_int;
        fn dlopen(path: *const c_char, flags: c_int) -> *mut c_void;
    }

    /// RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE (glibc).
    const PIN: c_int = 0x1 | 0x4 | 0x1000;

    pub fn pin(addr: *const c_void) {
        let mut info = DlInfo {
            fname: std::ptr::null(),
            fbase: std::ptr::null_mut(),
            sname: std::ptr::null(),
            saddr: std::ptr::null_mut(),
        };
        // SAFETY: dladdr fills `info`; dlopen with RTLD_NOLOAD only takes another reference
        // to the module already loaded, marked never to be unloaded (the reference is kept).
        unsafe {
            if dladdr(addr, &mut info) != 0 && !info.fname.is_null() {
                let _ = dlopen(info.fname, PIN);
            }
        }
    }

    pub fn module_path(addr: *const c_void) -> Option<PathBuf> {
        let mut info = DlInfo {
            fname: std::ptr::null(),
            fbase: std::ptr::null_mut(),
            sname: std::ptr::null(),
            saddr: std::ptr::null_mut(),
        };
        // SAFETY: dladdr fills `info`; fname, when set, is a NUL-terminated path owned by
        // the loader for as long as the module stays loaded (it is copied at once).
        unsafe {
            if dladdr(addr, &mut info) == 0 || info.fname.is_null() {
                return None;
            }
            let p = PathBuf::from(std::ffi::OsStr::from_bytes(CStr::from_ptr(info.fname).to_bytes()));
            // A module found through a relative path is named relative to the working folder.
            std::fs::canonicalize(&p).ok().or(Some(p))
        }
    }
}

#[cfg(windows)]
mod imp {
    use std::ffi::c_void;
    use std::os::windows::ffi::OsStringExt;
    use std::path::PathBuf;

    extern "system" {
        fn GetModuleHandleExW(flags: u32, name: *const c_void, module: *mut *mut c_void) -> i32;
        fn GetModuleFileNameW(module: *mut c_void, name: *mut u16, size: u32) -> u32;
    }

    /// GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT.
    const FROM_ADDRESS: u32 = 0x4 | 0x2;
    /// GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN.
    const PIN: u32 = 0x4 | 0x1;

    pub fn pin(addr: *const c_void) {
        let mut module = std::ptr::null_mut();
        // SAFETY: pins the module containing `addr` (it stays loaded until the process ends).
        unsafe { GetModuleHandleExW(PIN, addr, &mut module) };
    }

    pub fn module_path(addr: *const c_void) -> Option<PathBuf> {
        let mut module = std::ptr::null_mut();
        let mut buf = vec![0u16; 32768];
        // SAFETY: the module handle is only used for the name; the buffer's size is passed.
        unsafe {
            if GetModuleHandleExW(FROM_ADDRESS, addr, &mut module) == 0 {
                return None;
            }
            let n = GetModuleFileNameW(module, buf.as_mut_ptr(), buf.len() as u32) as usize;
            (n > 0 && n < buf.len()).then(|| PathBuf::from(std::ffi::OsString::from_wide(&buf[..n])))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_the_32_bit_side_cannot_take() {
        assert_eq!(narrow::<u32, u64>(7, "n").unwrap(), 7);
        let Err(Failure::Proxy(m)) = narrow::<u32, u64>(1 << 32, "`f` parameter `n`") else { panic!() };
        assert!(m.contains("4294967296 does not fit"), "{m}");
        assert!(count(-1i64, "n").is_err() && count(3i32, "n").unwrap() == 3);
        assert_eq!(elements(12, true, 4, "b").unwrap(), 3);
        assert!(elements(13, true, 4, "b").is_err(), "not a whole number of elements");
        assert_eq!(units::<u32>(3, true, 4, "b").unwrap(), 12);
    }

    #[test]
    fn reads_caller_memory_with_every_pointer_checked() {
        // SAFETY: the pointers are NULL or point to the locals.
        unsafe {
            assert_eq!(in_str(c"hi".as_ptr(), false, "s").unwrap(), Some("hi"));
            assert_eq!(in_str(std::ptr::null(), true, "s").unwrap(), None);
            assert!(in_str(std::ptr::null(), false, "s").is_err());
            let bad = [0xffu8, 0];
            assert!(in_str(bad.as_ptr().cast(), false, "s").is_err(), "not UTF-8");
            let wide = [104u16, 105, 0];
            assert_eq!(in_str16(wide.as_ptr(), false, "s").unwrap().as_deref(), Some("hi"));
            assert_eq!(slice::<u8>(std::ptr::null(), 0, false, "b").unwrap(), Some(&[][..]));
            assert!(slice::<u8>(std::ptr::null(), 3, false, "b").is_err());
            let mut buf = [0u8; 4];
            assert!(copy_out(buf.as_mut_ptr(), 4, &[1, 2, 3, 4, 5], "b").is_err(), "past the end");
            copy_out(buf.as_mut_ptr(), 4, &[1, 2], "b").unwrap();
            assert_eq!(buf, [1, 2, 0, 0]);
            assert!(copy_out_str(buf.as_mut_ptr(), 4, "abcd", "b").is_err(), "no room for the NUL");
            copy_out_str(buf.as_mut_ptr(), 4, "abc", "b").unwrap();
            assert_eq!(&buf, b"abc\0");
        }
    }

    #[test]
    fn a_handles_results_go_when_it_closes() {
        let h = Owner(0, 77);
        let (a, b) = (keep_text(h, "row"), keep_text(h, "row"));
        assert_eq!(a, b, "one copy per text and owner");
        let w = keep_text16(h, "hé");
        // SAFETY: kept until the owner closes; three units with the NUL.
        assert_eq!(unsafe { std::slice::from_raw_parts(w, 3) }, &[104, 233, 0]);
        let blob = keep_bytes(h, &[]);
        assert!(!blob.is_null(), "an empty blob has an address");
        assert!(kept().contains_key(&h));
        drop(ReleaseOnDrop(h));
        assert!(!kept().contains_key(&h), "released with its handle");
    }

    #[test]
    fn interned_text_is_one_copy_per_text() {
        let (a, b) = (intern("V"), intern(&String::from("V")));
        assert_eq!(a, b);
        assert_ne!(a, intern("mA"));
        // SAFETY: interned text lives for the process.
        assert_eq!(unsafe { CStr::from_ptr(a) }.to_str().unwrap(), "V");
        let p = malloc_str("x\0y");
        // SAFETY: p came from malloc_str.
        unsafe {
            assert_eq!(CStr::from_ptr(p).to_str().unwrap(), "x");
            free(p.cast());
        }
    }

    #[test]
    fn a_failure_keeps_its_message_and_sets_the_codes() {
        assert!(failed(Failure::Proxy("no host".into()), "demo_fail", Some(Code::Errno)).is_none());
        assert_eq!(crate::native::errno(), PROXY_ERRNO);
        // SAFETY: the message is NUL-terminated and valid until the next failure.
        assert_eq!(unsafe { CStr::from_ptr(message()) }.to_str().unwrap(), "demo_fail: no host");
        let l = LibraryFailure { code: 7, ret: -1, errno: 7, last_error: 0 };
        assert_eq!(failed(Failure::Library(l), "demo_fail", Some(Code::Errno)), Some(l));
        assert_eq!(crate::native::errno(), 7);
    }

    #[test]
    fn finds_its_own_module() {
        let dir = module_dir(finds_its_own_module as *const c_void);
        let exe = std::env::current_exe().unwrap();
        assert_eq!(dir, vec![std::fs::canonicalize(exe.parent().unwrap()).unwrap()]);
    }
}
