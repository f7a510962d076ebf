#include "transport/modern.hpp"

#include "tests/unit/json_doc.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace modern = claribi::transport::modern;

using claribi::test::doc;

TEST_CASE("header values are plain when safe and base64 sentinels otherwise", "[modern]") {
  CHECK(modern::encode_header_value("us-west1") == "us-west1");
  CHECK(modern::encode_header_value("us west 1") == "us west 1");
  CHECK(modern::encode_header_value(" padded ") == "=?base64?IHBhZGRlZCA=?=");
  CHECK(modern::encode_header_value("line1\nline2") == "=?base64?bGluZTEKbGluZTI=?=");
  CHECK(modern::encode_header_value("Hello, \xe4\xb8\x96\xe7\x95\x8c") ==
        "=?base64?SGVsbG8sIOS4lueVjA==?=");
  CHECK(modern::encode_header_value("\tindented") == "=?base64?CWluZGVudGVk?=");
  // An empty value would vanish as a header; a value shaped like a sentinel is ambiguous.
  CHECK(modern::encode_header_value("") == std::string("=?base64?") + "?=");
  CHECK(modern::encode_header_value("=?base64?eA==?=") == "=?base64?PT9iYXNlNjQ/ZUE9PT89?=");
}

TEST_CASE("standard headers name the method and the target", "[modern]") {
  auto call = doc(R"({"method":"tools/call","params":{"name":"my-tool","arguments":{}}})");
  CHECK(modern::standard_headers("tools/call", call) ==
        std::vector<std::string>{"Mcp-Method: tools/call", "Mcp-Name: my-tool"});
  auto read = doc(R"({"method":"resources/read","params":{"uri":"file:///a%20b.txt"}})");
  CHECK(modern::standard_headers("resources/read", read) ==
        std::vector<std::string>{"Mcp-Method: resources/read", "Mcp-Name: file:///a%20b.txt"});
  auto list = doc(R"({"method":"tools/list","params":{"name":"not a target"}})");
  CHECK(modern::standard_headers("tools/list", list) ==
        std::vector<std::string>{"Mcp-Method: tools/list"});
  auto meta =
      doc(R"({"params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}})");
  CHECK(modern::envelope_version(meta) == "2026-07-28");
  CHECK(modern::envelope_version(call).empty());
}

TEST_CASE("x-mcp-header declarations become Mcp-Param headers", "[modern]") {
  auto schema = doc(R"({"type":"object","properties":{
      "region":{"type":"string","x-mcp-header":"Region"},
      "priority":{"type":"integer","x-mcp-header":"Priority"},
      "verbose":{"type":"boolean","x-mcp-header":"Verbose"},
      "nested":{"type":"object","properties":{"id":{"type":"string","x-mcp-header":"Id"}}},
      "query":{"type":"string"}}})");
  auto params = modern::scan_header_params(schema);
  REQUIRE(params);
  REQUIRE(params->size() == 4);
  auto args = doc(R"({"region":"us-west1","priority":42,"verbose":null,"nested":{"id":" x"},
      "query":"SELECT 1"})");
  CHECK(modern::param_headers(*params, &args) ==
        std::vector<std::string>{"Mcp-Param-Region: us-west1", "Mcp-Param-Priority: 42",
                                 "Mcp-Param-Id: =?base64?IHg=?="});
  auto flags = doc(R"({"verbose":false})");
  CHECK(modern::param_headers(*params, &flags) ==
        std::vector<std::string>{"Mcp-Param-Verbose: false"});
  CHECK(modern::param_headers(*params, nullptr).empty());
}

TEST_CASE("invalid x-mcp-header declarations make the tool invalid", "[modern]") {
  auto invalid = [](const std::string& properties) {
    auto schema = doc(R"({"type":"object","properties":)" + properties + "}");
    return !modern::scan_header_params(schema);
  };
  CHECK(invalid(R"({"v":{"type":"string","x-mcp-header":""}})"));
  CHECK(invalid(R"({"v":{"type":"object","x-mcp-header":"Data"}})"));
  CHECK(invalid(R"({"v":{"type":"array","items":{"type":"string"},"x-mcp-header":"Items"}})"));
  CHECK(invalid(R"({"v":{"type":"null","x-mcp-header":"Nil"}})"));
  CHECK(invalid(R"({"v":{"type":"number","x-mcp-header":"Score"}})"));
  CHECK(invalid(R"({"a":{"type":"string","x-mcp-header":"Region"},
                    "b":{"type":"string","x-mcp-header":"region"}})"));
  CHECK(invalid(R"({"v":{"type":"string","x-mcp-header":"My Region"}})"));
  CHECK(invalid(R"({"v":{"type":"string","x-mcp-header":"Region:Primary"}})"));
  CHECK(invalid(R"({"v":{"type":"string","x-mcp-header":"R\u00e9gion"}})"));
  CHECK(invalid(R"({"v":{"type":"string","x-mcp-header":"Region\t1"}})"));
  CHECK(invalid(R"({"v":{"type":"array","items":{"type":"string","x-mcp-header":"Deep"}}})"));
  CHECK_FALSE(invalid(R"({"v":{"type":"string","x-mcp-header":"Region"}})"));
}

// Found by fuzz_tool_layer: a method holding CR LF added header lines to the request.
TEST_CASE("the Mcp-Method header never carries a line break") {
  auto d = doc(R"({"jsonrpc":"2.0","id":1,"method":"x\r\nInjected: 1","params":{}})");
  auto h = claribi::transport::modern::standard_headers("x\r\nInjected: 1", d);
  REQUIRE_FALSE(h.empty());
  for (const auto& line : h) {
    CHECK(line.find('\r') == std::string::npos);
    CHECK(line.find('\n') == std::string::npos);
  }
}
