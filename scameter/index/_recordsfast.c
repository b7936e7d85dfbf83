/* scameter.index._recordsfast: the compiled loops of a snapshot build (issue 21), optional.
 *
 * Responsibility: four functions. pack_records() is the per-record work of
 * scameter/index/writers.py::write_records over a run of sorted (sort key, record) pairs:
 * the duplicate and 64-bit collision checks, the case ids moved out of the record, the
 * ordinal and the cluster block patched in, the CRC-32 appended, and everything the rest of
 * the build needs from the record appended to the caller's pending batch (a
 * writers._Pending): the LMDB items, the table bytes, the ordinal-chunk entries, the sealed
 * case blocks, and the record's ordinal (u32, little-endian) under its shape, its label block
 * and its cluster, for the bitmaps. group_pairs() sorts and groups one bucket of the
 * evidence sorter (writers._evidence_items); partition() splits a sorter's buffer into its
 * bucket lists when it spills (spill.py); pack_record() packs a record as the feed adds it
 * (format.pack_record).
 *
 * Invariants:
 * - writers.pack_records_python is the reference: same pending batch, same state, same
 *   exceptions (ValueError for a duplicate, KeyError for an unknown cluster), byte for byte;
 *   writers.group_pairs_python is group_pairs()'s, which answers None (the reference then
 *   runs) for anything but 8-byte keys and bytes values; spill.py's _by_first_byte,
 *   _by_splitters and their pair forms are partition()'s; format.pack_record_python is
 *   pack_record()'s, and answers every call the C code does not take as nominal
 *   (tests/unit/index/test_records_compiled.py compares them with hypothesis).
 * - The record layout is format.py's (HEADER "<BBBBBBIIIII", CLUSTER "<BIQ", CRC-32 last);
 *   LAYOUT below is checked against format.py at import, and a mismatch makes writers.py use
 *   the Python loop (never a guess).
 * - A record too short for what its header says is refused (ValueError), never read past.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_SIZE 26
#define CLUSTER_SIZE 13
#define BODY_PLAIN HEADER_SIZE
#define BODY_CLUSTERED (HEADER_SIZE + CLUSTER_SIZE)
#define OFF_ORDINAL 6
#define OFF_CLUSTER_WORST HEADER_SIZE
#define OFF_CLUSTER_SIZE (HEADER_SIZE + 1)
#define OFF_CLUSTER_ID (HEADER_SIZE + 5)
#define CRC_SIZE 4
#define F_CLUSTER 0x08
#define F_LISTING 0x10
#define F_OWNER 0x20
#define F_CASES 0x40
#define F_SIDE_CASES 0x80
#define KEY_SIZE 8
#define HEAD_SIZE (KEY_SIZE + 1) /* key + table byte */

/* CRC-32 (zlib's: reflected 0xEDB88320), slicing by 8: zlib's own C API is not part of
 * CPython's, and linking libz would add a build dependency for a 40-line function. */
static uint32_t crc_table[8][256];

static void
crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = crc_table[0][i];
        for (int t = 1; t < 8; t++) {
            c = crc_table[0][c & 0xFF] ^ (c >> 8);
            crc_table[t][i] = c;
        }
    }
}

static uint32_t
crc32_of(const unsigned char *p, Py_ssize_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n >= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                           (uint32_t)p[3] << 24);
        uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
                      (uint32_t)p[7] << 24;
        c = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
            crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^
            crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
            crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n-- > 0)
        c = crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static void
put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint64_t
get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Offset of the inline case block (format.py::_cases_offset), or -1 past the end. */
static Py_ssize_t
cases_offset(const unsigned char *v, Py_ssize_t n)
{
    unsigned flags = v[2];
    Py_ssize_t pos = ((flags & F_CLUSTER) ? BODY_CLUSTERED : BODY_PLAIN) +
                     2 * ((Py_ssize_t)v[3] + v[4] + v[5]);
    int strings = 1 + !!(flags & F_LISTING) + !!(flags & F_OWNER);
    for (int s = 0; s < strings; s++) {
        if (pos + 2 > n)
            return -1;
        pos += 2 + (v[pos] | v[pos + 1] << 8);
    }
    return pos <= n ? pos : -1;
}

/* Append the 4 bytes of `ord` to the bytearray under `key` in `map` (made on first sight). */
static int
add_ordinal(PyObject *map, PyObject *key, const unsigned char ord[4])
{
    PyObject *sink = PyDict_GetItemWithError(map, key); /* borrowed */
    if (sink == NULL) {
        if (PyErr_Occurred())
            return -1;
        sink = PyByteArray_FromStringAndSize((const char *)ord, 4);
        if (sink == NULL)
            return -1;
        int rc = PyDict_SetItem(map, key, sink);
        Py_DECREF(sink);
        return rc;
    }
    if (!PyByteArray_CheckExact(sink)) {
        PyErr_SetString(PyExc_TypeError, "ordinal sinks must be bytearrays");
        return -1;
    }
    Py_ssize_t n = PyByteArray_GET_SIZE(sink);
    if (PyByteArray_Resize(sink, n + 4) < 0)
        return -1;
    memcpy(PyByteArray_AS_STRING(sink) + n, ord, 4);
    return 0;
}

