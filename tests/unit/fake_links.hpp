#pragma once

// A client link for the session core's units: records what they send each way.

#include "daemon/links.hpp"
#include "util/json.hpp"

#include <string>
#include <vector>

namespace claribi::test {

class FakeLinks final : public daemon::Links {
 public:
  std::vector<std::string> client;  ///< lines to the client (errors included)
  std::vector<jsonrpc::Message> remote;
  std::vector<std::string> dropped;
  std::vector<jsonrpc::Message> rerouted;
  std::vector<std::pair<std::string, std::string>> from_remote_seen;  ///< raw, related

  void to_client(std::string line) override { client.push_back(std::move(line)); }
  void reply_error(const std::string& id, int code, const std::string& message) override {
    client.push_back(jsonrpc::error_response(id, code, message));
  }
  void to_remote(jsonrpc::Message&& m,
                 std::shared_ptr<const transport::UploadBody> /*upload*/) override {
    remote.push_back(std::move(m));
  }
  void drop(const std::string& client_id) override { dropped.push_back(client_id); }
  void from_client(jsonrpc::Message&& m) override { rerouted.push_back(std::move(m)); }
  void from_remote(jsonrpc::Message&& m, const std::string& related) override {
    from_remote_seen.emplace_back(m.raw, related);
  }

  /// The last line to the client, parsed.
  json::Document last_client() const {
    return client.empty() ? json::Document() : json::parse_or_null(client.back());
  }
};

inline jsonrpc::Message message(const std::string& text) {
  auto m = jsonrpc::parse(text);
  if (!m) throw std::runtime_error("bad test message: " + m.error().message);
  return std::move(*m);
}

}  // namespace claribi::test
