#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "transport/http_transport.hpp"
#include "transport/remote_options.hpp"

namespace claribi::transport {

/// How every request to the remote is made: its limits and TLS options, and the headers each
/// one carries (the user's, with the Authorization in force). Session headers are the
/// session's to add.
class RequestFactory {
 public:
  /// `options` must outlive the factory.
  explicit RequestFactory(const RemoteOptions& options);

  /// A `method` request to `url` with the user's headers, Accept, and Content-Type when it
  /// carries a JSON body.
  HttpRequest make(std::string method, const std::string& url, std::string_view accept,
                   bool json_body) const;

  const RemoteOptions& options() const { return m_options; }

  /// Replaces the Authorization header of every later request.
  void set_authorization(const std::string& value);

  /// The Authorization value sent now, or null. Each message keeps the one it went out with
  /// (a shared pointer, so that costs no copy per message).
  const std::shared_ptr<const std::string>& authorization() const { return m_authorization; }

 private:
  const RemoteOptions& m_options;
  std::vector<std::string> m_headers;  ///< "Name: value", the user's
  std::shared_ptr<const std::string> m_authorization;
};

}  // namespace claribi::transport
