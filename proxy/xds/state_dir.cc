#include "proxy/xds/state_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"

namespace llmesh::xds {
namespace {

namespace dv1 = llmesh::discovery::v1;

absl::Status ErrnoStatus(int err, std::string_view what, const std::string& path) {
  return absl::ErrnoToStatus(err, absl::StrCat("cannot ", AbslView(what), " \"", path, "\""));
}

// Writes all of `bytes` to `fd`; write(2) may return short counts.
bool WriteAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string RouteConfigurationPath(const std::string& state_dir) {
  return absl::StrCat(state_dir, "/route_configuration.binpb");
}

absl::Status SaveRouteConfiguration(const std::string& state_dir, const VersionedRoutes& routes) {
  if (::mkdir(state_dir.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoStatus(errno, "create", state_dir);
  dv1::DiscoveryResponse kept;
  kept.set_version_info(routes.version);
  kept.set_type_url(kRouteConfigurationTypeUrl);
  *kept.add_resources()->mutable_route_configuration() = routes.routes;
  std::string bytes;
  if (!kept.SerializeToString(&bytes)) return absl::InternalError("cannot serialise the route configuration");

  const std::string path = RouteConfigurationPath(state_dir);
  const std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, "create", temp);
  if (!WriteAll(fd, bytes) || ::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return ErrnoStatus(err, "write", temp);
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return ErrnoStatus(err, "write", temp);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return ErrnoStatus(err, "rename to", path);
  }
  // The rename is durable only once the directory entry is on disk.
  int dir = ::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return ErrnoStatus(errno, "open", state_dir);
  const bool synced = ::fsync(dir) == 0;
  const int err = errno;
  ::close(dir);
  return synced ? absl::OkStatus() : ErrnoStatus(err, "sync", state_dir);
}

absl::StatusOr<VersionedRoutes> LoadRouteConfiguration(const std::string& state_dir) {
  const std::string path = RouteConfigurationPath(state_dir);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "read", path);
  std::string bytes;
  char buffer[16384];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "read", path);
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);

  dv1::DiscoveryResponse kept;
  if (!kept.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("\"", path, "\" is not a saved route configuration"));
  }
  if (kept.type_url() != kRouteConfigurationTypeUrl || kept.version_info().empty() ||
      kept.resources_size() != 1 || !kept.resources(0).has_route_configuration()) {
    return absl::DataLossError(
        absl::StrCat("\"", path, "\" does not hold exactly one versioned route configuration"));
  }
  VersionedRoutes routes;
  routes.version = kept.version_info();
  routes.routes = std::move(*kept.mutable_resources(0)->mutable_route_configuration());
  return routes;
}

}  // namespace llmesh::xds
