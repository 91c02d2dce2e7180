/* ddmap.c: GNU ddrescue mapfiles (the GNU ddrescue manual, "Mapfile structure"). The text is
 *   # comment lines
 *   0x00120000  ?  1                  current position, status of the operation, optional pass
 *   0x00000000  0x00100000  +         then one line per area: position, size, status
 * with positions and sizes in bytes, "0x" hex or decimal, and an area's status one of
 * '?' non-tried, '*' non-trimmed, '/' non-scraped, '-' bad sector, '+' finished. Areas are
 * sorted and do not overlap. Only '+' areas hold data that was really read. */
#include "io.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DDMAP_MAX_BYTES (1ull << 30)   /* a mapfile larger than this is refused */

static bool area_status(char c)
{
	return c == '?' || c == '*' || c == '/' || c == '-' || c == '+';
}

static bool op_status(char c)
{
	return area_status(c) || c == 'F' || c == 'G';
}

static int push(struct sv_ddmap *m, uint64_t pos, uint64_t size, char status)
{
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 64;
		if (nc > SIZE_MAX / sizeof *m->v)
			return SV_ERR_NOMEM;
		struct sv_ddmap_ent *nv = realloc(m->v, nc * sizeof *nv);
		if (!nv)
			return SV_ERR_NOMEM;
		m->v = nv;
		m->cap = nc;
	}
	m->v[m->n++] = (struct sv_ddmap_ent){ pos, size, status };
	return SV_OK;
}

static const char *skip_blank(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

/* A number in decimal or 0x hex; strict: digits only, no sign, no overflow. */
static const char *parse_num(const char *p, const char *e, uint64_t *out)
{
	unsigned base = 10;
	if (e - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	const char *start = p;
	uint64_t v = 0;
	for (; p < e; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return NULL;
		v = v * base + d;
	}
	if (p == start)
		return NULL;
	*out = v;
	return p;
}

int sv_ddmap_parse(const char *text, size_t len, struct sv_ddmap *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	const char *p = text, *end = text + len;
	bool have_cur = false;
	uint64_t prev_end = 0;
	for (unsigned long line = 1; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *q = skip_blank(p, le);
		p = nl ? nl + 1 : end;
		if (q == le || *q == '#')
			continue;
		uint64_t a, b = 0;
		int st = SV_OK;
		const char *why = NULL;
		if (!(q = parse_num(q, le, &a))) {
			why = "a position (a number) was expected";
		} else if (!have_cur) {
			q = skip_blank(q, le);
			if (q == le || !op_status(*q)) {
				why = "the current-position line needs a status (one of ?*/-FG+)";
			} else {
				m->current_pos = a;
				m->current_status = *q++;
				q = skip_blank(q, le);
				uint64_t pass;
				if (q < le && (q = parse_num(q, le, &pass)) != NULL && pass < 1000)
					m->current_pass = (int)pass;
				have_cur = true;
				continue;
			}
		} else {
			q = skip_blank(q, le);
			if (!(q = parse_num(q, le, &b)))
				why = "a size was expected after the position";
			else if ((q = skip_blank(q, le)) == le || !area_status(*q))
				why = "the status must be one of ? * / - +";
			else if (b > UINT64_MAX - a)
				why = "the area runs past the largest byte offset";
			else if (a < prev_end)
				why = "areas must be sorted and must not overlap";
			else if (b && (st = push(m, a, b, *q)) != SV_OK) {
				sv_ddmap_free(m);
				snprintf(err, errlen, "out of memory reading the mapfile");
				return st;
			}
			if (!why) {
				q++;
				if (skip_blank(q, le) != le)
					why = "unexpected text after the status";
				else if (b)
					prev_end = a + b;
			}
		}
		if (why) {
			snprintf(err, errlen, "line %lu is not a ddrescue mapfile line: %s", line, why);
			sv_ddmap_free(m);
			return SV_ERR_CORRUPT;
		}
	}
	if (!have_cur) {
		snprintf(err, errlen, "no current-position line: not a ddrescue mapfile");
		sv_ddmap_free(m);
		return SV_ERR_CORRUPT;
	}
	return SV_OK;
}

int sv_ddmap_load(const char *path, struct sv_ddmap *m, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open mapfile %s: %s", path, strerror(errno));
		return errno == ENOENT ? SV_ERR_NOTFOUND : SV_ERR_IO;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > DDMAP_MAX_BYTES) {
		snprintf(err, errlen, "mapfile %s is not a regular file of at most 1 GiB", path);
		close(fd);
		return SV_ERR_INVAL;
	}
	size_t n = (size_t)st.st_size, got = 0;
	char *buf = malloc(n ? n : 1);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "out of memory reading mapfile %s", path);
		return SV_ERR_NOMEM;
	}
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	char e2[200];
	int rc = sv_ddmap_parse(buf, got, m, e2, sizeof e2);
	free(buf);
	if (rc != SV_OK)
		snprintf(err, errlen, "mapfile %s: %s", path, e2);
	return rc;
}

static int cmp_pos(const struct sv_ddmap_ent *e, uint64_t pos)
{
	return pos < e->pos ? -1 : pos >= e->pos + e->size ? 1 : 0;
}

