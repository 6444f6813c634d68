/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The protocol engine (tunnel.h, docs/PROTOCOL.md): encapsulation and fragmentation of frames, handshake initiations,
 * keepalives, the queue of frames waiting for a session, rekeying.
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
#include "tunnel/tso.h"
#include "tunnel/vnet.h"

/* ---- sending ---- */

/* Appends the datagrams of one frame (or keepalive) to out: pre (pre_len
 * bytes, may be 0) then data (len bytes), as one frame. */
static int encap_two(struct tunnel_peer *p, struct keypair *kp, uint8_t kind,
		     uint32_t seg_id, const uint8_t *pre, size_t pre_len,
		     const uint8_t *data, size_t len, uint64_t now, struct tunnel_batch *out)
{
	size_t total = pre_len + len;
	struct wire_data_hdr h = {
		.kind = kind, .receiver = kp->remote_index, .segment_id = seg_id,
		.frame_len = (uint16_t)total,
	};
	size_t chunk, off = 0, flen, tag = aead_overhead(kp->send), i;
	unsigned count;
	int r;

	if (total > WIRE_FRAME_MAX)
		return -EMSGSIZE;
	r = wire_frag_geometry(total, p->max_payload, &count, &chunk);
	if (r < 0)
		return r;
	if (out->n + count > out->cap)
		return -ENOBUFS;
	if (!eng_kp_can_send(p->t, kp, now, count) || !p->has_endpoint)
		return -ESTALE;
	h.frag_count = (uint8_t)count;
	for (i = 0; i < count; i++) {
		uint8_t *d = out->arena + out->n * TUNNEL_DGRAM_MAX, *pl = d + WIRE_DATA_HDR_LEN;

		flen = i + 1 < count ? chunk : total - off;
		h.frag_index = (uint8_t)i;
		h.counter = kp->send_counter++;
		wire_data_hdr_encode(d, &h);
		if (off >= pre_len) {
			aead_seal(kp->send, h.counter, d, WIRE_DATA_HDR_LEN, data + (off - pre_len), flen, pl);
		} else {
			/* gather the piece of pre and of data, seal in place */
			size_t a = pre_len - off < flen ? pre_len - off : flen;

			memcpy(pl, pre + off, a);
			memcpy(pl + a, data, flen - a);
			aead_seal(kp->send, h.counter, d, WIRE_DATA_HDR_LEN, pl, flen, pl);
		}
		eng_batch_commit(out, WIRE_DATA_HDR_LEN + flen + tag, &p->endpoint, p->endpoint_len);
		off += flen;
	}
	p->last_tx_ns = now;
	return (int)count;
}

static int encap_one(struct tunnel_peer *p, struct keypair *kp, uint8_t kind,
		     uint32_t seg_id, const uint8_t *data, size_t len, uint64_t now,
		     struct tunnel_batch *out)
{
	return encap_two(p, kp, kind, seg_id, NULL, 0, data, len, now, out);
}

/* A super-frame (vnet header, then the frame) sent as the segments the
 * kernel would make of it, each in its own datagram(s) with a partial
 * checksum (tso.h): a datagram lost costs one segment. -EPROTONOSUPPORT
 * (nothing sent): the caller sends it whole. All segments or none. */
static int encap_split(struct tunnel_peer *p, struct keypair *kp, uint32_t seg_id,
		       const uint8_t *vf, size_t vlen, uint64_t now, struct tunnel_batch *out)
{
	uint8_t hdr[VNET_HDR_LEN + TSO_HDR_MAX];
	struct vnet_hdr vh;
	struct tso t;
	size_t off, plen, hl, chunk;
	unsigned i, need = 0, c;
	int total = 0, r;

	if (vlen <= VNET_HDR_LEN)
		return -EPROTONOSUPPORT;
	vnet_hdr_decode(vf, &vh);
	if (tso_plan(&vh, vf + VNET_HDR_LEN, vlen - VNET_HDR_LEN, &t) < 0)
		return -EPROTONOSUPPORT;
	/* one datagram per TCP segment: smaller segments where the sender's
	 * do not fit (an inner MTU of 1500 over an underlay of 1500) */
	if (VNET_HDR_LEN + t.hlen + t.mss > p->max_payload && p->max_payload > VNET_HDR_LEN + t.hlen)
		tso_set_mss(&t, p->max_payload - VNET_HDR_LEN - t.hlen);
	/* every segment's datagrams, counted before any is written */
	for (i = 0; i < t.n; i++) {
		plen = i + 1 < t.n ? t.mss : t.len - t.hlen - (size_t)i * t.mss;
		if (wire_frag_geometry(VNET_HDR_LEN + t.hlen + plen, p->max_payload, &c, &chunk) < 0)
			return -EPROTONOSUPPORT;
		need += c;
	}
	if (need > out->cap)
		return -EPROTONOSUPPORT;
	if (out->n + need > out->cap)
		return -ENOBUFS;
	if (!eng_kp_can_send(p->t, kp, now, need) || !p->has_endpoint)
		return -ESTALE;
	for (i = 0; i < t.n; i++) {
		hl = tso_segment(&t, i, hdr, &off, &plen);
		r = encap_two(p, kp, WIRE_KIND_GSO, seg_id, hdr, hl, t.frame + off, plen, now, out);
		if (r < 0)
			return r;  /* not reached: counted above */
		total += r;
	}
	p->st.tx_split++;
	p->st.tx_split_segments += t.n;
	return total;
}

