/* scameter.ingest._rowscan: the plain-report JSONL row scanner in C (issue 21), optional.
 *
 * Responsibility: scan(block, first_line, ctx, events, fallback) reads one block of JSONL
 * lines (the pool worker's chunk) and, for every line in the plain report shape, appends the
 * event tuple that scameter/ingest/worker.py's JSONL fast path (orjson.loads, then
 * _fast_report) gives for it; every other line goes to fallback(line, raw_bytes), in order,
 * which runs that fast path and the general path unchanged. It returns the number of lines
 * it took itself.
 *
 * The plain shape, recognised exactly (anything else, or anything unsure, is a fallback line):
 *   - the line is one JSON object: '{' first, '}' last, nothing after it; space or tab
 *     between tokens; no trailing comma;
 *   - member names are strings without escapes; the known names (type, id, source, status,
 *     reported_at, reporter, reporter_hash, category, provider, identifiers) at most once;
 *     no "region" (local numbers of another country take the general path); any other name
 *     with a string value is skipped, as _fast_report ignores it;
 *   - every value a string without escapes or control characters, valid UTF-8 (no encoded
 *     surrogates: what orjson accepts and Python's strict UTF-8 decoder decodes), except
 *     identifiers: a list of 1..MAX_IDENTS objects with exactly the members kind and value,
 *     both such strings;
 *   - type (if given) "report"; source and status (if given and not empty) members of
 *     ctx's tables; reported_at exactly "YYYY-MM-DDTHH:MM:SSZ", a real date and time, within
 *     ctx's bounds (datetime.fromisoformat reads that form as this UTC instant); id at most
 *     ctx's id_max characters.
 * The event is (0, line, ts, source index, status index, reporter int, category, keys,
 * provider, case id), built as _fast_report builds it, with the defaults of _fast_fields
 * (the empty string counts as absent, as "or" does there). What needs Python is asked of the
 * callbacks in ctx and cached here per distinct value, in dicts ctx owns (cleared when they
 * reach ctx's bound):
 *   - the wire key of (kind, value): key_of(kind, value) -> str or None (None: the row takes
 *     the fallback); a typed Hong Kong number (kind "phone") whose 4-digit prefix is proven
 *     all-valid in ctx's prefix table gets "phone:+852" + its 8 digits without a call: the
 *     answer of _phonefast.c's TypedHK.match (both read the number with _hkphone.h's
 *     hk_national_of), which normalize_phone returns for it;
 *   - the category: canonical(raw) -> str;
 *   - the reporter int of a public report: reporter_int(reporter) -> int, or, when the row
 *     gives reporter_hash, hash_int(reporter_hash) -> int (not cached).
 * A callback that raises makes the row a fallback line (the exception is cleared): the
 * fallback then gives whatever today's path gives for it, error included.
 *
 * Invariants: events and fallback calls follow the input order; a line this code takes gives
 * an event equal to the fast path's (tests/unit/ingest/test_rowscan.py compares the two on
 * random and adversarial lines); exceptions raised by fallback propagate.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "../_hkphone.h"

#define MAX_IDENTS 16   /* more identifiers in one row: the fallback (rare) */
#define MAX_KINDS 64    /* distinct kind strings with a key cache each (a few are real) */
#define N_PREFIXES 10000

enum {
    F_TYPE, F_ID, F_SOURCE, F_STATUS, F_REPORTED_AT, F_REPORTER, F_REPORTER_HASH, F_CATEGORY,
    F_PROVIDER, N_FIELDS
};
static const char *const FIELD_NAMES[N_FIELDS] = {
    "type", "id", "source", "status", "reported_at", "reporter", "reporter_hash", "category",
    "provider",
};

/* The bytes of one JSON string without escapes (between its quotes). */
typedef struct {
    const char *p;
    Py_ssize_t n;
    int ascii;
    int set;
} Str;

typedef struct {
    Str kind, value;
} Ident;

