# Run inside the chromium profile: start Chromium headless on the page $1, wait until its renderer
# processes exist, print each one's NSpid, Seccomp and Seccomp_filters lines (and this shell's, for the
# count the sandbox's own filter gives), then end it.
echo "shell $(grep -E '^(NSpid|Seccomp|Seccomp_filters):' /proc/$$/status | tr '\n\t' '  ')"
chromium --headless --disable-gpu --no-first-run --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir=/tmp/probe-profile --remote-debugging-port=0 "$1" 2>/dev/null &
found=
for i in $(seq 1 200); do
  for s in /proc/[0-9]*; do
    { tr '\0' ' ' < "$s/cmdline" | grep -q -- '--type=renderer'; } 2>/dev/null && found="$found $s"
  done
  [ -n "$found" ] && break
  sleep 0.1
done
for s in $found; do echo "renderer $(grep -E '^(NSpid|Seccomp|Seccomp_filters):' "$s/status" | tr '\n\t' '  ')"; done
kill $! 2>/dev/null
wait
