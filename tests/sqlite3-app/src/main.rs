//! `sqlite3-check LIBSQLITE64 DIR`: every function of specs/sqlite3.yaml through the
//! generated client (its host and Debian's 32-bit sqlite3 found as the client finds them:
//! `SQLITE3_HOST`, `SQLITE3_LIBRARY`), compared with LIBSQLITE64, the 64-bit build of the
//! same sqlite3: the same statements run on two databases in DIR, one through each, and
//! every value read back must be equal. Prints one line per check; a failure panics (exit
//! status 101) with what differed.

#[path = "../../kinds-app/src/direct.rs"]
mod direct;
mod functions;
mod hooks;
mod more;

use direct::Direct;
use sqlite3_client::{
    Db, Error, Sqlite3, SQLITE_ABORT, SQLITE_BLOB, SQLITE_DONE, SQLITE_ERROR, SQLITE_FLOAT, SQLITE_INTEGER,
    SQLITE_NULL, SQLITE_OK, SQLITE_OPEN_CREATE, SQLITE_OPEN_READWRITE, SQLITE_ROW, SQLITE_TEXT,
    SQLITE_VERSION, SQLITE_VERSION_NUMBER,
};
use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr::null_mut;

type P = *mut c_void;
type RowFn = extern "C" fn(P, i32, *mut *mut c_char, *mut *mut c_char) -> i32;

/// sqlite3's own functions in the 64-bit build.
struct Native {
    libversion: extern "C" fn() -> *const c_char,
    libversion_number: extern "C" fn() -> i32,
    sourceid: extern "C" fn() -> *const c_char,
    threadsafe: extern "C" fn() -> i32,
    complete: extern "C" fn(*const c_char) -> i32,
    errstr: extern "C" fn(i32) -> *const c_char,
    open_v2: extern "C" fn(*const c_char, *mut P, i32, *const c_char) -> i32,
    close: extern "C" fn(P) -> i32,
    exec: extern "C" fn(P, *const c_char, Option<RowFn>, P, *mut *mut c_char) -> i32,
    free: extern "C" fn(P),
    errmsg: extern "C" fn(P) -> *const c_char,
    errcode: extern "C" fn(P) -> i32,
    extended_errcode: extern "C" fn(P) -> i32,
    changes: extern "C" fn(P) -> i32,
    total_changes: extern "C" fn(P) -> i32,
    last_insert_rowid: extern "C" fn(P) -> i64,
    get_autocommit: extern "C" fn(P) -> i32,
    busy_timeout: extern "C" fn(P, i32) -> i32,
    db_readonly: extern "C" fn(P, *const c_char) -> i32,
    prepare_v2: extern "C" fn(P, *const c_char, i32, *mut P, *mut *const c_char) -> i32,
    step: extern "C" fn(P) -> i32,
    reset: extern "C" fn(P) -> i32,
    finalize: extern "C" fn(P) -> i32,
    clear_bindings: extern "C" fn(P) -> i32,
    data_count: extern "C" fn(P) -> i32,
    column_count: extern "C" fn(P) -> i32,
    stmt_readonly: extern "C" fn(P) -> i32,
    sql: extern "C" fn(P) -> *const c_char,
    expanded_sql: extern "C" fn(P) -> *mut c_char,
    bind_parameter_count: extern "C" fn(P) -> i32,
    bind_parameter_index: extern "C" fn(P, *const c_char) -> i32,
    bind_parameter_name: extern "C" fn(P, i32) -> *const c_char,
    bind_int: extern "C" fn(P, i32, i32) -> i32,
    bind_int64: extern "C" fn(P, i32, i64) -> i32,
    bind_double: extern "C" fn(P, i32, f64) -> i32,
    bind_null: extern "C" fn(P, i32) -> i32,
    bind_text: extern "C" fn(P, i32, *const u8, i32, isize) -> i32,
    bind_blob: extern "C" fn(P, i32, *const u8, i32, isize) -> i32,
    bind_zeroblob: extern "C" fn(P, i32, i32) -> i32,
    column_int: extern "C" fn(P, i32) -> i32,
    column_int64: extern "C" fn(P, i32) -> i64,
    column_double: extern "C" fn(P, i32) -> f64,
    column_text: extern "C" fn(P, i32) -> *const c_char,
    column_bytes: extern "C" fn(P, i32) -> i32,
    column_blob: extern "C" fn(P, i32) -> *const u8,
    column_text16: extern "C" fn(P, i32) -> *const u16,
    column_name16: extern "C" fn(P, i32) -> *const u16,
    errmsg16: extern "C" fn(P) -> *const u16,
    get_table:
        extern "C" fn(P, *const c_char, *mut *mut *mut c_char, *mut i32, *mut i32, *mut *mut c_char) -> i32,
    free_table: extern "C" fn(*mut *mut c_char),
    column_type: extern "C" fn(P, i32) -> i32,
    column_name: extern "C" fn(P, i32) -> *const c_char,
    column_decltype: extern "C" fn(P, i32) -> *const c_char,
}

