/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The protocol engine (tunnel.h, docs/PROTOCOL.md): handshake initiations and responses, data and keepalives,
 * tunnel_receive().
 * Pure: datagrams in, datagrams and frames out, time passed in.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "tunnel/engine.h"
#include "common/keys.h"

/* ---- receiving ---- */

struct tunnel_peer *eng_peer_by_key(struct tunnel *t, const uint8_t pub[KEY_LEN])
{
	struct tunnel_peer *p;

	for (p = t->peers; p; p = p->next_peer)
		if (!memcmp(p->pub, pub, KEY_LEN))
			return p;
	return NULL;
}

static void store_remote_segments(struct tunnel_peer *p, const struct wire_hs_payload *pl)
{
	char (*segs)[TUNNEL_SEGMENT_NAME_MAX] = NULL;
	size_t i;

	p->remote_gso = (pl->features & WIRE_FEAT_GSO) != 0;
	p->remote_uso = (pl->features & WIRE_FEAT_USO) != 0;
	if (pl->n_segments) {
		segs = calloc(pl->n_segments, sizeof(*segs));
		if (!segs)
			return;
		for (i = 0; i < pl->n_segments; i++)
			memcpy(segs[i], pl->segments[i], TUNNEL_SEGMENT_NAME_MAX);
	}
	free(p->remote_segments);
	p->remote_segments = segs;
	p->n_remote = pl->n_segments;
}

static int check_crypt(struct tunnel_peer *p, const struct wire_hs_payload *pl)
{
	unsigned ours = p->crypt == TUNNEL_CRYPT_AEAD ? WIRE_CRYPT_AEAD : WIRE_CRYPT_NONE;
	char b64[KEY_B64_LEN], detail[160];

	if (pl->crypt == ours)
		return 0;
	key_to_base64(p->pub, b64);
	snprintf(detail, sizeof(detail),
		 "crypt mode mismatch: peer %s uses encryption %s, we use %s",
		 b64, eng_crypt_name(pl->crypt), eng_crypt_name(ours));
	eng_emit(p->t, p, TUNNEL_EV_HANDSHAKE_REJECTED, detail);
	return -EPROTO;
}

static int rx_initiation(struct tunnel *t, const uint8_t *pkt, size_t len,
			 const struct sockaddr *src, socklen_t src_len, uint64_t now,
			 struct tunnel_batch *out)
{
	struct noise_init_state st;
	struct wire_hs_payload *pl = NULL;
	struct noise_keys keys;
	struct tunnel_peer *p;
	struct keypair *kp = NULL;
	uint8_t tai[WIRE_TAI64N_LEN], payload[WIRE_HS_PAYLOAD_LEN], *slot;
	enum aead_cipher c = AEAD_NONE;
	char b64[KEY_B64_LEN], detail[256];
	uint32_t idx, remote;
	int r, plen, rlen;

