// tests/test_decoding.cpp — greedy decoding and beam search (models/decoding.h) on a toy "model" whose
// probabilities are written out by hand, so every expected answer can be worked out on paper; and the row
// helpers.
//
// Dimensions: B batch (2 sentences), k beam, R rows (B·k), V vocabulary (3), L answer length.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "models/decoding.h"

using namespace s2a;

namespace {

// Tokens: 0 the end symbol, 1 "a", 2 "b"; 3 the start symbol (read, never written).
constexpr int kEnd = 0, kA = 1, kB = 2, kStart = 3, kV = 3;

// P(next | previous token), one row per previous token (end, a, b, start), for each sentence.
//   sentence 0: greedy takes "a" (0.55) first and is stuck with 0.55 · 0.34 = 0.187, while "b b" has 0.387.
//   sentence 1: ending at once has P 0.4; "a a a" has 0.59 · 0.7 · 0.7 = 0.2891, less probable but longer.
const double kChain[2][4][kV] = {
    {{1. / 3, 1. / 3, 1. / 3}, {0.34, 0.33, 0.33}, {0.05, 0.05, 0.90}, {0.02, 0.55, 0.43}},
    {{1. / 3, 1. / 3, 1. / 3}, {0.10, 0.70, 0.20}, {0.30, 0.30, 0.40}, {0.40, 0.59, 0.01}},
};

// The toy model. Like a real one it keeps its own state for the R = B · copies rows, here each row's tokens
// so far, and reads its probabilities off that state rather than off `prev`: a search that did not reorder
// the state with its hypotheses would get the wrong probabilities.
struct ToyModel {
    int copies;
    std::vector<std::vector<int>> history;  // R rows of the tokens each row has read

    ToyModel(int B, int copies_) : copies(copies_), history(B * copies_) {}

    Tensor step(const IndexTensor& prev) {  // prev (R) → (R, V)
        const int R = prev.shape[0];
        REQUIRE(R == static_cast<int>(history.size()));
        Tensor logp(Shape{R, kV});
        for (int r = 0; r < R; ++r) {
            history[r].push_back(prev[r]);
            for (int v = 0; v < kV; ++v) logp[r * kV + v] = Real(std::log(kChain[r / copies][history[r].back()][v]));
        }
        return logp;
    }
    void reorder(const std::vector<int>& parents) {
        std::vector<std::vector<int>> moved;
        for (size_t r = 0; r < parents.size(); ++r) {
            CHECK(parents[r] / copies == static_cast<int>(r) / copies);  // a hypothesis stays with its sentence
            moved.push_back(history[parents[r]]);
        }
        history = moved;
    }
};

IndexTensor greedy(int L, int end_id) {
    ToyModel m(2, 1);
    return greedy_decode({2, kStart, L, end_id}, [&](const IndexTensor& prev) { return m.step(prev); });
}

IndexTensor beam(int L, int end_id, int k, Real alpha) {
    ToyModel m(2, k);
    const IndexTensor out = beam_search({2, kStart, L, end_id}, k, alpha, [&](const IndexTensor& prev) { return m.step(prev); },
                                        [&](const std::vector<int>& parents) { m.reorder(parents); });
    // The state of each sentence's best row is that hypothesis's: the start symbol, then its first L - 1 tokens.
    for (int b = 0; b < 2; ++b) {
        std::vector<int> expected{kStart};
        for (int t = 0; t + 1 < L; ++t) expected.push_back(out[b * L + t]);
        CHECK(m.history[b * k] == expected);
    }
    return out;
}

}  // namespace

TEST_CASE("decoding: greedy takes the most probable token and writes only end symbols after the end") {
    // sentence 0: a (0.55), then end (0.34); sentence 1: a (0.59), a (0.7), a (0.7).
    CHECK(greedy(3, kEnd).data == std::vector<int>{kA, kEnd, kEnd, kA, kA, kA});
    // Without an end symbol, token 0 is ordinary: after it sentence 0 reads the "end" row, whose first of
    // three equal tokens is 0 again.
    CHECK(greedy(3, -1).data == std::vector<int>{kA, kEnd, kEnd, kA, kA, kA});
}

TEST_CASE("decoding: beam search finds the more probable answer greedy decoding misses") {
    // k = 2, L = 2, no end symbol. Sentence 0: after step 1 the beam holds a (0.55) and b (0.43); step 2's
    // best is b b (0.43 · 0.9 = 0.387) > a end (0.187). Sentence 1: a a (0.413) > every other pair.
    CHECK(beam(2, -1, 2, 0).data == std::vector<int>{kB, kB, kA, kA});
    CHECK(greedy(2, -1).data == std::vector<int>{kA, kEnd, kA, kA});
}

TEST_CASE("decoding: the length penalty lp(L) = ((5 + L) / 6)^alpha decides between a short and a long answer") {
    // Sentence 1, L = 3, k = 2: "end" (L 1, log P = log 0.4 = -0.916) against "a a a" (L 3, log 0.2891 = -1.241).
    // α = 0 ranks by log P: the short answer wins. α = 2: -1.241 / (8/6)² = -0.698 > -0.916 / 1: the long one.
    // Sentence 0 ends with "b b b" (0.348) either way.
    CHECK(beam(3, kEnd, 2, 0).data == std::vector<int>{kB, kB, kB, kEnd, kEnd, kEnd});
    CHECK(beam(3, kEnd, 2, 2).data == std::vector<int>{kB, kB, kB, kA, kA, kA});
}

TEST_CASE("decoding: beam search with k = 1 is exactly greedy decoding; k < 1 is refused") {
    for (int end_id : {kEnd, -1})
        for (Real alpha : {Real(0), Real(0.6), Real(2)}) {
            INFO("end " << end_id << ", alpha " << alpha);
            CHECK(beam(4, end_id, 1, alpha).data == greedy(4, end_id).data);
        }
    ToyModel m(2, 1);
    CHECK_THROWS_AS(beam_search({2, kStart, 2, kEnd}, 0, 0, [&](const IndexTensor& prev) { return m.step(prev); },
                                [](const std::vector<int>&) {}),
                    std::invalid_argument);
}

TEST_CASE("decoding: take_rows and repeated_rows") {
    CHECK(repeated_rows(3, 2) == std::vector<int>{0, 0, 1, 1, 2, 2});
    const Tensor x = Tensor::from(Shape{3, 1, 2}, {0, 1, 10, 11, 20, 21});  // (R, 1, 2)
    const Tensor taken = take_rows(x, {2, 0, 2, 2});
    CHECK(taken.shape == Shape({4, 1, 2}));
    CHECK(taken.data == Tensor::from(Shape{4, 1, 2}, {20, 21, 0, 1, 20, 21, 20, 21}).data);
    const IndexTensor ids = IndexTensor::from(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(take_rows(ids, {1, 1, 0}).data == std::vector<int>{4, 5, 6, 4, 5, 6, 1, 2, 3});
}
