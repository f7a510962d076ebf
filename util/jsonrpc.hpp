#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/json.hpp"
#include "util/result.hpp"

namespace claribi::jsonrpc {

namespace code {
constexpr int parse_error = -32700;
constexpr int invalid_request = -32600;
constexpr int method_not_found = -32601;
constexpr int invalid_params = -32602;
constexpr int internal_error = -32603;
/// Implementation-defined server errors: the bridge could not get an answer from the remote.
constexpr int remote_failed = -32000;
constexpr int request_timeout = -32001;
}  // namespace code

/// Classified by which members are present (method+id: request, method alone:
/// notification, id alone: response).
enum class Kind { request, notification, response };

struct Message {
  Kind kind = Kind::notification;
  std::string method;  ///< empty for responses
  std::string id;   ///< compact JSON text of the id (a string literal or a number); empty if none
  std::string raw;  ///< the message text on one line, as received except CR/LF whitespace
  json::Document doc;  ///< the parsed message
  /// `doc` lacks the strings of `raw` longer than k_longest_kept (see parse_body): it may be
  /// read, but make_whole must come before it is changed, copied or written out.
  bool trimmed = false;
};

/// parse_body with `trim`, and parse with a `trim_method`: a response, or a request of that
/// method, keeps no string over k_longest_kept bytes in its document. It costs its text and a
/// small document, rather than its text, the parser's copy of its longest string and the
/// document's copy of every string.
constexpr std::size_t k_longest_kept = std::size_t{64} << 10;

/// A string that is not JSON, or JSON that is not a JSON-RPC message. `id` is set when one
/// could be read, so the error can be answered to the right request.
struct Invalid {
  int code = code::parse_error;
  std::string message;
  std::string id;  ///< compact JSON of the id, or empty (answer with null)
};

/// Parses one JSON-RPC message. The text must be a single JSON object. With `trim_method`,
/// a request of that method over k_longest_kept bytes may be Message::trimmed.
tl::expected<Message, Invalid> parse(std::string text, std::string_view trim_method = {});

/// Parses a body that holds one message or a batch (array) of them. Each element of a batch
/// is re-serialized compactly; a single message keeps its own bytes, and with `trim` a large
/// one may be Message::trimmed.
tl::expected<std::vector<Message>, Invalid> parse_body(std::string text, bool trim = false);

/// Gives a trimmed message its whole document, parsed again from its text; else nothing.
void make_whole(Message& m);

/// A JSON-RPC error response line (no trailing newline). `id` is compact JSON or empty (null).
/// `data_json`, when not empty, is inserted as the error's data member.
std::string error_response(std::string_view id, int code, std::string_view message,
                           std::string_view data_json = {});

/// A request line: `id` and `params_json` are compact JSON (no params member when empty).
std::string request(std::string_view id, std::string_view method,
                    std::string_view params_json = {});
/// A notification line (no params member when `params_json` is empty).
std::string notification(std::string_view method, std::string_view params_json = {});
/// A result response line; `result_json` is compact JSON.
std::string result_response(std::string_view id, std::string_view result_json);
/// A result response carrying an MCP tool result with `isError` and one text item: how a
/// tool call fails so that the model, not only the client, reads why.
std::string tool_error_response(std::string_view id, std::string_view text);

/// Replaces CR and LF (which valid JSON only has as whitespace between tokens) with spaces,
/// so a valid JSON text fits on one stdio line.
void flatten(std::string& text);

/// Best effort: the top-level "id" of a JSON-RPC message of which only the first bytes
/// (`head`) and the last bytes (`tail`) were kept. Returns compact JSON text of the id.
std::optional<std::string> find_id(std::string_view head, std::string_view tail);

/// Puts `members` (object members as JSON text, without braces) first in the object that is
/// the value of `text`'s top-level member `key`, editing the text in place. False, and `text`
/// unchanged, when there is no such object.
bool add_first_members(std::string& text, std::string_view key, std::string_view members);

/// The compact JSON text of a value usable as an id (string or integer), else empty (also for
/// a string a trimmed document left out).
std::string id_text(const json::Value& v);

}  // namespace claribi::jsonrpc