static int
append_bytes(PyObject *bytearray, const unsigned char *p, Py_ssize_t n)
{
    Py_ssize_t have = PyByteArray_GET_SIZE(bytearray);
    if (PyByteArray_Resize(bytearray, have + n) < 0)
        return -1;
    memcpy(PyByteArray_AS_STRING(bytearray) + have, p, (size_t)n);
    return 0;
}

static PyObject *
malformed(Py_ssize_t index)
{
    PyErr_Format(PyExc_ValueError,
                 "record %zd of the sorted run is shorter than its header says", index);
    return NULL;
}

/* The pending batch's parts (writers._Pending), read once per call. */
typedef struct {
    PyObject *keyed, *tables, *ents, *cases, *values, *shapes, *labels, *clusters;
} Pending;

static int
pending_parts(PyObject *pending, Pending *p)
{
    static const char *const names[] = {"keyed", "tables", "ents", "cases", "values",
                                        "shapes", "labels", "clusters"};
    PyObject **slots[] = {&p->keyed,  &p->tables, &p->ents,   &p->cases,
                          &p->values, &p->shapes, &p->labels, &p->clusters};
    for (int i = 0; i < 8; i++)
        *slots[i] = NULL;
    for (int i = 0; i < 8; i++) {
        PyObject *v = PyObject_GetAttrString(pending, names[i]);
        if (v == NULL)
            return -1;
        *slots[i] = v;
    }
    int ok = PyList_CheckExact(p->keyed) && PyByteArray_CheckExact(p->tables) &&
             PyByteArray_CheckExact(p->ents) && PyList_CheckExact(p->cases) &&
             (p->values == Py_None || PyList_CheckExact(p->values)) &&
             PyDict_CheckExact(p->shapes) && PyDict_CheckExact(p->labels) &&
             PyDict_CheckExact(p->clusters);
    if (!ok) {
        PyErr_SetString(PyExc_TypeError, "pack_records: not a writers._Pending batch");
        return -1;
    }
    return 0;
}

static void
pending_release(Pending *p)
{
    Py_XDECREF(p->keyed);
    Py_XDECREF(p->tables);
    Py_XDECREF(p->ents);
    Py_XDECREF(p->cases);
    Py_XDECREF(p->values);
    Py_XDECREF(p->shapes);
    Py_XDECREF(p->labels);
    Py_XDECREF(p->clusters);
}

/* The cluster block: size and worst level code from `clusters`, the ordinal under the id. */
static int
patch_cluster(unsigned char *out, PyObject *clusters, const unsigned char *codes,
              Pending *p, const unsigned char ord[4])
{
    PyObject *cid = PyLong_FromUnsignedLongLong(get_u64(out + OFF_CLUSTER_ID));
    if (cid == NULL)
        return -1;
    PyObject *entry = PyDict_GetItemWithError(clusters, cid); /* borrowed */
    if (entry == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetObject(PyExc_KeyError, cid);
        Py_DECREF(cid);
        return -1;
    }
    PyObject *size_o = PySequence_GetItem(entry, 0);
    PyObject *worst_o = size_o == NULL ? NULL : PySequence_GetItem(entry, 1);
    unsigned long size = size_o == NULL ? 0 : PyLong_AsUnsignedLong(size_o);
    long worst = worst_o == NULL ? 0 : PyLong_AsLong(worst_o);
    Py_XDECREF(size_o);
    Py_XDECREF(worst_o);
    if (PyErr_Occurred() || size > 0xFFFFFFFFul || worst < 0 || worst > 255) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "cluster size or worst level out of range");
        Py_DECREF(cid);
        return -1;
    }
    put_u32(out + OFF_CLUSTER_SIZE, (uint32_t)size);
    out[OFF_CLUSTER_WORST] = codes[worst];
    int rc = add_ordinal(p->clusters, cid, ord);
    Py_DECREF(cid);
    return rc;
}

/* The shape's and the label block's ordinal sinks. */
static int
file_labels(const unsigned char *out, const unsigned char *v, Py_ssize_t body_len,
            Pending *p, const unsigned char ord[4])
{
    PyObject *shape = PyLong_FromLong((long)out[0] << 8 | out[1]);
    if (shape == NULL)
        return -1;
    int rc = add_ordinal(p->shapes, shape, ord);
    Py_DECREF(shape);
    if (rc < 0)
        return -1;
    unsigned nr = out[3], nc = out[4], ns = out[5];
    if (!nc && !ns)
        return 0;
    Py_ssize_t start = ((out[2] & F_CLUSTER) ? BODY_CLUSTERED : BODY_PLAIN) + 2 * (Py_ssize_t)nr;
    Py_ssize_t len = 2 * ((Py_ssize_t)nc + ns);
    if (start + len > body_len) {
        PyErr_SetString(PyExc_ValueError, "a record's string ids run past its end");
        return -1;
    }
    PyObject *label = PyBytes_FromStringAndSize(NULL, 1 + len);
    if (label == NULL)
        return -1;
    unsigned char *l = (unsigned char *)PyBytes_AS_STRING(label);
    l[0] = (unsigned char)nc;
    memcpy(l + 1, v + start, (size_t)len);
    rc = add_ordinal(p->labels, label, ord);
    Py_DECREF(label);
    return rc;
}