	memset(&keys, 0, sizeof(keys));
	if (len != WIRE_INIT_LEN)
		return eng_drop(t, NULL, TUNNEL_DROP_MALFORMED, -EBADMSG);
	if (!noise_mac1_ok(t->stat->mac1_key, pkt, len))
		return eng_drop(t, NULL, TUNNEL_DROP_AUTH, -EACCES);
	r = noise_consume_initiation_static(t->stat, pkt, len, &st);
	if (r < 0) {
		noise_wipe(&st, sizeof(st));
		return eng_drop(t, NULL, TUNNEL_DROP_AUTH, -EACCES);
	}
	p = eng_peer_by_key(t, st.s_i);
	if (!p) {
		key_to_base64(st.s_i, b64);
		snprintf(detail, sizeof(detail), "handshake from unknown peer key %s", b64);
		noise_wipe(&st, sizeof(st));
		eng_emit(t, NULL, TUNNEL_EV_HANDSHAKE_REJECTED, detail);
		return eng_drop(t, NULL, TUNNEL_DROP_UNKNOWN_PEER, -EPERM);
	}
	r = noise_consume_initiation_payload(&st, p->np, pkt, tai, payload);
	if (r < 0) {
		r = eng_drop(t, p, TUNNEL_DROP_AUTH, -EACCES);
		goto out;
	}
	/* Replayed (or reordered, older) initiation. */
	if (memcmp(tai, p->last_tai, sizeof(tai)) <= 0) {
		r = eng_drop(t, p, TUNNEL_DROP_HANDSHAKE, -ESTALE);
		goto out;
	}
	/* Loop guard, first layer: one live session per identity. A second
	 * daemon with the same key, or the same peer reachable at a second
	 * address, must not take over a session that is alive elsewhere (that
	 * would put two tunnels into one bridge pair): the established session
	 * wins until it falls silent. A restart at the same address passes. */
	if (p->session_up && p->has_endpoint && eng_peer_heard(p, now) &&
	    !eng_addr_equal(&p->endpoint, p->endpoint_len, src, src_len)) {
		char cur[INET6_ADDRSTRLEN + 16], other[INET6_ADDRSTRLEN + 16];
		struct sockaddr_storage ss;

		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, src, src_len < sizeof(ss) ? src_len : sizeof(ss));
		eng_addr_to_string(&p->endpoint, cur, sizeof(cur));
		eng_addr_to_string(&ss, other, sizeof(other));
		key_to_base64(p->pub, b64);
		snprintf(detail, sizeof(detail),
			 "duplicate identity: %s already has a live session from %s; "
			 "refusing the handshake from %s", b64, cur, other);
		eng_emit(t, p, TUNNEL_EV_HANDSHAKE_REJECTED, detail);
		r = eng_drop(t, p, TUNNEL_DROP_HANDSHAKE, -EEXIST);
		goto out;
	}
	pl = malloc(sizeof(*pl));
	if (!pl) {
		r = -ENOMEM;
		goto out;
	}
	if (wire_hs_payload_decode(payload, sizeof(payload), pl) < 0) {
		r = eng_drop(t, p, TUNNEL_DROP_MALFORMED, -EBADMSG);
		goto out;
	}
	if (check_crypt(p, pl) < 0) {
		r = eng_drop(t, p, TUNNEL_DROP_HANDSHAKE, -EPROTO);
		goto out;
	}
	if (p->crypt == TUNNEL_CRYPT_AEAD) {
		if ((pl->ciphers & WIRE_CIPHER_AESGCM) && t->aesgcm)
			c = AEAD_AES256GCM;
		else if (pl->ciphers & WIRE_CIPHER_CHACHA)
			c = AEAD_CHACHA20POLY1305;
		else {
			key_to_base64(p->pub, b64);
			snprintf(detail, sizeof(detail), "no common cipher with peer %s", b64);
			eng_emit(t, p, TUNNEL_EV_HANDSHAKE_REJECTED, detail);
			r = eng_drop(t, p, TUNNEL_DROP_HANDSHAKE, -EPROTO);
			goto out;
		}
	}
	slot = eng_batch_slot(out);
	if (!slot) {
		/* Not counted: the initiator retries; nothing consumed. */
		r = -ENOBUFS;
		goto out;
	}
	/* the response offers GSO only to an initiator that did */
	p->remote_gso = (pl->features & WIRE_FEAT_GSO) != 0;
	p->remote_uso = (pl->features & WIRE_FEAT_USO) != 0;
	plen = eng_hs_payload(p, false, c, payload);
	if (plen < 0) {
		r = plen;
		goto out;
	}
	r = index_table_alloc(&t->idx, IDX_KEYPAIR, NULL, &idx);
	if (r < 0)
		goto out;
	remote = st.sender;
	/* Wipes st. */
	rlen = noise_create_response(&st, p->np, idx, payload, (size_t)plen, slot, &keys);
	if (rlen < 0 || (size_t)rlen > len) {
		/* Never answer with more than we got (anti-amplification). */
		index_table_remove(&t->idx, idx);
		r = eng_drop(t, p, TUNNEL_DROP_HANDSHAKE, -EPROTO);
		goto out;
	}
	r = eng_kp_new(p, &keys, c, false, now, &kp);
	if (r < 0) {
		index_table_remove(&t->idx, idx);
		goto out;
	}
	kp->local_index = idx;
	kp->remote_index = remote;
	index_table_find(&t->idx, idx)->ptr = kp;
	memcpy(p->last_tai, tai, sizeof(tai));
	store_remote_segments(p, pl);
	eng_kp_begin_session(p, kp);
	p->last_rx_ns = now;
	eng_peer_set_endpoint(p, src, src_len, true, false);
	eng_batch_commit(out, (size_t)rlen, src, src_len);
	r = 0;
