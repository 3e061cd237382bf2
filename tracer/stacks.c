/*
 * Unwinding and naming the frames of ptrace-stopped threads with libdw.
 *
 * forktrace gives libdw its own thread callbacks (dwfl_attach_state)
 * instead of dwfl_linux_proc_attach.  The registers come from one
 * PTRACE_GETREGS and the top of the stack from one process_vm_readv.  The
 * first frame can then be corrected where the C library has no unwind
 * information, as after the system call in glibc's clone wrappers.
 */
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <unistd.h>

#include "forktrace/error.h"
#include "forktrace/pidmap.h"
#include "forktrace/procfs.h"
#include "forktrace/python.h"
#include "forktrace/stacks.h"
#include "forktrace/xmalloc.h"

/*
 * Bytes of stack copied from the stack pointer up, at most.  The copy
 * starts with the pages that hold the stack pointer and the next
 * STACK_COPY_STEP bytes, and grows when the unwinder reads further up.
 */
#define STACK_COPY_SIZE (32 * 1024)
#define STACK_COPY_STEP 4096
#define PAGE_SIZE_GUESS 4096
/* Frames one pc can stand for: itself and the calls inlined into it. */
#define MAX_INLINE_DEPTH 16
/* The stack pointer's DWARF register: rsp on x86_64. */
#define DWARF_SP     7
#define NAME_BUCKETS 4096

/* A Dwfl with the modules of one address space, shared after fork. */
struct address_space {
	Dwfl *dwfl;
	unsigned refs;
	bool stale; /* a pc fell outside every module: read the maps again */
	bool python_probed; /* python and other_pid_ns are filled in */
	bool other_pid_ns; /* the process is in another pid namespace */
	struct ft_python_runtime python; /* runtime 0: not CPython */
};

/* A string that frames point to, kept until the stacks are freed. */
struct interned {
	struct interned *next;
	char text[];
};

/* The names that one pc of one module stands for. */
struct name_entry {
	struct name_entry *next;
	unsigned char *build_id;
	int build_id_len;
	char *module_path; /* the key instead, for modules without build-id */
	uint64_t module_offset;

	char *module;
	size_t count;
	struct {
		char *function;
		uint64_t offset;
		char *file;
		int line;
		bool inlined;
	} frames[];
};

/* The thread being unwound: the state that the callbacks read. */
struct capture {
	pid_t pid;
	pid_t tid;
	Dwarf_Word regs[17]; /* x86_64 DWARF order: rax .. r15, rip */
	unsigned char *stack;
	uint64_t stack_start;
	size_t stack_len;
	bool stack_ended; /* set when a copy came back short */
	bool live; /* the thread is still stopped: its memory can be read */
	struct ft_stack *out;
	Dwfl *dwfl;
	struct ft_stacks *stacks;
	unsigned max_depth;
	bool stepped; /* the first frame was stepped over by hand */
	unsigned dwfl_frames; /* frames that libdw has given so far */
};

struct ft_stacks {
	unsigned max_depth;
	bool libc_lines; /* whether to read the C library's DWARF */
	enum ft_python_mode python;
	struct interned *strings[NAME_BUCKETS];
	struct pidmap spaces; /* pid -> struct address_space */
	struct name_entry *names[NAME_BUCKETS];
	struct capture current;
	unsigned char stack_copy[STACK_COPY_SIZE];
};

char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* Returns true when path names an existing regular file. */
static bool
is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * Returns true when a file named debuglink lies where elfutils looks for
 * it beside the module file_name: in its directory, in .debug below it,
 * or under /usr/lib/debug, for the path as given and as resolved.
 */
static bool
debuglink_target_exists(const char *file_name, const char *debuglink)
{
	char *resolved = realpath(file_name, NULL);
	const char *names[2] = { file_name, resolved };
	char path[PATH_MAX];
	bool found = false;
	size_t i;

	if (debuglink[0] == '/')
		found = is_file(debuglink);
	for (i = 0; i < 2 && !found && names[i]; i++) {
		const char *slash = strrchr(names[i], '/');
		int dir_len = slash ? (int)(slash - names[i]) : 0;
		const char *dir = slash ? names[i] : ".";

		if (!slash)
			dir_len = 1;
		snprintf(path, sizeof(path), "%.*s/%s", dir_len, dir,
			 debuglink);
		found = is_file(path);
		snprintf(path, sizeof(path), "%.*s/.debug/%s", dir_len, dir,
			 debuglink);
		found = found || is_file(path);
		snprintf(path, sizeof(path), "/usr/lib/debug%.*s/%s", dir_len,
			 dir, debuglink);
		found = found || is_file(path);
	}
	free(resolved);
	return found;
}

/*
 * Finds a module's separate debug information the standard elfutils ways,
 * but queries debuginfod only when DEBUGINFOD_URLS names a server.  elfutils
 * 0.188 loads libdebuginfod, with curl and its TLS libraries, at the first
 * lookup that finds nothing on disk, which costs about 25 ms even when no
 * server is set.  Returns a descriptor of the file or -1, as libdwfl does.
 */
