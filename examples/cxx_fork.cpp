// A C++ program forks from a member function inside a namespace, so that
// a stack of the fork shows demangled names.
#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>
#include <unistd.h>

namespace family {

class Spawner {
public:
	int run(int code);
};

int Spawner::run(int code)
{
	pid_t pid = fork(); // site: spawner_run
	if (pid < 0) {
		std::perror("cxx_fork: fork");
		std::exit(1);
	}
	if (pid == 0)
		_exit(code);
	int status;
	if (waitpid(pid, &status, 0) < 0) {
		std::perror("cxx_fork: waitpid");
		std::exit(1);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace family

int main()
{
	family::Spawner spawner;

	alarm(20);
	return spawner.run(7) == 7 ? 0 : 1;
}
