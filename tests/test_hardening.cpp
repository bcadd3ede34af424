// tests/test_hardening.cpp — the programs refuse what they cannot do well before they start: values outside a
// flag's bounds, an --out they could not write to, a data file of chapter 0 with bad lines; and no run replaces
// the files of a training run with those of a run that trained nothing.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

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
    // A 10 MB line is quoted by its first 60 characters.
    const std::string path = dir.write("long.csv", "0.1,0.2,1\n" + std::string(10'000'000, '7') + "\n");
    const Run r = check_run("ch0", "--data " + path, 1, {(path + ":2: ").c_str(), (std::string(60, '7') + "…'").c_str()});
    const size_t error = r.output.find("ch0: error:");
    CHECK(r.output.find('\n', error) - error < 200);
    // Spaces around the numbers and Windows line ends are fine.
    check_run("ch0", "--quick --data " + dir.write("good.csv", " 0.1 , -0.2 , 0\r\n-1e-3,2.5E+0,1\r\n"), 0,
              {"training accuracy", "on 2 points"});
}
