#pragma once

// The composition root's credential half: which Authorization the remote gets (an explicit
// header, then CLARIBI_API_KEY, then the keychain, then OAuth), the keychain closures the
// auth session calls, and the OAuth client. The command-line parser only records what was
// asked; this decides.

#include "daemon/cli.hpp"
#include "util/result.hpp"

namespace claribi::daemon {

/// Fills `inv.bridge`'s credential source, load/store closures and OAuth client, and adds
/// CLARIBI_API_KEY's Authorization header when it is the one in use.
Result<void> compose_credentials(Invocation& inv);

}  // namespace claribi::daemon
