// io/progress.cpp — the progress bar: a live redrawn line on a terminal, periodic plain lines elsewhere.
#include "io/progress.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>
#include <sys/ioctl.h>  // TIOCGWINSZ: the terminal's width
#include <unistd.h>     // isatty

namespace s2a {

namespace {

constexpr int kBarCells = 20;
constexpr double kRedrawInterval = 0.1;  // seconds: ten redraws a second look smooth and cost nothing
constexpr int kPlainLines = 10;          // Plain mode prints at every tenth of the run

// Partial blocks, one to seven eighths of a cell wide, so the bar moves in steps of 1/160.
const char* const kEighths[8] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};

// "|███████████▍        |" for a fraction done in [0, 1].
std::string bar(double fraction) {
    const int eighths = static_cast<int>(std::lround(fraction * kBarCells * 8));
    const int full = eighths / 8, partial = eighths % 8;
    std::string s = "|";
    for (int i = 0; i < full; ++i) s += "█";
    s += kEighths[partial];
    s += std::string(kBarCells - full - (partial > 0 ? 1 : 0), ' ');
    return s + "|";
}

// Cuts `line` to at most `columns` characters on screen. Each character here takes one column, and in
// UTF-8 every character starts with a byte that is not a continuation byte (10xxxxxx).
std::string fit_to_width(const std::string& line, int columns) {
    int seen = 0;
    for (size_t i = 0; i < line.size(); ++i) {
        const bool starts_character = (static_cast<unsigned char>(line[i]) & 0xC0) != 0x80;
        if (starts_character && seen++ == columns) return line.substr(0, i);
    }
    return line;
}

// The width of the terminal behind `out`, or 0 when it cannot be known.
int terminal_columns(std::FILE* out) {
    winsize size{};
    if (ioctl(fileno(out), TIOCGWINSZ, &size) != 0) return 0;
    return size.ws_col;
}

}  // namespace

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e12) return "?";
    if (seconds < 59.95) return fmt::format("{:.1f}s", seconds);  // 59.95 would print as "60.0s"
    const int64_t s = std::llround(seconds);
    if (s < 3600) return fmt::format("{}m {:02}s", s / 60, s % 60);
    return fmt::format("{}h {:02}m", s / 3600, s % 3600 / 60);
}

std::string format_rate(double per_second) {
    if (!std::isfinite(per_second) || per_second < 0) return "?";
    const char* const suffixes[] = {"", "k", "M", "G", "T"};
    int i = 0;
    // Move up a suffix while the number would print as 1000 or more.
    while (per_second >= 999.5 && i < 4) {
        per_second /= 1000;
        ++i;
    }
    if (per_second < 99.95) return fmt::format("{:.1f}{}", per_second, suffixes[i]);
    return fmt::format("{:.0f}{}", per_second, suffixes[i]);
}

Progress::Progress(std::string label, int64_t total_steps, std::FILE* out, Mode mode)
    : label_(std::move(label)),
      total_(std::max<int64_t>(total_steps, 1)),  // an empty run (no batches) still gets its summary line
      out_(out),
      start_(std::chrono::steady_clock::now()) {
    live_ = mode == Mode::Live || (mode == Mode::Auto && isatty(fileno(out_)));
    next_print_ = (total_ + kPlainLines - 1) / kPlainLines;
}

Progress::~Progress() {
    if (line_open_) std::fputc('\n', out_);
}

double Progress::elapsed_seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

// "LABEL |bar| 57/100  STATS  4.1s elapsed, 3.1s left" (Plain: "(57%)" in place of the bar).
std::string Progress::status_line(bool with_bar) const {
    const double fraction = std::clamp(static_cast<double>(step_) / static_cast<double>(total_), 0.0, 1.0);
    std::string line = label_;
    if (with_bar)
        line += fmt::format(" {} {}/{}", bar(fraction), step_, total_);
    else
        line += fmt::format("  {}/{} ({:.0f}%)", step_, total_, 100 * fraction);
    if (!stats_.empty()) line += "  " + stats_;

    const double elapsed = elapsed_seconds();
    line += "  " + format_duration(elapsed) + " elapsed";
    // Time left, assuming the remaining steps go as fast as the ones so far did on average.
    if (step_ > 0 && step_ < total_) {
        const double seconds_per_step = elapsed / static_cast<double>(step_);
        line += ", " + format_duration(seconds_per_step * static_cast<double>(total_ - step_)) + " left";
    }
    return line;
}

void Progress::draw_live() {
    std::string line = status_line(true);
    // A line longer than the terminal wraps, and '\r' then returns only to the start of the last row:
    // every redraw would leave a row behind. So cut it to the width, one column spare for the cursor.
    const int columns = terminal_columns(out_);
    if (columns > 1) line = fit_to_width(line, columns - 1);
    // "\x1b[K" (erase to end of line) removes what is left of a longer previous line.
    fmt::print(out_, "\r{}\x1b[K", line);
    std::fflush(out_);
    line_open_ = true;
    last_draw_ = elapsed_seconds();
}

void Progress::print_plain() {
    fmt::print(out_, "{}\n", status_line(false));
    std::fflush(out_);
    printed_step_ = step_;
    // The next milestone is the first multiple of total/10 (rounded up) past this step.
    const int64_t k = step_ * kPlainLines / total_ + 1;
    next_print_ = (k * total_ + kPlainLines - 1) / kPlainLines;
}

void Progress::update(int64_t step, const std::string& stats) {
    if (finished_) return;
    step_ = step;
    stats_ = stats;
    const bool first = !updated_;
    updated_ = true;
    if (live_) {
        // Always draw the first and the last step; in between, at most one redraw per interval.
        if (first || step_ == total_ || elapsed_seconds() - last_draw_ >= kRedrawInterval) draw_live();
    } else if (step_ >= next_print_ && step_ != printed_step_) {
        print_plain();  // the last milestone is the total itself, so the final step always gets its line
    }
}

void Progress::erase() {
    if (!line_open_) return;
    fmt::print(out_, "\r\x1b[K");
    std::fflush(out_);
    line_open_ = false;
    last_draw_ = -kRedrawInterval;  // so the next update draws at once
}

void Progress::finish(const std::string& summary) {
    if (finished_) return;
    finished_ = true;
    if (live_) {
        if (updated_) draw_live();  // the last update may have been skipped by the redraw limit
        if (line_open_) std::fputc('\n', out_);
        line_open_ = false;
    } else if (updated_ && step_ != printed_step_) {
        print_plain();
    }
    std::string line = fmt::format("{}  done in {}", label_, format_duration(elapsed_seconds()));
    if (!summary.empty()) line += "  " + summary;
    fmt::print(out_, "{}\n", line);
    std::fflush(out_);
}

}  // namespace s2a
