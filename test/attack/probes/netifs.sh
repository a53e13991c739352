#!/bin/sh
# Which network interfaces are there to reach the host's network from?
echo "interfaces $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | xargs)"