impl Native {
    fn new(d: &Direct) -> Native {
        Native {
            libversion: d.sym("sqlite3_libversion"),
            libversion_number: d.sym("sqlite3_libversion_number"),
            sourceid: d.sym("sqlite3_sourceid"),
            threadsafe: d.sym("sqlite3_threadsafe"),
            complete: d.sym("sqlite3_complete"),
            errstr: d.sym("sqlite3_errstr"),
            open_v2: d.sym("sqlite3_open_v2"),
            close: d.sym("sqlite3_close"),
            exec: d.sym("sqlite3_exec"),
            free: d.sym("sqlite3_free"),
            errmsg: d.sym("sqlite3_errmsg"),
            errcode: d.sym("sqlite3_errcode"),
            extended_errcode: d.sym("sqlite3_extended_errcode"),
            changes: d.sym("sqlite3_changes"),
            total_changes: d.sym("sqlite3_total_changes"),
            last_insert_rowid: d.sym("sqlite3_last_insert_rowid"),
            get_autocommit: d.sym("sqlite3_get_autocommit"),
            busy_timeout: d.sym("sqlite3_busy_timeout"),
            db_readonly: d.sym("sqlite3_db_readonly"),
            prepare_v2: d.sym("sqlite3_prepare_v2"),
            step: d.sym("sqlite3_step"),
            reset: d.sym("sqlite3_reset"),
            finalize: d.sym("sqlite3_finalize"),
            clear_bindings: d.sym("sqlite3_clear_bindings"),
            data_count: d.sym("sqlite3_data_count"),
            column_count: d.sym("sqlite3_column_count"),
            stmt_readonly: d.sym("sqlite3_stmt_readonly"),
            sql: d.sym("sqlite3_sql"),
            expanded_sql: d.sym("sqlite3_expanded_sql"),
            bind_parameter_count: d.sym("sqlite3_bind_parameter_count"),
            bind_parameter_index: d.sym("sqlite3_bind_parameter_index"),
            bind_parameter_name: d.sym("sqlite3_bind_parameter_name"),
            bind_int: d.sym("sqlite3_bind_int"),
            bind_int64: d.sym("sqlite3_bind_int64"),
            bind_double: d.sym("sqlite3_bind_double"),
            bind_null: d.sym("sqlite3_bind_null"),
            bind_text: d.sym("sqlite3_bind_text"),
            bind_blob: d.sym("sqlite3_bind_blob"),
            bind_zeroblob: d.sym("sqlite3_bind_zeroblob"),
            column_int: d.sym("sqlite3_column_int"),
            column_int64: d.sym("sqlite3_column_int64"),
            column_double: d.sym("sqlite3_column_double"),
            column_text: d.sym("sqlite3_column_text"),
            column_bytes: d.sym("sqlite3_column_bytes"),
            column_blob: d.sym("sqlite3_column_blob"),
            column_text16: d.sym("sqlite3_column_text16"),
            column_name16: d.sym("sqlite3_column_name16"),
            errmsg16: d.sym("sqlite3_errmsg16"),
            get_table: d.sym("sqlite3_get_table"),
            free_table: d.sym("sqlite3_free_table"),
            column_type: d.sym("sqlite3_column_type"),
            column_name: d.sym("sqlite3_column_name"),
            column_decltype: d.sym("sqlite3_column_decltype"),
        }
    }
}

