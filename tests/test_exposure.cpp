// tests/test_exposure.cpp — chapter 6's pieces: the parsing task, the end symbol in the LSTM models' loss,
// scheduled sampling (its schedules, its inputs, its gradients with the choices fixed, in double precision),
// and the exposure-bias meter.
//
// Dimensions: B batch (2), S source (5), T answer (4 after the start symbol), V vocabulary (7).
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <set>

#include "autodiff/gradcheck.h"
#include "autodiff/ops.h"
#include "data/dataset.h"
#include "data/tasks_parse.h"
#include "data/textfile.h"
#include "experiments/exposure.h"
#include "models/attention_seq2seq.h"
#include "models/transformer_seq2seq.h"
#include "tests/tiny_transformer.h"
#include "tests/util.h"

using namespace s2a;

namespace {

// V 7: id 0 the padding, which also ends answers; id 6 the start symbol. Row 0's answer fills all T = 4
// steps; row 1's is two tokens, its end symbol, and one more pad the loss must ignore.
constexpr int kPad = 0, kStart = 6, kV = 7;
const IndexTensor kSrc = IndexTensor::from(Shape{2, 5}, {1, 2, 3, 4, 5, 4, 3, 2, 0, 0});
const IndexTensor kTgt = IndexTensor::from(Shape{2, 5}, {6, 5, 3, 1, 2, 6, 2, 4, 0, 0});

AttentionConfig attention_config(Wiring wiring, int end_id) {
    AttentionConfig c;
    c.V = kV, c.E = 3, c.H = 4, c.score = Score::General, c.wiring = wiring, c.pad_id = kPad, c.end_id = end_id;
    return c;
}

TransformerConfig transformer_config(int end_id) {
    TransformerConfig c = tiny_transformer(kV, kPad, end_id);
    c.encoder_layers = 1, c.decoder_layers = 1;
    return c;
}

// Every model of the project, its parameters drawn anew so that no weight is exactly 0 or 1.
std::vector<std::unique_ptr<Seq2seqModel>> every_model(int end_id, Rng& rng) {
    std::vector<std::unique_ptr<Seq2seqModel>> models;
    models.push_back(std::make_unique<Seq2seq>(kV, 3, 4, false, rng, Summary::Last, end_id));
    models.push_back(std::make_unique<Seq2seq>(kV, 3, 4, true, rng, Summary::Last, end_id));
    models.push_back(std::make_unique<AttentionSeq2seq>(attention_config(Wiring::Luong, end_id), rng));
    models.push_back(std::make_unique<AttentionSeq2seq>(attention_config(Wiring::Bahdanau, end_id), rng));
    models.push_back(std::make_unique<TransformerSeq2seq>(transformer_config(end_id), rng));
    for (auto& m : models)
        for (auto& [name, p] : m->named_parameters()) p.value() = randn(p.shape(), rng, Real(0.7));
    return models;
}
const char* const kNames[] = {"seq2seq", "peeky", "attention luong", "attention bahdanau", "transformer"};

void check_gradients(Seq2seqModel& model) {
    GradcheckOptions opt;
    opt.max_elements = 48;
    const GradcheckReport r = gradcheck([&](const std::vector<Var>&) { return model.loss(kSrc, kTgt); }, model.parameters(), opt);
    INFO(r.str());
    CHECK(r.pass);
}

}  // namespace

// ---------------------------------------------------------------- the parsing task

TEST_CASE("parse task: every answer is the question's prefix notation, by an independent parser") {
    CHECK(to_prefix("(3+4)*5-2") == "-*+3452");
    CHECK(to_prefix("3-(4-5)") == "-3-45");
    CHECK(to_prefix("3-4-5") == "--345");
    CHECK(to_prefix("2+3*4") == "+2*34");
    CHECK(error_of([] { to_prefix("3+*4"); }).find("position 3") != std::string::npos);
    const std::vector<Example> examples = make_parse(2000, kParseMaxOps, 5);
    std::set<std::string> questions;
    int deepest = 0, longest = 0;
    for (const Example& e : examples) {
        INFO(e.question);
        CHECK(e.answer == to_prefix(e.question));
        CHECK(static_cast<int>(e.question.size()) <= parse_question_width(kParseMaxOps));
        CHECK(static_cast<int>(e.answer.size()) < parse_answer_width(kParseMaxOps));  // room for the end symbol
        questions.insert(e.question);
        deepest = std::max(deepest, paren_depth(e.question));
        longest = std::max(longest, static_cast<int>(e.answer.size()));
    }
    CHECK(questions.size() == examples.size());  // unique
    CHECK(longest == 2 * kParseMaxOps + 1);       // every size is drawn
    CHECK(deepest >= 3);                          // and deep nesting
    CHECK(make_parse(50, 3, 9)[7].question == make_parse(50, 3, 9)[7].question);  // seeded
    CHECK(paren_depth("(3-(4+5))*2") == 2);
    CHECK(paren_depth("3+4*5") == 0);
    CHECK_THROWS_AS(make_parse(400, 1, 1), std::invalid_argument);  // only 3 · 10 · 10 one-operator expressions
    CHECK(error_of([] { make_parse(10, 0, 1); }).find("max_ops") != std::string::npos);
}

