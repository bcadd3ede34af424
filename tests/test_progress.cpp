// tests/test_progress.cpp — the progress bar's output in both modes, and the duration and rate formatters.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "io/progress.h"
#include "tests/util.h"

using namespace s2a;

namespace {

// A temporary file for a progress bar to write to, closed (and so deleted) when the test case ends.
struct Output {
    std::FILE* f = std::tmpfile();
    Output() { REQUIRE(f != nullptr); }
    ~Output() { std::fclose(f); }
    Output(const Output&) = delete;  // one owner closes the file, once
    Output& operator=(const Output&) = delete;

    // Everything written so far, read back from the start (once the writer is done with it).
    std::string text() const {
        std::string t;
        std::rewind(f);
        int c;
        while ((c = std::fgetc(f)) != EOF) t += static_cast<char>(c);
        return t;
    }
};

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    size_t start = 0, end;
    while ((end = text.find('\n', start)) != std::string::npos) {
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    if (start < text.size()) lines.push_back(text.substr(start));
    return lines;
}

}  // namespace

TEST_CASE("progress: plain mode prints about ten lines, whatever the number of steps") {
    for (int64_t total : {1, 3, 10, 57, 1000, 100000}) {
        CAPTURE(total);
        const Output out;
        {
            Progress bar("train", total, out.f, Progress::Mode::Plain);
            CHECK_FALSE(bar.live());
            for (int64_t step = 1; step <= total; ++step) bar.update(step, "loss 1.234");
            bar.finish("val loss 0.5");
        }
        const std::vector<std::string> lines = split_lines(out.text());

        // At most one line per tenth of the run, plus the summary; never a carriage return.
        REQUIRE(lines.size() >= 2);
        CHECK(lines.size() <= 11);
        for (const std::string& line : lines) {
            CHECK(contains(line, "train"));
            CHECK_FALSE(contains(line, "\r"));
        }
        const std::string last_step = lines[lines.size() - 2];
        CHECK(contains(last_step, std::to_string(total) + "/" + std::to_string(total) + " (100%)"));
        CHECK(contains(last_step, "loss 1.234"));
        CHECK(contains(lines.back(), "done in"));
        CHECK(contains(lines.back(), "val loss 0.5"));
        if (total == 1000) CHECK(contains(lines[0], "100/1000 (10%)"));
    }
}

TEST_CASE("progress: plain mode shows the last step even when the run stops early") {
    const Output out;
    {
        Progress bar("eval", 100, out.f, Progress::Mode::Plain);
        for (int64_t step = 1; step <= 37; ++step) bar.update(step);
        bar.finish();
    }
    const std::vector<std::string> lines = split_lines(out.text());
    REQUIRE(lines.size() == 5);  // 10, 20, 30, then 37 at finish, then the summary
    CHECK(contains(lines[3], "37/100"));
    CHECK(contains(lines[4], "eval  done in"));
}

TEST_CASE("progress: live mode redraws one line and ends it at finish") {
    const Output out;
    {
        Progress bar("train", 1000, out.f, Progress::Mode::Live);
        CHECK(bar.live());
        for (int64_t step = 1; step <= 1000; ++step) bar.update(step, "loss 2.000");
        bar.finish("done!");
    }
    const std::string text = out.text();
    const std::vector<std::string> lines = split_lines(text);
    REQUIRE(lines.size() == 2);  // the live line (many redraws, one line) and the summary
    CHECK(contains(lines[0], "\r"));
    CHECK(contains(lines[0], "1000/1000"));
    CHECK(contains(lines[0], "█"));
    CHECK(contains(lines[1], "done!"));
    // A thousand quick updates must not mean a thousand redraws: at most ten a second are drawn.
    size_t redraws = 0;
    for (char c : text) redraws += c == '\r';
    CHECK(redraws < 100);
}

TEST_CASE("progress: a live line left open is ended by the destructor") {
    const Output out;
    {
        Progress bar("train", 10, out.f, Progress::Mode::Live);
        bar.update(3);
    }
    const std::string text = out.text();
    REQUIRE_FALSE(text.empty());
    CHECK(text.back() == '\n');
}

TEST_CASE("progress: erase takes the live line off, and the next update draws it again at once") {
    const Output out;
    {
        Progress bar("train", 10, out.f, Progress::Mode::Live);
        bar.update(3);
        bar.erase();
        std::fputs("a row of results\n", out.f);
        bar.update(4);  // well within the redraw interval, drawn all the same
        bar.finish();
    }
    const std::vector<std::string> lines = split_lines(out.text());
    REQUIRE(lines.size() == 3);
    CHECK(contains(lines[0], "3/10"));
    CHECK(contains(lines[0], "\x1b[K"));
    CHECK(contains(lines[0], "a row of results"));  // printed where the erased bar was
    CHECK(contains(lines[1], "10"));               // finish redraws the bar at its last update (4/10)
    CHECK(contains(lines[1], "4/10"));
    CHECK(contains(lines[2], "done in"));
}

TEST_CASE("progress: duration and rate formats") {
    CHECK(format_duration(0) == "0.0s");
    CHECK(format_duration(12.34) == "12.3s");
    CHECK(format_duration(59.99) == "1m 00s");  // not "60.0s"
    CHECK(format_duration(65) == "1m 05s");
    CHECK(format_duration(3599.4) == "59m 59s");
    CHECK(format_duration(3725) == "1h 02m");
    CHECK(format_duration(-1) == "?");

    CHECK(format_rate(2.5) == "2.5");
    CHECK(format_rate(950) == "950");
    CHECK(format_rate(999.7) == "1.0k");  // not "1000"
    CHECK(format_rate(12345) == "12.3k");
    CHECK(format_rate(123456) == "123k");
    CHECK(format_rate(4.5e6) == "4.5M");
    CHECK(format_rate(-3) == "?");
}

TEST_CASE("progress: a run with no steps still prints its summary") {
    const Output out;
    {
        Progress bar("train", 0, out.f, Progress::Mode::Plain);
        bar.finish("nothing to do");
    }
    const std::vector<std::string> lines = split_lines(out.text());
    REQUIRE(lines.size() == 1);
    CHECK(contains(lines[0], "train  done in"));
    CHECK(contains(lines[0], "nothing to do"));
}