int eng_send_keepalive(struct tunnel_peer *p, struct keypair *kp, uint8_t kind,
			  uint64_t stamp, uint64_t now, struct tunnel_batch *out)
{
	uint8_t b[WIRE_KEEPALIVE_LEN];
	int r;

	wire_put64(b, stamp);
	r = encap_one(p, kp, kind, 0, b, sizeof(b), now, out);
	if (r > 0 && kind == WIRE_KIND_KEEPALIVE) {
		p->last_ka_tx_ns = now;
		p->st.keepalives_tx++;
	}
	return r;
}

/* Whether the next initiation goes without the feature bits: the sixth in
 * a row without an answer, then every third (a peer of before the bits
 * refuses them; a peer that is only starting answers one of the first five). */
bool eng_hs_plain(const struct tunnel_peer *p)
{
	return p->hs_tries >= 5 && p->hs_tries % 3 == 2;
}

int eng_hs_payload(const struct tunnel_peer *p, bool initiation, enum aead_cipher chosen,
		      uint8_t out[WIRE_HS_PAYLOAD_LEN])
{
	uint8_t ciphers = 0, feats = 0;

	if (p->crypt == TUNNEL_CRYPT_AEAD) {
		if (initiation)
			ciphers = WIRE_CIPHER_CHACHA | (p->t->aesgcm ? WIRE_CIPHER_AESGCM : 0);
		else
			ciphers = chosen == AEAD_AES256GCM ? WIRE_CIPHER_AESGCM : WIRE_CIPHER_CHACHA;
	}
	if (p->t->params.offer_gso)
		feats = WIRE_FEAT_GSO | (p->t->params.offer_uso ? WIRE_FEAT_USO : 0);
	/* Peers of before the feature bits refuse a payload with them. A
	 * response carries them only when the initiation did (an old
	 * initiator then never sees one); from the sixth unanswered
	 * initiation on, every third goes without them (eng_hs_plain), so
	 * an old responder answers that one. */
	if (initiation ? eng_hs_plain(p) : !p->remote_gso)
		feats = 0;
	return wire_hs_payload_encode_features(out, WIRE_HS_PAYLOAD_LEN,
					       p->crypt == TUNNEL_CRYPT_AEAD ? WIRE_CRYPT_AEAD : WIRE_CRYPT_NONE,
					       ciphers, feats, (const char (*)[32])p->segments, p->n_segments);
}

int eng_send_initiation(struct tunnel_peer *p, uint64_t now, struct tunnel_batch *out)
{
	struct tunnel *t = p->t;
	uint8_t payload[WIRE_HS_PAYLOAD_LEN], tai[WIRE_TAI64N_LEN], *slot;
	uint32_t idx, old = p->hs_pending ? p->np->sender : 0;
	int r, len;

	if (!p->has_endpoint)
		return 0;
	slot = eng_batch_slot(out);
	if (!slot)
		return -ENOBUFS;
	len = eng_hs_payload(p, true, AEAD_CHACHA20POLY1305, payload);
	if (len < 0)
		return len;
	r = index_table_alloc(&t->idx, IDX_HANDSHAKE, p, &idx);
	if (r < 0)
		return r;
	noise_tai64n(tai, now + (uint64_t)t->params.wallclock_offset_ns);
	r = noise_create_initiation(p->np, t->stat, p->pub, idx, tai, payload, (size_t)len, slot);
	if (r < 0) {
		index_table_remove(&t->idx, idx);
		return r;
	}
	if (old)
		index_table_remove(&t->idx, old);
	eng_batch_commit(out, WIRE_INIT_LEN, &p->endpoint, p->endpoint_len);
	if (!p->hs_pending || p->hs_backoff_ns == 0)
		p->hs_backoff_ns = t->params.hs_backoff_min_ns;
	else if (p->hs_backoff_ns < t->params.hs_backoff_max_ns / 2)
		p->hs_backoff_ns *= 2;
	else
		p->hs_backoff_ns = t->params.hs_backoff_max_ns;
	p->hs_pending = true;
	p->hs_sent_ns = now;
	if (!p->hs_first_ns)
		p->hs_first_ns = now;
	p->hs_plain = t->params.offer_gso && eng_hs_plain(p);
	p->hs_tries++;
	p->hs_retry_ns = now + eng_hs_retry_interval(p, now);
	return 1;
}

