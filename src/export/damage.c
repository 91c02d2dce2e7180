/* damage.c: the damage registry (what a copy lost, per damaged inode, under every name) and the
 * reports made from it: the text and JSON damage reports and manifest lines. The formats are the
 * ones agreed for issue 8 (see export.h); a person reads the text, a program the JSON. */
#include "internal.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Where lost bytes lie in the source, per add (kept for coming back to them). */
struct src_piece {
	uint64_t foff, src, len;
};

struct dfile {
	uint32_t ino;
	unsigned why;
	uint64_t size;
	struct sv_ranges lost;
	char **names;
	size_t nnames, namecap;
	struct src_piece *src;
	size_t nsrc, srccap;
};

struct dmeta {
	const char *what;
	uint64_t block;
	uint32_t ino;
	char *path;
};

struct sv_damage {
	struct dfile *f;
	size_t n, cap;
	struct sv_inomap idx;     /* inode -> index + 1 */
	struct dmeta *m;
	size_t nm, mcap;
	size_t lines;
};

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return true;
	size_t nc = *cap ? *cap * 2 : 8;
	while (nc < need)
		nc *= 2;
	void *q = realloc(*p, nc * size);
	if (!q)
		return false;
	*p = q;
	*cap = nc;
	return true;
}

int sv_damage_new(struct sv_damage **out)
{
	struct sv_damage *d = calloc(1, sizeof *d);
	if (!d)
		return SV_ERR_NOMEM;
	*out = d;
	return SV_OK;
}

void sv_damage_free(struct sv_damage *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		struct dfile *f = &d->f[i];
		sv_ranges_free(&f->lost);
		for (size_t k = 0; k < f->nnames; k++)
			free(f->names[k]);
		free(f->names);
		free(f->src);
	}
	free(d->f);
	for (size_t i = 0; i < d->nm; i++)
		free(d->m[i].path);
	free(d->m);
	sv_inomap_free(&d->idx);
	free(d);
}

static struct dfile *find(const struct sv_damage *d, uint32_t ino)
{
	uint32_t *v = sv_inomap_get((struct sv_inomap *)&d->idx, ino);
	return v ? &d->f[*v - 1] : NULL;
}

static int name_add(struct sv_damage *d, struct dfile *f, const char *path)
{
	if (!path)
		return SV_OK;
	for (size_t k = 0; k < f->nnames; k++)
		if (!strcmp(f->names[k], path))
			return SV_OK;
	char *p = strdup(path);
	if (!p || !grow((void **)&f->names, &f->namecap, f->nnames + 1, sizeof *f->names)) {
		free(p);
		return SV_ERR_NOMEM;
	}
	f->names[f->nnames++] = p;
	d->lines++;
	return SV_OK;
}

int sv_damage_add(struct sv_damage *d, const struct sv_inode *in, const char *path, uint64_t off, uint64_t len,
		  uint64_t src_off, unsigned why)
{
	if (!len)
		return SV_OK;
	struct dfile *f = find(d, in->ino);
	if (!f) {
		if (d->n >= UINT32_MAX - 1 || !grow((void **)&d->f, &d->cap, d->n + 1, sizeof *d->f) ||
		    sv_inomap_put(&d->idx, in->ino, (uint32_t)d->n + 1) != SV_OK)
			return SV_ERR_NOMEM;
		f = &d->f[d->n++];
		memset(f, 0, sizeof *f);
		f->ino = in->ino;
		f->size = in->size;
	}
	f->why |= why;
	if (sv_ranges_add(&f->lost, off, len) != SV_OK)
		return SV_ERR_NOMEM;
	if (src_off != UINT64_MAX) {
		struct src_piece *last = f->nsrc ? &f->src[f->nsrc - 1] : NULL;
		if (last && last->foff + last->len == off && last->src + last->len == src_off) {
			last->len += len;
		} else {
			if (!grow((void **)&f->src, &f->srccap, f->nsrc + 1, sizeof *f->src))
				return SV_ERR_NOMEM;
			f->src[f->nsrc++] = (struct src_piece){ off, src_off, len };
		}
	}
	return name_add(d, f, path);
}

int sv_damage_add_name(struct sv_damage *d, uint32_t ino, const char *path)
{
	struct dfile *f = find(d, ino);
	return f ? name_add(d, f, path) : SV_OK;
}

const struct sv_ranges *sv_damage_lost(const struct sv_damage *d, uint32_t ino)
{
	const struct dfile *f = find(d, ino);
	return f ? &f->lost : NULL;
}

int sv_damage_meta(struct sv_damage *d, const char *what, uint64_t block, uint32_t ino, const char *path)
{
	if (d->nm) {
		const struct dmeta *p = &d->m[d->nm - 1];
		if (p->what == what && p->block == block && p->ino == ino &&
		    (p->path ? path && !strcmp(p->path, path) : !path))
			return SV_OK;
	}
	char *cp = path ? strdup(path) : NULL;
	if ((path && !cp) || !grow((void **)&d->m, &d->mcap, d->nm + 1, sizeof *d->m)) {
		free(cp);
		return SV_ERR_NOMEM;
	}
	d->m[d->nm++] = (struct dmeta){ what, block, ino, cp };
	return SV_OK;
}

