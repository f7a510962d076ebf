// The libsecret backend against a real gnome-keyring (run under with-keyring.sh).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "keychain/keychain.hpp"
#include "tests/keychain_contract.hpp"

#include <libsecret/secret.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

using namespace claribi::keychain;

namespace {

std::unique_ptr<Keychain> store() {
  auto k = make_platform_keychain();
  REQUIRE(k);
  return std::move(*k);
}

Key api_key_of(const std::string& url) {
  auto server = canonical_server(url);
  REQUIRE(server);
  return Key{account_name(*server, SecretKind::api_key)};
}

/// How many Secret Service items carry this account (duplicates would be a bug).
int items_for(const std::string& account) {
  GError* error = nullptr;
  GHashTable* attrs = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(attrs, const_cast<char*>("service"), const_cast<char*>(k_service));
  g_hash_table_insert(attrs, const_cast<char*>("account"), const_cast<char*>(account.c_str()));
  SecretService* service = secret_service_get_sync(SECRET_SERVICE_NONE, nullptr, &error);
  REQUIRE(service != nullptr);
  GList* items =
      secret_service_search_sync(service, nullptr, attrs, SECRET_SEARCH_ALL, nullptr, &error);
  int n = static_cast<int>(g_list_length(items));
  g_list_free_full(items, g_object_unref);
  g_hash_table_unref(attrs);
  g_object_unref(service);
  return n;
}

}  // namespace

CLARIBI_KEYCHAIN_CONTRACT("Secret Service", store())

TEST_CASE("an overwrite leaves one Secret Service item, a removal none") {
  auto k = store();
  auto key = api_key_of("https://claribi.com/mcp/v1/");
  REQUIRE(k->set(key, "claribi_mcp_first"));
  REQUIRE(k->set(key, "claribi_mcp_second"));
  REQUIRE(items_for(key.account) == 1);
  REQUIRE(k->remove(key));
  REQUIRE(items_for(key.account) == 0);
}

TEST_CASE("two processes writing the same entry leave one whole value") {
  auto key = api_key_of("https://race.example.com/mcp");
  for (int round = 0; round < 5; ++round) {
    // Separate processes (fork and exec: GLib's D-Bus connection does not survive fork).
    pid_t children[2];
    for (int c = 0; c < 2; ++c) {
      children[c] = ::fork();
      REQUIRE(children[c] >= 0);
      if (children[c] == 0) {
        const char* letter = c == 0 ? "A" : "B";
        ::execl("/proc/self/exe", "keyring_tests", "--writer", key.account.c_str(), letter,
                static_cast<char*>(nullptr));
        ::_exit(127);
      }
    }
    for (pid_t child : children) {
      int status = 0;
      REQUIRE(::waitpid(child, &status, 0) == child);
      REQUIRE(WIFEXITED(status));
      REQUIRE(WEXITSTATUS(status) == 0);
    }
    auto got = store()->get(key);
    REQUIRE(got);
    REQUIRE(got->has_value());
    bool whole = **got == "A" + std::string(3000, 'a') || **got == "B" + std::string(3000, 'b');
    REQUIRE(whole);
    REQUIRE(items_for(key.account) == 1);
  }
  REQUIRE(store()->remove(key));
}

TEST_CASE("no D-Bus session bus gives an error that says so") {
  const char* saved_bus = std::getenv("DBUS_SESSION_BUS_ADDRESS");
  std::string bus = saved_bus ? saved_bus : "";
  const char* saved_runtime = std::getenv("XDG_RUNTIME_DIR");
  std::string runtime = saved_runtime ? saved_runtime : "";
  ::unsetenv("DBUS_SESSION_BUS_ADDRESS");
  ::setenv("XDG_RUNTIME_DIR", "/nonexistent-runtime-dir", 1);
  auto k = store();
  auto got = k->get(api_key_of("https://claribi.com/mcp/v1"));
  ::setenv("DBUS_SESSION_BUS_ADDRESS", bus.c_str(), 1);
  ::setenv("XDG_RUNTIME_DIR", runtime.c_str(), 1);
  REQUIRE_FALSE(got);
  INFO(got.error().message);
  REQUIRE(got.error().message.find("no D-Bus session bus") != std::string::npos);
  REQUIRE(got.error().message.find("--credential-store file") != std::string::npos);
}

// Last: a locked login keyring cannot be unlocked again without a desktop prompt.
TEST_CASE("a locked keyring gives an error that says how to unlock it") {
  auto k = store();
  auto key = api_key_of("https://locked.example.com/mcp");
  REQUIRE(k->set(key, "claribi_mcp_before_lock"));

  GError* error = nullptr;
  SecretService* service =
      secret_service_get_sync(SECRET_SERVICE_LOAD_COLLECTIONS, nullptr, &error);
  REQUIRE(service != nullptr);
  SecretCollection* login = secret_collection_for_alias_sync(
      service, SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE, nullptr, &error);
  REQUIRE(login != nullptr);
  GList* objects = g_list_append(nullptr, login);
  REQUIRE(secret_service_lock_sync(service, objects, nullptr, nullptr, &error) == 1);
  g_list_free(objects);
  g_object_unref(login);
  g_object_unref(service);

  auto fresh = store();
  auto got = fresh->get(key);
  REQUIRE_FALSE(got);
  INFO(got.error().message);
  REQUIRE(got.error().message.find("locked") != std::string::npos);
  REQUIRE(got.error().message.find("unlock") != std::string::npos);
  auto set = fresh->set(api_key_of("https://new.example.com/mcp"), "x");
  REQUIRE_FALSE(set);
  REQUIRE(set.error().message.find("locked") != std::string::npos);
}

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--writer") {
    // One of the racing writers: ten writes of a 3001-byte value.
    auto mine = make_platform_keychain();
    if (!mine) return 1;
    std::string value = std::string(argv[3]) + std::string(3000, argv[3][0] == 'A' ? 'a' : 'b');
    for (int i = 0; i < 10; ++i) {
      if (!(*mine)->set(Key{argv[2]}, value)) return 1;
    }
    return 0;
  }
  return Catch::Session().run(argc, argv);
}
