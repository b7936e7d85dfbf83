/* scameter.ingest._rowsfast: the parse workers' table rows and evidence in C (issue 21),
 * optional.
 *
 * Responsibility: after a parse worker of the out-of-core ingest has parsed a chunk
 * (scameter/ingest/ooc.py, process_chunk_rows), two passes over its events remain, and each
 * has its compiled form here, giving what the pure-Python reference gives for the same
 * arguments:
 *   - event_rows(events, rules, as_of, seq, bits, category_bit, provider_number, corroborate)
 *     is ooc._python_event_rows: aggregate.Admission.reports (which reports count; the
 *     tallies of the others; the category mask; providers in the reporter's place for the
 *     corroborated sources) and the CSV text of the `ev` and `li` tables (ooc._SPECIAL and
 *     ooc._csv_quoted for `ev`, csv.writer's QUOTE_MINIMAL and "\r\n" for `li`). It returns
 *     (ev, ev_rows, li, counted, status_rejected, future, aged_out, categories, allow,
 *     delist).
 *   - encode_pairs(events, rules, tags, key_id, dumps, sep) is evidence._python_encode_pairs:
 *     each event that can still count as JSON (orjson.dumps's bytes), filed under the
 *     xxh3-64 key of each distinct identifier it names (scameter/_xxh3.h; key_id for inputs
 *     longer than it hashes), bucketed by the key's first byte and joined by sep as
 *     spill.pair_segments and spill.encode_segment do. It returns (segments, events kept,
 *     bytes filed).
 *
 * Invariants:
 *   - Returns None (never guesses) for anything it does not handle exactly: an event of
 *     another shape, or whose fields it reads are of another type (bool, float, list, str
 *     subclasses, ints past 64 bits, str with lone surrogates, an empty key), a (source,
 *     status) outside the rules it could read, a callback that raised (orjson.dumps
 *     included), a key hashing to something that contains sep. The caller
 *     then runs the Python reference on the whole chunk, which gives its result or raises
 *     its error: nothing is raised here but MemoryError, and no partial result escapes.
 *   - Output order is event order; the text is built as UTF-8 and decoded once.
 *   - tests/unit/ingest/test_rows_compiled.py compares both functions with their references
 *     on generated events (hypothesis) and on the edge cases named above.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "../_xxh3.h"

#define RULES_MAX 16 /* source and status indices the rules table holds (5 and 3 today) */
#define KINDS_MAX 32 /* identifier kinds with a tag (10 today) */
#define BUCKETS 256  /* the evidence sorter's first-byte buckets (spill._BUCKETS) */
#define EV_REPORT 0  /* worker.py's event types */
#define EV_ALLOW 1
#define NEVER (-1)   /* worker.NEVER: a report without a time counts whatever the window */

/* What every helper returns: OK, DECLINE (no error set: the caller answers None and Python
 * runs the reference) or FAIL (an error is set: MemoryError). */
enum { FAIL = -1, OK = 0, DECLINE = 1 };

#define TRY(expr)                                                                              \
    do {                                                                                       \
        int rc_ = (expr);                                                                      \
        if (rc_ != OK) {                                                                       \
            return rc_;                                                                        \
        }                                                                                      \
    } while (0)

/* ---- growable byte buffers -------------------------------------------------------- */

typedef struct {
    char *p;
    Py_ssize_t n, cap;
} Buf;

static int
buf_reserve(Buf *b, Py_ssize_t more)
{
    if (b->n + more <= b->cap) {
        return OK;
    }
    Py_ssize_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + more) {
        cap *= 2;
    }
    char *p = PyMem_Realloc(b->p, (size_t)cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return FAIL;
    }
    b->p = p;
    b->cap = cap;
    return OK;
}

static inline int
buf_put(Buf *b, const void *s, Py_ssize_t n)
{
    TRY(buf_reserve(b, n));
    memcpy(b->p + b->n, s, (size_t)n);
    b->n += n;
    return OK;
}

static inline int
buf_byte(Buf *b, char c)
{
    TRY(buf_reserve(b, 1));
    b->p[b->n++] = c;
    return OK;
}

