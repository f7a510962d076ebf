// Linux: the freedesktop Secret Service (gnome-keyring, KWallet, KeePassXC) through libsecret.
#include "keychain/keychain.hpp"
#include "keychain/os_store.hpp"

#include <dlfcn.h>
#include <libsecret/secret.h>
#include <sys/stat.h>

#include <cctype>
#include <cstdlib>

namespace claribi::keychain {
namespace {

// libsecret is loaded when a secret is first needed, not linked: the bridge starts without
// GLib, runs where libsecret is not installed (and says so), and a session that never
// touches the keychain never maps it.
#define CLARIBI_LIBSECRET_FUNCTIONS(X) \
  X(secret_service_get_sync)           \
  X(secret_service_search_sync)        \
  X(secret_item_get_locked)            \
  X(secret_item_load_secret_sync)      \
  X(secret_item_get_secret)            \
  X(secret_value_get)                  \
  X(secret_value_unref)                \
  X(secret_value_new)                  \
  X(secret_item_set_secret_sync)       \
  X(secret_collection_for_alias_sync)  \
  X(secret_collection_get_locked)      \
  X(secret_item_create_sync)           \
  X(secret_item_delete_sync)           \
  X(secret_item_get_attributes)        \
  X(g_error_free)                      \
  X(g_hash_table_new_full)             \
  X(g_hash_table_unref)                \
  X(g_hash_table_insert)               \
  X(g_hash_table_lookup)               \
  X(g_strdup)                          \
  X(g_free)                            \
  X(g_str_hash)                        \
  X(g_str_equal)                       \
  X(g_list_free_full)                  \
  X(g_object_unref)

struct Libsecret {
#define CLARIBI_DECLARE(name) decltype(&::name) name = nullptr;
  CLARIBI_LIBSECRET_FUNCTIONS(CLARIBI_DECLARE)
#undef CLARIBI_DECLARE
  std::string error;
};

const Libsecret& lib() {
  static const Libsecret loaded = [] {
    Libsecret l;
    void* handle = ::dlopen("libsecret-1.so.0", RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      l.error = std::string("libsecret is not installed (") + ::dlerror() +
                "); install it (Debian/Ubuntu: apt install libsecret-1-0)";
      return l;
    }
#define CLARIBI_RESOLVE(name)                                           \
  l.name = reinterpret_cast<decltype(&::name)>(::dlsym(handle, #name)); \
  if (l.name == nullptr && l.error.empty()) l.error = "libsecret lacks " #name;
    CLARIBI_LIBSECRET_FUNCTIONS(CLARIBI_RESOLVE)
#undef CLARIBI_RESOLVE
    return l;
  }();
  return loaded;
}

// Entries carry attributes service, account, server and kind, so other tools find them:
//   secret-tool lookup service claribi-bridge account 'https://claribi.com/mcp/v1#api-key'
const SecretSchema* schema() {
  static const SecretSchema s = {"com.claribi.Bridge",
                                 SECRET_SCHEMA_NONE,
                                 {{"service", SECRET_SCHEMA_ATTRIBUTE_STRING},
                                  {"account", SECRET_SCHEMA_ATTRIBUTE_STRING},
                                  {"server", SECRET_SCHEMA_ATTRIBUTE_STRING},
                                  {"kind", SECRET_SCHEMA_ATTRIBUTE_STRING},
                                  {nullptr, SECRET_SCHEMA_ATTRIBUTE_STRING}},
                                 0,
                                 nullptr,
                                 nullptr,
                                 nullptr,
                                 nullptr,
                                 nullptr,
                                 nullptr,
                                 nullptr};
  return &s;
}

constexpr const char* k_fallback_hint = ", or use --credential-store file";

struct ErrorHolder {
  GError* error = nullptr;
  ~ErrorHolder() {
    if (error != nullptr) lib().g_error_free(error);
  }
  std::string text() const { return error != nullptr ? error->message : "unknown error"; }
};

struct Attributes {
  GHashTable* table =
      lib().g_hash_table_new_full(lib().g_str_hash, lib().g_str_equal, lib().g_free, lib().g_free);
  Attributes() = default;
  Attributes(Attributes&& other) noexcept : table(other.table) { other.table = nullptr; }
  Attributes(const Attributes&) = delete;
  Attributes& operator=(const Attributes&) = delete;
  ~Attributes() {
    if (table != nullptr) lib().g_hash_table_unref(table);
  }
  void add(const char* name, const std::string& value) {
    lib().g_hash_table_insert(table, lib().g_strdup(name), lib().g_strdup(value.c_str()));
  }
};

struct Items {
  GList* list = nullptr;
  Items() = default;
  Items(Items&& other) noexcept : list(other.list) { other.list = nullptr; }
  Items(const Items&) = delete;
  Items& operator=(const Items&) = delete;
  ~Items() {
    if (list != nullptr) lib().g_list_free_full(list, lib().g_object_unref);
  }
};

template <class T>
struct Unref {
  T* object = nullptr;
  ~Unref() {
    if (object != nullptr) lib().g_object_unref(object);
  }
};

std::string locked_message() {
  return std::string(
             "the keyring holding claribi-bridge's secrets is locked; unlock it (log in to the "
             "desktop session, or unlock the 'login' keyring in Passwords and Keys / Seahorse) "
             "and try again") +
         k_fallback_hint;
}

/// A libsecret failure as an error a person can act on.
Error keyring_failure(const std::string& what, const ErrorHolder& e) {
  std::string text = e.text();
  std::string lowered = text;
  for (auto& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lowered.find("locked") != std::string::npos) return Error{locked_message()};
  return Error{what + ": " + text};
}

/// Without a session bus GLib would try to autolaunch one through X11; say what is missing
/// instead.
Result<void> check_session_bus() {
  const char* address = std::getenv("DBUS_SESSION_BUS_ADDRESS");
  if (address != nullptr && *address != '\0') return {};
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  struct stat st {};
  if (runtime != nullptr && ::stat((std::string(runtime) + "/bus").c_str(), &st) == 0 &&
      S_ISSOCK(st.st_mode)) {
    return {};
  }
  return fail(std::string("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so the "
                          "Secret Service keyring cannot be reached. Run claribi-bridge inside "
                          "your desktop session, or start one with dbus-run-session") +
              k_fallback_hint);
}

class LibsecretKeychain final : public Keychain {
 public:
  Result<std::optional<std::string>> get(const Key& key) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto items = search(key.account);
    if (!items) return tl::unexpected(items.error());
    bool locked = false;
    for (GList* l = items->list; l != nullptr; l = l->next) {
      auto* item = static_cast<SecretItem*>(l->data);
      if (lib().secret_item_get_locked(item)) {
        locked = true;
        continue;
      }
      ErrorHolder e;
      if (!lib().secret_item_load_secret_sync(item, nullptr, &e.error)) {
        return tl::unexpected(
            keyring_failure("could not read " + key.account + " from the keyring", e));
      }
      SecretValue* value = lib().secret_item_get_secret(item);
      if (value == nullptr) continue;
      gsize length = 0;
      const gchar* data = lib().secret_value_get(value, &length);
      std::string out(data, length);
      lib().secret_value_unref(value);
      return std::optional<std::string>(std::move(out));
    }
    if (locked) return fail(locked_message());
    return std::optional<std::string>();
  }

  Result<void> set(const Key& key, const std::string& secret) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto items = search(key.account);
    if (!items) return tl::unexpected(items.error());
    SecretValue* value =
        lib().secret_value_new(secret.data(), static_cast<gssize>(secret.size()), "text/plain");
    struct ValueRef {
      SecretValue* v;
      ~ValueRef() { lib().secret_value_unref(v); }
    } value_ref{value};
    for (GList* l = items->list; l != nullptr; l = l->next) {
      auto* item = static_cast<SecretItem*>(l->data);
      if (lib().secret_item_get_locked(item)) return fail(locked_message());
      ErrorHolder e;
      if (!lib().secret_item_set_secret_sync(item, value, nullptr, &e.error)) {
        return tl::unexpected(
            keyring_failure("could not update " + key.account + " in the keyring", e));
      }
      return {};
    }
    ErrorHolder e;
    Unref<SecretCollection> collection{lib().secret_collection_for_alias_sync(
        m_service, SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE, nullptr, &e.error)};
    if (collection.object == nullptr) {
      if (e.error != nullptr) return fail("could not open the default keyring: " + e.text());
      return fail(std::string("the Secret Service has no default keyring; create one (e.g. a "
                              "'login' keyring in Passwords and Keys / Seahorse)") +
                  k_fallback_hint);
    }
    if (lib().secret_collection_get_locked(collection.object)) return fail(locked_message());
    Attributes attributes = attributes_for(key.account);
    std::string label = "claribi-bridge: " + key.account;
    Unref<SecretItem> created{
        lib().secret_item_create_sync(collection.object, schema(), attributes.table, label.c_str(),
                                      value, SECRET_ITEM_CREATE_REPLACE, nullptr, &e.error)};
    if (created.object == nullptr) {
      return tl::unexpected(
          keyring_failure("could not store " + key.account + " in the keyring", e));
    }
    return {};
  }

  Result<void> remove(const Key& key) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto items = search(key.account);
    if (!items) return tl::unexpected(items.error());
    for (GList* l = items->list; l != nullptr; l = l->next) {
      auto* item = static_cast<SecretItem*>(l->data);
      if (lib().secret_item_get_locked(item)) return fail(locked_message());
      ErrorHolder e;
      if (!lib().secret_item_delete_sync(item, nullptr, &e.error)) {
        return tl::unexpected(
            keyring_failure("could not remove " + key.account + " from the keyring", e));
      }
    }
    return {};
  }

