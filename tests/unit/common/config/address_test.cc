#include "common/config/address.h"

#include <gtest/gtest.h>

namespace llmesh::config {
namespace {

TEST(ParseHostPortTest, AcceptsIpv4Ipv6AndHostnames) {
  struct Case {
    const char* text;
    const char* host;
    uint16_t port;
  };
  for (const Case& c : {Case{"127.0.0.1:4000", "127.0.0.1", 4000}, Case{"0.0.0.0:0", "0.0.0.0", 0},
                        Case{"[::1]:9901", "::1", 9901}, Case{"[::]:65535", "::", 65535},
                        Case{"localhost:80", "localhost", 80},
                        Case{"llmesh-control.llmesh.svc:15010", "llmesh-control.llmesh.svc",
                             15010}}) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<HostPort> hp = ParseHostPort(c.text);
    ASSERT_TRUE(hp.ok()) << hp.status();
    EXPECT_EQ(hp->host, c.host);
    EXPECT_EQ(hp->port, c.port);
  }
}

TEST(ParseHostPortTest, ExplainsWhatIsWrong) {
  struct Case {
    const char* text;
    const char* reason;
  };
  for (const Case& c : {
           Case{"localhost", "missing port"},
           Case{":4000", "host is empty"},
           Case{"127.0.0.1:65536", "port must be a number in 0..65535"},
           Case{"127.0.0.1:", "port must be a number in 0..65535"},
           Case{"127.0.0.1:http", "port must be a number in 0..65535"},
           Case{"::1:80", "IPv6 addresses need brackets, e.g. [::1]:4000"},
           Case{"[::1]", "missing port"},
           Case{"[::1:80", "missing \"]\""},
           Case{"[127.0.0.1]:80", "invalid host \"127.0.0.1\""},
           Case{"10.0.0.300:80", "invalid host \"10.0.0.300\""},
           Case{"bad_host:80", "invalid host \"bad_host\""},
           Case{"-a.b:80", "invalid host \"-a.b\""},
       }) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<HostPort> hp = ParseHostPort(c.text);
    ASSERT_FALSE(hp.ok());
    EXPECT_EQ(hp.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(hp.status().message(),
              std::string("invalid address \"") + c.text + "\": " + c.reason +
                  " (expected host:port, e.g. 127.0.0.1:4000)");
  }
}

}  // namespace
}  // namespace llmesh::config
