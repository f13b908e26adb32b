//! The rest of sqlite3's API through the generated client, against the 64-bit build:
//! variants of variadic functions, borrowed handles, values, incremental blobs, backups,
//! dynamic strings, UTF-16 entry points, filenames, metadata and the string helpers.

use super::{c, text, P};
use crate::direct::Direct;
use sqlite3_client::*;
use std::ffi::c_char;
use std::ptr::{null, null_mut};

/// The 64-bit build's functions these checks compare with.
struct Native {
    db_config: unsafe extern "C" fn(P, i32, ...) -> i32,
    mprintf: unsafe extern "C" fn(*const c_char, ...) -> *mut c_char,
    snprintf: unsafe extern "C" fn(i32, *mut c_char, *const c_char, ...) -> *mut c_char,
    file_control: extern "C" fn(P, *const c_char, i32, *mut i32) -> i32,
    config: unsafe extern "C" fn(i32, ...) -> i32,
    free: extern "C" fn(P),
    prepare_v2: extern "C" fn(P, *const c_char, i32, *mut P, *mut *const c_char) -> i32,
    step: extern "C" fn(P) -> i32,
    finalize: extern "C" fn(P) -> i32,
    exec: extern "C" fn(P, *const c_char, P, P, P) -> i32,
    last_insert_rowid: extern "C" fn(P) -> i64,
    column_value: extern "C" fn(P, i32) -> P,
    value_type: extern "C" fn(P) -> i32,
    value_text: extern "C" fn(P) -> *const c_char,
    value_int64: extern "C" fn(P) -> i64,
    value_bytes16: extern "C" fn(P) -> i32,
    value_text16be: extern "C" fn(P) -> *const u8,
    blob_open: extern "C" fn(P, *const c_char, *const c_char, *const c_char, i64, i32, *mut P) -> i32,
    blob_read: extern "C" fn(P, *mut u8, i32, i32) -> i32,
    blob_write: extern "C" fn(P, *const u8, i32, i32) -> i32,
    blob_bytes: extern "C" fn(P) -> i32,
    blob_close: extern "C" fn(P) -> i32,
    table_column_metadata: extern "C" fn(
        P,
        *const c_char,
        *const c_char,
        *const c_char,
        *mut *const c_char,
        *mut *const c_char,
        *mut i32,
        *mut i32,
        *mut i32,
    ) -> i32,
    compileoption_get: extern "C" fn(i32) -> *const c_char,
    strglob: extern "C" fn(*const c_char, *const c_char) -> i32,
    strlike: extern "C" fn(*const c_char, *const c_char, u32) -> i32,
    stricmp: extern "C" fn(*const c_char, *const c_char) -> i32,
    keyword_check: extern "C" fn(*const u8, i32) -> i32,
    keyword_name: extern "C" fn(i32, *mut *const u8, *mut i32) -> i32,
    complete16: extern "C" fn(*const u16) -> i32,
    open: extern "C" fn(*const c_char, *mut P) -> i32,
    close: extern "C" fn(P) -> i32,
    serialize: extern "C" fn(P, *const c_char, *mut i64, u32) -> *mut u8,
}

impl Native {
    fn new(d: &Direct) -> Native {
        Native {
            db_config: d.sym("sqlite3_db_config"),
            mprintf: d.sym("sqlite3_mprintf"),
            snprintf: d.sym("sqlite3_snprintf"),
            file_control: d.sym("sqlite3_file_control"),
            config: d.sym("sqlite3_config"),
            free: d.sym("sqlite3_free"),
            prepare_v2: d.sym("sqlite3_prepare_v2"),
            step: d.sym("sqlite3_step"),
            finalize: d.sym("sqlite3_finalize"),
            exec: d.sym("sqlite3_exec"),
            last_insert_rowid: d.sym("sqlite3_last_insert_rowid"),
            column_value: d.sym("sqlite3_column_value"),
            value_type: d.sym("sqlite3_value_type"),
            value_text: d.sym("sqlite3_value_text"),
            value_int64: d.sym("sqlite3_value_int64"),
            value_bytes16: d.sym("sqlite3_value_bytes16"),
            value_text16be: d.sym("sqlite3_value_text16be"),
            blob_open: d.sym("sqlite3_blob_open"),
            blob_read: d.sym("sqlite3_blob_read"),
            blob_write: d.sym("sqlite3_blob_write"),
            blob_bytes: d.sym("sqlite3_blob_bytes"),
            blob_close: d.sym("sqlite3_blob_close"),
            table_column_metadata: d.sym("sqlite3_table_column_metadata"),
            compileoption_get: d.sym("sqlite3_compileoption_get"),
            strglob: d.sym("sqlite3_strglob"),
            strlike: d.sym("sqlite3_strlike"),
            stricmp: d.sym("sqlite3_stricmp"),
            keyword_check: d.sym("sqlite3_keyword_check"),
            keyword_name: d.sym("sqlite3_keyword_name"),
            complete16: d.sym("sqlite3_complete16"),
            open: d.sym("sqlite3_open"),
            close: d.sym("sqlite3_close"),
            serialize: d.sym("sqlite3_serialize"),
        }
    }

