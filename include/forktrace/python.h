/*
 * Python frames of a CPython process, read from its memory while the
 * thread is in a ptrace stop.
 *
 * The interpreter's runtime state is found through the _PyRuntime symbol
 * of the executable or of libpython, and its version through Py_Version.
 * Each thread state records its native thread id.  Its chain of frames
 * gives, for each Python frame, the code object's name and file, and the
 * line of the instruction it runs.  Every read is bounded and checked with
 * process_vm_readv(): nothing is written to the process and no code runs
 * in it.
 */
#ifndef FORKTRACE_PYTHON_H
#define FORKTRACE_PYTHON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A Python frame: strings are the caller's to free. */
struct ft_python_frame {
	char *function; /* the code object's qualified name */
	char *file; /* co_filename */
	int line; /* 0 when unknown */
	bool entry; /* the outermost frame of one C call of the eval loop */
	/*
	 * For an entry frame from 3.12 on: the address of the shim frame that
	 * the C call put on its own native stack frame, or 0
	 */
	uint64_t entry_addr;
};

/* The Python frames of one thread, innermost first. */
struct ft_python_stack {
	struct ft_python_frame *frames;
	size_t count;
	int gil; /* 1: the thread holds the GIL, 0: it does not, -1: unknown */
	char *thread_name; /* its threading.Thread's name, or NULL */
	const char *note; /* why the frames are missing or cut, or NULL */
};

/* The location of one address space's interpreter, if it has one. */
struct ft_python_runtime {
	uint64_t runtime; /* the address of _PyRuntime, 0 if not CPython */
	unsigned version; /* PY_VERSION_HEX, e.g. 0x030b02f0 */
	struct python_layout *layout; /* NULL: the version is unknown */
	char unavailable[80]; /* the note for an unknown version */
};

/*
 * Finds the interpreter of process pid from the address of _PyRuntime
 * and of Py_Version, as found in its modules (0 when absent).  Reads the
 * version through the stopped thread tid.  Returns false when pid does
 * not run CPython.  CPython 3.11 has a layout of forktrace's own, and 3.13
 * and later describe theirs in the _Py_DebugOffsets at the start of
 * _PyRuntime.  Free the runtime with python_runtime_free().
 */
bool python_runtime_find(struct ft_python_runtime *runtime, pid_t tid,
			 uint64_t runtime_addr, uint64_t version_addr);

void python_runtime_free(struct ft_python_runtime *runtime);

/*
 * Reads the Python frames of thread tid, which must be in a ptrace stop,
 * and with_name, the name of the threading.Thread that it runs.
 * native_tid is the thread's id in its own pid namespace, which CPython
 * records.  On a failure to read, the stack contains the frames read so far
 * and a note.  Free it with python_stack_free().
 */
void python_read_stack(const struct ft_python_runtime *runtime, pid_t tid,
		       pid_t native_tid, bool with_name,
		       struct ft_python_stack *stack);

void python_stack_free(struct ft_python_stack *stack);

/*
 * Finds the line of the instruction at index (in code units) in a
 * CPython 3.11 location table that starts at first_line.  Returns 0 when
 * the table gives no line there.
 */
int python_line_for_index(const unsigned char *table, size_t len,
			  int first_line, long index);

#endif
