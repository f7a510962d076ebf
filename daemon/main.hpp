#pragma once

namespace claribi::daemon {

/// The whole program behind the `claribi-bridge` executable.
int main(int argc, char** argv);

}  // namespace claribi::daemon
