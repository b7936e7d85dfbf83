/* scameter.index._speedups: the compiled hit path (issue 20), optional.
 *
 * Responsibility: one type, HitDecoder, whose from_record() turns a stored record of the
 * snapshot format 3.0 (scameter/index/format.py, docs/snapshot-format.md) into a Verdict for
 * the common case of a lookup hit: CRC-32 residue check, header and cluster unpack, the
 * per-shape traits memo lookup, canonical and owner decode, ISO times from the shared memo,
 * and the Verdict itself, filled slot by slot.
 *
 * Invariants:
 * - The pure-Python VerdictAssembler.from_record (scameter/index/assembly.py) is the
 *   reference. This code only answers the nominal case and hands every other call to it
 *   unchanged (the `fallback`, with the caller's own arguments): a traits memo miss, a
 *   record failing its CRC or table check, an unknown kind tag, any offset past the end of
 *   the record, invalid UTF-8, a non-bytes buffer, an unusual argument list. So every error
 *   (SnapshotCorrupt and its message above all) is raised by the Python code, and the
 *   answers of the two paths are the same by construction where they are not by test
 *   (tests/property/test_hitpath_props.py compares them field by field).
 * - The Verdict is allocated with its type's tp_alloc and its slots are stored through the
 *   offsets of the type's member descriptors, read once at construction; a Verdict whose
 *   slots are not exactly FIELD_NAMES below is refused there (TypeError), never guessed.
 * - No allocation beyond the ints and strings of the answer and the Verdict (and the memo key
 *   when the traits are not in the decoder's own table, below).
 * - Two small direct-mapped tables of the decoder's own answer the repeated parts of a hit
 *   without a dict probe or an allocation: record shape -> traits (the shared memo's entry,
 *   which is a pure function of the shape for one snapshot) and seconds -> ISO string (a pure
 *   function of the seconds). Each slot holds a reference to its value; a collision replaces
 *   the slot. They never answer differently from the shared dicts they front: the dicts fill
 *   them, and a value once computed never changes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <structmember.h>

#include "../_slot_offsets.h"

/* Record layout (format.py): HEADER "<BBBBBBIIIII", CLUSTER "<BIQ", CRC-32 at the end. */
#define HEADER_SIZE 26
#define CLUSTER_SIZE 13
#define BODY_PLAIN HEADER_SIZE
#define BODY_CLUSTERED (HEADER_SIZE + CLUSTER_SIZE)
#define OFF_COUNT 10
#define OFF_REPORTERS 14
#define OFF_FIRST 18
#define OFF_LAST 22
#define OFF_CLUSTER_SIZE (HEADER_SIZE + 1)
#define CRC_SIZE 4
#define CRC_RESIDUE 0x2144DF1Cu
#define VERIFIED_CODE 5
#define F_FIRST 0x02
#define F_LAST 0x04
#define F_CLUSTER 0x08
#define F_LISTING 0x10
#define F_OWNER 0x20

/* The fields of scameter.verdict.Verdict, in declaration order. */
static const char *const FIELD_NAMES[] = {
    "input",          "kind",          "canonical",   "level",        "reasons",
    "categories",     "report_count",  "reporters",   "first_reported", "last_reported",
    "matched",        "similar_to",    "cluster_size", "cluster_worst", "verified_owner",
    "snapshot",       "error",         "extra",       "case_ids",     "case_count",
};
enum {
    V_INPUT, V_KIND, V_CANONICAL, V_LEVEL, V_REASONS, V_CATEGORIES, V_REPORT_COUNT,
    V_REPORTERS, V_FIRST, V_LAST, V_MATCHED, V_SIMILAR, V_CLUSTER_SIZE, V_CLUSTER_WORST,
    V_OWNER, V_SNAPSHOT, V_ERROR, V_EXTRA, V_CASE_IDS, V_CASE_COUNT, N_FIELDS
};

/* CRC-32 (IEEE 802.3, reflected, as zlib.crc32), slicing by 8. */
static uint32_t crc_table[8][256];

static void
crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++) {
            uint32_t c = crc_table[t - 1][i];
            crc_table[t][i] = (c >> 8) ^ crc_table[0][c & 0xFF];
        }
    }
}

static inline uint32_t
rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline Py_ssize_t
rd16(const unsigned char *p)
{
    return (Py_ssize_t)(p[0] | p[1] << 8);
}

