// tests/test_pointer.cpp — the copy mechanism: copy_mixture against a plain probability-space reference and in
// double-precision gradient checks (masks, repeated source words, words outside the vocabulary); a loss that
// stays finite where the probability-space one is log 0; the pointer-generator's whole loss; the names task and
// its batches in extended ids; greedy decoding against beam search k = 1; a quick training run.
//
// Dimensions: B batch, T decoder steps, V vocabulary, S source positions, W extended vocabulary.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>

#include "autodiff/gradcheck.h"
#include "autodiff/ops.h"
#include "data/tasks_names.h"
#include "experiments/pointer.h"
#include "models/pointer_generator.h"
#include "tests/util.h"

using namespace s2a;

namespace {

// B 2, T 3, V 4, S 5, W 7. Row 0 holds the extended word 5 twice and the extended word 6 once; row 1 holds the
// vocabulary word 3 twice, the extended word 5, and two padded positions (id 0, masked). Row 1 does not hold
// word 6: its P(6) is 0.
constexpr int kB = 2, kT = 3, kV = 4, kS = 5, kW = 7;
const IndexTensor kSrc = IndexTensor::from(Shape{kB, kS}, {1, 5, 5, 6, 2, 3, 3, 5, 0, 0});
const Tensor kMask = Tensor::from(Shape{kB, kS}, {1, 1, 1, 1, 1, 1, 1, 1, 0, 0});
// Targets (B, T): a copied word, a vocabulary word, a word both generated and copied (3 in row 1), one ignored.
const IndexTensor kTargets = IndexTensor::from(Shape{kB, kT}, {5, 0, 6, 3, 5, -1});

// The mask as the attention softmax takes it: (B, 1, S), one row for every query step.
Tensor mask3() {
    Tensor m = kMask;
    m.shape = Shape{kB, 1, kS};
    return m;
}

// P(w) the plain way, in probability space, term by term: what copy_mixture's exp(log P) must equal.
Tensor mixture_reference(const Tensor& log_p_vocab, const Tensor& a, const Tensor& z, const Tensor* mask) {
    Tensor P(Shape{kB, kT, kW});
    for (int b = 0; b < kB; ++b)
        for (int t = 0; t < kT; ++t) {
            const int row = b * kT + t;
            const double p_gen = 1 / (1 + std::exp(-double(z[row])));
            for (int w = 0; w < kV; ++w) P[row * kW + w] += p_gen * std::exp(double(log_p_vocab[row * kV + w]));
            for (int s = 0; s < kS; ++s)
                if (!mask || (*mask)[b * kS + s] != 0) P[row * kW + kSrc[b * kS + s]] += (1 - p_gen) * a[row * kS + s];
        }
    return P;
}

// Seeded inputs: logits (B, T, V), attention scores (B, T, S), the gate's logit (B, T, 1).
std::vector<Var> mixture_inputs(uint64_t seed) {
    Rng rng(seed);
    return {parameter(randn(Shape{kB, kT, kV}, rng), "logits"), parameter(randn(Shape{kB, kT, kS}, rng), "scores"),
            parameter(randn(Shape{kB, kT, 1}, rng), "z")};
}

// log P from the inputs as the model makes them: log_softmax of the logits, the masked softmax of the scores.
Var mixture(const std::vector<Var>& x, bool masked) {
    const Var a = masked ? softmax(x[1], mask3()) : softmax(x[1]);
    return copy_mixture(log_softmax(x[0]), a, x[2], kSrc, kW, masked ? &kMask : nullptr);
}

// The gradient check of f at these inputs, up to 64 elements of each compared (a seeded sample beyond that).
GradcheckReport gradients(const std::function<Var(const std::vector<Var>&)>& f, const std::vector<Var>& inputs) {
    GradcheckOptions opt;
    opt.max_elements = 64;
    return gradcheck(f, inputs, opt);
}

// The pointer-generator of the tests: V 6 (<pad> 0, <s> 1, <unk> 2, three words), E 3, H 4.
AttentionConfig tiny(Score score) {
    AttentionConfig c;
    c.V = 6, c.E = 3, c.H = 4, c.score = score, c.pad_id = WordVocab::kPad, c.end_id = WordVocab::kPad;
    return c;
}
// In extended ids: row 0 holds the extended word 6 twice and 7 once, row 1 the word 7, a vocabulary word twice,
// and padding. The targets copy 6 and 7, write vocabulary words, and end with <pad>.
const IndexTensor kModelSrc = IndexTensor::from(Shape{2, 5}, {3, 6, 6, 7, 4, 5, 5, 7, 0, 0});
const IndexTensor kModelTgt = IndexTensor::from(Shape{2, 5}, {1, 6, 7, 3, 0, 1, 5, 7, 0, 0});

}  // namespace

