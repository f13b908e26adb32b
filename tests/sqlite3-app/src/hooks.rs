//! Callbacks sqlite3 keeps past the call that set them (hooks, handlers, the authorizer,
//! tracing, collations), through the generated client, against the same hooks set on the
//! 64-bit build: the same statements on two fresh databases must fire the same events.

use super::{c, text, P};
use crate::direct::Direct;
use sqlite3_client::*;
use std::ffi::{c_char, c_void};
use std::ptr::null_mut;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

/// What the hooks saw, one line per event.
type Log = Arc<Mutex<Vec<String>>>;

fn log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

fn lines(l: &Log) -> Vec<String> {
    std::mem::take(&mut *l.lock().unwrap())
}

/// The native side's log, behind the context pointer its hooks get.
fn ctx(l: &Mutex<Vec<String>>) -> P {
    std::ptr::from_ref(l).cast_mut().cast()
}

/// # Safety
/// `p` is what [`ctx`] made, still alive.
unsafe fn push(p: P, line: String) {
    // SAFETY: the caller's.
    unsafe { &*p.cast::<Mutex<Vec<String>>>() }.lock().unwrap().push(line);
}

extern "C" fn n_update(p: P, op: i32, db: *const c_char, table: *const c_char, row: i64) {
    // SAFETY: set with `ctx`.
    unsafe { push(p, format!("{op} {} {} {row}", text(db).unwrap(), text(table).unwrap())) }
}
extern "C" fn n_commit(p: P) -> i32 {
    // SAFETY: set with `ctx`.
    unsafe { push(p, "commit".into()) };
    0
}
extern "C" fn n_rollback(p: P) {
    // SAFETY: set with `ctx`.
    unsafe { push(p, "rollback".into()) }
}
extern "C" fn n_progress(p: P) -> i32 {
    // SAFETY: set with `ctx`.
    unsafe { push(p, "tick".into()) };
    0
}
extern "C" fn n_busy(p: P, n: i32) -> i32 {
    // SAFETY: set with `ctx`.
    unsafe { push(p, format!("busy {n}")) };
    i32::from(n < 3)
}
extern "C" fn n_auth(
    p: P,
    action: i32,
    a: *const c_char,
    b: *const c_char,
    c: *const c_char,
    d: *const c_char,
) -> i32 {
    let line = format!("{action} {:?} {:?} {:?} {:?}", text(a), text(b), text(c), text(d));
    let deny = text(a).as_deref() == Some("secret");
    // SAFETY: set with `ctx`.
    unsafe { push(p, line) };
    i32::from(deny)
}
extern "C" fn n_trace(event: u32, p: P, _stmt: P, sql: P) -> i32 {
    // SAFETY: set with `ctx`; for SQLITE_TRACE_STMT the last argument is the statement's text.
    unsafe { push(p, format!("{event} {}", text(sql.cast()).unwrap())) };
    0
}
extern "C" fn n_old_trace(p: P, sql: *const c_char) {
    // SAFETY: set with `ctx`.
    unsafe { push(p, text(sql).unwrap()) }
}
extern "C" fn n_profile(p: P, sql: *const c_char, _ns: u64) {
    // SAFETY: set with `ctx`.
    unsafe { push(p, text(sql).unwrap()) }
}
extern "C" fn n_wal(p: P, _db: P, name: *const c_char, pages: i32) -> i32 {
    // SAFETY: set with `ctx`.
    unsafe { push(p, format!("{} {pages}", text(name).unwrap())) };
    0
}
extern "C" fn n_reverse(_: P, n1: i32, a: *const c_void, n2: i32, b: *const c_void) -> i32 {
    // SAFETY: sqlite3 passes n1 and n2 bytes.
    let (a, b) = unsafe {
        (
            std::slice::from_raw_parts(a.cast::<u8>(), n1 as usize),
            std::slice::from_raw_parts(b.cast::<u8>(), n2 as usize),
        )
    };
    b.cmp(a) as i32
}

type Hook<F> = extern "C" fn(P, F, P) -> P;

