/* GORO_BLOCKING: parsing, start-up and the dlsym hook (docs/ARCHITECTURE.md,
 * "Declared blocking calls").  Every entry is checked before anything is
 * installed: bad input is one line naming the entry and exit status 2, so
 * nothing runs half-configured. */
#include <ctype.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"
#include "shim/blocking.h"

GORO_HIDDEN struct blk_entry goro__blk[GORO_BLK_MAX];
GORO_HIDDEN int goro__nblk;
GORO_HIDDEN bool goro__blk_nodefaults;
GORO_HIDDEN bool goro__blk_debug;

#define BLK_FILE_MAX (64 << 10) /* the longest @file read */

static const char accepted[] = "accepted: [library:]function:return(type,...)[!] with types void int uint "
			       "long ulong size_t ssize_t ptr double float (void only as the return or as "
			       "the sole argument; no '...'), or @file with one entry per line";

/* The entry is quoted with every byte outside printable ASCII as '?': a
 * newline in it cannot make a second line. */
static __attribute__((noreturn)) void bad_entry(const char *entry, size_t n, const char *what)
{
	char shown[201];
	size_t k = n < sizeof shown - 1 ? n : sizeof shown - 1;
	for (size_t i = 0; i < k; i++) {
		shown[i] = entry[i];
		if (entry[i] < 0x20 || entry[i] >= 0x7f)
			shown[i] = '?';
	}
	shown[k] = 0;
	goro__refuse("GORO_BLOCKING entry \"%s\" is not valid: %s; %s", shown, what, accepted);
}

/* The type named by s[0..n), or -1. */
static int type_of(const char *s, size_t n)
{
	static const struct { const char *name; uint8_t t; } types[] = {
		{ "void", BT_VOID },   { "int", BT_INT },       { "uint", BT_UINT },
		{ "long", BT_LONG },   { "ulong", BT_ULONG },   { "size_t", BT_ULONG },
		{ "ssize_t", BT_LONG }, { "ptr", BT_PTR },      { "double", BT_DOUBLE },
		{ "float", BT_FLOAT },
	};
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strlen(types[i].name) == n && strncmp(s, types[i].name, n) == 0)
			return types[i].t;
	return -1;
}

