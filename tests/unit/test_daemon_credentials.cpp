#include "daemon/cli.hpp"
#include "daemon/compose.hpp"
#include "daemon/credentials.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace claribi;
using namespace claribi::daemon;

TEST_CASE("CLARIBI_API_KEY: empty and unexpanded placeholders are unset, encrypted is refused") {
  CHECK(api_key_from_env(std::nullopt).value() == std::nullopt);
  CHECK(api_key_from_env(std::string("")).value() == std::nullopt);
  CHECK(api_key_from_env(std::string("  ")).value() == std::nullopt);
  CHECK(api_key_from_env(std::string("${user_config.api_key}")).value() == std::nullopt);
  CHECK(api_key_from_env(std::string("${user_config.claribi_api_key}")).value() == std::nullopt);
  CHECK(api_key_from_env(std::string(" claribi_mcp_abc \n")).value() ==
        std::optional<std::string>("claribi_mcp_abc"));
  auto encrypted = api_key_from_env(std::string("__encrypted__:AAECAw=="));
  REQUIRE_FALSE(encrypted);
  CHECK(encrypted.error().message.find("failed to decrypt") != std::string::npos);
  CHECK(encrypted.error().message.find("AAECAw") == std::string::npos);
}

namespace {

void set_key_env(const char* value) {
#ifdef _WIN32
  _putenv_s("CLARIBI_API_KEY", value ? value : "");  // "" removes it
#else
  if (value) {
    ::setenv("CLARIBI_API_KEY", value, 1);
  } else {
    ::unsetenv("CLARIBI_API_KEY");
  }
#endif
}

struct Env {
  explicit Env(const char* value) { set_key_env(value); }
  ~Env() { set_key_env(nullptr); }
};

Result<Invocation> parse(std::vector<std::string> args) {
  std::vector<char*> argv;
  static std::string name = "claribi-bridge";
  argv.push_back(name.data());
  for (auto& a : args) argv.push_back(a.data());
  int code = 0;
  std::string printed;
  // As the program does: the parser records, the composition root decides.
  auto inv = parse_command_line(static_cast<int>(argv.size()), argv.data(), code, printed);
  if (!inv) return inv;
  if (auto composed = compose_credentials(*inv); !composed) return fail(composed.error().message);
  return inv;
}

std::string authorization(const Invocation& inv) {
  for (const auto& h : inv.bridge.remote.headers) {
    if (h.name == "Authorization") return h.value;
  }
  return {};
}

}  // namespace

TEST_CASE("credential precedence: --header, then CLARIBI_API_KEY, then the keychain") {
  const std::string url = "http://127.0.0.1:9/mcp";
  SECTION("an explicit header wins over the environment") {
    Env env("claribi_mcp_from_env");
    auto inv = parse({"--log-level", "off", "--header", "Authorization: Bearer explicit", url});
    REQUIRE(inv);
    CHECK(authorization(*inv) == "Bearer explicit");
    CHECK(inv->server == "http://127.0.0.1:9/mcp");  // the URL after --header is not swallowed
    CHECK(inv->bridge.credential_source == CredentialSource::header);
    CHECK_FALSE(inv->bridge.load_api_key);
  }
  SECTION("the environment wins over the keychain") {
    Env env("claribi_mcp_from_env");
    auto inv = parse({"--log-level", "off", url});
    REQUIRE(inv);
    CHECK(authorization(*inv) == "Bearer claribi_mcp_from_env");
    CHECK(inv->bridge.credential_source == CredentialSource::environment);
    CHECK_FALSE(inv->bridge.load_api_key);
  }
  SECTION("otherwise the keychain is asked, and only then") {
    for (const char* value : {static_cast<const char*>(nullptr), "", "${user_config.api_key}"}) {
      Env env(value);
      auto inv = parse({"--log-level", "off", url});
      REQUIRE(inv);
      CHECK(authorization(*inv).empty());
      CHECK(inv->bridge.credential_source == CredentialSource::none);
      CHECK(inv->bridge.load_api_key);
      CHECK(inv->server == "http://127.0.0.1:9/mcp");
    }
  }
  SECTION("an encrypted value: the bridge answers every request with the reason") {
    Env env("__encrypted__:xyz");
    auto inv = parse({"--log-level", "off", url});
    REQUIRE(inv);
    CHECK(inv->bridge.config_error.find("failed to decrypt") != std::string::npos);
    CHECK(authorization(*inv).empty());
    auto tools = parse({"--log-level", "off", "tools", url});
    CHECK_FALSE(tools);
  }
  SECTION("the default capture rule is clariBI's, --capture-key adds others") {
    Env env(nullptr);
    auto inv = parse({"--log-level", "off", "--capture-key", "mint=field:token", url});
    REQUIRE(inv);
    REQUIRE(inv->bridge.capture.size() == 2);
    CHECK(inv->bridge.capture[0].tool == "verify_email");
    CHECK(inv->bridge.capture[1].tool == "mint");
    CHECK(inv->bridge.capture[1].key_field == "token");
    CHECK_FALSE(parse({"--log-level", "off", "--capture-key", "nothing", url}));
  }
}

