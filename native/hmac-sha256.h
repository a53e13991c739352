/* HMAC-SHA-256 (FIPS 180-4, RFC 2104): the plan cache's entries carry one, keyed by a secret only the user's own
 * processes outside any sandbox can read, so an entry a sandbox wrote is never run. */
#ifndef SANDBOX_HMAC_SHA256_H
#define SANDBOX_HMAC_SHA256_H

#include <stddef.h>
#include <stdint.h>

void hmac_sha256(const unsigned char *key, size_t keylen, const unsigned char *msg, size_t len, unsigned char out[32]);

#endif