static uint32_t
crc32_of(const unsigned char *p, Py_ssize_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n >= 8) {
        uint32_t a = c ^ rd32(p);
        uint32_t b = rd32(p + 4);
        c = crc_table[7][a & 0xFF] ^ crc_table[6][(a >> 8) & 0xFF] ^
            crc_table[5][(a >> 16) & 0xFF] ^ crc_table[4][a >> 24] ^
            crc_table[3][b & 0xFF] ^ crc_table[2][(b >> 8) & 0xFF] ^
            crc_table[1][(b >> 16) & 0xFF] ^ crc_table[0][b >> 24];
        p += 8;
        n -= 8;
    }
    while (n-- > 0) {
        c = (c >> 8) ^ crc_table[0][(c ^ *p++) & 0xFF];
    }
    return c ^ 0xFFFFFFFFu;
}

/* The decoder's own tables (module comment): sizes are powers of two. */
#define TRAIT_SLOTS 256
#define MEMO_CAP 24 /* longer memo keys (many reasons or categories) use the shared dict only */
#define ISO_SLOTS 1024
#define ISO_SHIFT 22 /* 32 - log2(ISO_SLOTS) */

typedef struct {
    Py_ssize_t len; /* 0: empty */
    unsigned char memo[MEMO_CAP];
    PyObject *traits;
} TraitSlot;

typedef struct {
    uint32_t seconds;
    PyObject *text; /* NULL: empty */
} IsoSlot;

typedef struct {
    PyObject_HEAD
    PyTypeObject *verdict_type;
    Py_ssize_t offsets[N_FIELDS];
    PyObject *no_extra;
    PyObject *kind_values; /* tuple of 256: the kind value of a tag, or None */
    PyObject *trait_cache; /* dict: memo key bytes -> (level, reasons, cats, cluster worst) */
    PyObject *iso_cache;   /* dict: u32 seconds -> ISO string */
    PyObject *iso_utc;     /* callable: seconds -> ISO string (fills iso_cache) */
    PyObject *snapshot_id;
    PyObject *fallback;    /* the pure from_record, same signature */
    TraitSlot traits[TRAIT_SLOTS];
    IsoSlot isos[ISO_SLOTS];
} HitDecoder;

static void
clear_tables(HitDecoder *self)
{
    for (int i = 0; i < TRAIT_SLOTS; i++) {
        self->traits[i].len = 0;
        Py_CLEAR(self->traits[i].traits);
    }
    for (int i = 0; i < ISO_SLOTS; i++) {
        Py_CLEAR(self->isos[i].text);
    }
}

static PyObject *str_canonical, *str_kind, *str_matched, *str_allowed;

static int
HitDecoder_init(HitDecoder *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"verdict_type", "no_extra",  "kind_values", "trait_cache",
                             "iso_cache",    "iso_utc",   "snapshot_id", "fallback", NULL};
    PyObject *vt, *no_extra, *kinds, *traits, *iso, *iso_utc, *sid, *fallback;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!OO!O!O!OOO:HitDecoder", kwlist,
                                     &PyType_Type, &vt, &no_extra, &PyTuple_Type, &kinds,
                                     &PyDict_Type, &traits, &PyDict_Type, &iso, &iso_utc, &sid,
                                     &fallback)) {
        return -1;
    }
    if (PyTuple_GET_SIZE(kinds) != 256) {
        PyErr_SetString(PyExc_ValueError, "HitDecoder: kind_values must have 256 entries");
        return -1;
    }
    if (!PyCallable_Check(iso_utc) || !PyCallable_Check(fallback)) {
        PyErr_SetString(PyExc_TypeError, "HitDecoder: iso_utc and fallback must be callable");
        return -1;
    }
    if (slot_offsets((PyTypeObject *)vt, FIELD_NAMES, N_FIELDS, self->offsets,
                     "HitDecoder", "scameter.index._speedups") < 0) {
        return -1;
    }
    Py_INCREF(vt);
    Py_XSETREF(self->verdict_type, (PyTypeObject *)vt);
    Py_INCREF(no_extra);
    Py_XSETREF(self->no_extra, no_extra);
    Py_INCREF(kinds);
    Py_XSETREF(self->kind_values, kinds);
    Py_INCREF(traits);
    Py_XSETREF(self->trait_cache, traits);
    Py_INCREF(iso);
    Py_XSETREF(self->iso_cache, iso);
    Py_INCREF(iso_utc);
    Py_XSETREF(self->iso_utc, iso_utc);
    Py_INCREF(sid);
    Py_XSETREF(self->snapshot_id, sid);
    Py_INCREF(fallback);
    Py_XSETREF(self->fallback, fallback);
    clear_tables(self); /* __init__ called again (another snapshot's memo): start empty */
    return 0;
}

