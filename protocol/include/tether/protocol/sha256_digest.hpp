#pragma once
/// Incremental SHA-256 over OpenSSL's EVP (uses the CPU's SHA extensions where present), for
/// the end-to-end integrity check of file transfers (SPEC.md §4.3). Not thread-safe.

#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace tether::protocol {

class Sha256Digest {
 public:
  Sha256Digest();
  ~Sha256Digest();
  Sha256Digest(Sha256Digest&&) noexcept;
  Sha256Digest& operator=(Sha256Digest&&) noexcept;

  void update(std::string_view bytes);
  /// Lower-case hex of the digest of everything fed so far; the object starts over afterwards.
  std::string hex();

 private:
  struct Free {
    void operator()(evp_md_ctx_st* ctx) const noexcept;
  };
  std::unique_ptr<evp_md_ctx_st, Free> ctx_;
};

}  // namespace tether::protocol
