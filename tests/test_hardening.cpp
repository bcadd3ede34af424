// tests/test_hardening.cpp — the programs refuse what they cannot do well before they start: values outside a
// flag's bounds, an --out they could not write to, a data file of chapter 0 with bad lines; no run replaces
// the files of a training run with those of a run that trained nothing; and a loss that turns NaN is
// explained by the first op that made a non-finite value.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "data/dataset.h"
#include "models/seq2seq.h"
#include "models/train.h"
#include "tests/run_program.h"
#include "tests/util.h"

using s2a::TempDir;

namespace {

// The bytes of a file, "" if it cannot be read.
std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

}  // namespace

TEST_CASE("hardening: a negative or zero --epochs is refused before any work, where a chapter trains") {
    const TempDir out("epochs");
    const std::string dir = " --out " + out.path();
    check_run("ch3", "--scores --epochs -1 --examples 300 --test 30 --hidden 8" + dir, 2,
              {"ch3: --epochs must be between 1 and 100000, got -1"});
    check_run("ch4", "--epochs -1 --examples 300 --test 30 --hidden 8 --depths 1,2" + dir, 2,
              {"ch4: --epochs must be between 1 and 100000, got -1"});
    check_run("ch0", "--epochs 0", 2, {"ch0: --epochs must be between 1 and 100000, got 0"});
    check_run("ch5", "--epochs -1" + dir, 2, {"ch5: --epochs must be between 0 and 100000, got -1"});  // 0 skips the dates
    check_run("ch5", "--help", 0, {"(default: 3, 0..100000)"});
}

TEST_CASE("hardening: a run that trains nothing leaves the checkpoints of a training run alone") {
    const TempDir out("untrained");
    check_run("ch1", "--quick --out " + out.path(), 0, {"(test exact match)"});
    const std::string trained = read_bytes(out.file("ch1_baseline.npz"));
    REQUIRE_FALSE(trained.empty());
    check_run("ch1", "--quick --epochs 0 --out " + out.path(), 2, {"--epochs must be between 1 and 100000, got 0"});
    check_run("ch1", "--quick --eval-only --out " + out.path(), 0, {"(test exact match)"});
    CHECK(read_bytes(out.file("ch1_baseline.npz")) == trained);
}

TEST_CASE("hardening: ch1 --eval-only keeps the learning curves of the training run") {
    const TempDir out("curves");
    check_run("ch1", "--quick --out " + out.path(), 0, {"ch1_accuracy.svg"});
    const std::string curves = read_bytes(out.file("ch1_accuracy.svg"));
    REQUIRE_FALSE(curves.empty());
    const Run r = check_run("ch1", "--quick --eval-only --out " + out.path(), 0, {"(test exact match)"});
    CHECK_FALSE(has(r.output, "ch1_accuracy.svg"));
    CHECK(read_bytes(out.file("ch1_accuracy.svg")) == curves);
}

TEST_CASE("hardening: an --out that cannot hold the results stops a chapter before it trains") {
    const TempDir out("bad_out");
    const std::string file = out.write("not_a_folder", "x");
    for (const char* chapter : {"ch1", "ch2", "ch3", "ch4", "ch5"}) {
        CAPTURE(chapter);
        const Run r = check_run(chapter, "--quick --out " + file, 1, {"--out", "exists and is not a folder"});
        CHECK_FALSE(has(r.output, "exact match"));  // nothing was trained or tested
        check_run(chapter, "--quick --out " + file + "/sub", 1, {"cannot create the folder"});
    }
    check_run("ch2", "--quick --out " + out.file("new/deeper"), 0, {"exact match"});  // a missing folder is made
}

