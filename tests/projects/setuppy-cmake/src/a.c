#include "native.h"

/* value() returns this plus native_b(); tests edit the constant to force a one-file rebuild. */
int native_a(void) { return 40; }
