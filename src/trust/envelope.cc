#include "trust/envelope.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <vector>

#include "ferry/error.h"
#include "hash/sha256.h"
#include "util/files.h"

namespace ferry::trust {
namespace {

constexpr char kMagic[8] = {'F', 'E', 'R', 'R', 'Y', 'E', 'N', 'C'};
constexpr std::size_t kHeaderSize = 96;
constexpr std::size_t kChunk = 65536;
constexpr std::size_t kTag = 16;

using Header = std::array<std::uint8_t, kHeaderSize>;
using Key = std::array<std::uint8_t, 32>;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

// Reads up to n bytes, fewer only at the end of the file.
std::size_t read_full(int fd, std::uint8_t* out, std::size_t n, const std::string& path) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t got = ::read(fd, out + done, n - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw Error(Errc::database, path + ": read failed: " + std::strerror(errno));
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

void write_full(int fd, const std::uint8_t* data, std::size_t n, const std::string& path) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t put = ::write(fd, data + done, n - done);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) throw Error(Errc::database, path + ": write failed: " + std::strerror(errno));
    done += static_cast<std::size_t>(put);
  }
}

std::uint64_t size_of(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) throw Error(Errc::database, path + ": cannot read its size: " + std::strerror(errno));
  return static_cast<std::uint64_t>(st.st_size);
}

Header encode(const EnvelopeHeader& h) {
  Header out{};
  std::memcpy(out.data(), kMagic, 8);
  out[8] = 1;
  std::memcpy(out.data() + 12, h.recipient.bytes.data(), 16);
  std::memcpy(out.data() + 28, h.recipient_box.data(), 32);
  std::memcpy(out.data() + 60, h.ephemeral.data(), 32);
  out[93] = 1;  // The chunk size, 65536, as u32 BE: 00 01 00 00.
  return out;
}

Key derive_key(const std::array<std::uint8_t, 32>& shared, const EnvelopeHeader& h) {
  std::uint8_t salt[64];
  std::memcpy(salt, h.ephemeral.data(), 32);
  std::memcpy(salt + 32, h.recipient_box.data(), 32);
  static const char info[] = "ferry-envelope-v1";
  util::Handle<EVP_PKEY_CTX, EVP_PKEY_CTX_free> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  Key key{};
  std::size_t n = key.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), salt, sizeof salt) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), shared.data(), static_cast<int>(shared.size())) != 1 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), reinterpret_cast<const unsigned char*>(info), sizeof info - 1) != 1 ||
      EVP_PKEY_derive(ctx.get(), key.data(), &n) != 1 || n != key.size())
    openssl_failed("deriving the envelope key");
  return key;
}

// Encrypts (or decrypts and authenticates) one chunk. Returns false when a
// decrypted chunk does not authenticate.
bool crypt_chunk(bool encrypt, const Key& key, const Header& header, std::uint64_t number, bool last,
                 const std::uint8_t* in, std::size_t n, std::uint8_t* out, std::uint8_t* tag) {
  util::Handle<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free> ctx(EVP_CIPHER_CTX_new());
  std::uint8_t nonce[12] = {};
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<std::uint8_t>(number >> (56 - 8 * i));
  const std::uint8_t final_flag = last ? 1 : 0;
  int len = 0;
  const int init = encrypt ? EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce)
                           : EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce);
  auto update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate;
  if (!ctx || init != 1 || update(ctx.get(), nullptr, &len, header.data(), static_cast<int>(header.size())) != 1 ||
      update(ctx.get(), nullptr, &len, &final_flag, 1) != 1 ||
      (n > 0 && update(ctx.get(), out, &len, in, static_cast<int>(n)) != 1))
    openssl_failed("encrypting a bundle");
  if (encrypt) {
    if (EVP_EncryptFinal_ex(ctx.get(), out + n, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTag), tag) != 1)
      openssl_failed("encrypting a bundle");
    return true;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTag), tag) != 1)
    openssl_failed("decrypting a bundle");
  return EVP_DecryptFinal_ex(ctx.get(), out + n, &len) == 1;
}