size_t sv_damage_count(const struct sv_damage *d) { return d->n; }
size_t sv_damage_lines(const struct sv_damage *d) { return d->lines; }
size_t sv_damage_meta_count(const struct sv_damage *d) { return d->nm; }

void sv_damage_get(const struct sv_damage *d, size_t i, struct sv_damage_file *out)
{
	const struct dfile *f = &d->f[i];
	out->ino = f->ino;
	out->size = f->size;
	out->why = f->why;
	out->lost = &f->lost;
	out->names = (const char *const *)f->names;
	out->nnames = f->nnames;
}

uint64_t sv_damage_bytes(const struct sv_damage *d)
{
	uint64_t t = 0;
	for (size_t i = 0; i < d->n; i++)
		t += sv_ranges_total(&d->f[i].lost);
	return t;
}

int sv_damage_each_source(const struct sv_damage *d, size_t i,
			  int (*fn)(void *ctx, uint64_t file_off, uint64_t src_off, uint64_t len), void *ctx)
{
	const struct dfile *f = &d->f[i];
	for (size_t k = 0; k < f->nsrc; k++) {
		int r = fn(ctx, f->src[k].foff, f->src[k].src, f->src[k].len);
		if (r)
			return r;
	}
	return 0;
}

const char *sv_damage_why(unsigned why, char *buf, size_t cap)
{
	static const struct { unsigned bit; const char *s; } w[] = {
		{ SV_LOST_READ, "read error" }, { SV_LOST_SKIPPED, "skipped" }, { SV_LOST_DDMAP, "ddrescue map" },
		{ SV_LOST_MAP, "map damaged" }, { SV_LOST_INLINE, "inline data damaged" },
		{ SV_LOST_OUTSIDE, "map points outside the filesystem" },
	};
	size_t len = 0;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
		if (!(why & w[i].bit))
			continue;
		int k = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", w[i].s);
		if (k < 0 || (size_t)k >= cap - len)
			break;
		len += (size_t)k;
	}
	return buf;
}