/* A sealed case block (the block + its CRC-32) under key + table byte. */
static int
file_cases(const unsigned char *skey, const unsigned char *v, Py_ssize_t pos, Py_ssize_t vlen,
           PyObject *cases)
{
    PyObject *k = PyBytes_FromStringAndSize((const char *)skey, HEAD_SIZE);
    PyObject *sealed = PyBytes_FromStringAndSize(NULL, vlen - pos + CRC_SIZE);
    if (k == NULL || sealed == NULL) {
        Py_XDECREF(k);
        Py_XDECREF(sealed);
        return -1;
    }
    unsigned char *s = (unsigned char *)PyBytes_AS_STRING(sealed);
    memcpy(s, v + pos, (size_t)(vlen - pos));
    put_u32(s + (vlen - pos), crc32_of(v + pos, vlen - pos));
    PyObject *pair = PyTuple_Pack(2, k, sealed);
    Py_DECREF(k);
    Py_DECREF(sealed);
    if (pair == NULL)
        return -1;
    int rc = PyList_Append(cases, pair);
    Py_DECREF(pair);
    return rc;
}

/* One record: patched, sealed and filed into the pending batch. */
static int
pack_one(PyObject *skey_o, PyObject *value_o, uint32_t ordinal, PyObject *clusters,
         const unsigned char *codes, Pending *p, Py_ssize_t index)
{
    const unsigned char *skey = (const unsigned char *)PyBytes_AS_STRING(skey_o);
    const unsigned char *v = (const unsigned char *)PyBytes_AS_STRING(value_o);
    Py_ssize_t vlen = PyBytes_GET_SIZE(value_o);
    if (vlen < HEADER_SIZE || ((v[2] & F_CLUSTER) && vlen < BODY_CLUSTERED)) {
        malformed(index);
        return -1;
    }
    Py_ssize_t body_len = vlen;
    if (v[2] & F_CASES) {
        body_len = cases_offset(v, vlen);
        if (body_len < 0) {
            malformed(index);
            return -1;
        }
    }
    unsigned char ord[4];
    put_u32(ord, ordinal);
    PyObject *buf = PyBytes_FromStringAndSize(NULL, body_len + CRC_SIZE);
    if (buf == NULL)
        return -1;
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(buf);
    memcpy(out, v, (size_t)body_len);
    if (v[2] & F_CASES)
        out[2] = (unsigned char)((v[2] & ~F_CASES) | F_SIDE_CASES);
    memcpy(out + OFF_ORDINAL, ord, 4);
    if (((out[2] & F_CLUSTER) && patch_cluster(out, clusters, codes, p, ord) < 0) ||
        file_labels(out, v, body_len, p, ord) < 0) {
        Py_DECREF(buf);
        return -1;
    }
    put_u32(out + body_len, crc32_of(out, body_len));
    PyObject *key = PyBytes_FromStringAndSize((const char *)skey, KEY_SIZE);
    PyObject *item = key == NULL ? NULL : PyTuple_Pack(2, key, buf);
    Py_XDECREF(key);
    Py_DECREF(buf);
    if (item == NULL)
        return -1;
    int rc = PyList_Append(p->keyed, item);
    Py_DECREF(item);
    if (rc < 0 || append_bytes(p->tables, skey + KEY_SIZE, 1) < 0)
        return -1;
    /* ordinal-chunk entry: table byte, then the key */
    unsigned char ent[HEAD_SIZE];
    ent[0] = skey[KEY_SIZE];
    memcpy(ent + 1, skey, KEY_SIZE);
    if (append_bytes(p->ents, ent, HEAD_SIZE) < 0)
        return -1;
    if ((v[2] & F_CASES) && file_cases(skey, v, body_len, vlen, p->cases) < 0)
        return -1;
    if (p->values != Py_None && PyList_Append(p->values, value_o) < 0)
        return -1;
    return 0;
}

static PyObject *
duplicate(const unsigned char *skey)
{
    char hex[2 * KEY_SIZE + 1];
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < KEY_SIZE; i++) {
        hex[2 * i] = digits[skey[i] >> 4];
        hex[2 * i + 1] = digits[skey[i] & 0xF];
    }
    hex[2 * KEY_SIZE] = '\0';
    PyErr_Format(PyExc_ValueError,
                 "the same identifier was added twice (key %s); "
                 "ingest must aggregate one record per identifier and table",
                 hex);
    return NULL;
}

