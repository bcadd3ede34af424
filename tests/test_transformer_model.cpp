// tests/test_transformer_model.cpp — the Transformer seq2seq of chapter 5 as a whole: the gradient of its
// loss, what the masks and the end symbol promise, the cached decoder against the full forward pass, greedy
// decoding against beam search, corpus BLEU on a worked example, the learning-rate schedule in the optimizer.
//
// Dimensions: B batch, S source, T answer, V vocabulary, D d_model. Sizes are tiny and seeded, in double.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>

#include "autodiff/gradcheck.h"
#include "autodiff/ops.h"
#include "data/tasks_hard.h"
#include "models/bleu.h"
#include "models/train.h"
#include "models/transformer_seq2seq.h"
#include "tests/tiny_transformer.h"
#include "tests/training.h"

using namespace s2a;

namespace {

// V 7 with pad (and end) id 0 and start id 6; B 2, S 5: row 1 ends in two pads; answers of T 4 after the start.
const IndexTensor kSrc = IndexTensor::from(Shape{2, 5}, {1, 2, 3, 4, 5, 4, 3, 2, 0, 0});
const IndexTensor kTgt = IndexTensor::from(Shape{2, 5}, {6, 5, 3, 1, 2, 6, 2, 4, 0, 0});
// Row 1 of the source ends in two pads; row 2 starts with two (a right-aligned source): B 3, S 5.
const IndexTensor kPaddedSrc = IndexTensor::from(Shape{3, 5}, {1, 2, 3, 4, 5, 4, 3, 2, 0, 0, 0, 0, 5, 1, 2});

TransformerConfig tiny(bool pre_norm, bool shared, bool learned, int end_id) {
    // No dropout: the gradient check calls the loss many times, and every call must compute the same function.
    TransformerConfig c = tiny_transformer(7, 0, end_id);
    c.encoder_layers = 2, c.decoder_layers = 2;
    c.pre_norm = pre_norm, c.shared_embeddings = c.tied_output = shared, c.learned_positions = learned;
    c.label_smoothing = Real(0.1);
    return c;
}

// Random ids in 1..V-1 (no pads) for B sentences of length L.
IndexTensor random_ids(int B, int L, int V, Rng& rng) {
    IndexTensor ids(Shape{B, L});
    for (int& id : ids.data) id = 1 + rng.randint(V - 1);
    return ids;
}

}  // namespace

TEST_CASE("transformer model: gradient check of the whole loss (post-norm tied, pre-norm separate + learned positions)") {
    for (bool pre : {false, true}) {
        Rng rng(11);
        TransformerSeq2seq model(tiny(pre, !pre, pre, 0), rng);
        for (auto& [name, p] : model.named_parameters()) p.value() = randn(p.shape(), rng, Real(0.5));  // no 0 or 1 left
        GradcheckOptions opt;
        opt.max_elements = 48;
        const GradcheckReport r = gradcheck([&](const std::vector<Var>&) { return model.loss(kSrc, kTgt); }, model.parameters(), opt);
        INFO((pre ? "pre-norm" : "post-norm") << "\n" << r.str());
        CHECK(r.pass);
    }
}

TEST_CASE("transformer model: trailing source padding and the tokens after the end change nothing") {
    Rng rng(12);
    TransformerSeq2seq model(tiny(false, true, false, 0), rng);
    const double base = model.loss(kSrc, kTgt).item();
    // Two more pads on every source row: masked keys, so no other position's output moves.
    IndexTensor wider(Shape{2, 7}, 0);
    for (int b = 0; b < 2; ++b) std::copy_n(kSrc.data.begin() + b * 5, 5, wider.data.begin() + b * 7);
    CHECK(model.loss(wider, kTgt).item() == doctest::Approx(base).epsilon(1e-12));
    // Padding at the start (a right-aligned source) is masked too: no query gives a leading pad any weight,
    // in the encoder or in the cross-attention; the pad inside the text (position 3) stays visible.
    model.loss(IndexTensor::from(Shape{1, 6}, {0, 0, 4, 0, 3, 2}), IndexTensor::from(Shape{1, 5}, {6, 2, 4, 0, 0}));
    for (const Tensor& w : {model.encoder_self_attention()[0], model.decoder_cross_attention()[1]}) {  // (1, h, Tq, 6)
        const int rows = w.dim(1) * w.dim(2);
        for (int r = 0; r < rows; ++r) {
            CHECK(w[r * 6 + 0] == 0);
            CHECK(w[r * 6 + 1] == 0);
            CHECK(w[r * 6 + 3] > 0);
        }
    }
    // Row 1's answer ends at position 3 (id 0); what follows the end is not counted, whatever it is.
    IndexTensor changed = kTgt;
    changed[9] = 5;
    CHECK(model.loss(kSrc, changed).item() == doctest::Approx(base).epsilon(1e-12));
    // Without an end symbol every position counts.
    Rng rng2(12);
    TransformerSeq2seq every(tiny(false, true, false, -1), rng2);
    CHECK(every.loss(kSrc, changed).item() != doctest::Approx(every.loss(kSrc, kTgt).item()).epsilon(1e-12));
    tape().clear();
}

