#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/json.hpp"
#include "util/result.hpp"

namespace claribi::daemon {

/// CLARIBI_API_KEY as a client delivers it. A .mcpb bundle's optional setting that the user
/// left empty arrives as the literal text "${user_config.NAME}"; that and an empty value mean
/// "not set". A value starting with "__encrypted__:" means the client failed to decrypt a
/// sensitive setting: an error, never a key.
Result<std::optional<std::string>> api_key_from_env(const std::optional<std::string>& value);

/// Where the remote's Authorization comes from, strongest first.
enum class CredentialSource { header, environment, keychain, minted, oauth, none };
std::string_view source_name(CredentialSource s);

/// A tool whose result may carry a newly minted credential, and how to recognise it: a
/// key prefix (followed by token characters) and/or the name of a result field holding it.
struct CaptureRule {
  std::string tool;
  std::string key_prefix;  ///< e.g. "claribi_mcp_"
  std::string key_field;   ///< e.g. "api_key"
};

/// clariBI's: verify_email returns a claribi_mcp_ key (field api_key) and an access token.
CaptureRule default_capture_rule();

/// Parses "TOOL=PREFIX" or "TOOL=field:NAME" (--capture-key).
Result<CaptureRule> parse_capture_rule(std::string_view text);

struct Minted {
  std::string api_key;       ///< empty when none was found
  std::string access_token;  ///< "access_token" in the result: for the current session
};

/// Looks through a tools/call response (`result`: structuredContent, text content, any
/// string) for credentials the rule describes.
std::optional<Minted> find_minted(const CaptureRule& rule, const json::Value& response);

/// Replaces every occurrence of the minted values in the response's strings by notes.
void redact_minted(json::Document& response, const Minted& minted, std::string_view key_note,
                   std::string_view token_note);

}  // namespace claribi::daemon
