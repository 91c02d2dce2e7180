/* fuzz_part.c: libFuzzer harness for partition tables: the input is a disk image; its MBR or GPT
 * (with the extended chain, the backup GPT) is read, and each partition is sliced and its first and
 * last bytes read, as pick_volume does before opening a filesystem. */
#include "fuzz.h"
#include "part/part.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sv_dev *dev;
	if (sv_dev_mem(data, size, &dev) != SV_OK)
		return 0;
	struct sv_report rep = fuzz_report();
	struct sv_part_table t;
	memset(&t, 0, sizeof t);
	sv_part_read(dev, &rep, &t);
	fuzz_sink_bytes += strlen(sv_part_scheme_name(t.scheme));
	for (int i = 0; i < t.count; i++) {
		const struct sv_part *p = &t.parts[i];
		char g[37];
		sv_guid_format(p->gpt_guid, g);
		fuzz_sink_bytes += strlen(g) + strlen(p->name) + strlen(p->type_name);
		struct sv_dev *s;
		if (sv_dev_slice(dev, p->start, p->size, false, &s) != SV_OK)
			continue;
		uint8_t b[2];
		sv_dev_read(s, 1024 + 0x38, b, 2);
		if (s->size)
			sv_dev_read(s, s->size - 1, b, 1);
		sv_dev_close(s);
	}
	sv_part_table_free(&t);
	sv_dev_close(dev);
	return 0;
}
