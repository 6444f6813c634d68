/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The protocol engine (tunnel.h, docs/PROTOCOL.md): keypairs (previous / current / next) and sessions.
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

/* ---- keypairs ---- */

bool eng_kp_alive(const struct tunnel *t, const struct keypair *kp, uint64_t now)
{
	return kp && now - kp->created_ns < t->params.reject_after_time_ns;
}

bool eng_kp_can_send(const struct tunnel *t, const struct keypair *kp, uint64_t now,
			unsigned n)
{
	return eng_kp_alive(t, kp, now) &&
	       kp->send_counter + n <= t->params.reject_after_messages;
}

void eng_kp_free(struct tunnel *t, struct keypair *kp)
{
	if (!kp)
		return;
	if (kp->replay.counter > kp->rx_count)
		kp->peer->lost_closed += kp->replay.counter - kp->rx_count;
	kp->peer->rx_closed += kp->rx_count;
	index_table_remove(&t->idx, kp->local_index);
	aead_key_free(kp->send);
	aead_key_free(kp->recv);
	free(kp);
}

int eng_kp_new(struct tunnel_peer *p, const struct noise_keys *k, enum aead_cipher c,
		  bool initiator, uint64_t now, struct keypair **ret)
{
	struct keypair *kp = calloc(1, sizeof(*kp));
	int r;

	if (!kp)
		return -ENOMEM;
	kp->peer = p;
	kp->cipher = c;
	kp->initiator = initiator;
	kp->created_ns = now;
	replay_init(&kp->replay);
	r = aead_key_new(c, k->send, &kp->send);
	if (r == 0)
		r = aead_key_new(c, k->recv, &kp->recv);
	if (r < 0) {
		aead_key_free(kp->send);
		aead_key_free(kp->recv);
		free(kp);
		return r;
	}
	*ret = kp;
	return 0;
}

/* WireGuard's noise_keypair_begin_session / received_with_keypair. */
void eng_kp_begin_session(struct tunnel_peer *p, struct keypair *kp)
{
	struct tunnel *t = p->t;

	if (kp->initiator) {
		if (p->kp_next) {
			eng_kp_free(t, p->kp_prev);
			p->kp_prev = p->kp_next;
			p->kp_next = NULL;
			eng_kp_free(t, p->kp_cur);
		} else {
			eng_kp_free(t, p->kp_prev);
			p->kp_prev = p->kp_cur;
		}
		p->kp_cur = kp;
	} else {
		eng_kp_free(t, p->kp_next);
		p->kp_next = kp;
		eng_kp_free(t, p->kp_prev);
		p->kp_prev = NULL;
	}
}

void eng_session_established(struct tunnel_peer *p, struct keypair *kp, uint64_t now)
{
	char detail[96];

	p->hs_tries = 0;
	p->st.handshakes++;
	p->st.last_handshake_ns = now;
	p->session_up = true;
	p->had_session = true;
	snprintf(detail, sizeof(detail), "%s, %s, %zu remote segment(s)",
		 kp->initiator ? "initiator" : "responder",
		 aead_cipher_to_string(kp->cipher), p->n_remote);
	eng_emit(p->t, p, TUNNEL_EV_SESSION_UP, detail);
}
