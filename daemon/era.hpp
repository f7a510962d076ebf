#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/json.hpp"
#include "util/jsonrpc.hpp"
#include "util/result.hpp"

/// Translation between the 2025 revisions (initialize, sessions, server-to-client requests)
/// and 2026-07-28 (stateless: `_meta` on every request, server/discover, input_required).
/// Pure functions over JSON; the Bridge decides when to use them.
namespace claribi::daemon::era {

/// Which revisions the bridge may speak to the remote (--protocol).
enum class Pin { auto_detect, modern, legacy };

/// Who the client is, as the `_meta` envelope of 2026-07-28 says it: its capabilities and
/// info (compact JSON objects, or empty), and the log level it asked for (or empty).
struct ClientIdentity {
  std::string capabilities = "{}";
  std::string info;
  std::string log_level;
};

/// The identity a 2025 client gave in its initialize params.
ClientIdentity identity_from_initialize(const json::Value* params);
/// The identity a 2026 client's request carries in its `_meta`, its capabilities without the
/// Tasks extension (what the bridge offers a 2025 server for it).
ClientIdentity identity_from_meta(const json::Value& message);

/// The `_meta` object of a request at revision 2026-07-28 from this identity (compact JSON).
std::string envelope(const ClientIdentity& who);

/// Adds the envelope keys to the request's params._meta (keeping the client's own keys, such
/// as progressToken and the trace context of SEP-414: traceparent, tracestate, baggage) and
/// returns the new text.
std::string stamp(json::Document& message, const ClientIdentity& who);

/// Removes the envelope keys (io.modelcontextprotocol/*) from params._meta, for a 2025
/// server, and returns the new text; every other key (trace context) stays.
std::string strip(json::Document& message);

/// A 2025 initialize result (compact JSON) from a server/discover result: the client's
/// requested version when the bridge speaks it, the server's capabilities (extensions
/// unchanged but the Tasks one), info, instructions and the `_meta` keys that are not
/// reserved (trace context).
std::string initialize_result(const json::Value& discover_result,
                              std::string_view requested_version);

/// An initialize request's params for a 2025 server, made from a 2026 client's identity.
std::string initialize_params(const ClientIdentity& who);

/// A server/discover result (compact JSON) from a 2025 server's initialize result: its
/// capabilities (extensions unchanged but the Tasks one), instructions, and `_meta` with the
/// server info beside the initialize result's own keys (trace context).
std::string discover_result(const json::Value& initialize_result);

/// One request the server embedded in an input_required result.
struct InputRequest {
  std::string key;
  std::string method;
  std::string params;  ///< compact JSON, or empty
};

/// An input_required result: what to ask the client, and the state to echo.
struct InputRequired {
  std::vector<InputRequest> requests;
  bool has_state = false;
  std::string state;  ///< byte-exact requestState
};

/// A 2025 server's response to `method` for a 2026-07-28 client: results must say
/// `resultType` (one without it is complete), and cacheable ones (lists, resources/read)
/// `ttlMs` and `cacheScope`: the conservative 0 and "private", since a 2025 server gives no
/// hint. Returns whether the message changed.
bool mark_complete(json::Document& response, std::string_view method);
/// mark_complete on a message, its text included. A trimmed message's text gets the members
/// in place (jsonrpc::add_first_members), so a large answer is not written out again.
bool mark_complete(jsonrpc::Message& response, std::string_view method);

/// The Tasks extension of 2026-07-28 (SEP-2663).
constexpr const char* k_tasks_extension = "io.modelcontextprotocol/tasks";
/// Whether a result is a Tasks extension handle (resultType "task").
bool is_task_handle(const json::Value& result);
/// Removes a 2025 task augmentation (params.task) from a request, which a server that did not
/// offer tasks must ignore (2025-11-25); returns whether there was one.
bool strip_task_augmentation(json::Document& request);

/// Whether a result asks for input (resultType "input_required"); absent means complete.
bool is_input_required(const json::Value& result);
Result<InputRequired> parse_input_required(const json::Value& result);

/// The retry of `original` (a request's text) with a new id and the answers: params gain
/// inputResponses (key → bare result JSON) and, when the server sent one, requestState.
/// Earlier rounds' inputResponses and requestState are replaced.
std::string retry_request(const std::string& original, const std::string& new_id,
                          const std::map<std::string, std::string>& responses,
                          const InputRequired& asked);

}  // namespace claribi::daemon::era