/// SQLITE_TRANSIENT in the 64-bit build.
const TRANSIENT: isize = -1;

fn c(s: &str) -> CString {
    CString::new(s).expect("no NUL")
}

/// A C string the library returned (NULL: `None`).
fn text(p: *const c_char) -> Option<String> {
    // SAFETY: sqlite3 returns NULL or a NUL-terminated string that lives until the next call.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// A UTF-16 string the library returned (NULL: `None`).
fn text16(p: *const u16) -> Option<String> {
    if p.is_null() {
        return None;
    }
    let mut n = 0;
    // SAFETY: sqlite3 returns NUL-terminated UTF-16 that lives until the next call.
    while unsafe { *p.add(n) } != 0 {
        n += 1;
    }
    // SAFETY: `n` units before the NUL.
    Some(String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(p, n) }))
}

/// xorshift: the same inputs on both sides.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
    /// Text with multi-byte characters, quotes and NUL-free controls.
    fn text(&mut self) -> String {
        const PIECES: &[&str] =
            &["a", "Z", "0", " ", "'", "\"", "é", "ß", "€", "日本", "🦀", "\t", "%s", "\\"];
        (0..self.below(24)).map(|_| PIECES[self.below(PIECES.len() as u64)]).collect()
    }
}

/// One row as both sides read it back.
#[derive(Debug, PartialEq)]
struct Row {
    types: Vec<i32>,
    id: i64,
    name: Option<String>,
    score: f64,
    data_hex: Option<String>,
    data: Option<Vec<u8>>,
    data_bytes: i32,
    n: i64,
    small: i32,
}

const SCHEMA: &str = "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB, n INTEGER)";
const INSERT: &str = "INSERT INTO t(name, score, data, n) VALUES(?1, ?2, ?3, :n)";
const SELECT: &str = "SELECT id, name, score, data, n, hex(data) FROM t ORDER BY id";
const ROWS: usize = 10_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (lib64, dir) = match args.as_slice() {
        [_, lib, dir] => (lib.clone(), std::path::PathBuf::from(dir)),
        _ => {
            eprintln!("usage: sqlite3-check LIBSQLITE64 DIR");
            std::process::exit(2);
        }
    };
    let direct = Direct::open(&lib64);
    let n = Native::new(&direct);
    let s = std::sync::Arc::new(Sqlite3::new());

    versions(&s, &n);
    println!("ok: versions, constants and messages");

    let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    let (ours, theirs) = (dir.join("client.db"), dir.join("native.db"));
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

    exec_and_errors(&s, db, &n, ndb);
    println!("ok: exec, errmsg and error codes");

    let inserted = insert(&s, db, &n, ndb);
    println!("ok: {inserted} rows bound (text with SQLITE_TRANSIENT, blobs, doubles, int64, NULL, zeroblob)");

    let read = select(&s, db, &n, ndb);
    assert_eq!(read, inserted);
    println!("ok: {read} rows read back equal, column by column (blobs by sqlite3_column_bytes, text as UTF-8 and UTF-16)");

    let rows = exec_rows(&s, db, &n, ndb);
    println!(
        "ok: exec with a row callback, {rows} rows (values, NULLs and column names), stopped by the callback"
    );

    let cells = tables(&s, db, &n, ndb);
    println!("ok: get_table, {cells} cells allocated by sqlite3, copied and freed in the host");

    statements(&s, db, &n, ndb);
    println!("ok: statement metadata, closed handles refused");

    let more = more::run(&s, db, &direct, ndb, &dir);
    println!(
        "ok: {more} more functions: variants of variadic functions, borrowed handles, values, blobs, backup, strings, UTF-16, filenames, metadata"
    );

    let hooks = hooks::run(&s, &direct, &dir);
    println!(
        "ok: {hooks} functions keeping callbacks: update, commit, rollback and WAL hooks, progress and busy handlers, the authorizer, tracing, a collation until sqlite3 destroys it"
    );

    let functions = functions::run(&s, &direct, &dir);
    println!(
        "ok: {functions} user functions (sqlite3_create_function_v2): closures as scalar functions and an aggregate, calling sqlite3_value_* and sqlite3_result_* from inside, destroyed when replaced and when the database closes"
    );

    assert_eq!(s.sqlite3_close(db), Ok(SQLITE_OK));
    assert_eq!((n.close)(ndb), SQLITE_OK);
    assert!(matches!(s.sqlite3_errmsg(db), Err(Error::BadHandle(_))), "a closed database is refused");
    println!("ok: closed");
}

