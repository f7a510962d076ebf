#!/bin/sh
# A stand-in browser for login tests, used as $BROWSER: it follows the authorization URL's
# redirects with curl the way a browser whose user is already signed in would, ending on
# the bridge's loopback callback. BROWSER_FOLLOW_DELAY: seconds to wait first.
# BROWSER_FOLLOW_LOG: a file to append each launch to (tests count them).
[ -n "${BROWSER_FOLLOW_LOG:-}" ] && echo "launch $$" >>"$BROWSER_FOLLOW_LOG"
sleep "${BROWSER_FOLLOW_DELAY:-0}"
exec curl -sS -L --max-redirs 10 -o /dev/null "$1"