/* Decimal digits two at a time (reporter hashes have 19 or 20 of them). */
static const char DIGITS2[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static int
buf_u64(Buf *b, unsigned long long v)
{
    char tmp[24];
    int i = (int)sizeof tmp;
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        tmp[--i] = DIGITS2[d + 1];
        tmp[--i] = DIGITS2[d];
    }
    if (v >= 10) {
        tmp[--i] = DIGITS2[v * 2 + 1];
        tmp[--i] = DIGITS2[v * 2];
    }
    else {
        tmp[--i] = (char)('0' + v);
    }
    return buf_put(b, tmp + i, (Py_ssize_t)sizeof tmp - i);
}

/* Decimal, as str(int) writes it (the magnitude as unsigned: LLONG_MIN has no positive). */
static int
buf_i64(Buf *b, long long v)
{
    if (v < 0) {
        TRY(buf_byte(b, '-'));
        return buf_u64(b, 0ULL - (unsigned long long)v);
    }
    return buf_u64(b, (unsigned long long)v);
}

static void
buf_free(Buf *b)
{
    PyMem_Free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

/* ---- reading events ---------------------------------------------------------------- */

typedef struct {
    const char *p;
    Py_ssize_t n;
} View;

/* The UTF-8 bytes of an exact str (valid while the str lives). A str with lone surrogates
 * has none: DECLINE, and the Python path raises what it raises for it. */
static int
view_of(PyObject *o, View *v)
{
    if (!PyUnicode_CheckExact(o)) {
        return DECLINE;
    }
    if (PyUnicode_IS_COMPACT_ASCII(o)) { /* nearly every key: no conversion */
        v->p = (const char *)PyUnicode_DATA(o);
        v->n = PyUnicode_GET_LENGTH(o);
        return OK;
    }
    v->p = PyUnicode_AsUTF8AndSize(o, &v->n);
    if (v->p == NULL) {
        PyErr_Clear();
        return DECLINE;
    }
    return OK;
}

/* An exact int that fits int64 (bool and int subclasses are the Python path's). */
static int
i64_of(PyObject *o, long long *out)
{
    if (!PyLong_CheckExact(o)) {
        return DECLINE;
    }
    int over;
    long long v = PyLong_AsLongLongAndOverflow(o, &over);
    if (over || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return DECLINE;
    }
    *out = v;
    return OK;
}

/* ``(source, status) -> (flag, window start)`` (Aggregator._rules) as a table by index.
 * Entries of another shape are left out: an event naming one takes the Python path. */
typedef struct {
    int set;
    long long flag, start;
} Rule;

typedef struct {
    Rule at[RULES_MAX][RULES_MAX];
} Rules;

static int
pair_of(PyObject *t, long long *a, long long *b)
{
    if (!PyTuple_CheckExact(t) || PyTuple_GET_SIZE(t) != 2) {
        return DECLINE;
    }
    TRY(i64_of(PyTuple_GET_ITEM(t, 0), a));
    return i64_of(PyTuple_GET_ITEM(t, 1), b);
}

static void
rules_of(PyObject *dict, Rules *r)
{
    memset(r, 0, sizeof *r);
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(dict, &pos, &k, &v)) {
        long long src, st, flag, start;
        if (pair_of(k, &src, &st) != OK || pair_of(v, &flag, &start) != OK) {
            continue;
        }
        if (src >= 0 && src < RULES_MAX && st >= 0 && st < RULES_MAX) {
            r->at[src][st] = (Rule){1, flag, start};
        }
    }
}

/* The rule of an event's source and status (both in the table), with the source index. */
static int
rule_for(const Rules *r, PyObject *ev, const Rule **out, long long *src)
{
    long long st;
    TRY(i64_of(PyTuple_GET_ITEM(ev, 3), src));
    TRY(i64_of(PyTuple_GET_ITEM(ev, 4), &st));
    if (*src < 0 || *src >= RULES_MAX || st < 0 || st >= RULES_MAX || !r->at[*src][st].set) {
        return DECLINE;
    }
    *out = &r->at[*src][st];
    return OK;
}

/* A key's bytes after its leading "~" (the invalid mark, stripped once as the Python path
 * does); *bad = 1 when it had one. An empty key is an IndexError there: DECLINE. */
static int
plain_key(PyObject *o, View *v, int *bad)
{
    TRY(view_of(o, v));
    if (v->n == 0) {
        return DECLINE;
    }
    *bad = v->p[0] == '~';
    v->p += *bad;
    v->n -= *bad;
    return OK;
}

/* ---- event_rows: the ev and li tables ------------------------------------------------ */