/* pack_records(items, start, stop, limit, state, pending, clusters, codes) -> next index */
static PyObject *
pack_records(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "pack_records takes 8 arguments");
        return NULL;
    }
    PyObject *items = args[0], *state = args[4], *clusters = args[6], *codes_o = args[7];
    Py_ssize_t i = PyLong_AsSsize_t(args[1]);
    Py_ssize_t stop = PyLong_AsSsize_t(args[2]);
    Py_ssize_t limit = PyLong_AsSsize_t(args[3]);
    if (PyErr_Occurred())
        return NULL;
    if (!PyList_CheckExact(items) || !PyList_CheckExact(state) || PyList_GET_SIZE(state) != 3 ||
        !PyDict_CheckExact(clusters) || !PyBytes_CheckExact(codes_o) ||
        PyBytes_GET_SIZE(codes_o) != 256) {
        PyErr_SetString(PyExc_TypeError,
                        "pack_records(list, int, int, int, [ordinal, prev, collisions], "
                        "_Pending, dict, 256 bytes)");
        return NULL;
    }
    const unsigned char *codes = (const unsigned char *)PyBytes_AS_STRING(codes_o);
    unsigned long long ordinal = PyLong_AsUnsignedLongLong(PyList_GET_ITEM(state, 0));
    Py_ssize_t collisions = PyLong_AsSsize_t(PyList_GET_ITEM(state, 2));
    if (PyErr_Occurred())
        return NULL;
    PyObject *prev = PyList_GET_ITEM(state, 1);
    if (prev != Py_None && !(PyBytes_CheckExact(prev) && PyBytes_GET_SIZE(prev) >= HEAD_SIZE)) {
        PyErr_SetString(PyExc_TypeError, "pack_records: state[1] must be None or a sort key");
        return NULL;
    }
    Py_INCREF(prev);
    Pending p;
    if (pending_parts(args[5], &p) < 0) {
        pending_release(&p);
        Py_DECREF(prev);
        return NULL;
    }
    if (stop > PyList_GET_SIZE(items))
        stop = PyList_GET_SIZE(items);
    Py_ssize_t produced = 0;
    int failed = 0;
    /* The pair is held while it is used (a collection run by an allocation below may run
     * any finaliser), and the list's size is read again each time. */
    for (; i < stop && i < PyList_GET_SIZE(items) && produced < limit; i++) {
        PyObject *pair = PyList_GET_ITEM(items, i);
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2 ||
            !PyBytes_CheckExact(PyTuple_GET_ITEM(pair, 0)) ||
            !PyBytes_CheckExact(PyTuple_GET_ITEM(pair, 1)) ||
            PyBytes_GET_SIZE(PyTuple_GET_ITEM(pair, 0)) < HEAD_SIZE) {
            PyErr_SetString(PyExc_TypeError, "pack_records: items must be (sort key, record)");
            failed = 1;
            break;
        }
        PyObject *skey_o = PyTuple_GET_ITEM(pair, 0);
        const unsigned char *skey = (const unsigned char *)PyBytes_AS_STRING(skey_o);
        if (prev != Py_None && memcmp(PyBytes_AS_STRING(prev), skey, HEAD_SIZE) == 0) {
            if (PyBytes_GET_SIZE(prev) == PyBytes_GET_SIZE(skey_o) &&
                memcmp(PyBytes_AS_STRING(prev), skey, (size_t)PyBytes_GET_SIZE(skey_o)) == 0) {
                duplicate(skey);
                failed = 1;
                break;
            }
            collisions++; /* 64-bit key collision: the smallest value keeps the key */
            continue;
        }
        if (ordinal > 0xFFFFFFFFull) {
            PyErr_SetString(PyExc_OverflowError, "more than 2^32 records in one snapshot");
            failed = 1;
            break;
        }
        Py_INCREF(skey_o);
        Py_SETREF(prev, skey_o);
        Py_INCREF(pair);
        int rc = pack_one(skey_o, PyTuple_GET_ITEM(pair, 1), (uint32_t)ordinal, clusters, codes,
                          &p, i);
        Py_DECREF(pair);
        if (rc < 0) {
            failed = 1;
            break;
        }
        ordinal++;
        produced++;
    }
    pending_release(&p);
    /* the state as far as it got (the caller stops at an exception either way) */
    PyObject *o = PyLong_FromUnsignedLongLong(ordinal);
    PyObject *c = PyLong_FromSsize_t(collisions);
    if (o == NULL || c == NULL) {
        Py_XDECREF(o);
        Py_XDECREF(c);
        Py_DECREF(prev);
        return NULL;
    }
    PyList_SetItem(state, 0, o); /* steals */
    PyList_SetItem(state, 1, prev);
    PyList_SetItem(state, 2, c);
    if (failed)
        return NULL;
    return PyLong_FromSsize_t(i);
}

/* group_pairs: a bucket of the evidence sorter grouped by key (writers.group_pairs_python is
 * the reference). Keys are 8-byte identifier keys: sorted as big-endian numbers (byte
 * order), ties by position (a stable sort), so each key's values keep the order added. */
typedef struct {
    uint64_t key;
    Py_ssize_t at;
} KeyAt;

