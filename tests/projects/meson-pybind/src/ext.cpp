#include <pybind11/pybind11.h>

#include "value.h"

PYBIND11_MODULE(_ext, m) {
    m.doc() = "meson-pybind test extension";
    m.def("value", &meson_pybind_value, "Return meson_pybind_value().");
}