typedef struct {
    Rules rules;
    long long as_of, corroborate;
    PyObject *bits, *category_bit, *provider_number;
    Buf ev, li, tail;
    long long rs, rp, ev_rows;
    long long counted, status_rejected, future, aged_out, categories, allow, delist;
} Rows;

/* A CSV field as ooc._csv_quoted writes it when ooc._SPECIAL finds a comma, quote or line
 * break (csv.writer's QUOTE_MINIMAL with lineterminator "\r\n" quotes the same ones), else
 * as it is. Those are ASCII, so the UTF-8 bytes tell. */
static int
csv_field(Buf *b, View s)
{
    int special = 0;
    for (Py_ssize_t i = 0; i < s.n && !special; i++) {
        char c = s.p[i];
        special = c == ',' || c == '"' || c == '\r' || c == '\n';
    }
    if (!special) {
        return buf_put(b, s.p, s.n);
    }
    TRY(buf_byte(b, '"'));
    for (Py_ssize_t i = 0; i < s.n; i++) {
        if (s.p[i] == '"') {
            TRY(buf_byte(b, '"'));
        }
        TRY(buf_byte(b, s.p[i]));
    }
    return buf_byte(b, '"');
}

/* One field of an li row as csv.writer writes it: None empty, str, int. */
static int
li_value(Buf *b, PyObject *o)
{
    if (o == Py_None) {
        return OK;
    }
    if (PyUnicode_CheckExact(o)) {
        View v;
        TRY(view_of(o, &v));
        return csv_field(b, v);
    }
    long long n;
    TRY(i64_of(o, &n));
    return buf_i64(b, n);
}

/* An allow or delist event: (rs, plain, bad, 1, owner, -1) or (rs, plain, bad, 2, "", at). */
static int
li_row(Rows *r, PyObject *ev, long long type)
{
    if (PyTuple_GET_SIZE(ev) < 4) {
        return DECLINE;
    }
    View key;
    int bad;
    TRY(plain_key(PyTuple_GET_ITEM(ev, 2), &key, &bad));
    Buf *b = &r->li;
    r->rs++;
    TRY(buf_i64(b, r->rs));
    TRY(buf_byte(b, ','));
    TRY(csv_field(b, key));
    TRY(buf_put(b, bad ? ",1," : ",0,", 3));
    if (type == EV_ALLOW) {
        r->allow++;
        TRY(buf_put(b, "1,", 2));
        TRY(li_value(b, PyTuple_GET_ITEM(ev, 3)));
        return buf_put(b, ",-1\r\n", 5);
    }
    r->delist++;
    TRY(buf_put(b, "2,,", 3));
    TRY(li_value(b, PyTuple_GET_ITEM(ev, 3)));
    return buf_put(b, "\r\n", 2);
}

/* A counted report's category bit: CATEGORY_BITS's, or category_bit(category) when that has
 * none (a name of another vocabulary); 0 for no category. Adds it to the mask. */
static int
cbit_of(Rows *r, PyObject *cat, long long *out)
{
    *out = 0;
    if (cat == Py_None) {
        return OK;
    }
    if (!PyUnicode_CheckExact(cat)) {
        return DECLINE;
    }
    if (PyUnicode_GET_LENGTH(cat) == 0) {
        return OK;
    }
    PyObject *bit = PyDict_GetItemWithError(r->bits, cat); /* borrowed */
    if (bit == NULL && PyErr_Occurred()) {
        PyErr_Clear();
        return DECLINE;
    }
    if (bit != NULL) {
        TRY(i64_of(bit, out));
    }
    if (*out == 0) { /* `bits.get(category) or category_bit(category)`: rare, so a call */
        PyObject *got = PyObject_CallOneArg(r->category_bit, cat);
        if (got == NULL) {
            PyErr_Clear();
            return DECLINE;
        }
        int rc = i64_of(got, out);
        Py_DECREF(got);
        TRY(rc);
    }
    r->categories |= *out;
    return OK;
}

/* The reporter a counted report counts under, as the signed BIGINT the ev table holds: the
 * provider's number for corroborated sources (provider_number: cached and rare), else the
 * reporter int (0: the shared anonymous reporter 1). Reporter hashes run to 2^64 - 1 and are
 * stored as rep - 2^64 from 2^63 on: the two's complement of the same 64 bits. */
