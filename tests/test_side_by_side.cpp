// tests/test_side_by_side.cpp — the chapters' side-by-side training: contenders run at the same time on
// separate threads, yet each one's result is exactly what it would be alone.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>

#include "experiments/side_by_side.h"
#include "tests/training.h"
#include "tests/util.h"

using namespace s2a;

namespace {

// One epoch as the chapters write it: a fresh order, one train_step per batch, then the test set.
double one_epoch(Contender& c) {
    train_one_epoch(*c.model, *c.train, *c.optimizer, 5, c.shuffle);
    return exact_match(*c.model, *c.test, c.start_id);
}

std::vector<Contender> contenders(int n, const Split& sets, const Vocab& vocab) {
    std::vector<Contender> cs;
    for (int i = 0; i < n; ++i) {
        Rng init(7);  // every contender starts from the same weights
        cs.push_back(make_contender(fmt::format("model {}", i), std::make_unique<Seq2seq>(vocab.size(), 8, 16, true, init),
                                    sets, vocab, 32, true, Real(1e-2), 11));
    }
    return cs;
}

}  // namespace

TEST_CASE("train_side_by_side: contenders trained together end exactly as one trained alone") {
    const Split sets = split(load_or_generate("addition", "", 400, 3), 64, 3);
    const Vocab vocab = make_vocab(sets.train);
    std::vector<Contender> alone = contenders(1, sets, vocab), together = contenders(3, sets, vocab);
    train_side_by_side(alone, 2, one_epoch);
    const int blas_before = blas_threads();
    train_side_by_side(together, 2, one_epoch);
    CHECK(blas_threads() == blas_before);  // lowered to 1 while the contenders ran in parallel, then restored
    const std::vector<Var> want = alone[0].model->parameters();
    for (const Contender& c : together) {
        // Same shuffles (each contender its own Rng from the seed), no state shared between threads.
        REQUIRE(c.accuracy.size() == 2);
        CHECK(c.accuracy == alone[0].accuracy);
        const std::vector<Var> got = c.model->parameters();
        REQUIRE(got.size() == want.size());
        for (size_t p = 0; p < got.size(); ++p) CHECK(got[p].value().data == want[p].value().data);
    }
    // The trained weights differ from the initial ones (the test would pass trivially otherwise).
    CHECK(contenders(1, sets, vocab)[0].model->parameters()[0].value().data != want[0].value().data);
}

TEST_CASE("train_side_by_side: a contender that fails stops the run with its error, not the program") {
    const Split sets = split(load_or_generate("addition", "", 400, 3), 64, 3);
    const Vocab vocab = make_vocab(sets.train);
    std::vector<Contender> cs = contenders(3, sets, vocab);
    cs[1].model->parameters()[0].value().fill(NAN);  // its loss is NaN from the first step
    const int blas_before = blas_threads();
    const std::string error = error_of([&] { train_side_by_side(cs, 2, one_epoch); });
    INFO(error);
    CHECK(contains(error, "model 1 epoch 1/2: the loss became"));
    CHECK(contains(error, "nan at step 1;"));
    CHECK(blas_threads() == blas_before);
}