/// The 64-bit build's functions these checks compare with.
struct Native {
    open_v2: extern "C" fn(*const c_char, *mut P, i32, *const c_char) -> i32,
    close: extern "C" fn(P) -> i32,
    exec: extern "C" fn(P, *const c_char, P, P, P) -> i32,
    update_hook: Hook<extern "C" fn(P, i32, *const c_char, *const c_char, i64)>,
    commit_hook: Hook<extern "C" fn(P) -> i32>,
    rollback_hook: Hook<extern "C" fn(P)>,
    progress_handler: extern "C" fn(P, i32, Option<extern "C" fn(P) -> i32>, P),
    busy_handler: extern "C" fn(P, extern "C" fn(P, i32) -> i32, P) -> i32,
    set_authorizer: extern "C" fn(P, Option<type_auth::F>, P) -> i32,
    trace_v2: extern "C" fn(P, u32, extern "C" fn(u32, P, P, P) -> i32, P) -> i32,
    trace: Hook<Option<extern "C" fn(P, *const c_char)>>,
    profile: Hook<Option<extern "C" fn(P, *const c_char, u64)>>,
    wal_hook: Hook<extern "C" fn(P, P, *const c_char, i32) -> i32>,
    create_collation_v2: extern "C" fn(
        P,
        *const c_char,
        i32,
        P,
        extern "C" fn(P, i32, *const c_void, i32, *const c_void) -> i32,
        P,
    ) -> i32,
    create_collation: CreateCollation,
    collation_needed: extern "C" fn(P, P, Option<extern "C" fn(P, P, i32, *const c_char)>) -> i32,
    autovacuum_pages: extern "C" fn(P, Option<AutovacuumFn>, P, Option<extern "C" fn(P)>) -> i32,
    collation_needed16: extern "C" fn(P, P, Option<extern "C" fn(P, P, i32, *const c_void)>) -> i32,
    create_collation16: CreateCollation16,
}

type CreateCollation16 = extern "C" fn(
    P,
    *const c_void,
    i32,
    P,
    extern "C" fn(P, i32, *const c_void, i32, *const c_void) -> i32,
) -> i32;

/// The native UTF-16 collation-needed callback: records the name, and creates it (reversed)
/// with the `create_collation16` its context points to.
extern "C" fn n_needed16(p: P, db: P, rep: i32, name: *const c_void) {
    // SAFETY: the context is the check's (log, create_collation16) pair, alive meanwhile.
    let (log, create) = unsafe { &*p.cast::<(Mutex<Vec<String>>, CreateCollation16)>() };
    let mut units = Vec::new();
    // SAFETY: sqlite3's NUL-terminated UTF-16 name.
    unsafe {
        let mut at = name.cast::<u16>();
        while *at != 0 {
            units.push(*at);
            at = at.add(1);
        }
    }
    log.lock().unwrap().push(format!("needed16 {} ({rep})", String::from_utf16_lossy(&units)));
    create(db, name, 1, null_mut(), n_reverse);
}

type AutovacuumFn = extern "C" fn(P, *const c_char, u32, u32, u32) -> u32;

/// The native autovacuum callback: logs what it is told and gives back every free page.
extern "C" fn n_autovacuum(p: P, schema: *const c_char, pages: u32, free: u32, bytes: u32) -> u32 {
    // SAFETY: sqlite3's NUL-terminated schema name; the context is the check's log.
    let name = unsafe { std::ffi::CStr::from_ptr(schema) }.to_string_lossy().into_owned();
    // SAFETY: as above.
    unsafe { push(p, format!("{name} {pages} {free} {bytes}")) };
    free
}

type CreateCollation = extern "C" fn(
    P,
    *const c_char,
    i32,
    P,
    extern "C" fn(P, i32, *const c_void, i32, *const c_void) -> i32,
) -> i32;