fn versions(s: &Sqlite3, n: &Native) {
    assert_eq!(s.sqlite3_libversion().unwrap(), text((n.libversion)()));
    assert_eq!(s.sqlite3_libversion().unwrap().as_deref(), Some(SQLITE_VERSION));
    assert_eq!(s.sqlite3_libversion_number(), Ok((n.libversion_number)()));
    assert_eq!(s.sqlite3_libversion_number(), Ok(SQLITE_VERSION_NUMBER));
    assert_eq!(s.sqlite3_sourceid().unwrap(), text((n.sourceid)()));
    assert_eq!(s.sqlite3_threadsafe(), Ok((n.threadsafe)()));
    for sql in ["SELECT 1;", "SELECT 1", "CREATE TABLE x(a", "SELECT 'a;b';", ""] {
        assert_eq!(s.sqlite3_complete(sql), Ok((n.complete)(c(sql).as_ptr())), "{sql:?}");
    }
    for code in [0, 1, 5, 19, 21, 100, 101, 999, -1] {
        assert_eq!(s.sqlite3_errstr(code).unwrap(), text((n.errstr)(code)), "{code}");
    }
}

/// Runs `sql` natively: the status and the message (freed).
fn native_exec(n: &Native, db: P, sql: &str) -> (i32, Option<String>) {
    let mut msg: *mut c_char = null_mut();
    let status = (n.exec)(db, c(sql).as_ptr(), None, null_mut(), &mut msg);
    let m = text(msg);
    (n.free)(msg.cast());
    (status, m)
}

