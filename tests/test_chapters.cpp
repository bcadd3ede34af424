// tests/test_chapters.cpp — every chapter program runs end to end in --quick mode, and its flags behave.
// The programs are the ones built in this test binary's own variant (S2A_BUILD_DIR, set by the Makefile).
#include <doctest/doctest.h>

#include <filesystem>

#include "tests/run_program.h"
#include "tests/util.h"

using s2a::TempDir;

TEST_CASE("chapters: ch0 runs in quick mode") {
    check_run("ch0", "--quick", 0,
              {"matmul",                           // the tape was printed
               "the tape's gradients are right",   // and the gradient check passed
               "training accuracy"});
}

TEST_CASE("chapters: --help and bad flags") {
    check_run("ch0", "--help", 0, {"--epochs"});
    check_run("ch0", "--epoch 3", 2, {"--epoch"});
    check_run("ch0", "--epochs abc", 2, {"abc"});
    check_run("ch0", "--data /nonexistent/points.csv", 1, {"/nonexistent/points.csv"});
}

TEST_CASE("chapters: ch1 runs in quick mode, saves checkpoints and reloads them") {
    const TempDir out("ch1");
    const Run r = check_run("ch1", "--quick --out " + out.path(), 0, {"peeky+reversed", "(test exact match)"});
    const Run again = check_run("ch1", "--quick --eval-only --out " + out.path(), 0, {"(test exact match)"});
    // The reloaded models score exactly what the trained ones scored after their last epoch.
    const auto last_row = [](const std::string& text, const std::string& epoch) {
        const size_t at = text.find("\n" + epoch + " ");
        return at == std::string::npos ? std::string() : text.substr(at + epoch.size() + 2, text.find('\n', at + 1) - at - epoch.size() - 2);
    };
    CHECK(last_row(again.output, "     0") == last_row(r.output, "     2"));
    CHECK_FALSE(last_row(r.output, "     2").empty());
    check_run("ch1", "--quick --eval-only --out /nonexistent/dir", 1, {"/nonexistent/dir/ch1_baseline.npz"});
    check_run("ch1", "--quick --data /nonexistent/add.txt --out " + out.path(), 1, {"/nonexistent/add.txt"});
}

TEST_CASE("chapters: ch2 and ch3 run in quick mode") {
    const TempDir out("ch23");
    check_run("ch2", "--quick --out " + out.path(), 0, {"exact match by input length", "mean of hs"});
    check_run("ch3", "--quick --baselines --scores --lengths --out " + out.path(), 0,
              {"weights a = softmax(e)",      // the toy batch went through AttentionWeight and WeightSum
               "(source read reversed",       // a heat map was drawn
               "peeky+reversed",              // chapter 1's models were trained
               "concat",                      // every score function was tried
               "Copy task with attention"});
    check_run("ch3", "--quick --wiring bahdanau --bidirectional --score additive --maps 0 --out " + out.path(), 0, {"exact match"});
    check_run("ch3", "--quick --score cosine --out " + out.path(), 1, {"cosine"});
}

TEST_CASE("chapters: ch5 runs in quick mode") {
    const TempDir out("ch5");
    check_run("ch5", "--quick --out " + out.path(), 0,
              {"softmax(QKᵀ/√dk)",                  // the toy batch went through MultiHeadAttention
               "beam search, k = 1",
               "exactly the greedy answers: yes",
               "cross, layer 2 head 4",             // every head drawn
               "chapter-3 LSTM",                    // the race ran
               "exact match by string length"});
    check_run("ch5", "--quick --task shuffle --out " + out.path(), 1, {"shuffle"});
    // A size given beside --quick keeps its value: --seconds 0 skips the race, --epochs 0 the dates.
    CHECK(!has(check_run("ch5", "--quick --seconds 0 --out " + out.path(), 0, {"beam search, k = 1"}).output, "chapter-3 LSTM"));
    CHECK(!has(check_run("ch5", "--quick --epochs 0 --out " + out.path(), 0, {"chapter-3 LSTM"}).output, "beam search"));
}

