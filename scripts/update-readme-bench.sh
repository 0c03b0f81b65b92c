#!/usr/bin/env bash
# Replaces the lines between <!-- bench:begin --> and <!-- bench:end --> in a README with a markdown file
# (the output of `modelrollout bench api --markdown FILE`). The markers themselves are kept.
#
# Usage: scripts/update-readme-bench.sh MARKDOWN_FILE [README]   (README defaults to README.md)
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 MARKDOWN_FILE [README]" >&2
    exit 2
fi
markdown=$1
readme=${2:-README.md}

[ -f "$markdown" ] || { echo "$0: $markdown: no such file" >&2; exit 1; }
[ -f "$readme" ] || { echo "$0: $readme: no such file" >&2; exit 1; }
begins=$(grep -c '^<!-- bench:begin -->$' "$readme" || true)
ends=$(grep -c '^<!-- bench:end -->$' "$readme" || true)
if [ "$begins" != 1 ] || [ "$ends" != 1 ]; then
    echo "$0: $readme must contain exactly one '<!-- bench:begin -->' and one '<!-- bench:end -->' line" >&2
    exit 1
fi
if [ "$(grep -n '^<!-- bench:begin -->$' "$readme" | cut -d: -f1)" -gt \
     "$(grep -n '^<!-- bench:end -->$' "$readme" | cut -d: -f1)" ]; then
    echo "$0: $readme: '<!-- bench:end -->' comes before '<!-- bench:begin -->'" >&2
    exit 1
fi

tmp=$(mktemp "${readme}.XXXXXX")
trap 'rm -f "$tmp"' EXIT
awk -v file="$markdown" '
    $0 == "<!-- bench:begin -->" { print; while ((getline line < file) > 0) print line; skipping = 1; next }
    $0 == "<!-- bench:end -->" { skipping = 0 }
    !skipping { print }
' "$readme" > "$tmp"
chmod --reference="$readme" "$tmp" 2>/dev/null || true
mv "$tmp" "$readme"
trap - EXIT
echo "updated the benchmark section of $readme from $markdown"