static int
reporter_of(Rows *r, PyObject *ev, long long flag, long long *out)
{
    Py_ssize_t n = PyTuple_GET_SIZE(ev);
    if (flag & r->corroborate) {
        PyObject *prov = n > 8 ? PyTuple_GET_ITEM(ev, 8) : NULL;
        PyObject *got = prov ? PyObject_CallOneArg(r->provider_number, prov)
                             : PyObject_CallFunction(r->provider_number, "s", "");
        if (got == NULL) {
            PyErr_Clear();
            return DECLINE;
        }
        int rc = i64_of(got, out);
        Py_DECREF(got);
        TRY(rc);
    }
    else {
        PyObject *rep = PyTuple_GET_ITEM(ev, 5);
        if (i64_of(rep, out) != OK) {
            if (!PyLong_CheckExact(rep)) {
                return DECLINE;
            }
            unsigned long long u = PyLong_AsUnsignedLongLong(rep);
            if (u == (unsigned long long)-1 && PyErr_Occurred()) {
                PyErr_Clear(); /* negative past int64, or 2^64 and more */
                return DECLINE;
            }
            *out = (long long)u; /* u >= 2^63 here: u - 2^64 */
            return OK;
        }
    }
    if (*out == 0) {
        *out = 1; /* `rep or 1` */
    }
    return OK;
}

/* The row text after the key and bad flag, shared by every identifier of one report:
 * ",ts,flag,sbit,cbit,rep,cid\n" (no case id: empty; one with a comma, quote or line break
 * quoted). */
static int
row_tail(Rows *r, PyObject *ev, long long ts, long long flag, long long src, long long cbit,
         long long rep)
{
    Buf *b = &r->tail;
    b->n = 0;
    PyObject *cid = PyTuple_GET_SIZE(ev) > 9 ? PyTuple_GET_ITEM(ev, 9) : Py_None;
    View c = {"", 0};
    if (cid != Py_None) { /* `(ev[9] if len(ev) > 9 else "") or None`: str or None here */
        TRY(view_of(cid, &c));
    }
    long long sbit = 1LL << src; /* src < RULES_MAX */
    const long long nums[5] = {ts, flag, sbit, cbit, rep};
    for (int i = 0; i < 5; i++) {
        TRY(buf_byte(b, ','));
        TRY(buf_i64(b, nums[i]));
    }
    TRY(buf_byte(b, ','));
    TRY(csv_field(b, c));
    return buf_byte(b, '\n');
}

/* One ev row: "rs,rp,key,bad" and the report's tail. */
static int
ev_row(Rows *r, View key, int bad)
{
    Buf *b = &r->ev;
    r->rs++;
    r->ev_rows++;
    TRY(buf_i64(b, r->rs));
    TRY(buf_byte(b, ','));
    TRY(buf_i64(b, r->rp));
    TRY(buf_byte(b, ','));
    TRY(csv_field(b, key));
    TRY(buf_put(b, bad ? ",1" : ",0", 2));
    return buf_put(b, r->tail.p, r->tail.n);
}

/* The rows of a counted report: one per distinct identifier (after the "~" is stripped),
 * in order, the first form deciding validity (ooc._distinct). */
static int
report_rows(Rows *r, PyObject *keys)
{
    if (!PyTuple_CheckExact(keys)) {
        return DECLINE;
    }
    Py_ssize_t nk = PyTuple_GET_SIZE(keys);
    View small[32], *seen = small;
    if (nk > 32) {
        seen = PyMem_Malloc((size_t)nk * sizeof(View));
        if (seen == NULL) {
            PyErr_NoMemory();
            return FAIL;
        }
    }
    Py_ssize_t kept = 0;
    int rc = OK;
    for (Py_ssize_t i = 0; i < nk && rc == OK; i++) {
        View key;
        int bad;
        rc = plain_key(PyTuple_GET_ITEM(keys, i), &key, &bad);
        int dup = 0;
        for (Py_ssize_t j = 0; j < kept && rc == OK && !dup; j++) {
            dup = seen[j].n == key.n && memcmp(seen[j].p, key.p, (size_t)key.n) == 0;
        }
        if (rc == OK && !dup) {
            seen[kept++] = key;
            rc = ev_row(r, key, bad);
        }
    }
    if (seen != small) {
        PyMem_Free(seen);
    }
    return rc;
}

