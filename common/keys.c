/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Node identity keys (keys.h): generation, base64 in the WireGuard format,
 * loading a private key file with a permission check. Never logs a key.
 */
#include "common/keys.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

int key_generate_private(uint8_t ret_priv[KEY_LEN])
{
	if (sodium_init() < 0)
		return -EIO;
	randombytes_buf(ret_priv, KEY_LEN);
	/* Clamp as WireGuard does, so the stored key is canonical. */
	ret_priv[0] &= 248;
	ret_priv[31] = (ret_priv[31] & 127) | 64;
	return 0;
}

int key_public_from_private(const uint8_t priv[KEY_LEN], uint8_t ret_pub[KEY_LEN])
{
	uint8_t pub[KEY_LEN];

	if (sodium_init() < 0)
		return -EIO;
	if (crypto_scalarmult_base(pub, priv) != 0)
		return -EINVAL;
	memcpy(ret_pub, pub, KEY_LEN);
	return 0;
}

void key_to_base64(const uint8_t key[KEY_LEN], char ret[KEY_B64_LEN])
{
	sodium_bin2base64(ret, KEY_B64_LEN, key, KEY_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
}

int key_from_base64(const char *s, uint8_t ret[KEY_LEN])
{
	uint8_t key[KEY_LEN];
	size_t len, bin_len;
	const char *end;

	if (!s)
		return -EINVAL;
	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	/* 32 bytes are exactly 44 characters with one '=' of padding. */
	if (len != KEY_B64_LEN - 1 || s[len - 1] != '=' || s[len - 2] == '=')
		return -EINVAL;
	if (sodium_base642bin(key, sizeof(key), s, len, NULL, &bin_len, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    bin_len != KEY_LEN || end != s + len) {
		sodium_memzero(key, sizeof(key));
		return -EINVAL;
	}
	memcpy(ret, key, KEY_LEN);
	sodium_memzero(key, sizeof(key));
	return 0;
}

int key_load_private_file(const char *path, uint8_t ret_priv[KEY_LEN])
{
	char buf[128];
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		r = -EPERM;
		goto out;
	}
	for (;;) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf) - 1) {
			/* Longer than any key file: not a key. */
			r = -EINVAL;
			goto out;
		}
	}
	buf[len] = '\0';
	r = key_from_base64(buf, ret_priv);
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return r;
}
