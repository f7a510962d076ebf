// json::parse, the one parse of outside JSON (iterative, depth-bounded), and the way back:
// what json::to_string and json::to_pretty_string write parses again to the same value. The
// trimming parse (strings over a bound left out) accepts and refuses exactly what the whole
// parse does, and gives the same value but for the strings over its bound.
//
// Input: one JSON text.
#include "tests/fuzz/fuzz_input.hpp"
#include "util/json.hpp"

#include <cmath>
#include <string>

using namespace claribi;

namespace {

/// Equal values; doubles within a rounding step, since RapidJSON's default number parsing
/// is not correctly rounded and so need not give back the very double that was written.
bool same(const json::Value& a, const json::Value& b) {
  if (a.GetType() != b.GetType()) return false;
  if (a.IsNumber()) {
    if (a.IsDouble() != b.IsDouble()) return false;
    if (!a.IsDouble()) return a == b;
    double x = a.GetDouble();
    double y = b.GetDouble();
    return x == y || std::fabs(x - y) <= 1e-12 * std::fmax(std::fabs(x), std::fabs(y));
  }
  if (a.IsString()) return a == b;
  if (a.IsArray()) {
    if (a.Size() != b.Size()) return false;
    for (rapidjson::SizeType i = 0; i < a.Size(); ++i) {
      if (!same(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.IsObject()) {
    if (a.MemberCount() != b.MemberCount()) return false;
    for (auto i = a.MemberBegin(), j = b.MemberBegin(); i != a.MemberEnd(); ++i, ++j) {
      if (i->name != j->name || !same(i->value, j->value)) return false;
    }
    return true;
  }
  return a == b;  // null, true, false
}

/// `whole` with every string (and key) longer than `longest` read as json::k_trimmed.
bool same_but_trimmed(const json::Value& whole, const json::Value& t, std::size_t longest) {
  auto same_string = [&](const json::Value& a, const json::Value& b) {
    if (a.GetStringLength() > longest) return b.GetString() == json::k_trimmed;
    return b.GetString() != json::k_trimmed && a == b;
  };
  if (whole.GetType() != t.GetType()) return false;
  if (whole.IsString()) return same_string(whole, t);
  if (whole.IsArray()) {
    if (whole.Size() != t.Size()) return false;
    for (rapidjson::SizeType i = 0; i < whole.Size(); ++i) {
      if (!same_but_trimmed(whole[i], t[i], longest)) return false;
    }
    return true;
  }
  if (whole.IsObject()) {
    if (whole.MemberCount() != t.MemberCount()) return false;
    for (auto i = whole.MemberBegin(), j = t.MemberBegin(); i != whole.MemberEnd(); ++i, ++j) {
      if (!same_string(i->name, j->name) || !same_but_trimmed(i->value, j->value, longest)) {
        return false;
      }
    }
    return true;
  }
  return whole == t;  // numbers are read by the same code either way
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = fuzz::as_text(data, size);
  json::Document doc;
  auto parsed = json::parse(doc, text);

  const std::size_t longest = size % 8;  // some strings trimmed in most inputs
  json::Document trimmed_doc;
  bool trimmed = false;
  auto trimmed_parse = json::parse(trimmed_doc, text, longest, trimmed);
  fuzz::check(static_cast<bool>(trimmed_parse) == static_cast<bool>(parsed),
              "the trimming parse accepts what the whole parse accepts");
  if (!parsed && !trimmed_parse) {
    fuzz::check(trimmed_parse.error().offset == parsed.error().offset &&
                    trimmed_parse.error().message == parsed.error().message,
                "the trimming parse stops where the whole parse does, saying the same");
  }
  if (parsed && trimmed_parse) {
    fuzz::check(same_but_trimmed(doc, trimmed_doc, longest), "the trimming parse keeps the rest");
  }

  if (!parsed) {
    fuzz::check(doc.IsNull(), "a failed parse leaves null");
    fuzz::check(parsed.error().offset <= text.size(), "the error offset lies within the text");
    fuzz::check(json::parse_or_null(text).IsNull(), "parse_or_null of non-JSON is null");
    return 0;
  }
  auto compact = json::to_string(doc);
  json::Document again;
  fuzz::check(static_cast<bool>(json::parse(again, compact)), "to_string writes JSON");
  fuzz::check(same(doc, again), "to_string keeps the value");

  auto pretty = json::to_pretty_string(doc);
  json::Document from_pretty;
  fuzz::check(static_cast<bool>(json::parse(from_pretty, pretty)), "to_pretty_string writes JSON");
  fuzz::check(same(doc, from_pretty), "to_pretty_string keeps the value");

  if (doc.IsString()) {
    auto quoted = json::quote({doc.GetString(), doc.GetStringLength()});
    fuzz::check(quoted == compact, "quote writes a string as to_string does");
  }
  return 0;
}
