/* internal.h: what the files of the export layer share: the few calls that differ between
 * operating systems (osdep.c) and small helpers. */
#ifndef SV_EXPORT_INTERNAL_H
#define SV_EXPORT_INTERNAL_H

#include "export.h"
#include <sys/types.h>

/* Extended attributes on the destination. Return 0 or -1 with errno (ENOTSUP where the platform
 * has none). The name is the Linux one ("user.foo"); platforms without namespaces map it. */
int sv_os_fsetxattr(int fd, const char *name, const void *value, size_t len);
int sv_os_lsetxattr(const char *path, const char *name, const void *value, size_t len);
/* True when this build can set extended attributes at all. */
bool sv_os_has_xattrs(void);
/* Enlarge the pipe behind fd where the platform allows (no effect otherwise). */
void sv_os_grow_pipe(int fd);
/* A dev_t from a Linux major/minor pair. */
dev_t sv_os_makedev(uint32_t major, uint32_t minor);

#endif
