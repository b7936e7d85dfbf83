/* scameter/_slot_offsets.h: shared by the optional C extensions (scameter.index._speedups,
 * scameter.identifiers._phonefast); a header only, included by each .c file.
 *
 * Both extensions fill instances of a frozen, slotted Python dataclass (Verdict, Identifier)
 * slot by slot, without calling its __init__. That is only sound when the type has exactly the
 * slots the C code knows, each a plain object member defined on that type: slot_offsets()
 * checks this once, when the extension's object is constructed, and reads each slot's offset
 * from its member descriptor. A type of another layout is refused with TypeError (rebuild the
 * extension), never guessed at.
 */
#ifndef SCAMETER_SLOT_OFFSETS_H
#define SCAMETER_SLOT_OFFSETS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

/* Fill offsets[0..n) with the member offsets of type's slots names[0..n). `who` names the
 * caller in error messages, `module` the extension to rebuild. Returns 0, or -1 with an
 * exception set. */
static int
slot_offsets(PyTypeObject *type, const char *const names[], int n, Py_ssize_t offsets[],
             const char *who, const char *module)
{
    PyObject *slots = PyObject_GetAttrString((PyObject *)type, "__slots__");
    if (slots == NULL) {
        return -1;
    }
    Py_ssize_t have = PyObject_Length(slots);
    Py_DECREF(slots);
    if (have != n) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_TypeError,
                         "%s: the type %s has %zd slots, this build knows %d: rebuild %s", who,
                         type->tp_name, have, n, module);
        }
        return -1;
    }
    for (int i = 0; i < n; i++) {
        PyObject *d = PyObject_GetAttrString((PyObject *)type, names[i]);
        if (d == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
                return -1;
            }
            PyErr_Clear();
            d = Py_NewRef(Py_None);
        }
        int ok = Py_IS_TYPE(d, &PyMemberDescr_Type) &&
                 ((PyMemberDescrObject *)d)->d_member->type == T_OBJECT_EX &&
                 ((PyMemberDescrObject *)d)->d_common.d_type == type;
        if (ok) {
            offsets[i] = ((PyMemberDescrObject *)d)->d_member->offset;
        }
        Py_DECREF(d);
        if (!ok) {
            PyErr_Format(PyExc_TypeError, "%s: %s.%s is not a slot of %s", who, type->tp_name,
                         names[i], type->tp_name);
            return -1;
        }
    }
    return 0;
}

#endif /* SCAMETER_SLOT_OFFSETS_H */
