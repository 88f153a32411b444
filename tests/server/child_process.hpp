// A program run as a child process by a test, its stdout and stderr captured apart, every
// wait bounded. The child gets its own process group, all of which is killed if the test
// leaves it running.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace p2pcdn::testing {

class ChildProcess {
 public:
  // argv[0] is the program's path. `env` entries ("NAME=value") are added to the test's.
  explicit ChildProcess(std::vector<std::string> argv, std::vector<std::string> env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Reads output until stdout or stderr holds `text`; false if the child closed both or
  // `ms` passed first.
  bool wait_for(std::string_view text, int ms);
  // The port of the server's "event=listening" log line, or 0 if none came in time.
  uint16_t listening_port(int ms);
  // Reads all output and reaps the child; its exit status (128 + signal if killed), or -1
  // if it is still running after `ms`.
  int wait_exit(int ms);
  void signal(int number) const;

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  // Reads what is available within `ms`; false once both pipes are closed.
  bool read_some(int ms);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
};

// Runs a program to its end (at most `ms`) and returns it, exited, for its output.
struct Finished {
  int exit_code = -1;
  std::string out;
  std::string err;
};
Finished run_to_exit(std::vector<std::string> argv, int ms = 5000);

}  // namespace p2pcdn::testing
