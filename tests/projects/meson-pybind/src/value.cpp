#include "value.h"

// value() returns this; tests edit the constant to force a one-file rebuild.
int meson_pybind_value() { return 11; }
