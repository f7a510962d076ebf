#include "daemon/main.hpp"

int main(int argc, char** argv) {
  return claribi::daemon::main(argc, argv);
}
