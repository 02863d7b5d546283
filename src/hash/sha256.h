#pragma once
// SHA-256 through OpenSSL 3's EVP interface. Failures (which mean a broken
// OpenSSL, never bad input) become Error(internal) with OpenSSL's text.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ferry/operation.h"
#include "util/handle.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;
extern "C" void EVP_MD_CTX_free(EVP_MD_CTX* ctx);

namespace ferry::hash {

Hash sha256(const void* data, std::size_t size);

// Incremental hashing for content hashes over many pieces.
class Sha256 {
 public:
  Sha256();
  Sha256& update(const void* data, std::size_t size);
  Sha256& update(std::string_view s) { return update(s.data(), s.size()); }
  Hash finish();

 private:
  util::Handle<EVP_MD_CTX, EVP_MD_CTX_free> ctx_;
};

}  // namespace ferry::hash
