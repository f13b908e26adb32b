/* A C program written against Debian's sqlite3.h, built 64-bit twice: linked with
 * Debian's 64-bit libsqlite3, and with the dllgen proxy (generated/sqlite3-proxy), which
 * runs every call in Debian's 32-bit sqlite3 through its host. tests/tests/proxy.rs
 * requires the same output from both. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static int row(void *ctx, int n, char **values, char **names)
{
    int *rows = ctx;
    printf("  row %d:", ++*rows);
    for (int i = 0; i < n; i++)
        printf(" %s=%s", names[i], values[i] ? values[i] : "NULL");
    printf("\n");
    return *rows == 3; /* stop after the third row */
}

/* A user function the library keeps: twice(x), its context destroyed when sqlite3 lets go. */
static void twice(sqlite3_context *ctx, int n, sqlite3_value **args)
{
    if (n != 1 || sqlite3_value_type(args[0]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    sqlite3_result_int64(ctx, 2 * sqlite3_value_int64(args[0]));
}

static void destroyed(void *what)
{
    printf("  destroyed %s\n", (const char *)what);
}

/* A collation ordering by the reversed text. */
static int reversed(void *what, int na, const void *a, int nb, const void *b)
{
    (void)what;
    const unsigned char *x = a, *y = b;
    for (int i = na - 1, j = nb - 1; i >= 0 && j >= 0; i--, j--)
        if (x[i] != y[j])
            return x[i] < y[j] ? -1 : 1;
    return na - nb;
}

static int progress_calls;
static int progress(void *ctx)
{
    (void)ctx;
    progress_calls++;
    return 0;
}

int main(void)
{
    printf("version %s %d\n", sqlite3_libversion(), sqlite3_libversion_number() >= 3000000);
    sqlite3 *db = NULL;
    int r = sqlite3_open(":memory:", &db);
    printf("open %d %s\n", r, db ? "db" : "null");
    char *err = NULL;
    r = sqlite3_exec(db,
                     "create table t(id integer primary key, name text, score real);"
                     "insert into t(name, score) values ('ann', 1.5), ('bob', NULL), ('cy', -2.25), ('dee', 1e10);",
                     NULL, NULL, &err);
    printf("exec %d err %s changes %d last %lld\n", r, err ? err : "none", sqlite3_changes(db),
           (long long)sqlite3_last_insert_rowid(db));
    int rows = 0;
    r = sqlite3_exec(db, "select id, name, score from t order by id", row, &rows, &err);
    printf("exec %d after %d rows err %s\n", r, rows, err ? err : "none");
    sqlite3_free(err);
    err = NULL;
    r = sqlite3_exec(db, "select * from missing", NULL, NULL, &err);
    printf("exec %d err %s\n", r, err ? err : "none");
    sqlite3_free(err);
    printf("errmsg %s errcode %d\n", sqlite3_errmsg(db), sqlite3_errcode(db));

    sqlite3_stmt *st = NULL;
    r = sqlite3_prepare_v2(db, "select id, name, score, length(name) from t where score > ?1 or name = ?2", -1, &st, NULL);
    printf("prepare %d columns %d params %d\n", r, sqlite3_column_count(st), sqlite3_bind_parameter_count(st));
    printf("bind %d", sqlite3_bind_double(st, 1, 0.0));
    printf(" %d\n", sqlite3_bind_text(st, 2, "bob", 3, SQLITE_TRANSIENT));
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *name = sqlite3_column_text(st, 1);
        printf("  %s=%lld %s=%s %s=%.3f type %d len %d\n", sqlite3_column_name(st, 0),
               (long long)sqlite3_column_int64(st, 0), sqlite3_column_name(st, 1), name ? (const char *)name : "NULL",
               sqlite3_column_name(st, 2), sqlite3_column_double(st, 2), sqlite3_column_type(st, 2),
               sqlite3_column_int(st, 3));
    }
    printf("step %d\n", r);
    printf("reset %d finalize", sqlite3_reset(st));
    printf(" %d\n", sqlite3_finalize(st));
    /* Blobs and UTF-16 text the library owns until the statement moves on. */
    r = sqlite3_prepare_v2(db, "select x'00ff10', 'h\xc3\xa9llo', zeroblob(0)", -1, &st, NULL);
    printf("prepare %d step %d", r, sqlite3_step(st));
    const unsigned char *blob = sqlite3_column_blob(st, 0);
    int nb = sqlite3_column_bytes(st, 0);
    printf(" blob %d: %02x %02x %02x", nb, blob[0], blob[1], blob[2]);
    const unsigned short *w = sqlite3_column_text16(st, 1);
    printf(" text16");
    for (int i = 0; w[i]; i++)
        printf(" %04x", w[i]);
    printf(" empty %d\n", sqlite3_column_bytes(st, 2));
    printf("finalize %d\n", sqlite3_finalize(st));
    r = sqlite3_prepare_v2(db, "select nonsense(", -1, &st, NULL);
    printf("prepare bad %d %s\n", r, sqlite3_errmsg(db));
    printf("complete %d %d\n", sqlite3_complete("select 1;"), sqlite3_complete("select ("));

    printf("create_function %d\n",
           sqlite3_create_function_v2(db, "twice", 1, SQLITE_UTF8, "twice", twice, NULL, NULL, destroyed));
    printf("create_collation %d\n", sqlite3_create_collation_v2(db, "rev", SQLITE_UTF8, "rev", reversed, destroyed));
    sqlite3_progress_handler(db, 1, progress, NULL);
    rows = 0;
    r = sqlite3_exec(db, "select name, twice(id), twice(score) from t order by name collate rev", row, &rows, &err);
    printf("exec %d rows %d err %s progress called %s\n", r, rows, err ? err : "none", progress_calls > 0 ? "yes" : "no");
    sqlite3_free(err);
    sqlite3_progress_handler(db, 0, NULL, NULL);
    /* Replacing the function lets go of the first one's context. */
    printf("replace %d\n", sqlite3_create_function_v2(db, "twice", 1, SQLITE_UTF8, "twice again", twice, NULL, NULL, destroyed));
    printf("close %d\n", sqlite3_close(db));
    printf("done\n");
    return 0;
}