    fn exec(&self, db: P, sql: &str) {
        assert_eq!((self.exec)(db, c(sql).as_ptr(), null_mut(), null_mut(), null_mut()), SQLITE_OK, "{sql}");
    }

    /// A string sqlite3_mprintf allocated, copied and freed.
    fn owned(&self, p: *mut c_char) -> Option<String> {
        let t = text(p);
        (self.free)(p.cast());
        t
    }
}

/// A status code, whether the error rule made it an error or not.
fn code(r: Result<i32, Error>) -> i32 {
    match r {
        Ok(c) => c,
        Err(Error::Library(c)) => c as i32,
        Err(e) => panic!("{e}"),
    }
}

fn utf16z(s: &str) -> Vec<u16> {
    s.encode_utf16().chain([0]).collect()
}

/// Runs every check; returns how many functions the client called.
pub fn run(s: &Sqlite3, db: Db, d: &Direct, ndb: P, dir: &std::path::Path) -> usize {
    let n = Native::new(d);
    let mut called = std::collections::BTreeSet::new();
    let mut note = |names: &[&'static str]| called.extend(names.iter().copied());
    variants(s, db, &n, ndb);
    note(&["config_int", "db_config_flag", "mprintf_str", "mprintf_int64", "mprintf_double"]);
    note(&["snprintf_str", "file_control_int", "str_appendf_str", "log_str"]);
    borrowed(s, db);
    note(&["db_mutex", "mutex_alloc", "mutex_enter", "mutex_try", "mutex_leave", "mutex_free"]);
    note(&["next_stmt", "db_handle", "db_filename", "filename_database", "filename_journal"]);
    note(&["filename_wal", "uri_parameter", "uri_boolean", "uri_int64", "create_filename", "free_filename"]);
    values(s, db, &n, ndb);
    note(&["column_value", "value_type", "value_text", "value_int64", "value_text16be", "value_dup"]);
    note(&["value_free", "bind_value", "value_bytes16"]);
    blobs(s, db, &n, ndb);
    note(&["blob_open", "blob_write", "blob_read", "blob_bytes", "blob_reopen", "blob_close"]);
    backup(s, db);
    serialize(s, &n);
    note(&["open", "serialize", "close"]);
    modules(s);
    note(&["drop_modules"]);
    retained(s, db);
    note(&["bind_text_static"]);
    note(&["backup_init", "backup_step", "backup_remaining", "backup_pagecount", "backup_finish"]);
    strings(s, db);
    note(&["str_new", "str_append", "str_appendall", "str_appendchar", "str_length", "str_value"]);
    note(&["str_errcode", "str_reset", "str_finish"]);
    utf16(s, &n, dir);
    note(&["open16", "prepare16_v2", "bind_text16", "complete16", "close_v2"]);
    helpers(s, db, &n, ndb);
    note(&["table_column_metadata", "compileoption_get", "compileoption_used", "strglob", "strlike"]);
    note(&[
        "stricmp",
        "strnicmp",
        "keyword_check",
        "keyword_count",
        "keyword_name",
        "randomness",
        "status64",
    ]);
    note(&["db_status", "vfs_find", "vfs_register", "txn_state", "error_offset"]);
    called.len()
}

/// Variadic functions called through the variants the spec declares, against the same
/// variadic call made natively.
fn variants(s: &Sqlite3, db: Db, n: &Native, ndb: P) {
    for (op, set) in [
        (SQLITE_DBCONFIG_ENABLE_FKEY, 1),
        (SQLITE_DBCONFIG_ENABLE_FKEY, -1),
        (SQLITE_DBCONFIG_ENABLE_TRIGGER, 0),
    ] {
        let mut theirs = -7;
        // SAFETY: the arguments SQLITE_DBCONFIG_ENABLE_* documents: int, int *.
        let status = unsafe { (n.db_config)(ndb, op, set, &mut theirs as *mut i32) };
        assert_eq!(s.sqlite3_db_config_flag(db, op, set), Ok((status, theirs)), "db_config {op} {set}");
    }
    assert_eq!(
        s.sqlite3_db_config_flag(db, SQLITE_DBCONFIG_ENABLE_FKEY, -1),
        Ok((SQLITE_OK, 1)),
        "not vacuous"
    );
    // sqlite3 is initialized: configuring it now is refused the same way.
    // SAFETY: SQLITE_CONFIG_MEMSTATUS takes one int.
    let status = unsafe { (n.config)(SQLITE_CONFIG_MEMSTATUS, 1) };
    assert_eq!(s.sqlite3_config_int(SQLITE_CONFIG_MEMSTATUS, 1), Ok(status));
    assert_eq!(status, SQLITE_MISUSE);

    for (format, arg) in
        [("%q", Some("it's")), ("'%q'", Some("")), ("%Q", None), ("%Q", Some("a'b")), ("[%w]", Some("x\"y"))]
    {
        let carg = arg.map(c);
        // SAFETY: each format takes one string (NULL for %Q is documented).
        let theirs =
            n.owned(unsafe { (n.mprintf)(c(format).as_ptr(), carg.as_ref().map_or(null(), |a| a.as_ptr())) });
        assert_eq!(s.sqlite3_mprintf_str(format, arg), Ok(theirs), "{format}");
    }
    assert_eq!(s.sqlite3_mprintf_str("%q", Some("it's")).unwrap().as_deref(), Some("it''s"));
    // SAFETY: %lld takes a 64-bit integer.
    let theirs = n.owned(unsafe { (n.mprintf)(c("%lld").as_ptr(), -(1i64 << 40)) });
    assert_eq!(s.sqlite3_mprintf_int64("%lld", -(1 << 40)), Ok(theirs));
    // SAFETY: %.3f takes a double.
    let theirs = n.owned(unsafe { (n.mprintf)(c("%.3f").as_ptr(), std::f64::consts::PI) });
    assert_eq!(s.sqlite3_mprintf_double("%.3f", std::f64::consts::PI), Ok(theirs));

    for cap in [1usize, 5, 64] {
        let mut buf = vec![0 as c_char; cap];
        // SAFETY: a buffer of `cap` bytes, a format taking one string.
        let at =
            unsafe { (n.snprintf)(cap as i32, buf.as_mut_ptr(), c("<%s>").as_ptr(), c("hello").as_ptr()) };
        assert_eq!(at, buf.as_mut_ptr());
        let theirs = text(buf.as_ptr()).unwrap();
        assert_eq!(
            s.sqlite3_snprintf_str(cap, "<%s>", Some("hello")),
            Ok((Some(0), theirs)),
            "capacity {cap}"
        );
    }

    let mut theirs = -1;
    let status = (n.file_control)(ndb, c("main").as_ptr(), SQLITE_FCNTL_PERSIST_WAL, &mut theirs);
    let mut ours = -1;
    assert_eq!(s.sqlite3_file_control_int(db, Some("main"), SQLITE_FCNTL_PERSIST_WAL, &mut ours), Ok(status));
    assert_eq!((ours, status), (theirs, SQLITE_OK));

    let st = s.sqlite3_str_new(Some(db)).unwrap();
    s.sqlite3_str_appendf_str(st, "%Q,", Some("o'k")).unwrap();
    s.sqlite3_str_appendf_str(st, "%Q", None).unwrap();
    assert_eq!(s.sqlite3_str_finish(st).unwrap().as_deref(), Some("'o''k',NULL"));
    s.sqlite3_log_str(SQLITE_NOTICE, "%s", "logged through the variant").unwrap();
}

/// Handles sqlite3 keeps owning are refused by close functions; handles that name an
/// object the client already holds come back as the same id.
fn borrowed(s: &Sqlite3, db: Db) {
    let m = s.sqlite3_db_mutex(db).unwrap();
    s.sqlite3_mutex_enter(m).unwrap();
    assert_eq!(s.sqlite3_mutex_try(m), Ok(SQLITE_OK), "recursive: held by the host's library thread");
    s.sqlite3_mutex_leave(m).unwrap();
    s.sqlite3_mutex_leave(m).unwrap();
    assert!(matches!(s.sqlite3_mutex_free(m), Err(Error::BadHandle(w)) if w.contains("borrowed")));
    s.sqlite3_mutex_enter(m).unwrap();
    s.sqlite3_mutex_leave(m).unwrap();
    let own = s.sqlite3_mutex_alloc(SQLITE_MUTEX_FAST).unwrap();
    s.sqlite3_mutex_enter(own).unwrap();
    s.sqlite3_mutex_leave(own).unwrap();
    assert_eq!(s.sqlite3_mutex_free(own), Ok(()));
    assert!(matches!(s.sqlite3_mutex_enter(own), Err(Error::BadHandle(_))), "freed");

    let (_, st) = s.sqlite3_prepare_v2(db, "SELECT 1").unwrap();
    assert_eq!(s.sqlite3_next_stmt(db, None), Ok(st), "the statement the client holds, as the same id");
    assert_eq!(s.sqlite3_db_handle(st), Ok(db));
    assert_eq!(s.sqlite3_finalize(st), Ok(SQLITE_OK));

    let f = s.sqlite3_db_filename(db, "main").unwrap();
    let path = s.sqlite3_filename_database(f).unwrap().expect("a file database");
    assert!(path.ends_with("client.db"), "{path}");
    assert_eq!(s.sqlite3_filename_journal(f).unwrap(), Some(format!("{path}-journal")));
    assert_eq!(s.sqlite3_filename_wal(f).unwrap(), Some(format!("{path}-wal")));
    assert_eq!(s.sqlite3_uri_parameter(f, "mode"), Ok(None));
    assert_eq!((s.sqlite3_uri_boolean(f, "mode", 1), s.sqlite3_uri_boolean(f, "mode", 0)), (Ok(1), Ok(0)));
    assert_eq!(s.sqlite3_uri_int64(f, "mode", -3), Ok(-3));
    assert!(matches!(s.sqlite3_free_filename(f), Err(Error::BadHandle(w)) if w.contains("borrowed")));
    assert_eq!(s.sqlite3_filename_database(f).unwrap(), Some(path), "still usable");
    let made = s.sqlite3_create_filename("/x/a.db", "/x/a.db-journal", "/x/a.db-wal").unwrap();
    assert_eq!(s.sqlite3_filename_database(made).unwrap().as_deref(), Some("/x/a.db"));
    assert_eq!(s.sqlite3_filename_wal(made).unwrap().as_deref(), Some("/x/a.db-wal"));
    assert_eq!(s.sqlite3_free_filename(made), Ok(()));
    assert!(matches!(s.sqlite3_filename_database(made), Err(Error::BadHandle(_))), "freed");
}

/// Column values as sqlite3_value handles: the statement's own, and protected copies.
fn values(s: &Sqlite3, db: Db, n: &Native, ndb: P) {
    let sql = "SELECT id, name, n FROM t ORDER BY id LIMIT 50";
    let (_, st) = s.sqlite3_prepare_v2(db, sql).unwrap();
    let mut nst: P = null_mut();
    assert_eq!((n.prepare_v2)(ndb, c(sql).as_ptr(), -1, &mut nst, null_mut()), SQLITE_OK);
    let mut kept = Vec::new();
    let mut rows = 0;
    while s.sqlite3_step(st) == Ok(SQLITE_ROW) {
        assert_eq!((n.step)(nst), SQLITE_ROW);
        for col in 0..3 {
            let (v, nv) = (s.sqlite3_column_value(st, col).unwrap(), (n.column_value)(nst, col));
            assert_eq!(s.sqlite3_value_type(v), Ok((n.value_type)(nv)));
            assert_eq!(s.sqlite3_value_text(v).unwrap(), text((n.value_text)(nv)));
            assert_eq!(s.sqlite3_value_int64(v), Ok((n.value_int64)(nv)));
            assert_eq!(s.sqlite3_value_bytes16(v), Ok((n.value_bytes16)(nv)));
            let be = (n.value_text16be)(nv);
            let len = (n.value_bytes16)(nv) as usize;
            // SAFETY: sqlite3 gives `len` bytes of big-endian UTF-16 (or NULL).
            let theirs = (!be.is_null()).then(|| unsafe { std::slice::from_raw_parts(be, len) }.to_vec());
            assert_eq!(s.sqlite3_value_text16be(v), Ok(theirs));
            if col == 1 {
                assert!(matches!(s.sqlite3_value_free(v), Err(Error::BadHandle(_))), "the statement's value");
                kept.push((s.sqlite3_value_dup(v).unwrap(), text((n.value_text)(nv))));
            }
        }
        rows += 1;
    }
    assert_eq!((rows, (n.step)(nst)), (50, SQLITE_DONE));
    assert_eq!(s.sqlite3_finalize(st), Ok((n.finalize)(nst)));
    // The copies outlive the statement; one binds a new statement.
    let (_, echo) = s.sqlite3_prepare_v2(db, "SELECT ?1").unwrap();
    for (v, expected) in &kept {
        assert_eq!(s.sqlite3_value_text(*v).unwrap(), *expected);
        assert_eq!(s.sqlite3_bind_value(echo, 1, *v), Ok(SQLITE_OK));
        assert_eq!(s.sqlite3_step(echo), Ok(SQLITE_ROW));
        assert_eq!(s.sqlite3_column_text(echo, 0).unwrap(), *expected);
        assert_eq!(s.sqlite3_reset(echo), Ok(SQLITE_OK));
        assert_eq!(s.sqlite3_value_free(*v), Ok(()));
        assert!(matches!(s.sqlite3_value_text(*v), Err(Error::BadHandle(_))), "freed");
    }
    assert_eq!(s.sqlite3_finalize(echo), Ok(SQLITE_OK));
}

/// Incremental blob I/O on the same rows on both sides.
fn blobs(s: &Sqlite3, db: Db, n: &Native, ndb: P) {
    let setup =
        "CREATE TABLE b(x BLOB); INSERT INTO b VALUES(zeroblob(5000)); INSERT INTO b VALUES(zeroblob(10))";
    assert_eq!(s.sqlite3_exec(db, setup, None).unwrap().0, SQLITE_OK);
    n.exec(ndb, setup);
    let (row, nrow) = (s.sqlite3_last_insert_rowid(db).unwrap() - 1, (n.last_insert_rowid)(ndb) - 1);
    let (status, blob) = s.sqlite3_blob_open(db, "main", "b", "x", row, 1).unwrap();
    let mut nblob: P = null_mut();
    let (m, b, x) = (c("main"), c("b"), c("x"));
    assert_eq!(
        (status, (n.blob_open)(ndb, m.as_ptr(), b.as_ptr(), x.as_ptr(), nrow, 1, &mut nblob)),
        (SQLITE_OK, SQLITE_OK)
    );
    let data: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
    for (offset, len) in [(0, 3000), (1999, 3000), (4990, 10), (4995, 10)] {
        let part = &data[..len];
        let theirs = (n.blob_write)(nblob, part.as_ptr(), len as i32, offset);
        assert_eq!(code(s.sqlite3_blob_write(blob, part, offset)), theirs, "write {len} at {offset}");
    }
    assert_eq!(s.sqlite3_blob_bytes(blob), Ok((n.blob_bytes)(nblob)));
    for (offset, len) in [(0, 5000), (1000, 2500), (4999, 1), (4999, 2)] {
        let mut theirs = vec![0u8; len];
        let status = (n.blob_read)(nblob, theirs.as_mut_ptr(), len as i32, offset);
        match s.sqlite3_blob_read(blob, len, offset) {
            Ok((got, ours)) => assert_eq!((got, ours), (status, theirs), "read {len} at {offset}"),
            Err(e) => assert_eq!(e, Error::Library(status.into()), "read {len} at {offset}"),
        }
    }
    assert_eq!(s.sqlite3_blob_read(blob, 2991, 1999).unwrap().1, data[..2991], "not vacuous");
    assert_eq!(s.sqlite3_blob_reopen(blob, row + 1), Ok(SQLITE_OK));
    assert_eq!(s.sqlite3_blob_bytes(blob), Ok(10));
    assert_eq!(s.sqlite3_blob_close(blob), Ok((n.blob_close)(nblob)));
    assert!(matches!(s.sqlite3_blob_bytes(blob), Err(Error::BadHandle(_))));
}

/// An online backup of the test database into an in-memory one.
fn backup(s: &Sqlite3, db: Db) {
    let (status, mem) = s.sqlite3_open(":memory:").unwrap();
    assert_eq!(status, SQLITE_OK);
    let b = s.sqlite3_backup_init(mem, "main", db, "main").unwrap();
    assert_eq!(s.sqlite3_backup_step(b, 1), Ok(SQLITE_OK));
    let total = s.sqlite3_backup_pagecount(b).unwrap();
    assert_eq!(s.sqlite3_backup_remaining(b), Ok(total - 1));
    assert_eq!(s.sqlite3_backup_step(b, -1), Ok(SQLITE_DONE));
    assert_eq!(s.sqlite3_backup_remaining(b), Ok(0));
    assert_eq!(s.sqlite3_backup_finish(b), Ok(SQLITE_OK));
    assert!(matches!(s.sqlite3_backup_step(b, 1), Err(Error::BadHandle(_))));
    let count = |d: Db| s.sqlite3_get_table(d, "SELECT count(*) FROM t").unwrap().1.unwrap()[1].clone();
    assert_eq!(count(mem), count(db));
    assert_eq!(s.sqlite3_close(mem), Ok(SQLITE_OK));
}

/// A database serialized by sqlite3 into memory it allocates (its size reported through an
/// out-parameter), copied and freed in the host: the same bytes as the 64-bit build's.
fn serialize(s: &Sqlite3, n: &Native) {
    let sql = "CREATE TABLE s(x, y); INSERT INTO s VALUES(1, 'one'), (2, x'00ff'), (3, zeroblob(3000))";
    let (status, db) = s.sqlite3_open(":memory:").unwrap();
    assert_eq!(status, SQLITE_OK);
    assert_eq!(s.sqlite3_exec(db, sql, None).unwrap().0, SQLITE_OK);
    let mut ndb: P = null_mut();
    assert_eq!((n.open)(c(":memory:").as_ptr(), &mut ndb), SQLITE_OK);
    n.exec(ndb, sql);
    let mut size = -1;
    let p = (n.serialize)(ndb, c("main").as_ptr(), &mut size, 0);
    assert!(!p.is_null());
    // SAFETY: sqlite3 allocated `size` bytes, freed once here.
    let theirs = unsafe { std::slice::from_raw_parts(p, size as usize) }.to_vec();
    (n.free)(p.cast());
    let (ours, len) = s.sqlite3_serialize(db, "main").unwrap();
    assert_eq!((ours.as_ref().map(Vec::len), len), (Some(theirs.len()), size));
    assert!(ours == Some(theirs), "the database's bytes");
    assert!(size >= 4096, "a page at least: {size}");
    assert_eq!(s.sqlite3_serialize(db, "nope"), Ok((None, -1)), "no such schema: NULL");
    assert_eq!(s.sqlite3_close(db), Ok(SQLITE_OK));
    assert_eq!((n.close)(ndb), SQLITE_OK);

    // Back into a connection: the serialized bytes become its database, kept (with room to
    // grow) in the host for as long as the connection is open; sqlite3 reads and writes
    // them there on later calls.
    let image = ours.unwrap();
    let (_, db) = s.sqlite3_open(":memory:").unwrap();
    let mut room = image.clone();
    room.resize(image.len() + (64 << 10), 0);
    assert_eq!(s.sqlite3_deserialize(db, "main", &room, image.len() as i64), Ok(SQLITE_OK));
    let rows = |d: Db| s.sqlite3_get_table(d, "SELECT x, typeof(y) FROM s ORDER BY x").unwrap().1.unwrap();
    assert_eq!(rows(db)[2..].to_vec(), ["1", "text", "2", "blob", "3", "blob"].map(|v| Some(v.to_string())));
    assert_eq!(s.sqlite3_exec(db, "INSERT INTO s VALUES(4, 'four')", None).unwrap().0, SQLITE_OK);
    assert_eq!(rows(db).len(), 2 + 4 * 2, "written into the kept buffer");
    let (again, _) = s.sqlite3_serialize(db, "main").unwrap();
    assert!(again.is_some_and(|a| a.len() >= image.len()), "the grown database");
    assert_eq!(s.sqlite3_close(db), Ok(SQLITE_OK));
}

/// sqlite3_bind_text with SQLITE_STATIC: sqlite3 reads the text at step time, long after
/// the bind returned, from the copy the host keeps on the statement.
fn retained(s: &Sqlite3, db: Db) {
    let (_, st) = s.sqlite3_prepare_v2(db, "SELECT ?1, ?2, length(?1)").unwrap();
    let long = "é".repeat(50_000);
    assert_eq!(s.sqlite3_bind_text_static(st, 1, long.as_bytes()), Ok(SQLITE_OK));
    assert_eq!(s.sqlite3_bind_text_static(st, 2, b"second"), Ok(SQLITE_OK));
    // Other calls in between reuse the host's call storage and the shared region.
    for _ in 0..20 {
        let noise = vec![0x5a; 200_000];
        assert!(s.sqlite3_randomness(noise.len()).is_ok());
        assert_eq!(s.sqlite3_complete(&"x".repeat(10_000)).unwrap(), 0);
    }
    assert_eq!(s.sqlite3_step(st), Ok(SQLITE_ROW));
    assert_eq!(s.sqlite3_column_text(st, 0).unwrap(), Some(long.clone()), "read at step time");
    assert_eq!(s.sqlite3_column_text(st, 1).unwrap().as_deref(), Some("second"));
    assert_eq!(s.sqlite3_column_int(st, 2), Ok(50_000));
    // Rebinding a slot replaces its copy.
    assert_eq!(s.sqlite3_reset(st), Ok(SQLITE_OK));
    assert_eq!(s.sqlite3_bind_text_static(st, 1, b"again"), Ok(SQLITE_OK));
    assert_eq!(s.sqlite3_step(st), Ok(SQLITE_ROW));
    assert_eq!(s.sqlite3_column_text(st, 0).unwrap().as_deref(), Some("again"));
    assert_eq!(s.sqlite3_column_text(st, 1).unwrap().as_deref(), Some("second"));
    // A rebind sqlite3 refuses (the statement is running) keeps the slot's copy in use.
    assert_eq!(s.sqlite3_bind_text_static(st, 1, b"refused"), Err(Error::Library(SQLITE_MISUSE.into())));
    assert_eq!(s.sqlite3_reset(st), Ok(SQLITE_OK));
    for _ in 0..5 {
        assert!(s.sqlite3_randomness(100_000).is_ok());
    }
    assert_eq!(s.sqlite3_step(st), Ok(SQLITE_ROW));
    assert_eq!(s.sqlite3_column_text(st, 0).unwrap().as_deref(), Some("again"), "the kept copy, still valid");
    assert_eq!(s.sqlite3_finalize(st), Ok(SQLITE_OK));
}

/// sqlite3_drop_modules with a NULL-terminated array of the names to keep, then with NULL.
fn modules(s: &Sqlite3) {
    let (_, db) = s.sqlite3_open(":memory:").unwrap();
    let create = |sql: &str| s.sqlite3_exec(db, sql, None).unwrap();
    assert_eq!(s.sqlite3_drop_modules(db, Some(&["fts5", "rtree"])), Ok(SQLITE_OK));
    assert_eq!(create("CREATE VIRTUAL TABLE a USING fts5(x)").0, SQLITE_OK);
    assert_eq!(create("CREATE VIRTUAL TABLE b USING rtree(id, x0, x1)").0, SQLITE_OK);
    let (status, message) = create("CREATE VIRTUAL TABLE c USING fts4(x)");
    assert_eq!((status, message.as_deref()), (SQLITE_ERROR, Some("no such module: fts4")));
    assert_eq!(s.sqlite3_drop_modules(db, None), Ok(SQLITE_OK));
    let (status, message) = create("CREATE VIRTUAL TABLE d USING fts5(x)");
    assert_eq!((status, message.as_deref()), (SQLITE_ERROR, Some("no such module: fts5")));
    assert_eq!(s.sqlite3_close(db), Ok(SQLITE_OK));
}

/// sqlite3_str: built in the host, finished into one string the host frees.
fn strings(s: &Sqlite3, db: Db) {
    let st = s.sqlite3_str_new(Some(db)).unwrap();
    s.sqlite3_str_append(st, b"ab\xc3\xa9").unwrap();
    s.sqlite3_str_appendall(st, "-def").unwrap();
    s.sqlite3_str_appendchar(st, 3, b'x' as i8).unwrap();
    assert_eq!(s.sqlite3_str_length(st), Ok(11));
    assert_eq!(s.sqlite3_str_value(st).unwrap().as_deref(), Some("abé-defxxx"));
    assert_eq!(s.sqlite3_str_errcode(st), Ok(SQLITE_OK));
    s.sqlite3_str_reset(st).unwrap();
    s.sqlite3_str_appendall(st, "again").unwrap();
    assert_eq!(s.sqlite3_str_finish(st).unwrap().as_deref(), Some("again"));
    assert!(matches!(s.sqlite3_str_finish(st), Err(Error::BadHandle(_))), "finished");
    let empty = s.sqlite3_str_new(None).unwrap();
    assert_eq!(s.sqlite3_str_finish(empty), Ok(None), "nothing appended: NULL");
}

/// The UTF-16 entry points: a file name, SQL and text that are not ASCII.
fn utf16(s: &Sqlite3, n: &Native, dir: &std::path::Path) {
    let path = dir.join("ünïcødé.db");
    let (status, db) = s.sqlite3_open16(path.to_str().unwrap()).unwrap();
    assert_eq!(status, SQLITE_OK);
    let (status, st) = s.sqlite3_prepare16_v2(db, "SELECT 'ü€' || ?1, length(?1)").unwrap();
    assert_eq!(status, SQLITE_OK);
    assert_eq!(s.sqlite3_bind_text16(st, 1, "ñ🦀"), Ok(SQLITE_OK));
    assert_eq!(s.sqlite3_step(st), Ok(SQLITE_ROW));
    assert_eq!(s.sqlite3_column_text16(st, 0).unwrap().as_deref(), Some("ü€ñ🦀"));
    assert_eq!(s.sqlite3_column_int(st, 1), Ok(2));
    assert_eq!(s.sqlite3_finalize(st), Ok(SQLITE_OK));
    for sql in ["SELECT 'é';", "SELECT 'é'", "CREATE TABLE x(y); --ü\n"] {
        assert_eq!(s.sqlite3_complete16(sql), Ok((n.complete16)(utf16z(sql).as_ptr())), "{sql}");
    }
    assert_eq!(s.sqlite3_close_v2(db), Ok(SQLITE_OK));
    assert!(path.is_file(), "the UTF-16 name is the file's");
    let _ = std::fs::remove_file(path);
}

/// Metadata, compile options, the string helpers, status counters and VFSes.
fn helpers(s: &Sqlite3, db: Db, n: &Native, ndb: P) {
    for (table, column) in [("t", "name"), ("t", "id"), ("t", "nope"), ("b", "x")] {
        let (mut ty, mut coll, mut nn, mut pk, mut ai) = (null(), null(), -1, -1, -1);
        let (tb, col) = (c(table), c(column));
        let status = (n.table_column_metadata)(
            ndb,
            null(),
            tb.as_ptr(),
            col.as_ptr(),
            &mut ty,
            &mut coll,
            &mut nn,
            &mut pk,
            &mut ai,
        );
        let ours = s.sqlite3_table_column_metadata(db, None, table, column);
        if status == SQLITE_OK {
            assert_eq!(ours, Ok((status, text(ty), text(coll), nn, pk, ai)), "{table}.{column}");
        } else {
            assert_eq!(ours, Err(Error::Library(status.into())), "{table}.{column}");
        }
    }
    assert_eq!(s.sqlite3_table_column_metadata(db, None, "t", "id").unwrap().4, 1, "id is the primary key");
    for i in [0, 1, 5, 1000] {
        assert_eq!(s.sqlite3_compileoption_get(i).unwrap(), text((n.compileoption_get)(i)), "option {i}");
    }
    let first = s.sqlite3_compileoption_get(0).unwrap().expect("Debian's build has options");
    assert_eq!(s.sqlite3_compileoption_used(&first), Ok(1));
    assert_eq!(s.sqlite3_compileoption_used("NO_SUCH_OPTION"), Ok(0));
    for (a, b) in [("a*c", "abc"), ("A*", "abc"), ("*[0-9]", "x7"), ("é%", "éa")] {
        assert_eq!(s.sqlite3_strglob(a, b), Ok((n.strglob)(c(a).as_ptr(), c(b).as_ptr())), "{a} {b}");
        assert_eq!(s.sqlite3_strlike(a, b, 0), Ok((n.strlike)(c(a).as_ptr(), c(b).as_ptr(), 0)), "{a} {b}");
        assert_eq!(s.sqlite3_stricmp(a, b), Ok((n.stricmp)(c(a).as_ptr(), c(b).as_ptr())), "{a} {b}");
    }
    assert_eq!(s.sqlite3_strnicmp("ABCx", "abcy", 3), Ok(0));
    for word in ["SELECT", "select", "selec", "banana", ""] {
        assert_eq!(
            s.sqlite3_keyword_check(word.as_bytes()),
            Ok((n.keyword_check)(word.as_ptr(), word.len() as i32))
        );
    }
    let count = s.sqlite3_keyword_count().unwrap();
    assert!(count > 100, "{count}");
    // Keywords are not NUL-terminated: the length comes back beside the pointer.
    for i in [-1, 0, 1, count / 2, count - 1, count] {
        let (mut p, mut len) = (null(), -1);
        let status = (n.keyword_name)(i, &mut p, &mut len);
        let ours = s.sqlite3_keyword_name(i);
        if status == SQLITE_OK {
            // SAFETY: sqlite3 points at `len` bytes of the keyword.
            let word =
                String::from_utf8(unsafe { std::slice::from_raw_parts(p, len as usize) }.to_vec()).unwrap();
            assert_eq!(ours, Ok((status, Some(word), len)), "keyword {i}");
        } else {
            assert_eq!(ours, Err(Error::Library(status.into())), "keyword {i}");
        }
    }
    let first = s.sqlite3_keyword_name(0).unwrap().1.expect("a keyword");
    assert!(first.len() > 1 && first.bytes().all(|b| b.is_ascii_uppercase()), "{first}");
    assert_eq!(s.sqlite3_keyword_check(first.as_bytes()), Ok(1), "{first} is a keyword");
    let random = s.sqlite3_randomness(64).unwrap();
    assert_eq!(random.len(), 64);
    assert_ne!(random, s.sqlite3_randomness(64).unwrap(), "64 random bytes twice");
    let (status, current, high) = s.sqlite3_status64(SQLITE_STATUS_MEMORY_USED, 0).unwrap();
    assert!(status == SQLITE_OK && current > 0 && high >= current, "{status} {current} {high}");
    let (status, used, _) = s.sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_USED, 0).unwrap();
    assert!(status == SQLITE_OK && used > 0, "{status} {used}");
    assert!(s.sqlite3_db_status(db, 999, 0).is_err(), "an unknown counter: sqlite3's error");
    let vfs = s.sqlite3_vfs_find(None).unwrap();
    assert_eq!(s.sqlite3_vfs_find(Some("unix")), Ok(vfs), "the default VFS, as the same id");
    assert!(s.sqlite3_vfs_find(Some("no-such-vfs")).is_err(), "NULL: no such VFS");
    assert_eq!(s.sqlite3_vfs_register(vfs, 1), Ok(SQLITE_OK));
    assert_eq!(s.sqlite3_txn_state(db, None), Ok(SQLITE_TXN_NONE));
    assert_eq!(s.sqlite3_txn_state(db, Some("nope")), Ok(-1));
    assert_eq!(
        s.sqlite3_prepare_v2(db, "SELECT nope FROM t").map(|r| r.0),
        Err(Error::Library(SQLITE_ERROR.into()))
    );
    assert_eq!(s.sqlite3_error_offset(db), Ok(7));
}