static int
HitDecoder_traverse(HitDecoder *self, visitproc visit, void *arg)
{
    Py_VISIT(self->verdict_type);
    Py_VISIT(self->no_extra);
    Py_VISIT(self->kind_values);
    Py_VISIT(self->trait_cache);
    Py_VISIT(self->iso_cache);
    Py_VISIT(self->iso_utc);
    Py_VISIT(self->snapshot_id);
    Py_VISIT(self->fallback);
    for (int i = 0; i < TRAIT_SLOTS; i++) {
        Py_VISIT(self->traits[i].traits);
    }
    return 0;
}

static int
HitDecoder_clear(HitDecoder *self)
{
    Py_CLEAR(self->verdict_type);
    Py_CLEAR(self->no_extra);
    Py_CLEAR(self->kind_values);
    Py_CLEAR(self->trait_cache);
    Py_CLEAR(self->iso_cache);
    Py_CLEAR(self->iso_utc);
    Py_CLEAR(self->snapshot_id);
    Py_CLEAR(self->fallback);
    clear_tables(self);
    return 0;
}

static void
HitDecoder_dealloc(HitDecoder *self)
{
    PyObject_GC_UnTrack(self);
    HitDecoder_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The ISO string of ``seconds``: the decoder's table, else the shared memo, else iso_utc()
 * (which fills it). New reference, NULL with an exception set. */
static PyObject *
iso_time(HitDecoder *self, uint32_t seconds)
{
    uint32_t at = (seconds * 2654435761u) >> ISO_SHIFT; /* Knuth's multiplicative hash */
    if (self->isos[at].text != NULL && self->isos[at].seconds == seconds) {
        return Py_NewRef(self->isos[at].text);
    }
    PyObject *key = PyLong_FromUnsignedLong(seconds);
    if (key == NULL) {
        return NULL;
    }
    PyObject *s = PyDict_GetItemWithError(self->iso_cache, key);
    if (s != NULL && PyObject_IsTrue(s) == 1) {
        Py_INCREF(s);
    }
    else if (PyErr_Occurred()) {
        s = NULL;
    }
    else {
        s = PyObject_CallOneArg(self->iso_utc, key);
    }
    Py_DECREF(key);
    if (s != NULL && PyUnicode_CheckExact(s)) {
        Py_XSETREF(self->isos[at].text, Py_NewRef(s));
        self->isos[at].seconds = seconds;
    }
    return s;
}

/* FNV-1a of a memo key: its slot in the decoder's traits table. */
static inline Py_ssize_t
memo_slot(const unsigned char *m, Py_ssize_t n)
{
    uint32_t h = 2166136261u;
    for (Py_ssize_t i = 0; i < n; i++) {
        h = (h ^ m[i]) * 16777619u;
    }
    return (Py_ssize_t)((h ^ (h >> 16)) & (TRAIT_SLOTS - 1));
}

/* Decoded UTF-8 of ``ln`` bytes at ``p``; NULL *without* an exception when they are not
 * valid UTF-8 (the caller then falls back to the pure path, which raises its own error). */
static PyObject *
utf8_or_fallback(const char *p, Py_ssize_t ln)
{
    PyObject *s = PyUnicode_DecodeUTF8(p, ln, "strict");
    if (s == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        PyErr_Clear();
    }
    return s;
}

#define SET(field, value) (*(PyObject **)((char *)v + self->offsets[field]) = (value))

/* A new Verdict from the decoded values (steals every argument but traits' items). */
static PyObject *
make_verdict(HitDecoder *self, PyObject *raw, PyObject *kind, PyObject *canonical,
             PyObject *traits, PyObject *count, PyObject *reporters, PyObject *first,
             PyObject *last, PyObject *matched, PyObject *csize, PyObject *owner)
{
    PyObject *v = self->verdict_type->tp_alloc(self->verdict_type, 0);
    if (v == NULL) {
        Py_DECREF(canonical);
        Py_DECREF(count);
        Py_DECREF(reporters);
        Py_DECREF(first);
        Py_DECREF(last);
        Py_DECREF(csize);
        Py_DECREF(owner);
        return NULL;
    }
    Py_INCREF(raw);
    SET(V_INPUT, raw);
    Py_INCREF(kind);
    SET(V_KIND, kind);
    SET(V_CANONICAL, canonical);
    for (int i = 0; i < 4; i++) {
        Py_INCREF(PyTuple_GET_ITEM(traits, i));
    }
    SET(V_LEVEL, PyTuple_GET_ITEM(traits, 0));
    SET(V_REASONS, PyTuple_GET_ITEM(traits, 1));
    SET(V_CATEGORIES, PyTuple_GET_ITEM(traits, 2));
    SET(V_CLUSTER_WORST, PyTuple_GET_ITEM(traits, 3));
    SET(V_REPORT_COUNT, count);
    SET(V_REPORTERS, reporters);
    SET(V_FIRST, first);
    SET(V_LAST, last);
    Py_INCREF(matched);
    SET(V_MATCHED, matched);
    Py_INCREF(Py_None);
    SET(V_SIMILAR, Py_None);
    SET(V_CLUSTER_SIZE, csize);
    SET(V_OWNER, owner);
    Py_INCREF(self->snapshot_id);
    SET(V_SNAPSHOT, self->snapshot_id);
    Py_INCREF(Py_None);
    SET(V_ERROR, Py_None);
    Py_INCREF(self->no_extra);
    SET(V_EXTRA, self->no_extra);
    SET(V_CASE_IDS, PyTuple_New(0)); /* the shared empty tuple: cannot fail */
    SET(V_CASE_COUNT, PyLong_FromLong(0)); /* a cached small int: cannot fail */
    return v;
}

/* Keyword arguments of from_record: 0 when all were understood, -1 when the call must go
 * to the fallback (an unknown keyword, ``allowed`` not a bool). */
static int
parse_keywords(PyObject *const *kwvalues, PyObject *kwnames, PyObject **canonical,
               PyObject **kind, PyObject **matched, int *allowed)
{
    Py_ssize_t nk = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t i = 0; i < nk; i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        PyObject *value = kwvalues[i];
        if (name == str_canonical || PyUnicode_Compare(name, str_canonical) == 0) {
            *canonical = value;
        }
        else if (name == str_kind || PyUnicode_Compare(name, str_kind) == 0) {
            *kind = value;
        }
        else if (name == str_matched || PyUnicode_Compare(name, str_matched) == 0) {
            *matched = value;
        }
        else if (name == str_allowed || PyUnicode_Compare(name, str_allowed) == 0) {
            if (value != Py_True && value != Py_False) {
                return -1;
            }
            *allowed = value == Py_True;
        }
        else {
            return -1;
        }
    }
    return 0;
}

