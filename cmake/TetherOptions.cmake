# Warnings and sanitizers travel through this interface target, never through global flags.
add_library(tether_options INTERFACE)
target_compile_options(tether_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor -Wno-missing-field-initializers)
target_compile_definitions(tether_options INTERFACE
  TETHER_VERSION="${PROJECT_VERSION}")
if(TETHER_SANITIZE)
  target_compile_options(tether_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
  target_link_options(tether_options INTERFACE -fsanitize=address,undefined)
endif()