out:
	noise_wipe(&st, sizeof(st));
	noise_wipe(&keys, sizeof(keys));
	free(pl);
	return r;
}

static int rx_response(struct tunnel *t, const uint8_t *pkt, size_t len,
		       const struct sockaddr *src, socklen_t src_len, uint64_t now,
		       struct tunnel_batch *out)
{
	struct index_entry *e;
	struct tunnel_peer *p;
	struct wire_hs_payload *pl = NULL;
	struct noise_keys keys;
	struct keypair *kp;
	uint8_t payload[WIRE_HS_PAYLOAD_LEN];
	size_t plen;
	enum aead_cipher c = AEAD_NONE;
	char b64[KEY_B64_LEN], detail[128];
	uint8_t offered;
	int r;

	if (len < WIRE_RESP_MIN_LEN || len > WIRE_RESP_MAX_LEN)
		return eng_drop(t, NULL, TUNNEL_DROP_MALFORMED, -EBADMSG);
	if (!noise_mac1_ok(t->stat->mac1_key, pkt, len))
		return eng_drop(t, NULL, TUNNEL_DROP_AUTH, -EACCES);
	e = index_table_find(&t->idx, wire_get32(pkt + WIRE_RESP_OFF_RECEIVER));
	if (!e || e->kind != IDX_HANDSHAKE)
		return eng_drop(t, NULL, TUNNEL_DROP_UNKNOWN_INDEX, -ENOENT);
	p = e->ptr;
	plen = len - WIRE_RESP_OFF_PAYLOAD - WIRE_TAG_LEN - WIRE_MAC_LEN;
	memset(&keys, 0, sizeof(keys));
	r = noise_consume_response(p->np, t->stat, pkt, len, payload, &keys);
	if (r < 0) {
		r = eng_drop(t, p, TUNNEL_DROP_AUTH, -EACCES);
		goto out;
	}
	/* The handshake is spent whatever follows. */
	p->hs_pending = false;
	pl = malloc(sizeof(*pl));
	if (!pl) {
		index_table_remove(&t->idx, p->np->sender);
		r = -ENOMEM;
		goto out;
	}
	if (wire_hs_payload_decode(payload, plen, pl) < 0) {
		index_table_remove(&t->idx, p->np->sender);
		r = eng_drop(t, p, TUNNEL_DROP_MALFORMED, -EBADMSG);
		goto out;
	}
	if (check_crypt(p, pl) < 0) {
		index_table_remove(&t->idx, p->np->sender);
		r = eng_drop(t, p, TUNNEL_DROP_HANDSHAKE, -EPROTO);
		goto out;
	}
	if (p->crypt == TUNNEL_CRYPT_AEAD) {
		offered = WIRE_CIPHER_CHACHA | (t->aesgcm ? WIRE_CIPHER_AESGCM : 0);
		if (pl->ciphers == WIRE_CIPHER_AESGCM && (offered & WIRE_CIPHER_AESGCM))
			c = AEAD_AES256GCM;
		else if (pl->ciphers == WIRE_CIPHER_CHACHA)
			c = AEAD_CHACHA20POLY1305;
		else {
			key_to_base64(p->pub, b64);
			snprintf(detail, sizeof(detail), "peer %s chose a cipher we did not offer", b64);
			eng_emit(t, p, TUNNEL_EV_HANDSHAKE_REJECTED, detail);
			index_table_remove(&t->idx, p->np->sender);
			r = eng_drop(t, p, TUNNEL_DROP_HANDSHAKE, -EPROTO);
			goto out;
		}
	}
	r = eng_kp_new(p, &keys, c, true, now, &kp);
	if (r < 0) {
		index_table_remove(&t->idx, p->np->sender);
		goto out;
	}
	/* The handshake's index becomes the session's. */
	kp->local_index = p->np->sender;
	kp->remote_index = wire_get32(pkt + WIRE_RESP_OFF_SENDER);
	e->kind = IDX_KEYPAIR;
	e->ptr = kp;
	p->hs_backoff_ns = 0;
	store_remote_segments(p, pl);
	if (p->hs_plain && !p->remote_gso && !p->gso_upgrade_tried)
		p->gso_upgrade_at = now + GSO_UPGRADE_NS;
	eng_kp_begin_session(p, kp);
	p->last_rx_ns = now;
	/* the response answers our ephemeral key: fresh, and from the peer */
	eng_peer_set_endpoint(p, src, src_len, true, true);
	eng_session_established(p, kp, now);
	/* Confirm the session to the responder: queued frames or a keepalive. */
	if (eng_queue_flush(p, now, out) == 0)
		eng_send_keepalive(p, kp, WIRE_KIND_KEEPALIVE, now, now, out);
	r = 0;
out:
	noise_wipe(&keys, sizeof(keys));
	free(pl);
	return r;
}

