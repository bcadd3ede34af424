// tests/test_chapters.cpp — every chapter program runs end to end in --quick mode, and its flags behave.
// The programs are the ones built in this test binary's own variant (S2A_BUILD_DIR, set by the Makefile).
#include <doctest/doctest.h>

#include "tests/run_program.h"
#include "tests/util.h"

using s2a::TempDir;

TEST_CASE("chapters: ch0 runs in quick mode") {
    const Run r = run("ch0", "--quick");
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK(has(r.output, "matmul"));                          // the tape was printed
    CHECK(has(r.output, "the tape's gradients are right"));  // and the gradient check passed
    CHECK(has(r.output, "training accuracy"));
}

TEST_CASE("chapters: --help and bad flags") {
    const Run help = run("ch0", "--help");
    CHECK(help.status == 0);
    CHECK(has(help.output, "--epochs"));
    const Run bad = run("ch0", "--epoch 3");
    CHECK(bad.status == 2);
    CHECK(has(bad.output, "--epoch"));
    const Run not_int = run("ch0", "--epochs abc");
    CHECK(not_int.status == 2);
    CHECK(has(not_int.output, "abc"));
    const Run missing = run("ch0", "--data /nonexistent/points.csv");
    CHECK(missing.status != 0);
    CHECK(has(missing.output, "/nonexistent/points.csv"));
}

TEST_CASE("chapters: ch1 runs in quick mode, saves checkpoints and reloads them") {
    const TempDir out("ch1");
    const Run r = run("ch1", "--quick --out " + out.path());
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK(has(r.output, "peeky+reversed"));
    CHECK(has(r.output, "(test exact match)"));
    const Run again = run("ch1", "--quick --eval-only --out " + out.path());
    INFO(again.output);
    CHECK(again.status == 0);
    // The reloaded models score exactly what the trained ones scored after their last epoch.
    const auto last_row = [](const std::string& text, const std::string& epoch) {
        const size_t at = text.find("\n" + epoch + " ");
        return at == std::string::npos ? std::string() : text.substr(at + epoch.size() + 2, text.find('\n', at + 1) - at - epoch.size() - 2);
    };
    CHECK(last_row(again.output, "     0") == last_row(r.output, "     2"));
    CHECK_FALSE(last_row(r.output, "     2").empty());
    const Run missing = run("ch1", "--quick --eval-only --out /nonexistent/dir");
    CHECK(missing.status == 1);
    CHECK(has(missing.output, "/nonexistent/dir/ch1_baseline.npz"));
    const Run bad_data = run("ch1", "--quick --data /nonexistent/add.txt");
    CHECK(bad_data.status == 1);
    CHECK(has(bad_data.output, "/nonexistent/add.txt"));
}

TEST_CASE("chapters: ch2 and ch3 run in quick mode") {
    const TempDir out("ch23");
    const Run two = run("ch2", "--quick --out " + out.path());
    INFO(two.output);
    CHECK(two.status == 0);
    CHECK(has(two.output, "exact match by input length"));
    CHECK(has(two.output, "mean of hs"));
    const Run three = run("ch3", "--quick --baselines --scores --lengths --out " + out.path());
    INFO(three.output);
    CHECK(three.status == 0);
    CHECK(has(three.output, "(source read reversed"));   // a heat map was drawn
    CHECK(has(three.output, "concat"));                   // every score function was tried
    CHECK(has(three.output, "Copy task with attention"));
    const Run bahdanau = run("ch3", "--quick --wiring bahdanau --bidirectional --score additive --maps 0 --out " + out.path());
    INFO(bahdanau.output);
    CHECK(bahdanau.status == 0);
    const Run bad = run("ch3", "--quick --score cosine --out " + out.path());
    CHECK(bad.status == 1);
    CHECK(has(bad.output, "cosine"));
}
