#pragma once

#include <tl/expected.hpp>

#include <string>
#include <utility>

namespace claribi {

/// An error as a value: a sentence a user can act on (what failed, what to try).
struct Error {
  std::string message;
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(std::string message) {
  return tl::unexpected<Error>(Error{std::move(message)});
}

}  // namespace claribi