  Result<std::vector<std::string>> list(const std::string& prefix) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto items = search({});
    if (!items) return tl::unexpected(items.error());
    std::vector<std::string> out;
    for (GList* l = items->list; l != nullptr; l = l->next) {
      GHashTable* attrs = lib().secret_item_get_attributes(static_cast<SecretItem*>(l->data));
      const auto* account = static_cast<const char*>(lib().g_hash_table_lookup(attrs, "account"));
      if (account != nullptr) out.emplace_back(account);
      lib().g_hash_table_unref(attrs);
    }
    return with_prefix(std::move(out), prefix);
  }

  std::string backend_name() const override { return "libsecret (Secret Service)"; }

  ~LibsecretKeychain() override {
    if (m_service != nullptr) lib().g_object_unref(m_service);
  }

 private:
  static Attributes attributes_for(const std::string& account) {
    Attributes a;
    a.add("service", k_service);
    a.add("account", account);
    if (auto parsed = parse_account(account)) {
      a.add("server", parsed->server);
      a.add("kind", std::string(kind_name(parsed->kind)));
    }
    return a;
  }

  Result<void> connect() {
    if (m_service != nullptr) return {};
    if (auto bus = check_session_bus(); !bus) return bus;
    if (!lib().error.empty()) return fail(lib().error + k_fallback_hint);
    ErrorHolder e;
    m_service = lib().secret_service_get_sync(SECRET_SERVICE_OPEN_SESSION, nullptr, &e.error);
    if (m_service == nullptr) {
      return fail("cannot reach the Secret Service keyring (" + e.text() +
                  "). Start a keyring daemon such as gnome-keyring or KeePassXC's Secret "
                  "Service integration" +
                  k_fallback_hint);
    }
    return {};
  }

