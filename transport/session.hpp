#pragma once

#include <cstddef>
#include <string_view>

namespace claribi::transport {

/// The longest `Mcp-Session-Id` taken from a remote. The spec sets no length; ids seen in
/// the wild are UUIDs or a few dozen characters, and each one travels on every request.
constexpr std::size_t k_max_session_id = 256;

/// Whether the error answer (`status`, `body`) to a request that carried `Mcp-Session-Id`
/// says the remote no longer knows that session: a 404, as the spec says, or a 400 whose body
/// names the session as invalid, unknown, missing or expired, as the official TypeScript
/// SDK's examples (and server-everything) answer after a restart.
bool says_session_lost(long status, std::string_view body);

/// Why `id` cannot be an `Mcp-Session-Id` (visible ASCII 0x21-0x7E only, at most
/// k_max_session_id bytes), or empty when it can.
std::string_view session_id_problem(std::string_view id);

}  // namespace claribi::transport