char sv_ddmap_status(const struct sv_ddmap *m, uint64_t pos)
{
	size_t a = 0, b = m->n;
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		int c = cmp_pos(&m->v[mid], pos);
		if (c == 0)
			return m->v[mid].status;
		if (c < 0)
			b = mid;
		else
			a = mid + 1;
	}
	return '?';
}

/* Rebuild the entries with [pos, pos+size) set to status: copy what lies before, the pieces of
 * overlapping entries outside the range, the new area, what lies after; merge equal neighbours. */
int sv_ddmap_set(struct sv_ddmap *m, uint64_t pos, uint64_t size, char status)
{
	if (!size)
		return SV_OK;
	if (!area_status(status))
		return SV_ERR_INVAL;
	if (size > UINT64_MAX - pos)
		size = UINT64_MAX - pos;
	uint64_t end = pos + size;
	struct sv_ddmap nm = *m;
	nm.v = NULL;
	nm.n = nm.cap = 0;
	bool placed = false;
	int st = SV_OK;
	for (size_t i = 0; i <= m->n && st == SV_OK; i++) {
		const struct sv_ddmap_ent *e = i < m->n ? &m->v[i] : NULL;
		if (!placed && (!e || e->pos + e->size > pos)) {
			if (e && e->pos < pos)
				st = push(&nm, e->pos, pos - e->pos, e->status);
			if (st == SV_OK)
				st = push(&nm, pos, size, status);
			placed = true;
			if (e && e->pos + e->size > end && st == SV_OK) {   /* what is left of e after the area */
				uint64_t t = e->pos > end ? e->pos : end;
				st = push(&nm, t, e->pos + e->size - t, e->status);
			}
			continue;
		}
		if (!e)
			break;
		if (placed && e->pos < end) {      /* overlaps the new area: keep only its tail */
			if (e->pos + e->size > end)
				st = push(&nm, end, e->pos + e->size - end, e->status);
			continue;
		}
		st = push(&nm, e->pos, e->size, e->status);
	}
	if (st != SV_OK) {
		free(nm.v);
		return st;
	}
	/* merge touching entries of one status */
	size_t w = 0;
	for (size_t i = 0; i < nm.n; i++) {
		if (w && nm.v[w - 1].status == nm.v[i].status && nm.v[w - 1].pos + nm.v[w - 1].size == nm.v[i].pos)
			nm.v[w - 1].size += nm.v[i].size;
		else
			nm.v[w++] = nm.v[i];
	}
	nm.n = w;
	free(m->v);
	*m = nm;
	return SV_OK;
}

int sv_ddmap_unfinished(const struct sv_ddmap *m, uint64_t size, struct sv_ranges *out)
{
	uint64_t at = 0;
	for (size_t i = 0; i < m->n && at < size; i++) {
		const struct sv_ddmap_ent *e = &m->v[i];
		if (e->pos > at && sv_ranges_add(out, at, (e->pos < size ? e->pos : size) - at) != SV_OK)
			return SV_ERR_NOMEM;   /* a gap: never tried */
		if (e->pos >= size)
			break;
		uint64_t ee = e->pos + e->size < size ? e->pos + e->size : size;
		if (e->status != '+' && sv_ranges_add(out, e->pos, ee - e->pos) != SV_OK)
			return SV_ERR_NOMEM;
		at = ee > at ? ee : at;
	}
	if (at < size && sv_ranges_add(out, at, size - at) != SV_OK)
		return SV_ERR_NOMEM;
	return SV_OK;
}

int sv_ddmap_save(const struct sv_ddmap *m, const char *path, const char *cmdline, char *err, size_t errlen)
{
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 16);
	if (!tmp) {
		snprintf(err, errlen, "out of memory");
		return SV_ERR_NOMEM;
	}
	snprintf(tmp, pl + 16, "%s.tmpXXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write mapfile %s: %s", path, strerror(errno));
		free(tmp);
		return SV_ERR_IO;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		free(tmp);
		snprintf(err, errlen, "cannot write mapfile %s: %s", path, strerror(errno));
		return SV_ERR_IO;
	}
	fprintf(f, "# Mapfile. Created by salvage (GNU ddrescue mapfile format)\n");
	if (cmdline)
		fprintf(f, "# Command line: %s\n", cmdline);
	fprintf(f, "# current_pos  current_status  current_pass\n");
	fprintf(f, "0x%08llX     %c               %d\n", (unsigned long long)m->current_pos,
		m->current_status ? m->current_status : '?', m->current_pass > 0 ? m->current_pass : 1);
	fprintf(f, "#      pos        size  status\n");
	for (size_t i = 0; i < m->n; i++)
		fprintf(f, "0x%08llX  0x%08llX  %c\n", (unsigned long long)m->v[i].pos, (unsigned long long)m->v[i].size,
			m->v[i].status);
	int bad = fflush(f) != 0 || ferror(f) || fsync(fd) != 0;
	int e = errno;
	if (fclose(f) != 0)
		bad = 1;
	if (bad || rename(tmp, path) != 0) {
		if (!bad)
			e = errno;
		unlink(tmp);
		snprintf(err, errlen, "cannot write mapfile %s: %s", path, strerror(e));
		free(tmp);
		return SV_ERR_IO;
	}
	free(tmp);
	return SV_OK;
}

void sv_ddmap_free(struct sv_ddmap *m)
{
	free(m->v);
	memset(m, 0, sizeof *m);
}
