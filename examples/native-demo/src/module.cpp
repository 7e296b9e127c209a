// native_demo._core: total() and units() through the plain CPython C API.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "units.hpp"

namespace {

using UnitFn = long (*)();

constexpr UnitFn kUnits[] = {
    unit00, unit01, unit02, unit03, unit04, unit05, unit06, unit07,
    unit08, unit09, unit10, unit11, unit12, unit13, unit14, unit15,
    unit16, unit17, unit18, unit19, unit20, unit21, unit22, unit23,
};
constexpr Py_ssize_t kCount = sizeof(kUnits) / sizeof(kUnits[0]);

PyObject* total(PyObject*, PyObject*) {
    long sum = 0;
    for (UnitFn fn : kUnits) {
        sum += fn();
    }
    return PyLong_FromLong(sum);
}

PyObject* units(PyObject*, PyObject*) {
    PyObject* out = PyTuple_New(kCount);
    if (out == nullptr) {
        return nullptr;
    }
    for (Py_ssize_t i = 0; i < kCount; ++i) {
        PyObject* value = PyLong_FromLong(kUnits[i]());
        if (value == nullptr) {
            Py_DECREF(out);
            return nullptr;
        }
        PyTuple_SET_ITEM(out, i, value);
    }
    return out;
}

PyMethodDef methods[] = {
    {"total", total, METH_NOARGS, "Sum of the 24 units' values."},
    {"units", units, METH_NOARGS, "The 24 units' values, as a tuple."},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "_core", "24 translation units.", -1, methods,
                         nullptr, nullptr, nullptr, nullptr};

}  // namespace

PyMODINIT_FUNC PyInit__core(void) { return PyModule_Create(&moduledef); }