TEST_CASE("hardening: chapter 0 refuses sizes and learning rates it cannot train with") {
    check_run("ch0", "--hidden 0", 2, {"ch0: --hidden must be between 1 and 4096, got 0"});
    check_run("ch0", "--lr 1e300", 2, {"ch0: --lr must be > 0 and ≤ 100, got 1e300"});
    check_run("ch0", "--lr 0", 2, {"ch0: --lr must be > 0 and ≤ 100, got 0"});
    check_run("ch0", "--help", 0, {"(default: 1, > 0 and ≤ 100)", "(default: 16, 1..4096)"});
}

TEST_CASE("hardening: sizes that would overflow int inside a layer are refused where they enter") {
    check_run("ch1", "--hidden 536870912", 2, {"ch1: --hidden must be between 1 and 4096, got 536870912"});
    check_run("ch5", "--d-model 536870912", 2, {"ch5: --d-model must be between 1 and 4096, got 536870912"});
    check_run("ch2", "--batch 0", 2, {"ch2: --batch must be between 1 and 65536, got 0"});
    check_run("ch2", "--examples 100 --test 100", 2, {"ch2: --test must be below --examples (100), got 100"});
    check_run("ch5", "--d-model 130", 2, {"ch5: --d-model (130) must be a multiple of --heads (4)"});
    const TempDir out("sizes");
    check_run("ch4", "--depths 1,100000 --out " + out.path(), 1, {"--depths: '100000' is not a number of layers from 1 to 64"});
}

TEST_CASE("hardening: chapter 0's data file: bad numbers, junk and labels are refused with file:line") {
    const TempDir dir("points");
    struct Case {
        std::string line, error;
    };
    const std::vector<Case> cases = {
        {"nan,0.5,1", "x and y must be finite numbers"},
        {"0.5,1e400,0", "x and y must be finite numbers"},
        {"inf,0.5,0", "x and y must be finite numbers"},
        {"0.5x,0.5,0", "x and y must be finite numbers"},
        {"0.5,0.5,1 extra", "the label must be 0 or 1, got '0.5,0.5,1 extra'"},
        {"0.5,0.5,0.7", "the label must be 0 or 1"},
        {"0.5,0.5,1.0", "the label must be 0 or 1"},
        {"0.5,0.5,2", "the label must be 0 or 1"},
        {"0.5,0.5", "expected 'x,y,label', got '0.5,0.5'"},
        {"0.5,0.5,1,0", "expected 'x,y,label'"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.line);
        const std::string path = dir.write("points.csv", "0.1, -0.2 ,0\r\n\n" + c.line + "\n");
        check_run("ch0", "--data " + path, 1, {(path + ":3: ").c_str(), c.error.c_str()});
    }
    // A 5 MB line is refused by its length, and the message stays one short line.
    const std::string path = dir.write("long.csv", "0.1,0.2,1\n" + std::string(5'000'000, '7') + "\n");
    const Run r = check_run("ch0", "--data " + path, 1, {(path + ":2: the line has 5000000 bytes; a line may have at most 4096").c_str()});
    const size_t error = r.output.find("ch0: error:");
    CHECK(r.output.find('\n', error) - error < 200);
    // A bad line is quoted by its first 60 characters.
    const std::string junk = dir.write("junk.csv", "0.1,0.2,1\n" + std::string(4000, '7') + "\n");
    check_run("ch0", "--data " + junk, 1, {(junk + ":2: ").c_str(), (std::string(60, '7') + "…'").c_str()});
    // A file past the data-file limit is refused before it is read (a sparse file: nothing is written).
    const std::string big = dir.write("big.csv", "0,0,0\n");
    std::filesystem::resize_file(big, s2a::kMaxTextFileBytes + 1);
    check_run("ch0", "--data " + big, 1, {"a points file may have at most"});
    // Spaces around the numbers and Windows line ends are fine.
    check_run("ch0", "--quick --data " + dir.write("good.csv", " 0.1 , -0.2 , 0\r\n-1e-3,2.5E+0,1\r\n"), 0,
              {"training accuracy", "on 2 points"});
}

