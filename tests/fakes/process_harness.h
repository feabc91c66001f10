// Runs the project's real binaries (llmesh-proxy, llmesh-fake-provider, node, ...) as child
// processes for integration tests, and lets a test wait on what they print.
//
// Not part of the request path: this is test infrastructure. A ChildProcess is spawned in its
// own process group with stdin on /dev/null; its stdout and stderr are read line by line on a
// reader thread into a buffer that any test thread may query, and every line is also echoed to
// the test's stderr as "[name:pid] line" so a failing test shows what the child said. Waits take a
// timeout and block on a condition variable until the condition holds, the output ends or the
// deadline passes; none of them sleeps.
//
// Threading: every public method of ChildProcess may be called from any thread. ScopedTempDir
// and the free functions are plain values/functions with no shared state.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace llmesh::testing {

// `<build dir>/bin/<name>`: where CMake puts every executable of this project.
std::string BinaryPath(std::string_view name);

// `<source dir>/<relative>`: files of the repository (test data, tests/js, ...).
std::string SourcePath(std::string_view relative);

// Environment variables added to (or overriding) the test's own environment for a child.
using EnvVars = std::vector<std::pair<std::string, std::string>>;

// A unique, empty directory for one test, removed with everything in it on destruction.
class ScopedTempDir {
 public:
  // Creates the directory under $TMPDIR (or /tmp); a failure to create it fails the test.
  ScopedTempDir();
  ~ScopedTempDir();
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  // Absolute path of the directory, without a trailing slash.
  const std::string& path() const { return path_; }

  // Writes `contents` to `path()/name` (replacing any file there) and returns the full path.
  // A write failure is reported as a test failure (ADD_FAILURE) and the path still returned.
  std::string WriteFile(std::string_view name, std::string_view contents) const;

 private:
  std::string path_;
};

// One child process and its captured output. Owns the process: destroying a ChildProcess that
// is still running SIGKILLs its whole process group and reaps it.
class ChildProcess {
 public:
  // Spawns `binary` with `args` (argv[1..]) and the test's environment plus `extra_env`.
  // A `binary` without a '/' is looked up on PATH (e.g. "node"). The display name used in the
  // echoed output is the last path component of `binary`.
  // Returns InvalidArgument for an empty binary, or Internal (with errno text) if the pipes or
  // the spawn fail (e.g. the binary does not exist).
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(std::string binary,
                                                             std::vector<std::string> args,
                                                             EnvVars extra_env = {});

  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  const std::string& name() const { return name_; }
  pid_t pid() const { return pid_; }

  // Waits until some output line at index >= `from_line` satisfies `pred` and returns the first
  // such line. Lines already captured count, so a line printed before the call is found.
  // Returns nullopt when `timeout` elapses or when the child's output has ended (both pipes at
  // EOF) without a match. `pred` runs under the buffer's lock: keep it quick and do not call
  // back into this object. Use LineCount() as `from_line` to wait only for new output.
  std::optional<std::string> WaitForLine(std::function<bool(std::string_view)> pred,
                                         std::chrono::milliseconds timeout, size_t from_line = 0);

  // Waits for the JSON log line {"msg":"listening","listener":<listener>,"address":"H:P"} and
  // returns P. DeadlineExceeded if it did not appear within `timeout`; Unavailable if the
  // child's output ended first (it exited); InvalidArgument if the address has no valid port.
  absl::StatusOr<uint16_t> WaitForListening(std::string_view listener,
                                            std::chrono::milliseconds timeout);

  // Sends `sig` to the child process itself (not its group). No effect once it has exited.
  void Signal(int sig);

  // Waits for the child to exit and its output to end (so Output() then holds all of it).
  // Returns its exit code, or 128 + signal number if a signal killed it; nullopt if it is still
  // running when `timeout` elapses. May be called again after it returned a value (it returns
  // the same value).
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);

  // True once the child has exited (it is not reaped until destruction).
  bool Exited();

  // Every complete line captured so far from stdout and stderr, in arrival order, without
  // the trailing newline. A final line without a newline is added when the output ends.
  std::vector<std::string> Lines();

  // Number of lines captured so far.
  size_t LineCount();

  // All captured lines joined with '\n' (for failure messages).
  std::string Output();

 private:
  ChildProcess(std::string name, pid_t pid, int stdout_fd, int stderr_fd, int wake_read_fd,
               int wake_write_fd);

  void ReadOutput(int stdout_fd, int stderr_fd);
  void AppendLine(std::string line);
  void WatchExit();

  const std::string name_;
  const pid_t pid_;
  // A pipe the destructor writes once to stop reader_ even if a stray descendant still
  // holds the output pipes open.
  const int wake_read_fd_;
  const int wake_write_fd_;

  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;  // guarded by mu_
  bool output_ended_ = false;       // guarded by mu_
  std::optional<int> exit_code_;    // guarded by mu_; set once the child is a zombie

  std::thread reader_;
  std::thread exit_watcher_;
};

// Waits until `condition` holds, polling every 10 ms, for at most `timeout`: for state another
// process only exposes on request (an admin endpoint, a metric). True when it held in time.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace llmesh::testing