/* Write the traits memo key of a record (VerdictAssembler.from_record: the level, flags and
 * counts, the cluster's worst level, the reason and category ids) to m, which has room for
 * memo_len() bytes. */
static void
fill_memo(char *m, const unsigned char *p, int clustered, Py_ssize_t start, Py_ssize_t n_ids)
{
    Py_ssize_t extra = clustered ? 1 : 0;
    memcpy(m, p + 1, 5);
    if (clustered) {
        m[5] = (char)p[BODY_PLAIN];
    }
    memcpy(m + 5 + extra, p + start, 2 * n_ids);
}

/* The traits of a record's shape (borrowed), from the decoder's table or the shared memo
 * (which then fills the table); NULL with an exception set, or NULL without one when the
 * shape is not memoised yet or its entry is not a 4-tuple (the caller falls back). */
static PyObject *
shape_traits(HitDecoder *self, const unsigned char *p, int clustered, Py_ssize_t start,
             Py_ssize_t n_ids)
{
    Py_ssize_t len = 5 + (clustered ? 1 : 0) + 2 * n_ids;
    char local[MEMO_CAP];
    TraitSlot *slot = NULL;
    if (len <= MEMO_CAP) {
        fill_memo(local, p, clustered, start, n_ids);
        slot = &self->traits[memo_slot((const unsigned char *)local, len)];
        if (slot->len == len && memcmp(slot->memo, local, len) == 0) {
            return slot->traits;
        }
    }
    PyObject *memo = PyBytes_FromStringAndSize(NULL, len);
    if (memo == NULL) {
        return NULL;
    }
    fill_memo(PyBytes_AS_STRING(memo), p, clustered, start, n_ids);
    PyObject *traits = PyDict_GetItemWithError(self->trait_cache, memo);
    Py_DECREF(memo);
    if (traits == NULL || !PyTuple_CheckExact(traits) || PyTuple_GET_SIZE(traits) != 4) {
        return NULL;
    }
    if (slot != NULL) {
        Py_XSETREF(slot->traits, Py_NewRef(traits));
        memcpy(slot->memo, local, len);
        slot->len = len;
    }
    return traits;
}

