// io/progress.h — a progress bar for training loops, and the two small formatters it uses.
//
//     Progress bar("epoch 3", steps);
//     for (int64_t step = 1; step <= steps; ++step) {
//         ...
//         bar.update(step, fmt::format("loss {:.3f}  {} tok/s", loss, format_rate(tokens_per_second)));
//     }
//     bar.finish(fmt::format("val loss {:.3f}", val_loss));
//
// On a terminal it keeps one live line, redrawn in place with '\r' at most ten times a second:
//
//     epoch 3 |███████████▍        | 57/100  loss 1.234  12.3k tok/s  4.1s elapsed, 3.1s left
//
// When the output is a file or a CI log it prints a plain line at every tenth of the run instead, so a
// log holds about ten lines per bar rather than one per step (or a mess of carriage returns).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace s2a {

// "12.3s" below a minute, "1m 05s" below an hour, then "2h 03m"; "?" for a negative or infinite time.
std::string format_duration(double seconds);

// A rate with a metric suffix and about three significant digits: "2.5", "950", "12.3k", "4.5M".
std::string format_rate(double per_second);

class Progress {
  public:
    // Auto picks Live when `out` is a terminal and Plain otherwise; tests force one or the other.
    enum class Mode { Auto, Live, Plain };

    // Output goes to `out` (not owned), standard output by default. A total below 1 counts as 1.
    Progress(std::string label, int64_t total_steps, std::FILE* out = stdout, Mode mode = Mode::Auto);
    ~Progress();  // ends a live line that finish() did not end, e.g. when an exception unwinds
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    // Reports that `step` of the total steps are done (steps count from 1); `stats` is shown as given.
    void update(int64_t step, const std::string& stats = "");
    // Live: takes the bar off the screen, so that other output can go where it was; the next update
    // draws it again (below that output). Plain: nothing to do.
    void erase();
    // Shows the last update in full, ends the line and prints "LABEL  done in TIME  SUMMARY".
    void finish(const std::string& summary = "");

    bool live() const { return live_; }

  private:
    std::string status_line(bool with_bar) const;
    void draw_live();
    void print_plain();
    double elapsed_seconds() const;

    std::string label_;
    int64_t total_;
    std::FILE* out_;
    bool live_;
    std::chrono::steady_clock::time_point start_;

    // The latest update.
    int64_t step_ = 0;
    std::string stats_;
    bool updated_ = false;

    double last_draw_ = 0;        // Live: when the line was last drawn, in seconds since start
    bool line_open_ = false;      // Live: the live line is on screen and not yet ended by '\n'
    int64_t next_print_ = 0;      // Plain: the next step that gets a line
    int64_t printed_step_ = -1;   // Plain: the step of the last line printed
    bool finished_ = false;
};

}  // namespace s2a
