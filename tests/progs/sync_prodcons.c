/* Bounded producer/consumer: 4 producers x 20,000 items, 4 consumers, a
 * ring buffer of 16 slots; three variants:
 *   cond-signal:    mutex + not_full/not_empty condvars, pthread_cond_signal
 *   cond-broadcast: the same with pthread_cond_broadcast
 *   semaphore:      sem_init(pshared=0) slots/items semaphores + a mutex
 * Checks: every item delivered exactly once; each consumer sees each
 * producer's items in increasing order (the buffer is FIFO, so a single
 * consumer's view of one producer is monotonic; order across consumers is
 * not defined). Consumers stop on one poison item each. */
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include "check.h"

#define NPROD 4
#define NCONS 4
#define ITEMS 20000
#define BUF 16
#define POISON UINT32_MAX

enum { COND_SIGNAL, COND_BROADCAST, SEMAPHORE };
static int variant;

static uint32_t buf[BUF];
static unsigned head, tail, count;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static sem_t slots, items;

static unsigned char seen[NPROD][ITEMS];
static long consumed[NCONS];

static void wake(pthread_cond_t *c)
{
    if (variant == COND_BROADCAST)
        CHECK_OK(pthread_cond_broadcast(c));
    else
        CHECK_OK(pthread_cond_signal(c));
}

static void put(uint32_t v)
{
    if (variant == SEMAPHORE) {
        CHECK_EQ(0, sem_wait(&slots), "sem_wait(slots)");
        CHECK_OK(pthread_mutex_lock(&mu));
        CHECK(count < BUF, "semaphore: a slot is free");
        buf[tail] = v;
        tail = (tail + 1) % BUF;
        count++;
        CHECK_OK(pthread_mutex_unlock(&mu));
        CHECK_EQ(0, sem_post(&items), "sem_post(items)");
        return;
    }
    CHECK_OK(pthread_mutex_lock(&mu));
    while (count == BUF)
        CHECK_OK(pthread_cond_wait(&not_full, &mu));
    buf[tail] = v;
    tail = (tail + 1) % BUF;
    count++;
    wake(&not_empty);
    CHECK_OK(pthread_mutex_unlock(&mu));
}

static uint32_t get(void)
{
    uint32_t v;
    if (variant == SEMAPHORE) {
        CHECK_EQ(0, sem_wait(&items), "sem_wait(items)");
        CHECK_OK(pthread_mutex_lock(&mu));
        CHECK(count > 0, "semaphore: an item is there");
        v = buf[head];
        head = (head + 1) % BUF;
        count--;
        CHECK_OK(pthread_mutex_unlock(&mu));
        CHECK_EQ(0, sem_post(&slots), "sem_post(slots)");
        return v;
    }
    CHECK_OK(pthread_mutex_lock(&mu));
    while (count == 0)
        CHECK_OK(pthread_cond_wait(&not_empty, &mu));
    v = buf[head];
    head = (head + 1) % BUF;
    count--;
    wake(&not_full);
    CHECK_OK(pthread_mutex_unlock(&mu));
    return v;
}

static void *producer(void *arg)
{
    uint32_t p = (uint32_t)(long)arg;
    for (uint32_t i = 0; i < ITEMS; i++)
        put(p << 24 | i);
    return NULL;
}

static void *consumer(void *arg)
{
    int c = (int)(long)arg;
    long last[NPROD];
    for (int p = 0; p < NPROD; p++)
        last[p] = -1;
    for (;;) {
        uint32_t v = get();
        if (v == POISON)
            break;
        uint32_t p = v >> 24, i = v & 0xffffff;
        if (p >= NPROD || i >= ITEMS)
            CHECK_FAIL("consumer %d: bad item %#x", c, v);
        if ((long)i <= last[p])
            CHECK_FAIL("consumer %d: producer %u's item %u after item %ld", c, p, i, last[p]);
        last[p] = i;
        /* each (producer, item) has its own byte: no data race */
        seen[p][i]++;
        consumed[c]++;
    }
    return NULL;
}

static void run(int v, const char *name)
{
    pthread_t prod[NPROD], cons[NCONS];
    variant = v;
    head = tail = count = 0;
    memset(seen, 0, sizeof seen);
    memset(consumed, 0, sizeof consumed);
    if (v == SEMAPHORE) {
        CHECK_EQ(0, sem_init(&slots, 0, BUF), "sem_init(slots)");
        CHECK_EQ(0, sem_init(&items, 0, 0), "sem_init(items)");
    }
    for (long c = 0; c < NCONS; c++)
        CHECK_OK(pthread_create(&cons[c], NULL, consumer, (void *)c));
    for (long p = 0; p < NPROD; p++)
        CHECK_OK(pthread_create(&prod[p], NULL, producer, (void *)p));
    for (int p = 0; p < NPROD; p++)
        CHECK_OK(pthread_join(prod[p], NULL));
    for (int c = 0; c < NCONS; c++)
        put(POISON);
    for (int c = 0; c < NCONS; c++)
        CHECK_OK(pthread_join(cons[c], NULL));
    long total = 0;
    for (int c = 0; c < NCONS; c++)
        total += consumed[c];
    CHECK_EQ((long)NPROD * ITEMS, total, "items consumed");
    for (int p = 0; p < NPROD; p++)
        for (int i = 0; i < ITEMS; i++)
            if (seen[p][i] != 1)
                CHECK_FAIL("%s: producer %d item %d: expected delivered once, saw %d times",
                           name, p, i, seen[p][i]);
    CHECK_EQ(0, count, "items left in the buffer");
    if (v == SEMAPHORE) {
        int sv;
        CHECK_EQ(0, sem_getvalue(&slots, &sv), "sem_getvalue(slots)");
        CHECK_EQ(BUF, sv, "slots semaphore value at the end");
        CHECK_EQ(0, sem_getvalue(&items, &sv), "sem_getvalue(items)");
        CHECK_EQ(0, sv, "items semaphore value at the end");
        CHECK_EQ(0, sem_destroy(&slots), "sem_destroy(slots)");
        CHECK_EQ(0, sem_destroy(&items), "sem_destroy(items)");
    }
    printf("%s: %d producers x %d items to %d consumers: each delivered once, "
           "in order per consumer\n", name, NPROD, ITEMS, NCONS);
}

int main(void)
{
    run(COND_SIGNAL, "cond-signal");
    run(COND_BROADCAST, "cond-broadcast");
    run(SEMAPHORE, "semaphore");
    return 0;
}