static int
key_at_order(const void *a, const void *b)
{
    const KeyAt *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->at > y->at) - (x->at < y->at);
}

static uint64_t
get_u64_be(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* (key, b"[" + values joined by "," + b"]") of entries [lo, hi), which share one key. */
static PyObject *
joined_group(PyObject *items, const KeyAt *e, Py_ssize_t lo, Py_ssize_t hi)
{
    Py_ssize_t size = 2 + (hi - lo - 1);
    for (Py_ssize_t j = lo; j < hi; j++)
        size += PyBytes_GET_SIZE(PyTuple_GET_ITEM(items, 2 * e[j].at + 1));
    PyObject *blob = PyBytes_FromStringAndSize(NULL, size);
    if (blob == NULL)
        return NULL;
    char *out = PyBytes_AS_STRING(blob);
    *out++ = '[';
    for (Py_ssize_t j = lo; j < hi; j++) {
        PyObject *v = PyTuple_GET_ITEM(items, 2 * e[j].at + 1);
        if (j > lo)
            *out++ = ',';
        memcpy(out, PyBytes_AS_STRING(v), (size_t)PyBytes_GET_SIZE(v));
        out += PyBytes_GET_SIZE(v);
    }
    *out = ']';
    PyObject *pair = PyTuple_Pack(2, PyTuple_GET_ITEM(items, 2 * e[lo].at), blob);
    Py_DECREF(blob);
    return pair;
}

static PyObject *
group_pairs(PyObject *self, PyObject *flat)
{
    if (!PyList_CheckExact(flat) || PyList_GET_SIZE(flat) % 2)
        Py_RETURN_NONE; /* the reference says what is wrong */
    /* a tuple of the items: what the allocations below might run cannot change it */
    PyObject *items = PyList_AsTuple(flat);
    if (items == NULL)
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(items) / 2;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *k = PyTuple_GET_ITEM(items, 2 * i), *v = PyTuple_GET_ITEM(items, 2 * i + 1);
        if (!PyBytes_CheckExact(k) || PyBytes_GET_SIZE(k) != 8 || !PyBytes_CheckExact(v)) {
            Py_DECREF(items);
            Py_RETURN_NONE;
        }
    }
    KeyAt *e = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(KeyAt));
    if (e == NULL) {
        Py_DECREF(items);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        e[i].key = get_u64_be((const unsigned char *)PyBytes_AS_STRING(PyTuple_GET_ITEM(items, 2 * i)));
        e[i].at = i;
    }
    qsort(e, (size_t)n, sizeof(KeyAt), key_at_order);
    PyObject *out = PyList_New(0);
    for (Py_ssize_t lo = 0; out != NULL && lo < n;) {
        Py_ssize_t hi = lo + 1;
        while (hi < n && e[hi].key == e[lo].key)
            hi++;
        PyObject *pair = joined_group(items, e, lo, hi);
        if (pair == NULL || PyList_Append(out, pair) < 0)
            Py_CLEAR(out);
        Py_XDECREF(pair);
        lo = hi;
    }
    PyMem_Free(e);
    Py_DECREF(items);
    return out;
}

/* partition: a sorter's buffer into its 256 bucket lists (spill.py's _by_first_byte and
 * friends are the reference): by the key's first byte (b"" to bucket 0), or by
 * bisect_right over the splitters, in Python's bytes order (memcmp, then length). */
static int
bytes_cmp(const char *a, Py_ssize_t na, const char *b, Py_ssize_t nb)
{
    int c = memcmp(a, b, (size_t)(na < nb ? na : nb));
    if (c)
        return c;
    return (na > nb) - (na < nb);
}

