// The tool layer (daemon/tool_layer.hpp): tools/list answers from the remote (policy, path
// twins, x-mcp-header declarations) and tools/call requests from the client (refusals, path
// twins read from an upload directory, Mcp-Param-* headers), plus the 2026-07-28 standard
// headers derived from the request (transport/modern.hpp), and what may be sent twice.
//
// Input: byte 0 holds flags (1: the remote speaks 2026-07-28, 2: --read-only, 4: the globs
// below apply, 8: the upload directory is open); then up to three parts separated by RS
// (0x1E): a tools/list response, a tools/call request, glob lines (a leading '!' denies).
// The upload directory is /tmp/claribi-fuzz-uploads, holding report.csv and scan.pdf.
#include "daemon/tool_layer.hpp"
#include "tests/fuzz/fuzz_input.hpp"
#include "transport/modern.hpp"
#include "util/json.hpp"
#include "util/jsonrpc.hpp"
#include "util/log.hpp"

#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

using namespace claribi;
using namespace claribi::daemon;

namespace {

constexpr const char* k_upload_dir = "/tmp/claribi-fuzz-uploads";

/// Every `name` member of an object: a peer that reads duplicate keys may take any of them.
std::vector<std::string> all_members(const json::Value& obj, std::string_view name) {
  std::vector<std::string> out;
  if (!obj.IsObject()) return out;
  for (const auto& m : obj.GetObject()) {
    if (std::string_view(m.name.GetString(), m.name.GetStringLength()) == name) {
      out.emplace_back(json::string_or_empty(&m.value));
    }
  }
  return out;
}

void check_header_lines(const std::vector<std::string>& headers) {
  for (const auto& h : headers) {
    fuzz::check(h.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos,
                "an HTTP header line holds no CR, LF or NUL");
    fuzz::check(h.find(": ") != std::string::npos, "a header line is 'Name: value'");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Hidden tools are logged at warn; the fuzzer's output is no place for them.
  (void)log::configure(log::Level::off, "");
  ::mkdir(k_upload_dir, 0700);
  std::ofstream(std::string(k_upload_dir) + "/report.csv") << "a,b\n1,2\n";
  std::ofstream(std::string(k_upload_dir) + "/scan.pdf") << "%PDF-1.4\n";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = fuzz::as_text(data, size);
  auto flags = fuzz::take_byte(in);
  auto parts = fuzz::split(in, 3);

  ToolPolicyOptions options;
  options.read_only = (flags & 2) != 0;
  if ((flags & 4) != 0) {
    for (auto line : fuzz::split(parts[2], 8, '\n')) {
      if (line.empty()) continue;
      if (line.front() == '!') {
        options.deny.emplace_back(line.substr(1));
      } else {
        options.allow.emplace_back(line);
      }
    }
  }
  ToolPolicy policy(options);
  UploadOptions uploads;
  if ((flags & 8) != 0) uploads.dirs.emplace_back(k_upload_dir);
  ToolLayer layer(policy, uploads);
  layer.set_header_params((flags & 1) != 0);

  if (auto list = jsonrpc::parse(std::string(parts[0]))) {
    bool changed = layer.rewrite_response("tools/list", *list);
    json::Document raw;
    fuzz::check(json::parse(raw, list->raw) && raw.IsObject(), "the answer stays a JSON object");
    if (changed) {
      fuzz::check(list->raw == json::to_string(list->doc), "a rewritten answer is its document");
    }
    const auto* result = json::member(list->doc, "result");
    const auto* tools = result != nullptr ? json::member(*result, "tools") : nullptr;
    if (policy.active() && tools != nullptr && tools->IsArray()) {
      for (const auto& t : tools->GetArray()) {
        for (const auto& name : all_members(t, "name")) {
          fuzz::check(!policy.refusal(name), "no hidden tool is left in a tools/list answer");
        }
      }
    }
  }

  if (auto call = jsonrpc::parse(std::string(parts[1]))) {
    check_header_lines(transport::modern::standard_headers(call->method, call->doc));
    (void)layer.needs_schema(*call);
    if (call->kind == jsonrpc::Kind::request && call->method == "tools/call") {
      fuzz::check(layer.must_not_repeat(*call) == !layer.is_idempotent_call(*call),
                  "a tools/call may repeat exactly when its tool is idempotent");
    }
    auto prepared = layer.prepare_request(*call);
    const auto* params = json::member(call->doc, "params");
    if (call->method == "tools/call" && params != nullptr && params->IsObject() &&
        policy.active()) {
      for (const auto& name : all_members(*params, "name")) {
        if (policy.refusal(name)) {
          fuzz::check(prepared.outcome == PreparedRequest::Outcome::rpc_error,
                      "a call to a hidden tool is refused");
        }
      }
    }
    if (prepared.outcome == PreparedRequest::Outcome::forward) {
      if (prepared.upload) {
        const auto& u = *prepared.upload;
        fuzz::check(u.path.rfind(k_upload_dir, 0) == 0, "only files in the upload directory");
        json::Document body;
        fuzz::check(static_cast<bool>(json::parse(body, u.prefix + "QUJD" + u.suffix)),
                    "the file's base64 goes where the body holds a JSON string");
      }
      check_header_lines(layer.param_headers(*call));
    } else {
      fuzz::check(!prepared.message.empty(), "a refusal says why");
    }
  }

  for (const auto& pattern : options.allow) (void)glob_match(pattern, parts[0]);
  (void)write_verb(parts[1]);
  return 0;
}
