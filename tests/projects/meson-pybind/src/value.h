#pragma once

int meson_pybind_value();
