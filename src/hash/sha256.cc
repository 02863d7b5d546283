#include "hash/sha256.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <string>

#include "ferry/error.h"

namespace ferry::hash {
namespace {

[[noreturn]] void fail(const char* what) {
  char text[256] = "unknown error";
  const unsigned long code = ERR_get_error();
  if (code != 0) ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  throw Error(Errc::internal, std::string("OpenSSL ") + what + " failed: " + text);
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) fail("SHA-256 init");
}

Sha256& Sha256::update(const void* data, std::size_t size) {
  if (EVP_DigestUpdate(ctx_.get(), data, size) != 1) fail("SHA-256 update");
  return *this;
}

Hash Sha256::finish() {
  Hash out{};
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), out.data(), &size) != 1 || size != out.size()) fail("SHA-256 final");
  return out;
}

Hash sha256(const void* data, std::size_t size) {
  Hash out{};
  unsigned int n = 0;
  if (EVP_Digest(data, size, out.data(), &n, EVP_sha256(), nullptr) != 1 || n != out.size())
    fail("SHA-256");
  return out;
}

}  // namespace ferry::hash