fn exec_and_errors(s: &Sqlite3, db: Db, n: &Native, ndb: P) {
    for sql in [
        SCHEMA,
        SCHEMA,
        "SELEC 1",
        "INSERT INTO nowhere VALUES(1)",
        "PRAGMA user_version = 7",
        "DROP TABLE nothing",
    ] {
        let ours = s.sqlite3_exec(db, sql, None).unwrap();
        assert_eq!(ours, native_exec(n, ndb, sql), "{sql}");
        assert_eq!(s.sqlite3_errmsg(db).unwrap(), text((n.errmsg)(ndb)), "{sql}");
        assert_eq!(s.sqlite3_errmsg16(db).unwrap(), text16((n.errmsg16)(ndb)), "{sql}");
        assert_eq!(s.sqlite3_errcode(db), Ok((n.errcode)(ndb)));
        assert_eq!(s.sqlite3_extended_errcode(db), Ok((n.extended_errcode)(ndb)));
    }
    // The second CREATE failed with sqlite3's own message.
    assert_eq!(
        s.sqlite3_exec(db, SCHEMA, None).unwrap(),
        (SQLITE_ERROR, Some("table t already exists".into()))
    );
    // A statement that does not prepare: the error rule gives the code, errmsg the text.
    let mut st: P = null_mut();
    let code = (n.prepare_v2)(ndb, c("SELECT nope FROM t").as_ptr(), -1, &mut st, std::ptr::null_mut());
    assert_eq!(s.sqlite3_prepare_v2(db, "SELECT nope FROM t"), Err(Error::Library(code.into())));
    assert_eq!(s.sqlite3_errmsg(db).unwrap(), text((n.errmsg)(ndb)));
    assert_eq!(s.sqlite3_busy_timeout(db, 250), Ok((n.busy_timeout)(ndb, 250)));
    assert_eq!(s.sqlite3_db_readonly(db, "main"), Ok((n.db_readonly)(ndb, c("main").as_ptr())));
    assert_eq!(s.sqlite3_db_readonly(db, "nothing"), Ok((n.db_readonly)(ndb, c("nothing").as_ptr())));
}

/// Inserts the same rows on both sides; returns how many.
fn insert(s: &Sqlite3, db: Db, n: &Native, ndb: P) -> usize {
    let (status, st) = s.sqlite3_prepare_v2(db, INSERT).unwrap();
    assert_eq!(status, SQLITE_OK);
    let mut nst: P = null_mut();
    assert_eq!((n.prepare_v2)(ndb, c(INSERT).as_ptr(), -1, &mut nst, std::ptr::null_mut()), SQLITE_OK);
    assert_eq!(s.sqlite3_bind_parameter_count(st), Ok((n.bind_parameter_count)(nst)));
    for i in 0..6 {
        assert_eq!(s.sqlite3_bind_parameter_name(st, i).unwrap(), text((n.bind_parameter_name)(nst, i)));
    }
    for name in [":n", "?3", "?9", "n"] {
        assert_eq!(
            s.sqlite3_bind_parameter_index(st, name),
            Ok((n.bind_parameter_index)(nst, c(name).as_ptr()))
        );
    }
    assert_eq!(s.sqlite3_exec(db, "BEGIN", None).unwrap(), native_exec(n, ndb, "BEGIN"));
    assert_eq!(s.sqlite3_get_autocommit(db), Ok((n.get_autocommit)(ndb)));
    let mut rng = Rng(0x5eed);
    for row in 0..ROWS {
        let name = rng.text();
        let score = (rng.next() as i64 as f64) / 1e9;
        let data: Vec<u8> = (0..rng.below(80)).map(|_| rng.next() as u8).collect();
        let big = rng.next() as i64;
        // Every 7th row: a NULL name; every 11th: a zeroblob; every 13th: a 32-bit int.
        if row % 7 == 0 {
            assert_eq!(s.sqlite3_bind_null(st, 1), Ok((n.bind_null)(nst, 1)));
        } else {
            let ours = s.sqlite3_bind_text(st, 1, name.as_bytes());
            let theirs = (n.bind_text)(nst, 1, name.as_ptr(), name.len() as i32, TRANSIENT);
            assert_eq!(ours, Ok(theirs));
        }
        assert_eq!(s.sqlite3_bind_double(st, 2, score), Ok((n.bind_double)(nst, 2, score)));
        if row % 11 == 0 {
            let len = data.len() as i32;
            assert_eq!(s.sqlite3_bind_zeroblob(st, 3, len), Ok((n.bind_zeroblob)(nst, 3, len)));
        } else {
            // An empty blob is bound through a non-NULL pointer on both sides (NULL would
            // bind SQL NULL).
            let ours = s.sqlite3_bind_blob(st, 3, &data);
            let theirs = (n.bind_blob)(nst, 3, data.as_ptr(), data.len() as i32, TRANSIENT);
            assert_eq!(ours, Ok(theirs), "row {row}: {} bytes", data.len());
        }
        if row % 13 == 0 {
            let small = big as i32;
            assert_eq!(s.sqlite3_bind_int(st, 4, small), Ok((n.bind_int)(nst, 4, small)));
        } else {
            assert_eq!(s.sqlite3_bind_int64(st, 4, big), Ok((n.bind_int64)(nst, 4, big)));
        }
        if row == 3 {
            // The statement with this row's values substituted, as sqlite3 renders them.
            let theirs = (n.expanded_sql)(nst);
            assert_eq!(s.sqlite3_expanded_sql(st).unwrap(), text(theirs));
            (n.free)(theirs.cast());
        }
        assert_eq!(s.sqlite3_step(st), Ok((n.step)(nst)));
        assert_eq!(s.sqlite3_reset(st), Ok((n.reset)(nst)));
        if row % 5 == 0 {
            assert_eq!(s.sqlite3_clear_bindings(st), Ok((n.clear_bindings)(nst)));
        }
    }
    assert_eq!(s.sqlite3_changes(db), Ok((n.changes)(ndb)));
    assert_eq!(s.sqlite3_last_insert_rowid(db), Ok((n.last_insert_rowid)(ndb)));
    assert_eq!(s.sqlite3_last_insert_rowid(db), Ok(ROWS as i64));
    assert_eq!(s.sqlite3_exec(db, "COMMIT", None).unwrap(), native_exec(n, ndb, "COMMIT"));
    assert_eq!(s.sqlite3_total_changes(db), Ok((n.total_changes)(ndb)));
    assert_eq!(s.sqlite3_finalize(st), Ok((n.finalize)(nst)));
    ROWS
}

