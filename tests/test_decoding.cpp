// tests/test_decoding.cpp — greedy decoding and beam search (models/decoding.h) on a toy "model" whose
// probabilities are written out by hand, so every expected answer can be worked out on paper; the row
// helpers; the one search run over every model of the project (k = 1 is greedy, n-best lists); and
// generate_batches, the batches of a test set shared between replicas, one per core.
//
// Dimensions: B batch (2 sentences), k beam, R rows (B·k), V vocabulary (3), L answer length.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "autodiff/ops.h"
#include "models/attention_seq2seq.h"
#include "models/decoding.h"
#include "models/transformer_seq2seq.h"
#include "tests/tiny_transformer.h"
#include "tests/util.h"

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
                                        [&](const std::vector<int>& parents) { m.reorder(parents); }).best;
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

TEST_CASE("decoding: the n-best list holds each sentence's k hypotheses, best first, with log P and key") {
    // Sentence 0, k = 2, L = 2, no end symbol: "b b" (0.43 · 0.9 = 0.387), then "a end" (0.55 · 0.34 = 0.187).
    ToyModel m(2, 2);
    const BeamResult r = beam_search({2, kStart, 2, -1}, 2, 0, [&](const IndexTensor& prev) { return m.step(prev); },
                                     [&](const std::vector<int>& parents) { m.reorder(parents); });
    REQUIRE(r.nbest.size() == 2);
    REQUIRE(r.nbest[0].size() == 2);
    CHECK(r.nbest[0][0].tokens == std::vector<int>{kB, kB});
    CHECK(r.nbest[0][0].log_prob == doctest::Approx(std::log(0.43 * 0.9)));
    CHECK(r.nbest[0][1].tokens == std::vector<int>{kA, kEnd});
    CHECK(r.nbest[0][1].log_prob == doctest::Approx(std::log(0.55 * 0.34)));
    CHECK(r.nbest[0][1].key == doctest::Approx(r.nbest[0][1].log_prob));  // α = 0: the key is log P
    CHECK(r.best.data[0] == kB);
    // With α = 1 the key is log P / ((5 + L) / 6); with an end symbol, L stops at it.
    ToyModel n(2, 3);
    const BeamResult e = beam_search({2, kStart, 3, kEnd}, 3, 1, [&](const IndexTensor& prev) { return n.step(prev); },
                                     [&](const std::vector<int>& parents) { n.reorder(parents); });
    for (const auto& list : e.nbest)
        for (size_t j = 0; j < list.size(); ++j) {
            CHECK(list[j].key == doctest::Approx(list[j].log_prob / ((5.0 + list[j].length) / 6)));
            if (j) CHECK(list[j - 1].key >= list[j].key);
        }
    CHECK(e.nbest[1][0].tokens == std::vector<int>{kEnd, kEnd, kEnd});  // sentence 1: "end" at once, L 1
    CHECK(e.nbest[1][0].length == 1);
}

namespace {

// V 7: id 0 the padding and end symbol, id 6 the start symbol. Every model of the project, with random weights.
std::vector<std::unique_ptr<Seq2seqModel>> every_model(int end_id, Rng& rng) {
    AttentionConfig a;
    a.V = 7, a.E = 3, a.H = 6, a.pad_id = 0, a.end_id = end_id;
    AttentionConfig b = a;
    b.wiring = Wiring::Bahdanau, b.score = Score::Additive, b.layers = 2;
    const TransformerConfig t = tiny_transformer(7, 0, end_id);
    std::vector<std::unique_ptr<Seq2seqModel>> models;
    models.push_back(std::make_unique<Seq2seq>(7, 3, 6, false, rng, Summary::Last, end_id));
    models.push_back(std::make_unique<Seq2seq>(7, 3, 6, true, rng, Summary::Mean, end_id));
    models.push_back(std::make_unique<AttentionSeq2seq>(a, rng));
    models.push_back(std::make_unique<AttentionSeq2seq>(b, rng));
    models.push_back(std::make_unique<TransformerSeq2seq>(t, rng));
    for (auto& m : models)
        for (auto& [name, p] : m->named_parameters()) p.value() = randn(p.shape(), rng, Real(0.8));
    return models;
}

// log P(answer | src) under the model's own decoding steps, up to and including each row's end symbol.
std::vector<double> log_prob(Seq2seqModel& model, const IndexTensor& src, const IndexTensor& answer) {
    NoGrad no_grad;
    model.eval();
    const int B = answer.shape[0], L = answer.shape[1];
    const DecoderSteps decoder = model.steps(src, 1);
    std::vector<double> total(B, 0);
    std::vector<bool> ended(B, false);
    IndexTensor prev(Shape{B}, 6);
    for (int t = 0; t < L; ++t) {
        const Tensor logp = decoder.step(prev);  // (B, V)
        for (int b = 0; b < B; ++b) {
            prev[b] = answer[b * L + t];
            if (!ended[b]) total[b] += logp[b * logp.dim(1) + prev[b]];
            ended[b] = ended[b] || prev[b] == model.end_id();
        }
    }
    model.train();
    return total;
}

}  // namespace

