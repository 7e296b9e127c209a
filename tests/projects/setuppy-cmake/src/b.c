#include "native.h"

int native_b(void) { return 2; }
