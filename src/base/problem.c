/* problem.c: status strings and the problem channel. */
#include "base.h"
#include <stdio.h>
#include <string.h>

const char *sv_strerror(int st)
{
	switch (st) {
	case SV_OK: return "success";
	case SV_ERR_IO: return "read error";
	case SV_ERR_CORRUPT: return "damaged on-disk data";
	case SV_ERR_NOMEM: return "out of memory";
	case SV_ERR_NOTFOUND: return "not found";
	case SV_ERR_UNSUPPORTED: return "unsupported feature";
	case SV_ERR_INVAL: return "invalid argument";
	case SV_ERR_NOTDIR: return "not a directory";
	case SV_ERR_ENCRYPTED: return "encrypted (no key)";
	case SV_ERR_STOP: return "stopped";
	case SV_ERR_CSUM: return "checksum mismatch";
	}
	return "unknown error";
}

#define SV_PB_NAME_(name, sev, desc) #name,
static const char *const pb_names[] = { SV_PROBLEMS(SV_PB_NAME_) };
#define SV_PB_SEV_(name, sev, desc) sev,
static const int pb_sev[] = { SV_PROBLEMS(SV_PB_SEV_) };

const char *sv_problem_name(int code)
{
	if (code < 0 || code >= SV_PB__COUNT)
		return "unknown";
	return pb_names[code] + 6; /* skip "SV_PB_" */
}

int sv_problem_severity(int code)
{
	if (code < 0 || code >= SV_PB__COUNT)
		return SV_SEV_ERROR;
	return pb_sev[code];
}

void sv_report(struct sv_report *r, int code, uint64_t ino, uint64_t block, const char *fmt, ...)
{
	if (!r)
		return;
	struct sv_problem pb;
	memset(&pb, 0, sizeof pb);
	pb.code = code;
	pb.severity = sv_problem_severity(code);
	pb.ino = ino;
	pb.block = block;
	pb.path = r->path;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pb.msg, sizeof pb.msg, fmt, ap);
	va_end(ap);
	r->count++;
	if (pb.severity >= SV_SEV_WARN)
		r->errors++;
	if (r->fn)
		r->fn(r->ctx, &pb);
}

const char *sv_human_size(uint64_t bytes, char *buf, size_t cap)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	if (bytes < 1024) {
		snprintf(buf, cap, "%llu B", (unsigned long long)bytes);
		return buf;
	}
	double v = (double)bytes;
	int u = 0;
	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	snprintf(buf, cap, "%.1f %s", v, unit[u]);
	return buf;
}
