#include "tether/protocol/support_code.hpp"

#include <cstdio>
#include <cstdlib>

#include <openssl/rand.h>

namespace tether::protocol {
namespace {

constexpr int kRandomDigits = 8;

// The Damm algorithm's totally anti-symmetric quasigroup of order 10.
constexpr unsigned char kDamm[10][10] = {
    {0, 3, 1, 7, 5, 9, 8, 6, 4, 2}, {7, 0, 9, 2, 1, 5, 4, 8, 6, 3}, {4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
    {1, 7, 5, 0, 9, 8, 3, 4, 2, 6}, {6, 1, 2, 3, 0, 4, 5, 9, 7, 8}, {3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
    {5, 8, 6, 9, 7, 2, 0, 1, 3, 4}, {8, 9, 4, 5, 3, 6, 2, 0, 1, 7}, {9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
    {2, 5, 8, 1, 4, 3, 6, 7, 9, 0}};

}  // namespace

char SupportCode::check_digit(std::string_view digits) noexcept {
  unsigned char interim = 0;
  for (const char c : digits) interim = kDamm[interim][c - '0'];
  return static_cast<char>('0' + interim);
}

SupportCode SupportCode::generate() {
  std::string digits;
  while (digits.size() < kRandomDigits) {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
      std::fputs("tether: the system random number generator failed\n", stderr);
      std::abort();
    }
    for (const unsigned char b : bytes) {
      // 250 is the largest multiple of 10 below 256; larger bytes would bias the digits.
      if (b < 250 && digits.size() < kRandomDigits)
        digits.push_back(static_cast<char>('0' + b % 10));
    }
  }
  digits.push_back(check_digit(digits));
  return SupportCode(std::move(digits));
}

Result<SupportCode> SupportCode::parse(std::string_view text) noexcept {
  if (text.size() > 32) return make_error_code(Error::code_invalid);
  std::string digits;
  for (const char c : text) {
    if (c >= '0' && c <= '9')
      digits.push_back(c);
    else if (c != ' ' && c != '-')
      return make_error_code(Error::code_invalid);
  }
  if (digits.size() != kRandomDigits + 1) return make_error_code(Error::code_invalid);
  if (check_digit(std::string_view(digits).substr(0, kRandomDigits)) != digits.back()) {
    return make_error_code(Error::code_invalid);
  }
  return SupportCode(std::move(digits));
}

std::string SupportCode::display() const {
  return digits_.substr(0, 3) + " " + digits_.substr(3, 3) + " " + digits_.substr(6, 3);
}

}  // namespace tether::protocol
