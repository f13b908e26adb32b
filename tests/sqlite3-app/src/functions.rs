//! User functions (sqlite3_create_function_v2) through the generated client: Rust closures
//! as a scalar function and as an aggregate, reading their arguments and setting their
//! results with calls made from inside the callback, against the same functions written in
//! C-ABI Rust on the 64-bit build. xDestroy is observed (the closures dropped) when a
//! function is replaced and when the database closes.

use super::{c, text, P};
use crate::direct::Direct;
use sqlite3_client::*;
use std::ffi::c_char;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex, OnceLock};

/// The 64-bit build's functions the native user functions use.
struct Native {
    value_int64: extern "C" fn(P) -> i64,
    value_text: extern "C" fn(P) -> *const c_char,
    result_int64: extern "C" fn(P, i64),
    result_text: extern "C" fn(P, *const c_char, i32, isize),
    result_error: extern "C" fn(P, *const c_char, i32),
    aggregate_context: extern "C" fn(P, i32) -> *mut i64,
}

static NATIVE: OnceLock<Native> = OnceLock::new();

fn native() -> &'static Native {
    NATIVE.get().expect("set up first")
}

/// SQLITE_TRANSIENT: sqlite3 copies the text.
const TRANSIENT: isize = -1;

extern "C" fn n_twice(ctx: P, _: i32, argv: *mut P) {
    let n = native();
    // SAFETY: sqlite3 passes one argument.
    let v = (n.value_int64)(unsafe { *argv });
    (n.result_int64)(ctx, v * 2);
}

extern "C" fn n_greet(ctx: P, _: i32, argv: *mut P) {
    let n = native();
    // SAFETY: one argument.
    let who = text((n.value_text)(unsafe { *argv })).unwrap_or_default();
    let out = c(&format!("hello, {who}"));
    (n.result_text)(ctx, out.as_ptr(), -1, TRANSIENT);
}

extern "C" fn n_refuse(ctx: P, _: i32, _: *mut P) {
    let msg = c("refused by the function");
    (native().result_error)(ctx, msg.as_ptr(), -1);
}

extern "C" fn n_squares_step(ctx: P, _: i32, argv: *mut P) {
    let n = native();
    let sum = (n.aggregate_context)(ctx, 8);
    // SAFETY: one argument; 8 bytes sqlite3 zeroed for this aggregate.
    unsafe { *sum += (n.value_int64)(*argv).pow(2) };
}

extern "C" fn n_squares_final(ctx: P) {
    let n = native();
    let sum = (n.aggregate_context)(ctx, 0);
    // SAFETY: the aggregate's 8 bytes, or NULL when no row was stepped.
    (n.result_int64)(ctx, if sum.is_null() { 0 } else { unsafe { *sum } });
}