static int
find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
	       Dwarf_Addr base, const char *file_name,
	       const char *debuglink_file, GElf_Word debuglink_crc,
	       char **debuginfo_file_name)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	int fd;

	if (urls && *urls)
		return dwfl_standard_find_debuginfo(
			mod, userdata, modname, base, file_name, debuglink_file,
			debuglink_crc, debuginfo_file_name);
	fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base,
					  file_name, debuglink_file,
					  debuglink_crc, debuginfo_file_name);
	if (fd >= 0 || !file_name || !debuglink_file ||
	    !debuglink_target_exists(file_name, debuglink_file))
		return fd;
	/* A local file to check: the standard search checks its CRC. */
	return dwfl_standard_find_debuginfo(mod, userdata, modname, base,
					    file_name, debuglink_file,
					    debuglink_crc, debuginfo_file_name);
}

/*
 * Finds a module's file as libdwfl does, and then tries the name with
 * "\\012" turned back into the newline that /proc/PID/maps wrote that way.
 * Returns a descriptor of the file or -1, as libdwfl does.
 */
static int
find_elf(Dwfl_Module *mod, void **userdata, const char *modname,
	 Dwarf_Addr base, char **file_name, Elf **elfp)
{
	static const char escaped[] = "\\012";
	const char *from;
	char *name, *to;
	int fd;

	fd = dwfl_linux_proc_find_elf(mod, userdata, modname, base, file_name,
				      elfp);
	if (fd >= 0 || *elfp || !modname || modname[0] != '/' ||
	    !strstr(modname, escaped))
		return fd;
	name = xstrdup(modname);
	for (from = modname, to = name; *from; to++) {
		if (!strncmp(from, escaped, sizeof(escaped) - 1)) {
			*to = '\n';
			from += sizeof(escaped) - 1;
		} else {
			*to = *from++;
		}
	}
	*to = '\0';
	fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(name);
		return -1;
	}
	free(*file_name);
	*file_name = name;
	return fd;
}

static const Dwfl_Callbacks dwfl_callbacks = {
	.find_elf = find_elf,
	.find_debuginfo = find_debuginfo,
};

struct ft_stacks *
stacks_new(unsigned max_depth, bool libc_lines, enum ft_python_mode python)
{
	struct ft_stacks *stacks = xcalloc(1, sizeof(*stacks));

	stacks->max_depth = max_depth;
	stacks->libc_lines = libc_lines;
	stacks->python = python;
	return stacks;
}

static void
release_space(struct address_space *space)
{
	if (--space->refs)
		return;
	python_runtime_free(&space->python);
	dwfl_end(space->dwfl);
	free(space);
}

static void
release_space_entry(pid_t pid, void *value, void *data)
{
	(void)pid;
	(void)data;
	release_space(value);
}

static void
free_name_entry(struct name_entry *entry)
{
	size_t i;

	for (i = 0; i < entry->count; i++) {
		free(entry->frames[i].function);
		free(entry->frames[i].file);
	}
	free(entry->build_id);
	free(entry->module_path);
	free(entry->module);
	free(entry);
}

void
stacks_free(struct ft_stacks *stacks)
{
	size_t i;

	if (!stacks)
		return;
	pidmap_each(&stacks->spaces, release_space_entry, NULL);
	pidmap_free(&stacks->spaces);
	for (i = 0; i < NAME_BUCKETS; i++) {
		while (stacks->strings[i]) {
			struct interned *next = stacks->strings[i]->next;

			free(stacks->strings[i]);
			stacks->strings[i] = next;
		}
		while (stacks->names[i]) {
			struct name_entry *next = stacks->names[i]->next;

			free_name_entry(stacks->names[i]);
			stacks->names[i] = next;
		}
	}
	free(stacks);
}

void
stacks_fork(struct ft_stacks *stacks, pid_t parent, pid_t child)
{
	struct address_space *space = pidmap_get(&stacks->spaces, parent);

	if (!space)
		return;
	space->refs++;
	pidmap_put(&stacks->spaces, child, space);
}

void
stacks_forget(struct ft_stacks *stacks, pid_t pid)
{
	struct address_space *space = pidmap_remove(&stacks->spaces, pid);

	if (space)
		release_space(space);
}

void
stack_free(struct ft_stack *stack)
{
	if (!stack)
		return;
	free(stack->frames);
	free(stack);
}

/* libdw's thread callbacks, over the capture in stacks->current. */

static pid_t
next_thread(Dwfl *dwfl, void *arg, void **thread_arg)
{
	(void)dwfl;
	(void)arg;
	(void)thread_arg;
	return 0; /* forktrace requests one thread at a time */
}

static bool
get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_arg)
{
	struct ft_stacks *stacks = arg;

	(void)dwfl;
	*thread_arg = &stacks->current;
	return tid == stacks->current.tid;
}

static void grow_stack_copy(struct capture *c, uint64_t addr);

static bool
memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct capture *c = &((struct ft_stacks *)arg)->current;
	struct iovec local = { result, sizeof(*result) };
	struct iovec remote = { (void *)(uintptr_t)addr, sizeof(*result) };

	(void)dwfl;
	if (c->live && addr >= c->stack_start &&
	    addr - c->stack_start + sizeof(*result) > c->stack_len)
		grow_stack_copy(c, addr + sizeof(*result));
	if (addr >= c->stack_start &&
	    addr - c->stack_start + sizeof(*result) <= c->stack_len) {
		memcpy(result, c->stack + (addr - c->stack_start),
		       sizeof(*result));
		return true;
	}
	/* A sample's thread has run on: its memory is not what it was. */
	if (!c->live)
		return false;
	return process_vm_readv(c->tid, &local, 1, &remote, 1, 0) ==
	       (ssize_t)sizeof(*result);
}