TEST_CASE("copy_mixture: exp(log P) is the probability-space mixture, sums to 1, and is -inf only where P is 0") {
    for (bool masked : {true, false}) {
        INFO("masked ", masked);
        const std::vector<Var> x = mixture_inputs(11);
        const Var a = masked ? softmax(x[1], mask3()) : softmax(x[1]);
        const Var log_p_vocab = log_softmax(x[0]);
        const Tensor log_P = mixture(x, masked).value();  // (B, T, W)
        const Tensor expected = mixture_reference(log_p_vocab.value(), a.value(), x[2].value(), masked ? &kMask : nullptr);
        Tensor P = log_P;
        for (Real& v : P.data) v = std::exp(v);
        CHECK(max_abs_diff(P, expected) < 1e-14);
        for (int row = 0; row < kB * kT; ++row) {
            double total = 0;
            for (int w = 0; w < kW; ++w) total += P[row * kW + w];
            CHECK(total == doctest::Approx(1).epsilon(1e-12));
        }
        // Word 6 is in row 0's source only: row 1 can neither generate nor copy it.
        for (int t = 0; t < kT; ++t) {
            CHECK(std::isfinite(log_P[t * kW + 6]));
            CHECK(log_P[(kT + t) * kW + 6] == -INFINITY);
        }
    }
    tape().clear();
}

TEST_CASE("copy_mixture: gradient check in double, with and without the mask, repeated and extended source words") {
    for (bool masked : {true, false}) {
        INFO("masked ", masked);
        // The distribution itself (exp of log P: every word's probability, the impossible ones 0) ...
        const GradcheckReport dist = gradients([&](const std::vector<Var>& x) { return exp(mixture(x, masked)); }, mixture_inputs(3));
        check_report(dist, "exp(copy_mixture)");
        // ... the loss as the model takes it: the mean -log P(y) of copied, generated and mixed targets ...
        const GradcheckReport loss =
            gradients([&](const std::vector<Var>& x) { return cross_entropy(mixture(x, masked), kTargets); }, mixture_inputs(4));
        check_report(loss, "cross_entropy(copy_mixture)");
    }
    // ... and the op alone on raw inputs: any log-probabilities, any positive weights, weight on a padded position
    // (which the mask must keep out of the sum and out of the gradient).
    Rng rng(5);
    const std::vector<Var> raw = {parameter(randn(Shape{kB, kT, kV}, rng)), parameter(rand_uniform(Shape{kB, kT, kS}, rng, 0.5, 2)),
                                  parameter(randn(Shape{kB, kT, 1}, rng, 3))};
    const GradcheckReport r =
        gradients([](const std::vector<Var>& x) { return exp(copy_mixture(x[0], x[1], x[2], kSrc, kW, &kMask)); }, raw);
    check_report(r, "copy_mixture on raw inputs");
    tape().clear();
    const Var y = copy_mixture(raw[0], raw[1], raw[2], kSrc, kW, &kMask);
    backward(sum(exp(y)));
    for (int t = 0; t < kT; ++t)
        for (int s : {3, 4}) CHECK(raw[1].grad()[(kT + t) * kS + s] == 0);  // row 1's padded positions
    tape().clear();
}

