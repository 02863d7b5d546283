#include "support/write_points.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>

#include "support/support.h"

namespace test {
namespace {

const int kCannotTrace = 117;  // The child's exit status when PTRACE_TRACEME was refused.

bool writes_to_a_descriptor(std::uint64_t nr) {
  return nr == SYS_write || nr == SYS_pwrite64 || nr == SYS_writev || nr == SYS_pwritev || nr == SYS_pwritev2;
}

// Whether system call `nr` with arguments `args` changes a file.
bool changes_a_file(std::uint64_t nr, const std::uint64_t* args) {
  if (writes_to_a_descriptor(nr)) return true;
  switch (nr) {
    case SYS_fsync: case SYS_fdatasync: case SYS_sync_file_range:
    case SYS_ftruncate: case SYS_truncate: case SYS_fallocate:
    case SYS_copy_file_range: case SYS_sendfile:
    case SYS_renameat: case SYS_renameat2: case SYS_unlinkat: case SYS_linkat: case SYS_mkdirat:
#ifdef SYS_rename
    case SYS_rename: case SYS_unlink: case SYS_link: case SYS_mkdir: case SYS_rmdir: case SYS_creat:
#endif
      return true;
#ifdef SYS_open
    case SYS_open: return (args[1] & (O_CREAT | O_TRUNC)) != 0;
#endif
    case SYS_openat: return (args[2] & (O_CREAT | O_TRUNC)) != 0;
    default: return false;
  }
}

void resume(pid_t tid, int signal) {
  // A thread may have died meanwhile (the process was killed): nothing to resume.
  (void)::ptrace(PTRACE_SYSCALL, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(signal)));
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(-1, &status, __WALL) > 0) {
  }
}

pid_t start_traced(const std::function<void()>& work) {
  return in_child([&] {
    if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) ::_exit(kCannotTrace);
    ::raise(SIGSTOP);  // Waits for the tracer's options.
    work();
  });
}

// Waits for the child's first stop and sets the options; false when it
// exited instead (PTRACE_TRACEME was refused).
bool attach(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) throw std::runtime_error("waitpid failed on a traced child");
  if (WIFEXITED(status)) return false;
  const long options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
  if (::ptrace(PTRACE_SETOPTIONS, pid, nullptr, reinterpret_cast<void*>(options)) != 0) {
    kill_and_reap(pid);
    return false;
  }
  return true;
}

}  // namespace

WritePointRun kill_before_write(const std::function<void()>& work, int n) {
  const pid_t pid = start_traced(work);
  if (!attach(pid)) throw std::runtime_error("this machine refuses ptrace: see test::traceable()");
  WritePointRun run;
  std::uint64_t last_fd = ~0ull;  // The descriptor of the run of writes going on, if any.
  resume(pid, 0);
  for (;;) {
    int status = 0;
    const pid_t tid = ::waitpid(-1, &status, __WALL);
    if (tid < 0) throw std::runtime_error("waitpid failed on a traced child");
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      if (tid != pid) continue;  // One of its threads ended.
      run.finished = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      return run;
    }
    const int signal = WSTOPSIG(status);
    if (signal == SIGTRAP && (status >> 16) != 0) {  // A clone (the new thread is traced already) or an exec.
      resume(tid, 0);
      continue;
    }
    if (signal != (SIGTRAP | 0x80)) {  // A signal for it, or a new thread's first stop.
      resume(tid, signal == SIGSTOP ? 0 : signal);
      continue;
    }
    __ptrace_syscall_info info{};
    if (::ptrace(PTRACE_GET_SYSCALL_INFO, tid, reinterpret_cast<void*>(sizeof info), &info) <= 0)
      throw std::runtime_error("ptrace(PTRACE_GET_SYSCALL_INFO) failed");
    if (info.op == PTRACE_SYSCALL_INFO_ENTRY && changes_a_file(info.entry.nr, info.entry.args)) {
      const bool goes_on = writes_to_a_descriptor(info.entry.nr) && info.entry.args[0] == last_fd;
      last_fd = writes_to_a_descriptor(info.entry.nr) ? info.entry.args[0] : ~0ull;
      if (!goes_on && ++run.points == n) {
        kill_and_reap(pid);  // At the call's entry: it never runs.
        run.killed = true;
        return run;
      }
    }
    resume(tid, 0);
  }
}

bool traceable() {
  static const bool answer = [] {
    const pid_t pid = start_traced([] {});
    if (!attach(pid)) return false;
    kill_and_reap(pid);
    return true;
  }();
  return answer;
}

}  // namespace test