static void rtt_sample(struct tunnel_peer *p, uint64_t rtt)
{
	p->st.rtt_last_ns = rtt;
	if (p->rtt_n == 0 || rtt < p->st.rtt_min_ns)
		p->st.rtt_min_ns = rtt;
	if (rtt > p->st.rtt_max_ns)
		p->st.rtt_max_ns = rtt;
	p->rtt_sum += rtt;
	p->rtt_n++;
	p->st.rtt_avg_ns = p->rtt_sum / p->rtt_n;
	p->st.keepalives_rx++;
}

static int rx_data(struct tunnel *t, const uint8_t *pkt, size_t len,
		   const struct sockaddr *src, socklen_t src_len, uint64_t now,
		   struct tunnel_batch *out)
{
	const struct tunnel_params *pr = &t->params;
	struct wire_data_hdr h;
	struct index_entry *e;
	struct tunnel_peer *p;
	struct keypair *kp;
	const uint8_t *body, *frame;
	size_t body_len, tag, s;
	unsigned evicted;
	int r;

	if (wire_data_hdr_decode(pkt, len, &h) < 0)
		return eng_drop(t, NULL, TUNNEL_DROP_MALFORMED, -EBADMSG);
	e = index_table_find(&t->idx, h.receiver);
	if (!e || e->kind != IDX_KEYPAIR)
		return eng_drop(t, NULL, TUNNEL_DROP_UNKNOWN_INDEX, -ENOENT);
	kp = e->ptr;
	p = kp->peer;
	tag = aead_overhead(kp->recv);
	if (len < WIRE_DATA_HDR_LEN + tag)
		return eng_drop(t, p, TUNNEL_DROP_MALFORMED, -EBADMSG);
	body_len = len - WIRE_DATA_HDR_LEN - tag;
	if (wire_data_check_body(&h, body_len) < 0)
		return eng_drop(t, p, TUNNEL_DROP_MALFORMED, -EBADMSG);
	if (!eng_kp_alive(t, kp, now))
		return eng_drop(t, p, TUNNEL_DROP_UNKNOWN_INDEX, -ENOENT);
	if (!replay_check(&kp->replay, h.counter, pr->reject_after_messages))
		return eng_drop(t, p, TUNNEL_DROP_REPLAY, -EALREADY);
	if (kp->cipher == AEAD_NONE) {
		body = pkt + WIRE_DATA_HDR_LEN;
	} else {
		if (aead_open(kp->recv, h.counter, pkt, WIRE_DATA_HDR_LEN,
			      pkt + WIRE_DATA_HDR_LEN, len - WIRE_DATA_HDR_LEN, out->scratch) < 0)
			return eng_drop(t, p, TUNNEL_DROP_AUTH, -EACCES);
		body = out->scratch;
	}
	if (!replay_update(&kp->replay, h.counter, pr->reject_after_messages))
		return eng_drop(t, p, TUNNEL_DROP_REPLAY, -EALREADY);
	kp->rx_count++;
	p->last_rx_ns = now;
	/* In none mode nothing here is authenticated: do not let it move the
	 * endpoint (docs/PROTOCOL.md); from the endpoint the handshake set, it
	 * confirms it as much as none mode confirms anything. */
	if (kp->cipher != AEAD_NONE)
		eng_peer_set_endpoint(p, src, src_len, true, true);
	else if (p->has_endpoint && eng_addr_equal(&p->endpoint, p->endpoint_len, src, src_len))
		p->ep_confirmed = true;
	if (kp == p->kp_next) {
		/* The initiator used the new session: confirmed. */
		eng_kp_free(t, p->kp_prev);
		p->kp_prev = p->kp_cur;
		p->kp_cur = kp;
		p->kp_next = NULL;
		eng_session_established(p, kp, now);
		eng_queue_flush(p, now, out);
	}