static Py_ssize_t
bucket_of(PyObject *key, PyObject *splitters)
{
    const char *k = PyBytes_AS_STRING(key);
    Py_ssize_t n = PyBytes_GET_SIZE(key);
    if (splitters == Py_None)
        return n ? (unsigned char)k[0] : 0;
    Py_ssize_t lo = 0, hi = PyList_GET_SIZE(splitters);
    while (lo < hi) { /* bisect_right */
        Py_ssize_t mid = (lo + hi) / 2;
        PyObject *s = PyList_GET_ITEM(splitters, mid);
        if (bytes_cmp(k, n, PyBytes_AS_STRING(s), PyBytes_GET_SIZE(s)) < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static PyObject *
partition(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyList_CheckExact(args[0]))
        Py_RETURN_NONE;
    PyObject *buf = args[0], *splitters = args[1];
    int pairs = PyObject_IsTrue(args[2]);
    if (pairs < 0)
        return NULL;
    if (splitters != Py_None) {
        if (!PyList_CheckExact(splitters) || PyList_GET_SIZE(splitters) > 255)
            Py_RETURN_NONE;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(splitters); i++)
            if (!PyBytes_CheckExact(PyList_GET_ITEM(splitters, i)))
                Py_RETURN_NONE;
    }
    /* The bucket lists first: from here on nothing allocates a tracked object (which may
     * run a collection, and any finaliser), so buf cannot change under the loops below. */
    PyObject *lists = PyList_New(256);
    if (lists == NULL)
        return NULL;
    for (int b = 0; b < 256; b++) {
        PyObject *l = PyList_New(0);
        if (l == NULL) {
            Py_DECREF(lists);
            return NULL;
        }
        PyList_SET_ITEM(lists, b, l);
    }
    Py_ssize_t n = PyList_GET_SIZE(buf);
    for (Py_ssize_t i = 0; i < n; i++) { /* every item checked before any is placed */
        PyObject *item = PyList_GET_ITEM(buf, i);
        if ((pairs && !(PyTuple_CheckExact(item) && PyTuple_GET_SIZE(item) >= 1)) ||
            !PyBytes_CheckExact(pairs ? PyTuple_GET_ITEM(item, 0) : item)) {
            Py_DECREF(lists);
            Py_RETURN_NONE;
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(buf, i);
        Py_ssize_t b = bucket_of(pairs ? PyTuple_GET_ITEM(item, 0) : item, splitters);
        if (PyList_Append(PyList_GET_ITEM(lists, b), item) < 0) {
            Py_DECREF(lists);
            return NULL;
        }
    }
    return lists;
}

/* pack_record: format.py::pack_record_python for the nominal positional call; every other
 * call (keywords, a value out of its field's range, another type, a string too long) goes
 * to that Python function unchanged, which packs it or raises what it raises. */
#define F_VALID 0x01
#define F_FIRST 0x02
#define F_LAST 0x04
#define MAX_CASES 255
#define MAX_STRING 0xFFFF

static PyObject *pack_fallback; /* format.pack_record_python, set_pack_fallback() */

/* 0 <= v <= max as an unsigned value, or -1 (no exception left set). */
static long long
small_int(PyObject *o, unsigned long long max)
{
    if (!PyLong_CheckExact(o))
        return -1;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow || v < 0 || (unsigned long long)v > max) {
        PyErr_Clear();
        return -1;
    }
    return v;
}

/* A report count or reporters: clamped at u32 max, as pack_record_python does; -1: other. */
static long long
clamped_u32(PyObject *o)
{
    if (!PyLong_CheckExact(o))
        return -1;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow > 0)
        return 0xFFFFFFFFll;
    if (overflow < 0 || v < 0)
        return -1;
    return v > 0xFFFFFFFFll ? 0xFFFFFFFFll : v;
}

/* An optional time: 0 for None (*flag untouched), the time with *flag set, or -1. */
static long long
opt_time(PyObject *o, unsigned *flags, unsigned flag)
{
    if (o == Py_None)
        return 0;
    long long t = small_int(o, 0xFFFFFFFFull);
    if (t >= 0)
        *flags |= flag;
    return t;
}

/* UTF-8 of an optional string of at most MAX_STRING bytes: 1 found, 0 None, -1 other. */
static int
opt_utf8(PyObject *o, const char **p, Py_ssize_t *n)
{
    if (o == Py_None)
        return 0;
    if (!PyUnicode_CheckExact(o))
        return -1;
    *p = PyUnicode_AsUTF8AndSize(o, n);
    if (*p == NULL) {
        PyErr_Clear(); /* the fallback raises it again */
        return -1;
    }
    return *n <= MAX_STRING ? 1 : -1;
}

typedef struct {
    long long tag, level, count, reporters, first, last, case_count;
    unsigned flags;
    unsigned long long cluster;
    Py_ssize_t nr, nc, ns;
    const char *canonical, *ids, *listing, *owner;
    Py_ssize_t canonical_len, ids_len, listing_len, owner_len;
    PyObject *case_ids; /* a tuple of str, or NULL */
    Py_ssize_t ncases, size;
} PackArgs;

/* The fields of a nominal call, or 0 (the fallback packs it). */
static int
read_header_args(PyObject *const *a, PackArgs *r)
{
    r->tag = small_int(a[0], 255);
    r->level = small_int(a[1], 255);
    if (r->tag < 0 || r->level < 0 || !PyBytes_CheckExact(a[2]) || !PyTuple_CheckExact(a[4]) ||
        PyTuple_GET_SIZE(a[4]) != 4)
        return 0;
    r->canonical = PyBytes_AS_STRING(a[2]);
    r->canonical_len = PyBytes_GET_SIZE(a[2]);
    int valid = PyObject_IsTrue(a[3]);
    if (valid < 0) {
        PyErr_Clear();
        return 0;
    }
    r->flags = valid ? F_VALID : 0;
    long long nr = small_int(PyTuple_GET_ITEM(a[4], 0), 255);
    long long nc = small_int(PyTuple_GET_ITEM(a[4], 1), 255);
    long long ns = small_int(PyTuple_GET_ITEM(a[4], 2), 255);
    PyObject *ids = PyTuple_GET_ITEM(a[4], 3);
    if (nr < 0 || nc < 0 || ns < 0 || !PyBytes_CheckExact(ids) ||
        r->canonical_len > MAX_STRING)
        return 0;
    r->nr = (Py_ssize_t)nr, r->nc = (Py_ssize_t)nc, r->ns = (Py_ssize_t)ns;
    r->ids = PyBytes_AS_STRING(ids);
    r->ids_len = PyBytes_GET_SIZE(ids);
    r->count = clamped_u32(a[5]);
    r->reporters = clamped_u32(a[6]);
    r->first = opt_time(a[7], &r->flags, F_FIRST);
    r->last = opt_time(a[8], &r->flags, F_LAST);
    return r->count >= 0 && r->reporters >= 0 && r->first >= 0 && r->last >= 0;
}

