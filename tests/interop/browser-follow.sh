#!/bin/sh
# A stand-in browser for login tests, used as $BROWSER: it follows the authorization URL's
# redirects with curl the way a browser whose user is already signed in would, ending on
# the bridge's loopback callback. CLARIBI_TEST_BROWSER_DELAY: seconds to wait first.
# CLARIBI_TEST_BROWSER_LOG: a file to append each launch to (tests count them).
[ -n "${CLARIBI_TEST_BROWSER_LOG:-}" ] && echo "launch $$" >>"$CLARIBI_TEST_BROWSER_LOG"
sleep "${CLARIBI_TEST_BROWSER_DELAY:-0}"
exec curl -sS -L --max-redirs 10 -o /dev/null "$1"
