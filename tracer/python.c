/*
 * Reading the Python frames of a stopped CPython thread from its memory.
 *
 * The offsets below are those of CPython's own structures on x86_64, as
 * offsetof() gives them with the version's internal headers
 * (Include/internal/pycore_*.h, built with Py_BUILD_CORE).  A version with
 * no table gets a note and native frames only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "forktrace/python.h"
#include "forktrace/xmalloc.h"

/* Frames read at most per thread: a guard against a cycle or garbage. */
#define MAX_FRAMES 512
/* Bytes read at most of a name, a file name or a location table. */
#define MAX_STRING    4096
#define MAX_LINETABLE (1024 * 1024)
/* Thread states looked at in all: a guard against a cycle in the lists. */
#define MAX_THREAD_STATES 4096

/* The mark of the outermost frame of one C call of the eval loop. */
enum entry_mark {
	ENTRY_FLAG, /* 3.11: the frame's is_entry byte */
	ENTRY_SHIM, /* 3.12 and later: a shim frame that the C stack owns */
};

struct python_layout {
	unsigned version; /* major << 8 | minor */
	/* _PyRuntimeState */
	size_t runtime_interpreters_head;
	bool gil_in_runtime; /* 3.11: one GIL, in the runtime state */
	size_t runtime_gil_last_holder;
	size_t runtime_gil_locked;
	/* PyInterpreterState */
	size_t interp_next;
	size_t interp_threads_head;
	size_t interp_ceval_gil; /* later: the GIL this interpreter uses */
	/* struct _gil_runtime_state, later versions */
	size_t gil_last_holder;
	size_t gil_locked;
	/* PyThreadState */
	size_t tstate_next;
	bool frame_in_cframe; /* 3.11: the frame is in tstate->cframe */
	size_t tstate_cframe;
	size_t tstate_current_frame;
	size_t tstate_native_thread_id;
	/* _PyCFrame */
	size_t cframe_current_frame;
	/* _PyInterpreterFrame */
	size_t frame_code;
	uint64_t code_tag_bits; /* 3.14's tagged stack references */
	size_t frame_previous;
	size_t frame_instr; /* prev_instr, or instr_ptr from 3.13 */
	enum entry_mark entry_mark;
	size_t frame_is_entry;
	size_t frame_owner;
	uint8_t owner_cstack; /* FRAME_OWNED_BY_CSTACK */
	size_t frame_localsplus; /* the first local: self in a method */
	size_t frame_size; /* bytes read of a frame: up to its first local */
	/* PyCodeObject */
	size_t code_firstlineno;
	size_t code_filename;
	size_t code_qualname;
	size_t code_linetable;
	size_t code_adaptive; /* co_code_adaptive, the first code unit */
	/* PyASCIIObject, PyCompactUnicodeObject and PyBytesObject */
	size_t unicode_length;
	size_t unicode_state;
	size_t unicode_ascii_data;
	size_t unicode_compact_data;
	size_t bytes_size;
	size_t bytes_data;
	/* Instance attributes: types, their values and dictionaries' keys */
	bool thread_names;
	size_t object_type;
	size_t type_flags;
	unsigned long type_managed_dict_flag;
	size_t type_cached_keys;
	long object_values; /* 3.11: PyDictValues * before the object */
	long object_dict; /* its dictionary, once one was made */
	unsigned long type_inline_values_flag; /* 3.13: values after it */
	size_t type_basicsize;
	size_t values_valid; /* 3.13: the byte set while they are in use */
	size_t values_data; /* the first value of a PyDictValues */
	size_t dict_keys;
	size_t dict_values;
	size_t keys_log2_index_bytes;
	size_t keys_kind;
	size_t keys_nentries;
	size_t keys_indices;
	unsigned keys_kind_general; /* entries of hash, key, value */
};

/*
 * TODO: a table for CPython 3.12.  No such CPython was at hand to check
 * one against: Debian has 3.11, and 3.13 and later describe themselves.
 */