/* ctx, unpacked once per block (see worker_ctx in scameter/ingest/rowscan.py). */
typedef struct {
    PyObject *sources;    /* tuple of str: the source names, by index */
    PyObject *statuses;   /* tuple of str: the status names, by index */
    long default_source;  /* index of opts.source or "public"; -1: none (every row falls back) */
    long feed, confirmed, unverified, public_;
    PyObject *default_category; /* str: opts.category or "" */
    PyObject *default_provider; /* str: opts.provider */
    long long min_ts, max_ts;
    Py_ssize_t id_max;
    const unsigned char *prefix_valid; /* N_PREFIXES bytes */
    PyObject *key_cache, *key_of;      /* dict kind -> dict value -> key or None; callable */
    PyObject *cat_cache, *canonical;   /* dict raw -> category; callable */
    PyObject *rep_cache, *reporter_int, *hash_int; /* dict reporter -> int; callables */
    Py_ssize_t cache_max;
    PyObject *empty; /* "" */
    PyObject *zero;  /* 0 */
} Ctx;

/* ---- JSON scanning ---------------------------------------------------------------- */

static inline const char *
skip_ws(const char *s, const char *e)
{
    while (s < e && (*s == ' ' || *s == '\t')) {
        s++;
    }
    return s;
}

/* Whether p[0..n) is valid UTF-8 with no surrogates, overlong forms or code points past
 * U+10FFFF (what orjson and Python's strict decoder accept). */
static int
utf8_valid(const unsigned char *p, Py_ssize_t n)
{
    Py_ssize_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int len;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        }
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        }
        else {
            return 0;
        }
        if (i + len > n) {
            return 0;
        }
        for (int k = 1; k < len; k++) {
            unsigned char d = p[i + k];
            if ((d & 0xC0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (d & 0x3F);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
            return 0;
        }
        i += len;
    }
    return 1;
}

/* A string starting at s (at its opening quote); the position after its closing quote, or
 * NULL when it has an escape, a control character, invalid UTF-8 or no end. */
static const char *
scan_str(const char *s, const char *e, Str *out)
{
    if (s >= e || *s != '"') {
        return NULL;
    }
    const char *p = ++s;
    int ascii = 1;
    while (p < e) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            break;
        }
        if (c == '\\' || c < 0x20) {
            return NULL;
        }
        if (c >= 0x80) {
            ascii = 0;
        }
        p++;
    }
    if (p >= e) {
        return NULL;
    }
    if (!ascii && !utf8_valid((const unsigned char *)s, p - s)) {
        return NULL;
    }
    out->p = s;
    out->n = p - s;
    out->ascii = ascii;
    out->set = 1;
    return p + 1;
}

static inline int
str_is(const Str *s, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)s->n == n && memcmp(s->p, lit, n) == 0;
}

/* After a value: the position of the next member name (after ','), 1 in *end at '}' or ']'
 * (close), or NULL (anything else, a trailing comma included). */
static const char *
next_member(const char *s, const char *e, char close, int *end)
{
    s = skip_ws(s, e);
    if (s < e && *s == close) {
        *end = 1;
        return s + 1;
    }
    if (s >= e || *s != ',') {
        return NULL;
    }
    s = skip_ws(s + 1, e);
    *end = 0;
    return s;
}

/* One {"kind": ..., "value": ...} object (exactly those two members); NULL when not. */
static const char *
scan_ident(const char *s, const char *e, Ident *out)
{
    if (s >= e || *s != '{') {
        return NULL;
    }
    out->kind.set = out->value.set = 0;
    s = skip_ws(s + 1, e);
    for (;;) {
        Str name, val;
        s = scan_str(s, e, &name);
        if (s == NULL) {
            return NULL;
        }
        s = skip_ws(s, e);
        if (s >= e || *s != ':') {
            return NULL;
        }
        s = scan_str(skip_ws(s + 1, e), e, &val);
        if (s == NULL) {
            return NULL;
        }
        Str *slot = str_is(&name, "kind") ? &out->kind : str_is(&name, "value") ? &out->value
                                                                                : NULL;
        if (slot == NULL || slot->set) {
            return NULL;
        }
        *slot = val;
        int end;
        s = next_member(s, e, '}', &end);
        if (s == NULL) {
            return NULL;
        }
        if (end) {
            break;
        }
    }
    return out->kind.set && out->value.set ? s : NULL;
}

/* The identifiers list; the number of objects in *n, or NULL. */
static const char *
scan_idents(const char *s, const char *e, Ident *out, int *n)
{
    if (s >= e || *s != '[') {
        return NULL;
    }
    s = skip_ws(s + 1, e);
    *n = 0;
    for (;;) {
        if (*n == MAX_IDENTS) {
            return NULL;
        }
        s = scan_ident(s, e, &out[*n]);
        if (s == NULL) {
            return NULL;
        }
        (*n)++;
        int end;
        s = next_member(s, e, ']', &end);
        if (s == NULL) {
            return NULL;
        }
        if (end) {
            return s;
        }
    }
}

