/* libtlsdep.so: a __thread variable in a library the program links against
 * (so its TLS is part of the initial static TLS block of every thread). */
__thread long tlsdep_value = -1;

void tlsdep_set(long v) { tlsdep_value = v; }
long tlsdep_get(void) { return tlsdep_value; }
