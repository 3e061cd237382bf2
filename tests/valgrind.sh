#!/bin/sh
# Runs "forktrace ARGS..." under valgrind memcheck; 'make check-valgrind'
# makes it the harness's FT_TEST_WRAPPER.
#
# usage: FT_VALGRIND_LOGS=DIR FT_VALGRIND_STACK_LIB=SO \
#        tests/valgrind.sh FORKTRACE ARGS...
#
# Each run writes its log to DIR/vg.PID, PID being forktrace's. Any error,
# and any leak that is definitely or indirectly lost, makes forktrace exit
# with 99 and leaves "ERROR SUMMARY: N errors" with N > 0 in the log.
# The programs that forktrace execs run natively (--trace-children=no),
# but its child runs under valgrind from the fork to the exec, and writes
# to the same log.
#
# The log goes through --log-fd=9, not --log-file: valgrind 3.19 leaves
# the file it opens for --log-file open on the lowest free descriptor,
# without close-on-exec, so every traced program would get it as its
# descriptor 3. Descriptor 9 is inherited as well, but it is out of the
# way of the descriptors that programs open themselves.
#
# SO, built from tests/valgrind_stack.c, is preloaded into forktrace; it
# keeps valgrind's growth of the stack from showing as a SIGSEGV in
# forktrace's child.
set -eu
dir=${FT_VALGRIND_LOGS:?FT_VALGRIND_LOGS must name the log directory}
lib=${FT_VALGRIND_STACK_LIB:?FT_VALGRIND_STACK_LIB must name valgrind_stack.so}
supp=$(dirname "$0")/valgrind.supp

exec 9>"$dir/vg.$$"
LD_PRELOAD=$lib${LD_PRELOAD:+:$LD_PRELOAD}
export LD_PRELOAD
exec valgrind --tool=memcheck --log-fd=9 --error-exitcode=99 \
	--leak-check=full --errors-for-leak-kinds=definite,indirect \
	--show-leak-kinds=definite,indirect --track-fds=no \
	--trace-children=no --suppressions="$supp" "$@"