TEST_CASE("decoding: every model — beam search with k = 1 is exactly greedy, and k = 4's best is at least as probable") {
    const char* names[] = {"seq2seq", "peeky mean", "attention luong", "attention bahdanau 2 layers", "transformer"};
    for (int end_id : {0, -1}) {
        Rng rng(40 + end_id);
        auto models = every_model(end_id, rng);
        IndexTensor src(Shape{6, 5});
        for (int& id : src.data) id = 1 + rng.randint(5);
        for (size_t m = 0; m < models.size(); ++m) {
            INFO(names[m] << ", end " << end_id);
            Seq2seqModel& model = *models[m];
            const IndexTensor greedy = model.generate(src, 6, 7);
            for (Real alpha : {Real(0), Real(0.6)}) CHECK(model.beam_search(src, 6, 7, 1, alpha).data == greedy.data);
            // α = 0 ranks by log P alone. Not a theorem (greedy's path can fall out of the beam), but it holds here,
            // and a search that ranked or reordered its hypotheses wrongly would fail it.
            const BeamResult wide = model.nbest(src, 6, 7, 4, 0);
            CHECK(wide.nbest[0].size() == 4);
            const std::vector<double> g = log_prob(model, src, greedy), w = log_prob(model, src, wide.best);
            for (int b = 0; b < 6; ++b) {
                CHECK(w[b] >= g[b] - 1e-9);
                CHECK(wide.nbest[b][0].log_prob == doctest::Approx(w[b]).epsilon(1e-9));  // the n-best's score is the model's
            }
        }
    }
}

TEST_CASE("decoding: take_rows and repeated_rows") {
    CHECK(repeated_rows(3, 2) == std::vector<int>{0, 0, 1, 1, 2, 2});
    const Tensor x = Tensor::from(Shape{3, 1, 2}, {0, 1, 10, 11, 20, 21});  // (R, 1, 2)
    const Tensor taken = take_rows(x, {2, 0, 2, 2});
    CHECK(taken.shape == Shape({4, 1, 2}));
    CHECK(taken.data == Tensor::from(Shape{4, 1, 2}, {20, 21, 0, 1, 20, 21, 20, 21}).data);
    const IndexTensor ids = IndexTensor::from(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(take_rows(ids, {1, 1, 0}).data == std::vector<int>{4, 5, 6, 4, 5, 6, 1, 2, 3});
    // On the tape's values: all rows in their order is the constant itself (greedy decoding's start, no copy);
    // any other rows, or a value that wants gradients, give a new constant.
    const Var c = constant(x);
    CHECK(take_rows(c, {0, 1, 2}).value().ptr() == c.value().ptr());
    const Var reordered = take_rows(c, {0, 2, 1});
    CHECK(reordered.value().ptr() != c.value().ptr());
    CHECK(reordered.value().data == Tensor::from(Shape{3, 1, 2}, {0, 1, 20, 21, 10, 11}).data);
    CHECK(take_rows(c, {0, 1}).value().shape == Shape({2, 1, 2}));
    const Var p = parameter(x);
    const Var copied = take_rows(p, {0, 1, 2});
    CHECK(copied.value().ptr() != p.value().ptr());
    CHECK_FALSE(copied.requires_grad());
}

TEST_CASE("decoding: generate_batches with a replica per core writes each batch's greedy answers, bit for bit") {
    Rng rng(44), other(45);
    auto models = every_model(0, rng), replicas = every_model(0, other);  // the same architectures, other weights
    const int N = 10, S = 5, B = 4, L = 6;                                  // batches of 4, 4 and 2
    IndexTensor sources(Shape{N, S});
    for (int& id : sources.data) id = 1 + rng.randint(5);
    for (size_t m = 0; m < models.size(); ++m) {
        CAPTURE(m);
        copy_parameters(*models[m], *replicas[m]);
        IndexTensor want(Shape{N, L});  // (N, L): one model, one batch after another
        for (int first = 0; first < N; first += B) {
            const int rows = std::min(B, N - first);
            IndexTensor src(Shape{rows, S});
            std::copy_n(sources.data.begin() + first * S, rows * S, src.data.begin());
            const IndexTensor got = models[m]->generate(src, 6, L);
            std::copy(got.data.begin(), got.data.end(), want.data.begin() + first * L);
        }
        CHECK(generate_batches({models[m].get(), replicas[m].get()}, sources, B, 6, L).data == want.data);
        CHECK(generate_batches({models[m].get()}, sources, B, 6, L).data == want.data);
    }
    CHECK(contains(error_of([&] { generate_batches({}, sources, B, 6, L); }), "at least one model"));
    CHECK(contains(error_of([&] { generate_batches({models[0].get(), models[0].get()}, sources, B, 6, L); }), "same model"));
    CHECK(contains(error_of([&] { generate_batches({models[0].get()}, sources, 0, 6, L); }), "batch ≥ 1"));
    CHECK(contains(error_of([&] { copy_parameters(*models[0], *models[2]); }), "copy_parameters"));
}
