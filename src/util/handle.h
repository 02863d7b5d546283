#pragma once
// Handle<T, free>: a std::unique_ptr that owns a C handle and frees it with
// the library's own function. Nothing in ferry frees a handle by hand.

#include <memory>

namespace ferry::util {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const noexcept {
    if (p != nullptr) Free(p);
  }
};

template <typename T, auto Free>
using Handle = std::unique_ptr<T, Deleter<Free>>;

}  // namespace ferry::util