/* ---- writing ---- */
void sv_write_escaped(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t')
			fputs("\\t", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\\')
			fputs("\\\\", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

static void json_str(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
		} else if (c < 0x80) {
			fputc(c, f);
		} else {
			/* valid UTF-8 passes; any other byte becomes \u00XX of its value (as everywhere in salvage) */
			int n = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
			bool ok = n > 0;
			for (int k = 1; ok && k <= n; k++)
				ok = i + (size_t)k < len && ((unsigned char)s[i + (size_t)k] & 0xC0) == 0x80;
			if (ok) {
				fwrite(s + i, 1, (size_t)n + 1, f);
				i += (size_t)n;
			} else {
				fprintf(f, "\\u%04x", c);
			}
		}
	}
	fputc('"', f);
}

static void damaged_line(FILE *f, const char *prefix, const struct dfile *df, size_t k, size_t max_ranges)
{
	fprintf(f, "%sdamaged: ", prefix);
	sv_write_escaped(f, df->names[k], strlen(df->names[k]));
	fprintf(f, " (inode %u, %llu bytes): lost bytes ", df->ino, (unsigned long long)df->size);
	for (size_t r = 0; r < df->lost.n; r++) {
		if (max_ranges && r == max_ranges) {
			fprintf(f, " and %zu more ranges", df->lost.n - r);
			break;
		}
		fprintf(f, "%s%llu-%llu", r ? ", " : "", (unsigned long long)df->lost.v[r].off,
			(unsigned long long)(df->lost.v[r].off + df->lost.v[r].len - 1));
	}
	fputc('\n', f);
}

size_t sv_damage_write_lines(const struct sv_damage *d, FILE *f, const char *prefix, size_t max_lines,
			     size_t max_ranges)
{
	size_t shown = 0;
	for (size_t i = 0; i < d->n; i++)
		for (size_t k = 0; k < d->f[i].nnames; k++)
			if (shown < max_lines) {
				damaged_line(f, prefix, &d->f[i], k, max_ranges);
				shown++;
			}
	return d->lines - shown;
}

static const char *const kind_name[] = { NULL, "error", "skipped", "map" };

int sv_damage_write_text(const struct sv_damage *d, struct sv_dev *rescue, const char *source, FILE *f)
{
	sv_damage_write_lines(d, f, "", SIZE_MAX, 0);
	for (size_t i = 0; i < d->nm; i++) {
		const struct dmeta *m = &d->m[i];
		fprintf(f, "metadata: %s", m->what);
		if (m->block != SV_NOBLOCK)
			fprintf(f, " block %llu", (unsigned long long)m->block);
		if (m->ino)
			fprintf(f, " (inode %u)", m->ino);
		if (m->path) {
			fputs(": ", f);
			sv_write_escaped(f, m->path, strlen(m->path));
		}
		fputc('\n', f);
	}
	for (int k = SV_BAD_ERROR; rescue && k <= SV_BAD_MAP; k++) {
		const struct sv_ranges *a = sv_rescue_areas(rescue, k);
		for (size_t i = 0; a && i < a->n; i++) {
			fprintf(f, "bad area: bytes %llu-%llu of ", (unsigned long long)a->v[i].off,
				(unsigned long long)(a->v[i].off + a->v[i].len - 1));
			sv_write_escaped(f, source ? source : "SOURCE", strlen(source ? source : "SOURCE"));
			fprintf(f, " (%s)\n", kind_name[k]);
		}
	}
	fflush(f);
	return ferror(f) ? -1 : 0;
}

/* All bad areas of the rescue reader, in address order across kinds. */
static void json_areas(FILE *f, struct sv_dev *rescue)
{
	const struct sv_ranges *a[4] = { NULL, NULL, NULL, NULL };
	size_t at[4] = { 0, 0, 0, 0 };
	for (int k = SV_BAD_ERROR; rescue && k <= SV_BAD_MAP; k++)
		a[k] = sv_rescue_areas(rescue, k);
	bool first = true;
	for (;;) {
		int best = 0;
		for (int k = SV_BAD_ERROR; k <= SV_BAD_MAP; k++)
			if (a[k] && at[k] < a[k]->n && (!best || a[k]->v[at[k]].off < a[best]->v[at[best]].off))
				best = k;
		if (!best)
			break;
		const struct sv_range *r = &a[best]->v[at[best]++];
		fprintf(f, "%s{\"offset\":%llu,\"length\":%llu,\"kind\":\"%s\"}", first ? "" : ",",
			(unsigned long long)r->off, (unsigned long long)r->len, kind_name[best]);
		first = false;
	}
}

int sv_damage_write_json(const struct sv_damage *d, struct sv_dev *rescue, FILE *f)
{
	char why[128];
	fputs("{\"damaged\":[", f);
	for (size_t i = 0; i < d->n; i++) {
		const struct dfile *df = &d->f[i];
		fputs(i ? ",\n{\"path\":" : "\n{\"path\":", f);
		const char *first = df->nnames ? df->names[0] : "";
		json_str(f, first, strlen(first));
		fputs(",\"names\":[", f);
		for (size_t k = 0; k < df->nnames; k++) {
			if (k)
				fputc(',', f);
			json_str(f, df->names[k], strlen(df->names[k]));
		}
		fprintf(f, "],\"ino\":%u,\"size\":%llu,\"lost\":[", df->ino, (unsigned long long)df->size);
		for (size_t r = 0; r < df->lost.n; r++)
			fprintf(f, "%s[%llu,%llu]", r ? "," : "", (unsigned long long)df->lost.v[r].off,
				(unsigned long long)df->lost.v[r].len);
		sv_damage_why(df->why, why, sizeof why);
		fputs("],\"why\":", f);
		json_str(f, why, strlen(why));
		fputc('}', f);
	}
	fputs("],\n\"bad_areas\":[", f);
	json_areas(f, rescue);
	fputs("],\n\"metadata\":[", f);
	for (size_t i = 0; i < d->nm; i++) {
		const struct dmeta *m = &d->m[i];
		fputs(i ? ",\n{\"what\":" : "\n{\"what\":", f);
		json_str(f, m->what, strlen(m->what));
		if (m->block == SV_NOBLOCK)
			fputs(",\"block\":null", f);
		else
			fprintf(f, ",\"block\":%llu", (unsigned long long)m->block);
		fprintf(f, ",\"ino\":%u,\"path\":", m->ino);
		if (m->path)
			json_str(f, m->path, strlen(m->path));
		else
			fputs("null", f);
		fputc('}', f);
	}
	fprintf(f, "],\n\"files_damaged\":%zu,\"bytes_lost\":%llu}\n", d->n, (unsigned long long)sv_damage_bytes(d));
	fflush(f);
	return ferror(f) ? -1 : 0;
}

/* ---- manifests ---- */
int sv_manifest_header(FILE *f)
{
	fputs("# salvage manifest 1: sha256 size status path\n", f);
	return ferror(f) ? -1 : 0;
}

int sv_manifest_line(FILE *f, const struct sv_file_done *fd)
{
	char hex[65];
	sv_sha256_hex(fd->sha256, hex);
	fprintf(f, "%s\t%llu\t", hex, (unsigned long long)fd->size);
	if (!fd->lost || !fd->lost->n) {
		fputs("intact", f);
	} else {
		fputs("damaged:", f);
		for (size_t r = 0; r < fd->lost->n; r++)
			fprintf(f, "%s%llu+%llu", r ? "," : "", (unsigned long long)fd->lost->v[r].off,
				(unsigned long long)fd->lost->v[r].len);
	}
	fputc('\t', f);
	sv_write_escaped(f, fd->path, strlen(fd->path));
	fputc('\n', f);
	return ferror(f) ? -1 : 0;
}
