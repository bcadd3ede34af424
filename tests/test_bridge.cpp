// tests/test_bridge.cpp — the bridge to PyTorch (tools/to_pytorch.py): the machine-readable answers of --ask
// (--ask-format tsv) hold what the model computes; PyTorch, given a model file, rebuilds the model of every
// configuration a model file can describe and answers as the chapter program does (--compare exits 0), and a
// different model's answers are caught (exit 1); trained chapter 3 and chapter 5 models answer the same in both.
// The PyTorch half runs only where python3-torch is installed, and says that it skipped otherwise.
//
// Dimensions: V vocabulary, S question width, T answer steps.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdlib>
#include <sstream>

#include "data/dataset.h"
#include "experiments/ask.h"
#include "models/attention_seq2seq.h"
#include "models/model_file.h"
#include "models/transformer_seq2seq.h"
#include "tests/run_program.h"
#include "tests/tiny_transformer.h"
#include "tests/util.h"

using namespace s2a;

namespace {

const Vocab& vocab() {
    static const Vocab v = Vocab::from_texts({"_ 0123456789-/abcdefghij"});
    return v;
}

// Questions up to S = 10 characters; answers of T = 7 steps.
TaskFacts task(bool reversed) { return {10, 7, reversed, vocab().id('_')}; }

// A model of each kind and of every setting a model file records, its weights random (N(0, 1): no two gates
// alike, so a weight read into the wrong place changes the answers). The chapter program that trains the kind
// is the one that loads it.
struct Case {
    std::string name, program;
    std::unique_ptr<Seq2seqModel> model;
    bool reversed;
};

std::vector<Case> every_configuration() {
    const int V = vocab().size(), pad = vocab().id(' ');
    Rng rng(3);
    std::vector<Case> cases;
    cases.push_back({"plain", "ch1", std::make_unique<Seq2seq>(V, 5, 6, false, rng, Summary::Last, -1), false});
    cases.push_back({"peeky_mean_end", "ch1", std::make_unique<Seq2seq>(V, 5, 6, true, rng, Summary::Mean, pad), true});
    const auto attention = [&](const char* name, Score score, Wiring wiring, bool bidirectional, int layers, bool reversed) {
        AttentionConfig c;
        c.V = V;
        c.E = 5;
        c.H = 6;
        c.score = score;
        c.wiring = wiring;
        c.bidirectional = bidirectional;
        c.layers = layers;
        c.residual = layers > 1;
        c.pad_id = pad;
        c.end_id = pad;
        c.reversed_source = reversed;
        cases.push_back({name, "ch3", std::make_unique<AttentionSeq2seq>(c, rng), reversed});
    };
    attention("dot_luong", Score::Dot, Wiring::Luong, false, 1, true);
    attention("general_bahdanau_bidirectional_residual", Score::General, Wiring::Bahdanau, true, 2, false);
    attention("additive_luong_residual", Score::Additive, Wiring::Luong, false, 3, true);
    attention("concat_bahdanau", Score::Concat, Wiring::Bahdanau, false, 1, false);
    const auto transformer = [&](const char* name, bool pre_norm, bool learned, bool shared, bool tied) {
        TransformerConfig c = tiny_transformer(V, pad, pad);
        c.encoder_layers = 2;
        c.decoder_layers = 1;
        c.pre_norm = pre_norm;
        c.learned_positions = learned;
        c.shared_embeddings = shared;
        c.tied_output = tied;
        c.max_len = 12;
        c.dropout = Real(0.1);  // TransformerConfig's default, which the model file records
        cases.push_back({name, "ch5", std::make_unique<TransformerSeq2seq>(c, rng), false});
    };
    transformer("post_norm_tied", false, false, true, true);
    transformer("pre_norm_learned_untied", true, true, false, false);
    for (Case& c : cases) randomize(*c.model, rng);
    return cases;
}

// Questions for the models above: random ones of 1 to S characters from the vocabulary (no '_'), a question of
// padding only (every source position masked), and questions the model must refuse.
std::string questions() {
    const std::string chars = " 0123456789-/abcdefghij";
    Rng rng(5);
    std::string text = "          \n2024-05-06\n12/31/99 ?\n_abc\n\n01234567890\n";
    for (int i = 0; i < 40; ++i) {
        const int n = 1 + int(rng.uniform() * 10);
        for (int k = 0; k < n; ++k) text += chars[size_t(rng.uniform() * chars.size())];
        text += '\n';
    }
    return text;
}

// The Python that imports PyTorch and NumPy: python3, or else Debian's /usr/bin/python3, where python3-torch
// installs (a python3 earlier on PATH, pyenv's for one, does not see it). "" for none, after saying that the
// test is skipped — which fails the test where SEQ2ATTN_REQUIRE_TORCH is set (CI sets it: .ci/run installs
// PyTorch, so a skip there would be a bridge that is never tested).
std::string python_with_torch() {
    for (const char* python : {"python3", "/usr/bin/python3"})
        if (run_command(fmt::format("{} -c 'import torch, numpy'", python)).status == 0) return python;
    const char* required = std::getenv("SEQ2ATTN_REQUIRE_TORCH");
    if (required && *required) FAIL("SEQ2ATTN_REQUIRE_TORCH is set, but no python3 imports torch and numpy");
    MESSAGE("skipped the bridge test: python3-torch is not installed (apt-get install python3-torch python3-numpy)");
    return "";
}

// tools/to_pytorch.py MODEL --compare, asking the program `program` of this test binary's build.
Run compare(const std::string& python, const std::string& model, const std::string& questions_file, const std::string& program) {
    return run_command(fmt::format("{} tools/to_pytorch.py {} --compare --questions {} --program {}/bin/{}", python, model,
                                   questions_file, S2A_BUILD_DIR, program));
}

}  // namespace

