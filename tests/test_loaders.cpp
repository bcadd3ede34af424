// tests/test_loaders.cpp — the chapter programs on data files the generators never make: no space anywhere,
// a character that only one line holds, a line far past the limit. Each must run, or stop with FILE:LINE.
// (The loaders themselves are tested in test_data.cpp, test_npz.cpp and, for checkpoints, test_nn.cpp.)
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>
#include <vector>

#include "data/dataset.h"
#include "tests/run_program.h"
#include "tests/util.h"

using namespace s2a;

namespace {

// n examples "cabed" → "debac": strings of 3 to 5 letters a..e and their reverse.
std::vector<Example> reversals(int n, uint64_t seed) {
    Rng rng(seed);
    std::vector<Example> examples;
    for (int i = 0; i < n; ++i) {
        std::string s(static_cast<size_t>(3 + rng.randint(3)), 'a');
        for (char& c : s) c = static_cast<char>('a' + rng.randint(5));
        examples.push_back({s, std::string(s.rbegin(), s.rend())});
    }
    return examples;
}

}  // namespace

TEST_CASE("loaders: ch3 trains on a file without a single space") {
    // Every string is five letters long: nothing needs padding, yet the model pads with ' '.
    const TempDir tmp("loaders_nospace");
    std::string content;
    for (const Example& e : reversals(1000, 1))
        if (e.question.size() == 5) content += e.question + "_" + e.answer + "\n";
    const std::string path = tmp.write("reverse.txt", content);
    REQUIRE(read_text(path).size() > 300);
    check_run("ch3", fmt::format("--quick --data {} --out {}", path, tmp.path()), 0, {"exact match"});
}

TEST_CASE("loaders: ch1 runs when the only line with some character lands in the test part") {
    // split's order depends on the number of examples and the seed only: the example it puts last is in the
    // test part however many are held out. Split the examples' numbers to find it, and give that example, and
    // no other, the letter 'z'.
    const TempDir tmp("loaders_rare");
    std::vector<Example> examples = reversals(1000, 2);
    TextData numbers;
    for (size_t i = 0; i < examples.size(); ++i) {
        numbers.questions.push_back(std::to_string(i));
        numbers.answers.push_back("_");
    }
    Example& last = examples[std::stoul(split(numbers, 1, 1).test.questions[0])];
    last.question[0] = 'z';
    last.answer.back() = 'z';
    const std::string path = tmp.file("rare.txt");
    write_text(path, pad(examples));
    check_run("ch1", fmt::format("--quick --seed 1 --data {} --out {}", path, tmp.path()), 0, {"(test exact match)"});
}

TEST_CASE("loaders: a line past the limit stops a chapter with FILE:LINE and the limit") {
    const TempDir tmp("loaders_long");
    const std::string path = tmp.write("long.txt", "ab_ba\n" + std::string(10'000'000, 'a') + "_a\n");
    check_run("ch1", fmt::format("--quick --data {} --out {}", path, tmp.path()), 1,
              {(path + ":2: line is longer than 4096 bytes, the limit").c_str()});
}