  /// Every item of ours for `account` (all of ours when empty), locked ones included and
  /// without their secrets: nothing here can raise an unlock prompt.
  Result<Items> search(const std::string& account) {
    if (auto c = connect(); !c) return tl::unexpected(c.error());
    Attributes attributes;
    attributes.add("service", k_service);
    if (!account.empty()) attributes.add("account", account);
    ErrorHolder e;
    Items items;
    items.list = lib().secret_service_search_sync(m_service, schema(), attributes.table,
                                                  SECRET_SEARCH_ALL, nullptr, &e.error);
    if (e.error != nullptr) {
      std::string text = e.text();
      if (text.find("org.freedesktop.secrets") != std::string::npos ||
          text.find("ServiceUnknown") != std::string::npos) {
        return fail("no Secret Service on the session bus (" + text +
                    "). Install and start gnome-keyring (or enable KeePassXC's Secret Service "
                    "integration)" +
                    k_fallback_hint);
      }
      return fail("the keyring search failed: " + text);
    }
    return items;
  }

  std::mutex m_mutex;
  SecretService* m_service = nullptr;
};

}  // namespace

Result<std::unique_ptr<Keychain>> make_platform_keychain() {
  return std::unique_ptr<Keychain>(std::make_unique<LibsecretKeychain>());
}

}  // namespace claribi::keychain
