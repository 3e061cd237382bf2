/* Names of event kinds, signals and siginfo codes. */
#include <signal.h>
#include <stdio.h>

#include "forktrace/event.h"
#include "forktrace/procfs.h"

void
event_set_program(struct ft_event *event, const struct procfs_program *program)
{
	event->path = program->path;
	event->comm = program->comm;
	event->args.data = program->args;
	event->args.len = program->args_len;
}

const char *
event_kind_name(enum ft_event_kind kind)
{
	switch (kind) {
	case FT_EVENT_FORK:
		return "fork";
	case FT_EVENT_VFORK:
		return "vfork";
	case FT_EVENT_THREAD:
		return "thread";
	case FT_EVENT_EXEC:
		return "exec";
	case FT_EVENT_EXIT:
		return "exit";
	case FT_EVENT_SIGNAL:
		return "signal";
	case FT_EVENT_STOP:
		return "stop";
	case FT_EVENT_CONTINUE:
		return "continue";
	case FT_EVENT_DETACH:
		return "detach";
	case FT_EVENT_PAUSE:
		return "pause";
	case FT_EVENT_DEBUGGER_ATTACH:
		return "debugger_attach";
	case FT_EVENT_DEBUGGER_DETACH:
		return "debugger_detach";
	case FT_EVENT_RESUME:
		return "resume";
	case FT_EVENT_GAP:
		return "gap";
	case FT_EVENT_ATTACH:
		return "attach";
	case FT_EVENT_HANG:
		return "hang";
	}
	return "unknown";
}

bool
signal_is_fatal_fault(int signo)
{
	return signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE ||
	       signo == SIGILL || signo == SIGABRT || signo == SIGSYS ||
	       signo == SIGTRAP;
}

bool
signal_is_stop(int signo)
{
	return signo == SIGSTOP || signo == SIGTSTP || signo == SIGTTIN ||
	       signo == SIGTTOU;
}

/* The kernel's numbers on x86_64 and aarch64 (the generic table). */
static const char *const signal_names[] = {
	[SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",
	[SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
	[SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
	[SIGBUS] = "SIGBUS",   [SIGFPE] = "SIGFPE",
	[SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1",
	[SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM",
	[SIGTERM] = "SIGTERM", [SIGSTKFLT] = "SIGSTKFLT",
	[SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",
	[SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP",
	[SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU",
	[SIGURG] = "SIGURG",   [SIGXCPU] = "SIGXCPU",
	[SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM",
	[SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",
	[SIGIO] = "SIGIO",     [SIGPWR] = "SIGPWR",
	[SIGSYS] = "SIGSYS",
};

const char *
signal_name(int signo, char buf[16])
{
	int n = (int)(sizeof(signal_names) / sizeof(signal_names[0]));

	if (signo > 0 && signo < n && signal_names[signo])
		return signal_names[signo];
	/* glibc keeps the first real-time signals for itself. */
	if (signo >= SIGRTMIN && signo <= SIGRTMAX) {
		if (signo == SIGRTMIN)
			snprintf(buf, 16, "SIGRTMIN");
		else
			snprintf(buf, 16, "SIGRTMIN+%d", signo - SIGRTMIN);
		return buf;
	}
	snprintf(buf, 16, "SIG%d", signo);
	return buf;
}

const char *
signal_code_name(int signo, int si_code)
{
	switch (si_code) {
	case SI_USER:
		return "SI_USER";
	case SI_KERNEL:
		return "SI_KERNEL";
	case SI_QUEUE:
		return "SI_QUEUE";
	case SI_TIMER:
		return "SI_TIMER";
	case SI_MESGQ:
		return "SI_MESGQ";
	case SI_ASYNCIO:
		return "SI_ASYNCIO";
	case SI_SIGIO:
		return "SI_SIGIO";
	case SI_TKILL:
		return "SI_TKILL";
	}
	if (si_code <= 0)
		return NULL;

	switch (signo) {
	case SIGSEGV:
		switch (si_code) {
		case SEGV_MAPERR:
			return "SEGV_MAPERR";
		case SEGV_ACCERR:
			return "SEGV_ACCERR";
		case SEGV_BNDERR:
			return "SEGV_BNDERR";
		case SEGV_PKUERR:
			return "SEGV_PKUERR";
		}
		break;
	case SIGBUS:
		switch (si_code) {
		case BUS_ADRALN:
			return "BUS_ADRALN";
		case BUS_ADRERR:
			return "BUS_ADRERR";
		case BUS_OBJERR:
			return "BUS_OBJERR";
		}
		break;
	case SIGFPE:
		switch (si_code) {
		case FPE_INTDIV:
			return "FPE_INTDIV";
		case FPE_INTOVF:
			return "FPE_INTOVF";
		case FPE_FLTDIV:
			return "FPE_FLTDIV";
		case FPE_FLTOVF:
			return "FPE_FLTOVF";
		case FPE_FLTUND:
			return "FPE_FLTUND";
		case FPE_FLTRES:
			return "FPE_FLTRES";
		case FPE_FLTINV:
			return "FPE_FLTINV";
		case FPE_FLTSUB:
			return "FPE_FLTSUB";
		}
		break;
	case SIGILL:
		switch (si_code) {
		case ILL_ILLOPC:
			return "ILL_ILLOPC";
		case ILL_ILLOPN:
			return "ILL_ILLOPN";
		case ILL_ILLADR:
			return "ILL_ILLADR";
		case ILL_ILLTRP:
			return "ILL_ILLTRP";
		case ILL_PRVOPC:
			return "ILL_PRVOPC";
		case ILL_PRVREG:
			return "ILL_PRVREG";
		case ILL_COPROC:
			return "ILL_COPROC";
		case ILL_BADSTK:
			return "ILL_BADSTK";
		}
		break;
	case SIGCHLD:
		switch (si_code) {
		case CLD_EXITED:
			return "CLD_EXITED";
		case CLD_KILLED:
			return "CLD_KILLED";
		case CLD_DUMPED:
			return "CLD_DUMPED";
		case CLD_TRAPPED:
			return "CLD_TRAPPED";
		case CLD_STOPPED:
			return "CLD_STOPPED";
		case CLD_CONTINUED:
			return "CLD_CONTINUED";
		}
		break;
	}
	return NULL;
}

bool
signal_code_has_sender(int signo, int si_code)
{
	if (si_code == SI_USER || si_code == SI_QUEUE || si_code == SI_TKILL)
		return true;
	/* SIGCHLD names the child whose state changed. */
	return signo == SIGCHLD && si_code > 0;
}

bool
signal_code_has_addr(int signo, int si_code)
{
	if (si_code <= 0)
		return false;
	return signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE ||
	       signo == SIGILL;
}
