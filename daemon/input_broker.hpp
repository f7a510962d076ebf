#pragma once

// input_required in both directions. A 2026-07-28 remote answering a 2025 client with
// input_required: the questions go to the client as requests, and the call is retried with
// the answers. A 2025 remote asking a 2026-07-28 client mid-call (elicitation, sampling,
// roots): the call is set aside and the client's request answered with input_required, until
// the client's retry carries the answers (its requestState names the call). Io thread only.

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "daemon/era.hpp"
#include "daemon/links.hpp"
#include "daemon/request_table.hpp"
#include "transport/remote.hpp"

namespace claribi::daemon {

class InputBroker {
 public:
  /// `client_capabilities`: the capabilities the client declared (compact JSON).
  InputBroker(asio::io_context& io, Links& links, RequestTable& table,
              std::function<std::string()> client_capabilities);

  /// Whether `id` is one of the questions the bridge put to the client.
  static bool is_question_id(const std::string& id);

  // A 2026-07-28 remote, a 2025 client.
  /// The remote answered `client_id` with input_required: ask the client, then retry.
  void start_round(const std::string& client_id, const json::Value& result);
  /// The client answered one of the questions.
  void on_answer(const jsonrpc::Message& m);
  /// Forgets the round of `client_id`, if any.
  void forget_round(const std::string& client_id);

  // A 2025 remote, a 2026-07-28 client.
  /// The remote asked the client `server_request` during the call `related`.
  void suspend_call(jsonrpc::Message&& server_request, const std::string& related);
  /// The client's retry of a set-aside call with the answers: true when it was one.
  bool resume_call(jsonrpc::Message& retry);
  /// The answer to a set-aside call came before the retry: kept for it. True when it was one.
  bool keep_final_answer(const std::string& upstream_id, std::string&& raw);

 private:
  /// One input_required round: the server's questions, put to the client as requests.
  struct Round {
    era::InputRequired asked;
    std::map<std::string, std::string> answers;                ///< key → bare result JSON
    std::unordered_map<std::string, std::string> outstanding;  ///< our request id → key
  };
  /// A call to a 2025 server held while its 2026-07-28 client answers the server's questions.
  struct Suspended {
    std::string upstream_id;  ///< the id the remote knows the call by
    Pending pending;          ///< the client request, set aside until the retry
    std::map<std::string, jsonrpc::Message> asked;  ///< key → the server's request
    std::string final_answer;  ///< the remote's answer, when it came before the retry
    std::unique_ptr<asio::steady_timer> timer;
  };

  void retry_with_answers(const std::string& client_id);
  void fail_round(const std::string& client_id, int code, const std::string& message);
  void answer_suspended(const std::string& state, const std::string& client_id);
  void end_suspended(const std::string& state, const std::string& why);
  std::string next_id(const char* prefix);

  asio::io_context& m_io;
  Links& m_links;
  RequestTable& m_table;
  std::function<std::string()> m_client_capabilities;
  int m_ids = 0;
  std::unordered_map<std::string, Round> m_rounds;                ///< by client request id
  std::unordered_map<std::string, std::string> m_question_of;     ///< our request id → client id
  std::unordered_map<std::string, Suspended> m_suspended;         ///< by requestState
  std::unordered_map<std::string, std::string> m_suspended_call;  ///< upstream id → state
  std::unordered_map<std::string, std::string> m_waiting_retry;   ///< state → client id
};

/// What the client must have declared to answer `method` (with `params`): the missing
/// capability's name, or empty when it can.
std::string missing_capability(const json::Value& caps, std::string_view method,
                               const std::string& params);

}  // namespace claribi::daemon