/* Drops queued frames older than QUEUE_AGE_NS. */
void eng_queue_age(struct tunnel_peer *p, uint64_t now)
{
	while (p->q_n && now - p->q[p->q_head].at_ns >= QUEUE_AGE_NS) {
		free(p->q[p->q_head].data);
		p->q[p->q_head].data = NULL;
		p->q_head = (p->q_head + 1) % TUNNEL_QUEUE_MAX;
		p->q_n--;
		p->st.drops[TUNNEL_DROP_NO_SESSION]++;
	}
}

static void queue_push(struct tunnel_peer *p, size_t seg, const uint8_t *data, size_t len,
		       bool vnet, uint64_t now)
{
	struct qframe *q;

	if (p->q_n >= p->t->params.queue_max || p->q_n >= TUNNEL_QUEUE_MAX) {
		p->st.drops[TUNNEL_DROP_NO_SESSION]++;
		return;
	}
	q = &p->q[(p->q_head + p->q_n) % TUNNEL_QUEUE_MAX];
	/* Only while no session: not the hot path. */
	q->data = malloc(len);
	if (!q->data) {
		p->st.drops[TUNNEL_DROP_NO_SESSION]++;
		return;
	}
	memcpy(q->data, data, len);
	q->len = len;
	q->vnet = vnet;
	q->seg = seg;
	q->at_ns = now;
	p->q_n++;
}

void eng_queue_clear(struct tunnel_peer *p)
{
	while (p->q_n) {
		free(p->q[p->q_head].data);
		p->q[p->q_head].data = NULL;
		p->q_head = (p->q_head + 1) % TUNNEL_QUEUE_MAX;
		p->q_n--;
	}
}

/* Sends queued frames with the current keypair; returns how many were
 * sent (0 if the queue was empty). */
int eng_queue_flush(struct tunnel_peer *p, uint64_t now, struct tunnel_batch *out)
{
	int sent = 0, r;

	while (p->q_n) {
		struct qframe *q = &p->q[p->q_head];

		if (q->vnet && !tunnel_peer_gso(p))
			r = -EPROTO;	/* the new session's peer takes no GSO frames */
		else
			r = encap_one(p, p->kp_cur, q->vnet ? WIRE_KIND_GSO : WIRE_KIND_FRAME,
				      p->seg_ids[q->seg], q->data, q->len, now, out);
		if (r == -ENOBUFS || r == -ESTALE)
			break;
		if (r < 0) {
			p->st.drops[TUNNEL_DROP_TOO_BIG]++;
		} else {
			p->st.tx_frames++;
			p->st.tx_bytes += q->len - (q->vnet ? WIRE_VNET_HDR_LEN : 0);
			sent++;
		}
		free(q->data);
		q->data = NULL;
		p->q_head = (p->q_head + 1) % TUNNEL_QUEUE_MAX;
		p->q_n--;
	}
	return sent;
}

/* Starts a handshake if the session needs one (rekey by time or volume,
 * responder-side aging, silence from the peer). */
/* How long a peer may stay silent while we send before we handshake again:
 * 3 keepalive intervals (at least 500 ms) when keepalives run, so a
 * restarted peer is back within about a second; 15 s without keepalives. */
uint64_t eng_silence_dead_ns(const struct tunnel_peer *p)
{
	uint64_t ka = (uint64_t)p->keepalive_ms * MSEC;

	if (!ka)
		return DEAD_MIN_NS;
	return 3 * ka < 500 * MSEC ? 500 * MSEC : 3 * ka;
}