/* One report event: Admission.reports's decision and tallies, then its rows if it counts. */
static int
report_event(Rows *r, PyObject *ev)
{
    if (PyTuple_GET_SIZE(ev) < 7) { /* `ts, src, status, rep, category = ev[2:7]` */
        return DECLINE;
    }
    long long ts, src;
    const Rule *rule;
    TRY(i64_of(PyTuple_GET_ITEM(ev, 2), &ts));
    TRY(rule_for(&r->rules, ev, &rule, &src));
    if (!rule->flag) {
        r->status_rejected++;
        return OK;
    }
    if (ts > r->as_of) {
        r->future++;
        return OK;
    }
    if (ts < rule->start && ts != NEVER) {
        r->aged_out++;
        return OK;
    }
    r->counted++;
    long long cbit, rep;
    TRY(cbit_of(r, PyTuple_GET_ITEM(ev, 6), &cbit));
    TRY(reporter_of(r, ev, rule->flag, &rep));
    if (PyTuple_GET_SIZE(ev) < 8) {
        return DECLINE;
    }
    TRY(row_tail(r, ev, ts, rule->flag, src, cbit, rep));
    r->rp++;
    return report_rows(r, PyTuple_GET_ITEM(ev, 7));
}

static int
rows_event(Rows *r, PyObject *ev)
{
    long long type;
    if (!PyTuple_CheckExact(ev) || PyTuple_GET_SIZE(ev) < 1) {
        return DECLINE;
    }
    TRY(i64_of(PyTuple_GET_ITEM(ev, 0), &type));
    return type == EV_REPORT ? report_event(r, ev) : li_row(r, ev, type);
}

/* Each event in turn, holding it (a callback could, in principle, shrink the list). */
static int
rows_all(Rows *r, PyObject *events)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(events); i++) {
        PyObject *ev = Py_NewRef(PyList_GET_ITEM(events, i));
        int rc = rows_event(r, ev);
        Py_DECREF(ev);
        TRY(rc);
    }
    return OK;
}

static PyObject *
rows_result(Rows *r)
{
    PyObject *ev = PyUnicode_DecodeUTF8(r->ev.p ? r->ev.p : "", r->ev.n, "strict");
    PyObject *li = PyUnicode_DecodeUTF8(r->li.p ? r->li.p : "", r->li.n, "strict");
    PyObject *out = NULL;
    if (ev != NULL && li != NULL) {
        out = Py_BuildValue("(OLOLLLLLLL)", ev, r->ev_rows, li, r->counted, r->status_rejected,
                            r->future, r->aged_out, r->categories, r->allow, r->delist);
    }
    Py_XDECREF(ev);
    Py_XDECREF(li);
    return out;
}

static PyObject *
rowsfast_event_rows(PyObject *module, PyObject *args)
{
    PyObject *events, *rules, *as_of, *seq;
    Rows r;
    memset(&r, 0, sizeof r);
    if (!PyArg_ParseTuple(args, "OO!OOO!OOL:event_rows", &events, &PyDict_Type, &rules, &as_of,
                          &seq, &PyDict_Type, &r.bits, &r.category_bit, &r.provider_number,
                          &r.corroborate)) {
        return NULL;
    }
    long long s;
    if (!PyList_CheckExact(events) || i64_of(as_of, &r.as_of) != OK || i64_of(seq, &s) != OK ||
        s < 0 || s >= (1LL << 30)) {
        Py_RETURN_NONE; /* (rows numbered from seq << 32 must fit a BIGINT) */
    }
    rules_of(rules, &r.rules);
    r.rs = r.rp = s << 32; /* ooc.SEQ_SHIFT */
    int rc = rows_all(&r, events);
    PyObject *out = rc == OK ? rows_result(&r) : rc == DECLINE ? Py_NewRef(Py_None) : NULL;
    buf_free(&r.ev);
    buf_free(&r.li);
    buf_free(&r.tail);
    return out;
}

/* ---- encode_pairs: the evidence segments -------------------------------------------- */

/* The event's JSON in b (emptied first): orjson.dumps's bytes, copied (the blob snapshots
 * store is orjson's, byte for byte). A JSON writer in C for the types events hold was
 * measured against this: 0.288 vs 0.290 us an event over scale-mix chunks (the time goes to
 * reading the event objects, which both do), so dumps it is. DECLINE when it raises: the
 * Python path raises the same. */
static int
json_event(Buf *b, PyObject *ev, PyObject *dumps)
{
    b->n = 0;
    PyObject *out = PyObject_CallOneArg(dumps, ev);
    if (out == NULL) {
        PyErr_Clear();
        return DECLINE;
    }
    int rc = PyBytes_Check(out) ? buf_put(b, PyBytes_AS_STRING(out), PyBytes_GET_SIZE(out))
                                : DECLINE;
    Py_DECREF(out);
    return rc;
}

