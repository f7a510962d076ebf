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
#include <cassert>
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

/// What a string left out of a document reads as (see parse with `longest`): empty. Every
/// such string points here, so that writing one out is caught (to_string).
inline constexpr char k_trimmed[1] = "";

namespace detail {

/// Forwards RapidJSON's SAX events to a Document, refusing nesting deeper than a limit, and
/// putting k_trimmed in place of any string longer than `longest` bytes.
class DepthLimited {
 public:
  DepthLimited(Document& doc, std::size_t longest) : m_doc(doc), m_longest(longest) {}
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
  // Strings are always copied: an in-place parse (TrimmingStream) hands out a scratch buffer.
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (n > m_longest) return trim(false);
    return m_doc.String(s, n, true);
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (n > m_longest) return trim(true);
    return m_doc.Key(s, n, true);
  }
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
  bool trimmed() const { return m_trimmed; }

 private:
  bool enter() {
    if (++m_depth <= k_max_depth) return true;
    m_too_deep = true;
    return false;
  }
  bool trim(bool key) {
    m_trimmed = true;
    return key ? m_doc.Key(k_trimmed, 0, false) : m_doc.String(k_trimmed, 0, false);
  }
  Document& m_doc;
  std::size_t m_longest;
  unsigned m_depth = 0;
  bool m_too_deep = false;
  bool m_out_of_range = false;
  bool m_trimmed = false;
};

/// The largest bound a trimming parse keeps to (its scratch buffer is that size).
constexpr std::size_t k_scratch_limit = std::size_t{1} << 30;

/// The text for RapidJSON's in-place parse, read only: each string is decoded into a scratch
/// buffer of `longest` + 1 bytes rather than over the text, and a longer one is only counted.
/// So no string longer than `longest` is ever copied, neither onto the parser's stack nor
/// into the document. The byte order mark is skipped as parse's EncodedInputStream does it.
class TrimmingStream {
 public:
  using Ch = char;
  TrimmingStream(std::string_view text, std::size_t longest)
      : m_text(text), m_scratch(longest + 1, '\0') {
    for (unsigned char b : {0xEFu, 0xBBu, 0xBFu}) {
      if (static_cast<unsigned char>(Peek()) == b) ++m_pos;
    }
  }
  Ch Peek() const { return m_pos < m_text.size() ? m_text[m_pos] : '\0'; }
  Ch Take() { return m_pos < m_text.size() ? m_text[m_pos++] : '\0'; }
  std::size_t Tell() const { return m_pos; }
  Ch* PutBegin() {
    m_put = 0;
    return m_scratch.data();
  }
  void Put(Ch c) {
    if (m_put < m_scratch.size()) m_scratch[m_put] = c;
    ++m_put;
  }
  std::size_t PutEnd(Ch*) { return m_put; }  // the terminator included, as RapidJSON expects

 private:
  std::string_view m_text;
  std::size_t m_pos = 0;
  std::string m_scratch;
  std::size_t m_put = 0;
};

/// Runs RapidJSON's iterative reader over `is` into `doc` through a DepthLimited handler; the
/// shared half of the two parses below.
template <unsigned Flags, typename Stream>
tl::expected<void, ParseError> parse_from(Document& doc, Stream& is, std::size_t size,
                                          std::size_t longest, bool* trimmed) {
  rapidjson::ParseResult result;
  bool too_deep = false;
  bool out_of_range = false;
  auto generate = [&](Document& target) {
    DepthLimited handler(target, longest);
    rapidjson::Reader reader;
    result = reader.Parse<Flags | rapidjson::kParseIterativeFlag>(is, handler);
    too_deep = handler.too_deep();
    out_of_range = handler.out_of_range();
    if (trimmed != nullptr) *trimmed = handler.trimmed();
    // RapidJSON takes a NUL for the end of the text: what follows one must not pass unseen.
    if (!result.IsError() && is.Tell() != size) {
      result.Set(rapidjson::kParseErrorDocumentRootNotSingular, is.Tell());
    }
    return !result.IsError();
  };
  doc.SetNull();
  doc.Populate(generate);
  if (!result.IsError()) return {};
  doc.SetNull();
  if (trimmed != nullptr) *trimmed = false;
  if (too_deep) {
    return tl::unexpected(ParseError{
        "nesting deeper than " + std::to_string(k_max_depth) + " levels", result.Offset()});
  }
  if (out_of_range) {
    return tl::unexpected(ParseError{"a number beyond the range of a double", result.Offset()});
  }
  return tl::unexpected(ParseError{rapidjson::GetParseError_En(result.Code()), result.Offset()});
}

}  // namespace detail

/// Parses `text` (all of it, one JSON value) into `doc`, which is null on failure. Every parse
/// of outside input goes through here: RapidJSON's iterative parser keeps the stack flat
/// whatever the input, and nesting deeper than k_max_depth is refused.
inline tl::expected<void, ParseError> parse(Document& doc, std::string_view text) {
  rapidjson::MemoryStream ms(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
  return detail::parse_from<rapidjson::kParseDefaultFlags>(doc, is, text.size(),
                                                           static_cast<std::size_t>(-1), nullptr);
}

/// As parse, but each string longer than `longest` bytes is left out: `doc` holds k_trimmed,
/// which reads as empty, in its place, and `trimmed` says whether any was. Such a string is
/// never copied, so a text carrying one long string costs little more memory than the text.
/// A document with a trimmed string must not be written out (to_string checks); parse the
/// text again whole for that. The parse allocates `longest` bytes (at most k_scratch_limit).
inline tl::expected<void, ParseError> parse(Document& doc, std::string_view text,
                                            std::size_t longest, bool& trimmed) {
  longest = std::min(longest, detail::k_scratch_limit);
  detail::TrimmingStream is(text, longest);
  return detail::parse_from<rapidjson::kParseInsituFlag>(doc, is, text.size(), longest, &trimmed);
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

namespace detail {

/// A RapidJSON writer that refuses (asserts in debug builds) a trimmed string: its text was
/// never parsed, and writing the empty stand-in would lose it.
template <typename Base>
class Checked : public Base {
 public:
  using Base::Base;
  using Ch = typename Base::Ch;
  bool String(const Ch* s, rapidjson::SizeType n, bool copy = false) {
    assert(s != k_trimmed && "a trimmed document is written out: parse its text whole first");
    return Base::String(s, n, copy);
  }
  bool Key(const Ch* s, rapidjson::SizeType n, bool copy = false) {
    assert(s != k_trimmed && "a trimmed document is written out: parse its text whole first");
    return Base::Key(s, n, copy);
  }
};

}  // namespace detail

/// Compact serialization of a value.
inline std::string to_string(const Value& v) {
  rapidjson::StringBuffer buf;
  detail::Checked<rapidjson::Writer<rapidjson::StringBuffer>> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

/// Indented serialization, for people.
inline std::string to_pretty_string(const Value& v) {
  rapidjson::StringBuffer buf;
  detail::Checked<rapidjson::PrettyWriter<rapidjson::StringBuffer>> w(buf);
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