	switch (h.kind) {
	case WIRE_KIND_KEEPALIVE:
		if (eng_kp_can_send(t, p->kp_cur, now, 1))
			eng_send_keepalive(p, p->kp_cur, WIRE_KIND_ECHO, wire_get64(body), now, out);
		return 0;
	case WIRE_KIND_ECHO: {
		uint64_t stamp = wire_get64(body);

		/* Our own stamp coming back; authenticated in aead mode. */
		if (stamp <= now && now - stamp < 60 * NSEC)
			rtt_sample(p, now - stamp);
		return 0;
	}
	default:
		break;
	}

	for (s = 0; s < p->n_segments; s++)
		if (p->seg_ids[s] == h.segment_id)
			break;
	if (s == p->n_segments)
		return eng_drop(t, p, TUNNEL_DROP_SEGMENT, -ENXIO);
	if (h.frag_count == 1) {
		frame = body;
	} else {
		r = frag_add(&p->frags, &h, body, body_len, now, &frame, &evicted);
		p->st.drops[TUNNEL_DROP_FRAGMENT] += evicted;
		if (r < 0)
			return eng_drop(t, p, TUNNEL_DROP_FRAGMENT, r);
		if (r == 0)
			return 0;
	}
	if (h.kind == WIRE_KIND_GSO) {
		if (!t->cb.deliver_vnet || !t->params.offer_gso)
			return eng_drop(t, p, TUNNEL_DROP_MALFORMED, -EPROTO);
		if (h.frame_len > WIRE_VNET_HDR_LEN)
			eng_note_frame(p, frame + WIRE_VNET_HDR_LEN, h.frame_len - WIRE_VNET_HDR_LEN, now);
		p->st.rx_frames++;
		p->st.rx_bytes += h.frame_len - WIRE_VNET_HDR_LEN;
		t->cb.deliver_vnet(t->cb.ctx, p, s, frame, h.frame_len);
		return 0;
	}
	p->st.rx_frames++;
	p->st.rx_bytes += h.frame_len;
	eng_note_frame(p, frame, h.frame_len, now);
	if (t->cb.deliver)
		t->cb.deliver(t->cb.ctx, p, s, frame, h.frame_len);
	return 0;
}

int tunnel_receive(struct tunnel *t, const uint8_t *pkt, size_t len,
		   const struct sockaddr *src, socklen_t src_len,
		   uint64_t now_ns, struct tunnel_batch *out)
{
	if (!src || src_len == 0 || src_len > sizeof(struct sockaddr_storage))
		return -EINVAL;
	if (len < 4 || len > TUNNEL_DGRAM_MAX)
		return eng_drop(t, NULL, TUNNEL_DROP_MALFORMED, -EBADMSG);
	switch (pkt[0]) {
	case WIRE_TYPE_DATA:
		return rx_data(t, pkt, len, src, src_len, now_ns, out);
	case WIRE_TYPE_INITIATION:
		if (pkt[1] | pkt[2] | pkt[3])
			break;
		return rx_initiation(t, pkt, len, src, src_len, now_ns, out);
	case WIRE_TYPE_RESPONSE:
		if (pkt[1] | pkt[2] | pkt[3])
			break;
		return rx_response(t, pkt, len, src, src_len, now_ns, out);
	default:
		break;
	}
	return eng_drop(t, NULL, TUNNEL_DROP_MALFORMED, -EBADMSG);
}