static bool
set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct capture *c = thread_arg;

	return dwfl_thread_state_registers(thread, 0, 17, c->regs);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

/*
 * Reads the modules of process pid into a new Dwfl, from the maps of its
 * thread tid: a leader that has exited has no maps of its own.  Returns
 * NULL on failure.
 */
static Dwfl *
open_dwfl(struct ft_stacks *stacks, pid_t pid, pid_t tid)
{
	Dwfl *dwfl = dwfl_begin(&dwfl_callbacks);

	if (!dwfl)
		return NULL;
	debug_msg(pid, "reading the modules of the process");
	dwfl_report_begin(dwfl);
	if (dwfl_linux_proc_report(dwfl, tid) != 0 ||
	    dwfl_report_end(dwfl, NULL, NULL) != 0 ||
	    !dwfl_attach_state(dwfl, NULL, pid, &thread_callbacks, stacks)) {
		debug_msg(pid, "cannot read modules: %s", dwfl_errmsg(-1));
		dwfl_end(dwfl);
		return NULL;
	}
	return dwfl;
}

/*
 * Returns the address space of pid, opening or refreshing it as needed
 * from the maps of its thread tid.
 */
static struct address_space *
get_space(struct ft_stacks *stacks, pid_t pid, pid_t tid)
{
	struct address_space *space = pidmap_get(&stacks->spaces, pid);
	Dwfl *dwfl;

	if (space && !space->stale)
		return space;
	dwfl = open_dwfl(stacks, pid, tid);
	if (!dwfl)
		return space;
	if (space)
		release_space(pidmap_remove(&stacks->spaces, pid));
	space = xcalloc(1, sizeof(*space));
	space->dwfl = dwfl;
	space->refs = 1;
	pidmap_put(&stacks->spaces, pid, space);
	return space;
}

static bool
read_registers(struct capture *c)
{
#if defined(__x86_64__)
	struct user_regs_struct r;

	if (ptrace(PTRACE_GETREGS, c->tid, 0L, &r) < 0)
		return false;
	c->regs[0] = r.rax;
	c->regs[1] = r.rdx;
	c->regs[2] = r.rcx;
	c->regs[3] = r.rbx;
	c->regs[4] = r.rsi;
	c->regs[5] = r.rdi;
	c->regs[6] = r.rbp;
	c->regs[7] = r.rsp;
	c->regs[8] = r.r8;
	c->regs[9] = r.r9;
	c->regs[10] = r.r10;
	c->regs[11] = r.r11;
	c->regs[12] = r.r12;
	c->regs[13] = r.r13;
	c->regs[14] = r.r14;
	c->regs[15] = r.r15;
	c->regs[16] = r.rip;
	return true;
#else
	/* TODO: registers of architectures other than x86_64. */
	(void)c;
	errno = ENOSYS;
	return false;
#endif
}

/*
 * Extends the copy of the stack to cover the bytes below end, page by page
 * up to STACK_COPY_STEP beyond it, in one call.  The memory is read
 * through the stopped thread itself: a leader that exited before its
 * threads is a zombie with no memory to read.  A copy that comes back
 * short has reached the end of the stack, and the copy stops growing.
 */
static void
grow_stack_copy(struct capture *c, uint64_t end)
{
	struct iovec local, remote[STACK_COPY_SIZE / PAGE_SIZE_GUESS + 1];
	uint64_t limit = c->stack_start + STACK_COPY_SIZE;
	uint64_t at = c->stack_start + c->stack_len;
	size_t n = 0, total = 0;
	ssize_t got;

	if (c->stack_ended || end > limit)
		return;
	end = (end + STACK_COPY_STEP) & ~(uint64_t)(PAGE_SIZE_GUESS - 1);
	if (end > limit)
		end = limit;
	while (at < end) {
		uint64_t page_end = (at | (PAGE_SIZE_GUESS - 1)) + 1;
		size_t len = (page_end < end ? page_end : end) - at;

		remote[n].iov_base = (void *)(uintptr_t)at;
		remote[n++].iov_len = len;
		total += len;
		at += len;
	}
	local.iov_base = c->stack + c->stack_len;
	local.iov_len = total;
	got = process_vm_readv(c->tid, &local, 1, remote, n, 0);
	if (got > 0)
		c->stack_len += (size_t)got;
	if (got < (ssize_t)total)
		c->stack_ended = true;
}

/* Starts the copy of the stack at the stack pointer. */
static void
copy_stack(struct ft_stacks *stacks, struct capture *c)
{
	c->stack = stacks->stack_copy;
	c->stack_start = c->regs[7];
	c->stack_len = 0;
	c->stack_ended = false;
	grow_stack_copy(c, c->stack_start);
}

static bool
is_libc_module(const char *module)
{
	const char *base = module ? strrchr(module, '/') : NULL;

	base = base ? base + 1 : module;
	return base && !strncmp(base, "libc.so", 7);
}

static uint64_t
hash_key(const unsigned char *id, int id_len, const char *path, uint64_t offset)
{
	uint64_t h = 1469598103934665603u ^ offset;
	int i;

	for (i = 0; i < id_len; i++)
		h = (h ^ id[i]) * 1099511628211u;
	for (; path && *path; path++)
		h = (h ^ (unsigned char)*path) * 1099511628211u;
	return h ^ (offset * 0x9e3779b97f4a7c15u);
}