static PyObject *
HitDecoder_from_record(HitDecoder *self, PyObject *const *args, Py_ssize_t nargs,
                       PyObject *kwnames)
{
    PyObject *canonical = Py_None, *kind = Py_None, *matched = Py_None;
    int allowed = 0;
    if (self->fallback == NULL) {
        PyErr_SetString(PyExc_TypeError, "HitDecoder.from_record: __init__ was not called");
        return NULL;
    }
    if (nargs != 2 || !PyBytes_CheckExact(args[1]) ||
        parse_keywords(args + nargs, kwnames, &canonical, &kind, &matched, &allowed) < 0) {
        goto fallback;
    }
    PyObject *raw = args[0];
    const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(args[1]);
    Py_ssize_t n = PyBytes_GET_SIZE(args[1]);
    /* The body ends before the CRC: every read below stays inside it, else fallback. */
    Py_ssize_t end = n - CRC_SIZE;
    if (end < HEADER_SIZE || crc32_of(p, n) != CRC_RESIDUE ||
        (p[1] == VERIFIED_CODE) != allowed) {
        goto fallback;
    }
    int flags = p[2];
    Py_ssize_t nr = p[3], nc = p[4], ns = p[5];
    int clustered = (flags & F_CLUSTER) != 0;
    Py_ssize_t start = clustered ? BODY_CLUSTERED : BODY_PLAIN;
    Py_ssize_t pos = start + 2 * (nr + nc + ns);
    if (pos + 2 > end) {
        goto fallback;
    }
    PyObject *traits = shape_traits(self, p, clustered, start, nr + nc);
    if (traits == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        goto fallback; /* a new shape: the pure path computes and memoises its traits */
    }
    /* Held: iso_utc below runs Python code, during which another thread may clear the memo. */
    Py_INCREF(traits);
    Py_ssize_t ln = rd16(p + pos);
    if (pos + 2 + ln > end) {
        goto release_fallback;
    }
    Py_ssize_t opos = 0, oln = 0;
    if (flags & F_OWNER) {
        opos = pos + 2 + ln;
        if (flags & F_LISTING) {
            if (opos + 2 > end) {
                goto release_fallback;
            }
            opos += 2 + rd16(p + opos);
        }
        if (opos + 2 > end || opos + 2 + (oln = rd16(p + opos)) > end) {
            goto release_fallback;
        }
    }
    if (kind == Py_None) {
        kind = PyTuple_GET_ITEM(self->kind_values, p[0]);
        if (kind == Py_None) {
            goto release_fallback; /* an unknown kind tag: the pure path raises SnapshotCorrupt */
        }
    }
    /* Every check passed: from here on, only the answer's own values are built. */
    PyObject *canon = NULL, *owner = NULL, *first = NULL, *last = NULL;
    PyObject *count = NULL, *reporters = NULL, *csize = NULL;
    if (canonical == Py_None) {
        canon = utf8_or_fallback((const char *)p + pos + 2, ln);
    }
    else {
        canon = Py_NewRef(canonical);
    }
    if (canon == NULL) {
        goto fail_or_fallback;
    }
    owner = (flags & F_OWNER) ? utf8_or_fallback((const char *)p + opos + 2, oln)
                              : Py_NewRef(Py_None);
    if (owner == NULL) {
        goto fail_or_fallback;
    }
    first = (flags & F_FIRST) ? iso_time(self, rd32(p + OFF_FIRST)) : Py_NewRef(Py_None);
    last = (flags & F_LAST) ? iso_time(self, rd32(p + OFF_LAST)) : Py_NewRef(Py_None);
    count = PyLong_FromUnsignedLong(rd32(p + OFF_COUNT));
    reporters = PyLong_FromUnsignedLong(rd32(p + OFF_REPORTERS));
    csize = PyLong_FromUnsignedLong(clustered ? rd32(p + OFF_CLUSTER_SIZE) : 0);
    if (first == NULL || last == NULL || count == NULL || reporters == NULL || csize == NULL) {
        goto fail_or_fallback;
    }
    PyObject *v = make_verdict(self, raw, kind, canon, traits, count, reporters, first, last,
                               matched, csize, owner);
    Py_DECREF(traits);
    return v;

fail_or_fallback:
    /* An exception set: a real failure (memory, iso_utc), raised as it is. None set:
     * invalid UTF-8, which the pure path reports in its own words. */
    Py_XDECREF(canon);
    Py_XDECREF(owner);
    Py_XDECREF(first);
    Py_XDECREF(last);
    Py_XDECREF(count);
    Py_XDECREF(reporters);
    Py_XDECREF(csize);
    if (PyErr_Occurred()) {
        Py_DECREF(traits);
        return NULL;
    }
release_fallback:
    Py_DECREF(traits);
fallback:
    return PyObject_Vectorcall(self->fallback, args, nargs, kwnames);
}