/* The index of a known member name in FIELD_NAMES, or -1 (one comparison per name). */
static int
field_of(const Str *name)
{
    int i;
    switch (name->n) {
    case 2: i = F_ID; break;
    case 4: i = F_TYPE; break;
    case 6: i = name->p[1] == 'o' ? F_SOURCE : F_STATUS; break;
    case 8: i = name->p[0] == 'r' ? F_REPORTER : name->p[0] == 'c' ? F_CATEGORY : F_PROVIDER;
        break;
    case 11: i = F_REPORTED_AT; break;
    case 13: i = F_REPORTER_HASH; break;
    default: return -1;
    }
    return memcmp(name->p, FIELD_NAMES[i], name->n) == 0 ? i : -1;
}

/* The whole line: the known fields and the identifiers; 0 when not in the plain shape. */
static int
scan_line(const char *s, const char *e, Str *fields, Ident *idents, int *n_idents)
{
    for (int i = 0; i < N_FIELDS; i++) {
        fields[i].set = 0;
    }
    *n_idents = 0;
    if (s >= e || *s != '{' || e[-1] != '}') {
        return 0;
    }
    s = skip_ws(s + 1, e);
    int have_idents = 0;
    for (;;) {
        Str name;
        s = scan_str(s, e, &name);
        if (s == NULL) {
            return 0;
        }
        s = skip_ws(s, e);
        if (s >= e || *s != ':') {
            return 0;
        }
        s = skip_ws(s + 1, e);
        if (str_is(&name, "identifiers")) {
            if (have_idents) {
                return 0;
            }
            have_idents = 1;
            s = scan_idents(s, e, idents, n_idents);
        }
        else {
            Str val;
            s = scan_str(s, e, &val);
            if (s == NULL || str_is(&name, "region")) {
                return 0;
            }
            int i = field_of(&name);
            if (i >= 0) {
                if (fields[i].set) {
                    return 0; /* a repeated member: Python keeps the last; not ours */
                }
                fields[i] = val;
            }
        }
        if (s == NULL) {
            return 0;
        }
        int end;
        s = next_member(s, e, '}', &end);
        if (s == NULL) {
            return 0;
        }
        if (end) {
            return s == e && have_idents;
        }
    }
}

/* ---- the event -------------------------------------------------------------------- */

static PyObject *
new_str(const Str *s)
{
    if (s->ascii) {
        PyObject *out = PyUnicode_New(s->n, 127);
        if (out != NULL) {
            memcpy(PyUnicode_1BYTE_DATA(out), s->p, s->n);
        }
        return out;
    }
    return PyUnicode_DecodeUTF8(s->p, s->n, NULL);
}

/* The index of s in names (a tuple of ASCII str), or -1. */
static long
index_of(PyObject *names, const Str *s)
{
    if (!s->ascii) {
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(names);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *name = PyTuple_GET_ITEM(names, i);
        if (PyUnicode_GET_LENGTH(name) == s->n &&
            memcmp(PyUnicode_1BYTE_DATA(name), s->p, s->n) == 0) {
            return (long)i;
        }
    }
    return -1;
}

static inline int
two(const char *p)
{
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* Unix seconds of exactly "YYYY-MM-DDTHH:MM:SSZ"; 0 in *ok when not that form or not a real
 * date and time (datetime.fromisoformat refuses those too; the fallback says why). */
static long long
parse_when(const Str *s, int *ok)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    *ok = 0;
    if (s->n != 20) {
        return 0;
    }
    for (int i = 0; i < 20; i++) {
        char c = s->p[i];
        if (shape[i] == 'd' ? (c < '0' || c > '9') : c != shape[i]) {
            return 0;
        }
    }
    const char *p = s->p;
    int y = two(p) * 100 + two(p + 2), m = two(p + 5), d = two(p + 8);
    int hh = two(p + 11), mm = two(p + 14), ss = two(p + 17);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap) || hh > 23 ||
        mm > 59 || ss > 59) {
        return 0;
    }
    /* Days since 1970-01-01 of the proleptic Gregorian date (H. Hinnant's days_from_civil). */
    long long yy = y - (m <= 2);
    long long era = (yy >= 0 ? yy : yy - 399) / 400;
    long long yoe = yy - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    long long days = era * 146097 + doe - 719468;
    *ok = 1;
    return days * 86400 + hh * 3600 + mm * 60 + ss;
}

