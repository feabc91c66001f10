#include "common/config/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace llmesh::config {
namespace {

// Closes the descriptor on every return path.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(ScopedFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  ScopedFd& operator=(ScopedFd&&) = delete;
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

absl::Status ReadError(int error, const std::string& path) {
  return absl::ErrnoToStatus(error, absl::StrCat("cannot read \"", path, "\""));
}

absl::StatusOr<ScopedFd> OpenForReading(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ReadError(errno, path);
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return ReadError(errno, path);
  if (S_ISDIR(info.st_mode)) return ReadError(EISDIR, path);
  return fd;
}

}  // namespace

absl::StatusOr<std::string> ReadFileContent(const std::string& path, size_t max_bytes) {
  absl::StatusOr<ScopedFd> fd = OpenForReading(path);
  if (!fd.ok()) return fd.status();
  std::string content;
  char buffer[8192];
  while (true) {
    const ssize_t n = ::read(fd->get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ReadError(errno, path);
    }
    if (n == 0) break;
    if (content.size() + static_cast<size_t>(n) > max_bytes) {
      return absl::FailedPreconditionError(
          absl::StrCat("\"", path, "\" is larger than ", max_bytes, " bytes"));
    }
    content.append(buffer, static_cast<size_t>(n));
  }
  return content;
}

absl::Status CheckReadable(const std::string& path) { return OpenForReading(path).status(); }

}  // namespace llmesh::config
