#pragma once
/// The support code an end user reads to a technician: 9 digits, the first 8 from a CSPRNG
/// and the last a Damm check digit that catches every single-digit typo and every swap of
/// two adjacent digits. Shown in groups of three ("123 456 789"). Codes are short-lived and
/// single use; the relay enforces both (protocol/SPEC.md §2).

#include <string>
#include <string_view>

#include "tether/protocol/tls.hpp"

namespace tether::protocol {

class SupportCode {
 public:
  /// A fresh random code (OpenSSL RAND_bytes, rejection-sampled so digits are uniform).
  /// Aborts if the system has no entropy: a predictable code would be worse than none.
  static SupportCode generate();

  /// Accepts what users type: digits with optional spaces or dashes between them.
  /// Error::code_invalid when there are not exactly 9 digits or the check digit is wrong.
  static Result<SupportCode> parse(std::string_view text) noexcept;

  /// Damm check digit of a string of decimal digits.
  static char check_digit(std::string_view digits) noexcept;

  /// "123456789".
  const std::string& digits() const { return digits_; }
  /// "123 456 789".
  std::string display() const;

  bool operator==(const SupportCode&) const = default;

 private:
  explicit SupportCode(std::string digits) : digits_(std::move(digits)) {}
  std::string digits_;
};

}  // namespace tether::protocol
