/*
 * Maps a damaged ELF file as code, forks, and has the child crash with
 * SIGSEGV while its pc is inside that mapping.  It exists to check that a
 * tracer which reads /proc/PID/maps and opens every mapped ELF file to
 * name the frames survives a file that lies about itself.
 *
 * usage: map_bad_elf truncated|corrupt PATH
 *
 * truncated: PATH becomes the first 6000 bytes of the C library, so its
 * program headers point past the end and its section table is missing.
 * corrupt: PATH becomes a copy of this program with its section table's
 * offset, entry size and count overwritten with garbage.
 *
 * The parent exits 0 when the child was killed by SIGSEGV, 1 otherwise.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG "map_bad_elf"

/* Bytes of the C library that the truncated copy keeps. */
#define TRUNCATED_SIZE 6000
/* The largest file that the corrupt mode copies. */
#define COPY_MAX (8 << 20)

static void
die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(1);
}

static int
find_libc(struct dl_phdr_info *info, size_t size, void *data)
{
	const char **path = data;

	(void)size;
	if (strstr(info->dlpi_name, "/libc.so")) {
		*path = info->dlpi_name;
		return 1;
	}
	return 0;
}

/* Reads at most max bytes of the file at path; returns the count. */
static size_t
read_file(const char *path, unsigned char *buf, size_t max)
{
	size_t used = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die(path);
	while (used < max && (n = read(fd, buf + used, max - used)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		used += (size_t)n;
	}
	close(fd);
	return used;
}

static void
write_file(const char *path, const unsigned char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		die(path);
	if (write(fd, buf, len) != (ssize_t)len)
		die("write");
	close(fd);
}

/* Writes the damaged file of the given mode to path. */
static void
make_bad_elf(const char *mode, const char *path)
{
	unsigned char *buf = malloc(COPY_MAX);
	const char *libc = NULL;
	Elf64_Ehdr header;
	size_t len;

	if (!buf)
		die("malloc");
	if (!strcmp(mode, "truncated")) {
		dl_iterate_phdr(find_libc, &libc);
		if (!libc) {
			fprintf(stderr, PROG ": the C library is not mapped\n");
			exit(1);
		}
		len = read_file(libc, buf, TRUNCATED_SIZE);
	} else if (!strcmp(mode, "corrupt")) {
		len = read_file("/proc/self/exe", buf, COPY_MAX);
		if (len < sizeof(header)) {
			fprintf(stderr, PROG ": /proc/self/exe is too short\n");
			exit(1);
		}
		memcpy(&header, buf, sizeof(header));
		header.e_shoff = 0x7fffffffffff0000ull;
		header.e_shentsize = 0x1234;
		header.e_shnum = 0xfff0;
		header.e_shstrndx = 0xfff0;
		memcpy(buf, &header, sizeof(header));
	} else {
		fprintf(stderr, "usage: " PROG " truncated|corrupt PATH\n");
		exit(2);
	}
	write_file(path, buf, len);
	free(buf);
}

/*
 * Jumps to the padding of the ELF header's e_ident, bytes 9 to 15, which
 * are zero.  Two zero bytes encode "add %al,(%rax)", and rax is 0, so the
 * first instruction there faults on address 0 with pc in the mapping.
 * NOTE: x86_64 only, like forktrace's register handling.
 */
static __attribute__((noinline, noreturn)) void
crash_in(const unsigned char *mapping)
{
	const unsigned char *target = mapping + EI_PAD;

	__asm__ volatile("xor %%eax, %%eax\n\tjmp *%0" : : "r"(target) : "rax");
	__builtin_unreachable();
}

int
main(int argc, char **argv)
{
	struct rlimit no_core = { 0, 0 };
	unsigned char *mapping;
	int fd, status;
	pid_t pid;

	alarm(20);
	if (argc != 3) {
		fprintf(stderr, "usage: " PROG " truncated|corrupt PATH\n");
		return 2;
	}
	make_bad_elf(argv[1], argv[2]);
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(argv[2]);
	mapping = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (mapping == MAP_FAILED)
		die("mmap");
	close(fd);

	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (setrlimit(RLIMIT_CORE, &no_core) < 0)
			die("setrlimit RLIMIT_CORE");
		crash_in(mapping);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid");
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) {
		printf("child killed by signal %d\n", SIGSEGV);
		return 0;
	}
	return 1;
}
