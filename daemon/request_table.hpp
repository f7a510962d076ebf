#pragma once

// The client's requests in flight: what each is, the id the remote knows it by when that
// differs (a retry after input_required, a resumed call), its timeout, which progress token
// it owns, and how many file bytes its path twin sent. Knows nothing about eras. Io thread
// only.

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "transport/http_worker.hpp"

namespace claribi::daemon {

struct Pending {
  std::string method;
  std::string upstream_id;  ///< the id the remote knows it by, when not the client's
  std::string raw;          ///< the request as sent upstream, for input_required retries
  std::shared_ptr<const transport::UploadBody> upload;  ///< its file, when a path twin sent one
  int input_rounds = 0;
  std::string tool;  ///< tools/call: the tool's name
  std::string progress_token;
  std::uint64_t uploaded = 0;  ///< file bytes a path twin sent; offsets the server's progress
  std::unique_ptr<asio::steady_timer> timer;
};

class RequestTable {
 public:
  /// `timeout_ms` per request, restarted by progress (0: none); `on_timeout` gets the
  /// client id of a request that ran out of time (still in the table).
  RequestTable(asio::io_context& io, long timeout_ms,
               std::function<void(const std::string&)> on_timeout);

  bool has(const std::string& id) const { return m_pending.count(id) != 0; }
  Pending* find(const std::string& id);
  std::size_t size() const { return m_pending.size(); }
  /// Nothing in flight but listen streams (which last as long as the client wants).
  bool only_listens() const;

  /// Adds a request, or puts a set-aside one back under a new id (its timer armed, its
  /// progress token owned).
  Pending& add(const std::string& id, Pending p);
  /// Restarts the request's timeout (progress, an upload that moves, a retry).
  void arm(const std::string& id);
  /// Stops the request's timeout without forgetting it (a person may take a while).
  void disarm(const std::string& id);
  /// Removes it; when the table drains, freed memory goes back to the system a moment later.
  void forget(const std::string& id);
  /// Removes it and hands it over (a call set aside while its client answers questions).
  std::optional<Pending> take(const std::string& id);

  /// The id the remote knows `client_id` by.
  std::string upstream_id_of(const std::string& client_id) const;
  /// From now on the remote knows `client_id` by `upstream_id`; its answer is renamed back.
  void rename_upstream(const std::string& client_id, const std::string& upstream_id);
  /// The client id an answer to `upstream_id` belongs to, when it was renamed (consumed).
  std::optional<std::string> take_alias(const std::string& upstream_id);
  void forget_alias(const std::string& upstream_id) { m_alias.erase(upstream_id); }
  /// The client id of the request the remote knows as `upstream_id`.
  std::string client_of(const std::string& upstream_id) const;
  /// The request that owns a progress token, if it is still in flight.
  std::string progress_owner(const std::string& token) const;

  /// Empties the table, calling `each` for every request (shutdown).
  void clear(const std::function<void(const std::string&)>& each);

 private:
  void arm(const std::string& id, Pending& p);

  asio::io_context& m_io;
  long m_timeout_ms;
  std::function<void(const std::string&)> m_on_timeout;
  std::unordered_map<std::string, Pending> m_pending;             ///< by client id
  std::unordered_map<std::string, std::string> m_progress_owner;  ///< progress token → id
  std::unordered_map<std::string, std::string> m_alias;           ///< upstream id → client id
  /// Runs when the table stayed empty a moment after it drained: freed memory goes back to
  /// the system, so a burst does not leave the process at its high-water mark.
  asio::steady_timer m_trim_timer;
};

}  // namespace claribi::daemon