/* evidence._TAGS as a table: kind name -> tag bytes, held through a copy of the dict. */
typedef struct {
    PyObject *own;
    int n;
    View kind[KINDS_MAX], tag[KINDS_MAX];
} Kinds;

static int
kinds_of(PyObject *tags, Kinds *k)
{
    k->n = 0;
    k->own = PyDict_Copy(tags);
    if (k->own == NULL) {
        return FAIL;
    }
    Py_ssize_t pos = 0;
    PyObject *name, *tag;
    while (PyDict_Next(k->own, &pos, &name, &tag) && k->n < KINDS_MAX) {
        if (PyBytes_CheckExact(tag) && view_of(name, &k->kind[k->n]) == OK) {
            k->tag[k->n++] = (View){PyBytes_AS_STRING(tag), PyBytes_GET_SIZE(tag)};
        }
    }
    return OK;
}

/* The identifier key of wire key w (after its first "~"): xxh3_64(tag + value), big-endian,
 * as evidence.wire_key_id; `again` strips a second "~" as wire_key_id does after
 * dict.fromkeys stripped the first (only the many-keys path of encode_pairs does). */
static int
key_digest(const Kinds *k, View w, int again, PyObject *key_id, unsigned char out[8])
{
    if (again && w.n && w.p[0] == '~') {
        w.p++;
        w.n--;
    }
    const char *colon = memchr(w.p, ':', (size_t)w.n); /* str.partition(":"): ASCII */
    View kind = {w.p, colon ? colon - w.p : w.n};
    View value = colon ? (View){colon + 1, w.n - kind.n - 1} : (View){"", 0};
    int i = 0;
    while (i < k->n && !(k->kind[i].n == kind.n && memcmp(k->kind[i].p, kind.p, kind.n) == 0)) {
        i++;
    }
    if (i == k->n) {
        return DECLINE; /* an unknown kind: a KeyError there */
    }
    Py_ssize_t len = k->tag[i].n + value.n;
    if (len <= XXH3_MAX_INPUT) {
        unsigned char in[XXH3_MAX_INPUT];
        memcpy(in, k->tag[i].p, (size_t)k->tag[i].n);
        memcpy(in + k->tag[i].n, value.p, (size_t)value.n);
        uint64_t h = xxh3_64(in, (size_t)len);
        for (int j = 0; j < 8; j++) {
            out[j] = (unsigned char)(h >> (56 - 8 * j));
        }
        return OK;
    }
    /* Longer (a long URL): xxhash's digest, as the Python path computes it. */
    PyObject *in = PyBytes_FromStringAndSize(NULL, len);
    if (in == NULL) {
        return FAIL;
    }
    memcpy(PyBytes_AS_STRING(in), k->tag[i].p, (size_t)k->tag[i].n);
    memcpy(PyBytes_AS_STRING(in) + k->tag[i].n, value.p, (size_t)value.n);
    PyObject *got = PyObject_CallOneArg(key_id, in);
    Py_DECREF(in);
    if (got == NULL) {
        PyErr_Clear();
        return DECLINE;
    }
    int rc = PyBytes_CheckExact(got) && PyBytes_GET_SIZE(got) == 8 ? OK : DECLINE;
    if (rc == OK) {
        memcpy(out, PyBytes_AS_STRING(got), 8);
    }
    Py_DECREF(got);
    return rc;
}

typedef struct {
    Rules rules;
    Kinds kinds;
    PyObject *key_id, *dumps;
    View sep;
    Buf blob;
    Buf bucket[BUCKETS];
    long long items[BUCKETS];
    long long events, size;
} Pairs;

