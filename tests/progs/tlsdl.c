/* libtlsdl.so: dlopen'ed by tls.c.  Its __thread uses the global-dynamic
 * model, so each access goes through __tls_get_addr and the thread's dtv:
 * under goro every G needs its own dtv and dynamic TLS blocks. */
__attribute__((tls_model("global-dynamic"))) __thread long tlsdl_value = -2;

void tlsdl_set(long v) { tlsdl_value = v; }
long tlsdl_get(void) { return tlsdl_value; }
