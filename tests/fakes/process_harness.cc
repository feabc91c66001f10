#include "tests/fakes/process_harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

extern char** environ;

namespace llmesh::testing {
namespace {

absl::Status ErrnoStatus(std::string_view what, int err) {
  return absl::InternalError(std::string(what) + ": " + std::strerror(err));
}

// Writes the whole buffer, retrying short writes; used for the echo to the test's stderr, so
// one line goes out in one write and lines of different children do not interleave mid-line.
void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

std::string BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// The test's environment with `extra` added; an entry of `extra` replaces one of the same name.
std::vector<std::string> ChildEnvironment(const EnvVars& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& [key, value] : extra) overridden = overridden || key == name;
    if (!overridden) env.emplace_back(entry);
  }
  for (const auto& [key, value] : extra) env.push_back(absl::StrCat(key, "=", value));
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Parses `line` as a "listening" log record of `listener` and returns its address.
std::optional<std::string> ListeningAddress(std::string_view line, std::string_view listener) {
  if (line.empty() || line.front() != '{') return std::nullopt;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(line, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const boost::json::object& o = v.get_object();
  const boost::json::value* msg = o.if_contains("msg");
  const boost::json::value* name = o.if_contains("listener");
  const boost::json::value* address = o.if_contains("address");
  if (msg == nullptr || !msg->is_string() || msg->get_string() != "listening") return std::nullopt;
  if (name == nullptr || !name->is_string() || name->get_string() != listener) return std::nullopt;
  if (address == nullptr || !address->is_string()) return std::nullopt;
  return std::string(address->get_string());
}

}  // namespace

std::string BinaryPath(std::string_view name) {
  return std::string(LLMESH_BIN_DIR "/").append(name);
}

std::string SourcePath(std::string_view relative) {
  return std::string(LLMESH_SOURCE_DIR "/").append(relative);
}

ScopedTempDir::ScopedTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl =
      absl::StrCat(base != nullptr && *base != '\0' ? base : "/tmp", "/llmesh-test-XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp(" << tmpl << "): " << std::strerror(errno);
  }
  path_ = std::move(tmpl);
}

ScopedTempDir::~ScopedTempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string ScopedTempDir::WriteFile(std::string_view name, std::string_view contents) const {
  std::string file = path_ + "/" + std::string(name);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) ADD_FAILURE() << "could not write " << file;
  return file;
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(std::string binary,
                                                                  std::vector<std::string> args,
                                                                  EnvVars extra_env) {
  if (binary.empty()) return absl::InvalidArgumentError("ChildProcess: empty binary");

  // stdout, stderr, and the pipe the destructor uses to stop the reader thread.
  int pipes[3][2];
  for (int i = 0; i < 3; ++i) {
    if (::pipe2(pipes[i], O_CLOEXEC) != 0) {
      int err = errno;
      for (int j = 0; j < i; ++j) {
        ::close(pipes[j][0]);
        ::close(pipes[j][1]);
      }
      return ErrnoStatus("pipe2", err);
    }
  }
  int* out_pipe = pipes[0];
  int* err_pipe = pipes[1];
  int* wake_pipe = pipes[2];

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // dup2 clears FD_CLOEXEC on the target, so only 1 and 2 survive the exec.
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so the destructor can kill whatever the child started (node's
  // test runner, for one, runs each test file in a subprocess).
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t empty_mask;
  sigemptyset(&empty_mask);
  posix_spawnattr_setsigmask(&attr, &empty_mask);
  // Ignored dispositions survive exec; the child must see default ones (SIGPIPE, SIGTERM...).
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) {
    sigaddset(&defaults, sig);
  }
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> argv_strings;
  argv_strings.push_back(binary);
  for (std::string& a : args) argv_strings.push_back(std::move(a));
  std::vector<std::string> env_strings = ChildEnvironment(extra_env);
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env_strings);

  pid_t pid = 0;
  bool use_path = binary.find('/') == std::string::npos;
  int rc = use_path
               ? ::posix_spawnp(&pid, binary.c_str(), &actions, &attr, argv.data(), envp.data())
               : ::posix_spawn(&pid, binary.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    for (int fd : {out_pipe[0], err_pipe[0], wake_pipe[0], wake_pipe[1]}) ::close(fd);
    return ErrnoStatus(absl::StrCat("spawn ", binary), rc);
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(BaseName(binary), pid, out_pipe[0],
                                                        err_pipe[0], wake_pipe[0], wake_pipe[1]));
}

ChildProcess::ChildProcess(std::string name, pid_t pid, int stdout_fd, int stderr_fd,
                           int wake_read_fd, int wake_write_fd)
    : name_(std::move(name)),
      pid_(pid),
      wake_read_fd_(wake_read_fd),
      wake_write_fd_(wake_write_fd) {
  reader_ = std::thread([this, stdout_fd, stderr_fd] { ReadOutput(stdout_fd, stderr_fd); });
  exit_watcher_ = std::thread([this] { WatchExit(); });
}

ChildProcess::~ChildProcess() {
  // The leader is not reaped before this point (WatchExit uses WNOWAIT), so the group id
  // still belongs to this child and cannot name an unrelated process group.
  ::kill(-pid_, SIGKILL);
  exit_watcher_.join();
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  // SIGKILL to the group closes every write end its processes held, so the output normally
  // ends at once; a descendant that left the group could keep a pipe open, hence the bound
  // and the wake-up pipe that stops the reader regardless.
  {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, std::chrono::seconds(5), [this] { return output_ended_; });
  }
  WriteAll(wake_write_fd_, "x");
  reader_.join();
  ::close(wake_read_fd_);
  ::close(wake_write_fd_);
}

