#define PY_SSIZE_T_CLEAN
#include <Python.h>

int native_value(void);

static PyObject *value(PyObject *self, PyObject *args) {
    return PyLong_FromLong(native_value());
}

static PyMethodDef methods[] = {
    {"value", value, METH_NOARGS, "Return native_value()."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "_native", NULL, -1, methods};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&moduledef); }