/* Returns a copy of a symbol name, demangled and without "@VERSION". */
static char *
demangle(const char *name)
{
	char *plain;
	int status;

	if (!name)
		return NULL;
	if (strchr(name, '@')) {
		char *bare = xmemdup(name, strcspn(name, "@") + 1);

		bare[strcspn(name, "@")] = '\0';
		plain = demangle(bare);
		free(bare);
		return plain;
	}
	if (name[0] == '_' && name[1] == 'Z') {
		plain = __cxa_demangle(name, NULL, NULL, &status);
		if (plain && status == 0)
			return plain;
		free(plain);
	}
	return xstrdup(name);
}

static const char *
die_function_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name;

	name = dwarf_formstring(
		dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(
			die, DW_AT_MIPS_linkage_name, &attr));
	return name ? name : dwarf_diename(die);
}

/* Returns the name of file number index of the compile unit. */
static const char *
call_file_name(Dwarf_Die *cudie, Dwarf_Word index)
{
	Dwarf_Files *files;
	size_t count;

	if (dwarf_getsrcfiles(cudie, &files, &count) != 0 || index >= count)
		return NULL;
	return dwarf_filesrc(files, index, NULL, NULL);
}

/*
 * Returns a copy of a module's path as /proc/PID/maps gives it, with its
 * one escape undone: the kernel writes a newline in a path as \012.
 */