TEST_CASE("parse task: registered with load_or_generate, padded, no inner space in the answers") {
    const TextData d = load_or_generate("parse", "", 300, 2);
    CHECK(d.size() == 300);
    CHECK(static_cast<int>(d.answers[0].size()) == parse_answer_width(kParseMaxOps) + 1);  // '_' in front
    for (const std::string& a : d.answers) {
        const size_t end = a.find(' ');
        CHECK(end != std::string::npos);
        CHECK(a.find_first_not_of(' ', end) == std::string::npos);
    }
}

// ---------------------------------------------------------------- the end symbol in the loss

TEST_CASE("end symbol: the targets after each answer's end are ignored, and the loss counts only the rest") {
    CHECK(answer_targets(kTgt, kPad).data == std::vector<int>{5, 3, 1, 2, 2, 4, 0, -1});
    CHECK(answer_targets(kTgt, -1).data == std::vector<int>{5, 3, 1, 2, 2, 4, 0, 0});
    Rng rng(3);
    auto models = every_model(kPad, rng);
    for (size_t m = 0; m < 4; ++m) {  // the LSTM models (the Transformer's own tests hold its loss)
        INFO(kNames[m]);
        // Changing the ignored token changes nothing; changing a counted one does.
        IndexTensor other = kTgt;
        other[9] = 3;
        CHECK(models[m]->loss(kSrc, other).item() == doctest::Approx(models[m]->loss(kSrc, kTgt).item()).epsilon(1e-14));
        other[8] = 3;
        CHECK(models[m]->loss(kSrc, other).item() != doctest::Approx(models[m]->loss(kSrc, kTgt).item()));
        tape().clear();
    }
}

TEST_CASE("end symbol: gradient of the loss with the end symbol and ignored padding, every LSTM model") {
    Rng rng(4);
    auto models = every_model(kPad, rng);
    for (size_t m = 0; m < 4; ++m) {
        INFO(kNames[m]);
        check_gradients(*models[m]);
    }
}

// ---------------------------------------------------------------- scheduled sampling

TEST_CASE("scheduled sampling: Bengio et al.'s three decays") {
    const SamplingSchedule linear{Decay::Linear, 1, 0.25, 0.1};
    CHECK(linear.epsilon(0) == 1);
    CHECK(linear.epsilon(2) == doctest::Approx(0.5));
    CHECK(linear.epsilon(10) == doctest::Approx(0.1));  // the floor
    const SamplingSchedule exponential{Decay::Exponential, 0.5};
    CHECK(exponential.epsilon(3) == doctest::Approx(0.125));
    const SamplingSchedule sigmoid{Decay::InverseSigmoid, 2};
    CHECK(sigmoid.epsilon(0) == doctest::Approx(2.0 / 3));
    CHECK(sigmoid.epsilon(4) == doctest::Approx(2 / (2 + std::exp(2.0))));
    CHECK(parse_decay("inverse-sigmoid") == Decay::InverseSigmoid);
    CHECK(error_of([] { parse_decay("cosine"); }).find("cosine") != std::string::npos);
}

TEST_CASE("scheduled sampling: the teacher's tokens everywhere is teacher forcing, for every model") {
    Rng rng(5);
    auto models = every_model(kPad, rng);
    for (size_t m = 0; m < models.size(); ++m) {
        INFO(kNames[m]);
        const double forced = models[m]->loss(kSrc, kTgt).item();
        ScheduledSampling all_teacher;
        all_teacher.teacher.assign(2 * 4, true);
        models[m]->set_sampling(all_teacher);
        CHECK(models[m]->loss(kSrc, kTgt).item() == doctest::Approx(forced).epsilon(1e-12));
        tape().clear();
    }
}

TEST_CASE("scheduled sampling: with ε = 0 and argmax each LSTM step reads the model's own greedy token") {
    // Then the loss is the cross-entropy of the targets under the log-probabilities that greedy decoding's
    // own steps produce.
    Rng rng(6);
    auto models = every_model(-1, rng);
    for (size_t m = 0; m < 4; ++m) {
        INFO(kNames[m]);
        Seq2seqModel& model = *models[m];
        double expected = 0;
        {
            NoGrad no_grad;
            const DecoderSteps decoder = model.steps(kSrc, 1);
            IndexTensor prev(Shape{2}, kStart);
            for (int t = 0; t < 4; ++t) {
                const Tensor logp = decoder.step(prev);  // (B, V)
                for (int b = 0; b < 2; ++b) {
                    expected -= logp[b * kV + kTgt[b * 5 + t + 1]] / 8;
                    const Real* row = logp.ptr() + b * kV;
                    prev[b] = static_cast<int>(std::max_element(row, row + kV) - row);
                }
            }
        }
        ScheduledSampling own;
        own.epsilon = 0;
        own.argmax = true;
        model.set_sampling(own);
        CHECK(model.loss(kSrc, kTgt).item() == doctest::Approx(expected).epsilon(1e-10));
        tape().clear();
    }
}

