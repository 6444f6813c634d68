/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Node identity keys: static X25519 key pairs, base64 as in WireGuard
 * (44 characters). Private keys belong in sodium_malloc'd memory; nothing
 * here logs a key.
 */
#ifndef BRIDGED_COMMON_KEYS_H
#define BRIDGED_COMMON_KEYS_H

#include <stdint.h>

#define KEY_LEN 32
#define KEY_B64_LEN 45   /* 44 characters and NUL */

int key_generate_private(uint8_t ret_priv[KEY_LEN]);
int key_public_from_private(const uint8_t priv[KEY_LEN], uint8_t ret_pub[KEY_LEN]);
void key_to_base64(const uint8_t key[KEY_LEN], char ret[KEY_B64_LEN]);
/* Accepts exactly one base64 key (surrounding whitespace allowed); -EINVAL. */
int key_from_base64(const char *s, uint8_t ret[KEY_LEN]);
/* Reads a private key file (base64, one line). Refuses (-EPERM) a file that
 * group or others can read; -errno when it cannot be read; -EINVAL if the
 * content is not a key. */
int key_load_private_file(const char *path, uint8_t ret_priv[KEY_LEN]);

#endif
