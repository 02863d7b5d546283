#include "bundle/background_scan.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <exception>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace ferry::bundle {
namespace {

struct Verified {
  Operation op;
  std::string body;
  Hash hash;
};
using Batch = std::vector<Verified>;

constexpr std::size_t kBatchSize = 256;  // Operations handed over at a time.
constexpr std::size_t kMaxBatches = 16;  // Bounds the memory between the two threads.

struct Cancelled {};  // Unwinds the scanning thread when the applying side gave up.

// A bounded queue of batches from the scanning thread to the applying one.
class Channel {
 public:
  // Scanning side. Throws Cancelled once the applying side has given up.
  void push(Batch&& batch) {
    std::deque<Batch> spent;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return batches_.size() < kMaxBatches || cancelled_; });
      if (cancelled_) throw Cancelled{};
      batches_.push_back(std::move(batch));
      spent.swap(spent_);
      changed_.notify_all();
    }
    // `spent` is freed here, on the thread that allocated it: glibc frees a block
    // from another thread's arena under that arena's lock, slowing both threads.
  }
  void finish(std::exception_ptr error) {
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
    error_ = std::move(error);
    changed_.notify_all();
  }

  // Applying side. False when everything was handed over; rethrows the scan's failure.
  bool pop(Batch& out) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return !batches_.empty() || finished_; });
    if (!batches_.empty()) {
      out = std::move(batches_.front());
      batches_.pop_front();
      changed_.notify_all();
      return true;
    }
    if (error_) std::rethrow_exception(error_);
    return false;
  }
  // Hands a batch the applying side is done with back, to be freed by the scanning side.
  void give_back(Batch&& batch) {
    std::lock_guard<std::mutex> lock(mutex_);
    spent_.push_back(std::move(batch));
  }
  void cancel() {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> batches_;
  std::deque<Batch> spent_;  // At most kMaxBatches + 1: the scanning side takes them at every push.
  bool finished_ = false;
  bool cancelled_ = false;
  std::exception_ptr error_;
};

// The scanning thread: verified operations go to `channel` in batches, then its
// failure, if any. What was verified before a failure is handed over first, so
// the applying side sees what it would have seen from scan(). Nothing escapes
// it: a failure anywhere here, running out of memory included, is handed over
// as the scan's failure (an exception leaving a thread would end the process).
void scan_into(Reader& reader, Channel& channel) {
  std::exception_ptr error;
  try {
    Batch batch;
    auto hand_over = [&] {
      if (batch.empty()) return;
      channel.push(std::move(batch));
      batch = Batch();
      batch.reserve(kBatchSize);
    };
    try {
      batch.reserve(kBatchSize);
      reader.scan([&](Operation& op, std::string_view body, const Hash& hash) {
        batch.push_back(Verified{std::move(op), std::string(body), hash});
        if (batch.size() == kBatchSize) hand_over();
      });
    } catch (const Cancelled&) {
      throw;
    } catch (...) {
      error = std::current_exception();
    }
    hand_over();
  } catch (const Cancelled&) {
    // The applying side gave up and reads nothing more.
  } catch (...) {
    if (!error) error = std::current_exception();
  }
  channel.finish(std::move(error));
}

}  // namespace

void scan_in_background(Reader& reader, const Reader::Visitor& visit) {
  Channel channel;
  std::thread scanner;
  try {
    scanner = std::thread(scan_into, std::ref(reader), std::ref(channel));
  } catch (const std::system_error&) {
    reader.scan(visit);  // No second thread to be had: verify and apply in turn.
    return;
  }
  try {
    Batch batch;
    while (channel.pop(batch)) {
      for (auto& v : batch) visit(v.op, v.body, v.hash);
      channel.give_back(std::move(batch));
    }
  } catch (...) {
    channel.cancel();
    scanner.join();
    throw;
  }
  scanner.join();
}

}  // namespace ferry::bundle
