// C++ on threads: exceptions, thread_local objects, std::thread, and
// forced unwinding (pthread_exit / pthread_cancel run destructors).
//
// - 8 std::threads each throw and catch 500 exceptions; between the throw
//   and the catch, and inside the catch block, they sched_yield (under goro,
//   the G may resume on another M: the unwinder's per-thread state, i.e.
//   __cxa_get_globals, must follow the G).  Exception messages carry the
//   thread's index and are checked.
// - A thread_local object with a constructor and destructor: constructed
//   once per thread that touches it, destroyed at each thread's exit.
// - pthread_exit from inside a function whose local object's destructor
//   prints: the destructor runs (forced unwinding), catch(...) + rethrow of
//   the forced-unwind exception works.
// - pthread_cancel of a thread sleeping inside a scope with a local object:
//   the destructor runs.
#include <atomic>
#include <cstdio>
#include <cstring>
#include <pthread.h>
#include <sched.h>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>
#include "check.h"

static const int kThreads = 8;
static const int kThrows = 500;

static std::atomic<int> tl_ctors{0}, tl_dtors{0};

struct PerThread {
    int id = -1;
    PerThread() { tl_ctors++; }
    ~PerThread() { tl_dtors++; }
};
static thread_local PerThread per_thread;

struct Noisy {
    const char *what;
    explicit Noisy(const char *w) : what(w) {}
    ~Noisy() { std::printf("destructor ran: %s\n", what); std::fflush(stdout); }
};

__attribute__((noinline)) static void thrower(int id, int i)
{
    sched_yield();
    if (i % 3 == 0)
        throw std::runtime_error("thread " + std::to_string(id) + " throw " + std::to_string(i));
    throw i * 1000 + id;
}

static void exceptions(int id, std::atomic<int> *caught)
{
    per_thread.id = id;
    for (int i = 0; i < kThrows; i++) {
        try {
            try {
                thrower(id, i);
            } catch (...) {
                sched_yield();  // switch while an exception is being handled
                if (std::uncaught_exceptions() != 0)
                    CHECK_FAIL("thread %d: uncaught_exceptions in a handler: %d", id,
                               std::uncaught_exceptions());
                throw;          // rethrow the current exception
            }
        } catch (const std::runtime_error &e) {
            std::string want = "thread " + std::to_string(id) + " throw " + std::to_string(i);
            if (want != e.what())
                CHECK_FAIL("thread %d: expected exception \"%s\", saw \"%s\"",
                           id, want.c_str(), e.what());
            (*caught)++;
        } catch (int v) {
            if (v != i * 1000 + id)
                CHECK_FAIL("thread %d: expected int exception %d, saw %d", id,
                           i * 1000 + id, v);
            (*caught)++;
        }
        if (per_thread.id != id)
            CHECK_FAIL("thread %d: thread_local id: expected %d, saw %d", id, id,
                       per_thread.id);
    }
}

__attribute__((noinline)) static void exit_from_inside()
{
    Noisy n("local object in the function that called pthread_exit");
    try {
        pthread_exit(nullptr);
    } catch (...) {
        std::printf("catch(...) saw the forced unwind; rethrowing\n");
        std::fflush(stdout);
        throw;
    }
}

static void *exiting_thread(void *)
{
    Noisy outer("local object in the thread function");
    exit_from_inside();
    std::printf("FAIL: pthread_exit returned\n");
    return nullptr;
}

static std::atomic<int> cancel_ready{0};

static void *cancelled_thread(void *)
{
    Noisy n("local object in a cancelled thread");
    cancel_ready = 1;
    for (;;)
        sleep(100);
    return nullptr;
}

int main()
{
    std::atomic<int> caught{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < kThreads; i++)
        ts.emplace_back(exceptions, i, &caught);
    for (auto &t : ts)
        t.join();
    CHECK_EQ(kThreads * kThrows, caught.load(), "exceptions caught");
    std::printf("exceptions: %d thrown and caught across sched_yield\n", caught.load());
    CHECK_EQ(kThreads, tl_ctors.load(), "thread_local constructors");
    CHECK_EQ(kThreads, tl_dtors.load(), "thread_local destructors");
    std::printf("thread_local: %d constructed, %d destroyed\n", tl_ctors.load(),
                tl_dtors.load());

    pthread_t t;
    void *ret = nullptr;
    CHECK_OK(pthread_create(&t, nullptr, exiting_thread, nullptr));
    CHECK_OK(pthread_join(t, &ret));
    CHECK(ret == nullptr, "pthread_exit's value");
    std::printf("pthread_exit: joined\n");

    CHECK_OK(pthread_create(&t, nullptr, cancelled_thread, nullptr));
    while (!cancel_ready)
        sched_yield();
    usleep(10000);
    CHECK_OK(pthread_cancel(t));
    CHECK_OK(pthread_join(t, &ret));
    CHECK(ret == PTHREAD_CANCELED, "cancelled thread's join value");
    std::printf("pthread_cancel: joined, PTHREAD_CANCELED\n");

    // main's own thread_local, destroyed at exit: one more of each
    per_thread.id = 100;
    std::printf("thread_local in main constructed: %d\n", tl_ctors.load());
    return 0;
}