static char *
maps_path_dup(const char *path)
{
	char *copy = xstrdup(path), *out = copy;
	const char *in;

	for (in = path; *in; in++) {
		if (!strncmp(in, "\\012", 4)) {
			*out++ = '\n';
			in += 3;
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';
	return copy;
}

/*
 * Names pc in mod: the function the symbol table gives and, with_dwarf,
 * the source line and the chain of inlined calls that DWARF's scopes
 * give, innermost first.
 */
static struct name_entry *
name_pc(Dwfl_Module *mod, uint64_t pc, const char *module, bool with_dwarf)
{
	struct name_entry *entry =
		xcalloc(1, sizeof(*entry) + (MAX_INLINE_DEPTH + 1) *
						    sizeof(entry->frames[0]));
	const char *symbol, *file = NULL;
	Dwarf_Die *cudie, *scopes = NULL;
	Dwarf_Addr bias = 0;
	Dwfl_Line *line;
	GElf_Off offset = 0;
	GElf_Sym sym;
	int lineno = 0, n, i;

	entry->module = module ? maps_path_dup(module) : NULL;
	symbol = dwfl_module_addrinfo(mod, pc, &offset, &sym, NULL, NULL, NULL);
	line = with_dwarf ? dwfl_module_getsrc(mod, pc) : NULL;
	if (line)
		file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);

	cudie = with_dwarf ? dwfl_module_addrdie(mod, pc, &bias) : NULL;
	n = cudie ? dwarf_getscopes(cudie, pc - bias, &scopes) : 0;
	for (i = 0; i < n && entry->count < MAX_INLINE_DEPTH; i++) {
		Dwarf_Attribute attr;
		Dwarf_Word value;
		int tag = dwarf_tag(&scopes[i]);

		if (tag == DW_TAG_subprogram)
			break;
		if (tag != DW_TAG_inlined_subroutine)
			continue;
		entry->frames[entry->count].function =
			demangle(die_function_name(&scopes[i]));
		entry->frames[entry->count].file = file ? xstrdup(file) : NULL;
		entry->frames[entry->count].line = lineno;
		entry->frames[entry->count++].inlined = true;
		/* The caller's place is the place of the inlined call. */
		if (dwarf_formudata(
			    dwarf_attr(&scopes[i], DW_AT_call_file, &attr),
			    &value) == 0)
			file = call_file_name(cudie, value);
		if (dwarf_formudata(
			    dwarf_attr(&scopes[i], DW_AT_call_line, &attr),
			    &value) == 0)
			lineno = (int)value;
	}
	free(scopes);

	entry->frames[entry->count].function = demangle(symbol);
	entry->frames[entry->count].offset = symbol ? offset : 0;
	entry->frames[entry->count].file = file ? xstrdup(file) : NULL;
	entry->frames[entry->count].line = lineno;
	entry->count++;
	return entry;
}

/* Returns the names of pc in mod from the cache, naming it on a miss. */
static struct name_entry *
lookup_name(struct ft_stacks *stacks, Dwfl_Module *mod, uint64_t pc)
{
	const unsigned char *id = NULL;
	GElf_Addr id_vaddr, low = 0;
	const char *module;
	struct name_entry *entry;
	uint64_t offset, h;
	int id_len;

	module =
		dwfl_module_info(mod, NULL, &low, NULL, NULL, NULL, NULL, NULL);
	id_len = dwfl_module_build_id(mod, &id, &id_vaddr);
	if (id_len < 0)
		id_len = 0;
	offset = pc - low;
	h = hash_key(id, id_len, id_len ? NULL : module, offset);

	for (entry = stacks->names[h % NAME_BUCKETS]; entry;
	     entry = entry->next) {
		if (entry->module_offset != offset ||
		    entry->build_id_len != id_len)
			continue;
		if (id_len ? !memcmp(entry->build_id, id, (size_t)id_len)
			   : !strcmp(entry->module_path, module ? module : ""))
			return entry;
	}

	/*
	 * With libc6-dbg installed, the C library's DWARF is in a separate
	 * file with compressed sections.  libdw inflates them for each
	 * address space, about 40 ms and 17 MB with elfutils 0.188 and glibc
	 * 2.36, only to name glibc's own source lines.  The symbol table alone
	 * names the call.
	 */
	entry = name_pc(mod, pc, module,
			stacks->libc_lines || !is_libc_module(module));
	entry->module_offset = offset;
	entry->build_id_len = id_len;
	if (id_len)
		entry->build_id = (unsigned char *)xmemdup(id, (size_t)id_len);
	else
		entry->module_path = xstrdup(module ? module : "");
	entry->next = stacks->names[h % NAME_BUCKETS];
	stacks->names[h % NAME_BUCKETS] = entry;
	return entry;
}

static void
add_frame(struct ft_stack *stack, const struct ft_frame *frame)
{
	stack->frames[stack->count++] = *frame;
}

/*
 * Appends the frames that pc stands for, in the native frame whose stack
 * pointer is sp; returns false when full.
 */
static bool
add_frames_for_pc(struct capture *c, uint64_t pc, uint64_t sp, bool activation)
{
	uint64_t lookup = activation ? pc : pc - 1;
	Dwfl_Module *mod = dwfl_addrmodule(c->dwfl, lookup);
	struct ft_frame frame = { .pc = pc, .sp = sp };
	struct name_entry *entry;
	size_t i;

	if (!mod) {
		struct address_space *space =
			pidmap_get(&c->stacks->spaces, c->pid);

		/* Code mapped after the modules were read. */
		if (space)
			space->stale = true;
		frame.offset = pc;
		add_frame(c->out, &frame);
		return c->out->count < c->max_depth;
	}

	entry = lookup_name(c->stacks, mod, lookup);
	for (i = 0; i < entry->count && c->out->count < c->max_depth; i++) {
		frame.module = entry->module;
		frame.function = entry->frames[i].function;
		frame.offset = entry->frames[i].function
				       ? entry->frames[i].offset + (pc - lookup)
				       : entry->module_offset + (pc - lookup);
		frame.file = entry->frames[i].file;
		frame.line = entry->frames[i].line;
		frame.inlined = entry->frames[i].inlined;
		add_frame(c->out, &frame);
	}
	return c->out->count < c->max_depth;
}

static int
frame_callback(Dwfl_Frame *state, void *arg)
{
	struct capture *c = arg;
	Dwarf_Addr pc;
	Dwarf_Word sp = 0;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	if (dwfl_frame_reg(state, DWARF_SP, &sp) != 0)
		sp = 0;
	/* After a step by hand, libdw's first pc is a return address. */
	if (c->stepped && c->dwfl_frames == 0)
		activation = false;
	c->dwfl_frames++;
	return add_frames_for_pc(c, pc, sp, activation) ? DWARF_CB_OK
							: DWARF_CB_ABORT;
}

/*
 * Steps over glibc's clone wrappers by hand.  glibc 2.36 ends the unwind
 * information of __clone and __clone3 before their syscall instruction,
 * where the parent stops at a thread-creation or posix_spawn event, but
 * both have the return address at the stack pointer there.
 */
static void
step_over_clone_wrapper(struct capture *c)
{
#if defined(__x86_64__)
	Dwfl_Module *mod = dwfl_addrmodule(c->dwfl, c->regs[16]);
	struct name_entry *entry;
	const char *name;
	Dwarf_Word return_address;

	if (!mod)
		return;
	entry = lookup_name(c->stacks, mod, c->regs[16]);
	name = entry->frames[entry->count - 1].function;
	if (!name || (strcmp(name, "__clone3") && strcmp(name, "__clone") &&
		      strcmp(name, "clone")))
		return;
	if (!memory_read(c->dwfl, c->regs[7], &return_address, c->stacks))
		return;

	add_frames_for_pc(c, c->regs[16], c->regs[7], true);
	c->regs[16] = return_address;
	c->regs[7] += 8;
	c->stepped = true;
#else
	(void)c;
#endif
}

/* Returns a copy of text that lives as long as the stacks. */
static const char *
intern(struct ft_stacks *stacks, const char *text)
{
	uint64_t h = 1469598103934665603u;
	struct interned *entry;
	const char *p;
	size_t len = strlen(text);

	for (p = text; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	for (entry = stacks->strings[h % NAME_BUCKETS]; entry;
	     entry = entry->next)
		if (!strcmp(entry->text, text))
			return entry->text;
	entry = xmalloc(sizeof(*entry) + len + 1);
	memcpy(entry->text, text, len + 1);
	entry->next = stacks->strings[h % NAME_BUCKETS];
	stacks->strings[h % NAME_BUCKETS] = entry;
	return entry->text;
}

/* The addresses of _PyRuntime and Py_Version, found in the modules. */
struct python_symbols {
	uint64_t runtime;
	uint64_t version;
};

static int
find_python_symbols(Dwfl_Module *mod, void **userdata, const char *name,
		    Dwarf_Addr start, void *arg)
{
	struct python_symbols *found = arg;
	const char *base = strrchr(name, '/');
	int count, i;

	(void)userdata;
	(void)start;
	base = base ? base + 1 : name;
	if (strncmp(base, "python", 6) && strncmp(base, "libpython", 9))
		return DWARF_CB_OK;
	count = dwfl_module_getsymtab(mod);
	for (i = 1; i < count; i++) {
		GElf_Addr addr;
		GElf_Sym sym;
		const char *symbol = dwfl_module_getsym_info(
			mod, i, &sym, &addr, NULL, NULL, NULL);

		if (!symbol || GELF_ST_TYPE(sym.st_info) != STT_OBJECT)
			continue;
		if (!strcmp(symbol, "_PyRuntime"))
			found->runtime = addr;
		else if (!strcmp(symbol, "Py_Version"))
			found->version = addr;
	}
	return found->runtime && found->version ? DWARF_CB_ABORT : DWARF_CB_OK;
}

/*
 * Reads the Python frames of the stopped thread tid when its address
 * space runs CPython.  Returns false, with py empty, when it does not or
 * when the Python frames are not wanted.
 */
/* Returns true when process pid lives in another pid namespace. */
static bool
in_other_pid_ns(pid_t pid)
{
	char path[64], ours[64] = "", theirs[64] = "";

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	if (readlink("/proc/self/ns/pid", ours, sizeof(ours) - 1) < 0 ||
	    readlink(path, theirs, sizeof(theirs) - 1) < 0)
		return false;
	return strcmp(ours, theirs) != 0;
}

/*
 * Returns the id of thread tid of process pid in its own pid namespace,
 * the last number of NSpid in its status, or tid when unknown.
 */
static pid_t
tid_in_own_ns(pid_t pid, pid_t tid)
{
	char path[64], *text, *line, *last;
	size_t len;
	pid_t inner = tid;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid,
		 (int)tid);
	if (procfs_read_file(path, &text, &len) < 0)
		return tid;
	line = strstr(text, "\nNSpid:");
	if (line) {
		line[strcspn(line + 1, "\n") + 1] = '\0';
		last = strrchr(line, '\t');
		if (!last)
			last = strrchr(line, ' ');
		if (last && atoi(last + 1) > 0)
			inner = atoi(last + 1);
	}
	free(text);
	return inner;
}

static bool
read_python(struct ft_stacks *stacks, struct address_space *space, pid_t tid,
	    bool with_name, struct ft_python_stack *py)
{
	memset(py, 0, sizeof(*py));
	py->gil = -1;
	if (stacks->python == FT_PYTHON_OFF)
		return false;
	if (!space->python_probed) {
		struct python_symbols found = { 0, 0 };

		dwfl_getmodules(space->dwfl, find_python_symbols, &found, 0);
		python_runtime_find(&space->python, tid, found.runtime,
				    found.version);
		space->other_pid_ns = in_other_pid_ns(tid);
		space->python_probed = true;
	}
	if (!space->python.runtime)
		return false;
	/* CPython records the thread id that its own namespace gives. */
	python_read_stack(&space->python, tid,
			  space->other_pid_ns ? tid_in_own_ns(tid, tid) : tid,
			  with_name, py);
	return true;
}

/* Returns true for the frame of CPython's eval loop. */
static bool
is_eval_frame(const struct ft_frame *frame)
{
	return !frame->inlined && frame->function &&
	       !strcmp(frame->function, "_PyEval_EvalFrameDefault");
}

/* Appends a frame to frames if there is room; returns false when full. */
static bool
push_frame(struct ft_frame *frames, size_t *count, size_t max,
	   const struct ft_frame *frame)
{
	if (*count == max)
		return false;
	frames[(*count)++] = *frame;
	return true;
}

/* Appends a Python frame, its strings interned, to frames. */
static void
push_python_frame(struct ft_stacks *stacks, struct ft_frame *frames,
		  size_t *count, const struct ft_python_frame *from)
{
	struct ft_frame frame = { .python = true };

	frame.function = intern(stacks, from->function);
	frame.file = intern(stacks, from->file);
	frame.line = from->line;
	push_frame(frames, count, stacks->max_depth, &frame);
}

/*
 * Finds the native frame whose stack contains addr: the first frame of the
 * activation whose stack pointer is at or below addr and whose caller's
 * is above it.  Returns stack->count when none does.
 */
static size_t
frame_holding(const struct ft_stack *stack, uint64_t addr, bool complete)
{
	size_t i, next;

	for (i = 0; i < stack->count; i = next) {
		uint64_t sp = stack->frames[i].sp;

		/* Inlined calls share their function's stack pointer. */
		for (next = i + 1;
		     next < stack->count && stack->frames[next].sp == sp;
		     next++)
			;
		if (!sp || addr < sp)
			continue;
		/* Past the last frame only when the unwind reached the end. */
		if (next == stack->count ? complete
					 : addr < stack->frames[next].sp)
			return i;
	}
	return stack->count;
}

/*
 * Gives each native frame the number of the segment of py that its C call
 * of the eval loop ran, or -1: CPython 3.11 marks the call's outermost
 * Python frame, and the frames between two marks are one segment.  From
 * 3.12 the mark also gives the address of the call's native stack frame.
 * Before 3.12, the eval loop's name marks the calls.  Returns the number of
 * segments placed, or -1 when the two stacks disagree.
 */
static long
place_segments(const struct ft_stack *stack, const struct ft_python_stack *py,
	       long *segment_of, bool complete)
{
	size_t i, segments = 0, evals = 0, placed = 0;
	bool by_address = false;

	for (i = 0; i < stack->count; i++)
		segment_of[i] = -1;
	for (i = 0; i < py->count; i++) {
		segments += py->frames[i].entry;
		by_address |= py->frames[i].entry_addr != 0;
	}
	if (by_address) {
		size_t segment = 0, at, last = 0;

		for (i = 0; i < py->count; i++) {
			if (!py->frames[i].entry)
				continue;
			at = frame_holding(stack, py->frames[i].entry_addr,
					   complete);
			if (at == stack->count || (placed && at <= last)) {
				/* Not on the stack that was unwound. */
				if (complete)
					return -1;
				break;
			}
			segment_of[at] = (long)segment++;
			last = at;
			placed++;
		}
		return (long)placed;
	}

	/*
	 * At a stop inside the eval loop's own bookkeeping, as a signal or
	 * a snapshot can find it, the native calls and the chain of frames
	 * can disagree for a few instructions.  Each C call must have its
	 * entry frame, unless the native unwind stopped short.
	 */
	for (i = 0; i < stack->count; i++)
		if (is_eval_frame(&stack->frames[i]))
			segment_of[i] = (long)evals++;
	if (evals > segments || (evals < segments && complete))
		return -1;
	return (long)evals;
}

/*
 * Puts the Python frames of py in the place of the eval loop's frames of
 * the native stack, each C call of the eval loop by the segment of Python
 * frames that it ran.  Python frames left over, when the native unwind
 * stopped early, go at the end.  Frees py.
 */
static void
merge_python(struct ft_stacks *stacks, struct ft_stack *stack,
	     struct ft_python_stack *py)
{
	bool only = stacks->python == FT_PYTHON_ONLY && py->count;
	bool complete = !stack->error && stack->count < stacks->max_depth;
	size_t count = 0, next = 0, i;
	const char *note = py->note;
	struct ft_frame *merged;
	long *segment_of;

	if (!py->count)
		goto done;
	segment_of = xcalloc(stack->count + 1, sizeof(*segment_of));
	if (place_segments(stack, py, segment_of, complete) < 0) {
		note = "Python frames left out: the interpreter was between "
		       "two frames";
		free(segment_of);
		goto done;
	}

	merged = xcalloc(stacks->max_depth, sizeof(*merged));
	for (i = 0; i < stack->count; i++) {
		if (segment_of[i] >= 0 && next < py->count) {
			uint64_t sp = stack->frames[i].sp;

			/* This C call ran the frames up to its entry frame. */
			do {
				push_python_frame(stacks, merged, &count,
						  &py->frames[next]);
			} while (!py->frames[next++].entry && next < py->count);
			/* The call's inlined frames go with it. */
			while (sp && i + 1 < stack->count &&
			       stack->frames[i + 1].sp == sp)
				i++;
			continue;
		}
		if (!only)
			push_frame(merged, &count, stacks->max_depth,
				   &stack->frames[i]);
	}
	for (; next < py->count; next++)
		push_python_frame(stacks, merged, &count, &py->frames[next]);
	free(segment_of);
	free(stack->frames);
	stack->frames = merged;
	stack->count = count;
done:
	stack->python_gil = py->gil;
	stack->python_note = note ? intern(stacks, note) : NULL;
	stack->python_thread =
		py->thread_name ? intern(stacks, py->thread_name) : NULL;
	python_stack_free(py);
}

/* Returns a new empty stack with room for max_depth frames. */
static struct ft_stack *
new_stack(const struct ft_stacks *stacks)
{
	struct ft_stack *stack = xcalloc(1, sizeof(*stack));

	stack->frames = xcalloc(stacks->max_depth, sizeof(*stack->frames));
	stack->python_gil = -1;
	return stack;
}

/* Resets stacks->current for a capture of tid into stack. */
static struct capture *
begin_capture(struct ft_stacks *stacks, pid_t pid, pid_t tid,
	      struct ft_stack *stack)
{
	struct capture *c = &stacks->current;

	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->tid = tid;
	c->out = stack;
	c->stacks = stacks;
	c->max_depth = stacks->max_depth;
	return c;
}

/* Unwinds the registers and stack in c into c->out. */
static void
unwind(struct ft_stacks *stacks, struct address_space *space, struct capture *c)
{
	struct ft_stack *stack = c->out;
	size_t first_count;

	c->dwfl = space->dwfl;
	debug_msg(c->tid,
		  "unwinding from pc 0x%llx, sp 0x%llx, %zu stack bytes",
		  (unsigned long long)c->regs[16],
		  (unsigned long long)c->regs[7], c->stack_len);
	step_over_clone_wrapper(c);

	first_count = stack->count;
	if (dwfl_getthread_frames(space->dwfl, c->tid, frame_callback, c) !=
		    0 &&
	    stack->count < stacks->max_depth) {
		/* dwfl_errno() clears the error, so it is read once. */
		int err = dwfl_errno();

		/* libdw's messages are static strings: they stay valid. */
		if (err)
			stack->error = dwfl_errmsg(err);
	}
	if (stack->count == first_count && !stack->error)
		stack->error = "no frames";
}

struct ft_stack *
stacks_capture(struct ft_stacks *stacks, pid_t pid, pid_t tid)
{
	struct ft_stack *stack = new_stack(stacks);
	struct capture *c = begin_capture(stacks, pid, tid, stack);
	struct address_space *space;
	struct ft_python_stack py;
	bool has_python;

	space = get_space(stacks, pid, tid);
	if (!space) {
		stack->error = "cannot read the process's modules";
		return stack;
	}
	if (!read_registers(c)) {
		stack->error = "cannot read the thread's registers";
		return stack;
	}
	c->live = true;
	copy_stack(stacks, c);
	has_python = read_python(stacks, space, tid, true, &py);
	unwind(stacks, space, c);
	if (has_python)
		merge_python(stacks, stack, &py);
	return stack;
}

/* A stopped thread's registers and the top of its stack, to unwind later. */
struct ft_stack_sample {
	pid_t pid;
	pid_t tid;
	struct address_space *space; /* a reference, or NULL */
	const char *error; /* why there is nothing to unwind, or NULL */
	Dwarf_Word regs[17];
	uint64_t stack_start;
	size_t stack_len;
	bool has_python; /* python contains the thread's Python frames */
	struct ft_python_stack python;
	unsigned char stack[STACK_COPY_SIZE];
};

struct ft_stack_sample *
stacks_sample(struct ft_stacks *stacks, pid_t pid, pid_t tid)
{
	struct ft_stack_sample *sample = xmalloc(sizeof(*sample));
	struct capture c = { .pid = pid, .tid = tid, .live = true };

	sample->pid = pid;
	sample->tid = tid;
	sample->error = NULL;
	sample->stack_start = 0;
	sample->stack_len = 0;
	sample->has_python = false;
	sample->space = get_space(stacks, pid, tid);
	if (!sample->space) {
		sample->error = "cannot read the process's modules";
		return sample;
	}
	/* The space stays while the sample needs it, even past an exec. */
	sample->space->refs++;
	if (!read_registers(&c)) {
		sample->error = "cannot read the thread's registers";
		return sample;
	}
	memcpy(sample->regs, c.regs, sizeof(sample->regs));
	c.stack = sample->stack;
	c.stack_start = c.regs[7];
	grow_stack_copy(&c, c.stack_start + STACK_COPY_SIZE);
	sample->stack_start = c.stack_start;
	sample->stack_len = c.stack_len;
	/* Python's frames live on its heap: read them before it runs on. */
	sample->has_python =
		read_python(stacks, sample->space, tid, false, &sample->python);
	return sample;
}

struct ft_stack *
stacks_unwind(struct ft_stacks *stacks, struct ft_stack_sample *sample)
{
	struct ft_stack *stack = new_stack(stacks);
	struct capture *c;

	if (sample->error) {
		stack->error = sample->error;
	} else {
		c = begin_capture(stacks, sample->pid, sample->tid, stack);
		memcpy(c->regs, sample->regs, sizeof(c->regs));
		c->stack = sample->stack;
		c->stack_start = sample->stack_start;
		c->stack_len = sample->stack_len;
		c->stack_ended = true;
		unwind(stacks, sample->space, c);
		if (sample->has_python)
			merge_python(stacks, stack, &sample->python);
	}
	if (sample->space)
		release_space(sample->space);
	free(sample);
	return stack;
}

size_t
stack_libc_prefix(const struct ft_stack *stack)
{
	size_t i;

	for (i = 0; i < stack->count; i++)
		if (!is_libc_module(stack->frames[i].module))
			break;
	return i;
}

/* Returns true for glibc's functions that start a program or a thread. */
static bool
is_startup_function(const char *name)
{
	static const char *const names[] = {
		"_start",
		"__libc_start_main",
		"__libc_start_main_impl",
		"__libc_start_call_main",
		"start_thread",
		"__clone3",
		"__clone",
		"clone",
		"clone3",
	};
	size_t i;

	for (i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

size_t
stack_startup_suffix(const struct ft_stack *stack)
{
	size_t n = 0, unnamed = 0;

	/*
	 * A stripped program's _start has no name; it is the caller of
	 * glibc's startup function.
	 */
	while (unnamed < stack->count &&
	       !stack->frames[stack->count - 1 - unnamed].function)
		unnamed++;
	if (unnamed < stack->count &&
	    is_startup_function(
		    stack->frames[stack->count - 1 - unnamed].function))
		n = unnamed;
	while (n < stack->count) {
		const struct ft_frame *frame =
			&stack->frames[stack->count - 1 - n];

		if (!is_libc_module(frame->module) &&
		    !is_startup_function(frame->function))
			break;
		n++;
	}
	return n;
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static void
add_part(struct strbuf *sb, const char *s, ft_text_adder add_text)
{
	add_text(sb, s, strlen(s));
}

void
stack_frame_text(struct strbuf *sb, const struct ft_frame *frame,
		 ft_text_adder add_text)
{
	const char *module = frame->module ? base_name(frame->module) : NULL;

	if (frame->function) {
		add_part(sb, frame->function, add_text);
		if (frame->file && (frame->line || frame->python)) {
			/* A Python frame has a file even without a line. */
			strbuf_addstr(sb, " (");
			add_part(sb, base_name(frame->file), add_text);
			if (frame->line)
				strbuf_addf(sb, ":%d", frame->line);
			strbuf_addch(sb, ')');
		} else {
			strbuf_addf(sb, "+0x%llx",
				    (unsigned long long)frame->offset);
			if (module) {
				strbuf_addstr(sb, " (");
				add_part(sb, module, add_text);
				strbuf_addch(sb, ')');
			}
		}
	} else if (module) {
		strbuf_addf(sb, "0x%llx (", (unsigned long long)frame->pc);
		add_part(sb, module, add_text);
		strbuf_addf(sb, "+0x%llx)", (unsigned long long)frame->offset);
	} else {
		strbuf_addf(sb, "0x%llx", (unsigned long long)frame->pc);
	}
	if (frame->inlined)
		strbuf_addstr(sb, " [inlined]");
}
