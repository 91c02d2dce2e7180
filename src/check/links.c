/* links.c: pass 3 (every directory reachable from the root, ".." naming the real parent,
 * lost+found present) and pass 4 (link counts against the references counted in pass 2;
 * inodes in use that no directory names). */
#include "internal.h"

/* Follow the parents from directory d up to one already known connected or cut off, or to one
 * without a parent, or around a loop; then record the answer on every directory of the chain, so
 * each directory is walked through once in all (IS_MARK flags the chain being walked). */
static void connect_chain(struct ck *c, uint32_t d)
{
	uint32_t cur = d;
	uint16_t end;
	for (;;) {
		uint16_t st = ck_state(c, cur);
		if (st & (IS_CONN | IS_CUT)) {
			end = st & (IS_CONN | IS_CUT);
			break;
		}
		if (!(st & IS_DIRSEEN)) {
			end = IS_CUT;       /* its top has no parent: reported as not in any directory */
			break;
		}
		if (st & IS_MARK) {
			ck_err(c, SV_CK_CONNECT, d, SV_NOBLOCK, "directory is part of a loop of directories cut off "
			       "from the root");
			end = IS_CUT;
			break;
		}
		ist_w(c, cur)->state |= IS_MARK;
		cur = ist_r(c, cur)->parent;
	}
	for (uint32_t x = d; ck_state(c, x) & IS_MARK; x = ist_r(c, x)->parent) {
		struct ist *s = ist_w(c, x);
		s->state = (uint16_t)((s->state & ~IS_MARK) | end);
	}
}

void ck_connect(struct ck *c)
{
	if ((ck_state(c, EXT4_ROOT_INO) & (IS_USED | IS_DIR)) != (IS_USED | IS_DIR)) {
		if (!(ck_state(c, EXT4_ROOT_INO) & IS_USED))
			ck_err(c, SV_CK_CONNECT, EXT4_ROOT_INO, SV_NOBLOCK, "the root directory inode is not in use; "
			       "no file can be reached by path");
	} else {
		ist_w(c, EXT4_ROOT_INO)->state |= IS_CONN;
		if (ist_r(c, EXT4_ROOT_INO)->dotdot && ist_r(c, EXT4_ROOT_INO)->dotdot != EXT4_ROOT_INO)
			ck_err(c, SV_CK_DIR, EXT4_ROOT_INO, SV_NOBLOCK, "the root's \"..\" points to inode %u, not to "
			       "itself", ist_r(c, EXT4_ROOT_INO)->dotdot);
		if (ist_r(c, EXT4_ROOT_INO)->refs <= UINT16_MAX - 2)
			ist_w(c, EXT4_ROOT_INO)->refs += 2;      /* its "." and its own ".." */
	}
	for (size_t i = 0; i < c->ndirs; i++) {
		uint32_t d = c->dirs[i];
		if (d == EXT4_ROOT_INO)
			continue;
		if (ist_r(c, d)->refs < UINT16_MAX)
			ist_w(c, d)->refs++;                      /* "." */
		if (!(ck_state(c, d) & IS_DIRSEEN)) {
			if (!(ck_state(c, d) & IS_ORPHAN))
				ck_err(c, SV_CK_CONNECT, d, SV_NOBLOCK, "directory is not in any directory: it and "
				       "everything below it cannot be reached by path");
			continue;
		}
		uint32_t p = ist_r(c, d)->parent;
		if (ist_r(c, p)->refs < UINT16_MAX)
			ist_w(c, p)->refs++;                      /* its ".." */
		if (ist_r(c, d)->dotdot && ist_r(c, d)->dotdot != p)
			ck_err(c, SV_CK_DIR, d, SV_NOBLOCK, "\"..\" points to inode %u, but the directory is in "
			       "directory inode %u", ist_r(c, d)->dotdot, p);
		connect_chain(c, d);
	}
	if (ck_state(c, EXT4_ROOT_INO) & IS_DIR) {
		if (!c->lost_found)
			ck_err(c, SV_CK_CONNECT, 0, SV_NOBLOCK, "/lost+found is missing (e2fsck would create it)");
		else if (!(ck_state(c, c->lost_found) & IS_DIR))
			ck_err(c, SV_CK_CONNECT, c->lost_found, SV_NOBLOCK, "/lost+found is not a directory");
	}
}

void ck_links(struct ck *c)
{
	bool dir_nlink = c->sb->s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_DIR_NLINK;
	for (uint64_t i = ck_table_next(&c->inodes, 1); i <= c->ninodes; i = ck_table_next(&c->inodes, i + 1)) {
		uint32_t ino = (uint32_t)i;
		uint16_t s = ck_state(c, ino);
		if (!(s & IS_USED) || (s & IS_BAD) || (ino < c->first_ino && ino != EXT4_ROOT_INO))
			continue;
		uint32_t links = ist_r(c, ino)->links, refs = ist_r(c, ino)->refs;
		if ((s & IS_ORPHAN) && (links == 0 || refs == 0))
			continue;
		if (refs == 0) {
			const struct sv_super *sb = c->sb;
			if (ino == sb->s_journal_inum || ino == sb->s_usr_quota_inum || ino == sb->s_grp_quota_inum ||
			    ino == sb->s_prj_quota_inum || ino == sb->s_orphan_file_inum || (ist_r(c, ino)->ftype & 0x80))
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