/* Call fn(args...) for a cache miss; NULL (error cleared) when it raised. */
static PyObject *
ask(PyObject *fn, PyObject *a, PyObject *b)
{
    PyObject *out = PyObject_CallFunctionObjArgs(fn, a, b, NULL);
    if (out == NULL) {
        PyErr_Clear();
    }
    return out;
}

/* cache[k] as a new reference, computing it with fn(k) (and storing it) on a miss; NULL
 * (no error set) when fn raised or the cache could not be updated. */
static PyObject *
cached(Ctx *c, PyObject *cache, PyObject *k, PyObject *fn, PyObject *k2)
{
    PyObject *got = PyDict_GetItemWithError(cache, k2 == NULL ? k : k2);
    if (got != NULL) {
        return Py_NewRef(got);
    }
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return NULL;
    }
    got = ask(fn, k, k2);
    if (got == NULL) {
        return NULL;
    }
    if (PyDict_GET_SIZE(cache) >= c->cache_max) {
        PyDict_Clear(cache);
    }
    if (PyDict_SetItem(cache, k2 == NULL ? k : k2, got) < 0) {
        PyErr_Clear();
        Py_DECREF(got);
        return NULL;
    }
    return got;
}

/* The wire key of one identifier (new reference), or NULL (no error set): the row falls back. */
static PyObject *
key_of(Ctx *c, const Ident *id)
{
    char buf[12];
    if (str_is(&id->kind, "phone") && id->value.ascii) {
        const char *national = hk_national_of(id->value.p, id->value.n, buf);
        if (national != NULL) {
            int prefix = (national[0] - '0') * 1000 + (national[1] - '0') * 100 +
                         (national[2] - '0') * 10 + (national[3] - '0');
            if (c->prefix_valid[prefix] == 1) {
                PyObject *key = PyUnicode_New(18, 127);
                if (key == NULL) {
                    PyErr_Clear();
                    return NULL;
                }
                Py_UCS1 *out = PyUnicode_1BYTE_DATA(key);
                memcpy(out, "phone:+852", 10);
                memcpy(out + 10, national, 8);
                return key;
            }
        }
    }
    PyObject *kind = new_str(&id->kind);
    if (kind == NULL) {
        PyErr_Clear();
        return NULL;
    }
    PyObject *per_kind = PyDict_GetItemWithError(c->key_cache, kind); /* borrowed */
    if (per_kind == NULL) {
        if (!PyErr_Occurred() && PyDict_GET_SIZE(c->key_cache) >= MAX_KINDS) {
            PyDict_Clear(c->key_cache); /* kinds come from the input: bound them too */
        }
        if (PyErr_Occurred() || (per_kind = PyDict_New()) == NULL) {
            PyErr_Clear();
            Py_DECREF(kind);
            return NULL;
        }
        int bad = PyDict_SetItem(c->key_cache, kind, per_kind);
        Py_DECREF(per_kind); /* the cache holds it */
        if (bad < 0) {
            PyErr_Clear();
            Py_DECREF(kind);
            return NULL;
        }
    }
    PyObject *value = new_str(&id->value);
    if (value == NULL) {
        PyErr_Clear();
        Py_DECREF(kind);
        return NULL;
    }
    PyObject *key = cached(c, per_kind, kind, c->key_of, value);
    Py_DECREF(kind);
    Py_DECREF(value);
    if (key != NULL && !PyUnicode_CheckExact(key)) {
        Py_CLEAR(key); /* None: not for this path */
    }
    return key;
}

/* The reporter int of the row (new reference), or NULL (no error set). */
static PyObject *
reporter_of(Ctx *c, long src, const Str *reporter, const Str *reporter_hash)
{
    int has_hash = reporter_hash->set && reporter_hash->n > 0;
    if (src != c->public_ && !has_hash) {
        return Py_NewRef(c->zero);
    }
    if (has_hash) {
        PyObject *h = new_str(reporter_hash);
        if (h == NULL) {
            PyErr_Clear();
            return NULL;
        }
        PyObject *out = ask(c->hash_int, h, NULL);
        Py_DECREF(h);
        return out;
    }
    if (!reporter->set || reporter->n == 0) {
        return Py_NewRef(c->zero);
    }
    PyObject *r = new_str(reporter);
    if (r == NULL) {
        PyErr_Clear();
        return NULL;
    }
    PyObject *out = cached(c, c->rep_cache, r, c->reporter_int, NULL);
    Py_DECREF(r);
    return out;
}

