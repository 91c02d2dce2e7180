/* describe.h: words for a filesystem, shared by probe and info (CLI layer). */
#ifndef SV_DESCRIBE_H
#define SV_DESCRIBE_H

#include "cli.h"

struct desc_look {
	bool root, has_fstab, has_init, home, mail, boot;
	int home_users;
	char hostname[128];
	char os[160];
};

const char *desc_fs_kind(const struct sv_super *sb);
const char *desc_fs_state(const struct sv_super *sb);
void desc_features(const struct sv_super *sb, char *buf, size_t cap);
void desc_uuid(const uint8_t u[16], char out[37]);
void desc_looks_like(struct sv_fs *fs, struct desc_look *l);
void desc_looks_text(const struct desc_look *l, char *buf, size_t cap);

#endif
