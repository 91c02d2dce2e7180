/* osdep.c: the export layer's only operating-system-specific code: extended attributes and
 * device numbers on the destination. */
#include "internal.h"
#include <errno.h>
#include <string.h>
#include <sys/types.h>
#include <fcntl.h>
#if defined(__linux__)
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#elif defined(__APPLE__)
#include <sys/xattr.h>
#endif

#if defined(__linux__)
int sv_os_fsetxattr(int fd, const char *name, const void *value, size_t len)
{
	return fsetxattr(fd, name, value, len, 0);
}
int sv_os_lsetxattr(const char *path, const char *name, const void *value, size_t len)
{
	return lsetxattr(path, name, value, len, 0);
}
bool sv_os_has_xattrs(void) { return true; }
#elif defined(__APPLE__)
/* macOS has one flat namespace: "user.foo" becomes "foo"; other namespaces have no meaning there. */
static const char *apple_name(const char *name)
{
	return strncmp(name, "user.", 5) == 0 ? name + 5 : NULL;
}
int sv_os_fsetxattr(int fd, const char *name, const void *value, size_t len)
{
	const char *n = apple_name(name);
	if (!n) {
		errno = ENOTSUP;
		return -1;
	}
	return fsetxattr(fd, n, value, len, 0, 0);
}
int sv_os_lsetxattr(const char *path, const char *name, const void *value, size_t len)
{
	const char *n = apple_name(name);
	if (!n) {
		errno = ENOTSUP;
		return -1;
	}
	return setxattr(path, n, value, len, 0, XATTR_NOFOLLOW);
}
bool sv_os_has_xattrs(void) { return true; }
#else
int sv_os_fsetxattr(int fd, const char *name, const void *value, size_t len)
{
	(void)fd; (void)name; (void)value; (void)len;
	errno = ENOTSUP;
	return -1;
}
int sv_os_lsetxattr(const char *path, const char *name, const void *value, size_t len)
{
	(void)path; (void)name; (void)value; (void)len;
	errno = ENOTSUP;
	return -1;
}
bool sv_os_has_xattrs(void) { return false; }
#endif

dev_t sv_os_makedev(uint32_t major, uint32_t minor)
{
	return makedev(major, minor);
}

/* A pipe on stdout holds 64 KiB by default on Linux: the reader and salvage then take turns every
 * 64 KiB. A larger pipe lets a stream of big files flow with far fewer switches. Best effort. */
void sv_os_grow_pipe(int fd)
{
#if defined(__linux__) && defined(F_SETPIPE_SZ)
	(void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
#else
	(void)fd;
#endif
}