TEST_CASE("bridge: --ask-format tsv prints each answer with the log-probability of every step, in full") {
    TempDir dir("bridge_tsv");
    std::vector<Case> cases = every_configuration();
    auto& model = dynamic_cast<TransformerSeq2seq&>(*cases.back().model);
    const std::string file = dir.file("model.npz");
    save_model(model, vocab(), task(false), file);
    const std::string in = dir.write("questions.txt", "2024-05-06\n12/31/9x\n");
    const Run r = run_command(fmt::format("{}/bin/ch5 --quick --load {} --ask --ask-format tsv < {}", S2A_BUILD_DIR, file, in));
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_FALSE(has(r.output, "top 3"));  // no text for people
    CHECK(has(r.output, "refused\t12/31/9x\tcharacter 8, 'x'"));

    // The answer line: the answer is what generate() writes, and the log-probabilities add up to log P(answer).
    const std::string line = r.output.substr(r.output.find("answer\t2024-05-06\t"));
    std::vector<std::string> fields;
    std::istringstream columns(line.substr(0, line.find('\n')));
    for (std::string field; std::getline(columns, field, '\t');) fields.push_back(field);
    REQUIRE(fields.size() == 4);
    std::vector<int> ids;
    for (char ch : std::string("2024-05-06")) ids.push_back(vocab().id(ch));
    const IndexTensor src = IndexTensor::from(Shape{1, 10}, ids);
    const IndexTensor answer = model.generate(src, vocab().id('_'), 7);  // (1, T)
    const std::string written = vocab().decode(answer.data);
    CHECK(fields[2] == written.substr(0, written.find_last_not_of(' ') + 1));
    double total = 0;
    std::istringstream log_probs(fields[3]);
    for (double lp; log_probs >> lp;) total += lp;
    CHECK(total == doctest::Approx(model.log_prob(src, vocab().id('_'), answer)[0]).epsilon(1e-12));

    check_run("ch5", fmt::format("--quick --load {} --ask --ask-format json", file), 2, {"--ask-format must be text or tsv, got 'json'"});
    check_run("ch5", fmt::format("--quick --load {} --ask-format tsv", file), 2, {"--ask-format tsv formats the answers of --ask"});
}

TEST_CASE("bridge: PyTorch rebuilds every configuration a model file describes, and answers as seq2attn does") {
    const std::string python = python_with_torch();
    if (python.empty()) return;
    TempDir dir("bridge_configurations");
    const std::string in = dir.write("questions.txt", questions());
    for (Case& c : every_configuration()) {
        const std::string file = dir.file(c.name + ".npz");
        save_model(*c.model, vocab(), task(c.reversed), file);
        const Run r = compare(python, file, in, c.program);
        INFO(c.name, ":\n", r.output);
        CHECK(r.status == 0);
        CHECK(has(r.output, "46 of 46 answers the same"));
    }
    // Another model's answers (the same configuration, other weights) are told apart: exit status 1.
    std::vector<Case> cases = every_configuration();
    const std::string mine = dir.file("mine.npz"), other = dir.file("other.npz");
    save_model(*cases[2].model, vocab(), task(cases[2].reversed), mine);
    Rng rng(11);
    randomize(*cases[2].model, rng);
    save_model(*cases[2].model, vocab(), task(cases[2].reversed), other);
    const std::string impostor = dir.write("impostor.sh", fmt::format("exec {}/bin/ch3 --load {} --ask --ask-format tsv --quick\n",
                                                                      S2A_BUILD_DIR, other));
    const Run r = run_command(fmt::format("{} tools/to_pytorch.py {} --compare --questions {} --program 'sh {}'", python, mine, in, impostor));
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK(has(r.output, "✗"));
}

TEST_CASE("bridge: PyTorch reproduces the answers of a trained chapter 3 and chapter 5 model") {
    const std::string python = python_with_torch();
    if (python.empty()) return;
    TempDir dir("bridge_trained");
    check_run("ch3", "--quick --maps 0 --out " + dir.path(), 0, {"ch3_attention.npz"});
    check_run("ch5", "--quick --seconds 0 --out " + dir.path(), 0, {"ch5_transformer.npz"});
    // Dates the chapters did not train on (another seed), their padding taken off.
    std::string text;
    for (std::string q : load_or_generate("dates", "", 50, 99).questions) text += q.substr(0, q.find_last_not_of(' ') + 1) + '\n';
    const std::string in = dir.write("dates.txt", text);
    for (const auto& [model, program] : {std::pair{"ch3_attention.npz", "ch3"}, std::pair{"ch5_transformer.npz", "ch5"}}) {
        const Run r = compare(python, dir.file(model), in, program);
        INFO(model, ":\n", r.output);
        CHECK(r.status == 0);
        CHECK(has(r.output, "50 of 50 answers the same"));
    }
}