TEST_CASE("chapters: ch6 runs in quick mode") {
    const TempDir out("ch6");
    check_run("ch6", "--quick --out " + out.path(), 0,
              {"an untrained model's 3-best",         // section 1: beam search's n-best list on a toy scale
               "teacher forcing: forced / free / gap",  // the exposure-bias meter, both models
               "scheduled: forced / free / gap",
               "Exact match by nesting depth",          // greedy against beam, broken down
               "beam k=8",
               "log P",                                 // the n-best lists
               "dates with an end symbol"});            // the second task
    check_run("ch6", "--quick --decay cosine --out " + out.path(), 2, {"cosine"});
    check_run("ch6", "--quick --decay exponential --out " + out.path(), 2, {"--k must be at most 1"});
    check_run("ch6", "--quick --other sort --out " + out.path(), 2, {"--other sort"});
    check_run("ch6", "--quick --decay linear --k 1 --c 0.3 --floor 0.2 --argmax --other none --out " + out.path(), 0,
              {"ε by epoch (linear decay): 1.00 0.70"});
}

TEST_CASE("chapters: ch7 runs in quick mode") {
    const TempDir out("ch7");
    check_run("ch7", "--quick --out " + out.path(), 0,
              {"local-p, D = 1",                 // the toy batch went through the three layers
               "FLOPs/step S=60",                // the cost per step was counted
               "exact match by input length",    // part (a)
               "steps to 95%",                   // part (b)
               "mean |argmax",
               "(c) Copying what was never seen",  // part (c)
               "answers with an unseen name: plain attention"});
    for (const char* name : {"heat_maps_global", "heat_maps_local-p", "heat_maps_location", "heat_maps_guided", "pointer"})
        CHECK_MESSAGE(std::filesystem::exists(out.path() + "/ch7_" + name + ".svg"), name);
    check_run("ch7", "--quick --window 0 --out " + out.path(), 2, {"--window"});
    check_run("ch7", "--quick --resume " + out.path() + " --out " + out.path(), 1, {"--resume"});
    check_run("ch7", "--quick --models global,foo --out " + out.path(), 2, {"unknown model 'foo'"});
    check_run("ch7", "--quick --models guided,guided --out " + out.path(), 2, {"'guided' twice"});
    // --models trains only those named: the tables have their rows alone, in the order given.
    const TempDir two("ch7_two");
    check_run("ch7", "--quick --models guided,local-p --out " + two.path(), 0,
              {"epoch           guided          local-p",
               "3. Models: global + guided loss (λ = 0.1, g = 0.2), local-p (D = 5)\n"});  // what it trains, no more
    CHECK(!std::filesystem::exists(two.path() + "/ch7_heat_maps_global.svg"));
}

TEST_CASE("chapters: ch8 runs in quick mode") {
    const TempDir out("ch8");
    const Run trained = check_run("ch8", "--quick --out " + out.path(), 0,
              {"hs (2, 64, 16)",                   // the toy batch went through the CNN to the grid
               "weights α₁ (2, 1, 64)",            // and one decoder step's attention over it
               "beam k=3",                         // greedy and beam on the test images
               "by the class of their first wrong", // the errors by caption kind
               "of the object it names"});         // the attention on the named object
    CHECK(std::filesystem::exists(out.path() + "/ch8_attention.svg"));
    CHECK(std::filesystem::exists(out.path() + "/ch8_captioner.npz"));
    // --eval-only reloads the checkpoint: the same captions, so the same scores, errors and attention.
    const Run reloaded = check_run("ch8", "--quick --eval-only --out " + out.path(), 0, {"greedy"});
    const auto evaluation = [](const std::string& text) {
        const size_t from = text.find("5. Test captions");
        return text.substr(from, text.find("Overlays") - from);
    };
    CHECK(evaluation(reloaded.output) == evaluation(trained.output));
    check_run("ch8", "--quick --channels 16,x --out " + out.path(), 1, {"--channels 16,x: 'x' is not a whole number"});
    check_run("ch8", "--quick --beam 0 --out " + out.path(), 2, {"--beam"});
    check_run("ch8", "--quick --resume " + out.path() + " --out " + out.path(), 1, {"--resume"});
}
