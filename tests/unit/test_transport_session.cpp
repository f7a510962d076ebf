#include "transport/session.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace claribi::transport;

TEST_CASE("a 404, or a 400 that names the session as gone, means the session is lost") {
  CHECK(says_session_lost(404, ""));
  CHECK(says_session_lost(
      400,
      R"({"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"},"id":null})"));
  CHECK(says_session_lost(400, "Invalid or expired session"));
  CHECK(says_session_lost(400, "Unknown SESSION id"));
  CHECK(says_session_lost(400, "Mcp-Session-Id header missing"));
  CHECK(says_session_lost(400, "session not found"));
}

TEST_CASE("other 400s and other statuses are not a lost session") {
  CHECK_FALSE(says_session_lost(400, ""));
  CHECK_FALSE(says_session_lost(400, R"({"error":"invalid params: name missing"})"));
  CHECK_FALSE(says_session_lost(400, "session ok, but the request is malformed"));
  CHECK_FALSE(says_session_lost(401, "invalid session token"));
  CHECK_FALSE(says_session_lost(500, "unknown session"));
  // Only the start of a body is read: a word far inside a large body does not count.
  CHECK_FALSE(says_session_lost(400, std::string(5000, ' ') + "unknown session"));
}

TEST_CASE("session ids are visible ASCII and bounded") {
  CHECK(session_id_problem("3f2a9c1e-7b4d-4e8a-9f00-123456789abc").empty());
  CHECK(session_id_problem(std::string(k_max_session_id, 'a')).empty());
  CHECK_FALSE(session_id_problem(std::string(k_max_session_id + 1, 'a')).empty());
  CHECK_FALSE(session_id_problem("abc def").empty());
  CHECK_FALSE(session_id_problem("abc\r\nX-Injected: 1").empty());
  CHECK_FALSE(session_id_problem(std::string("a\0b", 3)).empty());
  CHECK_FALSE(session_id_problem("caf\xc3\xa9").empty());
}