/// Reads every row on both sides and compares them; returns how many.
fn select(s: &Sqlite3, db: Db, n: &Native, ndb: P) -> usize {
    let (_, st) = s.sqlite3_prepare_v2(db, SELECT).unwrap();
    let mut nst: P = null_mut();
    assert_eq!((n.prepare_v2)(ndb, c(SELECT).as_ptr(), -1, &mut nst, std::ptr::null_mut()), SQLITE_OK);
    assert_eq!(s.sqlite3_column_count(st), Ok((n.column_count)(nst)));
    let mut rows = 0;
    let mut seen = [false; 6];
    loop {
        let status = s.sqlite3_step(st).unwrap();
        assert_eq!(status, (n.step)(nst));
        if status == SQLITE_DONE {
            break;
        }
        assert_eq!(status, SQLITE_ROW);
        assert_eq!(s.sqlite3_data_count(st), Ok((n.data_count)(nst)));
        let ours = Row {
            types: (0..6).map(|i| s.sqlite3_column_type(st, i).unwrap()).collect(),
            id: s.sqlite3_column_int64(st, 0).unwrap(),
            name: s.sqlite3_column_text(st, 1).unwrap(),
            score: s.sqlite3_column_double(st, 2).unwrap(),
            data_hex: s.sqlite3_column_text(st, 5).unwrap(),
            data: s.sqlite3_column_blob(st, 3).unwrap(),
            data_bytes: s.sqlite3_column_bytes(st, 3).unwrap(),
            n: s.sqlite3_column_int64(st, 4).unwrap(),
            small: s.sqlite3_column_int(st, 4).unwrap(),
        };
        let theirs = Row {
            types: (0..6).map(|i| (n.column_type)(nst, i)).collect(),
            id: (n.column_int64)(nst, 0),
            name: text((n.column_text)(nst, 1)),
            score: (n.column_double)(nst, 2),
            data_hex: text((n.column_text)(nst, 5)),
            data: {
                let p = (n.column_blob)(nst, 3);
                let len = (n.column_bytes)(nst, 3) as usize;
                // SAFETY: sqlite3 returns NULL or `column_bytes` bytes, valid until the next call.
                (!p.is_null()).then(|| unsafe { std::slice::from_raw_parts(p, len) }.to_vec())
            },
            data_bytes: (n.column_bytes)(nst, 3),
            n: (n.column_int64)(nst, 4),
            small: (n.column_int)(nst, 4),
        };
        assert_eq!(ours, theirs, "row {rows}");
        // The same text as UTF-16 (sqlite3 converts it): equal to the UTF-8 read.
        let name16 = s.sqlite3_column_text16(st, 1).unwrap();
        assert_eq!(name16, text16((n.column_text16)(nst, 1)), "row {rows}");
        assert_eq!(name16, ours.name, "row {rows}");
        // The blob is the bytes bound (a NULL blob, or an empty one, is NULL in sqlite3).
        assert_eq!(ours.data.as_ref().map_or(0, Vec::len), ours.data_bytes as usize);
        for (i, t) in [SQLITE_INTEGER, SQLITE_TEXT, SQLITE_FLOAT, SQLITE_BLOB, SQLITE_NULL, SQLITE_TEXT]
            .iter()
            .enumerate()
        {
            seen[i] |= ours.types.contains(t);
        }
        rows += 1;
    }
    assert!(seen.iter().all(|&s| s), "every column type came up: {seen:?}");
    assert_eq!(s.sqlite3_finalize(st), Ok((n.finalize)(nst)));
    rows
}

