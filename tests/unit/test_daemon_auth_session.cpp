// The auth session: the lookup queue, refusals (minted key, login, errors), minted
// credentials. The login runs the real Authorizer against a scripted authorization server.
#include <catch2/catch.hpp>

#include "daemon/auth_session.hpp"
#include "tests/unit/fake_oauth_http.hpp"

#include <filesystem>
#include <random>
#include <thread>

using namespace claribi;
using namespace claribi::daemon;

namespace {

struct Port {
  std::vector<std::string> set;
  std::vector<Result<std::string>> finished;
  int warmed = 0;

  AuthPort port() {
    return AuthPort{[this](const std::string& a) { set.push_back(a); },
                    [this](Result<std::string> a) { finished.push_back(std::move(a)); },
                    [this] { ++warmed; }};
  }
};

/// Runs the io context until `done` holds (helper threads post their results to it).
template <class F>
void run_until(asio::io_context& io, F done) {
  for (int i = 0; i < 500 && !done(); ++i) {
    io.restart();
    if (io.run_for(std::chrono::milliseconds(10)) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // no work yet: a thread has it
    }
  }
  REQUIRE(done());
}

transport::AuthChallenge refused(const std::string& authorization) {
  return transport::AuthChallenge{401, "Bearer", authorization};
}

}  // namespace

TEST_CASE("messages wait for the key lookup, the era probe ahead of them", "[auth]") {
  asio::io_context io;
  Port p;
  AuthOptions o;
  o.load_api_key = [] { return Result<std::optional<std::string>>(std::string("key-1")); };
  AuthSession auth(io, o, p.port());
  CHECK(auth.lookup_unstarted());
  std::vector<std::string> order;
  auth.when_ready([&] { order.push_back("message 1"); });
  auth.when_ready([&] { order.push_back("probe"); }, /*first=*/true);
  auth.when_ready([&] { order.push_back("message 2"); });
  CHECK(order.empty());
  CHECK(p.warmed == 1);
  run_until(io, [&] { return order.size() == 3; });
  CHECK(order == std::vector<std::string>{"probe", "message 1", "message 2"});
  CHECK(p.set == std::vector<std::string>{"Bearer key-1"});
  CHECK(auth.source() == CredentialSource::keychain);
  auth.when_ready([&] { order.push_back("now"); });  // looked up: runs at once
  CHECK(order.back() == "now");
}

TEST_CASE("without a lookup nothing waits", "[auth]") {
  asio::io_context io;
  Port p;
  AuthSession auth(io, AuthOptions{}, p.port());
  bool ran = false;
  auth.when_ready([&] { ran = true; });
  CHECK(ran);
  CHECK(p.warmed == 0);
}

TEST_CASE("a refused stored key says how to fix it, without logging in", "[auth]") {
  asio::io_context io;
  Port p;
  AuthOptions o;
  o.source = CredentialSource::keychain;
  AuthSession auth(io, o, p.port());
  auth.on_refused(refused("Bearer bad"));
  REQUIRE(p.finished.size() == 1);
  REQUIRE_FALSE(p.finished[0]);
  const auto& why = p.finished[0].error().message;
  CHECK(why.find("HTTP 401") != std::string::npos);
  CHECK(why.find("from keychain.") != std::string::npos);
  CHECK(why.find("key remove") != std::string::npos);
}

TEST_CASE("minted credentials are used, and the minted key follows a refused token", "[auth]") {
  asio::io_context io;
  Port p;
  AuthSession auth(io, AuthOptions{}, p.port());
  auth.adopt_minted(Minted{"ck_live_key", "tok-1"});
  CHECK(p.set == std::vector<std::string>{"Bearer tok-1"});
  CHECK(auth.source() == CredentialSource::minted);
  auth.on_refused(refused("Bearer tok-1"));
  REQUIRE(p.finished.size() == 1);
  CHECK(p.finished[0].value_or("") == "Bearer ck_live_key");
  auth.on_refused(refused("Bearer ck_live_key"));  // the key itself refused: no way left
  REQUIRE(p.finished.size() == 2);
  CHECK_FALSE(p.finished[1]);
}

TEST_CASE("credentials from --header are never replaced by minted ones", "[auth]") {
  asio::io_context io;
  Port p;
  AuthOptions o;
  o.source = CredentialSource::header;
  AuthSession auth(io, o, p.port());
  auth.adopt_minted(Minted{"ck_live_key", ""});
  CHECK(p.set.empty());
  CHECK(auth.source() == CredentialSource::header);
}

TEST_CASE("a refusal logs in, and the round ends with the new token or the failure", "[auth]") {
  asio::io_context io;
  Port p;
  auto http = std::make_shared<test::FakeOAuthHttp>();
  auto store = std::shared_ptr<keychain::Keychain>(keychain::make_memory_keychain());
  oauth::Options oo;
  oo.server = *parse_url("https://mcp.example/mcp");
  oo.account_server = *keychain::canonical_server(oo.server.text);
  oo.store = store;
  oo.http = http;
  oo.client_credentials = true;
  oo.client_id = "m2m";
  oo.lock_path = (std::filesystem::temp_directory_path() /
                  ("claribi-unit-auth-" + std::to_string(std::random_device{}())))
                     .string();
  REQUIRE(store->set(
      keychain::Key{keychain::account_name(oo.account_server, keychain::SecretKind::client_secret)},
      "s"));
  http->on(
      "GET", "https://mcp.example/.well-known/oauth-protected-resource/mcp", 200,
      R"({"resource":"https://mcp.example/mcp","authorization_servers":["https://as.example"]})");
  http->on("GET", "https://as.example/.well-known/oauth-authorization-server", 200,
           R"({"issuer":"https://as.example","token_endpoint":"https://as.example/token"})");
  AuthOptions o;
  o.oauth = std::make_shared<oauth::Authorizer>(oo);
  AuthSession auth(io, o, p.port());

  SECTION("a login") {
    http->on("POST", "https://as.example/token", 200, R"({"access_token":"at-9"})");
    auth.on_refused(refused(""));
    run_until(io, [&] { return !p.finished.empty(); });
    CHECK(p.finished[0].value_or("") == "Bearer at-9");
    CHECK(auth.source() == CredentialSource::oauth);
  }
  SECTION("a failed login fails the round") {
    http->on("POST", "https://as.example/token", 401, R"({"error":"invalid_client"})");
    auth.on_refused(refused(""));
    run_until(io, [&] { return !p.finished.empty(); });
    REQUIRE_FALSE(p.finished[0]);
    CHECK(p.finished[0].error().message.find("invalid_client") != std::string::npos);
  }
  SECTION("after a login, the era may take the round over") {
    http->on("POST", "https://as.example/token", 200, R"({"access_token":"at-9"})");
    std::string taken;
    auth.set_after_login([&](const std::string& a) {
      taken = a;
      return true;
    });
    auth.on_refused(refused(""));
    run_until(io, [&] { return !taken.empty(); });
    CHECK(taken == "Bearer at-9");
    CHECK(p.finished.empty());
  }
  std::error_code ignored;
  std::filesystem::remove(oo.lock_path, ignored);
}
