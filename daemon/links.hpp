#pragma once

// The two directions a unit of the session core may send in, without knowing the router,
// the stdout writer or the remote: the router implements it, tests fake it.

#include <memory>
#include <string>

#include "transport/http_worker.hpp"
#include "util/jsonrpc.hpp"

namespace claribi::daemon {

class Links {
 public:
  virtual ~Links() = default;
  /// One line to the client (stdout).
  virtual void to_client(std::string line) = 0;
  /// A JSON-RPC error answer to the client's request `id`.
  virtual void reply_error(const std::string& id, int code, const std::string& message) = 0;
  /// A message to the remote (held while credentials are looked up).
  virtual void to_remote(jsonrpc::Message&& m,
                         std::shared_ptr<const transport::UploadBody> upload = nullptr) = 0;
  /// Forgets a client request and everything it holds, closing its upstream transfer.
  virtual void drop(const std::string& client_id) = 0;
  /// A client message, routed again (one held until the remote's era was known).
  virtual void from_client(jsonrpc::Message&& m) = 0;
  /// A message from the remote, handled as if it had just come (`related`: the request
  /// whose response stream carried it).
  virtual void from_remote(jsonrpc::Message&& m, const std::string& related) = 0;
};

}  // namespace claribi::daemon