TEST_CASE("copy_mixture: a saturated gate still gives a finite loss, where the probability-space loss is log 0") {
    // p_gen = σ(40): 1 - p_gen rounds to exactly 0 in double (in float already at z = 17), so the probability of a
    // word that can only be copied is 0 there, and -log P(y) = +inf.
    const double z = 40;
    CHECK(1 - 1 / (1 + std::exp(-z)) == 0);
    const Tensor a = Tensor::from(Shape{1, 1, 2}, {0.25, 0.75});
    const IndexTensor src = IndexTensor::from(Shape{1, 2}, {1, 2});  // word 2 is outside the vocabulary (V = 2)
    const Var log_p_vocab = parameter(Tensor::from(Shape{1, 1, 2}, {std::log(0.5), std::log(0.5)}));
    const Var zv = parameter(Tensor::from(Shape{1, 1, 1}, {Real(z)}));
    const Var log_P = copy_mixture(log_p_vocab, constant(a), zv, src, 3);
    // log P(2) = log(1 - p_gen) + log a[1] = -softplus(40) + log 0.75
    CHECK(log_P.value()[2] == doctest::Approx(-(z + std::log1p(std::exp(-z))) + std::log(0.75)).epsilon(1e-12));
    const Var loss = cross_entropy(log_P, IndexTensor::from(Shape{1, 1}, {2}));
    CHECK(std::isfinite(loss.item()));
    backward(loss);
    // d(-log P(2))/dz = -(r - p_gen) = p_gen, with r = 0 for a copy-only word: the gate is told to open.
    CHECK(zv.grad()[0] == doctest::Approx(1).epsilon(1e-12));
    tape().clear();
}

TEST_CASE("copy_mixture: shapes that do not fit and ids outside the extended vocabulary are refused, naming the op") {
    const std::vector<Var> x = mixture_inputs(1);
    const Var lp = log_softmax(x[0]), a = softmax(x[1]);
    CHECK(contains(shape_error_of([&] { copy_mixture(lp, a, x[2], kSrc, kV - 1); }), "copy_mixture"));  // W < V
    CHECK(contains(shape_error_of([&] { copy_mixture(lp, a, reshape(x[2], Shape{kB, kT}), kSrc, kW); }), "z (B, T, 1)"));
    const Tensor wrong_mask(Shape{kB, kS + 1}, 1);
    CHECK(contains(shape_error_of([&] { copy_mixture(lp, a, x[2], kSrc, kW, &wrong_mask); }), "mask (B, S)"));
    CHECK(contains(error_of([&] { copy_mixture(lp, a, x[2], kSrc, 6); }), "source id 6 at position 3 is outside"));
    tape().clear();
}

TEST_CASE("pointer-generator: gradient check of the whole loss in double, masks and extended ids included") {
    for (Score score : {Score::Dot, Score::General, Score::Additive}) {
        INFO(score_name(score));
        Rng rng(21);
        PointerGenerator model(tiny(score), WordVocab::kUnk, rng);
        const GradcheckReport r = gradients([&](const std::vector<Var>&) { return model.loss(kModelSrc, kModelTgt); }, model.parameters());
        check_report(r, "PointerGenerator::loss");
    }
}

TEST_CASE("pointer-generator: refuses the Bahdanau wiring, no padding id and an <unk> outside the vocabulary") {
    Rng rng(1);
    AttentionConfig c = tiny(Score::Dot);
    c.wiring = Wiring::Bahdanau;
    CHECK(contains(error_of([&] { PointerGenerator m(c, WordVocab::kUnk, rng); }), "Luong"));
    c = tiny(Score::Dot);
    c.pad_id = -1;
    CHECK(contains(error_of([&] { PointerGenerator m(c, WordVocab::kUnk, rng); }), "pad_id -1"));
    c = tiny(Score::Dot);
    CHECK(contains(error_of([&] { PointerGenerator m(c, 6, rng); }), "unk_id 6"));
}

TEST_CASE("pointer-generator: decoding covers the extended vocabulary, and beam search with k = 1 is greedy decoding") {
    Rng rng(31);
    PointerGenerator model(tiny(Score::General), WordVocab::kUnk, rng);
    randomize(model, rng);  // large random weights: decisions far from ties, copies and generations both
    NoGrad no_grad;
    const DecoderSteps steps = model.steps(kModelSrc, 1);
    const Tensor logp = steps.step(IndexTensor(Shape{2}, WordVocab::kStart));
    CHECK(logp.shape == Shape{2, 8});  // W = 1 + the largest source id
    const IndexTensor greedy = model.generate(kModelSrc, WordVocab::kStart, 6);
    CHECK(model.beam_search(kModelSrc, WordVocab::kStart, 6, 1, Real(0.6)).data == greedy.data);
    CHECK(model.p_gen_map().shape == Shape{2, 6, 1});
    CHECK(model.attention_map().shape == Shape{2, 6, 5});
    for (int t = 0; t < 6; ++t) CHECK(model.attention_map()[(6 + t) * 5 + 4] == 0);  // row 1's padding: never looked at
}