TEST_CASE("transformer model: the decoder's cached steps give forward's rows, position by position") {
    const Tensor pad = padding_mask(kPaddedSrc, 0);  // (B, 1, 1, S)
    const int B = 3, S = 5, T = 6, D = 8;
    for (bool pre : {false, true}) {
        Rng rng(16);
        TransformerDecoder decoder(2, D, 2, 12, 0, pre, rng);
        for (auto& [name, p] : decoder.named_parameters()) p.value() = randn(p.shape(), rng, Real(0.5));
        NoGrad no_grad;
        const Var y = constant(randn(Shape{B, T, D}, rng));       // (B, T, D)
        const Var memory = constant(randn(Shape{B, S, D}, rng));  // (B, S, D)
        const Tensor causal = causal_mask(T);                     // (T, T)
        const Var full = decoder.forward(y, memory, &causal, &pad);  // (B, T, D)
        std::vector<DecoderLayerCache> cache = decoder.start(memory);
        for (int t = 0; t < T; ++t) {
            const Tensor step = decoder.step(slice(y, 1, t, t + 1), &pad, cache).value();  // (B, 1, D)
            const Tensor row = slice(full, 1, t, t + 1).value();                           // (B, 1, D)
            REQUIRE(step.shape == row.shape);
            double worst = 0;
            for (int64_t i = 0; i < row.numel(); ++i) worst = std::max(worst, std::fabs(double(step[i] - row[i])));
            INFO((pre ? "pre-norm" : "post-norm") << ", position " << t << ": max |step - forward| = " << worst);
            CHECK(worst < 1e-10);
            for (const DecoderLayerCache& layer : cache) {
                CHECK(layer.self.k.shape() == Shape({B, t + 1, D}));  // one more position at each step
                CHECK(layer.memory.v.shape() == Shape({B, S, D}));
            }
        }
    }
}

TEST_CASE("transformer model: cached decode_step gives the full forward pass's log-probabilities, position by position") {
    // Each sentence decoded in 2 copies, as beam search decodes its hypotheses: every copy must match.
    const IndexTensor tgt_in = IndexTensor::from(Shape{3, 6}, {6, 5, 3, 1, 2, 4, 6, 2, 4, 0, 0, 0, 6, 1, 1, 3, 5, 2});
    const int T = 6, V = 7, copies = 2, R = 3 * copies;
    for (bool pre : {false, true}) {
        Rng rng(13);
        TransformerSeq2seq model(tiny(pre, !pre, pre, -1), rng);
        for (auto& [name, p] : model.named_parameters()) p.value() = randn(p.shape(), rng, Real(0.5));
        NoGrad no_grad;
        model.eval();
        const Tensor full = log_softmax(model.logits(kPaddedSrc, tgt_in)).value();  // (B, T, V)
        DecoderCache cache = model.start_decoding(kPaddedSrc, copies);
        for (int t = 0; t < T; ++t) {
            IndexTensor prev(Shape{R});  // (R): row r is a copy of sentence r / copies
            for (int r = 0; r < R; ++r) prev[r] = tgt_in[(r / copies) * T + t];
            const Tensor step = model.decode_step(prev, cache);  // (R, V)
            REQUIRE(step.shape == Shape({R, V}));
            double worst = 0;
            for (int r = 0; r < R; ++r)
                for (int v = 0; v < V; ++v)
                    worst = std::max(worst, std::fabs(double(step[r * V + v] - full[((r / copies) * T + t) * V + v])));
            INFO((pre ? "pre-norm" : "post-norm") << ", position " << t << ": max |step - full| = " << worst);
            CHECK(worst < 1e-10);
        }
        CHECK(cache.t == T);
    }
}