/// One row as sqlite3_exec's callback sees it: the values and the column names.
type ExecRow = (Vec<Option<String>>, Vec<Option<String>>);

/// What the native row callback collects, and when to stop.
struct Rows {
    rows: Vec<ExecRow>,
    stop_after: usize,
}

extern "C" fn collect(user: P, argc: i32, argv: *mut *mut c_char, names: *mut *mut c_char) -> i32 {
    // SAFETY: `user` is the `Rows` passed to sqlite3_exec just below, alive for the call.
    let rows = unsafe { &mut *(user as *mut Rows) };
    let strings = |p: *mut *mut c_char| -> Vec<Option<String>> {
        // SAFETY: sqlite3 passes `argc` pointers, each NULL or a NUL-terminated string.
        (0..argc as usize).map(|i| text(unsafe { *p.add(i) })).collect()
    };
    rows.rows.push((strings(argv), strings(names)));
    i32::from(rows.rows.len() >= rows.stop_after)
}

/// sqlite3_exec with a row callback: every row's values (NULL as None) and column names
/// reach the closure, and a non-zero return stops the statement as natively.
fn exec_rows(s: &Sqlite3, db: Db, n: &Native, ndb: P) -> usize {
    let sql = "SELECT id, name, score, hex(data), NULL AS empty FROM t WHERE id <= 300 ORDER BY id";
    let mut total = 0;
    for stop_after in [usize::MAX, 3] {
        let mut theirs = Rows { rows: Vec::new(), stop_after };
        let mut msg: *mut c_char = null_mut();
        let status =
            (n.exec)(ndb, c(sql).as_ptr(), Some(collect), (&mut theirs as *mut Rows).cast(), &mut msg);
        let native = (status, text(msg));
        (n.free)(msg.cast());
        let mut ours = Vec::new();
        let got = s
            .sqlite3_exec(
                db,
                sql,
                Some(&mut |argc, values: &[Option<String>], names: &[Option<String>]| {
                    assert_eq!((values.len(), names.len()), (argc as usize, argc as usize));
                    ours.push((values.to_vec(), names.to_vec()));
                    i32::from(ours.len() >= stop_after)
                }),
            )
            .unwrap();
        assert_eq!(got, native, "stop after {stop_after}");
        assert_eq!(ours, theirs.rows, "stop after {stop_after}");
        // Not a vacuous agreement: all 300 rows, or stopped after 3 with SQLITE_ABORT.
        let expected = if stop_after == 3 { (SQLITE_ABORT, 3) } else { (SQLITE_OK, 300) };
        assert_eq!((got.0, ours.len()), expected);
        total += ours.len();
    }
    total
}