TEST_CASE("names task: disjoint name pools, unseen names only in the odd test examples, seeded and unique") {
    const NamesTask task = make_names_task(600, 100, 80, 7);
    REQUIRE(task.train.size() == 600);
    REQUIRE(task.test.size() == 100);
    const std::set<std::string> train_pool(task.train_pool.begin(), task.train_pool.end());
    const std::set<std::string> test_pool(task.test_pool.begin(), task.test_pool.end());
    CHECK(train_pool.size() == 80);
    CHECK(test_pool.size() == 80);
    for (const std::string& name : test_pool) CHECK(!train_pool.count(name));
    const auto names_in = [](const std::string& text, const std::set<std::string>& pool) {
        int n = 0;
        for (const std::string& w : split_words(text)) n += pool.count(w) > 0;
        return n;
    };
    std::set<std::string> questions;
    for (const Example& e : task.train) {
        CHECK(names_in(e.question + " " + e.answer, test_pool) == 0);
        CHECK(names_in(e.question, train_pool) >= 1);
        questions.insert(e.question);
    }
    for (size_t i = 0; i < task.test.size(); ++i) {
        const Example& e = task.test[i];
        CHECK(names_in(e.answer, i % 2 ? test_pool : train_pool) >= 1);
        CHECK(names_in(e.question + " " + e.answer, i % 2 ? train_pool : test_pool) == 0);
        questions.insert(e.question);
    }
    CHECK(questions.size() == 700);
    CHECK(make_names_task(600, 100, 80, 7).test[5].question == task.test[5].question);
    CHECK(contains(error_of([] { make_names_task(10, 10, 1, 1); }), "pool >= 2"));
    CHECK(contains(error_of([] { make_names_task(100, 0, 3, 1); }), "more than half"));
}

TEST_CASE("word vocabulary and batches: min_count, <unk>, extended ids shared across rows, copyable targets only") {
    const WordVocab vocab = WordVocab::from_texts({"hello Ana", "hello Bo", "my name is Ana"}, 2);  // hello, Ana
    CHECK(vocab.size() == 5);
    CHECK(vocab.id("hello") != WordVocab::kUnk);
    CHECK(vocab.id("Bo") == WordVocab::kUnk);
    CHECK(WordVocab::from_texts({"Ana Ana", "Bo"}, 2).size() == 3);  // counted once per text: Ana is in one
    CHECK(contains(error_of([] { WordVocab::from_texts({"a <unk>"}, 1); }), "<unk>"));
    const std::vector<Example> ex = {{"my name is Kiro", "hello Kiro"}, {"hello Kiro and Mu", "hello Mu Zed"}};
    const WordBatcher batcher(ex, vocab, 2);
    CHECK(batcher.source_len() == 4);
    CHECK(batcher.target_len() == 5);  // <s>, three words, <pad>
    const WordBatch wb = batcher.batch(0);
    REQUIRE(wb.oov == std::vector<std::string>{"my", "name", "is", "Kiro", "and", "Mu"});
    const int kiro = 5 + 3, mu = 5 + 5;
    CHECK(wb.batch.src[3] == kiro);
    CHECK(wb.batch.src[4 + 1] == kiro);  // the same word, the same extended id in another row
    CHECK(wb.batch.tgt.data == std::vector<int>{1, vocab.id("hello"), kiro, 0, 0, 1, vocab.id("hello"), mu, WordVocab::kUnk, 0});
    CHECK(with_unk(wb.batch.src, 5).data[3] == WordVocab::kUnk);
    CHECK(answer_words({vocab.id("hello"), mu, 0, kiro}, vocab, wb.oov) == "hello Mu");
}

TEST_CASE("pointer experiment (quick): the pointer-generator writes unseen names, plain attention cannot") {
    TempDir dir("pointer");
    const PointerResult r = pointer_experiment(1, dir.path(), true);
    INFO("plain ", r.plain.all, " / ", r.plain.unseen, ", pointer ", r.pointer.all, " / ", r.pointer.unseen);
    CHECK(r.unseen > 0);
    CHECK(r.plain.unseen == 0);  // it has no way to write a word outside its vocabulary
    CHECK(r.pointer.unseen >= 0.5);
    CHECK(r.pointer.all > r.plain.all);
    CHECK(std::filesystem::exists(dir.file("ch7_pointer.svg")));
}
