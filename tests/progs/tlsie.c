/* libtlsie.so: dlopen'ed by tls.c only after threads exist.  An
 * initial-exec __thread in a dlopen'ed library lives in the static TLS
 * surplus; glibc copies its initializer into every live thread's block at
 * dlopen time (nptl's __pthread_init_static_tls walks its thread lists).
 * Gs are not on those lists, so goro must do the same for every live G. */
__attribute__((tls_model("initial-exec"))) __thread int tlsie_value = 42;

int tlsie_get(void) { return tlsie_value; }
void tlsie_set(int v) { tlsie_value = v; }
