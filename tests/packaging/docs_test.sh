#!/usr/bin/env bash
# The man page and the bash completion the build writes cover the tool:
#   docs_test.sh FERRY MAN_PAGE COMPLETION
# - every verb of `ferry --help` has its section, with every option its --help lists;
# - groff renders the page without a warning;
# - the completion completes verbs, `help VERB` and a verb's options.
set -euo pipefail
ferry=$1
page=$2
completion=$3
fail=0
verbs=$("$ferry" --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 && /^  [a-z]/ {print $1}')
[[ $(wc -w <<<"$verbs") -ge 20 ]] || { echo "docs: found only these verbs in ferry --help: $verbs" >&2; exit 1; }
plain=$(sed 's/\\-/-/g' "$page")  # roff's \- as the - it prints.
for verb in $verbs; do
  section=$(awk -v v="$verb" '$0 ~ "^\\.SS \"ferry " v "( |\")" {on=1; next} /^\.S[SH]/ {on=0} on' <<<"$plain")
  [[ -n $section ]] || { echo "docs: the man page has no section for ferry $verb" >&2; fail=1; continue; }
  for option in $("$ferry" "$verb" --help | sed -n '/^Options:/,$p' | grep -oE '^  -[^ ]+' | tr ',' ' '); do
    [[ $option == -h || $option == --help ]] && continue
    grep -qF -- "$option" <<<"$section" || { echo "docs: ferry $verb's $option is not in the man page" >&2; fail=1; }
  done
done
for option in $("$ferry" --help | sed -n '/^Options:/,/^$/p' | grep -oE '^  -[^ ]+' | tr ',' ' '); do
  grep -qF -- "$option" <<<"$plain" || { echo "docs: ferry's $option is not in the man page" >&2; fail=1; }
done
warnings=$(groff -man -ww -z -Tutf8 "$page" 2>&1)
[[ -z $warnings ]] || { echo "docs: groff warns: $warnings" >&2; fail=1; }
complete_line() {  # The completions bash offers for the words given, the last being completed.
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ferry; printf "%s\n" "${COMPREPLY[@]}"' \
    sh "$completion" "$@"
}
expect() {  # expect WANTED WORDS...
  local wanted=$1 got
  shift
  got=$(complete_line "$@" | tr '\n' ' ')
  [[ " $got" == *" $wanted "* ]] || { echo "docs: completing '$*' offers '$got', not $wanted" >&2; fail=1; }
}
expect export ferry exp
expect check-proof ferry check
expect import ferry help imp
expect --peer ferry export db --pe
expect --encrypt-for ferry export db --enc
expect --forget ferry trust db add --fo
expect --quiet ferry import db --qu
[[ -z $(complete_line ferry export db --zz) ]] || { echo "docs: completing an unknown option offers something" >&2; fail=1; }
echo "docs: $(wc -w <<<"$verbs") verbs in the man page and the completion"
exit $fail
