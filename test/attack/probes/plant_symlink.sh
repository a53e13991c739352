#!/bin/sh
# First run: plant symlinks (TARGET LINK pairs) in a read-write bind, for a later run's mounts to go through.
while [ $# -gt 1 ]; do
  ln -s "$1" "$2" && echo "planted $2 -> $(readlink "$2")"
  shift 2
done
