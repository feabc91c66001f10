#include "tests/fakes/fake_provider/fake_state.h"

#include <algorithm>
#include <chrono>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace llmesh::fakes {

void ScriptStore::Replace(std::optional<FakeScript> script) {
  std::lock_guard<std::mutex> lock(mu_);
  remaining_.store(script ? script->count : 0, std::memory_order_release);
  script_ = script ? std::make_shared<const FakeScript>(*std::move(script)) : nullptr;
  version_.fetch_add(1, std::memory_order_acq_rel);
}

std::shared_ptr<const FakeScript> ScriptStore::Load() const {
  std::lock_guard<std::mutex> lock(mu_);
  return script_;
}

LastRequestBoard::LastRequestBoard(size_t workers) {
  for (size_t i = 0; i < std::max<size_t>(workers, 1); ++i) {
    slots_.push_back(std::make_unique<Slot>());
  }
}

void LastRequestBoard::Record(size_t worker, std::string_view path, std::string_view authorization,
                              std::string_view body) {
  Slot& slot = *slots_[worker];
  std::lock_guard<std::mutex> lock(slot.mu);
  slot.value.when = std::chrono::steady_clock::now().time_since_epoch().count();
  // assign() reuses the slot's capacity, so steady traffic allocates nothing here.
  slot.value.path.assign(path);
  slot.value.authorization.assign(authorization);
  slot.value.body.assign(body);
}

std::optional<LastRequest> LastRequestBoard::Latest() const {
  std::optional<LastRequest> latest;
  for (const auto& slot : slots_) {
    std::lock_guard<std::mutex> lock(slot->mu);
    if (slot->value.when != 0 && (!latest || slot->value.when > latest->when)) {
      latest = slot->value;
    }
  }
  return latest;
}

void LastRequestBoard::Clear() {
  for (const auto& slot : slots_) {
    std::lock_guard<std::mutex> lock(slot->mu);
    slot->value = LastRequest{};
  }
}

FakeState::FakeState(FakeProviderOptions provider_options)
    : options(std::move(provider_options)), last_request(options.workers) {}

std::string FakeState::StatsJson() const {
  namespace json = boost::json;
  json::object stats_object;
  stats_object["requests"] = stats.requests.load();
  stats_object["chat"] = stats.chat.load();
  stats_object["embeddings"] = stats.embeddings.load();
  stats_object["models"] = stats.models.load();
  stats_object["scripted_failures"] = stats.scripted_failures.load();
  const uint64_t accepted = server ? server->accepted_connections() : 0;
  stats_object["connections"] = accepted - std::min(accepted, stats.connections_baseline.load());
  stats_object["open_connections"] = server ? server->active_connections() : 0;
  stats_object["in_flight"] = stats.in_flight.load();
  if (std::optional<LastRequest> last = last_request.Latest()) {
    json::object last_object;
    last_object["path"] = last->path;
    last_object["authorization"] = last->authorization;
    last_object["body"] = last->body;
    stats_object["last_request"] = std::move(last_object);
  } else {
    stats_object["last_request"] = nullptr;
  }
  return json::serialize(stats_object);
}

void FakeState::Reset() {
  script.Replace(std::nullopt);
  stats.requests = 0;
  stats.chat = 0;
  stats.embeddings = 0;
  stats.models = 0;
  stats.scripted_failures = 0;
  stats.connections_baseline = server ? server->accepted_connections() : 0;
  last_request.Clear();
}

}  // namespace llmesh::fakes
