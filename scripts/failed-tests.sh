#!/usr/bin/env bash
# Prints each failed test of the given TRX files with the first lines of its message.
set -euo pipefail
for trx in "$@"; do
  [ -f "$trx" ] || continue
  awk '
    /<UnitTestResult / && /outcome="Failed"/ {
      match($0, /testName="[^"]*"/); name = substr($0, RSTART + 10, RLENGTH - 11)
      print "FAILED: " name; failed = 1; lines = 0; next
    }
    failed && /<Message>/ { inmsg = 1; sub(/.*<Message>/, "") }
    failed && inmsg {
      end = sub(/<\/Message>.*/, "")
      if (lines++ < 15) print "    " $0
      if (end) { inmsg = 0; failed = 0 }
    }
    failed && /<\/UnitTestResult>/ { failed = 0; inmsg = 0 }
  ' "$trx"
done