static int
read_tail_args(PyObject *const *a, Py_ssize_t n, PackArgs *r)
{
    r->cluster = 0;
    if (a[9] != Py_None) {
        if (!PyLong_CheckExact(a[9]))
            return 0;
        r->cluster = PyLong_AsUnsignedLongLong(a[9]);
        if (r->cluster == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        r->flags |= F_CLUSTER;
    }
    int has_listing = opt_utf8(a[10], &r->listing, &r->listing_len);
    int has_owner = opt_utf8(a[11], &r->owner, &r->owner_len);
    if (has_listing < 0 || has_owner < 0)
        return 0;
    r->flags |= (has_listing ? F_LISTING : 0) | (has_owner ? F_OWNER : 0);
    r->case_ids = NULL;
    r->ncases = 0;
    r->case_count = 0;
    if (n > 12) {
        /* a tuple (what a build passes): it cannot change between sizing and filling, when
         * an allocation may run a finaliser; a list takes the Python path */
        if (!PyTuple_CheckExact(a[12]))
            return 0;
        r->case_ids = a[12];
        r->ncases = PyTuple_GET_SIZE(a[12]);
    }
    if (n > 13) {
        int overflow = 0;
        if (!PyLong_CheckExact(a[13]))
            return 0;
        r->case_count = PyLong_AsLongLongAndOverflow(a[13], &overflow);
        if (overflow)
            return 0;
    }
    return r->ncases <= MAX_CASES;
}

/* The bytes of the case block (u32 count, u8 n, n x (u16 len + UTF-8)), or -1. */
static Py_ssize_t
cases_size(PackArgs *r)
{
    Py_ssize_t size = 5;
    for (Py_ssize_t i = 0; i < r->ncases; i++) {
        PyObject *c = PyTuple_GET_ITEM(r->case_ids, i);
        Py_ssize_t len;
        if (!PyUnicode_CheckExact(c) || PyUnicode_AsUTF8AndSize(c, &len) == NULL) {
            PyErr_Clear();
            return -1;
        }
        if (len > MAX_STRING)
            return -1;
        size += 2 + len;
    }
    return size;
}

static unsigned char *
put_string(unsigned char *o, const char *p, Py_ssize_t n)
{
    o[0] = (unsigned char)n;
    o[1] = (unsigned char)(n >> 8);
    memcpy(o + 2, p, (size_t)n);
    return o + 2 + n;
}

static void
fill_record(unsigned char *o, PackArgs *r, Py_ssize_t cases)
{
    o[0] = (unsigned char)r->tag;
    o[1] = (unsigned char)r->level;
    o[2] = (unsigned char)r->flags;
    o[3] = (unsigned char)r->nr;
    o[4] = (unsigned char)r->nc;
    o[5] = (unsigned char)r->ns;
    put_u32(o + 6, 0);
    put_u32(o + 10, (uint32_t)r->count);
    put_u32(o + 14, (uint32_t)r->reporters);
    put_u32(o + 18, (uint32_t)r->first);
    put_u32(o + 22, (uint32_t)r->last);
    o += HEADER_SIZE;
    if (r->flags & F_CLUSTER) {
        memset(o, 0, 5);
        for (int i = 0; i < 8; i++)
            o[5 + i] = (unsigned char)(r->cluster >> (8 * i));
        o += CLUSTER_SIZE;
    }
    memcpy(o, r->ids, (size_t)r->ids_len);
    o = put_string(o + r->ids_len, r->canonical, r->canonical_len);
    if (r->flags & F_LISTING)
        o = put_string(o, r->listing, r->listing_len);
    if (r->flags & F_OWNER)
        o = put_string(o, r->owner, r->owner_len);
    if (cases < 0)
        return;
    long long count = r->case_count > r->ncases ? r->case_count : r->ncases;
    put_u32(o, (uint32_t)(count > 0xFFFFFFFFll ? 0xFFFFFFFFll : count));
    o[4] = (unsigned char)r->ncases;
    o += 5;
    for (Py_ssize_t i = 0; i < r->ncases; i++) {
        Py_ssize_t len;
        const char *p = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(r->case_ids, i), &len);
        o = put_string(o, p, len);
    }
}

