/*
 * Fuzz target for the ELF path of tracer/stacks.c: the input is an ELF
 * file, reported to a Dwfl with dwfl_report_elf() as one module, and
 * stacks.c's own lookup_name() names a few addresses in it.  That runs
 * the same libdw calls as a stack capture (dwfl_module_addrinfo,
 * dwfl_module_getsrc, dwfl_module_addrdie, dwarf_getscopes) and
 * forktrace's code around them, without a traced process.
 *
 * lookup_name() and the other helpers are static, so this file includes
 * stacks.c itself; the fuzz build then leaves stacks.o out of the link.
 */
#include "../../tracer/stacks.c"

#include <sys/mman.h>

const char *__asan_default_options(void);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where the module is reported, as a library would be mapped. */
#define MODULE_BASE 0x7f0000000000ull
/* Evenly spaced addresses named in each module, and symbols too. */
#define ADDRESS_STEPS 8
#define SYMBOL_COUNT  16

/*
 * Unwinds fully at each malloc, through libdw's frames too, so that
 * tests/fuzz/lsan.supp can name the libdw function that leaks.
 */
const char *
__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* A build-id must not send libdw to a debuginfod server. */
	unsetenv("DEBUGINFOD_URLS");
	return 0;
}

static void
name_addresses(struct ft_stacks *stacks, Dwfl_Module *mod)
{
	Dwarf_Addr low = 0, high = 0;
	GElf_Sym sym;
	int count, i;

	dwfl_module_info(mod, NULL, &low, &high, NULL, NULL, NULL, NULL);
	for (i = 0; i < ADDRESS_STEPS && high > low; i++)
		lookup_name(stacks, mod,
			    low + (high - low) / ADDRESS_STEPS * (uint64_t)i);
	count = dwfl_module_getsymtab(mod);
	for (i = 1; i < count && i <= SYMBOL_COUNT; i++) {
		GElf_Addr value;

		if (dwfl_module_getsym_info(mod, i, &sym, &value, NULL, NULL,
					    NULL) &&
		    value >= low && value < high)
			lookup_name(stacks, mod, value);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ft_stacks *stacks;
	Dwfl_Module *mod;
	Dwfl *dwfl;
	int fd = memfd_create("fuzz.elf", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (write(fd, data, size) != (ssize_t)size)
		abort();
	dwfl = dwfl_begin(&dwfl_callbacks);
	if (!dwfl) {
		close(fd);
		return 0;
	}
	dwfl_report_begin(dwfl);
	/* libdw owns fd from here, and closes it. */
	mod = dwfl_report_elf(dwfl, "fuzz.elf", "/fuzz.elf", fd, MODULE_BASE,
			      false);
	dwfl_report_end(dwfl, NULL, NULL);
	if (mod) {
		/* Zeroed, as stacks_new() makes it: an empty name cache. */
		stacks = xcalloc(1, sizeof(*stacks));
		stacks->max_depth = 32;
		name_addresses(stacks, mod);
		stacks_free(stacks);
	} else {
		close(fd);
	}
	dwfl_end(dwfl);
	return 0;
}
