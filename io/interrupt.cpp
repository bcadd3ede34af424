// io/interrupt.cpp — the SIGINT handler: one flag, set from the signal handler, read between steps.
#include "io/interrupt.h"

#include <atomic>
#include <csignal>

namespace s2a {

namespace {

// Written by the signal handler, read by every training thread: an atomic, and a lock-free one, the only
// kind a signal handler may touch.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void on_sigint(int) { g_interrupted = true; }

}  // namespace

CatchInterrupt::CatchInterrupt() {
    g_interrupted = false;
    struct sigaction action {};
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;  // the handler runs once: the second Ctrl-C gets the default action, the end
    sigaction(SIGINT, &action, nullptr);
}

CatchInterrupt::~CatchInterrupt() { std::signal(SIGINT, SIG_DFL); }

bool interrupted() { return g_interrupted; }

void stop_if_interrupted() {
    if (interrupted()) throw Interrupted();
}

}  // namespace s2a
