#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

extern char** environ;

namespace p2pcdn::testing {
namespace {

std::vector<char*> pointers_to(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

int milliseconds_left(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, std::vector<std::string> env) {
  // After the added entries: the first of two with one name is the one programs see.
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  // Built before fork: the child of a threaded test may only call async-signal-safe functions.
  const std::vector<char*> args = pointers_to(argv);
  const std::vector<char*> envp = pointers_to(env);
  // Close-on-exec: the child keeps only the copies dup2 makes, and other children none.
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  setpgid(pid_, pid_);  // as the child does: whichever runs first, the group exists for kill
  close(out[1]);
  close(err[1]);
  out_fd_ = out[0];
  err_fd_ = err[0];
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

bool ChildProcess::read_some(int ms) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (out_fd_ < 0 && err_fd_ < 0) return false;
  if (poll(fds, 2, ms) <= 0) return true;
  std::string* sinks[2] = {&out_, &err_};
  int* fd_of[2] = {&out_fd_, &err_fd_};
  for (int i = 0; i < 2; ++i) {
    if (fds[i].revents == 0) continue;
    char buffer[4096];
    const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
    if (n > 0) {
      sinks[i]->append(buffer, static_cast<size_t>(n));
    } else {
      close(*fd_of[i]);
      *fd_of[i] = -1;
    }
  }
  return true;
}

bool ChildProcess::wait_for(std::string_view text, int ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (out_.find(text) == std::string::npos && err_.find(text) == std::string::npos) {
    const int left = milliseconds_left(deadline);
    if (left == 0 || !read_some(left)) return false;
  }
  return true;
}

uint16_t ChildProcess::listening_port(int ms) {
  if (!wait_for("event=listening", ms)) return 0;
  const size_t line = err_.find("event=listening");
  const size_t at = err_.find(" port=", line);
  return at == std::string::npos ? 0 : static_cast<uint16_t>(std::stoi(err_.substr(at + 6)));
}

int ChildProcess::wait_exit(int ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (read_some(milliseconds_left(deadline)) && milliseconds_left(deadline) > 0) continue;
  while (pid_ > 0) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (milliseconds_left(deadline) == 0) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

void ChildProcess::signal(int number) const {
  if (pid_ > 0) kill(pid_, number);
}

Finished run_to_exit(std::vector<std::string> argv, int ms) {
  ChildProcess child(std::move(argv));
  Finished done;
  done.exit_code = child.wait_exit(ms);
  done.out = child.out();
  done.err = child.err();
  return done;
}

}  // namespace p2pcdn::testing
