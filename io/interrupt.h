// io/interrupt.h — Ctrl-C (SIGINT) during training: finish the step, save, exit with status 130.
//
// Without a handler, Ctrl-C ends a program at once: in the middle of a step, the progress bar's line left
// open, everything since the last checkpoint lost. While a CatchInterrupt lives, Ctrl-C only sets a flag.
// train_step reads it before each step (stop_if_interrupted), so the run stops between two steps and the
// Interrupted exception unwinds the loop; the harness that catches it (experiments/side_by_side.h:
// interruptible) saves what a resumed run needs and rethrows, and guarded() (io/cli.h) exits with status
// 130, the shell's code for "ended by SIGINT" (128 + 2). A second Ctrl-C ends the program at once, as usual,
// and so does any Ctrl-C outside training. One that comes after the last step lets the run finish.
#pragma once

#include <stdexcept>

namespace s2a {

constexpr int kInterruptedStatus = 130;  // 128 + SIGINT

// Thrown by stop_if_interrupted once Ctrl-C has been pressed.
struct Interrupted : std::runtime_error {
    Interrupted() : std::runtime_error("interrupted (Ctrl-C)") {}
};

// For as long as it lives, Ctrl-C sets the flag instead of ending the program (the first press; the second
// ends it). Made with the flag clear; restores the default action when it goes. One at a time.
class CatchInterrupt {
  public:
    CatchInterrupt();
    ~CatchInterrupt();
    CatchInterrupt(const CatchInterrupt&) = delete;
    CatchInterrupt& operator=(const CatchInterrupt&) = delete;
};

bool interrupted();           // has Ctrl-C been pressed while a CatchInterrupt lived?
void stop_if_interrupted();   // throws Interrupted if so

}  // namespace s2a