/// Counts the drops of what a closure captures.
struct Dropped(Arc<AtomicU32>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// The rows of `sql` (every column, `|`-joined), through the client.
fn rows(s: &Sqlite3, db: Db, sql: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cb = |_: i32, values: &[Option<String>], _: &[Option<String>]| {
        out.push(values.iter().map(|v| v.clone().unwrap_or("NULL".into())).collect::<Vec<_>>().join("|"));
        0
    };
    match s.sqlite3_exec(db, sql, Some(&mut cb)) {
        Ok((0, _)) => Ok(out),
        Ok((_, msg)) => Err(msg.unwrap_or_default()),
        Err(e) => Err(e.to_string()),
    }
}

/// The rows of `sql`, natively.
fn native_rows(d: &Direct, db: P, sql: &str) -> Result<Vec<String>, String> {
    type Row = extern "C" fn(P, i32, *mut *mut c_char, *mut *mut c_char) -> i32;
    extern "C" fn row(p: P, n: i32, values: *mut *mut c_char, _: *mut *mut c_char) -> i32 {
        // SAFETY: `p` is the vector below; sqlite3 passes `n` values.
        let values = unsafe { std::slice::from_raw_parts(values, n as usize) };
        let line = values.iter().map(|v| text(*v).unwrap_or("NULL".into())).collect::<Vec<_>>().join("|");
        // SAFETY: as above.
        unsafe { (*p.cast::<Vec<String>>()).push(line) };
        0
    }
    let exec: extern "C" fn(P, *const c_char, Row, P, *mut *mut c_char) -> i32 = d.sym("sqlite3_exec");
    let free: extern "C" fn(P) = d.sym("sqlite3_free");
    let mut out: Vec<String> = Vec::new();
    let mut err: *mut c_char = null_mut();
    match exec(db, c(sql).as_ptr(), row, std::ptr::from_mut(&mut out).cast(), &mut err) {
        0 => Ok(out),
        _ => {
            let m = text(err).unwrap_or_default();
            free(err.cast());
            Err(m)
        }
    }
}

pub fn run(s: &Arc<Sqlite3>, d: &Direct, dir: &std::path::Path) -> usize {
    let _ = NATIVE.set(Native {
        value_int64: d.sym("sqlite3_value_int64"),
        value_text: d.sym("sqlite3_value_text"),
        result_int64: d.sym("sqlite3_result_int64"),
        result_text: d.sym("sqlite3_result_text"),
        result_error: d.sym("sqlite3_result_error"),
        aggregate_context: d.sym("sqlite3_aggregate_context"),
    });
    type Func = extern "C" fn(P, i32, *mut P);
    let create: extern "C" fn(
        P,
        *const c_char,
        i32,
        i32,
        P,
        Option<Func>,
        Option<Func>,
        Option<extern "C" fn(P)>,
        P,
    ) -> i32 = d.sym("sqlite3_create_function_v2");
    let open_v2: extern "C" fn(*const c_char, *mut P, i32, *const c_char) -> i32 = d.sym("sqlite3_open_v2");
    let close: extern "C" fn(P) -> i32 = d.sym("sqlite3_close");
    let before = s.client().kept().len();
    let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    let (ours, theirs) = (dir.join("functions-client.db"), dir.join("functions-native.db"));
    for p in [&ours, &theirs] {
        let _ = std::fs::remove_file(p);
    }
    let (status, db) = s.sqlite3_open_v2(ours.to_str().unwrap(), flags, None).unwrap();
    assert_eq!(status, SQLITE_OK);
    let mut ndb: P = null_mut();
    assert_eq!(open_v2(c(theirs.to_str().unwrap()).as_ptr(), &mut ndb, flags, std::ptr::null()), SQLITE_OK);

    let setup = "CREATE TABLE t(a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'ann'), (2, 'bob'), (3, NULL), (10, 'cy');";
    assert_eq!(rows(s, db, setup), Ok(vec![]));
    assert_eq!(native_rows(d, ndb, setup), Ok(vec![]));

    // The native functions.
    let utf8 = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
    for (name, n_arg, f) in [("twice", 1, n_twice as Func), ("greet", 1, n_greet), ("refuse", 0, n_refuse)] {
        assert_eq!(
            create(ndb, c(name).as_ptr(), n_arg, utf8, null_mut(), Some(f), None, None, null_mut()),
            0
        );
    }
    assert_eq!(
        create(
            ndb,
            c("squares").as_ptr(),
            1,
            utf8,
            null_mut(),
            None,
            Some(n_squares_step),
            Some(n_squares_final),
            null_mut()
        ),
        0
    );

    // Ours: closures calling the client from inside the callback (through a weak handle,
    // so the client does not keep itself alive).
    let dropped = Arc::new(AtomicU32::new(0));
    let weak = Arc::downgrade(s);
    let guard = Dropped(dropped.clone());
    let twice = move |ctx: Context, _: i32, argv: &[Value]| {
        let _ = &guard;
        let s = weak.upgrade().expect("the client");
        let v = s.sqlite3_value_int64(argv[0]).unwrap();
        s.sqlite3_result_int64(ctx, v * 2).unwrap();
    };
    let create_ours = |name: &str, n_arg: i32, f: Option<Box<Sqlite3CreateFunctionV2XFuncKept>>| {
        s.sqlite3_create_function_v2(db, name, n_arg, utf8, f, None, None)
    };
    assert_eq!(create_ours("twice", 1, Some(Box::new(twice))), Ok(SQLITE_OK));
    let weak = Arc::downgrade(s);
    let greet = move |ctx: Context, _: i32, argv: &[Value]| {
        let s = weak.upgrade().expect("the client");
        let who = s.sqlite3_value_text(argv[0]).unwrap().unwrap_or_default();
        s.sqlite3_result_text(ctx, format!("hello, {who}").as_bytes()).unwrap();
    };
    assert_eq!(create_ours("greet", 1, Some(Box::new(greet))), Ok(SQLITE_OK));
    let weak = Arc::downgrade(s);
    let refuse = move |ctx: Context, _: i32, _: &[Value]| {
        let s = weak.upgrade().expect("the client");
        s.sqlite3_result_error(ctx, b"refused by the function").unwrap();
    };
    assert_eq!(create_ours("refuse", 0, Some(Box::new(refuse))), Ok(SQLITE_OK));
    // An aggregate: the closures share their state (one group at a time here).
    let sum = Arc::new(Mutex::new(0i64));
    let (weak, acc) = (Arc::downgrade(s), sum.clone());
    let step = move |_: Context, _: i32, argv: &[Value]| {
        let s = weak.upgrade().expect("the client");
        *acc.lock().unwrap() += s.sqlite3_value_int64(argv[0]).unwrap().pow(2);
    };
    let (weak, acc) = (Arc::downgrade(s), sum.clone());
    let guard = Dropped(dropped.clone());
    let finish = move |ctx: Context| {
        let _ = &guard;
        let s = weak.upgrade().expect("the client");
        let total = std::mem::take(&mut *acc.lock().unwrap());
        s.sqlite3_result_int64(ctx, total).unwrap();
    };
    assert_eq!(
        s.sqlite3_create_function_v2(
            db,
            "squares",
            1,
            utf8,
            None,
            Some(Box::new(step)),
            Some(Box::new(finish))
        ),
        Ok(SQLITE_OK)
    );
    assert_eq!(s.client().kept().len(), before + 4, "one registration per function");

    for sql in [
        "SELECT a, twice(a), greet(b) FROM t ORDER BY a",
        "SELECT squares(a) FROM t",
        "SELECT squares(a) FROM t WHERE a > 100",
        "SELECT twice(squares(a)) FROM t",
        "SELECT greet(greet('x'))",
        "SELECT refuse()",
    ] {
        assert_eq!(rows(s, db, sql), native_rows(d, ndb, sql), "{sql}");
    }
    assert_eq!(rows(s, db, "SELECT refuse()"), Err("refused by the function".into()));

    // Replaced: sqlite3 destroys the old function (its closure is dropped).
    assert_eq!(dropped.load(SeqCst), 0);
    let weak = Arc::downgrade(s);
    let thrice = move |ctx: Context, _: i32, argv: &[Value]| {
        let s = weak.upgrade().expect("the client");
        let v = s.sqlite3_value_int64(argv[0]).unwrap();
        s.sqlite3_result_int64(ctx, v * 3).unwrap();
    };
    assert_eq!(create_ours("twice", 1, Some(Box::new(thrice))), Ok(SQLITE_OK));
    assert_eq!(dropped.load(SeqCst), 1, "the replaced function's closure was dropped");
    assert_eq!(rows(s, db, "SELECT twice(5)"), Ok(vec!["15".into()]));

    // The old interface, with no destroy-notify: its closures stay until the database
    // closes, and a replaced one is not dropped (nothing says sqlite3 let go of it).
    let held = s.client().kept().len();
    let weak = Arc::downgrade(s);
    let negate = move |ctx: Context, _: i32, argv: &[Value]| {
        let s = weak.upgrade().expect("the client");
        let v = s.sqlite3_value_int64(argv[0]).unwrap();
        s.sqlite3_result_int64(ctx, -v).unwrap();
    };
    assert_eq!(
        s.sqlite3_create_function(db, "negate", 1, utf8, Some(Box::new(negate)), None, None),
        Ok(SQLITE_OK)
    );
    assert_eq!(rows(s, db, "SELECT negate(a) FROM t ORDER BY a"), rows(s, db, "SELECT -a FROM t ORDER BY a"));
    let weak = Arc::downgrade(s);
    let negate2 = move |ctx: Context, _: i32, argv: &[Value]| {
        let s = weak.upgrade().expect("the client");
        let v = s.sqlite3_value_int64(argv[0]).unwrap();
        s.sqlite3_result_int64(ctx, -2 * v).unwrap();
    };
    assert_eq!(
        s.sqlite3_create_function(db, "negate", 1, utf8, Some(Box::new(negate2)), None, None),
        Ok(SQLITE_OK)
    );
    assert_eq!(rows(s, db, "SELECT negate(4)"), Ok(vec!["-8".into()]), "the second one answers");
    let weak = Arc::downgrade(s);
    let half = move |ctx: Context, _: i32, argv: &[Value]| {
        let s = weak.upgrade().expect("the client");
        let v = s.sqlite3_value_int64(argv[0]).unwrap();
        s.sqlite3_result_int64(ctx, v / 2).unwrap();
    };
    assert_eq!(
        s.sqlite3_create_function16(db, "half_é", 1, utf8, Some(Box::new(half)), None, None),
        Ok(SQLITE_OK)
    );
    assert_eq!(rows(s, db, "SELECT half_é(9)"), Ok(vec!["4".into()]), "named in UTF-16");
    assert_eq!(s.client().kept().len(), held + 3, "all kept until the database closes");

    // Results with 64-bit lengths, and UTF-16 text in each byte order (as bytes).
    let utf16 = |text: &str, big: bool| -> Vec<u8> {
        text.encode_utf16().flat_map(|u| if big { u.to_be_bytes() } else { u.to_le_bytes() }).collect()
    };
    let native_le = cfg!(target_endian = "little");
    type Give = fn(&Sqlite3, Context, &dyn Fn(&str, bool) -> Vec<u8>, bool);
    let results: [(&str, Give); 6] = [
        ("b64", |s, c, _, _| s.sqlite3_result_blob64(c, &[1, 2, 0xfe]).unwrap()),
        ("t64", |s, c, _, _| s.sqlite3_result_text64(c, "sixty-four é".as_bytes()).unwrap()),
        ("t16", |s, c, u, le| s.sqlite3_result_text16(c, &u("sixteen é", !le)).unwrap()),
        ("t16le", |s, c, u, _| s.sqlite3_result_text16le(c, &u("little é", false)).unwrap()),
        ("t16be", |s, c, u, _| s.sqlite3_result_text16be(c, &u("big é", true)).unwrap()),
        ("e16", |s, c, u, le| s.sqlite3_result_error16(c, &u("refused in UTF-16", !le)).unwrap()),
    ];
    for (name, give) in results {
        let weak = Arc::downgrade(s);
        let f = move |ctx: Context, _: i32, _: &[Value]| {
            let s = weak.upgrade().expect("the client");
            give(&s, ctx, &utf16, native_le);
        };
        assert_eq!(create_ours(name, 0, Some(Box::new(f))), Ok(SQLITE_OK));
    }
    assert_eq!(
        rows(s, db, "SELECT hex(b64()), t64(), t16(), t16le(), t16be()"),
        Ok(vec!["0102FE|sixty-four é|sixteen é|little é|big é".to_string()])
    );
    assert_eq!(rows(s, db, "SELECT e16()"), Err("refused in UTF-16".into()));

    // A context kept past its callback is refused, not dangling.
    let kept: Arc<Mutex<Option<Context>>> = Arc::default();
    let (weak, k) = (Arc::downgrade(s), kept.clone());
    let keeper = move |ctx: Context, _: i32, _: &[Value]| {
        *k.lock().unwrap() = Some(ctx);
        weak.upgrade().expect("the client").sqlite3_result_null(ctx).unwrap();
    };
    assert_eq!(create_ours("keeper", 0, Some(Box::new(keeper))), Ok(SQLITE_OK));
    assert_eq!(rows(s, db, "SELECT keeper()"), Ok(vec!["NULL".into()]));
    let stale = kept.lock().unwrap().take().expect("it ran");
    assert!(
        matches!(s.sqlite3_result_int64(stale, 1), Err(Error::BadHandle(_))),
        "valid only during its call"
    );

    // Closed: every function is destroyed.
    assert_eq!(s.sqlite3_close(db), Ok(SQLITE_OK));
    assert_eq!(close(ndb), SQLITE_OK);
    assert_eq!(dropped.load(SeqCst), 2, "the aggregate's closures went with the database");
    assert_eq!(s.client().kept().len(), before, "every registration released");
    5
}
