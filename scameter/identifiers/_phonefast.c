/* scameter.identifiers._phonefast: the typed-HK-number shortcut in C (issue 20), optional.
 *
 * Responsibility: one type, TypedHK, whose match(raw) gives the phone Identifier of a valid
 * Hong Kong number typed in one of the commonest spellings ("+85291234567", "9123 4567",
 * "+852 9123-4567", "(852) 9123 4567"), or None. It is the one-row form of
 * scameter.identifiers.phonecolumn.typed_hk_numbers and takes exactly the rows its docstring
 * lists:
 *   - an exact str of 1..20 ASCII characters: digits and the separators " -()" only, except
 *     for an optional leading '+'; first character a digit, '+' or '('; last a digit;
 *   - its digits are 8 not starting with '0' nor "852" and there is no '+' (a subscriber
 *     number), or "852" and 8 digits not starting with '0' (with or without the '+');
 *   - the national number's 4-digit prefix is proven all-valid (prefix table value 1, built
 *     from _phonemeta.PREFIX8 by scameter/identifiers/phone.py).
 * For such input the answer is Identifier(PHONE, "+852" + national, True), which is what
 * normalize_phone and detect give (phonecolumn's docstring says why; the property tests of
 * tests/property/test_phonefast_props.py compare this code with the pure-Python shortcut
 * phone.typed_hk_python and with both normalisers).
 *
 * keyed(raw) answers the same inputs with (Identifier, key): the identifier's 8-byte snapshot key
 * (scameter/identifiers/model.py: xxh3_64 of the kind's tag byte and the canonical value,
 * big-endian), so a lookup of a typed number needs no Python to find its record. The key is
 * always XXH3-64 of 13 bytes (the tag, "+852" and 8 digits), computed by the 9-16-byte case of
 * scameter/_xxh3.h; the property tests compare it with the xxhash package's xxh3_64_digest,
 * which computes every other key.
 *
 * Invariants:
 * - Every other input gives None, and the caller then takes its pure-Python path unchanged:
 *   this code never raises for any argument and never answers what it is not sure of.
 * - The Identifier is allocated with its type's tp_alloc and its three slots are stored
 *   through the offsets of the type's member descriptors, read once at construction (a type
 *   of another layout is refused there with TypeError).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <structmember.h>

#include "../_slot_offsets.h"
#include "../_hkphone.h"
#include "../_xxh3.h"

#define MAX_CHARS 20
#define N_PREFIXES 10000
#define KEY_INPUT 13 /* tag byte + "+852" + 8 digits */

static const char *const FIELD_NAMES[] = {"kind", "value", "valid"};
enum { F_KIND, F_VALUE, F_VALID, N_FIELDS };

typedef struct {
    PyObject_HEAD
    PyTypeObject *ident_type;
    PyObject *kind;
    Py_ssize_t offsets[N_FIELDS];
    int has_tag;      /* keyed() answers only when the kind's tag byte was given */
    unsigned char tag;
    unsigned char prefix_valid[N_PREFIXES];
} TypedHK;

static int
TypedHK_init(TypedHK *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"identifier_type", "kind", "prefix_valid", "tag", NULL};
    PyObject *type, *kind, *tag = Py_None;
    Py_buffer table;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!Oy*|O:TypedHK", kwlist, &PyType_Type, &type,
                                     &kind, &table, &tag)) {
        return -1;
    }
    if (table.len != N_PREFIXES) {
        PyBuffer_Release(&table);
        PyErr_Format(PyExc_ValueError, "TypedHK: prefix_valid has %zd bytes, expected %d",
                     table.len, N_PREFIXES);
        return -1;
    }
    memcpy(self->prefix_valid, table.buf, N_PREFIXES);
    PyBuffer_Release(&table);
    if (tag != Py_None && !(PyBytes_Check(tag) && PyBytes_GET_SIZE(tag) == 1)) {
        PyErr_SetString(PyExc_ValueError, "TypedHK: tag must be one byte (the kind's key tag)");
        return -1;
    }
    if (slot_offsets((PyTypeObject *)type, FIELD_NAMES, N_FIELDS, self->offsets,
                     "TypedHK", "scameter.identifiers._phonefast") < 0) {
        return -1;
    }
    self->has_tag = tag != Py_None;
    self->tag = self->has_tag ? (unsigned char)PyBytes_AS_STRING(tag)[0] : 0;
    Py_XSETREF(self->ident_type, (PyTypeObject *)Py_NewRef(type));
    Py_XSETREF(self->kind, Py_NewRef(kind));
    return 0;
}

static int
TypedHK_traverse(TypedHK *self, visitproc visit, void *arg)
{
    Py_VISIT(self->ident_type);
    Py_VISIT(self->kind);
    return 0;
}

static int
TypedHK_clear(TypedHK *self)
{
    Py_CLEAR(self->ident_type);
    Py_CLEAR(self->kind);
    return 0;
}

