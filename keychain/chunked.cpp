#include "keychain/keychain.hpp"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <random>
#include <thread>

namespace claribi::keychain {
namespace {

// First entry: "<magic> <generation> <parts> <length> <checksum>\n" then the first piece.
// Entry i > 0 (account "<account>#part<i>"): "<generation>\n" then piece i.
constexpr std::string_view k_magic = "claribi-chunks-v1 ";
constexpr std::size_t k_head_reserve = 96;
constexpr std::size_t k_part_reserve = 17;
constexpr std::string_view k_part_suffix = "#part";

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

struct Head {
  std::string generation;
  std::size_t parts = 1;
  std::size_t length = 0;
  std::string checksum;
  std::string first;
};

std::optional<Head> parse_head(const std::string& value) {
  if (value.compare(0, k_magic.size(), k_magic) != 0) return std::nullopt;
  auto nl = value.find('\n');
  if (nl == std::string::npos) return std::nullopt;
  char gen[17] = {};
  char sum[17] = {};
  unsigned long parts = 0;
  unsigned long long length = 0;
  std::string header = value.substr(k_magic.size(), nl - k_magic.size());
  if (std::sscanf(header.c_str(), "%16s %lu %llu %16s", gen, &parts, &length, sum) != 4 ||
      parts == 0 || parts > 100000) {
    return std::nullopt;
  }
  return Head{gen, parts, static_cast<std::size_t>(length), sum, value.substr(nl + 1)};
}

std::string part_account(const std::string& account, std::size_t i) {
  return account + std::string(k_part_suffix) + std::to_string(i);
}

class ChunkedKeychain final : public Keychain {
 public:
  ChunkedKeychain(std::unique_ptr<Keychain> inner, std::size_t max_part)
      : m_inner(std::move(inner)), m_max(max_part) {}

  Result<std::optional<std::string>> get(const Key& key) override {
    // A reader racing a writer sees mismatched generations; the writer is done in
    // milliseconds, so look again a few times before reporting it.
    for (int attempt = 0;; ++attempt) {
      bool torn = false;
      auto r = read(key, torn);
      if (!torn || attempt == 4) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(20 << attempt));
    }
  }

  Result<void> set(const Key& key, const std::string& secret) override {
    auto old = m_inner->get(key);
    if (!old) return tl::unexpected(old.error());
    std::size_t old_parts = 1;
    if (*old) {
      if (auto h = parse_head(**old)) old_parts = h->parts;
    }
    if (secret.size() + k_head_reserve <= m_max &&
        secret.compare(0, k_magic.size(), k_magic) != 0) {
      if (auto r = m_inner->set(key, secret); !r) return r;
      return remove_parts(key, 1, old_parts);
    }
    for (int attempt = 0; attempt < 4; ++attempt) {
      auto gen = hex64(std::random_device{}() * 4294967296ull + std::random_device{}());
      auto first_size = m_max - k_head_reserve;
      auto rest_size = m_max - k_part_reserve;
      std::size_t parts = 1 + (secret.size() - first_size + rest_size - 1) / rest_size;
      // Pieces first, the head last: until the head names the new generation, readers see
      // the old head with mismatching pieces (a torn value), never a wrong one.
      for (std::size_t i = 1; i < parts; ++i) {
        auto piece = secret.substr(first_size + (i - 1) * rest_size, rest_size);
        if (auto r = m_inner->set(Key{part_account(key.account, i)}, gen + "\n" + piece); !r) {
          return r;
        }
      }
      std::string head = std::string(k_magic) + gen + " " + std::to_string(parts) + " " +
                         std::to_string(secret.size()) + " " + hex64(fnv1a(secret)) + "\n" +
                         secret.substr(0, first_size);
      if (auto r = m_inner->set(key, head); !r) return r;
      // Another writer may have overwritten some pieces between ours and our head. If our
      // head is still current, make sure its pieces are ours; if not, the later writer owns
      // the entry.
      bool torn = false;
      auto check = read(key, torn);
      if (!check) {
        if (!torn) return tl::unexpected(check.error());
        auto now = m_inner->get(key);
        if (now && *now && parse_head(**now) && parse_head(**now)->generation != gen) {
          return {};  // a later write won; it is complete or being completed
        }
        continue;
      }
      return remove_parts(key, parts, old_parts);
    }
    return fail("could not store " + key.account +
                ": another process kept rewriting it. Try again.");
  }

  Result<void> remove(const Key& key) override {
    auto old = m_inner->get(key);
    if (!old) return tl::unexpected(old.error());
    std::size_t parts = 1;
    if (*old) {
      if (auto h = parse_head(**old)) parts = h->parts;
    }
    if (auto r = m_inner->remove(key); !r) return r;
    return remove_parts(key, 1, parts);
  }

  Result<std::vector<std::string>> list(const std::string& prefix) override {
    auto all = m_inner->list(prefix);
    if (!all) return all;
    std::vector<std::string> out;
    for (auto& a : *all) {
      if (a.find(k_part_suffix) == std::string::npos) out.push_back(std::move(a));
    }
    return out;
  }

  std::string backend_name() const override { return m_inner->backend_name(); }

 private:
  Result<std::optional<std::string>> read(const Key& key, bool& torn) {
    auto head_value = m_inner->get(key);
    if (!head_value || !*head_value) return head_value;
    auto head = parse_head(**head_value);
    if (!head) {
      if ((*head_value)->compare(0, k_magic.size(), k_magic) == 0) {
        return fail("the stored value of " + key.account + " is damaged; store it again");
      }
      return head_value;  // a value small enough for one entry, stored as it is
    }
    std::string value = head->first;
    for (std::size_t i = 1; i < head->parts; ++i) {
      auto piece = m_inner->get(Key{part_account(key.account, i)});
      if (!piece) return piece;
      if (!*piece ||
          (*piece)->compare(0, head->generation.size() + 1, head->generation + "\n") != 0) {
        torn = true;
        return fail("the value of " + key.account +
                    " is incomplete: another process was writing it. Try again; if this "
                    "persists, store it again.");
      }
      value.append(**piece, head->generation.size() + 1, std::string::npos);
    }
    if (value.size() != head->length || hex64(fnv1a(value)) != head->checksum) {
      torn = true;
      return fail("the value of " + key.account +
                  " does not match its checksum (a concurrent write?). Try again; if this "
                  "persists, store it again.");
    }
    return std::optional<std::string>(std::move(value));
  }

  Result<void> remove_parts(const Key& key, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      if (auto r = m_inner->remove(Key{part_account(key.account, i)}); !r) return r;
    }
    return {};
  }

  std::unique_ptr<Keychain> m_inner;
  std::size_t m_max;
};

}  // namespace

std::unique_ptr<Keychain> make_chunked_keychain(std::unique_ptr<Keychain> inner,
                                                std::size_t max_part) {
  return std::make_unique<ChunkedKeychain>(std::move(inner), max_part);
}

}  // namespace claribi::keychain
