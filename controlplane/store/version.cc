#include "controlplane/store/version.h"

#include <openssl/sha.h>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace llmesh::control {

std::string DeterministicBytes(const google::protobuf::MessageLite& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    // Serialising a proto into a string cannot fail once its size is known; the coded stream
    // flushes into `bytes` when it goes out of scope.
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

std::string RouteConfigurationVersion(const llmesh::discovery::v1::RouteConfiguration& config) {
  return ContentVersion(config);
}

std::string ContentVersion(const google::protobuf::MessageLite& message) {
  const std::string bytes = DeterministicBytes(message);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string version;
  version.reserve(32);
  for (int i = 0; i < 16; ++i) {
    version.push_back(kHex[digest[i] >> 4]);
    version.push_back(kHex[digest[i] & 0xf]);
  }
  return version;
}

}  // namespace llmesh::control