static void
TypedHK_dealloc(TypedHK *self)
{
    PyObject_GC_UnTrack(self);
    TypedHK_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The 8 national digits of raw when it is a typed HK number with a proven-valid prefix
 * (module comment), else NULL; buf holds them. */
static const char *
typed_national(TypedHK *self, PyObject *raw, char *buf)
{
    if (!PyUnicode_CheckExact(raw) || !PyUnicode_IS_ASCII(raw) || self->ident_type == NULL) {
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(raw);
    if (n == 0 || n > MAX_CHARS) {
        return NULL;
    }
    const char *national = hk_national_of((const char *)PyUnicode_1BYTE_DATA(raw), n, buf);
    if (national == NULL) {
        return NULL;
    }
    int prefix = (national[0] - '0') * 1000 + (national[1] - '0') * 100 +
                 (national[2] - '0') * 10 + (national[3] - '0');
    return self->prefix_valid[prefix] == 1 ? national : NULL;
}

/* A new Identifier(kind, "+852" + national, True); NULL with an exception set. */
static PyObject *
new_identifier(TypedHK *self, const char *national)
{
    PyObject *value = PyUnicode_New(12, 127);
    if (value == NULL) {
        return NULL;
    }
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(value);
    memcpy(out, "+852", 4);
    memcpy(out + 4, national, 8);
    PyObject *ident = self->ident_type->tp_alloc(self->ident_type, 0);
    if (ident == NULL) {
        Py_DECREF(value);
        return NULL;
    }
#define SET(field, v) (*(PyObject **)((char *)ident + self->offsets[field]) = (v))
    SET(F_KIND, Py_NewRef(self->kind));
    SET(F_VALUE, value);
    SET(F_VALID, Py_NewRef(Py_True));
#undef SET
    return ident;
}

static PyObject *
TypedHK_match(TypedHK *self, PyObject *raw)
{
    char buf[11];
    const char *national = typed_national(self, raw, buf);
    if (national == NULL) {
        Py_RETURN_NONE;
    }
    return new_identifier(self, national);
}

static PyObject *
TypedHK_keyed(TypedHK *self, PyObject *raw)
{
    char buf[11];
    const char *national = self->has_tag ? typed_national(self, raw, buf) : NULL;
    if (national == NULL) {
        Py_RETURN_NONE;
    }
    unsigned char input[KEY_INPUT];
    input[0] = self->tag;
    memcpy(input + 1, "+852", 4);
    memcpy(input + 5, national, 8);
    uint64_t h = xxh3_9to16(input, KEY_INPUT);
    PyObject *key = PyBytes_FromStringAndSize(NULL, 8);
    if (key == NULL) {
        return NULL;
    }
    unsigned char *k = (unsigned char *)PyBytes_AS_STRING(key);
    for (int i = 7; i >= 0; i--) { /* the canonical (big-endian) digest */
        k[i] = (unsigned char)(h & 0xFF);
        h >>= 8;
    }
    PyObject *ident = new_identifier(self, national);
    if (ident == NULL) {
        Py_DECREF(key);
        return NULL;
    }
    PyObject *pair = PyTuple_New(2);
    if (pair == NULL) {
        Py_DECREF(ident);
        Py_DECREF(key);
        return NULL;
    }
    PyTuple_SET_ITEM(pair, 0, ident);
    PyTuple_SET_ITEM(pair, 1, key);
    return pair;
}

static PyMethodDef TypedHK_methods[] = {
    {"match", (PyCFunction)TypedHK_match, METH_O,
     "match(raw)\n--\n\nThe phone Identifier of a valid HK number typed in a common spelling, "
     "else None (never raises)."},
    {"keyed", (PyCFunction)TypedHK_keyed, METH_O,
     "keyed(raw)\n--\n\n(match(raw), its 8-byte snapshot key) when match(raw) is not None and "
     "the kind's tag was given, else None (never raises)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject TypedHKType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "scameter.identifiers._phonefast.TypedHK",
    .tp_basicsize = sizeof(TypedHK),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "TypedHK(identifier_type, kind, prefix_valid, tag=None)\n--\n\n"
              "The typed-HK-number shortcut (scameter/identifiers/_phonefast.c).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)TypedHK_init,
    .tp_dealloc = (destructor)TypedHK_dealloc,
    .tp_traverse = (traverseproc)TypedHK_traverse,
    .tp_clear = (inquiry)TypedHK_clear,
    .tp_methods = TypedHK_methods,
};

static struct PyModuleDef phonefast_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "scameter.identifiers._phonefast",
    .m_doc = "The compiled typed-HK-number shortcut of scameter (optional; "
             "scameter/identifiers/phone.py falls back to pure Python without it).",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__phonefast(void)
{
    if (PyType_Ready(&TypedHKType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&phonefast_module);
    if (m == NULL) {
        return NULL;
    }
    Py_INCREF(&TypedHKType);
    if (PyModule_AddObject(m, "TypedHK", (PyObject *)&TypedHKType) < 0) {
        Py_DECREF(&TypedHKType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