/* The value of an optional str field ("" counts as absent), or dflt; new reference. */
static PyObject *
str_or(const Str *s, PyObject *dflt)
{
    if (!s->set || s->n == 0) {
        return Py_NewRef(dflt);
    }
    PyObject *out = new_str(s);
    if (out == NULL) {
        PyErr_Clear();
    }
    return out;
}

/* The event of a scanned line (new reference), or NULL (no error set): a fallback line. */
static PyObject *
event_of(Ctx *c, long line, const Str *f, const Ident *idents, int n_idents)
{
    if (f[F_TYPE].set && !str_is(&f[F_TYPE], "report")) {
        return NULL;
    }
    long src = f[F_SOURCE].set && f[F_SOURCE].n ? index_of(c->sources, &f[F_SOURCE])
                                                 : c->default_source;
    if (src < 0) {
        return NULL;
    }
    long st = f[F_STATUS].set && f[F_STATUS].n ? index_of(c->statuses, &f[F_STATUS])
              : src == c->feed                   ? c->confirmed
                                                 : c->unverified;
    if (st < 0 || !f[F_REPORTED_AT].set) {
        return NULL;
    }
    int ok;
    long long ts = parse_when(&f[F_REPORTED_AT], &ok);
    if (!ok || ts < c->min_ts || ts > c->max_ts) {
        return NULL;
    }
    PyObject *items[10] = {NULL};
    PyObject *keys = PyTuple_New(n_idents);
    if (keys == NULL) {
        PyErr_Clear();
        return NULL;
    }
    items[7] = keys;
    for (int i = 0; i < n_idents; i++) {
        PyObject *key = key_of(c, &idents[i]);
        if (key == NULL) {
            goto fail;
        }
        PyTuple_SET_ITEM(keys, i, key);
    }
    items[9] = f[F_ID].set ? new_str(&f[F_ID]) : Py_NewRef(c->empty);
    if (items[9] == NULL) {
        PyErr_Clear();
        goto fail;
    }
    if (PyUnicode_GET_LENGTH(items[9]) > c->id_max) {
        goto fail;
    }
    if ((items[8] = str_or(&f[F_PROVIDER], c->default_provider)) == NULL) {
        goto fail;
    }
    PyObject *raw_cat = str_or(&f[F_CATEGORY], c->default_category);
    if (raw_cat == NULL) {
        goto fail;
    }
    items[6] = cached(c, c->cat_cache, raw_cat, c->canonical, NULL);
    Py_DECREF(raw_cat);
    if (items[6] == NULL) {
        goto fail;
    }
    if ((items[5] = reporter_of(c, src, &f[F_REPORTER], &f[F_REPORTER_HASH])) == NULL ||
        !PyLong_CheckExact(items[5]) || !PyUnicode_CheckExact(items[6])) {
        goto fail; /* (the callbacks give int and str; the tuples are untracked below) */
    }
    items[0] = PyLong_FromLong(0);
    items[1] = PyLong_FromLong(line);
    items[2] = PyLong_FromLongLong(ts);
    items[3] = PyLong_FromLong(src);
    items[4] = PyLong_FromLong(st);
    PyObject *ev = PyTuple_New(10);
    if (ev == NULL || !items[0] || !items[1] || !items[2] || !items[3] || !items[4]) {
        Py_XDECREF(ev);
        PyErr_Clear();
        goto fail;
    }
    for (int i = 0; i < 10; i++) {
        PyTuple_SET_ITEM(ev, i, items[i]);
    }
    /* Both tuples hold only str and int: no cycle can pass through them, so the collector
     * need not track them (CPython untracks such tuples itself, at its first collection). */
    PyObject_GC_UnTrack(keys);
    PyObject_GC_UnTrack(ev);
    return ev;
fail:
    for (int i = 0; i < 10; i++) {
        Py_XDECREF(items[i]);
    }
    return NULL;
}

/* ---- the module ------------------------------------------------------------------- */