namespace {

// What clariBI's verify_email answers: the text block carries the JSON the model would
// read, structuredContent the same object.
const char* k_verify_email_answer = R"({"jsonrpc":"2.0","id":7,"result":{
  "content":[{"type":"text","text":"{\n  \"status\": \"verified\",\n  \"api_key\": \"claribi_mcp_9fK2xQ7LmN4pR8sT1vW3yZ6b\",\n  \"access_token\": \"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl\",\n  \"token_type\": \"Bearer\",\n  \"expires_in\": 3600,\n  \"workspace\": {\"id\": \"ws_123\", \"plan\": \"trial\", \"trial_ends\": \"2026-12-05\"},\n  \"message\": \"Store this API key now: claribi_mcp_9fK2xQ7LmN4pR8sT1vW3yZ6b is shown once.\"\n}"}],
  "structuredContent":{"status":"verified","api_key":"claribi_mcp_9fK2xQ7LmN4pR8sT1vW3yZ6b",
    "access_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl","token_type":"Bearer",
    "expires_in":3600,"workspace":{"id":"ws_123","plan":"trial","trial_ends":"2026-12-05"}},
  "isError":false}})";

}  // namespace

TEST_CASE("verify_email: the minted key and token are found and replaced everywhere") {
  json::Document doc;
  doc.Parse(k_verify_email_answer);
  REQUIRE_FALSE(doc.HasParseError());
  auto minted = find_minted(default_capture_rule(), doc);
  REQUIRE(minted);
  CHECK(minted->api_key == "claribi_mcp_9fK2xQ7LmN4pR8sT1vW3yZ6b");
  CHECK(minted->access_token == "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl");
  redact_minted(doc, *minted, "[KEY STORED]", "[TOKEN HELD]");
  auto text = json::to_string(doc);
  CHECK(text.find("claribi_mcp_9fK2") == std::string::npos);
  CHECK(text.find("eyJhbGci") == std::string::npos);
  CHECK(text.find("[KEY STORED]") != std::string::npos);
  CHECK(text.find("[TOKEN HELD]") != std::string::npos);
  CHECK(text.find("ws_123") != std::string::npos);  // the rest is untouched
  CHECK(json::member(doc, "id")->GetInt() == 7);
}

TEST_CASE("capture: key only in text, by field, and nothing to capture") {
  json::Document doc;
  doc.Parse(R"({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text",
    "text":"Your key: claribi_mcp_abcdefgh12345678. Keep it safe."}]}})");
  auto minted = find_minted(default_capture_rule(), doc);
  REQUIRE(minted);
  CHECK(minted->api_key == "claribi_mcp_abcdefgh12345678");
  CHECK(minted->access_token.empty());

  doc.Parse(R"({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text",
    "text":"see claribi_mcp_ for details"}]}})");
  CHECK_FALSE(find_minted(default_capture_rule(), doc));  // a prefix alone is not a key

  auto rule = parse_capture_rule("create_token=field:secret");
  REQUIRE(rule);
  doc.Parse(R"({"jsonrpc":"2.0","id":1,"result":{"structuredContent":{"secret":"s3cr3t-value"}}})");
  minted = find_minted(*rule, doc);
  REQUIRE(minted);
  CHECK(minted->api_key == "s3cr3t-value");

  doc.Parse(R"({"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"wrong code"}})");
  CHECK_FALSE(find_minted(default_capture_rule(), doc));
}
