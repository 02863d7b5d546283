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

// OpenSSL 3 looks the algorithm up on every EVP_sha256()-based init unless it is
// fetched once; that lookup cost more than the hashing itself for small inputs.
const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);  // Kept for the process's life.
  if (md == nullptr) fail("SHA-256 fetch");
  return md;
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex2(ctx_.get(), sha256_md(), nullptr) != 1) fail("SHA-256 init");
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
  // One context per thread, reused: no allocation and no algorithm lookup per hash.
  static thread_local util::Handle<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  Hash out{};
  unsigned int n = 0;
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), sha256_md(), nullptr) != 1 || EVP_DigestUpdate(ctx.get(), data, size) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &n) != 1 || n != out.size())
    fail("SHA-256");
  return out;
}

}  // namespace ferry::hash
