#include "keychain/keychain.hpp"

#include <catch2/catch.hpp>

using namespace claribi::keychain;

TEST_CASE("server names fold default ports, case and one trailing slash; keep the query") {
  auto same = {"https://claribi.com/mcp/v1/", "https://claribi.com/mcp/v1",
               "HTTPS://CLARIBI.COM:443/mcp/v1/", "https://claribi.com:443/mcp/v1"};
  for (const char* url : same) {
    INFO(url);
    CHECK(canonical_server(url).value() == "https://claribi.com/mcp/v1");
  }
  CHECK(canonical_server("http://127.0.0.1:80/").value() == "http://127.0.0.1");
  CHECK(canonical_server("http://127.0.0.1:3001/mcp").value() == "http://127.0.0.1:3001/mcp");
  CHECK(canonical_server("https://h.example/mcp?tenant=a").value() ==
        "https://h.example/mcp?tenant=a");
  CHECK(canonical_server("https://h.example/mcp?tenant=a").value() !=
        canonical_server("https://h.example/mcp?tenant=b").value());
  CHECK(canonical_server("https://h.example/MCP").value() !=
        canonical_server("https://h.example/mcp").value());
  CHECK(canonical_server("https://h.example:8443/mcp").value() == "https://h.example:8443/mcp");
  CHECK_FALSE(canonical_server("ftp://h.example/"));
  CHECK_FALSE(canonical_server("https://user:pw@h.example/"));
}

TEST_CASE("account names carry the server and the kind, and parse back") {
  auto a = account_name("https://claribi.com/mcp/v1", SecretKind::api_key);
  CHECK(a == "https://claribi.com/mcp/v1#api-key");
  CHECK(account_name("https://x/y?q=1", SecretKind::oauth_tokens) ==
        "https://x/y?q=1#oauth-tokens");
  CHECK(account_name("https://x", SecretKind::oauth_client) == "https://x#oauth-client");
  auto p = parse_account(a);
  REQUIRE(p);
  CHECK(p->server == "https://claribi.com/mcp/v1");
  CHECK(p->kind == SecretKind::api_key);
  CHECK_FALSE(parse_account("https://x#something-else"));
  CHECK_FALSE(parse_account("no-hash"));
}

TEST_CASE("a login kept apart by resource has names of its own, without one as before") {
  const std::string server = "https://mcp.example/mcp";
  CHECK(login_server(server, "") == server);
  CHECK(account_name(login_server(server, ""), SecretKind::oauth_tokens) ==
        "https://mcp.example/mcp#oauth-tokens");
  auto tenant = login_server(server, "https://tenant-a.example/mcp");
  CHECK(tenant == "https://mcp.example/mcp#resource=https://tenant-a.example/mcp");
  auto a = account_name(tenant, SecretKind::oauth_tokens);
  auto p = parse_account(a);
  REQUIRE(p);
  CHECK(p->server == tenant);
  CHECK(p->kind == SecretKind::oauth_tokens);
  // "<server>#" lists both (logout URL forgets every login of the server); the tenant's own
  // prefix is not a prefix of another tenant's.
  CHECK(a.rfind(server + "#", 0) == 0);
  auto other =
      account_name(login_server(server, "https://tenant-a.example/mcp2"), SecretKind::oauth_tokens);
  CHECK(other.rfind(tenant + "#", 0) != 0);
}

namespace {

struct Chunked {
  Keychain* raw;
  std::unique_ptr<Keychain> store;
};

Chunked chunked(std::size_t max_part) {
  auto inner = make_memory_keychain();
  auto* raw = inner.get();
  return Chunked{raw, make_chunked_keychain(std::move(inner), max_part)};
}

std::string value_of_size(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<char>('a' + (i * 7) % 26);
  return s;
}

}  // namespace

TEST_CASE("chunked store: small values stay whole, large ones split and reassemble") {
  auto c = chunked(256);
  Key k{"https://x#oauth-tokens"};
  REQUIRE(c.store->set(k, "short"));
  CHECK(c.raw->get(k).value() == std::optional<std::string>("short"));  // readable as is
  CHECK(c.store->get(k).value() == std::optional<std::string>("short"));
  for (std::size_t size : {159u, 160u, 161u, 256u, 1000u, 4096u, 65536u}) {
    INFO(size);
    auto v = value_of_size(size);
    REQUIRE(c.store->set(k, v));
    CHECK(c.store->get(k).value() == std::optional<std::string>(v));
    auto entries = c.raw->list("").value();
    for (const auto& a : entries) CHECK(c.raw->get(Key{a}).value()->size() <= 256);
    CHECK(c.store->list("https://x#").value() == std::vector<std::string>{k.account});
  }
  // Shrinking removes the pieces the longer value needed.
  REQUIRE(c.store->set(k, value_of_size(300)));
  CHECK(c.raw->list("").value().size() == 2);
  REQUIRE(c.store->set(k, "tiny"));
  CHECK(c.raw->list("").value().size() == 1);
  REQUIRE(c.store->set(k, value_of_size(5000)));
  REQUIRE(c.store->remove(k));
  CHECK(c.raw->list("").value().empty());
  CHECK_FALSE(c.store->get(k).value().has_value());
}

TEST_CASE("chunked store: a half-written or damaged value is reported, never returned") {
  auto c = chunked(256);
  Key k{"https://x#oauth-tokens"};
  auto v = value_of_size(1000);
  REQUIRE(c.store->set(k, v));
  auto pieces = c.raw->list("").value();
  REQUIRE(pieces.size() > 2);

  SECTION("a piece from another write (another generation)") {
    auto second = c.raw->get(Key{k.account + "#part2"}).value().value();
    second[0] = second[0] == '0' ? '1' : '0';
    REQUIRE(c.raw->set(Key{k.account + "#part2"}, second));
    auto got = c.store->get(k);
    REQUIRE_FALSE(got);
    CHECK(got.error().message.find("another process was writing it") != std::string::npos);
  }
  SECTION("a missing piece") {
    REQUIRE(c.raw->remove(Key{k.account + "#part1"}));
    CHECK_FALSE(c.store->get(k));
  }
  SECTION("a changed byte fails the checksum") {
    auto first = c.raw->get(Key{k.account + "#part1"}).value().value();
    first.back() = first.back() == 'x' ? 'y' : 'x';
    REQUIRE(c.raw->set(Key{k.account + "#part1"}, first));
    auto got = c.store->get(k);
    REQUIRE_FALSE(got);
    CHECK(got.error().message.find("checksum") != std::string::npos);
  }
  SECTION("a damaged head") {
    REQUIRE(c.raw->set(k, "claribi-chunks-v1 garbage"));
    auto got = c.store->get(k);
    REQUIRE_FALSE(got);
    CHECK(got.error().message.find("damaged") != std::string::npos);
  }
}

TEST_CASE("call_with_timeout turns a hung store into an error") {
  std::shared_ptr<Keychain> k = make_memory_keychain();
  auto quick = call_with_timeout<std::optional<std::string>>(
      k, [](Keychain& s) { return s.get(Key{"a"}); }, std::chrono::milliseconds(2000));
  REQUIRE(quick);
  auto hung = call_with_timeout<void>(
      k,
      [](Keychain&) -> claribi::Result<void> {
        std::this_thread::sleep_for(std::chrono::milliseconds(600));
        return {};
      },
      std::chrono::milliseconds(50));
  REQUIRE_FALSE(hung);
  CHECK(hung.error().message.find("did not answer") != std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // let the helper finish
}