TEST_CASE("scheduled sampling: drawn choices change per call and repeat with the seed; bad settings are refused") {
    Rng rng(7);
    Seq2seq model(kV, 3, 4, false, rng);
    ScheduledSampling s;
    s.epsilon = 0.3;
    model.set_sampling(s);
    // The loss changes from draw to draw (the inputs do), and returns to its value with the same seed.
    const double first = model.loss(kSrc, kTgt).item();
    bool changed = false;
    for (int i = 0; i < 10; ++i) changed = changed || model.loss(kSrc, kTgt).item() != first;
    CHECK(changed);
    model.set_sampling(s);
    CHECK(model.loss(kSrc, kTgt).item() == first);
    ScheduledSampling too_high;
    too_high.epsilon = 1.5;
    CHECK(error_of([&] { model.set_sampling(too_high); }).find("1.5") != std::string::npos);
    ScheduledSampling wrong;
    wrong.teacher.assign(3, true);
    model.set_sampling(wrong);
    CHECK(error_of([&] { model.loss(kSrc, kTgt); }).find("B·T") != std::string::npos);
    tape().clear();
    // Evaluation mode is never sampled (generation is free-running already): its loss is teacher forcing's.
    model.set_sampling({});
    const double forced = model.loss(kSrc, kTgt).item();
    model.set_sampling(s);
    model.eval();
    CHECK(model.loss(kSrc, kTgt).item() == forced);
    tape().clear();
}

TEST_CASE("scheduled sampling: gradient check with a fixed sampling mask, every model (the Transformer's two passes)") {
    // Steps (0, 2), (0, 3) and (1, 1) read the model's own token; the rest the teacher's. Column 0 is the start.
    ScheduledSampling fixed;
    fixed.teacher = {true, true, false, false, true, false, true, true};
    for (bool argmax : {true, false}) {
        Rng rng(argmax ? 8 : 9);
        auto models = every_model(kPad, rng);
        fixed.argmax = argmax;
        for (size_t m = 0; m < models.size(); ++m) {
            INFO(kNames[m] << (argmax ? ", argmax" : ", sampled"));
            // A sample is drawn from the sampling Rng: each call of the loss must see the same draws, so each
            // starts the policy over (set_sampling reseeds it).
            Seq2seqModel& model = *models[m];
            GradcheckOptions opt;
            opt.max_elements = 48;
            const GradcheckReport r = gradcheck(
                [&](const std::vector<Var>&) {
                    model.set_sampling(fixed);
                    return model.loss(kSrc, kTgt);
                },
                model.parameters(), opt);
            INFO(r.str());
            CHECK(r.pass);
            // and the model's own tokens did change the loss: the mask is not a no-op
            const double sampled = model.loss(kSrc, kTgt).item();
            model.set_sampling({});
            CHECK(model.loss(kSrc, kTgt).item() != doctest::Approx(sampled).epsilon(1e-12));
            tape().clear();
        }
    }
}

// ---------------------------------------------------------------- the exposure-bias meter

TEST_CASE("exposure meter: one-token answers read only the start symbol, so forced and free agree; longer ones may not") {
    Rng rng(10);
    auto models = every_model(kPad, rng);
    TextData one, three;  // questions of 5 characters from the ids' alphabet "abcde", answers after '_'
    for (const char* q : {"abcde", "edcba", "aabbc", "ccbba", "deade"}) {
        one.questions.push_back(q), one.answers.push_back(std::string("_") + q[0]);
        three.questions.push_back(q), three.answers.push_back(std::string("_") + q[2] + q[1] + q[0]);
    }
    const Vocab vocab = Vocab::from_texts({" abcde_"});
    REQUIRE(vocab.size() == kV);
    for (size_t m = 0; m < models.size(); ++m) {
        INFO(kNames[m]);
        ExposureMeter meter;
        meter.measure(*models[m], Batcher(one, vocab, 2, false), vocab.id('_'));
        meter.measure(*models[m], Batcher(three, vocab, 2, false), vocab.id('_'));
        CHECK(meter.forced[0] == meter.free[0]);
        for (double a : {meter.forced[1], meter.free[1]}) CHECK((a >= 0 && a <= 1));
    }
}