// Decrypts the chunks after the header of `in`, handing each plaintext chunk to `sink`.
void decrypt_chunks(int in, const std::string& shown, const Key& key, const Header& header,
                    const std::function<void(const std::uint8_t*, std::size_t)>& sink) {
  const std::uint64_t body = size_of(in, shown) - kHeaderSize;
  const std::uint64_t full = body / (kChunk + kTag), rest = body % (kChunk + kTag);
  if (rest < kTag) throw Error(Errc::corrupt, shown + ": the encrypted bundle is truncated (its last chunk is incomplete)");
  std::vector<std::uint8_t> sealed(kChunk + kTag), plain(kChunk);
  for (std::uint64_t i = 0; i <= full; ++i) {
    const bool last = i == full;
    const std::size_t n = last ? static_cast<std::size_t>(rest) - kTag : kChunk;
    if (read_full(in, sealed.data(), n + kTag, shown) != n + kTag)
      throw Error(Errc::corrupt, shown + ": the encrypted bundle changed size while being read");
    if (!crypt_chunk(false, key, header, i, last, sealed.data(), n, plain.data(), sealed.data() + n))
      throw Error(Errc::corrupt, shown + ": the encrypted bundle was changed, damaged or cut short (chunk " +
                                     std::to_string(i + 1) + " of " + std::to_string(full + 1) +
                                     " does not authenticate); nothing in it was used");
    sink(plain.data(), n);
  }
  OPENSSL_cleanse(plain.data(), plain.size());
}

EnvelopeHeader parse(const Header& h, const std::string& path) {
  if (h[8] != 1)
    throw Error(Errc::refused, path + ": is an encrypted bundle of envelope version " + std::to_string(h[8]) +
                                   ", which this ferry does not read; upgrade ferry");
  if (h[9] || h[10] || h[11] || h[92] || h[93] != 1 || h[94] || h[95])
    throw Error(Errc::corrupt, path + ": is an encrypted bundle with a malformed header");
  EnvelopeHeader out;
  std::memcpy(out.recipient.bytes.data(), h.data() + 12, 16);
  std::memcpy(out.recipient_box.data(), h.data() + 28, 32);
  std::memcpy(out.ephemeral.data(), h.data() + 60, 32);
  return out;
}

}  // namespace

std::optional<EnvelopeHeader> peek_envelope(const std::string& path, const std::string& shown) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return std::nullopt;  // The bundle reader reports why.
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  Header h{};
  if (read_full(fd.get(), h.data(), 8, shown) != 8 || std::memcmp(h.data(), kMagic, 8) != 0) return std::nullopt;
  if (read_full(fd.get(), h.data() + 8, kHeaderSize - 8, shown) != kHeaderSize - 8)
    throw Error(Errc::corrupt, shown + ": is an encrypted bundle cut short inside its header");
  return parse(h, shown);
}

