/* Overlays (bwrap's --overlay, --tmp-overlay, --ro-overlay): overlayfs mounted in the sandbox's user namespace
 * (Linux 5.11+). The layers are opened while the host's tree is whole (phase 1 of build_root) and named to the
 * kernel by their /proc/self/fd links, so a tmpfs over /tmp or a later mount can't change what they are. */
#ifndef SANDBOX_OVERLAY_H
#define SANDBOX_OVERLAY_H

#include "plan.h"

struct overlay_layers { int *fds; size_t n; }; /* lower layers bottom first, then upper and work (when given) */

/* Phase 1: open every host directory of the op; dies naming the op when one can't be opened. */
void overlay_open(const struct op *o, struct overlay_layers *l);
/* Phase 3: mount the overlay on dstfd (a directory inside the new root); scratch is a directory on the stage's
 * own tmpfs for the upper and work directories of a throw-away overlay. Closes the layers. */
void overlay_mount(const struct op *o, struct overlay_layers *l, int dstfd, const char *scratch);

#endif
