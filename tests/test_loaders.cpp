// tests/test_loaders.cpp — the chapter programs on data files the generators never make: no space anywhere,
// a character that only one line holds, a line far past the limit. Each must run, or stop with FILE:LINE.
// Then the loaders' in-memory entry points, which the fuzzers (fuzz/) call: each must read exactly as its
// path version does.
// (The loaders themselves are tested in test_data.cpp, test_npz.cpp and, for checkpoints, test_nn.cpp.)
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/points.h"
#include "io/npz.h"
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
    const std::string path = tmp.write("long.txt", "ab_ba\n" + std::string(5'000'000, 'a') + "_a\n");
    check_run("ch1", fmt::format("--quick --data {} --out {}", path, tmp.path()), 1,
              {(path + ":2: line is longer than 4096 bytes, the limit").c_str()});
}

// ---------------------------------------------------------------- the in-memory entry points

TEST_CASE("loaders: read_points reads a string as it reads the file, and names it in its errors") {
    const TempDir tmp("loaders_points");
    const std::string text = " 0.1 , -0.2 , 0\r\n\n-1e-3,2.5E+0,1\n";
    Tensor from_file, from_memory;           // (N, F)
    IndexTensor labels_file, labels_memory;  // (N)
    read_points(tmp.write("p.csv", text), from_file, labels_file);
    std::istringstream in(text);
    read_points(in, "memory", from_memory, labels_memory);
    REQUIRE(from_memory.shape == Shape{2, 2});
    CHECK(from_memory.data == from_file.data);
    CHECK(labels_memory.data == labels_file.data);
    CHECK(from_memory[3] == Real(2.5));
    CHECK(labels_memory[1] == 1);

    const auto error = [](const std::string& content) {
        std::istringstream bad(content);
        return error_of([&] {
            Tensor points;
            IndexTensor labels;
            read_points(bad, "memory", points, labels);
        });
    };
    CHECK(error("0,0,0\n0.5,1e400,1\n") == fmt::format("memory:2: x and y must be finite numbers within ±{:.3g}, got "
                                                         "'0.5,1e400,1'",
                                                         std::numeric_limits<Real>::max()));
    CHECK(error("\r\n\n") == "memory: no points in the file");
    CHECK(error("1,2,3\n") == "memory:1: the label must be 0 or 1, got '1,2,3'");
}

TEST_CASE("loaders: read_text and load_npz read from memory as from a file") {
    const TempDir tmp("loaders_memory");
    const std::string text = "16+75  _91  \r\n999+1  _1000\n\n";
    const TextData from_file = read_text(tmp.write("a.txt", text));
    std::istringstream in(text);
    const TextData from_memory = read_text(in, "memory.txt");
    CHECK(from_memory.questions == from_file.questions);
    CHECK(from_memory.answers == from_file.answers);
    CHECK(from_memory.lines == from_file.lines);
    CHECK(from_memory.where(1) == "memory.txt:2");
    std::istringstream bad("ab_ba\n\ncd_dc\n");
    CHECK(error_of([&] { read_text(bad, "memory.txt"); }) ==
          "memory.txt:2: blank line between examples (only the end of the file may have blank lines)");

    const Tensor w = Tensor::from(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
    const std::string path = tmp.file("w.npz");
    save_npz(path, {{"w", &w}});
    std::ifstream file(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const auto arrays = load_npz(bytes, "memory.npz");
    REQUIRE(arrays.size() == 1);
    CHECK(arrays[0].first == "w");
    CHECK(arrays[0].second.data == w.data);
    bytes.resize(bytes.size() - 1);  // the end record cut short
    CHECK(error_of([&] { load_npz(bytes, "memory.npz"); }) ==
          "memory.npz: truncated (the end-of-central-directory record is missing)");
}