TEST_CASE("transformer model: beam search with k = 1 is exactly greedy decoding") {
    for (int seed = 0; seed < 6; ++seed) {
        Rng rng(100 + seed);
        TransformerSeq2seq model(tiny(seed % 2 == 1, true, false, seed < 3 ? 0 : -1), rng);
        for (auto& [name, p] : model.named_parameters()) p.value() = randn(p.shape(), rng, Real(0.7));
        const IndexTensor src = random_ids(5, 6, 7, rng);
        const IndexTensor greedy = model.generate(src, 6, 8);
        CHECK(greedy.shape == Shape{5, 8});
        for (Real alpha : {Real(0), Real(0.6)}) {
            INFO("seed " << seed << ", alpha " << alpha);
            CHECK(model.beam_search(src, 6, 8, 1, alpha).data == greedy.data);
        }
    }
}

TEST_CASE("transformer model: after the end symbol decoding writes only end symbols") {
    Rng rng(14);
    TransformerSeq2seq model(tiny(false, true, false, 0), rng);
    for (auto& [name, p] : model.named_parameters()) p.value() = randn(p.shape(), rng, Real(0.7));
    const IndexTensor src = random_ids(16, 6, 7, rng);
    for (const IndexTensor& out : {model.generate(src, 6, 10), model.beam_search(src, 6, 10, 3, Real(0.6))})
        for (int b = 0; b < 16; ++b) {
            bool ended = false;
            for (int t = 0; t < 10; ++t) {
                if (ended) CHECK(out[b * 10 + t] == 0);
                ended = ended || out[b * 10 + t] == 0;
            }
        }
}

TEST_CASE("transformer model: beam search (k > 1) finds answers at least as probable as greedy's") {
    // Not a theorem (the greedy path can fall out of the beam), but it holds here, and a beam search that
    // ranked its hypotheses wrongly would fail it at once. α = 0: hypotheses are ranked by log P itself.
    int better = 0;
    for (int seed = 0; seed < 4; ++seed) {
        Rng rng(200 + seed);
        TransformerSeq2seq model(tiny(false, true, false, seed % 2 ? 0 : -1), rng);
        for (auto& [name, p] : model.named_parameters()) p.value() = randn(p.shape(), rng, Real(0.7));
        const IndexTensor src = random_ids(8, 6, 7, rng);
        const std::vector<double> g = model.log_prob(src, 6, model.generate(src, 6, 6));
        for (int k : {2, 4}) {
            const std::vector<double> b = model.log_prob(src, 6, model.beam_search(src, 6, 6, k, 0));
            for (int i = 0; i < 8; ++i) {
                INFO("seed " << seed << " k " << k << " sentence " << i << ": beam " << b[i] << " greedy " << g[i]);
                CHECK(b[i] >= g[i] - 1e-12);
                better += b[i] > g[i] + 1e-9;
            }
        }
    }
    CHECK(better > 0);  // and it does find better answers, so the test is not vacuous
}

TEST_CASE("bleu: corpus BLEU of a worked example") {
    // Two sentences, tokens as letters:
    //   hypothesis "a a b c d"  reference "a b c d"        hypothesis "x y z w"  reference "x y z w v u"
    // n-gram matches (clipped: "a" occurs once in the reference, so the second "a" does not count):
    //   n = 1:  a b c d of a a b c d → 4/5      x y z w → 4/4      p1 = 8/9
    //   n = 2:  ab bc cd of aa ab bc cd → 3/4   xy yz zw → 3/3     p2 = 6/7
    //   n = 3:  abc bcd of aab abc bcd → 2/3    xyz yzw → 2/2      p3 = 4/5
    //   n = 4:  abcd of aabc abcd → 1/2         xyzw → 1/1         p4 = 2/3
    // Lengths c = 5 + 4 = 9 < r = 4 + 6 = 10, so BP = exp(1 - 10/9) = exp(-1/9) = 0.894839...
    // BLEU = BP · (8/9 · 6/7 · 4/5 · 2/3)^(1/4) = 0.894839 · (384/945)^(1/4) = 0.894839 · 0.798408 = 0.714447
    enum { a = 1, b, c, d, x, y, z, w, v, u };
    const BleuScore s = corpus_bleu({{a, a, b, c, d}, {x, y, z, w}}, {{a, b, c, d}, {x, y, z, w, v, u}});
    CHECK(s.matches == std::vector<long>{8, 6, 4, 2});
    CHECK(s.total == std::vector<long>{9, 7, 5, 3});
    CHECK(s.hypothesis_length == 9);
    CHECK(s.reference_length == 10);
    CHECK(s.brevity_penalty == doctest::Approx(std::exp(-1.0 / 9)));
    CHECK(s.bleu == doctest::Approx(0.7144468265841446).epsilon(1e-12));
    // A perfect corpus scores 1; one with no 4-gram match scores 0; longer hypotheses are not penalised.
    CHECK(corpus_bleu({{a, b, c, d}}, {{a, b, c, d}}).bleu == doctest::Approx(1));
    CHECK(corpus_bleu({{a, b, c, d}}, {{a, b, c, x}}).bleu == 0);
    CHECK(corpus_bleu({{a, b, c, d, a}}, {{a, b, c, d}}).brevity_penalty == 1);
    CHECK(bleu_tokens("abc   ") == std::vector<int>{'a', 'b', 'c'});
    CHECK_THROWS_AS(corpus_bleu({{a}}, {}), std::invalid_argument);
}