void eng_maybe_rekey(struct tunnel_peer *p, uint64_t now, struct tunnel_batch *out)
{
	const struct tunnel_params *pr = &p->t->params;
	struct keypair *kp = p->kp_cur;
	uint64_t age, dead;
	bool want = false;

	if (p->hs_pending || !p->has_endpoint)
		return;
	/* the session came from an initiation without the feature bits (its
	 * two before were lost, at a start, or the peer is of before them):
	 * one more with them; a peer of before drops it, and the retries find
	 * the plain one again */
	if (p->gso_upgrade_at && now >= p->gso_upgrade_at) {
		p->gso_upgrade_at = 0;
		p->gso_upgrade_tried = true;
		eng_send_initiation(p, now, out);
		return;
	}
	if (!eng_kp_can_send(p->t, kp, now, 1)) {
		/* No usable session: handshake, unless a fresh "next" is
		 * about to be confirmed by the initiator. */
		want = !p->kp_next || now - p->kp_next->created_ns >= NEXT_CONFIRM_NS ||
		       !eng_kp_alive(p->t, p->kp_next, now);
	} else {
		age = now - kp->created_ns;
		dead = eng_silence_dead_ns(p);
		if (kp->send_counter >= pr->rekey_after_messages)
			want = true;
		else if (kp->initiator && age >= pr->rekey_after_time_ns)
			want = true;
		else if (!kp->initiator && age >= pr->reject_after_time_ns -
			 (pr->reject_after_time_ns / 4 < DEAD_MIN_NS ? pr->reject_after_time_ns / 4
								       : DEAD_MIN_NS))
			want = true;
		else if (p->last_tx_ns > p->last_rx_ns && !eng_peer_heard(p, now) &&
			 now - p->hs_sent_ns >= dead)
			want = true;
	}
	if (want)
		eng_send_initiation(p, now, out);
}

bool tunnel_peer_gso(const struct tunnel_peer *p)
{
	return p->t->params.offer_gso && p->remote_gso;
}

bool tunnel_peer_uso(const struct tunnel_peer *p)
{
	return tunnel_peer_gso(p) && p->t->params.offer_uso && p->remote_uso;
}

int tunnel_encap(struct tunnel_peer *p, size_t seg, const struct iovec *frames,
		 size_t n, uint64_t now_ns, struct tunnel_batch *out,
		 size_t *ret_taken)
{
	return tunnel_encap_vnet(p, seg, frames, NULL, n, now_ns, out, ret_taken);
}

int tunnel_encap_vnet(struct tunnel_peer *p, size_t seg, const struct iovec *frames,
		      const bool *vnet, size_t n, uint64_t now_ns, struct tunnel_batch *out,
		      size_t *ret_taken)
{
	struct keypair *kp = p->kp_cur;
	size_t i;
	int total = 0, r;

	*ret_taken = 0;
	if (seg >= p->n_segments)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		size_t off = vnet && vnet[i] ? WIRE_VNET_HDR_LEN : 0;

		if (frames[i].iov_len > off)
			eng_note_frame(p, (const uint8_t *)frames[i].iov_base + off,
				       frames[i].iov_len - off, now_ns);
	}
	if (p->q_n && eng_kp_can_send(p->t, kp, now_ns, 1)) {
		total += eng_queue_flush(p, now_ns, out);
		if (p->q_n && out->n == out->cap)
			return -ENOBUFS;
	}
	/* No session (or frames still queued, keep the order): queue. */
	if (p->q_n || !eng_kp_can_send(p->t, kp, now_ns, 1) || !p->has_endpoint) {
		for (i = 0; i < n; i++) {
			if (frames[i].iov_len == 0 || frames[i].iov_len > WIRE_FRAME_MAX)
				p->st.drops[TUNNEL_DROP_TOO_BIG]++;
			else
				queue_push(p, seg, frames[i].iov_base, frames[i].iov_len,
					   vnet && vnet[i], now_ns);
		}
		*ret_taken = n;
		if (!p->hs_pending) {
			size_t before = out->n;

			eng_maybe_rekey(p, now_ns, out);
			total += (int)(out->n - before);
		}
		return total;
	}
	for (i = 0; i < n; i++) {
		bool v = vnet && vnet[i];

		r = -EPROTONOSUPPORT;
		if (v && !tunnel_peer_gso(p))
			r = -EPROTO;
		else if (v && p->t->params.split_gso)
			r = encap_split(p, kp, p->seg_ids[seg], frames[i].iov_base, frames[i].iov_len,
					now_ns, out);
		if (r == -EPROTONOSUPPORT)
			r = encap_one(p, kp, v ? WIRE_KIND_GSO : WIRE_KIND_FRAME, p->seg_ids[seg],
				      frames[i].iov_base, frames[i].iov_len, now_ns, out);
		if (r == -ENOBUFS)
			return -ENOBUFS;
		if (r == -ESTALE) {
			/* The keypair ran out of messages mid-batch. */
			queue_push(p, seg, frames[i].iov_base, frames[i].iov_len, v, now_ns);
		} else if (r < 0) {
			p->st.drops[TUNNEL_DROP_TOO_BIG]++;
		} else {
			total += r;
			p->st.tx_frames++;
			p->st.tx_bytes += frames[i].iov_len - (v ? WIRE_VNET_HDR_LEN : 0);
		}
		*ret_taken = i + 1;
	}
	if (kp->send_counter >= p->t->params.rekey_after_messages && !p->hs_pending) {
		size_t before = out->n;

		eng_maybe_rekey(p, now_ns, out);
		total += (int)(out->n - before);
	}
	return total;
}
