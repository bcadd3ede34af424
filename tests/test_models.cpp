// tests/test_models.cpp — chapter 1's models: gradients of the whole loss, decoding, checkpoints, learning.
#include <doctest/doctest.h>

#include "autodiff/gradcheck.h"
#include "autodiff/ops.h"
#include "io/checkpoint.h"
#include "models/train.h"
#include "tests/training.h"
#include "tests/util.h"

using namespace s2a;

namespace {

// A tiny batch: B 2, S 4, target 3 + 1, vocabulary 6.
struct TinyBatch {
    IndexTensor src = IndexTensor::from(Shape{2, 4}, {1, 2, 3, 4, 5, 4, 3, 2});
    IndexTensor tgt = IndexTensor::from(Shape{2, 4}, {0, 3, 1, 5, 0, 2, 2, 4});
};

// gradcheck of model.loss with respect to every parameter (the model's parameters are gradcheck's inputs).
void check_model_loss(Seq2seqModel& model) {
    TinyBatch b;
    const std::vector<Var> params = model.parameters();
    const GradcheckReport r = gradcheck([&](const std::vector<Var>&) { return model.loss(b.src, b.tgt); }, params);
    INFO(r.str());
    CHECK(r.pass);
    CHECK(r.inputs.size() == params.size());
}

}  // namespace

TEST_CASE("models: gradient of the whole seq2seq loss, plain and peeky") {
    for (bool peeky : {false, true}) {
        Rng rng(peeky ? 2 : 1);
        Seq2seq model(6, 3, 4, peeky, rng);
        INFO("peeky ", peeky);
        check_model_loss(model);
    }
}

TEST_CASE("models: peeky decoder alone, gradient w.r.t. its parameters and the encoder's message") {
    Rng rng(3);
    PeekyDecoder decoder(6, 3, 4, rng);
    const IndexTensor tgt_in = IndexTensor::from(Shape{2, 3}, {0, 1, 5, 0, 2, 2});
    std::vector<Var> inputs = decoder.parameters();
    inputs.push_back(parameter(randn(Shape{2, 4}, rng), "h_enc"));
    const GradcheckReport r = gradcheck([&](const std::vector<Var>& x) { return decoder.forward(tgt_in, x.back()); }, inputs);
    INFO(r.str());
    CHECK(r.pass);
}

TEST_CASE("models: greedy generation agrees with teacher forcing on its own output") {
    // Feeding the generated tokens back with teacher forcing must give the same argmax at every step.
    for (bool peeky : {false, true}) {
        Rng rng(4);
        Seq2seq model(6, 3, 5, peeky, rng);
        TinyBatch b;
        const IndexTensor guess = model.generate(b.src, 0, 3);   // (B, 3)
        IndexTensor tgt_in(Shape{2, 3});
        for (int i = 0; i < 2; ++i) {
            tgt_in[i * 3] = 0;
            tgt_in[i * 3 + 1] = guess[i * 3];
            tgt_in[i * 3 + 2] = guess[i * 3 + 1];
        }
        NoGrad no_grad;
        const Tensor logits = model.decoder->forward(tgt_in, select(model.encoder.forward(b.src), 1, 3)).value();
        for (int i = 0; i < 6; ++i) {
            const Real* row = logits.ptr() + i * 6;
            CHECK(std::max_element(row, row + 6) - row == guess[i]);
        }
    }
}

TEST_CASE("models: save then load gives identical predictions") {
    Rng rng(5);
    Seq2seq a(6, 3, 4, true, rng), b(6, 3, 4, true, rng);
    TinyBatch batch;
    const TempDir dir("models");
    const std::string path = dir.file("model.npz");
    save(a, path);
    load(b, path);
    CHECK(a.generate(batch.src, 0, 3).data == b.generate(batch.src, 0, 3).data);
    NoGrad no_grad;
    CHECK(a.loss(batch.src, batch.tgt).item() == b.loss(batch.src, batch.tgt).item());
}

TEST_CASE("models: a short training run drives the loss well below its start") {
    // Copy task: the answer is the question itself (4 letters), 256 examples.
    std::vector<std::string> q, a;
    Rng data_rng(6);
    for (int i = 0; i < 256; ++i) {
        std::string s;
        for (int k = 0; k < 4; ++k) s += static_cast<char>('a' + data_rng.randint(5));
        q.push_back(s);
        a.push_back("_" + s);
    }
    const TextData data{q, a};
    const Vocab vocab = make_vocab(data);
    Batcher train(data, vocab, 32, true);
    Rng rng(7);
    Seq2seq model(vocab.size(), 8, 32, true, rng);
    Adam adam(model.parameters(), 0.01);
    const double first = train_one_epoch(model, train, adam, 5, rng);
    double last = first;
    for (int e = 0; e < 30; ++e) last = train_one_epoch(model, train, adam, 5, rng);
    CHECK(last < 0.25 * first);
    CHECK(exact_match(model, train, vocab.id('_')) > 0.5);
}
