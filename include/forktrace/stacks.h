/*
 * Symbolized stacks of ptrace-stopped threads, through elfutils libdw.
 *
 * One Dwfl serves each address space: a forked child shares its parent's
 * until it execs, since it maps the same files at the same addresses.  A
 * pc outside every known module makes the Dwfl read /proc/PID/maps again,
 * which covers libraries mapped after the first capture.  The names of
 * frames are cached across processes by the module's build-id and the
 * offset of the pc in it, so each distinct pc is looked up once.
 */
#ifndef FORKTRACE_STACKS_H
#define FORKTRACE_STACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "forktrace/options.h"
#include "forktrace/strbuf.h"

/* One frame, innermost first.  Strings belong to the stacks cache. */
struct ft_frame {
	uint64_t pc; /* the frame's pc: a return address for callers */
	const char *module; /* the mapped file's path, or NULL */
	const char *function; /* demangled, or NULL when no symbol covers pc */
	uint64_t offset; /* pc - function start, or pc - module start */
	const char *file; /* source file, or NULL without DWARF */
	int line; /* source line, or 0 */
	bool inlined; /* an inlined call inside the next frame */
	bool python; /* a Python frame: function, file and line only */
	uint64_t sp; /* the stack pointer in this frame, or 0 */
};

struct ft_stack {
	struct ft_frame *frames;
	size_t count;
	const char *error; /* why the unwind stopped early, or NULL */
	const char *python_note; /* why Python frames are missing, or NULL */
	int python_gil; /* 1: holds CPython's GIL, 0: does not, -1: unknown */
	const char *python_thread; /* its threading.Thread's name, or NULL */
};

struct ft_stacks;
struct ft_stack_sample;

/*
 * Creates an unwinder that keeps at most max_depth frames per stack.
 * Frames in the C library get a source file and line only with
 * libc_lines; otherwise they are named from its symbol table alone.
 */
struct ft_stacks *stacks_new(unsigned max_depth, bool libc_lines,
			     enum ft_python_mode python);
void stacks_free(struct ft_stacks *stacks);

/*
 * Unwinds thread tid of process pid, which must be in a ptrace stop.
 * Returns a new stack (free it with stack_free()), with its error set
 * when the unwind ended early; never NULL.
 */
struct ft_stack *stacks_capture(struct ft_stacks *stacks, pid_t pid, pid_t tid);

/*
 * Copies the registers and the top of the stack of thread tid, which must
 * be in a ptrace stop, so that the thread can be resumed before its stack
 * is unwound with stacks_unwind().  Returns a new sample; never NULL.
 */
struct ft_stack_sample *stacks_sample(struct ft_stacks *stacks, pid_t pid,
				      pid_t tid);

/*
 * Unwinds a sample and frees it.  Memory beyond the copied top of the
 * stack is not read, since the thread has run on.  Returns a new stack,
 * as stacks_capture() does.
 */
struct ft_stack *stacks_unwind(struct ft_stacks *stacks,
			       struct ft_stack_sample *sample);

/* Lets the child of a fork use its parent's modules. */
void stacks_fork(struct ft_stacks *stacks, pid_t parent, pid_t child);

/* Forgets a process's modules, at its exec or its end. */
void stacks_forget(struct ft_stacks *stacks, pid_t pid);

void stack_free(struct ft_stack *stack);

/*
 * Returns the number of innermost frames that belong to the C library,
 * which a reader can fold into one line: the wrapper that was called.
 */
size_t stack_libc_prefix(const struct ft_stack *stack);

/*
 * Returns the number of outermost frames that start the program or the
 * thread (_start, __libc_start_main, start_thread, clone), which a reader
 * can leave out.
 */
size_t stack_startup_suffix(const struct ft_stack *stack);

/* Appends len bytes of s to sb, escaped as the reader of sb needs. */
typedef void (*ft_text_adder)(struct strbuf *sb, const char *s, size_t len);

/*
 * Appends a frame as one line: "function (file:line)", or
 * "function+0xOFF (module)" without a source line, with " [inlined]" for
 * an inlined call.  The names go through add_text.
 */
void stack_frame_text(struct strbuf *sb, const struct ft_frame *frame,
		      ft_text_adder add_text);

#endif
