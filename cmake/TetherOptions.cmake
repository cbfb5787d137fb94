# Warnings and sanitizers travel through this interface target, never through global flags.
add_library(tether_options INTERFACE)
target_compile_options(tether_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow-uncaptured-local -Wnon-virtual-dtor -Wno-missing-field-initializers)
target_compile_definitions(tether_options INTERFACE
  TETHER_VERSION="${PROJECT_VERSION}")
if(TETHER_SANITIZE)
  target_compile_options(tether_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
  target_link_options(tether_options INTERFACE -fsanitize=address,undefined)
endif()

# GCC 12 (Debian 12's default) destroys lambda and aggregate temporaries twice when they are
# arguments in a co_await expression; Tether is coroutine code throughout, so it is refused.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  message(FATAL_ERROR
    "GCC ${CMAKE_CXX_COMPILER_VERSION} miscompiles C++20 coroutines that Tether relies on. "
    "Configure with clang-16 (apt-get install clang-16; cmake --preset default does this).")
endif()