/// The native collation-needed callback: records the name, and creates it (reversed) with
/// the `create_collation` its context points to.
extern "C" fn n_needed(p: P, db: P, rep: i32, name: *const c_char) {
    // SAFETY: the context is the check's (log, create_collation) pair, alive meanwhile.
    let (log, create) = unsafe { &*p.cast::<(Mutex<Vec<String>>, CreateCollation)>() };
    // SAFETY: sqlite3's NUL-terminated name.
    let text = unsafe { std::ffi::CStr::from_ptr(name) }.to_string_lossy().into_owned();
    log.lock().unwrap().push(format!("needed {text} ({rep})"));
    create(db, name, 1, null_mut(), n_reverse);
}

mod type_auth {
    pub type F = extern "C" fn(
        super::P,
        i32,
        *const super::c_char,
        *const super::c_char,
        *const super::c_char,
        *const super::c_char,
    ) -> i32;
}

/// Runs `sql` natively, ignoring rows; its status.
fn nexec(n: &Native, db: P, sql: &str) -> i32 {
    (n.exec)(db, c(sql).as_ptr(), null_mut(), null_mut(), null_mut())
}

/// Runs `sql` through the client; its status.
/// The first column of each row `sql` gives through the client (`exec`'s row callback).
fn first_column(s: &Sqlite3, db: Db, sql: &str) -> Vec<String> {
    let mut rows = Vec::new();
    let mut cb = |_: i32, v: &[Option<String>], _: &[Option<String>]| {
        rows.push(v[0].clone().unwrap_or_default());
        0
    };
    assert_eq!(s.sqlite3_exec(db, sql, Some(&mut cb)).unwrap().0, SQLITE_OK, "{sql}");
    rows
}

fn sexec(s: &Sqlite3, db: Db, sql: &str) -> i32 {
    s.sqlite3_exec(db, sql, None).unwrap().0
}

/// The first column of `sql`'s rows, run natively.
fn native_rows(d: &Direct, db: P, sql: &str) -> Vec<String> {
    type Row = extern "C" fn(P, i32, *mut *mut c_char, *mut *mut c_char) -> i32;
    extern "C" fn row(p: P, _: i32, values: *mut *mut c_char, _: *mut *mut c_char) -> i32 {
        // SAFETY: `p` is the vector below; sqlite3 passes at least one value.
        unsafe { (*p.cast::<Vec<String>>()).push(text(*values).unwrap_or_default()) };
        0
    }
    let exec: extern "C" fn(P, *const c_char, Row, P, P) -> i32 = d.sym("sqlite3_exec");
    let mut rows: Vec<String> = Vec::new();
    assert_eq!(exec(db, c(sql).as_ptr(), row, std::ptr::from_mut(&mut rows).cast(), null_mut()), 0);
    rows
}

