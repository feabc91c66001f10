#include "proxy/upstream/exchange.h"

#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/this_coro.hpp>

#include "absl/strings/str_cat.h"
#include "proxy/upstream/connection.h"

namespace llmesh::upstream {

namespace asio = boost::asio;

asio::awaitable<absl::StatusOr<std::string>> Exchange::ReadAll(MonoTime deadline, size_t max_bytes) {
  const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
  std::string body;
  if (const std::optional<uint64_t> announced = AnnouncedBodyBytes()) {
    if (*announced > max_bytes) {
      Abandon();
      co_return absl::ResourceExhaustedError(
          absl::StrCat("upstream body of ", *announced, " bytes exceeds the limit of ", max_bytes));
    }
    body.reserve(*announced);
  }
  // Each round reads a piece, bounded by the deadline, or ends.
  for (;;) {
    if (internal::CancellationRequested(cancellation)) {
      Abandon();
      co_return absl::CancelledError("upstream exchange cancelled");
    }
    absl::StatusOr<std::string_view> piece = co_await ReadSome(deadline);
    if (!piece.ok()) co_return piece.status();
    if (piece->empty()) co_return body;
    if (piece->size() > max_bytes - body.size()) {
      Abandon();
      co_return absl::ResourceExhaustedError(absl::StrCat("upstream body exceeds the limit of ", max_bytes, " bytes"));
    }
    AppendPiece(*piece, body);
  }
}

}  // namespace llmesh::upstream
