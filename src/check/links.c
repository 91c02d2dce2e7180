/* links.c: pass 3 (every directory reachable from the root, ".." naming the real parent,
 * lost+found present) and pass 4 (link counts against the references counted in pass 2;
 * inodes in use that no directory names). */
#include "internal.h"
#include <stdlib.h>

void ck_connect(struct ck *c)
{
	uint8_t *ok = calloc(c->ninodes / 8 + 1, 1);    /* directories known connected */
	if (!ok)
		return;
	if ((c->istate[EXT4_ROOT_INO] & (IS_USED | IS_DIR)) != (IS_USED | IS_DIR)) {
		if (!(c->istate[EXT4_ROOT_INO] & IS_USED))
			ck_err(c, SV_CK_CONNECT, EXT4_ROOT_INO, SV_NOBLOCK, "the root directory inode is not in use; "
			       "no file can be reached by path");
	} else {
		bit_set(ok, EXT4_ROOT_INO);
		if (c->idotdot[EXT4_ROOT_INO] && c->idotdot[EXT4_ROOT_INO] != EXT4_ROOT_INO)
			ck_err(c, SV_CK_DIR, EXT4_ROOT_INO, SV_NOBLOCK, "the root's \"..\" points to inode %u, not to "
			       "itself", c->idotdot[EXT4_ROOT_INO]);
		if (c->irefs[EXT4_ROOT_INO] <= UINT16_MAX - 2)
			c->irefs[EXT4_ROOT_INO] += 2;      /* its "." and its own ".." */
	}
	for (size_t i = 0; i < c->ndirs; i++) {
		uint32_t d = c->dirs[i];
		if (d == EXT4_ROOT_INO)
			continue;
		if (c->irefs[d] < UINT16_MAX)
			c->irefs[d]++;                      /* "." */
		if (!(c->istate[d] & IS_DIRSEEN)) {
			if (!(c->istate[d] & IS_ORPHAN))
				ck_err(c, SV_CK_CONNECT, d, SV_NOBLOCK, "directory is not in any directory: it and "
				       "everything below it cannot be reached by path");
			continue;
		}
		uint32_t p = c->iparent[d];
		if (c->irefs[p] < UINT16_MAX)
			c->irefs[p]++;                      /* its ".." */
		if (c->idotdot[d] && c->idotdot[d] != p)
			ck_err(c, SV_CK_DIR, d, SV_NOBLOCK, "\"..\" points to inode %u, but the directory is in "
			       "directory inode %u", c->idotdot[d], p);
		/* walk up to a connected directory; a loop means the whole chain is cut off */
		uint32_t cur = d;
		size_t steps = 0;
		while (!bit_get(ok, cur) && steps++ <= c->ndirs) {
			if (!(c->istate[cur] & IS_DIRSEEN))
				break;
			cur = c->iparent[cur];
		}
		if (bit_get(ok, cur)) {
			for (uint32_t x = d; !bit_get(ok, x); x = c->iparent[x])
				bit_set(ok, x);
		} else if (steps > c->ndirs) {
			ck_err(c, SV_CK_CONNECT, d, SV_NOBLOCK, "directory is part of a loop of directories cut off "
			       "from the root");
			for (uint32_t x = d, k = 0; k < steps && !bit_get(ok, x); k++, x = c->iparent[x])
				bit_set(ok, x);    /* report the loop once */
		}
	}
	free(ok);
	if (c->istate[EXT4_ROOT_INO] & IS_DIR) {
		if (!c->lost_found)
			ck_err(c, SV_CK_CONNECT, 0, SV_NOBLOCK, "/lost+found is missing (e2fsck would create it)");
		else if (!(c->istate[c->lost_found] & IS_DIR))
			ck_err(c, SV_CK_CONNECT, c->lost_found, SV_NOBLOCK, "/lost+found is not a directory");
	}
}

void ck_links(struct ck *c)
{
	bool dir_nlink = c->sb->s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_DIR_NLINK;
	for (uint32_t ino = 1; ino <= c->ninodes; ino++) {
		uint8_t s = c->istate[ino];
		if (!(s & IS_USED) || (s & IS_BAD) || (ino < c->first_ino && ino != EXT4_ROOT_INO))
			continue;
		uint32_t links = c->ilinks[ino], refs = c->irefs[ino];
		if ((s & IS_ORPHAN) && (links == 0 || refs == 0))
			continue;
		if (refs == 0) {
			const struct sv_super *sb = c->sb;
			if (ino == sb->s_journal_inum || ino == sb->s_usr_quota_inum || ino == sb->s_grp_quota_inum ||
			    ino == sb->s_prj_quota_inum || ino == sb->s_orphan_file_inum || (c->iftype[ino] & 0x80))
				continue;
			if (!(s & IS_DIR))
				ck_err(c, SV_CK_UNATTACHED, ino, SV_NOBLOCK, "in use (%u link%s) but no directory names it; "
				       "its data is only reachable by inode number", links, links == 1 ? "" : "s");
			continue;
		}
		if ((s & IS_DIR) && refs >= 65000 && links == 1 && dir_nlink)
			continue;
		if ((s & IS_DIR) && !(s & IS_DIRSEEN) && ino != EXT4_ROOT_INO)
			continue;      /* reported as unconnected */
		if (links != refs)
			ck_err(c, SV_CK_LINKS, ino, SV_NOBLOCK, "link count is %u, but %u director%s refer to it",
			       links, refs, refs == 1 ? "y entry" : "y entries");
	}
}