static bool is_ident(const char *s, size_t n)
{
	if (!n || n >= GORO_BLK_NAME || (!isalpha((unsigned char)*s) && *s != '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* The argument list between '(' and ')': s[0..n). */
static void parse_args(struct blk_entry *e, const char *entry, size_t elen, const char *s, size_t n)
{
	if (n == 0 || type_of(s, n) == BT_VOID)
		return; /* "()" and "(void)": none */
	const char *end = s + n;
	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		size_t k = comma ? (size_t)(comma - s) : (size_t)(end - s);
		int t = type_of(s, k);
		if (t < 0)
			bad_entry(entry, elen, "an argument type is not one of the types");
		if (t == BT_VOID)
			bad_entry(entry, elen, "void is not an argument type");
		if (e->nargs == GORO_BLK_MAXARGS)
			bad_entry(entry, elen, "more than 12 arguments");
		e->args[e->nargs++] = (uint8_t)t;
		if (!comma)
			return;
		s = comma + 1;
	}
}

/* "[library:]function:return" in s[0..n). */
static void parse_head(struct blk_entry *e, const char *entry, size_t elen, const char *s, size_t n)
{
	const char *c2 = NULL, *c1 = memchr(s, ':', n);
	if (!c1)
		bad_entry(entry, elen, "no ':' between the function and its return type");
	c2 = memchr(c1 + 1, ':', (size_t)(s + n - c1 - 1));
	if (c2 && memchr(c2 + 1, ':', (size_t)(s + n - c2 - 1)))
		bad_entry(entry, elen, "more than two ':'");
	const char *fn = s, *rt = c1 + 1;
	if (c2) {
		size_t ln = (size_t)(c1 - s);
		if (ln == 0 || ln >= GORO_BLK_NAME || memchr(s, '/', ln))
			bad_entry(entry, elen, "the library is not a file name (its basename, no '/')");
		memcpy(e->lib, s, ln);
		fn = c1 + 1, rt = c2 + 1;
	}
	size_t fl = (size_t)((c2 ? c2 : c1) - fn);
	if (!is_ident(fn, fl))
		bad_entry(entry, elen, "the function is not a C identifier");
	memcpy(e->name, fn, fl);
	int t = type_of(rt, (size_t)(s + n - rt));
	if (t < 0)
		bad_entry(entry, elen, "the return type is not one of the types");
	e->ret = (uint8_t)t;
}

/* One entry, s[0..n), spaces around it trimmed. */
static void parse_entry(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		bad_entry(s, n, "the entry is empty");
	if (goro__nblk == GORO_BLK_MAX)
		bad_entry(s, n, "more than 64 entries");
	struct blk_entry *e = &goro__blk[goro__nblk];
	memset(e, 0, sizeof *e);
	(void)snprintf(e->text, sizeof e->text, "%.*s", (int)n, s);
	if (memmem(s, n, "...", 3))
		bad_entry(s, n, "variadic functions cannot be declared");
	const char *lp = memchr(s, '(', n);
	e->cancel = s[n - 1] == '!';
	size_t rpos = n - 1 - e->cancel;
	if (!lp || s[rpos] != ')' || memchr(lp + 1, '(', rpos - (size_t)(lp - s) - 1) ||
	    memchr(lp + 1, ')', rpos - (size_t)(lp - s) - 1))
		bad_entry(s, n, "no single (argument list) closing the entry (then only '!')");
	parse_head(e, s, n, s, (size_t)(lp - s));
	parse_args(e, s, n, lp + 1, rpos - (size_t)(lp - s) - 1);
	for (int i = 0; i < goro__nblk; i++)
		if (strcmp(goro__blk[i].name, e->name) == 0 && strcmp(goro__blk[i].lib, e->lib) == 0)
			bad_entry(s, n, "the function is declared twice");
	goro__nblk++;
}

/* The next item of s[..end) separated by sep (a ',' inside parentheses
 * separates arguments, not entries): its length; *s moves past it. */
static size_t next_item(const char **s, const char *end, char sep, const char **item)
{
	const char *p = *s;
	int depth = 0;
	while (p < end && (*p != sep || depth > 0)) {
		depth += (*p == '(') - (*p == ')');
		p++;
	}
	*item = *s;
	*s = p + 1;
	return (size_t)(p - *item);
}

/* A file's lines: '#' starts a comment, blank lines are skipped. */
static void parse_lines(const char *s, size_t n)
{
	const char *end = s + n, *line;
	while (s < end) {
		size_t k = next_item(&s, end, '\n', &line);
		const char *hash = memchr(line, '#', k);
		if (hash)
			k = (size_t)(hash - line);
		if (strspn(line, " \t\r") < k)
			parse_entry(line, k);
	}
}

/* "@path": its lines are entries. */
static void parse_file(const char *entry, size_t elen)
{
	char path[4096], buf[BLK_FILE_MAX + 1];
	(void)snprintf(path, sizeof path, "%.*s", (int)(elen - 1), entry + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		bad_entry(entry, elen, "the file cannot be opened");
	size_t len = 0;
	ssize_t r;
	while (len < sizeof buf && (r = read(fd, buf + len, sizeof buf - len)) > 0)
		len += (size_t)r;
	close(fd);
	if (len > BLK_FILE_MAX)
		bad_entry(entry, elen, "the file is longer than 64 KiB");
	parse_lines(buf, len);
}

void goro__blocking_parse(const char *v)
{
	if (!*v)
		bad_entry(v, 0, "the value is empty (unset GORO_BLOCKING for the built-in entries only)");
	if (*v == '-') {
		goro__blk_nodefaults = true;
		v++;
	}
	for (const char *c = v; *c; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t')
			bad_entry(v, strlen(v), "a control character in the value (a file's lines go in @file)");
	const char *end = v + strlen(v), *item;
	if (end[-1] == ',')
		bad_entry(v, (size_t)(end - v), "an empty entry after the last ','");
	while (*v && v < end) {
		size_t k = next_item(&v, end, ',', &item);
		size_t lead = strspn(item, " \t");
		if (lead < k && item[lead] == '@')
			parse_file(item + lead, k - lead);
		else
			parse_entry(item, k);
	}
}

/* Does the loaded object's path name the library (its basename, or the
 * basename up to a '.' after it: "libvend.so" names libvend.so.1)? */
static bool names_lib(const char *path, const char *lib)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(lib);
	return strncmp(base, lib, n) == 0 && (base[n] == 0 || base[n] == '.');
}

/* e's definition: in the named library, else the first in load order
 * (the global lookup order of the objects loaded at start-up).  Never
 * libgoro's own: a function goro interposes already runs through goro. */
static void *resolve(const struct blk_entry *e)
{
	const struct link_map *self = goro__map_of((const void *)&resolve);
	void *h = goro__real.dlopen(NULL, RTLD_LAZY | RTLD_NOLOAD);
	struct link_map *lm = NULL;
	if (!h || dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0)
		goro__throw("GORO_BLOCKING: cannot walk the loaded objects (dlinfo)");
	bool seen = false;
	for (; lm; lm = lm->l_next) {
		if (lm == self || (e->lib[0] && (!lm->l_name || !names_lib(lm->l_name, e->lib))))
			continue;
		seen = true;
		void *f = goro__elf_lookup(lm, e->name);
		if (f)
			return f;
	}
	if (e->lib[0] && !seen)
		goro__refuse("GORO_BLOCKING entry \"%s\" is not valid: no loaded object is the library %s "
			     "(the basename of an object loaded at start-up)", e->text, e->lib);
	return NULL;
}

void goro__blocking_install(void)
{
	for (int i = 0; i < goro__nblk; i++) {
		struct blk_entry *e = &goro__blk[i];
		e->orig = resolve(e);
		if (!e->orig)
			goro__refuse("GORO_BLOCKING entry \"%s\" is not valid: no loaded object defines %s%s%s",
				     e->text, e->name, e->lib[0] ? " in " : "", e->lib);
	}
	for (int i = 0; i < goro__nblk; i++)
		goro__blk_ffi_closure(&goro__blk[i]);
	goro__blk_got_patch(goro__blk_debug);
	for (int i = 0; i < goro__nblk; i++) {
		struct blk_entry *e = &goro__blk[i];
		if (!e->patched && !e->warned) {
			e->warned = true;
			goro__errorf("goro: GORO_BLOCKING entry \"%s\" matched nothing: no loaded object calls "
				     "%s through its GOT (a library's calls to its own functions cannot be "
				     "reached)\n", e->text, e->name);
		}
	}
}

void goro__blocking_dlopen(void)
{
	if (goro__nblk)
		goro__blk_got_patch(goro__blk_debug);
}

void *goro__blocking_wrapper(const char *name)
{
	for (int i = 0; i < goro__nblk; i++)
		if (goro__blk[i].wrapper && strcmp(goro__blk[i].name, name) == 0)
			return goro__blk[i].wrapper;
	return NULL;
}