static PyObject *
pack_record(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    PackArgs r;
    if (pack_fallback == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "pack_record: set_pack_fallback() not called");
        return NULL;
    }
    if ((kwnames != NULL && PyTuple_GET_SIZE(kwnames)) || n < 12 || n > 14 ||
        !read_header_args(args, &r) || !read_tail_args(args, n, &r))
        return PyObject_Vectorcall(pack_fallback, args, nargsf, kwnames);
    Py_ssize_t cases = -1;
    if (r.ncases || r.case_count) {
        cases = cases_size(&r);
        if (cases < 0)
            return PyObject_Vectorcall(pack_fallback, args, nargsf, kwnames);
        r.flags |= F_CASES;
    }
    Py_ssize_t size = HEADER_SIZE + ((r.flags & F_CLUSTER) ? CLUSTER_SIZE : 0) + r.ids_len + 2 +
                      r.canonical_len + ((r.flags & F_LISTING) ? 2 + r.listing_len : 0) +
                      ((r.flags & F_OWNER) ? 2 + r.owner_len : 0) + (cases < 0 ? 0 : cases);
    PyObject *out = PyBytes_FromStringAndSize(NULL, size);
    if (out == NULL)
        return NULL;
    fill_record((unsigned char *)PyBytes_AS_STRING(out), &r, cases);
    return out;
}

static PyObject *
set_pack_fallback(PyObject *self, PyObject *fn)
{
    if (!PyCallable_Check(fn)) {
        PyErr_SetString(PyExc_TypeError, "set_pack_fallback needs a callable");
        return NULL;
    }
    Py_INCREF(fn);
    Py_XSETREF(pack_fallback, fn);
    Py_RETURN_NONE;
}

static PyObject *
crc32_py(PyObject *self, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    uint32_t c = crc32_of((const unsigned char *)view.buf, view.len);
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(c);
}

static PyMethodDef module_methods[] = {
    {"pack_records", (PyCFunction)(void (*)(void))pack_records, METH_FASTCALL,
     "pack_records(items, start, stop, limit, state, pending, clusters, codes)\n--\n\n"
     "Pack the sorted (sort key, record) pairs items[start:stop] into the pending batch,\n"
     "at most limit records; return the index of the first pair not read\n"
     "(writers.pack_records_python is the reference)."},
    {"group_pairs", (PyCFunction)group_pairs, METH_O,
     "group_pairs(flat)\n--\n\n"
     "The [key, value, ...] pairs of flat grouped by key in key order, each group's values\n"
     "joined into a JSON array in the order given; None unless every key is 8 bytes and\n"
     "every value bytes (writers.group_pairs_python answers then)."},
    {"partition", (PyCFunction)(void (*)(void))partition, METH_FASTCALL,
     "partition(buf, splitters, pairs)\n--\n\n"
     "The items of buf in 256 bucket lists, in order: by the (pair's) key's first byte,\n"
     "or by bisect_right over splitters (a list of at most 255 bytes); None for anything\n"
     "else (spill.py's Python partition answers then)."},
    {"pack_record", (PyCFunction)(void (*)(void))pack_record, METH_FASTCALL | METH_KEYWORDS,
     "pack_record(kind_tag, level_code, canonical, valid, labels, report_count, reporters,\n"
     "            first, last, cluster, listing, owner, case_ids=(), case_count=0)\n--\n\n"
     "format.pack_record_python, in C for a nominal positional call (that function\n"
     "answers every other call)."},
    {"set_pack_fallback", (PyCFunction)set_pack_fallback, METH_O,
     "set_pack_fallback(fn)\n--\n\nThe Python pack_record that answers what C does not."},
    {"crc32", (PyCFunction)crc32_py, METH_O,
     "crc32(data)\n--\n\nzlib.crc32 of data (the module's own table; for tests)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef recordsfast_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "scameter.index._recordsfast",
    .m_doc = "The compiled record loop of a snapshot build (optional; "
             "scameter/index/writers.py falls back to pure Python without it).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__recordsfast(void)
{
    crc_init();
    PyObject *m = PyModule_Create(&recordsfast_module);
    if (m == NULL)
        return NULL;
    /* checked against format.py by writers.py at import */
    PyObject *layout = Py_BuildValue(
        "{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "HEADER_SIZE", HEADER_SIZE,
        "CLUSTER_SIZE", CLUSTER_SIZE, "OFF_ORDINAL", OFF_ORDINAL, "OFF_CLUSTER_WORST",
        OFF_CLUSTER_WORST, "OFF_CLUSTER_SIZE", OFF_CLUSTER_SIZE, "OFF_CLUSTER_ID",
        OFF_CLUSTER_ID, "CRC_SIZE", CRC_SIZE, "F_CLUSTER", F_CLUSTER, "F_LISTING", F_LISTING,
        "F_OWNER", F_OWNER, "F_CASES", F_CASES, "F_SIDE_CASES", F_SIDE_CASES, "ORDINAL_ENTRY",
        HEAD_SIZE, "F_VALID", F_VALID, "F_FIRST", F_FIRST, "F_LAST", F_LAST,
        "MAX_RECORD_CASES", MAX_CASES, "MAX_STRING_BYTES", MAX_STRING);
    if (layout == NULL || PyModule_AddObject(m, "LAYOUT", layout) < 0) {
        Py_XDECREF(layout);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
