#pragma once

// The one place RapidJSON is included, so a later upgrade touches one file.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <tl/expected.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace claribi::json {

using Document = rapidjson::Document;
using Value = rapidjson::Value;

/// The deepest nesting of arrays and objects accepted from anywhere. Serializing and copying
/// a value recurse once per level, so this bounds the stack those use too.
constexpr unsigned k_max_depth = 512;

struct ParseError {
  std::string message;     ///< "Invalid value.", "nesting deeper than 512 levels", ...
  std::size_t offset = 0;  ///< the byte where parsing stopped
};

namespace detail {

/// Forwards RapidJSON's SAX events to a Document, refusing nesting deeper than a limit.
class DepthLimited {
 public:
  explicit DepthLimited(Document& doc) : m_doc(doc) {}
  bool Null() { return m_doc.Null(); }
  bool Bool(bool b) { return m_doc.Bool(b); }
  bool Int(int i) { return m_doc.Int(i); }
  bool Uint(unsigned i) { return m_doc.Uint(i); }
  bool Int64(int64_t i) { return m_doc.Int64(i); }
  bool Uint64(uint64_t i) { return m_doc.Uint64(i); }
  bool Double(double d) {
    // RapidJSON 1.1 yields infinity between DBL_MAX and 1e309, which no writer can write.
    if (!std::isfinite(d)) {
      m_out_of_range = true;
      return false;
    }
    return m_doc.Double(d);
  }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) {
    return m_doc.RawNumber(s, n, copy);
  }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return m_doc.String(s, n, copy); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return m_doc.Key(s, n, copy); }
  bool StartObject() { return enter() && m_doc.StartObject(); }
  bool EndObject(rapidjson::SizeType n) {
    --m_depth;
    return m_doc.EndObject(n);
  }
  bool StartArray() { return enter() && m_doc.StartArray(); }
  bool EndArray(rapidjson::SizeType n) {
    --m_depth;
    return m_doc.EndArray(n);
  }
  bool too_deep() const { return m_too_deep; }
  bool out_of_range() const { return m_out_of_range; }

 private:
  bool enter() {
    if (++m_depth <= k_max_depth) return true;
    m_too_deep = true;
    return false;
  }
  Document& m_doc;
  unsigned m_depth = 0;
  bool m_too_deep = false;
  bool m_out_of_range = false;
};

}  // namespace detail

/// Parses `text` (all of it, one JSON value) into `doc`, which is null on failure. Every parse
/// of outside input goes through here: RapidJSON's iterative parser keeps the stack flat
/// whatever the input, and nesting deeper than k_max_depth is refused.
inline tl::expected<void, ParseError> parse(Document& doc, std::string_view text) {
  rapidjson::ParseResult result;
  bool too_deep = false;
  bool out_of_range = false;
  auto generate = [&](Document& target) {
    detail::DepthLimited handler(target);
    rapidjson::MemoryStream ms(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
    rapidjson::Reader reader;
    result = reader.Parse<rapidjson::kParseIterativeFlag>(is, handler);
    too_deep = handler.too_deep();
    out_of_range = handler.out_of_range();
    // RapidJSON takes a NUL for the end of the text: what follows one must not pass unseen.
    if (!result.IsError() && is.Tell() != text.size()) {
      result.Set(rapidjson::kParseErrorDocumentRootNotSingular, is.Tell());
    }
    return !result.IsError();
  };
  doc.SetNull();
  doc.Populate(generate);
  if (!result.IsError()) return {};
  doc.SetNull();
  if (too_deep) {
    return tl::unexpected(ParseError{
        "nesting deeper than " + std::to_string(k_max_depth) + " levels", result.Offset()});
  }
  if (out_of_range) {
    return tl::unexpected(ParseError{"a number beyond the range of a double", result.Offset()});
  }
  return tl::unexpected(ParseError{rapidjson::GetParseError_En(result.Code()), result.Offset()});
}

/// `v` as an integer in [lo, hi] (fractions dropped, out-of-range values clamped), or
/// `fallback` when it is not a number. Never the undefined cast of a huge double.
inline std::int64_t clamped_int(const Value* v, std::int64_t lo, std::int64_t hi,
                                std::int64_t fallback) {
  if (v == nullptr || !v->IsNumber()) return fallback;
  if (v->IsInt64()) return std::min(std::max(v->GetInt64(), lo), hi);
  if (v->IsUint64()) return hi;  // above INT64_MAX
  double d = v->GetDouble();
  if (!(d > static_cast<double>(lo))) return lo;
  if (!(d < static_cast<double>(hi))) return hi;
  return static_cast<std::int64_t>(d);
}

/// The value of `text`, or null when it is not JSON (see parse).
inline Document parse_or_null(std::string_view text) {
  Document doc;
  (void)parse(doc, text);
  return doc;
}

/// Compact serialization of a value.
inline std::string to_string(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

/// Indented serialization, for people.
inline std::string to_pretty_string(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

/// A JSON string literal (with quotes) for `s`.
inline std::string quote(std::string_view s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return std::string(buf.GetString(), buf.GetSize());
}

inline const Value* member(const Value& obj, const char* name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

inline std::string_view string_or_empty(const Value* v) {
  if (v == nullptr || !v->IsString()) return {};
  return {v->GetString(), v->GetStringLength()};
}

}  // namespace claribi::json