static PyMethodDef HitDecoder_methods[] = {
    {"from_record", (PyCFunction)(void (*)(void))HitDecoder_from_record,
     METH_FASTCALL | METH_KEYWORDS,
     "from_record(raw, buf, *, canonical=None, kind=None, matched=None, allowed=False)\n--\n\n"
     "The Verdict of a stored record: the same answer (and the same errors) as the pure\n"
     "VerdictAssembler.from_record, which is called for anything but the nominal hit."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject HitDecoderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "scameter.index._speedups.HitDecoder",
    .tp_doc = PyDoc_STR(
        "HitDecoder(verdict_type, no_extra, kind_values, trait_cache, iso_cache, iso_utc,\n"
        "           snapshot_id, fallback)\n\n"
        "The compiled hit path of one VerdictAssembler: see scameter/index/assembly.py."),
    .tp_basicsize = sizeof(HitDecoder),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)HitDecoder_init,
    .tp_dealloc = (destructor)HitDecoder_dealloc,
    .tp_traverse = (traverseproc)HitDecoder_traverse,
    .tp_clear = (inquiry)HitDecoder_clear,
    .tp_methods = HitDecoder_methods,
};

static PyObject *
speedups_crc32(PyObject *Py_UNUSED(module), PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    uint32_t c = crc32_of((const unsigned char *)view.buf, view.len);
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(c);
}

/* ---- Batch loops (scameter/index/batchloops.py) -----------------------------------------
 *
 * Two loops of the batch path, one call per batch instead of one Python iteration per row:
 * decode_hits() (the plain hits of a batch through from_record, the collision and derivation
 * checks) and no_records() (the NO RECORD verdicts of a batch's plain misses). Their pure
 * twins in batchloops.py are the reference: same arguments, same result, same exceptions
 * (tests/unit/index/test_batchloops.py and tests/property/test_batch_properties.py run both).
 * Nothing here is specific to the record format: decode_hits calls the from_record it is
 * given (the HitDecoder's, or the pure one).
 */

static PyObject *str_canonical_attr, *str_kind_attr;

/* The Verdict type decode_hits last learnt the layout of, and its canonical and kind slots:
 * a verdict of that exact type has them read in place; any other through getattr. */
static PyTypeObject *dh_type;
static Py_ssize_t dh_canonical, dh_kind;

/* v.canonical or v.kind (``slot``, ``name``), a new reference; NULL with an exception. */
static PyObject *
verdict_field(PyObject *v, Py_ssize_t slot, PyObject *name)
{
    if (Py_TYPE(v) == dh_type) {
        PyObject *value = *(PyObject **)((char *)v + slot);
        if (value != NULL) {
            return Py_NewRef(value);
        }
    }
    return PyObject_GetAttr(v, name);
}

/* Learn the slots of ``type`` if it has Verdict's layout (no error when it has not). */
static int
learn_verdict_type(PyTypeObject *type)
{
    Py_ssize_t offsets[N_FIELDS];
    if (slot_offsets(type, FIELD_NAMES, N_FIELDS, offsets, "decode_hits",
                     "scameter.index._speedups") < 0) {
        if (!PyErr_ExceptionMatches(PyExc_TypeError) &&
            !PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return -1;
        }
        PyErr_Clear();
        return 0;
    }
    Py_INCREF(type);
    Py_XSETREF(dh_type, type);
    dh_canonical = offsets[V_CANONICAL];
    dh_kind = offsets[V_KIND];
    return 0;
}

/* decode_hits(from_record, rows, bufs, raws, canonicals, verdicts, deriving) -> list[int]
 * (batchloops.decode_hits_python). */