static int
contains(const char *hay, Py_ssize_t n, View needle)
{
    for (Py_ssize_t i = 0; i + needle.n <= n; i++) {
        const char *p = memchr(hay + i, needle.p[0], (size_t)(n - needle.n - i + 1));
        if (p == NULL) {
            return 0;
        }
        i = p - hay;
        if (memcmp(p, needle.p, (size_t)needle.n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* File (key, blob) in the key's first-byte bucket: key SEP blob SEP (spill.encode_segment's
 * joined form). An item holding SEP would make the bucket framed: DECLINE (a key is 8 hash
 * bytes, a blob UTF-8, which never holds SEP's bytes). */
static int
file_pair(Pairs *p, const unsigned char key[8])
{
    if (contains((const char *)key, 8, p->sep)) {
        return DECLINE;
    }
    Buf *b = &p->bucket[key[0]];
    TRY(buf_reserve(b, 8 + p->blob.n + 2 * p->sep.n));
    memcpy(b->p + b->n, key, 8);
    memcpy(b->p + b->n + 8, p->sep.p, (size_t)p->sep.n);
    b->n += 8 + p->sep.n;
    memcpy(b->p + b->n, p->blob.p, (size_t)p->blob.n);
    memcpy(b->p + b->n + p->blob.n, p->sep.p, (size_t)p->sep.n);
    b->n += p->blob.n + p->sep.n;
    p->items[key[0]] += 2;
    p->size += p->blob.n;
    return OK;
}

/* One key of an event (the first "~" stripped), filed with the event's blob. */
static int
file_key(Pairs *p, View w, int again)
{
    unsigned char key[8];
    TRY(key_digest(&p->kinds, w, again, p->key_id, key));
    return file_pair(p, key);
}

/* `k[1:] if k[:1] == "~" else k`: an empty key stays empty (a KeyError later). */
static int
strip_once(PyObject *o, View *v)
{
    TRY(view_of(o, v));
    if (v->n && v->p[0] == '~') {
        v->p++;
        v->n--;
    }
    return OK;
}

/* The keys of a report naming several: distinct after the first "~", in order. */
static int
file_keys(Pairs *p, PyObject *keys)
{
    Py_ssize_t nk = PyTuple_GET_SIZE(keys);
    View small[32], *seen = small;
    if (nk > 32) {
        seen = PyMem_Malloc((size_t)nk * sizeof(View));
        if (seen == NULL) {
            PyErr_NoMemory();
            return FAIL;
        }
    }
    Py_ssize_t kept = 0;
    int rc = OK;
    for (Py_ssize_t i = 0; i < nk && rc == OK; i++) {
        View w;
        rc = strip_once(PyTuple_GET_ITEM(keys, i), &w);
        int dup = 0;
        for (Py_ssize_t j = 0; j < kept && rc == OK && !dup; j++) {
            dup = seen[j].n == w.n && memcmp(seen[j].p, w.p, (size_t)w.n) == 0;
        }
        if (rc == OK && !dup) {
            seen[kept++] = w;
            rc = file_key(p, w, 1);
        }
    }
    if (seen != small) {
        PyMem_Free(seen);
    }
    return rc;
}

/* Whether an event is kept (evidence.encode_pairs: every allow and delist event; reports
 * whose status counts and that are not dated before their window's start) and what it
 * names: *key, the one wire key of an allow or delist event (*keys NULL), or *keys, a
 * report's tuple of them. */
static int
kept_keys(Pairs *p, PyObject *ev, int *keep, PyObject **key, PyObject **keys)
{
    long long type, ts, src;
    const Rule *rule;
    Py_ssize_t n = PyTuple_GET_SIZE(ev);
    *keep = 1;
    *keys = NULL;
    if (n < 3) {
        return DECLINE;
    }
    TRY(i64_of(PyTuple_GET_ITEM(ev, 0), &type));
    if (type != EV_REPORT) {
        *key = PyTuple_GET_ITEM(ev, 2);
        return OK;
    }
    if (n < 8) {
        return DECLINE;
    }
    TRY(rule_for(&p->rules, ev, &rule, &src));
    TRY(i64_of(PyTuple_GET_ITEM(ev, 2), &ts));
    *keep = rule->flag && !(ts < rule->start && ts != NEVER);
    *keys = PyTuple_GET_ITEM(ev, 7);
    if (!PyTuple_CheckExact(*keys)) {
        return *keep ? DECLINE : OK;
    }
    if (PyTuple_GET_SIZE(*keys) == 1) { /* most reports: one key, nothing to de-duplicate */
        *key = PyTuple_GET_ITEM(*keys, 0);
        *keys = NULL;
    }
    return OK;
}

static int
pairs_event(Pairs *p, PyObject *ev)
{
    PyObject *key = NULL, *keys = NULL;
    int keep;
    if (!PyTuple_CheckExact(ev)) {
        return DECLINE;
    }
    TRY(kept_keys(p, ev, &keep, &key, &keys));
    if (!keep) {
        return OK;
    }
    TRY(json_event(&p->blob, ev, p->dumps));
    if (contains(p->blob.p, p->blob.n, p->sep)) {
        return DECLINE; /* (UTF-8 never holds SEP's bytes: only a caller's own sep could) */
    }
    p->events++;
    if (keys != NULL) {
        return file_keys(p, keys);
    }
    View w;
    TRY(strip_once(key, &w));
    return file_key(p, w, 0);
}

static int
pairs_all(Pairs *p, PyObject *events)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(events); i++) {
        PyObject *ev = Py_NewRef(PyList_GET_ITEM(events, i));
        int rc = pairs_event(p, ev);
        Py_DECREF(ev);
        TRY(rc);
    }
    return OK;
}

/* spill.Segments: [(bucket, (bytes, items, framed=False)), ...] of the non-empty buckets. */
static PyObject *
pairs_result(Pairs *p)
{
    PyObject *segs = PyList_New(0);
    for (int i = 0; segs != NULL && i < BUCKETS; i++) {
        if (p->items[i] == 0) {
            continue;
        }
        PyObject *seg = Py_BuildValue("(i(y#LO))", i, p->bucket[i].p, p->bucket[i].n,
                                      p->items[i], Py_False);
        if (seg == NULL || PyList_Append(segs, seg) < 0) {
            Py_XDECREF(seg);
            Py_CLEAR(segs);
            break;
        }
        Py_DECREF(seg);
    }
    if (segs == NULL) {
        return NULL;
    }
    return Py_BuildValue("(NLL)", segs, p->events, p->size);
}

/* Whether no proper suffix of sep is a prefix of it: then SEP occurrences in the joined
 * bucket are exactly the joints plus those inside items, and a bucket is framed only when
 * an item holds SEP (spill.encode_segment counts them). */
static int
unbordered(View sep)
{
    for (Py_ssize_t k = 1; k < sep.n; k++) {
        if (memcmp(sep.p, sep.p + sep.n - k, (size_t)k) == 0) {
            return 0;
        }
    }
    return sep.n > 0;
}

static PyObject *
rowsfast_encode_pairs(PyObject *module, PyObject *args)
{
    PyObject *events, *rules, *tags;
    Pairs *p = PyMem_Calloc(1, sizeof(Pairs)); /* 256 buffers: on the heap */
    if (p == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *out = NULL;
    if (!PyArg_ParseTuple(args, "OO!O!OOy#:encode_pairs", &events, &PyDict_Type, &rules,
                          &PyDict_Type, &tags, &p->key_id, &p->dumps, &p->sep.p, &p->sep.n)) {
        PyMem_Free(p);
        return NULL;
    }
    if (!PyList_CheckExact(events) || !unbordered(p->sep)) {
        PyMem_Free(p);
        Py_RETURN_NONE;
    }
    rules_of(rules, &p->rules);
    int rc = kinds_of(tags, &p->kinds);
    if (rc == OK) {
        rc = pairs_all(p, events);
    }
    out = rc == OK ? pairs_result(p) : rc == DECLINE ? Py_NewRef(Py_None) : NULL;
    Py_XDECREF(p->kinds.own);
    buf_free(&p->blob);
    for (int i = 0; i < BUCKETS; i++) {
        buf_free(&p->bucket[i]);
    }
    PyMem_Free(p);
    return out;
}

/* ---- the module ------------------------------------------------------------------- */

static PyMethodDef rowsfast_methods[] = {
    {"event_rows", rowsfast_event_rows, METH_VARARGS,
     "event_rows(events, rules, as_of, seq, bits, category_bit, provider_number, corroborate)"
     "\n--\n\n"
     "ooc.event_rows's text and tallies as (ev, ev_rows, li, counted, status_rejected, future, "
     "aged_out, categories, allow, delist), or None: take the Python path."},
    {"encode_pairs", rowsfast_encode_pairs, METH_VARARGS,
     "encode_pairs(events, rules, tags, key_id, dumps, sep)\n--\n\n"
     "evidence.encode_pairs's (segments, events, size), or None: take the Python path."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef rowsfast_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "scameter.ingest._rowsfast",
    .m_doc = "The parse workers' table rows and evidence in C (optional; scameter/ingest/ooc.py "
             "and evidence.py take their pure-Python paths without it).",
    .m_size = -1,
    .m_methods = rowsfast_methods,
};

PyMODINIT_FUNC
PyInit__rowsfast(void)
{
    return PyModule_Create(&rowsfast_module);
}