void seal_envelope(const std::string& plain, const std::string& target, const DeviceId& recipient,
                   const PublicKey& recipient_box) {
  const KeyPair ephemeral = KeyPair::generate();
  const EnvelopeHeader eh{recipient, recipient_box, ephemeral.identity().box};
  const Header header = encode(eh);
  auto shared = ephemeral.agree(recipient_box);
  Key key = derive_key(shared, eh);
  OPENSSL_cleanse(shared.data(), shared.size());

  std::string temp = util::temp_template(util::folder_of(target), ".ferry-envelope-");
  Fd out(::mkstemp(temp.data()));
  if (out.get() < 0) throw Error(Errc::database, target + ": cannot create the encrypted bundle: " + std::strerror(errno));
  try {
    Fd in(::open(plain.c_str(), O_RDONLY | O_CLOEXEC));
    if (in.get() < 0) throw Error(Errc::database, plain + ": cannot read the bundle to encrypt: " + std::strerror(errno));
    const std::uint64_t size = size_of(in.get(), plain);
    write_full(out.get(), header.data(), header.size(), target);
    std::vector<std::uint8_t> chunk(kChunk), sealed(kChunk + kTag);
    hash::Sha256 written;
    for (std::uint64_t i = 0; i <= size / kChunk; ++i) {
      const bool last = i == size / kChunk;
      const std::size_t n = last ? static_cast<std::size_t>(size % kChunk) : kChunk;
      if (read_full(in.get(), chunk.data(), n, plain) != n)
        throw Error(Errc::database, plain + ": the bundle changed while being encrypted");
      written.update(chunk.data(), n);
      crypt_chunk(true, key, header, i, last, chunk.data(), n, sealed.data(), sealed.data() + n);
      write_full(out.get(), sealed.data(), n + kTag, target);
    }
    if (!out.close()) throw Error(Errc::database, target + ": cannot write the encrypted bundle: " + std::strerror(errno));
    // Read back: what reached the disk must decrypt to what was meant.
    Fd check(::open(temp.c_str(), O_RDONLY | O_CLOEXEC));
    Header back{};
    if (check.get() < 0 || read_full(check.get(), back.data(), back.size(), temp) != back.size() || back != header)
      throw Error(Errc::database, target + ": the encrypted bundle read back from the disk differs");
    hash::Sha256 read;
    decrypt_chunks(check.get(), target, key, header, [&](const std::uint8_t* p, std::size_t n) { read.update(p, n); });
    if (read.finish() != written.finish())
      throw Error(Errc::database, target + ": the encrypted bundle read back from the disk differs");
    util::publish(temp, target, "encrypted bundle");
  } catch (...) {
    OPENSSL_cleanse(key.data(), key.size());
    ::unlink(temp.c_str());
    throw;
  }
  OPENSSL_cleanse(key.data(), key.size());
}

void open_envelope(const std::string& sealed, const std::string& plain, const std::string& shown, const DeviceId& self,
                   const KeyPair& keys) {
  Fd in(::open(sealed.c_str(), O_RDONLY | O_CLOEXEC));
  Header header{};
  if (in.get() < 0 || read_full(in.get(), header.data(), header.size(), shown) != header.size())
    throw Error(Errc::corrupt, shown + ": is an encrypted bundle cut short inside its header");
  const EnvelopeHeader eh = parse(header, shown);
  if (eh.recipient != self)
    throw Error(Errc::refused, shown + ": is encrypted for device " + eh.recipient.to_string() + "; this is device " +
                                   self.to_string() + ", which cannot read it. Import it on the device it was made for.");
  if (eh.recipient_box != keys.identity().box)
    throw Error(Errc::refused, shown + ": is encrypted for another key of this device than the one it holds now");
  std::array<std::uint8_t, 32> shared{};
  try {
    shared = keys.agree(eh.ephemeral);
  } catch (const Error& e) {  // A low-order or malformed ephemeral key: name the file it came in.
    throw Error(e.code(), shown + ": its encryption header is damaged or forged (" + e.what() + ")");
  }
  Key key = derive_key(shared, eh);
  OPENSSL_cleanse(shared.data(), shared.size());
  Fd out(::open(plain.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) throw Error(Errc::database, plain + ": cannot create: " + std::strerror(errno));
  try {
    decrypt_chunks(in.get(), shown, key, header,
                   [&](const std::uint8_t* p, std::size_t n) { write_full(out.get(), p, n, plain); });
  } catch (...) {
    OPENSSL_cleanse(key.data(), key.size());
    throw;
  }
  OPENSSL_cleanse(key.data(), key.size());
  if (!out.close()) throw Error(Errc::database, plain + ": cannot write: " + std::strerror(errno));
}

}  // namespace ferry::trust