static const struct python_layout python_3_11 = {
	.version = 0x030b,
	.runtime_interpreters_head = 40,
	.gil_in_runtime = true,
	.runtime_gil_last_holder = 368,
	.runtime_gil_locked = 376,
	.interp_next = 0,
	.interp_threads_head = 16,
	.tstate_next = 8,
	.frame_in_cframe = true,
	.tstate_cframe = 56,
	.tstate_native_thread_id = 160,
	.cframe_current_frame = 8,
	.frame_code = 32,
	.frame_previous = 48,
	.frame_instr = 56,
	.entry_mark = ENTRY_FLAG,
	.frame_is_entry = 68,
	.frame_localsplus = 72,
	.frame_size = 80,
	.code_firstlineno = 72,
	.code_filename = 112,
	.code_qualname = 128,
	.code_linetable = 136,
	.code_adaptive = 184,
	.unicode_length = 16,
	.unicode_state = 32,
	.unicode_ascii_data = 48,
	.unicode_compact_data = 72,
	.bytes_size = 16,
	.bytes_data = 32,
	.thread_names = true,
	.object_type = 8,
	.type_flags = 168,
	.type_managed_dict_flag = 1ul << 4,
	.type_cached_keys = 872,
	.object_values = -32,
	.object_dict = -24,
	.dict_keys = 32,
	.dict_values = 40,
	.keys_log2_index_bytes = 9,
	.keys_kind = 10,
	.keys_nentries = 24,
	.keys_indices = 32,
	.keys_kind_general = 0,
};

/*
 * CPython 3.13 and later start _PyRuntime with _Py_DebugOffsets: the
 * cookie "xdebugpy", the version, then the offsets of each structure's
 * fields, every one a uint64_t.  The set of fields grows from version to
 * version, so each gets the place of each field that forktrace reads, in
 * words from the start.
 */
struct debug_places {
	unsigned version; /* major << 8 | minor */
	uint8_t owner_cstack;
	bool tagged_code; /* f_executable is a tagged stack reference */
	unsigned free_threaded;
	unsigned interpreters_head;
	unsigned interp_size, interp_next, interp_threads_head;
	unsigned interp_ceval_gil, gil_runtime_state, gil_locked, gil_holder;
	unsigned tstate_size, tstate_next, tstate_current_frame;
	unsigned tstate_native_thread_id;
	unsigned frame_size, frame_previous, frame_executable, frame_instr_ptr;
	unsigned frame_localsplus, frame_owner;
	unsigned code_size, code_filename, code_qualname, code_linetable;
	unsigned code_firstlineno, code_adaptive;
	unsigned ob_type, type_size, tp_name, tp_flags, ma_keys, ma_values;
	unsigned bytes_size, bytes_ob_size, bytes_sval;
	unsigned unicode_size, unicode_state, unicode_length, unicode_ascii;
	unsigned count; /* words read: past the last place */
};

static const struct debug_places debug_places[] = {
	{
		.version = 0x030d,
		.owner_cstack = 3,
		.free_threaded = 2,
		.interpreters_head = 5,
		.interp_size = 6,
		.interp_next = 8,
		.interp_threads_head = 9,
		.interp_ceval_gil = 14,
		.gil_runtime_state = 15,
		.gil_locked = 17,
		.gil_holder = 18,
		.tstate_size = 19,
		.tstate_next = 21,
		.tstate_current_frame = 23,
		.tstate_native_thread_id = 25,
		.frame_size = 28,
		.frame_previous = 29,
		.frame_executable = 30,
		.frame_instr_ptr = 31,
		.frame_localsplus = 32,
		.frame_owner = 33,
		.code_size = 34,
		.code_filename = 35,
		.code_qualname = 37,
		.code_linetable = 38,
		.code_firstlineno = 39,
		.code_adaptive = 43,
		.ob_type = 45,
		.type_size = 46,
		.tp_name = 47,
		.tp_flags = 49,
		.ma_keys = 57,
		.ma_values = 58,
		.bytes_size = 64,
		.bytes_ob_size = 65,
		.bytes_sval = 66,
		.unicode_size = 67,
		.unicode_state = 68,
		.unicode_length = 69,
		.unicode_ascii = 70,
		.count = 71,
	},
	{
		.version = 0x030e,
		.owner_cstack = 3,
		.tagged_code = true,
		.free_threaded = 2,
		.interpreters_head = 5,
		.interp_size = 6,
		.interp_next = 8,
		.interp_threads_head = 9,
		.interp_ceval_gil = 15,
		.gil_runtime_state = 16,
		.gil_locked = 18,
		.gil_holder = 19,
		.tstate_size = 22,
		.tstate_next = 24,
		.tstate_current_frame = 26,
		.tstate_native_thread_id = 28,
		.frame_size = 31,
		.frame_previous = 32,
		.frame_executable = 33,
		.frame_instr_ptr = 34,
		.frame_localsplus = 35,
		.frame_owner = 36,
		.code_size = 39,
		.code_filename = 40,
		.code_qualname = 42,
		.code_linetable = 43,
		.code_firstlineno = 44,
		.code_adaptive = 48,
		.ob_type = 51,
		.type_size = 52,
		.tp_name = 53,
		.tp_flags = 55,
		.ma_keys = 67,
		.ma_values = 68,
		.bytes_size = 74,
		.bytes_ob_size = 75,
		.bytes_sval = 76,
		.unicode_size = 77,
		.unicode_state = 78,
		.unicode_length = 79,
		.unicode_ascii = 80,
		.count = 81,
	},
};

