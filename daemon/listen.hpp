#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "util/json.hpp"
#include "util/jsonrpc.hpp"
#include "util/result.hpp"

/// Change notifications across the two eras. A 2026-07-28 server sends them only on a
/// `subscriptions/listen` stream, for what the filter asks; a 2025 server sends them to
/// everyone, and takes resources/subscribe. Io thread only.
namespace claribi::daemon {

/// A subscriptions/listen filter (2026-07-28).
struct ListenFilter {
  bool tools = false;
  bool prompts = false;
  bool resources = false;
  std::set<std::string> uris;  ///< resourceSubscriptions

  static ListenFilter parse(const json::Value* notifications);
  /// What a server with these capabilities (its result's `capabilities`) can deliver of it.
  ListenFilter honored_by(const json::Value* capabilities) const;
  bool empty() const { return !tools && !prompts && !resources && uris.empty(); }
  std::string to_json() const;
  /// Whether a change notification (method, and for resources/updated its uri) is wanted.
  bool accepts(std::string_view method, std::string_view uri) const;
};

/// Whether this notification method is one a listen filter governs.
bool is_change_notification(std::string_view method);

/// A 2025 client in front of a 2026-07-28 remote. The client expects list changes unasked
/// and subscribes to resources one by one; the remote wants one subscriptions/listen stream
/// with the whole filter. This keeps exactly one stream open for the current filter: a
/// change of filter opens a new stream and closes the old one once the new one is
/// acknowledged (nothing is lost in between, nothing comes twice); a stream that ends is
/// reopened with backoff.
class UpstreamListen {
 public:
  struct Hooks {
    /// Send `subscriptions/listen` with this id (compact JSON) and params.notifications.
    std::function<void(const std::string& id, const std::string& filter_json)> open;
    /// Close the stream of this listen request.
    std::function<void(const std::string& id)> close;
    /// A notification for the client (one JSON line).
    std::function<void(std::string&& line)> to_client;
  };

  UpstreamListen(asio::io_context& io, Hooks hooks);

  /// The client's session began; `capabilities` is the remote's (from server/discover).
  void start(const json::Value* capabilities);
  /// resources/subscribe (or unsubscribe): `done` runs when the remote acknowledged the
  /// new filter, with an error when it did not take the resource.
  void change(const std::string& uri, bool subscribe, std::function<void(Result<void>)> done);
  /// A message from the remote: true when it belonged to a listen stream (and was handled).
  bool on_remote_message(jsonrpc::Message& m);
  /// A listen request failed on the way (network, HTTP status): true when it was one.
  bool on_failure(const std::string& id, const std::string& why);
  void stop();

 private:
  struct Stream {
    int generation = 0;
    bool acked = false;
  };
  struct Waiter {
    int generation = 0;
    std::string uri;
    bool subscribe = true;
    std::function<void(Result<void>)> done;
  };
  void open_stream();
  void on_ack(const std::string& id, const json::Value* params);
  void on_end(const std::string& id, const std::string& why, bool refused);
  void settle(int generation, const ListenFilter* honored, const std::string& error);
  void reopen_later();

  asio::io_context& m_io;
  Hooks m_hooks;
  asio::steady_timer m_timer;
  bool m_started = false;
  bool m_stopped = false;
  ListenFilter m_wanted;
  std::map<std::string, Stream> m_streams;  ///< open listen requests by id
  std::string m_current;                    ///< the newest stream's id
  int m_generation = 0;
  int m_counter = 0;
  int m_failures = 0;
  std::string m_refused;  ///< the remote refused listen itself: do not retry this filter
  std::vector<Waiter> m_waiters;
};

/// A 2026-07-28 client in front of a 2025 remote: the bridge answers the client's
/// subscriptions/listen itself (acknowledgement, graceful end) and hands each change
/// notification the remote sends to the subscriptions that asked for it, stamped with their
/// id. Resource subscriptions become resources/subscribe and unsubscribe upstream.
class LocalListen {
 public:
  struct Hooks {
    std::function<void(std::string&& line)> to_client;
    /// Send resources/subscribe or resources/unsubscribe for this uri to the remote; `done`
    /// gets its outcome.
    std::function<void(const std::string& method, const std::string& uri,
                       std::function<void(Result<void>)> done)>
        to_remote;
  };
  explicit LocalListen(Hooks hooks) : m_hooks(std::move(hooks)) {}

  /// The remote's initialize result capabilities, which bound every honored filter.
  void set_capabilities(const json::Value* capabilities);
  /// The client's subscriptions/listen request.
  void listen(const jsonrpc::Message& request);
  /// notifications/cancelled naming a subscription: true when it was one.
  bool cancel(const std::string& id);
  /// A notification from the remote: true when it was a change notification (delivered to
  /// the subscriptions that want it, or dropped when none does).
  bool on_remote_notification(const jsonrpc::Message& m);

 private:
  struct Subscription {
    ListenFilter honored;
    bool acked = false;
    int waiting = 0;  ///< upstream resources/subscribe not yet answered
  };
  void ack(const std::string& id);
  void release(const std::set<std::string>& uris);

  Hooks m_hooks;
  std::string m_capabilities = "{}";
  std::map<std::string, Subscription> m_subs;  ///< by listen request id (compact JSON)
  std::map<std::string, int> m_uri_users;      ///< resource → subscriptions that want it
};

}  // namespace claribi::daemon
