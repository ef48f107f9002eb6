/*
 * ticker.c - a thread that calls a function every few milliseconds until
 * it is stopped: the shape of vb's helpers that watch a file while the
 * main thread works on it (write-behind, the progress line).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "vblib.h"

struct vb_ticker {
	pthread_t	 th;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 stop;
	long		 ms;
	void		(*tick)(void *);
	void		*arg;
};

static void *
ticker_main(void *arg)
{
	struct vb_ticker *t = arg;
	struct timespec until;

	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += t->ms * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		if (pthread_cond_timedwait(&t->cv, &t->mu, &until) !=
		    ETIMEDOUT ||
		    t->stop)
			continue;
		/* The work runs unlocked: stop never waits for more than it. */
		pthread_mutex_unlock(&t->mu);
		t->tick(t->arg);
		pthread_mutex_lock(&t->mu);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

struct vb_ticker *
vb_ticker_start(long ms, void (*tick)(void *), void *arg)
{
	struct vb_ticker *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ms = ms;
	t->tick = tick;
	t->arg = arg;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	if (pthread_create(&t->th, NULL, ticker_main, t) != 0) {
		pthread_cond_destroy(&t->cv);
		pthread_mutex_destroy(&t->mu);
		free(t);
		return NULL;
	}
	return t;
}

void
vb_ticker_stop(struct vb_ticker *t)
{
	if (t == NULL)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = 1;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->th, NULL);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	free(t);
}