static int
unpack_ctx(PyObject *t, Ctx *c, Py_buffer *table)
{
    if (!PyArg_ParseTuple(t, "O!O!lllllO!O!LLny*O!OO!OO!OOnO!O!:scan ctx", &PyTuple_Type,
                          &c->sources, &PyTuple_Type, &c->statuses, &c->default_source,
                          &c->feed, &c->confirmed, &c->unverified, &c->public_,
                          &PyUnicode_Type, &c->default_category, &PyUnicode_Type,
                          &c->default_provider, &c->min_ts, &c->max_ts, &c->id_max, table,
                          &PyDict_Type, &c->key_cache, &c->key_of, &PyDict_Type, &c->cat_cache,
                          &c->canonical, &PyDict_Type, &c->rep_cache, &c->reporter_int,
                          &c->hash_int, &c->cache_max, &PyUnicode_Type, &c->empty,
                          &PyLong_Type, &c->zero)) {
        return -1;
    }
    if (table->len != N_PREFIXES) {
        PyBuffer_Release(table);
        PyErr_SetString(PyExc_ValueError, "scan ctx: the prefix table must have 10000 bytes");
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(c->sources); i++) {
        PyObject *s = PyTuple_GET_ITEM(c->sources, i);
        if (!PyUnicode_CheckExact(s) || !PyUnicode_IS_ASCII(s)) {
            PyBuffer_Release(table);
            PyErr_SetString(PyExc_TypeError, "scan ctx: names must be ASCII str");
            return -1;
        }
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(c->statuses); i++) {
        PyObject *s = PyTuple_GET_ITEM(c->statuses, i);
        if (!PyUnicode_CheckExact(s) || !PyUnicode_IS_ASCII(s)) {
            PyBuffer_Release(table);
            PyErr_SetString(PyExc_TypeError, "scan ctx: names must be ASCII str");
            return -1;
        }
    }
    c->prefix_valid = (const unsigned char *)table->buf;
    return 0;
}

static PyObject *
rowscan_scan(PyObject *module, PyObject *args)
{
    Py_buffer block, table;
    long first_line;
    PyObject *ctx, *events, *fallback;
    if (!PyArg_ParseTuple(args, "y*lO!O!O:scan", &block, &first_line, &PyTuple_Type, &ctx,
                          &PyList_Type, &events, &fallback)) {
        return NULL;
    }
    Ctx c;
    if (unpack_ctx(ctx, &c, &table) < 0) {
        PyBuffer_Release(&block);
        return NULL;
    }
    const char *s = (const char *)block.buf, *end = s + block.len;
    long line = first_line, taken = 0;
    Str fields[N_FIELDS];
    Ident idents[MAX_IDENTS];
    PyObject *result = NULL;
    for (;;) {
        const char *nl = memchr(s, '\n', end - s);
        const char *e = nl == NULL ? end : nl;
        int n_idents;
        PyObject *ev = NULL;
        if (c.default_source >= 0 && scan_line(s, e, fields, idents, &n_idents)) {
            ev = event_of(&c, line, fields, idents, n_idents);
        }
        if (ev != NULL) {
            int bad = PyList_Append(events, ev);
            Py_DECREF(ev);
            if (bad < 0) {
                goto done;
            }
            taken++;
        }
        else {
            PyObject *r = PyObject_CallFunction(fallback, "ly#", line, s, (Py_ssize_t)(e - s));
            if (r == NULL) {
                goto done;
            }
            Py_DECREF(r);
        }
        if (nl == NULL) {
            break;
        }
        s = nl + 1;
        line++;
    }
    result = PyLong_FromLong(taken);
done:
    PyBuffer_Release(&table);
    PyBuffer_Release(&block);
    return result;
}

static PyMethodDef rowscan_methods[] = {
    {"scan", rowscan_scan, METH_VARARGS,
     "scan(block, first_line, ctx, events, fallback)\n--\n\n"
     "Append the events of the block's plain report lines to events, call fallback(line, raw) "
     "for every other line, in order; the number of lines taken."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef rowscan_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "scameter.ingest._rowscan",
    .m_doc = "The compiled plain-report JSONL row scanner of scameter (optional; "
             "scameter/ingest/rowscan.py falls back to the pure-Python row path without it).",
    .m_size = -1,
    .m_methods = rowscan_methods,
};

PyMODINIT_FUNC
PyInit__rowscan(void)
{
    return PyModule_Create(&rowscan_module);
}
