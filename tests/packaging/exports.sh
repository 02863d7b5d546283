#!/usr/bin/env bash
# libferry.so exports the public API and nothing else of ferry's:
#   exports.sh LIBFERRY_SO INCLUDE_DIR
# - its SONAME is libferry.so.N;
# - it defines every function ferry/ferry.h (the C API) declares;
# - every ferry symbol it defines is a C function of ferry.h, or lies in a
#   namespace the public headers open (ferry, ferry::render) and is named
#   there, never in src/'s namespaces (ferry::log, ferry::sql...) nor Engine::Impl.
set -euo pipefail
lib=$1
include=$2
fail=0
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[[ $soname =~ ^libferry\.so\.[0-9]+$ ]] || { echo "exports: SONAME is '$soname', not libferry.so.N" >&2; fail=1; }
defined=$(nm -D --defined-only "$lib" | awk '{print $3}')
declared_c=$(grep -oE '\bferry_[a-z0-9_]+\(' "$include/ferry/ferry.h" | tr -d '(' | sort -u)
for f in $declared_c; do
  grep -qx "$f" <<<"$defined" || { echo "exports: $f, declared in ferry.h, is not exported" >&2; fail=1; }
done
while read -r symbol; do
  grep -qx "$symbol" <<<"$declared_c" || { echo "exports: $symbol is exported but ferry.h does not declare it" >&2; fail=1; }
done < <(grep -E '^ferry_' <<<"$defined")
headers=$(cat "$include"/ferry/*.h)
while read -r name; do
  # The name a symbol qualifies with ferry:: or ferry::render::, up to its first '(' or '['.
  qualified=$(sed -E 's/^(typeinfo name for |typeinfo for |vtable for |non-virtual thunk to )//; s/[(\[].*//' <<<"$name")
  [[ $qualified == ferry::* ]] || continue
  # A standard template's instance (vector<Value>::emplace_back...), named after the ferry type it returns.
  [[ $qualified =~ ^ferry::[A-Za-z_]+(\ const)?[*\&]*\ std:: ]] && continue
  rest=${qualified#ferry::}
  rest=${rest#render::}
  first=${rest%%::*}
  # ferry::X::..., with X a class of the headers; or ferry::f, a function they declare.
  if [[ $qualified == *::Impl* || ! $first =~ ^[A-Za-z_][A-Za-z0-9_]*$ || ($rest == *::* && $first =~ ^[a-z]) ]] ||
     ! grep -qE "\b$first\b" <<<"$headers"; then
    echo "exports: '$name' is not part of the public API (include/ferry/)" >&2
    fail=1
  fi
done < <(c++filt <<<"$defined" | grep -E '^(typeinfo name for |typeinfo for |vtable for |non-virtual thunk to )?ferry::')
count=$(c++filt <<<"$defined" | grep -cE '(^|for )ferry::' || true)
echo "exports: $soname, $(wc -w <<<"$declared_c") C functions, $count C++ symbols of the public API"
exit $fail
