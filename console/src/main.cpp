// tether: the technician console.
#include "tether/console/cli.hpp"

int main(int argc, char** argv) {
  return tether::console::run_cli(argc, argv);
}
