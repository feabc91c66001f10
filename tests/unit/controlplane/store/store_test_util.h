// Shared pieces of the store tests: a temporary directory per test and small config builders.
#pragma once

#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controlplane/store/store.h"
#include "gtest/gtest.h"

namespace llmesh::control::testing_store {

using llmesh::config::v1::Provider;
using llmesh::config::v1::Route;

// A fresh directory per test, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string templ = ::testing::TempDir() + "/control_store_XXXXXX";
    path_ = mkdtemp(templ.data());
  }
  ~TempDir() { (void)system(absl::StrCat("rm -rf '", path_, "'").c_str()); }
  std::string File(const std::string& name) const { return absl::StrCat(path_, "/", name); }

 private:
  std::string path_;
};

inline Provider MakeProvider(std::string name, std::vector<std::string> models) {
  Provider p;
  p.set_name(std::move(name));
  p.set_kind(Provider::OPENAI);
  p.set_base_url("https://api.example.com/v1");
  p.set_api_key_env("EXAMPLE_API_KEY");  // not set here; it is the sidecars' environment
  for (std::string& m : models) p.add_models()->set_name(std::move(m));
  return p;
}

inline Route MakeRoute(std::string model, std::string provider, std::string target_model) {
  Route r;
  r.set_model(std::move(model));
  auto* t = r.add_targets();
  t->set_provider(std::move(provider));
  t->set_model(std::move(target_model));
  return r;
}

inline std::unique_ptr<Store> OpenOrDie(const std::string& path, Store::Options options = {}) {
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(path, std::move(options));
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

inline std::string VersionOf(Store& store) {
  absl::StatusOr<RouteConfigurationSnapshot> snap = store.Snapshot();
  EXPECT_TRUE(snap.ok()) << snap.status();
  return snap.ok() ? snap->version : "";
}

}  // namespace llmesh::control::testing_store