namespace {

// A small chapter-1 model on addition, its Adam optimizer and batches.
struct Small {
    s2a::Split sets = s2a::split(s2a::load_or_generate("addition", "", 200, 3), 40, 3);
    s2a::Vocab vocab = s2a::make_vocab(sets.train);
    s2a::Rng init{1};
    s2a::Seq2seq model{vocab.size(), 8, 16, false, init};
    s2a::Batcher batches{sets.train, vocab, 32, false};
    std::vector<s2a::Tensor> values() const {
        std::vector<s2a::Tensor> v;
        for (const s2a::Var& p : model.parameters()) v.push_back(p.value());
        return v;
    }
};

}  // namespace

TEST_CASE("hardening: a loss that turns non-finite names the first op that made it, and updates nothing") {
    SUBCASE("an overflow: output biases of ±1e308 put the right answer 2e308 below the best guess") {
        Small s;
        for (auto& [name, p] : s.model.named_parameters())
            if (name == "decoder.out.b")
                for (int64_t k = 0; k < p.numel(); ++k) p.value()[k] = s2a::Real(k % 2 ? 1e308 : -1e308);
        s2a::Adam adam(s.model.parameters(), s2a::Real(1e-3));
        const std::vector<s2a::Tensor> before = s.values();
        const std::string error = s2a::error_of([&] { s2a::train_step(s.model, s.batches.batch(0), adam, 5); });
        INFO(error);
        CHECK(s2a::contains(error, "at step 1; redone with every op checked, the first not finite: op #"));
        CHECK(s2a::contains(error, "cross_entropy (inputs (32, 4, 13)) produced inf"));  // the loss op itself
        CHECK(s2a::contains(error, "from finite inputs: the op itself overflowed"));
        CHECK(s2a::contains(error, "No parameter was updated"));
        const std::vector<s2a::Tensor> after = s.values();
        for (size_t i = 0; i < before.size(); ++i) CHECK(after[i].data == before[i].data);
        CHECK(adam.steps() == 0);
        CHECK(s2a::tape().size() == 0);  // the failed step left nothing on the tape
    }
    SUBCASE("a NaN planted in a weight: the first op that reads it is named, and the weight") {
        Small s;
        for (auto& [name, p] : s.model.named_parameters())
            if (name == "encoder.lstm.Wx") p.value()[3] = NAN;
        s2a::Adam adam(s.model.parameters(), s2a::Real(1e-3));
        const std::string error = s2a::error_of([&] { s2a::train_step(s.model, s.batches.batch(0), adam, 5); });
        INFO(error);
        CHECK(s2a::contains(error, "nan at step 1;"));
        // the encoder's LSTM, whose first product is x · Wx + b (a NaN's sign bit is whatever the arithmetic left)
        CHECK(s2a::contains(error, "op #1 lstm_recurrence (inputs (32, 7, 8), (8, 64), (64), (16, 64), (32, 16), (32, 16)) produced "));
        CHECK(s2a::contains(error, "nan at element"));
        CHECK(s2a::contains(error, "because input 2 ('Wx' (8, 64)) already held nan at element 3"));
        CHECK(adam.steps() == 0);
    }
    SUBCASE("finite loss, gradients that overflow: a learning rate of 1e300 moves every weight by about 1e300") {
        Small s;
        s2a::Adam adam(s.model.parameters(), s2a::Real(1e300));
        s2a::train_step(s.model, s.batches.batch(0), adam, 5);
        const std::vector<s2a::Tensor> before = s.values();
        const std::string error = s2a::error_of([&] { s2a::train_step(s.model, s.batches.batch(1), adam, 5); });
        INFO(error);
        CHECK(s2a::contains(error, "step 2: clip_grad_norm: gradients are not finite"));
        CHECK(s2a::contains(error, "No parameter was updated"));
        const std::vector<s2a::Tensor> after = s.values();
        for (size_t i = 0; i < before.size(); ++i) CHECK(after[i].data == before[i].data);
        CHECK(adam.steps() == 1);
        CHECK(s2a::tape().size() == 0);
    }
}
