#!/bin/sh
# Second run, after a --dir ($2) and a --tmpfs ($3) were made through the planted link $1: where are they?
target=$(readlink "$1")
echo "link_target $target"
echo "made_inside $(test -d "$target/$2" && echo yes || echo no)"
echo "tmpfs_inside $(grep -c " $target/$3 " /proc/self/mountinfo)"
