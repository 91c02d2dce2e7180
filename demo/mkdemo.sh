#!/bin/sh
# mkdemo.sh: rebuilds demo/demo.img.gz, the small ext4 image `make demo` runs on (needs mke2fs).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t="$tmp/tree"
mkdir -p "$t/etc" "$t/sbin" "$t/home/alice/Documents" "$t/home/alice/Photos" "$t/var/log" "$t/srv/www"
echo "rescue-demo" > "$t/etc/hostname"
printf 'UUID=0000 / ext4 errors=remount-ro 0 1\n' > "$t/etc/fstab"
printf '#!/bin/sh\necho init\n' > "$t/sbin/init"; chmod 755 "$t/sbin/init"
printf 'Thesis draft, chapter 1.\nThe data survived.\n' > "$t/home/alice/Documents/thesis.txt"
printf 'milk\neggs\n' > "$t/home/alice/Documents/shopping list.txt"
i=0; while [ $i -lt 40 ]; do printf 'photo %d\n' $i > "$t/home/alice/Photos/img_$i.jpg"; i=$((i+1)); done
ln -s Documents/thesis.txt "$t/home/alice/latest"
ln "$t/home/alice/Documents/thesis.txt" "$t/home/alice/thesis-hardlink.txt"
printf '<h1>it works</h1>\n' > "$t/srv/www/index.html"
truncate -s 64M "$t/var/log/huge-sparse.log"
echo "last line" >> "$t/var/log/huge-sparse.log"
touch -d '2001-09-09 01:46:40' "$t/home/alice/Documents/thesis.txt"
rm -f "$tmp/demo.img"
mke2fs -q -F -t ext4 -L demo-root -U 5a1ba9e0-0000-4000-8000-000000000001 -E root_owner=0:0 \
	-d "$t" "$tmp/demo.img" 8M
gzip -9n < "$tmp/demo.img" > "$here/demo.img.gz"
ls -l "$here/demo.img.gz"
