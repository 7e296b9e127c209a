#ifndef SETUPPY_CMAKE_NATIVE_H
#define SETUPPY_CMAKE_NATIVE_H
int native_a(void);
int native_b(void);
#endif