/// What sqlite3_get_table gives natively: status, table (names then rows), rows, columns,
/// message; everything freed.
type Table = (i32, Option<Vec<Option<String>>>, i32, i32, Option<String>);

fn native_table(n: &Native, db: P, sql: &str) -> Table {
    let (mut table, mut rows, mut cols, mut msg) = (null_mut(), 0, 0, null_mut());
    let status = (n.get_table)(db, c(sql).as_ptr(), &mut table, &mut rows, &mut cols, &mut msg);
    let cells = (!table.is_null()).then(|| {
        // SAFETY: sqlite3 allocated (rows + 1) * cols string pointers, each NULL or a C string.
        (0..((rows + 1) * cols) as usize).map(|i| text(unsafe { *table.add(i) })).collect()
    });
    (n.free_table)(table);
    let m = text(msg);
    (n.free)(msg.cast());
    (status, cells, rows, cols, m)
}

/// sqlite3_get_table: an array of strings sqlite3 allocates, sized by the counts it
/// reports, copied and freed in the host.
fn tables(s: &Sqlite3, db: Db, n: &Native, ndb: P) -> usize {
    let mut cells = 0;
    for sql in [
        "SELECT id, name, NULL AS empty FROM t WHERE id <= 40 ORDER BY id",
        "SELECT count(*) FROM t",
        "SELECT * FROM t WHERE id < 0",
        "SELECT nope FROM t",
    ] {
        let ours = s.sqlite3_get_table(db, sql).unwrap();
        let theirs = native_table(n, ndb, sql);
        assert_eq!(ours, theirs, "{sql}");
        cells += ours.1.as_ref().map_or(0, Vec::len);
    }
    let (status, table, rows, cols, _) =
        s.sqlite3_get_table(db, "SELECT id, name FROM t WHERE id <= 40").unwrap();
    assert_eq!((status, rows, cols, table.map(|t| t.len())), (SQLITE_OK, 40, 2, Some(82)), "not vacuous");
    cells
}

fn statements(s: &Sqlite3, db: Db, n: &Native, ndb: P) {
    let sql = "SELECT id AS key, name, score * 2 FROM t WHERE id < ?";
    let (_, st) = s.sqlite3_prepare_v2(db, sql).unwrap();
    let mut nst: P = null_mut();
    assert_eq!((n.prepare_v2)(ndb, c(sql).as_ptr(), -1, &mut nst, std::ptr::null_mut()), SQLITE_OK);
    assert_eq!(s.sqlite3_sql(st).unwrap(), text((n.sql)(nst)));
    assert_eq!(s.sqlite3_sql(st).unwrap().as_deref(), Some(sql));
    assert_eq!(s.sqlite3_stmt_readonly(st), Ok((n.stmt_readonly)(nst)));
    for i in -1..4 {
        assert_eq!(s.sqlite3_column_name16(st, i).unwrap(), text16((n.column_name16)(nst, i)), "{i}");
        assert_eq!(s.sqlite3_column_name(st, i).unwrap(), text((n.column_name)(nst, i)), "{i}");
        assert_eq!(s.sqlite3_column_decltype(st, i).unwrap(), text((n.column_decltype)(nst, i)), "{i}");
    }
    // Out of range: sqlite3's own error code, through the error rule.
    assert_eq!(s.sqlite3_bind_int(st, 9, 1), Err(Error::Library((n.bind_int)(nst, 9, 1).into())));
    assert_eq!(s.sqlite3_finalize(st), Ok((n.finalize)(nst)));
    // The statement is gone: the host refuses its handle before sqlite3 sees it.
    assert!(matches!(s.sqlite3_step(st), Err(Error::BadHandle(_))));
    assert!(matches!(s.sqlite3_finalize(st), Err(Error::BadHandle(_))));
}
