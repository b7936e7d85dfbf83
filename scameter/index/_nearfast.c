/* scameter.index._nearfast: the keys a near-match lookup probes, in C (issue 20), optional.
 *
 * Responsibility: one function, filtered_variant_keys(namespace, text, k, prefixes), the
 * compiled form of what NearRules.candidates (scameter/index/nearmatch.py) computes before
 * its one getmulti on `near`: every deletion variant of `text` (the text itself, then without
 * character i, then, for k = 2, without i < j: the order of near._deletion_plan), its key
 * xxh3_64(namespace + variant) (scameter/_xxh3.h; near.variant_hashes), and of those keys the
 * distinct ones whose high 32 bits are in the near filter, given as `prefixes` (a sorted
 * array of uint32, the filter bitmap's elements), sorted, as 8-byte big-endian bytes. The
 * Python path (variant_hash_stream and NearRules._filtered) is the reference: the property
 * tests compare the two on random labels.
 *
 * Invariants:
 * - Returns None (never guesses) for what it does not handle: k outside 0..2, a namespace +
 *   text longer than XXH3_MAX_INPUT, a prefix buffer that is not a C-contiguous uint32 array;
 *   the caller then takes the Python path. Text is bytes: callers pass ASCII labels only.
 * - No Python object per variant: one stack buffer per variant, one bytes object per key kept.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../_xxh3.h"

/* Whether `prefix` is one of the n sorted `prefixes`. */
static int
has_prefix(const uint32_t *prefixes, Py_ssize_t n, uint32_t prefix)
{
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (prefixes[mid] < prefix) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return lo < n && prefixes[lo] == prefix;
}

typedef struct {
    uint64_t *keys;
    Py_ssize_t len, cap;
} Kept;

/* Hash namespace + variant (already in buf, `len` bytes) and keep it when the filter may
 * hold it; -1 on memory error. */
static int
probe(const unsigned char *buf, size_t len, const uint32_t *prefixes, Py_ssize_t n, Kept *kept)
{
    uint64_t h = xxh3_64(buf, len);
    if (!has_prefix(prefixes, n, (uint32_t)(h >> 32))) {
        return 0;
    }
    if (kept->len == kept->cap) {
        Py_ssize_t cap = kept->cap ? 2 * kept->cap : 16;
        uint64_t *more = PyMem_Realloc(kept->keys, (size_t)cap * sizeof(uint64_t));
        if (more == NULL) {
            return -1;
        }
        kept->keys = more;
        kept->cap = cap;
    }
    kept->keys[kept->len++] = h;
    return 0;
}

static int
compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The sorted distinct kept keys as a list of 8-byte big-endian bytes. */
static PyObject *
key_list(Kept *kept)
{
    qsort(kept->keys, (size_t)kept->len, sizeof(uint64_t), compare_u64);
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < kept->len; i++) {
        if (i > 0 && kept->keys[i] == kept->keys[i - 1]) {
            continue; /* a variant may come twice ("aab" minus either "a") */
        }
        unsigned char be[8];
        uint64_t h = kept->keys[i];
        for (int b = 7; b >= 0; b--) {
            be[b] = (unsigned char)(h & 0xFF);
            h >>= 8;
        }
        PyObject *key = PyBytes_FromStringAndSize((const char *)be, 8);
        if (key == NULL || PyList_Append(out, key) < 0) {
            Py_XDECREF(key);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(key);
    }
    return out;
}

static PyObject *
filtered_variant_keys(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyBytes_Check(args[0]) || !PyBytes_Check(args[1]) ||
        !PyLong_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError,
                        "filtered_variant_keys(namespace: bytes, text: bytes, k: int, prefixes)");
        return NULL;
    }
    long k = PyLong_AsLong(args[2]);
    if (k == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t m = PyBytes_GET_SIZE(args[0]), t = PyBytes_GET_SIZE(args[1]);
    if (k < 0 || k > 2 || m + t > XXH3_MAX_INPUT) {
        Py_RETURN_NONE;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[3], &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    if (view.itemsize != 4 || view.format == NULL || strcmp(view.format, "I") != 0) {
        PyBuffer_Release(&view);
        Py_RETURN_NONE;
    }
    const uint32_t *prefixes = (const uint32_t *)view.buf;
    Py_ssize_t n = view.len / 4;
    const unsigned char *ns = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    const unsigned char *text = (const unsigned char *)PyBytes_AS_STRING(args[1]);
    unsigned char buf[XXH3_MAX_INPUT];
    memcpy(buf, ns, (size_t)m);
    Kept kept = {NULL, 0, 0};
    int failed = 0;
    /* The text itself. */
    memcpy(buf + m, text, (size_t)t);
    failed |= probe(buf, (size_t)(m + t), prefixes, n, &kept);
    /* Without position i. */
    for (Py_ssize_t i = 0; k >= 1 && i < t && !failed; i++) {
        memcpy(buf + m, text, (size_t)i);
        memcpy(buf + m + i, text + i + 1, (size_t)(t - i - 1));
        failed |= probe(buf, (size_t)(m + t - 1), prefixes, n, &kept);
    }
    /* Without positions i < j. */
    for (Py_ssize_t i = 0; k >= 2 && i < t && !failed; i++) {
        for (Py_ssize_t j = i + 1; j < t && !failed; j++) {
            unsigned char *w = buf + m;
            memcpy(w, text, (size_t)i);
            memcpy(w + i, text + i + 1, (size_t)(j - i - 1));
            memcpy(w + j - 1, text + j + 1, (size_t)(t - j - 1));
            failed |= probe(buf, (size_t)(m + t - 2), prefixes, n, &kept);
        }
    }
    PyBuffer_Release(&view);
    PyObject *out = failed ? PyErr_NoMemory() : key_list(&kept);
    PyMem_Free(kept.keys);
    return out;
}

static PyMethodDef module_methods[] = {
    {"filtered_variant_keys", (PyCFunction)(void (*)(void))filtered_variant_keys, METH_FASTCALL,
     "filtered_variant_keys(namespace, text, k, prefixes)\n--\n\n"
     "The sorted distinct 8-byte keys of text's deletion variants (up to k deletions) under\n"
     "namespace whose high 32 bits are among the sorted uint32 prefixes; None where the\n"
     "Python path must answer (see scameter/index/_nearfast.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef nearfast_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "scameter.index._nearfast",
    .m_doc = "The compiled near-match probe keys of scameter (optional; "
             "scameter/index/nearmatch.py falls back to pure Python without it).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__nearfast(void)
{
    return PyModule_Create(&nearfast_module);
}
