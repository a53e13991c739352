#!/bin/sh
# unshare(1) as a user would type it: a user namespace (with root mapped) or a mount namespace.
for opts in -U -r -m -n; do
  msg=$(unshare $opts true 2>&1)
  echo "unshare$opts $? ${msg##*: }"
done
