/* value() returns native_value(); tests edit the constant to force a one-file rebuild. */
int native_value(void) { return 7; }
