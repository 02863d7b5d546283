#include "trust/keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "ferry/error.h"
#include "hash/sha256.h"
#include "util/files.h"
#include "util/hex.h"

namespace ferry::trust {
namespace {

using util::hex;
using util::unhex;

using MdCtx = util::Handle<EVP_MD_CTX, EVP_MD_CTX_free>;
using PkeyCtx = util::Handle<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;

constexpr const char* kKeyFileTitle = "ferry device key 1";

PublicKey raw_public(EVP_PKEY* key) {
  PublicKey out{};
  std::size_t n = out.size();
  if (EVP_PKEY_get_raw_public_key(key, out.data(), &n) != 1 || n != out.size()) openssl_failed("reading a public key");
  return out;
}

// The private half as 32 bytes; the caller cleanses them.
void raw_private(EVP_PKEY* key, std::uint8_t* out) {
  std::size_t n = 32;
  if (EVP_PKEY_get_raw_private_key(key, out, &n) != 1 || n != 32) openssl_failed("reading a private key");
}

EVP_PKEY* generate_key(const char* type) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  if (key == nullptr) openssl_failed("key generation");
  return key;
}

void write_all(int fd, const std::string& text, const std::string& path) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error(Errc::database, path + ": cannot write the device key: " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

void openssl_failed(const char* what) {
  char text[256] = "unknown error";
  const unsigned long code = ERR_get_error();
  if (code != 0) ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  throw Error(Errc::internal, std::string("OpenSSL failed ") + what + ": " + text);
}

std::string to_text(const Identity& identity) {
  return hex(identity.sign.data(), identity.sign.size()) + hex(identity.box.data(), identity.box.size());
}

std::optional<Identity> parse_identity(std::string_view text) {
  Identity id;
  if (text.size() != 128 || !unhex(text.substr(0, 64), id.sign.data(), 32) || !unhex(text.substr(64), id.box.data(), 32))
    return std::nullopt;
  return id;
}

std::string fingerprint(const DeviceId& device, const PublicKey& sign) {
  hash::Sha256 h;
  h.update(device.bytes.data(), device.bytes.size()).update(sign.data(), sign.size());
  const std::string digits = hex(h.finish().data(), 10);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); i += 4) out += (i ? " " : "") + digits.substr(i, 4);
  return out;
}

bool verify(const PublicKey& key, std::string_view message, const Signature& signature) {
  util::Handle<EVP_PKEY, EVP_PKEY_free> pub(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size()));
  ERR_clear_error();
  if (!pub) return false;  // Not a valid point: nothing it could have signed.
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) openssl_failed("allocating a verification context");
  // Only exactly 1 is a valid signature; 0 and negative answers are both refusals.
  const bool ok = EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pub.get()) == 1 &&
                  EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                                   reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  ERR_clear_error();
  return ok;
}

KeyPair::KeyPair(EVP_PKEY* sign, EVP_PKEY* box) : sign_(sign), box_(box) {}

KeyPair KeyPair::generate() {
  util::Handle<EVP_PKEY, EVP_PKEY_free> sign(generate_key("ED25519"));
  util::Handle<EVP_PKEY, EVP_PKEY_free> box(generate_key("X25519"));
  return KeyPair(sign.release(), box.release());
}