TEST_CASE("schedule: linear warm-up to the peak, then 1/sqrt(step)") {
    const WarmupSchedule s(1, 64, 100);  // lr = 64^-0.5 · min(step^-0.5, step · 100^-1.5) = 0.125 · min(...)
    CHECK(s.lr(1) == doctest::Approx(0.125 * 1e-3));   // 0.125 · 1 / 1000
    CHECK(s.lr(50) == doctest::Approx(0.125 * 0.05));  // halfway up the warm-up: half the peak
    CHECK(s.peak() == doctest::Approx(0.0125));        // 0.125 / √100 at step = warmup
    CHECK(s.lr(400) == doctest::Approx(0.00625));      // 4 · warmup: half the peak again
    CHECK(s.lr(0) == s.lr(1));
    CHECK_THROWS_AS(WarmupSchedule(1, 64, 0), std::invalid_argument);
}

TEST_CASE("transformer model: train_step takes the scheduled learning rate and the loss falls") {
    Rng rng(15);
    TextData data = pad(make_hard_task("reverse", 64, 2, 4, 3));
    const Vocab vocab = make_vocab(data);
    TransformerConfig c = tiny(false, true, false, vocab.id(' '));
    c.V = vocab.size();
    c.D = 16;
    c.F = 32;
    c.encoder_layers = 1;
    c.decoder_layers = 1;
    TransformerSeq2seq model(c, rng);
    Batcher batches(data, vocab, 16, false);
    Adam adam(model.parameters(), 0, Real(0.9), Real(0.98), Real(1e-9));
    const WarmupSchedule schedule(1, 16, 20);
    adam.set_schedule(schedule);
    Rng shuffle(1);
    const double first = train_one_epoch(model, batches, adam, 1, shuffle);
    CHECK(adam.steps() == 4);
    CHECK(adam.lr() == doctest::Approx(schedule.lr(4)));
    double last = first;
    for (int e = 0; e < 15; ++e) last = train_one_epoch(model, batches, adam, 1, shuffle);
    CHECK(adam.steps() == 64);
    CHECK(last < first);
}

TEST_CASE("data: the harder tasks reverse and sort") {
    const std::vector<Example> r = make_hard_task("reverse", 50, 3, 9, 1), s = make_hard_task("sort", 50, 3, 9, 1);
    for (size_t i = 0; i < r.size(); ++i) {
        CHECK(r[i].answer == std::string(r[i].question.rbegin(), r[i].question.rend()));
        CHECK(r[i].question.size() >= 3);
        CHECK(r[i].question.size() <= 9);
        CHECK(std::is_sorted(s[i].answer.begin(), s[i].answer.end()));
        CHECK(r[i].question == s[i].question);  // the same seed draws the same strings
    }
    CHECK(hard_task_alphabet().size() == 62);
    const TextData right = pad_left({{"abc", "cba"}}, 5, 4);
    CHECK(right.questions[0] == "  abc");
    CHECK(right.answers[0] == "_cba ");
    CHECK_THROWS_AS(pad_left({{"abcdef", "x"}}, 5, 4), std::invalid_argument);
    CHECK_THROWS_AS(make_hard_task("shuffle", 5, 1, 2, 1), std::invalid_argument);
}
