#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "util/json.hpp"

namespace claribi::test {

/// Parses JSON text a test wrote; the test fails if it does not parse.
inline json::Document doc(const std::string& text) {
  json::Document d;
  REQUIRE(json::parse(d, text));
  return d;
}

}  // namespace claribi::test
