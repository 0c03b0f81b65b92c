#!/usr/bin/env bash
# Replaces the lines between <!-- NAME:begin --> and <!-- NAME:end --> in a README with a markdown file
# (the output of `modelrollout bench api --markdown FILE`, NAME = bench, or of `modelrollout bench --markdown
# FILE`, NAME = bench-policies). The markers themselves are kept.
#
# Usage: scripts/update-readme-bench.sh MARKDOWN_FILE [README [NAME]]   (README.md and bench by default)
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 3 ]; then
    echo "usage: $0 MARKDOWN_FILE [README [NAME]]" >&2
    exit 2
fi
markdown=$1
readme=${2:-README.md}
name=${3:-bench}
case "$name" in
    *[!A-Za-z0-9_-]* | "") echo "$0: marker name must be letters, digits, - or _" >&2; exit 2 ;;
esac
begin="<!-- $name:begin -->"
end="<!-- $name:end -->"

[ -f "$markdown" ] || { echo "$0: $markdown: no such file" >&2; exit 1; }
[ -f "$readme" ] || { echo "$0: $readme: no such file" >&2; exit 1; }
begins=$(grep -cxF "$begin" "$readme" || true)
ends=$(grep -cxF "$end" "$readme" || true)
if [ "$begins" != 1 ] || [ "$ends" != 1 ]; then
    echo "$0: $readme must contain exactly one '$begin' and one '$end' line" >&2
    exit 1
fi
if [ "$(grep -nxF "$begin" "$readme" | cut -d: -f1)" -gt "$(grep -nxF "$end" "$readme" | cut -d: -f1)" ]; then
    echo "$0: $readme: '$end' comes before '$begin'" >&2
    exit 1
fi

tmp=$(mktemp "${readme}.XXXXXX")
trap 'rm -f "$tmp"' EXIT
awk -v file="$markdown" -v begin="$begin" -v end="$end" '
    $0 == begin { print; while ((getline line < file) > 0) print line; skipping = 1; next }
    $0 == end { skipping = 0 }
    !skipping { print }
' "$readme" > "$tmp"
chmod --reference="$readme" "$tmp" 2>/dev/null || true
mv "$tmp" "$readme"
trap - EXIT
echo "updated the $name section of $readme from $markdown"