/// Counts the drops of what a closure captures.
struct Dropped(Arc<AtomicU32>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

pub fn run(s: &std::sync::Arc<Sqlite3>, d: &Direct, dir: &std::path::Path) -> usize {
    let n = Native {
        open_v2: d.sym("sqlite3_open_v2"),
        close: d.sym("sqlite3_close"),
        exec: d.sym("sqlite3_exec"),
        update_hook: d.sym("sqlite3_update_hook"),
        commit_hook: d.sym("sqlite3_commit_hook"),
        rollback_hook: d.sym("sqlite3_rollback_hook"),
        progress_handler: d.sym("sqlite3_progress_handler"),
        busy_handler: d.sym("sqlite3_busy_handler"),
        set_authorizer: d.sym("sqlite3_set_authorizer"),
        trace_v2: d.sym("sqlite3_trace_v2"),
        trace: d.sym("sqlite3_trace"),
        profile: d.sym("sqlite3_profile"),
        wal_hook: d.sym("sqlite3_wal_hook"),
        create_collation_v2: d.sym("sqlite3_create_collation_v2"),
        create_collation: d.sym("sqlite3_create_collation"),
        collation_needed: d.sym("sqlite3_collation_needed"),
        autovacuum_pages: d.sym("sqlite3_autovacuum_pages"),
        collation_needed16: d.sym("sqlite3_collation_needed16"),
        create_collation16: d.sym("sqlite3_create_collation16"),
    };
    let before = s.client().kept().len();
    let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    let open = |name: &str| {
        let (ours, theirs) = (dir.join(format!("{name}-client.db")), dir.join(format!("{name}-native.db")));
        for p in [&ours, &theirs] {
            let _ = std::fs::remove_file(p);
        }
        let (status, db) = s.sqlite3_open_v2(ours.to_str().unwrap(), flags, None).unwrap();
        assert_eq!(status, SQLITE_OK);
        let mut ndb: P = null_mut();
        assert_eq!(
            (n.open_v2)(c(theirs.to_str().unwrap()).as_ptr(), &mut ndb, flags, std::ptr::null()),
            SQLITE_OK
        );
        (db, ndb, ours, theirs)
    };
    let (db, ndb, ours, theirs) = open("hooks");
    let (ours_log, theirs_log) = (log(), Mutex::new(Vec::new()));
    let both = |sql: &str| {
        let (a, b) = (sexec(s, db, sql), nexec(&n, ndb, sql));
        assert_eq!(a, b, "{sql}");
        a
    };

    // Update, commit and rollback hooks, fired by the statements sqlite3_exec runs.
    let l = ours_log.clone();
    s.sqlite3_update_hook(
        db,
        Some(Box::new(move |op, dbname: &str, table: &str, row| {
            l.lock().unwrap().push(format!("{op} {dbname} {table} {row}"))
        })),
    )
    .unwrap();
    let l = ours_log.clone();
    s.sqlite3_commit_hook(
        db,
        Some(Box::new(move || {
            l.lock().unwrap().push("commit".into());
            0
        })),
    )
    .unwrap();
    let l = ours_log.clone();
    s.sqlite3_rollback_hook(db, Some(Box::new(move || l.lock().unwrap().push("rollback".into())))).unwrap();
    (n.update_hook)(ndb, n_update, ctx(&theirs_log));
    (n.commit_hook)(ndb, n_commit, ctx(&theirs_log));
    (n.rollback_hook)(ndb, n_rollback, ctx(&theirs_log));
    let script = [
        "CREATE TABLE t(a TEXT, b INTEGER)",
        "INSERT INTO t VALUES ('x', 1), ('y', 2), ('z', 3)",
        "UPDATE t SET b = b * 10 WHERE b > 1",
        "DELETE FROM t WHERE a = 'x'",
        "BEGIN; INSERT INTO t VALUES ('r', 9); ROLLBACK",
        "BEGIN; INSERT INTO t VALUES ('c', 7); COMMIT",
        "CREATE TABLE secret(k)",
        "INSERT INTO secret VALUES (42)",
    ];
    for sql in script {
        both(sql);
    }
    let events = lines(&ours_log);
    assert_eq!(events, std::mem::take(&mut *theirs_log.lock().unwrap()));
    assert!(events.len() > 10 && events.contains(&"rollback".to_string()), "{events:?}");
    assert_eq!(s.client().kept().len(), before + 3);
    // Cleared: the closures are dropped, and nothing fires.
    s.sqlite3_update_hook(db, None).unwrap();
    s.sqlite3_commit_hook(db, None).unwrap();
    s.sqlite3_rollback_hook(db, None).unwrap();
    assert_eq!(s.client().kept().len(), before);
    sexec(s, db, "INSERT INTO t VALUES ('q', 0)");
    let quiet: Vec<String> = std::mem::take(&mut *theirs_log.lock().unwrap());
    assert!(quiet.is_empty());
    nexec(&n, ndb, "INSERT INTO t VALUES ('q', 0)");
    assert!(lines(&ours_log).is_empty());
    assert_eq!(
        theirs_log.lock().unwrap().len(),
        2,
        "the native hooks, still set, saw the insert and its commit"
    );
    theirs_log.lock().unwrap().clear();

    // The progress handler: the same number of ticks for the same query, and a non-zero
    // answer interrupts it.
    let count =
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000) SELECT sum(x) FROM c";
    let ticks = Arc::new(AtomicU32::new(0));
    let t = ticks.clone();
    s.sqlite3_progress_handler(
        db,
        50,
        Some(Box::new(move || {
            t.fetch_add(1, SeqCst);
            0
        })),
    )
    .unwrap();
    (n.progress_handler)(ndb, 50, Some(n_progress), ctx(&theirs_log));
    both(count);
    let native_ticks = std::mem::take(&mut *theirs_log.lock().unwrap()).len() as u32;
    assert!(native_ticks > 10);
    assert_eq!(ticks.load(SeqCst), native_ticks, "ticks of the same query");
    let t = ticks.clone();
    s.sqlite3_progress_handler(
        db,
        50,
        Some(Box::new(move || i32::from(t.fetch_add(1, SeqCst) >= native_ticks + 3))),
    )
    .unwrap();
    assert_eq!(sexec(s, db, count), 9, "SQLITE_INTERRUPT");
    s.sqlite3_progress_handler(db, 0, None).unwrap();
    (n.progress_handler)(ndb, 0, None, null_mut());

    // The authorizer: the same requests, and a denied read fails both with SQLITE_AUTH.
    let l = ours_log.clone();
    s.sqlite3_set_authorizer(
        db,
        Some(Box::new(move |action, a, b, c, d| {
            let deny = a == Some("secret");
            let show = |x: Option<&str>| format!("{:?}", x.map(str::to_string));
            l.lock().unwrap().push(format!("{action} {} {} {} {}", show(a), show(b), show(c), show(d)));
            i32::from(deny)
        })),
    )
    .unwrap();
    (n.set_authorizer)(ndb, Some(n_auth), ctx(&theirs_log));
    both("SELECT a, b FROM t WHERE b > 5");
    assert_eq!(both("SELECT k FROM secret"), 23, "SQLITE_AUTH");
    let asked = lines(&ours_log);
    assert_eq!(asked, std::mem::take(&mut *theirs_log.lock().unwrap()));
    assert!(asked.iter().any(|a| a.contains("\"secret\"")), "{asked:?}");
    s.sqlite3_set_authorizer(db, None).unwrap();
    (n.set_authorizer)(ndb, None, null_mut());

    // Tracing: the statements' text (SQLITE_TRACE_STMT), then the old interfaces: the legacy
    // trace shares sqlite3_trace_v2's slot (setting one replaces the other's closure).
    let l = ours_log.clone();
    s.sqlite3_trace_v2_stmt(
        db,
        Some(Box::new(move |event, _stmt, sql: &str| {
            l.lock().unwrap().push(format!("{event} {sql}"));
            0
        })),
    )
    .unwrap();
    (n.trace_v2)(ndb, 1, n_trace, ctx(&theirs_log));
    both("SELECT count(*) FROM t; SELECT 1 + 1");
    let traced = lines(&ours_log);
    assert_eq!(traced, std::mem::take(&mut *theirs_log.lock().unwrap()));
    assert_eq!(traced.len(), 2, "{traced:?}");
    let held = s.client().kept().len();
    let l = ours_log.clone();
    s.sqlite3_trace(db, Some(Box::new(move |sql: &str| l.lock().unwrap().push(sql.into())))).unwrap();
    assert_eq!(s.client().kept().len(), held, "the trace slot's closure was replaced");
    (n.trace)(ndb, Some(n_old_trace), ctx(&theirs_log));
    let l = ours_log.clone();
    s.sqlite3_profile(db, Some(Box::new(move |sql: &str, _ns| l.lock().unwrap().push(sql.into())))).unwrap();
    (n.profile)(ndb, Some(n_profile), ctx(&theirs_log));
    both("SELECT max(b) FROM t");
    let traced = lines(&ours_log);
    assert_eq!(traced, std::mem::take(&mut *theirs_log.lock().unwrap()));
    // (Setting the profile callback turns the legacy trace off, in both builds.)
    assert_eq!(traced, ["SELECT max(b) FROM t"], "profiled");
    s.sqlite3_trace(db, None).unwrap();
    s.sqlite3_profile(db, None).unwrap();
    (n.trace)(ndb, None, null_mut());
    (n.profile)(ndb, None, null_mut());

    // A collation kept until sqlite3 destroys it: replaced (the first closure dropped),
    // and the last one dropped when the database closes.
    let destroyed = Arc::new(AtomicU32::new(0));
    let guard = Dropped(destroyed.clone());
    let rev = move |_: i32, a: &[u8], _: i32, b: &[u8]| {
        let _ = &guard;
        b.cmp(a) as i32
    };
    assert_eq!(s.sqlite3_create_collation_v2(db, "rev", 1, Some(Box::new(rev))), Ok(SQLITE_OK));
    assert_eq!(
        (n.create_collation_v2)(ndb, c("rev").as_ptr(), 1, null_mut(), n_reverse, null_mut()),
        SQLITE_OK
    );
    let order = "SELECT a FROM t ORDER BY a COLLATE rev";
    let ours_rows = first_column(s, db, order);
    let theirs_rows = native_rows(d, ndb, order);
    assert_eq!(ours_rows, theirs_rows);
    let mut descending = theirs_rows.clone();
    descending.sort_by(|a, b| b.cmp(a));
    assert_eq!(ours_rows, descending, "in the collation's order");
    let guard = Dropped(destroyed.clone());
    let fwd = move |_: i32, a: &[u8], _: i32, b: &[u8]| {
        let _ = &guard;
        a.cmp(b) as i32
    };
    assert_eq!(s.sqlite3_create_collation_v2(db, "rev", 1, Some(Box::new(fwd))), Ok(SQLITE_OK));
    assert_eq!(destroyed.load(SeqCst), 1, "replaced: sqlite3 destroyed the first");

    // The old interface, with no destroy-notify: each comparator stays in the client until
    // the database closes (sqlite3 says nothing of the one it replaces), and both work.
    let kept_before = s.client().kept().len();
    let (guard, again) = (Dropped(destroyed.clone()), Dropped(destroyed.clone()));
    let rev_old = move |_: i32, a: &[u8], _: i32, b: &[u8]| {
        let _ = &guard;
        b.cmp(a) as i32
    };
    assert_eq!(s.sqlite3_create_collation(db, "rev_old", 1, Some(Box::new(rev_old))), Ok(SQLITE_OK));
    assert_eq!((n.create_collation)(ndb, c("rev_old").as_ptr(), 1, null_mut(), n_reverse), SQLITE_OK);
    let order_old = "SELECT a FROM t ORDER BY a COLLATE rev_old";
    let ours_rows = first_column(s, db, order_old);
    assert_eq!(ours_rows, native_rows(d, ndb, order_old));
    assert_eq!(ours_rows, descending, "in the old interface's collation's order");
    let fwd_old = move |_: i32, a: &[u8], _: i32, b: &[u8]| {
        let _ = &again;
        a.cmp(b) as i32
    };
    assert_eq!(s.sqlite3_create_collation(db, "rev_old", 1, Some(Box::new(fwd_old))), Ok(SQLITE_OK));
    assert_eq!(s.client().kept().len(), kept_before + 2, "both kept: nothing says the first is gone");
    assert_eq!(destroyed.load(SeqCst), 1, "neither dropped yet");

    // A collation created when a statement first needs it: the closure gets the client's
    // own handle and creates it there (a call nested in the prepare), as natively.
    let (weak, l) = (std::sync::Arc::downgrade(s), ours_log.clone());
    let needed = move |on: Db, rep: i32, name: &str| {
        l.lock().unwrap().push(format!("needed {name} ({rep})"));
        assert_eq!(on, db, "the handle the client holds");
        let s = weak.upgrade().expect("the client");
        let rev = |_: i32, a: &[u8], _: i32, b: &[u8]| b.cmp(a) as i32;
        assert_eq!(s.sqlite3_create_collation(on, name, 1, Some(Box::new(rev))), Ok(SQLITE_OK));
    };
    assert_eq!(s.sqlite3_collation_needed(db, Some(Box::new(needed))), Ok(SQLITE_OK));
    let native_ctx = Box::new((Mutex::new(Vec::<String>::new()), n.create_collation));
    let native_p: P = std::ptr::from_ref(&*native_ctx).cast_mut().cast();
    assert_eq!((n.collation_needed)(ndb, native_p, Some(n_needed)), SQLITE_OK);
    let order_late = "SELECT a FROM t ORDER BY a COLLATE made_late";
    let ours_rows = first_column(s, db, order_late);
    assert_eq!(ours_rows, native_rows(d, ndb, order_late));
    assert_eq!(ours_rows, descending, "created on demand, reversed");
    assert_eq!(lines(&ours_log), *native_ctx.0.lock().unwrap(), "asked for the same name, the same way");
    assert_eq!(s.sqlite3_collation_needed(db, None), Ok(SQLITE_OK));
    assert_eq!((n.collation_needed)(ndb, null_mut(), None), SQLITE_OK);
    // The same in UTF-16: the name it is given, and the one it creates.
    let (weak, l) = (std::sync::Arc::downgrade(s), ours_log.clone());
    let needed16 = move |on: Db, rep: i32, name: &str| {
        l.lock().unwrap().push(format!("needed16 {name} ({rep})"));
        let s = weak.upgrade().expect("the client");
        let rev = |_: i32, a: &[u8], _: i32, b: &[u8]| b.cmp(a) as i32;
        assert_eq!(s.sqlite3_create_collation16(on, name, 1, Some(Box::new(rev))), Ok(SQLITE_OK));
    };
    assert_eq!(s.sqlite3_collation_needed16(db, Some(Box::new(needed16))), Ok(SQLITE_OK));
    let native16 = Box::new((Mutex::new(Vec::<String>::new()), n.create_collation16));
    let native16_p: P = std::ptr::from_ref(&*native16).cast_mut().cast();
    assert_eq!((n.collation_needed16)(ndb, native16_p, Some(n_needed16)), SQLITE_OK);
    let order16 = "SELECT a FROM t ORDER BY a COLLATE made_late_é";
    let ours_rows = first_column(s, db, order16);
    assert_eq!(ours_rows, native_rows(d, ndb, order16));
    assert_eq!(ours_rows, descending, "created on demand through UTF-16, reversed");
    assert_eq!(lines(&ours_log), *native16.0.lock().unwrap(), "the same name, in UTF-16");
    assert_eq!(s.sqlite3_collation_needed16(db, None), Ok(SQLITE_OK));
    assert_eq!((n.collation_needed16)(ndb, null_mut(), None), SQLITE_OK);

    // The autovacuum callback of an auto-vacuum database: told the same page counts at each
    // commit as natively, its answer followed (every free page given back); its closure is
    // dropped when sqlite3 calls the destructor, here at close.
    let (vdb, vndb, vours, vtheirs) = open("vacuum");
    let vacuum_dropped = Arc::new(AtomicU32::new(0));
    let (l, guard) = (ours_log.clone(), Dropped(vacuum_dropped.clone()));
    let give_back = move |schema: &str, pages: u32, free: u32, bytes: u32| {
        let _ = &guard;
        l.lock().unwrap().push(format!("{schema} {pages} {free} {bytes}"));
        free
    };
    for sql in ["PRAGMA auto_vacuum = FULL", "CREATE TABLE v(x)"] {
        assert_eq!(sexec(s, vdb, sql), nexec(&n, vndb, sql));
    }
    assert_eq!(s.sqlite3_autovacuum_pages(vdb, Some(Box::new(give_back))), Ok(SQLITE_OK));
    assert_eq!((n.autovacuum_pages)(vndb, Some(n_autovacuum), ctx(&theirs_log), None), SQLITE_OK);
    for sql in [
        "INSERT INTO v SELECT zeroblob(3000) FROM (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 50) SELECT i FROM c)",
        "DELETE FROM v WHERE rowid % 2 = 0",
        "DELETE FROM v",
    ] {
        assert_eq!(sexec(s, vdb, sql), nexec(&n, vndb, sql), "{sql}");
    }
    let told = lines(&ours_log);
    assert_eq!(told, std::mem::take(&mut *theirs_log.lock().unwrap()), "the same page counts");
    assert!(
        told.iter().any(|t| !t.ends_with(" 0 4096") && t.starts_with("main ")),
        "free pages to give back: {told:?}"
    );
    assert_eq!(vacuum_dropped.load(SeqCst), 0);
    assert_eq!(s.sqlite3_close(vdb), Ok(SQLITE_OK));
    assert_eq!((n.close)(vndb), SQLITE_OK);
    assert_eq!(vacuum_dropped.load(SeqCst), 1, "destroyed at close");
    for p in [vours, vtheirs] {
        let _ = std::fs::remove_file(p);
    }

    // The WAL hook, given the database handle the client holds.
    let (wdb, wndb, wours, wtheirs) = open("wal");
    assert_eq!(sexec(s, wdb, "PRAGMA journal_mode = WAL"), nexec(&n, wndb, "PRAGMA journal_mode = WAL"));
    let l = ours_log.clone();
    s.sqlite3_wal_hook(
        wdb,
        Some(Box::new(move |on: Db, name: &str, pages| {
            l.lock().unwrap().push(format!("{name} {pages}"));
            assert_eq!(on, wdb, "the handle the client holds");
            0
        })),
    )
    .unwrap();
    (n.wal_hook)(wndb, n_wal, ctx(&theirs_log));
    for sql in ["CREATE TABLE w(x)", "INSERT INTO w VALUES (1), (2)"] {
        assert_eq!(sexec(s, wdb, sql), nexec(&n, wndb, sql));
    }
    let wal = lines(&ours_log);
    assert_eq!(wal, std::mem::take(&mut *theirs_log.lock().unwrap()));
    assert_eq!(wal.len(), 2, "{wal:?}");
    assert_eq!(s.sqlite3_close(wdb), Ok(SQLITE_OK));
    assert_eq!((n.close)(wndb), SQLITE_OK);

    // The busy handler, on a second connection to a database the first holds locked: the
    // same retries (0, 1, 2, 3), then SQLITE_BUSY.
    let (db2, ndb2) = {
        let (status, db2) = s.sqlite3_open_v2(ours.to_str().unwrap(), flags, None).unwrap();
        assert_eq!(status, SQLITE_OK);
        let mut ndb2: P = null_mut();
        assert_eq!(
            (n.open_v2)(c(theirs.to_str().unwrap()).as_ptr(), &mut ndb2, flags, std::ptr::null()),
            SQLITE_OK
        );
        (db2, ndb2)
    };
    let l = ours_log.clone();
    s.sqlite3_busy_handler(
        db2,
        Some(Box::new(move |k| {
            l.lock().unwrap().push(format!("busy {k}"));
            i32::from(k < 3)
        })),
    )
    .unwrap();
    (n.busy_handler)(ndb2, n_busy, ctx(&theirs_log));
    both("BEGIN EXCLUSIVE");
    assert_eq!(sexec(s, db2, "SELECT count(*) FROM t"), 5, "SQLITE_BUSY");
    assert_eq!(nexec(&n, ndb2, "SELECT count(*) FROM t"), 5);
    let busy = lines(&ours_log);
    assert_eq!(busy, std::mem::take(&mut *theirs_log.lock().unwrap()));
    assert_eq!(busy, ["busy 0", "busy 1", "busy 2", "busy 3"]);
    both("COMMIT");
    assert_eq!(s.sqlite3_close(db2), Ok(SQLITE_OK));
    assert_eq!((n.close)(ndb2), SQLITE_OK);

    // Closing the database: sqlite3 destroys the collation, and its hooks go with it.
    assert_eq!(s.sqlite3_close(db), Ok(SQLITE_OK));
    assert_eq!((n.close)(ndb), SQLITE_OK);
    assert_eq!(
        destroyed.load(SeqCst),
        4,
        "closed: sqlite3 destroyed the second, and the old interface's two went"
    );
    assert_eq!(s.client().kept().len(), before, "every closure released");
    for p in [ours, theirs, wours, wtheirs] {
        let _ = std::fs::remove_file(p);
    }
    12
}