void ChildProcess::WatchExit() {
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) != 0) {
    if (errno != EINTR) {
      info.si_code = 0;
      break;
    }
  }
  int code = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
  {
    std::lock_guard lock(mu_);
    exit_code_ = code;
  }
  changed_.notify_all();
}

void ChildProcess::ReadOutput(int stdout_fd, int stderr_fd) {
  pollfd fds[3] = {{stdout_fd, POLLIN, 0}, {stderr_fd, POLLIN, 0}, {wake_read_fd_, POLLIN, 0}};
  std::string partial[2];
  int open_count = 2;
  char buf[8192];
  while (open_count > 0) {
    int n = ::poll(fds, 3, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[2].revents != 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
        if (!partial[i].empty()) AppendLine(std::move(partial[i]));
        partial[i] = std::string();
        continue;
      }
      partial[i].append(buf, static_cast<size_t>(got));
      size_t start = 0;
      for (size_t nl = partial[i].find('\n'); nl != std::string::npos;
           nl = partial[i].find('\n', start)) {
        size_t end = nl > start && partial[i][nl - 1] == '\r' ? nl - 1 : nl;
        AppendLine(partial[i].substr(start, end - start));
        start = nl + 1;
      }
      partial[i].erase(0, start);
    }
  }
  // The wake-up pipe stays open until the destructor has joined this thread, so its write
  // can never hit a closed pipe (SIGPIPE).
  for (int i = 0; i < 2; ++i) {
    if (fds[i].fd >= 0) ::close(fds[i].fd);
  }
  for (std::string& rest : partial) {
    if (!rest.empty()) AppendLine(std::move(rest));
  }
  {
    std::lock_guard lock(mu_);
    output_ended_ = true;
  }
  changed_.notify_all();
}

void ChildProcess::AppendLine(std::string line) {
  WriteAll(STDERR_FILENO, absl::StrCat("[", name_, ":", pid_, "] ", line, "\n"));
  {
    std::lock_guard lock(mu_);
    lines_.push_back(std::move(line));
  }
  changed_.notify_all();
}

std::optional<std::string> ChildProcess::WaitForLine(std::function<bool(std::string_view)> pred,
                                                     std::chrono::milliseconds timeout,
                                                     size_t from_line) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  size_t next = from_line;
  while (true) {
    for (; next < lines_.size(); ++next) {
      if (pred(lines_[next])) return lines_[next];
    }
    if (output_ended_) return std::nullopt;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      for (; next < lines_.size(); ++next) {
        if (pred(lines_[next])) return lines_[next];
      }
      return std::nullopt;
    }
  }
}

absl::StatusOr<uint16_t> ChildProcess::WaitForListening(std::string_view listener,
                                                        std::chrono::milliseconds timeout) {
  std::optional<std::string> line = WaitForLine(
      [listener](std::string_view l) { return ListeningAddress(l, listener).has_value(); },
      timeout);
  if (!line.has_value()) {
    bool ended;
    {
      std::lock_guard lock(mu_);
      ended = output_ended_;
    }
    std::string what =
        absl::StrCat(name_, ": no \"listening\" line for listener \"", std::string(listener), "\"");
    return ended
               ? absl::UnavailableError(absl::StrCat(what, " before its output ended"))
               : absl::DeadlineExceededError(absl::StrCat(what, " within ", timeout.count(), "ms"));
  }
  std::string address = *ListeningAddress(*line, listener);
  size_t colon = address.rfind(':');
  unsigned port = 0;
  if (colon != std::string::npos) {
    const char* first = address.data() + colon + 1;
    const char* last = address.data() + address.size();
    auto [ptr, ec] = std::from_chars(first, last, port);
    if (ec != std::errc() || ptr != last) port = 0;
  }
  if (port == 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(name_, ": listening address without a port: \"", address, "\""));
  }
  return static_cast<uint16_t>(port);
}

void ChildProcess::Signal(int sig) {
  std::lock_guard lock(mu_);
  // Once exited the pid is a zombie of ours: signalling it is harmless but pointless.
  if (!exit_code_.has_value()) ::kill(pid_, sig);
}

std::optional<int> ChildProcess::WaitExit(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  // The exit is seen by another thread than the output: wait for both, so that Output() holds
  // everything the child wrote (a descendant still holding its pipes delays this to `timeout`).
  changed_.wait_for(lock, timeout, [this] { return exit_code_.has_value() && output_ended_; });
  return exit_code_;
}

bool ChildProcess::Exited() {
  std::lock_guard lock(mu_);
  return exit_code_.has_value();
}

std::vector<std::string> ChildProcess::Lines() {
  std::lock_guard lock(mu_);
  return lines_;
}

size_t ChildProcess::LineCount() {
  std::lock_guard lock(mu_);
  return lines_.size();
}

std::string ChildProcess::Output() {
  std::lock_guard lock(mu_);
  return absl::StrJoin(lines_, "\n");
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    // Polling interval of an observable condition with a deadline, not synchronisation by time.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace llmesh::testing