KeyPair KeyPair::load(const std::string& path, const DeviceId& device) {
  const std::string what_to_do =
      " The private key never travels in a bundle: restore it from a backup of this device, or start a new device "
      "(`ferry init` on a fresh copy of the application database) and let the others trust it.";
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      throw Error(Errc::not_found, path + ": the private key of this device is missing, so it cannot sign." + what_to_do);
    throw Error(Errc::refused, path + ": cannot open the device key: " + std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    throw Error(Errc::refused, path + ": the device key is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw Error(Errc::refused, path + ": the device key may be read or changed by other users (mode " + mode +
                                   "); make it private with `chmod 600 " + path + "` and try again");
  }
  char buf[1024];
  ssize_t n = 0;
  do n = ::read(fd, buf, sizeof buf); while (n < 0 && errno == EINTR);
  std::string text(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  OPENSSL_cleanse(buf, sizeof buf);
  // "word value" lines after the title; lines starting with '#' are comments.
  std::istringstream in(text);
  std::string title, line, device_text, sign_hex, box_hex;
  std::getline(in, title);
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.find(' ');
    const std::string word = line.substr(0, space), value = space == std::string::npos ? "" : line.substr(space + 1);
    (word == "device" ? device_text : word == "ed25519" ? sign_hex : word == "x25519" ? box_hex : title) = value;
  }
  OPENSSL_cleanse(line.data(), line.size());
  std::uint8_t sign_raw[32], box_raw[32];
  const bool ok = title == kKeyFileTitle && unhex(sign_hex, sign_raw, 32) && unhex(box_hex, box_raw, 32);
  OPENSSL_cleanse(text.data(), text.size());
  OPENSSL_cleanse(sign_hex.data(), sign_hex.size());
  OPENSSL_cleanse(box_hex.data(), box_hex.size());
  if (!ok) throw Error(Errc::corrupt, path + ": is not a ferry device key file (or it is damaged)." + what_to_do);
  if (Uuid::parse(device_text) != device)
    throw Error(Errc::refused, path + ": holds the key of device " + device_text + ", not of this device (" +
                                   device.to_string() + ")." + what_to_do);
  EVP_PKEY* sign = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, sign_raw, 32);
  EVP_PKEY* box = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, box_raw, 32);
  OPENSSL_cleanse(sign_raw, sizeof sign_raw);
  OPENSSL_cleanse(box_raw, sizeof box_raw);
  KeyPair keys(sign, box);
  if (sign == nullptr || box == nullptr) openssl_failed("loading the device key");
  return keys;
}

void KeyPair::save(const std::string& path, const DeviceId& device) const {
  std::uint8_t sign_raw[32], box_raw[32];
  raw_private(sign_.get(), sign_raw);
  raw_private(box_.get(), box_raw);
  std::string text = std::string(kKeyFileTitle) + "\n# Private: never copy this file into a bundle or share it.\n" +
                     "device " + device.to_string() + "\ned25519 " + hex(sign_raw, 32) + "\nx25519 " + hex(box_raw, 32) + "\n";
  OPENSSL_cleanse(sign_raw, sizeof sign_raw);
  OPENSSL_cleanse(box_raw, sizeof box_raw);
  const std::string temp = path + ".tmp";
  ::unlink(temp.c_str());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    OPENSSL_cleanse(text.data(), text.size());
    throw Error(Errc::database, temp + ": cannot create the device key: " + std::strerror(errno));
  }
  bool closed = false;
  try {
    write_all(fd, text, temp);
    OPENSSL_cleanse(text.data(), text.size());
    if (::fsync(fd) != 0) throw Error(Errc::database, temp + ": cannot sync the device key: " + std::strerror(errno));
    closed = true;
    if (::close(fd) != 0) throw Error(Errc::database, temp + ": cannot write the device key: " + std::strerror(errno));
    util::publish(temp, path, "device key");
  } catch (...) {
    OPENSSL_cleanse(text.data(), text.size());
    if (!closed) ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
}

Identity KeyPair::identity() const { return Identity{raw_public(sign_.get()), raw_public(box_.get())}; }

Signature KeyPair::sign(std::string_view message) const {
  MdCtx ctx(EVP_MD_CTX_new());
  Signature out{};
  std::size_t n = out.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, sign_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), out.data(), &n, reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      n != out.size())
    openssl_failed("signing");
  return out;
}

std::array<std::uint8_t, 32> KeyPair::agree(const PublicKey& peer) const {
  util::Handle<EVP_PKEY, EVP_PKEY_free> other(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(), peer.size()));
  PkeyCtx ctx(EVP_PKEY_CTX_new(box_.get(), nullptr));
  std::array<std::uint8_t, 32> out{};
  std::size_t n = out.size();
  // OpenSSL refuses an all-zero result (a peer key of low order), which is what we want.
  if (!other || !ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), other.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), out.data(), &n) != 1 || n != out.size()) {
    ERR_clear_error();
    throw Error(Errc::corrupt, "the key agreement failed: the other side's public key is not usable");
  }
  return out;
}

std::string key_path(const std::string& db_path) { return db_path + ".key"; }
std::string next_key_path(const std::string& db_path) { return db_path + ".key.next"; }

}  // namespace ferry::trust