/* Copies len bytes at addr of thread tid into buf; false on a short read. */
static bool
read_memory(pid_t tid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };

	if (!addr)
		return false;
	return process_vm_readv(tid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

static bool
read_word(pid_t tid, uint64_t addr, uint64_t *value)
{
	return read_memory(tid, addr, value, sizeof(*value));
}

static uint64_t
word_at(const unsigned char *buf, size_t offset)
{
	uint64_t value;

	memcpy(&value, buf + offset, sizeof(value));
	return value;
}

/* Returns true when a field of width bytes at offset lies in size bytes. */
static bool
fits(uint64_t offset, uint64_t width, uint64_t size)
{
	return size >= width && offset <= size - width;
}

/*
 * Returns true when every offset that forktrace reads lies inside its
 * structure, and inside the part of it that forktrace copies.  The
 * offsets come from the traced process, which may have written them.
 */
static bool
debug_offsets_fit(const uint64_t *words, const struct debug_places *at)
{
	uint64_t interp = words[at->interp_size];
	uint64_t tstate = words[at->tstate_size];
	uint64_t frame = words[at->frame_size];
	uint64_t code = words[at->code_adaptive];
	uint64_t ascii = words[at->unicode_ascii];
	uint64_t bytes = words[at->bytes_sval];
	uint64_t gil = words[at->gil_runtime_state];

	/* The copies: a frame, a code object to its first code unit, a
	 * string's header and a bytes object's header. */
	if (frame > 256 || code > 1024 || code > words[at->code_size] ||
	    ascii + 16 > 96 || ascii + 16 > words[at->unicode_size] ||
	    bytes > 40)
		return false;
	return fits(words[at->interp_next], 8, interp) &&
	       fits(words[at->interp_threads_head], 8, interp) &&
	       fits(words[at->interp_ceval_gil], 8, interp) &&
	       fits(gil, 0, interp) && words[at->gil_locked] >= gil &&
	       fits(words[at->gil_locked], 4, interp) &&
	       words[at->gil_holder] >= gil &&
	       fits(words[at->gil_holder], 8, interp) &&
	       fits(words[at->tstate_next], 8, tstate) &&
	       fits(words[at->tstate_current_frame], 8, tstate) &&
	       fits(words[at->tstate_native_thread_id], 8, tstate) &&
	       fits(words[at->frame_previous], 8, frame) &&
	       fits(words[at->frame_executable], 8, frame) &&
	       fits(words[at->frame_instr_ptr], 8, frame) &&
	       fits(words[at->frame_owner], 1, frame) &&
	       fits(words[at->frame_localsplus], 8, frame) &&
	       fits(words[at->code_filename], 8, code) &&
	       fits(words[at->code_qualname], 8, code) &&
	       fits(words[at->code_linetable], 8, code) &&
	       fits(words[at->code_firstlineno], 4, code) &&
	       fits(words[at->unicode_length], 8, ascii) &&
	       fits(words[at->unicode_state], 4, ascii) &&
	       fits(words[at->bytes_ob_size], 8, bytes);
}

/*
 * Fills l from the _Py_DebugOffsets at the start of the runtime state.
 * Returns false, with a note in runtime, when they cannot be read or do
 * not hold together.
 */
static bool
layout_from_debug_offsets(struct python_layout *l,
			  struct ft_python_runtime *runtime, pid_t tid,
			  const struct debug_places *at)
{
	uint64_t words[96];

	if (!read_memory(tid, runtime->runtime, words,
			 at->count * sizeof(words[0])) ||
	    memcmp(words, "xdebugpy", 8) != 0 ||
	    words[1] >> 16 != runtime->version >> 16) {
		snprintf(runtime->unavailable, sizeof(runtime->unavailable),
			 "no debug offsets in CPython %u.%u",
			 runtime->version >> 24,
			 (runtime->version >> 16) & 0xff);
		return false;
	}
	if (words[at->free_threaded]) {
		snprintf(runtime->unavailable, sizeof(runtime->unavailable),
			 "Python frames unavailable for free-threaded "
			 "CPython %u.%u",
			 runtime->version >> 24,
			 (runtime->version >> 16) & 0xff);
		return false;
	}
	if (!debug_offsets_fit(words, at)) {
		snprintf(runtime->unavailable, sizeof(runtime->unavailable),
			 "invalid debug offsets in CPython %u.%u",
			 runtime->version >> 24,
			 (runtime->version >> 16) & 0xff);
		return false;
	}

	memset(l, 0, sizeof(*l));
	l->version = at->version;
	l->runtime_interpreters_head = words[at->interpreters_head];
	l->interp_next = words[at->interp_next];
	l->interp_threads_head = words[at->interp_threads_head];
	l->interp_ceval_gil = words[at->interp_ceval_gil];
	l->gil_last_holder =
		words[at->gil_holder] - words[at->gil_runtime_state];
	l->gil_locked = words[at->gil_locked] - words[at->gil_runtime_state];
	l->tstate_next = words[at->tstate_next];
	l->tstate_current_frame = words[at->tstate_current_frame];
	l->tstate_native_thread_id = words[at->tstate_native_thread_id];
	l->frame_code = words[at->frame_executable];
	l->code_tag_bits = at->tagged_code ? 3 : 0;
	l->frame_previous = words[at->frame_previous];
	l->frame_instr = words[at->frame_instr_ptr];
	l->entry_mark = ENTRY_SHIM;
	l->frame_owner = words[at->frame_owner];
	l->owner_cstack = at->owner_cstack;
	l->frame_localsplus = words[at->frame_localsplus];
	l->frame_size = words[at->frame_size];
	l->code_firstlineno = words[at->code_firstlineno];
	l->code_filename = words[at->code_filename];
	l->code_qualname = words[at->code_qualname];
	l->code_linetable = words[at->code_linetable];
	l->code_adaptive = words[at->code_adaptive];
	l->unicode_length = words[at->unicode_length];
	l->unicode_state = words[at->unicode_state];
	l->unicode_ascii_data = words[at->unicode_ascii];
	/* A compact string's utf8_length and utf8 come before its data. */
	l->unicode_compact_data = words[at->unicode_ascii] + 16;
	l->bytes_size = words[at->bytes_ob_size];
	l->bytes_data = words[at->bytes_sval];

	/*
	 * The debug offsets leave out how an object keeps its attributes.
	 * These are CPython's own layouts from 3.13: the values inline after
	 * the object's tp_basicsize bytes, after four bytes of bookkeeping and
	 * padding, or else a dictionary three words before the object.  A
	 * heap type's cached keys follow the 55 slots of its method tables and
	 * three more pointers.
	 */
	l->thread_names = true;
	l->object_type = words[at->ob_type];
	l->type_flags = words[at->tp_flags];
	l->type_managed_dict_flag = 1ul << 4;
	l->type_inline_values_flag = 1ul << 2;
	l->type_basicsize = words[at->tp_name] + 8;
	l->type_cached_keys = words[at->type_size] + 55 * 8 + 3 * 8;
	l->object_dict = -24;
	l->values_valid = 3;
	l->values_data = 8;
	l->dict_keys = words[at->ma_keys];
	l->dict_values = words[at->ma_values];
	l->keys_log2_index_bytes = 9;
	l->keys_kind = 10;
	l->keys_nentries = 24;
	l->keys_indices = 32;
	l->keys_kind_general = 0;
	return true;
}

bool
python_runtime_find(struct ft_python_runtime *runtime, pid_t tid,
		    uint64_t runtime_addr, uint64_t version_addr)
{
	struct python_layout *l;
	uint32_t hex = 0;
	unsigned minor;
	size_t i;

	memset(runtime, 0, sizeof(*runtime));
	if (!runtime_addr || !version_addr ||
	    !read_memory(tid, version_addr, &hex, sizeof(hex)))
		return false;
	runtime->runtime = runtime_addr;
	runtime->version = hex;
	minor = hex >> 16;
	snprintf(runtime->unavailable, sizeof(runtime->unavailable),
		 "Python frames unavailable for CPython %u.%u", hex >> 24,
		 (hex >> 16) & 0xff);
	if (minor == python_3_11.version) {
		runtime->layout = xmalloc(sizeof(*runtime->layout));
		*runtime->layout = python_3_11;
		return true;
	}
	for (i = 0; i < sizeof(debug_places) / sizeof(debug_places[0]); i++) {
		if (debug_places[i].version != minor)
			continue;
		l = xmalloc(sizeof(*l));
		if (layout_from_debug_offsets(l, runtime, tid,
					      &debug_places[i]))
			runtime->layout = l;
		else
			free(l);
	}
	return true;
}

void
python_runtime_free(struct ft_python_runtime *runtime)
{
	free(runtime->layout);
	runtime->layout = NULL;
}

/* Appends the UTF-8 encoding of code point c to out. */
static size_t
put_utf8(char *out, uint32_t c)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/*
 * Reads the str object at addr as a new UTF-8 string, cut to MAX_STRING
 * characters and "...", or returns NULL.  Only compact strings are read,
 * which every name and file name of a code object is.  The lone
 * surrogates U+DC80 to U+DCFF, which stand for the bytes of a file name
 * that were not UTF-8, become those bytes again.
 */
static char *
read_unicode(const struct python_layout *l, pid_t tid, uint64_t addr)
{
	unsigned char header[96];
	uint64_t length;
	uint32_t state;
	unsigned kind;
	unsigned char *data;
	char *text;
	size_t i, at = 0;
	bool cut;

	if (!read_memory(tid, addr, header, l->unicode_compact_data))
		return NULL;
	length = word_at(header, l->unicode_length);
	memcpy(&state, header + l->unicode_state, sizeof(state));
	kind = (state >> 2) & 7;
	/* compact is bit 5 and ascii bit 6 of the state. */
	if (!(state & (1u << 5)) || (kind != 1 && kind != 2 && kind != 4))
		return NULL;
	cut = length > MAX_STRING;
	if (cut)
		length = MAX_STRING;
	data = xmalloc(length * kind + 1);
	if (!read_memory(tid,
			 addr + ((state & (1u << 6)) ? l->unicode_ascii_data
						     : l->unicode_compact_data),
			 data, length * kind)) {
		free(data);
		return NULL;
	}
	text = xmalloc(length * 4 + 4);
	for (i = 0; i < length; i++) {
		uint32_t c;

		if (kind == 1) {
			c = data[i];
		} else if (kind == 2) {
			uint16_t unit;

			memcpy(&unit, data + 2 * i, 2);
			c = unit;
		} else {
			memcpy(&c, data + 4 * i, 4);
			if (c > 0x10ffff)
				c = 0xfffd;
		}
		if (c >= 0xdc80 && c <= 0xdcff)
			text[at++] = (char)(c - 0xdc00);
		else
			at += put_utf8(text + at, c);
	}
	if (cut) {
		memcpy(text + at, "...", 3);
		at += 3;
	}
	text[at] = '\0';
	free(data);
	return text;
}

/* Reads an unsigned varint of the location table: 6 bits a byte. */
static bool
read_varint(const unsigned char *table, size_t len, size_t *at,
	    unsigned long *value)
{
	unsigned shift = 0;

	*value = 0;
	while (*at < len && shift < 60) {
		unsigned char byte = table[(*at)++];

		*value |= (unsigned long)(byte & 0x3f) << shift;
		if (!(byte & 0x40))
			return true;
		shift += 6;
	}
	return false;
}

static bool
read_svarint(const unsigned char *table, size_t len, size_t *at, long *value)
{
	unsigned long raw;

	if (!read_varint(table, len, at, &raw))
		return false;
	*value = (raw & 1) ? -(long)(raw >> 1) : (long)(raw >> 1);
	return true;
}

/*
 * CPython 3.11's location table: each entry starts with a byte that has
 * its top bit set, a 4-bit code and the entry's length in code units,
 * less one.  Code 15 has no location.  Code 14 is the long form: line
 * delta, end line and two columns.  Code 13 has a line delta alone.
 * Codes 10 to 12 move the line by code minus 10, with two column bytes.
 * Codes 0 to 9 keep the line, with one column byte.
 */
int
python_line_for_index(const unsigned char *table, size_t len, int first_line,
		      long index)
{
	long line = first_line, start = 0;
	size_t at = 0;

	if (index < 0)
		return first_line;
	while (at < len) {
		unsigned char head = table[at++];
		unsigned code = (head >> 3) & 15;
		long length = (head & 7) + 1, delta = 0;
		unsigned long skip;
		bool known = true;

		if (!(head & 0x80))
			return 0;
		if (code == 15) {
			known = false;
		} else if (code == 14) {
			if (!read_svarint(table, len, &at, &delta) ||
			    !read_varint(table, len, &at, &skip) ||
			    !read_varint(table, len, &at, &skip) ||
			    !read_varint(table, len, &at, &skip))
				return 0;
		} else if (code == 13) {
			if (!read_svarint(table, len, &at, &delta))
				return 0;
		} else if (code >= 10) {
			delta = code - 10;
			at += 2;
		} else {
			at += 1;
		}
		/* Lines past ten million are garbage: stop before overflow. */
		if (delta > 10000000 || delta < -10000000)
			return 0;
		line += delta;
		if (line > 10000000 || line < -10000000)
			return 0;
		if (index < start + length)
			return known && line > 0 && line < 10000000 ? (int)line
								    : 0;
		start += length;
	}
	return 0;
}

/* Returns the line that the frame's code runs, or 0. */
static int
frame_line(const struct python_layout *l, pid_t tid, const unsigned char *code,
	   uint64_t code_addr, uint64_t instr)
{
	uint64_t table_addr = word_at(code, l->code_linetable);
	int first_line;
	unsigned char head[40];
	unsigned char *table;
	uint64_t size;
	long index;
	int line;

	memcpy(&first_line, code + l->code_firstlineno, sizeof(first_line));
	if (!read_memory(tid, table_addr, head, l->bytes_data))
		return 0;
	size = word_at(head, l->bytes_size);
	if (size > MAX_LINETABLE)
		return 0;
	table = xmalloc(size ? size : 1);
	if (size &&
	    !read_memory(tid, table_addr + l->bytes_data, table, size)) {
		free(table);
		return 0;
	}
	/* instr comes from memory: compare before subtracting. */
	if (instr + 2 < code_addr + l->code_adaptive ||
	    instr - (code_addr + l->code_adaptive) > 8 * MAX_LINETABLE)
		index = -1;
	else
		index = ((int64_t)instr -
			 (int64_t)(code_addr + l->code_adaptive)) /
			2;
	line = python_line_for_index(table, size, first_line, index);
	free(table);
	return line;
}

/*
 * Reads the attribute name of the object at obj, when it is a str kept in
 * the object's own dictionary or its values, and returns it as a new
 * UTF-8 string, or NULL.  Looks at no more than 64 attributes.
 */
static char *
read_str_attribute(const struct python_layout *l, pid_t tid, uint64_t obj,
		   const char *name)
{
	uint64_t type, flags, values, dict, keys, key, value = 0, nentries;
	uint8_t log2_index_bytes, kind;
	size_t entry_size, i;
	uint64_t entries;

	if (!read_word(tid, obj + l->object_type, &type) ||
	    !read_word(tid, type + l->type_flags, &flags) ||
	    !(flags & l->type_managed_dict_flag))
		return NULL;
	if (flags & l->type_inline_values_flag) {
		uint64_t basicsize;
		uint8_t valid = 0;

		if (!read_word(tid, type + l->type_basicsize, &basicsize) ||
		    basicsize > 4096 ||
		    !read_memory(tid, obj + basicsize + l->values_valid, &valid,
				 1))
			return NULL;
		values = valid ? obj + basicsize : 0;
	} else if (l->type_inline_values_flag) {
		values = 0;
	} else if (!read_word(tid, obj + l->object_values, &values)) {
		return NULL;
	}
	if (values) {
		if (!read_word(tid, type + l->type_cached_keys, &keys))
			return NULL;
	} else if (!read_word(tid, obj + l->object_dict, &dict) || !dict ||
		   !read_word(tid, dict + l->dict_keys, &keys) ||
		   !read_word(tid, dict + l->dict_values, &values)) {
		return NULL;
	}
	if (!read_memory(tid, keys + l->keys_log2_index_bytes,
			 &log2_index_bytes, 1) ||
	    !read_memory(tid, keys + l->keys_kind, &kind, 1) ||
	    !read_word(tid, keys + l->keys_nentries, &nentries) ||
	    log2_index_bytes > 40)
		return NULL;
	entry_size = kind == l->keys_kind_general ? 24 : 16;
	entries = keys + l->keys_indices + (1ull << log2_index_bytes);
	for (i = 0; i < nentries && i < 64; i++) {
		uint64_t at = entries + i * entry_size +
			      (kind == l->keys_kind_general ? 8 : 0);
		char *text;
		bool match;

		if (!read_word(tid, at, &key) || !key)
			continue;
		text = read_unicode(l, tid, key);
		match = text && !strcmp(text, name);
		free(text);
		if (!match)
			continue;
		/* A split table keeps its values apart from the keys. */
		if (values)
			read_word(tid, values + l->values_data + i * 8, &value);
		else
			read_word(tid, at + 8, &value);
		return value ? read_unicode(l, tid, value) : NULL;
	}
	return NULL;
}

/* Returns the frame that thread state tstate runs, or 0. */
static uint64_t
current_frame(const struct python_layout *l, pid_t tid, uint64_t tstate)
{
	uint64_t cframe, frame;

	if (!l->frame_in_cframe)
		return read_word(tid, tstate + l->tstate_current_frame, &frame)
			       ? frame
			       : 0;
	if (!read_word(tid, tstate + l->tstate_cframe, &cframe) ||
	    !read_word(tid, cframe + l->cframe_current_frame, &frame))
		return 0;
	return frame;
}

/* The thread states of one thread kept at most: one per interpreter. */
#define MAX_CHAINS 8

/*
 * Finds the thread states whose native thread id is native_tid, with the
 * interpreter of each, in the runtime's order: newest interpreter first.
 * Keeps those that run a frame, or else the first found.  Returns how
 * many it kept.
 * NOTE: a subinterpreter's thread state keeps its creator's id while
 * another thread runs it, so such a stack can be the wrong thread's.
 * Each thread walks the whole list: a snapshot of n threads costs n^2
 * reads, and the walk stops at MAX_THREAD_STATES.
 * CPython 3.11 gives a new thread's state the id of the thread that
 * creates it, until the new thread starts: of two states with the same
 * id, the one that runs a frame is the creator's.
 */
static unsigned
find_thread_states(const struct python_layout *l, pid_t tid, pid_t native_tid,
		   uint64_t runtime, uint64_t *tstates, uint64_t *interps)
{
	uint64_t interp, tstate, native, first = 0, first_interp = 0;
	unsigned visited = 0, count = 0;

	if (!read_word(tid, runtime + l->runtime_interpreters_head, &interp))
		return 0;
	while (interp && visited++ < MAX_THREAD_STATES) {
		if (!read_word(tid, interp + l->interp_threads_head, &tstate))
			break;
		while (tstate && visited++ < MAX_THREAD_STATES) {
			if (!read_word(tid, tstate + l->tstate_native_thread_id,
				       &native))
				break;
			if (native == (uint64_t)native_tid) {
				if (!first) {
					first = tstate;
					first_interp = interp;
				}
				if (current_frame(l, tid, tstate) &&
				    count < MAX_CHAINS) {
					interps[count] = interp;
					tstates[count++] = tstate;
				}
			}
			if (!read_word(tid, tstate + l->tstate_next, &tstate))
				break;
		}
		if (!read_word(tid, interp + l->interp_next, &interp))
			break;
	}
	if (!count && first) {
		interps[0] = first_interp;
		tstates[count++] = first;
	}
	return count;
}

/*
 * Returns 1 when thread state tstate of interpreter interp holds the GIL,
 * 0 when it does not, and -1 when that cannot be read.
 */
static int
holds_gil(const struct python_layout *l, pid_t tid, uint64_t runtime,
	  uint64_t interp, uint64_t tstate)
{
	uint64_t gil = runtime, holder;
	int locked;

	if (l->gil_in_runtime) {
		if (!read_word(tid, runtime + l->runtime_gil_last_holder,
			       &holder) ||
		    !read_memory(tid, runtime + l->runtime_gil_locked, &locked,
				 sizeof(locked)))
			return -1;
		return locked && holder == tstate;
	}
	/* Later versions keep a GIL per interpreter, which may be shared. */
	if (!read_word(tid, interp + l->interp_ceval_gil, &gil) ||
	    !read_word(tid, gil + l->gil_last_holder, &holder) ||
	    !read_memory(tid, gil + l->gil_locked, &locked, sizeof(locked)))
		return -1;
	return locked && holder == tstate;
}

static void
add_python_frame(struct ft_python_stack *stack, char *function, char *file,
		 int line, bool entry)
{
	struct ft_python_frame *frame;

	stack->frames = xrealloc(stack->frames,
				 (stack->count + 1) * sizeof(*stack->frames));
	frame = &stack->frames[stack->count++];
	frame->function = function;
	frame->file = file;
	frame->line = line;
	frame->entry = entry;
	frame->entry_addr = 0;
}

/*
 * Marks the last frame kept of a cut stack as its call's entry, at the
 * next shim frame out, so that the merge can place the frames kept.
 */
static void
mark_cut_entry(const struct python_layout *l, pid_t tid, uint64_t addr,
	       struct ft_python_stack *stack)
{
	unsigned char frame[256];
	struct ft_python_frame *last;
	unsigned skipped;

	if (!stack->count || l->entry_mark != ENTRY_SHIM)
		return;
	last = &stack->frames[stack->count - 1];
	for (skipped = 0; addr && !last->entry && skipped < 65536; skipped++) {
		if (!read_memory(tid, addr, frame, l->frame_size))
			return;
		if (frame[l->frame_owner] == l->owner_cstack) {
			last->entry = true;
			last->entry_addr = addr;
			return;
		}
		addr = word_at(frame, l->frame_previous);
	}
}

/*
 * Appends the Python frames of the chain that starts at addr to stack, and
 * sets *thread_object to the Thread that a _bootstrap frame runs.  Returns
 * false, with a note, when the walk had to stop.
 */
static bool
walk_frames(const struct python_layout *l, pid_t tid, uint64_t addr,
	    struct ft_python_stack *stack, uint64_t *thread_object)
{
	unsigned char frame[256], code[1024 + sizeof(uint16_t)];
	unsigned walked = 0;
	uint64_t shim;

	while (addr) {
		uint64_t code_addr;
		char *function, *file;

		/* Shim frames count too, so that a cycle of them ends. */
		if (stack->count == MAX_FRAMES || walked++ == 2 * MAX_FRAMES) {
			stack->note = "Python stack cut at 512 frames";
			mark_cut_entry(l, tid, addr, stack);
			return false;
		}
		if (!read_memory(tid, addr, frame, l->frame_size)) {
			stack->note = "cannot read a Python frame";
			return false;
		}
		shim = addr;
		addr = word_at(frame, l->frame_previous);
		/*
		 * From 3.12, each C call of the eval loop links a shim frame
		 * below its first Python frame: the frame above it is that
		 * call's outermost.
		 */
		if (l->entry_mark == ENTRY_SHIM &&
		    frame[l->frame_owner] == l->owner_cstack) {
			if (stack->count &&
			    !stack->frames[stack->count - 1].entry) {
				stack->frames[stack->count - 1].entry = true;
				stack->frames[stack->count - 1].entry_addr =
					shim;
			}
			continue;
		}
		code_addr = word_at(frame, l->frame_code) & ~l->code_tag_bits;
		if (!read_memory(tid, code_addr, code,
				 l->code_adaptive + sizeof(uint16_t))) {
			stack->note = "cannot read a Python code object";
			return false;
		}
		function =
			read_unicode(l, tid, word_at(code, l->code_qualname));
		file = read_unicode(l, tid, word_at(code, l->code_filename));
		/* A name that cannot be read does not end the walk. */
		if (!function)
			function = xstrdup("?");
		if (!file)
			file = xstrdup("?");
		/* threading's Thread objects run from their _bootstrap(). */
		if (l->thread_names && !strcmp(function, "Thread._bootstrap"))
			*thread_object = word_at(frame, l->frame_localsplus) &
					 ~l->code_tag_bits;
		add_python_frame(stack, function, file,
				 frame_line(l, tid, code, code_addr,
					    word_at(frame, l->frame_instr)),
				 l->entry_mark == ENTRY_FLAG &&
					 frame[l->frame_is_entry] != 0);
	}
	return true;
}

void
python_read_stack(const struct ft_python_runtime *runtime, pid_t tid,
		  pid_t native_tid, bool with_name,
		  struct ft_python_stack *stack)
{
	const struct python_layout *l = runtime->layout;
	uint64_t tstates[MAX_CHAINS], interps[MAX_CHAINS];
	uint64_t thread_object = 0;
	unsigned count, i;

	memset(stack, 0, sizeof(*stack));
	stack->gil = -1;
	if (!l) {
		stack->note = runtime->unavailable;
		return;
	}
	count = find_thread_states(l, tid, native_tid, runtime->runtime,
				   tstates, interps);
	if (!count) {
		stack->note = "no Python thread state for this thread";
		return;
	}
	stack->gil =
		holds_gil(l, tid, runtime->runtime, interps[0], tstates[0]);
	/*
	 * A thread that runs code in a subinterpreter has a thread state in
	 * each interpreter, the newest innermost.  From 3.12 the shims place
	 * each chain's frames; 3.11's entry marks cannot tell the chains
	 * apart, so it keeps the first.
	 */
	if (l->entry_mark == ENTRY_FLAG)
		count = 1;
	for (i = 0; i < count; i++)
		if (!walk_frames(l, tid, current_frame(l, tid, tstates[i]),
				 stack, &thread_object))
			break;
	if (with_name && thread_object)
		stack->thread_name =
			read_str_attribute(l, tid, thread_object, "_name");
}

void
python_stack_free(struct ft_python_stack *stack)
{
	size_t i;

	for (i = 0; i < stack->count; i++) {
		free(stack->frames[i].function);
		free(stack->frames[i].file);
	}
	free(stack->frames);
	free(stack->thread_name);
	stack->frames = NULL;
	stack->thread_name = NULL;
	stack->count = 0;
}