static PyObject *
batch_decode_hits(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 7) {
        PyErr_Format(PyExc_TypeError, "decode_hits() takes 7 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *from_record = args[0], *rows = args[1], *bufs = args[2];
    PyObject *canonicals = args[4], *verdicts = args[5], *deriving = args[6];
    if (!PyList_CheckExact(rows) || !PyList_CheckExact(bufs) || !PyList_CheckExact(canonicals) ||
        !PyList_CheckExact(verdicts) || !PyAnySet_Check(deriving)) {
        PyErr_SetString(PyExc_TypeError,
                        "decode_hits(): rows, bufs, canonicals and verdicts must be lists, "
                        "deriving a set");
        return NULL;
    }
    if (PyList_GET_SIZE(rows) != PyList_GET_SIZE(bufs)) {
        PyErr_SetString(PyExc_ValueError, "decode_hits(): rows and bufs differ in length");
        return NULL;
    }
    PyObject *raws = PySequence_Fast(args[3], "decode_hits(): raws must be a sequence");
    if (raws == NULL) {
        return NULL;
    }
    PyObject *rest = PyList_New(0);
    if (rest == NULL) {
        Py_DECREF(raws);
        return NULL;
    }
    Py_ssize_t n_raws = PySequence_Fast_GET_SIZE(raws);
    for (Py_ssize_t j = 0; j < PyList_GET_SIZE(rows); j++) {
        PyObject *row = PyList_GET_ITEM(rows, j);
        Py_ssize_t i = PyLong_AsSsize_t(row);
        if (i == -1 && PyErr_Occurred()) {
            goto fail;
        }
        if (i < 0 || i >= n_raws) {
            PyErr_SetString(PyExc_IndexError, "decode_hits(): row out of range");
            goto fail;
        }
        PyObject *buf = PyList_GET_ITEM(bufs, j);
        if (buf == Py_None) {
            if (PyList_Append(rest, row) < 0) {
                goto fail;
            }
            continue;
        }
        PyObject *call[2] = {PySequence_Fast_GET_ITEM(raws, i), buf};
        PyObject *v = PyObject_Vectorcall(from_record, call, 2, NULL);
        if (v == NULL) {
            goto fail;
        }
        /* Checked after the call, which runs Python code where it falls back. */
        if (i >= PyList_GET_SIZE(canonicals) || i >= PyList_GET_SIZE(verdicts)) {
            Py_DECREF(v);
            PyErr_SetString(PyExc_IndexError, "decode_hits(): row out of range");
            goto fail;
        }
        /* v.canonical == canonicals[i] and v.kind not in deriving (the pure loop's test,
         * in its order: the canonical first). */
        if (Py_TYPE(v) != dh_type && learn_verdict_type(Py_TYPE(v)) < 0) {
            Py_DECREF(v);
            goto fail;
        }
        PyObject *canon = verdict_field(v, dh_canonical, str_canonical_attr);
        int keep = canon == NULL ? -1
                                 : PyObject_RichCompareBool(canon, PyList_GET_ITEM(canonicals, i),
                                                            Py_EQ);
        Py_XDECREF(canon);
        if (keep == 1) {
            PyObject *kind = verdict_field(v, dh_kind, str_kind_attr);
            int derives = kind == NULL ? -1 : PySet_Contains(deriving, kind);
            Py_XDECREF(kind);
            keep = derives < 0 ? -1 : !derives;
        }
        if (keep < 0) {
            Py_DECREF(v);
            goto fail;
        }
        if (keep) {
            /* The list is the caller's: another reference to it may read this slot. */
            PyObject *old = PyList_GET_ITEM(verdicts, i);
            PyList_SET_ITEM(verdicts, i, v);
            Py_DECREF(old);
        }
        else {
            Py_DECREF(v);
            if (PyList_Append(rest, row) < 0) {
                goto fail;
            }
        }
    }
    Py_DECREF(raws);
    return rest;

fail:
    Py_DECREF(raws);
    Py_DECREF(rest);
    return NULL;
}

/* The slots no_records() fills, and their offsets in the last verdict type it was given. */
enum { NR_INPUT, NR_KIND, NR_CANONICAL, NR_REASONS, NR_SNAPSHOT, NR_FIELDS };
static const int NR_SLOT[NR_FIELDS] = {V_INPUT, V_KIND, V_CANONICAL, V_REASONS, V_SNAPSHOT};
static PyTypeObject *nr_verdict_type, *nr_type;
static Py_ssize_t nr_offsets[NR_FIELDS];

/* Check (once per pair of types) that ``cls`` is a subclass of ``verdict_type`` with its
 * layout and no slots of its own, and read the offsets of the five slots filled. */
static int
no_record_layout(PyTypeObject *verdict_type, PyTypeObject *cls)
{
    if (verdict_type == nr_verdict_type && cls == nr_type) {
        return 0;
    }
    Py_ssize_t offsets[N_FIELDS];
    if (slot_offsets(verdict_type, FIELD_NAMES, N_FIELDS, offsets, "no_records",
                     "scameter.index._speedups") < 0) {
        return -1;
    }
    if (!PyType_IsSubtype(cls, verdict_type) || cls->tp_basicsize != verdict_type->tp_basicsize ||
        cls->tp_itemsize != 0) {
        PyErr_Format(PyExc_TypeError, "no_records: %s is not a %s of the same layout",
                     cls->tp_name, verdict_type->tp_name);
        return -1;
    }
    for (int f = 0; f < NR_FIELDS; f++) {
        nr_offsets[f] = offsets[NR_SLOT[f]];
    }
    Py_INCREF(verdict_type);
    Py_XSETREF(nr_verdict_type, verdict_type);
    Py_INCREF(cls);
    Py_XSETREF(nr_type, cls);
    return 0;
}

/* no_records(verdicts, inputs, kinds, canonicals, reasons, snapshot, verdict_type, cls)
 * -> list (verdict.with_no_records; ``cls``: the class make_no_record builds). */
static PyObject *
batch_no_records(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 8) {
        PyErr_Format(PyExc_TypeError, "no_records() takes 8 arguments (%zd given)", nargs);
        return NULL;
    }
    if (!PyType_Check(args[6]) || !PyType_Check(args[7])) {
        PyErr_SetString(PyExc_TypeError, "no_records(): verdict_type and cls must be types");
        return NULL;
    }
    PyTypeObject *cls = (PyTypeObject *)args[7];
    if (no_record_layout((PyTypeObject *)args[6], cls) < 0) {
        return NULL;
    }
    PyObject *cols[4] = {NULL, NULL, NULL, NULL};
    PyObject *out = NULL;
    for (int c = 0; c < 4; c++) {
        cols[c] = PySequence_Fast(args[c], "no_records(): the columns must be sequences");
        if (cols[c] == NULL) {
            goto done;
        }
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(cols[0]);
    for (int c = 1; c < 4; c++) {
        if (PySequence_Fast_GET_SIZE(cols[c]) != n) {
            PyErr_SetString(PyExc_ValueError, "no_records(): columns of different lengths");
            goto done;
        }
    }
    PyObject *reasons = args[4], *snapshot = args[5];
    out = PyList_New(n);
    if (out == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *found = PySequence_Fast_GET_ITEM(cols[0], i);
        if (found != Py_None) {
            PyList_SET_ITEM(out, i, Py_NewRef(found));
            continue;
        }
        PyObject *m = cls->tp_alloc(cls, 0);
        if (m == NULL) {
            Py_CLEAR(out);
            goto done;
        }
        PyObject *values[NR_FIELDS] = {
            PySequence_Fast_GET_ITEM(cols[1], i), PySequence_Fast_GET_ITEM(cols[2], i),
            PySequence_Fast_GET_ITEM(cols[3], i), reasons, snapshot,
        };
        for (int f = 0; f < NR_FIELDS; f++) {
            *(PyObject **)((char *)m + nr_offsets[f]) = Py_NewRef(values[f]);
        }
        PyList_SET_ITEM(out, i, m);
    }
done:
    for (int c = 0; c < 4; c++) {
        Py_XDECREF(cols[c]);
    }
    return out;
}

/* ---- end of the batch loops ------------------------------------------------------------- */

static PyMethodDef module_methods[] = {
    {"crc32", speedups_crc32, METH_O,
     "crc32(data)\n--\n\nCRC-32 of a bytes-like object, as zlib.crc32(data) (for tests)."},
    /* The batch loops (the block above). */
    {"decode_hits", (PyCFunction)(void (*)(void))batch_decode_hits, METH_FASTCALL,
     "decode_hits(from_record, rows, bufs, raws, canonicals, verdicts, deriving)\n--\n\n"
     "The plain hits of a batch (scameter/index/batchloops.py, decode_hits_python)."},
    {"no_records", (PyCFunction)(void (*)(void))batch_no_records, METH_FASTCALL,
     "no_records(verdicts, inputs, kinds, canonicals, reasons, snapshot, verdict_type, cls)"
     "\n--\n\nEvery plain miss's NO RECORD verdict (verdict.with_no_records)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "scameter.index._speedups",
    .m_doc = "The compiled hit path of scameter (optional; scameter/index/assembly.py falls "
             "back to pure Python without it).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    crc_init();
    str_canonical = PyUnicode_InternFromString("canonical");
    str_kind = PyUnicode_InternFromString("kind");
    str_matched = PyUnicode_InternFromString("matched");
    str_allowed = PyUnicode_InternFromString("allowed");
    if (!str_canonical || !str_kind || !str_matched || !str_allowed) {
        return NULL;
    }
    /* The batch loops' attribute names (the block "Batch loops"). */
    str_canonical_attr = PyUnicode_InternFromString("canonical");
    str_kind_attr = PyUnicode_InternFromString("kind");
    if (!str_canonical_attr || !str_kind_attr) {
        return NULL;
    }
    if (PyType_Ready(&HitDecoderType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&speedups_module);
    if (m == NULL) {
        return NULL;
    }
    Py_INCREF(&HitDecoderType);
    if (PyModule_AddObject(m, "HitDecoder", (PyObject *)&HitDecoderType) < 0) {
        Py_DECREF(&HitDecoderType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
