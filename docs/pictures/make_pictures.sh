#!/bin/sh
# Draws the pictures of docs/PICTURES.md again: forktrace --svg on a Python
# multiprocessing pool and on make -j2 building a small C project, each
# rendered to PNG by headless Chromium, which opens only the local file.
#
# usage: docs/pictures/make_pictures.sh   (from the top of the source tree,
#        after 'make'; needs /usr/bin/chromium)
set -eu
out=docs/pictures
forktrace=build/forktrace
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Renders SVG to PNG at the picture's own size.
render() {
	height=$(sed -n 's/^<svg [^>]* height="\([0-9]*\)".*/\1/p' "$1")
	# A lower window gets scrollbars over the picture.
	[ "$height" -ge 200 ] || height=200
	mkdir "$work/profile"
	/usr/bin/chromium --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$work/profile" --screenshot="$2" \
		--window-size=1200,"$height" "file://$(realpath "$1")" \
		>/dev/null 2>&1
	rm -rf "$work/profile"
}

"$forktrace" -q --svg="$out/py_pool.svg" /usr/bin/python3 examples/py_pool.py
render "$out/py_pool.svg" "$out/py_pool.png"

# Four small C files, compiled two at a time and linked.
mkdir "$work/calc"
for name in parse eval print; do
	printf 'int %s(int x) { return x * 2 > 8 ? x : x + 1; }\n' "$name" \
		>"$work/calc/$name.c"
done
printf '%s\n' 'int parse(int);' 'int eval(int);' 'int print(int);' \
	'int main(void) { return print(eval(parse(1))) != 4; }' \
	>"$work/calc/main.c"
printf '%s\n' 'OBJS = parse.o eval.o print.o main.o' 'calc: $(OBJS)' \
	'	cc -o $@ $(OBJS)' '%.o: %.c' '	cc -O2 -c -o $@ $<' \
	>"$work/calc/Makefile"
"$forktrace" -q --svg="$out/make_j2.svg" make -C "$work/calc" -j2
render "$out/make_j2.svg" "$out/make_j2.png"
