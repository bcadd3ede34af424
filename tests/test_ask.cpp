// tests/test_ask.cpp — model files (models/model_file.h) and the --load session (experiments/ask.h): a model
// saved and loaded again answers bit for bit as the original does; a file that is not a sound model file is
// refused, naming the array; the chapter programs answer questions piped to --ask, refuse bad ones with one
// line and go on, end cleanly at the end of input, and explain one answer step by step with --explain.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>

#include "io/checkpoint.h"
#include "io/npz.h"
#include "models/attention_seq2seq.h"
#include "models/model_file.h"
#include "models/transformer_seq2seq.h"
#include "tests/run_program.h"
#include "tests/tiny_transformer.h"
#include "tests/util.h"

using namespace s2a;

namespace {

using Arrays = std::vector<std::pair<std::string, Tensor>>;

const Vocab& vocab() {
    static const Vocab v = Vocab::from_texts({"_ 0123456789-,.abcdefghijklmnopqrstuvwxyz"});
    return v;
}

// Questions of 12 characters, read reversed; answers of 6 steps.
TaskFacts task() { return {12, 6, true, vocab().id('_')}; }

// One small model of each kind (0 chapter 1's, 1 attention, 2 Transformer), every setting away from its default,
// so that a field lost between saving and loading changes the model.
std::unique_ptr<Seq2seqModel> make_model(int kind, Rng& rng) {
    const int V = vocab().size(), pad = vocab().id(' ');
    if (kind == 0) return std::make_unique<Seq2seq>(V, 5, 6, true, rng, Summary::Mean, pad);
    if (kind == 1) {
        AttentionConfig c;
        c.V = V;
        c.E = 5;
        c.H = 6;
        c.score = Score::General;
        c.wiring = Wiring::Bahdanau;
        c.bidirectional = true;
        c.layers = 2;
        c.residual = true;
        c.dropout = Real(0.25);
        c.pad_id = pad;
        c.end_id = pad;
        c.reversed_source = true;
        return std::make_unique<AttentionSeq2seq>(c, rng);
    }
    TransformerConfig c = tiny_transformer(V, pad, pad);
    c.encoder_layers = 1;
    c.decoder_layers = 2;
    c.pre_norm = true;
    c.learned_positions = true;
    c.shared_embeddings = false;
    c.tied_output = false;
    c.dropout = Real(0.1);  // TransformerConfig's default, which the model file records
    return std::make_unique<TransformerSeq2seq>(c, rng);
}

// B = 3 questions of S = 12 random characters, the padding run at the start (as a reversed question has it).
IndexTensor questions(Rng& rng) {
    const int S = task().source_len;
    IndexTensor src(Shape{3, S}, vocab().id(' '));
    for (int b = 0; b < 3; ++b)
        for (int s = 2 + b; s < S; ++s) src[b * S + s] = rng.randint(vocab().size());
    return src;
}

// The first difference between two lists of arrays (names, shapes, every bit of every value), or "".
std::string first_difference(const Arrays& x, const Arrays& y) {
    if (x.size() != y.size()) return fmt::format("{} arrays against {}", x.size(), y.size());
    for (size_t i = 0; i < x.size(); ++i)
        if (x[i].first != y[i].first || !(x[i].second.shape == y[i].second.shape) ||
            std::memcmp(x[i].second.ptr(), y[i].second.ptr(), sizeof(Real) * x[i].second.numel()) != 0)
            return x[i].first;
    return "";
}

// The arrays of `path`, changed by `edit`, written to `to`.
std::string rewrite(const std::string& path, const std::string& to, const std::function<void(Arrays&)>& edit) {
    Arrays arrays = load_npz(path);
    edit(arrays);
    std::vector<std::pair<std::string, const Tensor*>> pointers;
    for (const auto& [name, t] : arrays) pointers.emplace_back(name, &t);
    save_npz(to, pointers);
    return to;
}

Tensor& array(Arrays& arrays, const std::string& name) {
    for (auto& [n, t] : arrays)
        if (n == name) return t;
    FAIL("no array ", name);
    throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("model files: a model saved and loaded again writes bit for bit the answers of the original") {
    const TempDir dir("model_file");
    for (int kind = 0; kind < 3; ++kind) {
        CAPTURE(kind);
        Rng rng(7);
        const std::unique_ptr<Seq2seqModel> original = make_model(kind, rng);
        const std::string path = dir.file(fmt::format("model{}.npz", kind));
        save_model(*original, vocab(), task(), path);
        const ModelFile loaded = load_model(path);

        CHECK(loaded.kind == std::vector<std::string>{"seq2seq", "attention", "transformer"}[kind]);
        CHECK(loaded.vocab.chars() == vocab().chars());
        CHECK(loaded.task.source_len == task().source_len);
        CHECK(loaded.task.answer_len == task().answer_len);
        CHECK(loaded.task.reversed == task().reversed);
        CHECK(loaded.task.start_id == task().start_id);
        CHECK_FALSE(loaded.model->training());
        // Saved again, the loaded model writes the same file: every configuration field and parameter survived.
        save_model(*loaded.model, loaded.vocab, loaded.task, dir.file("again.npz"));
        CHECK(first_difference(load_npz(path), load_npz(dir.file("again.npz"))) == "");

        // Its answers, greedy and by beam search, are the original's to the last bit.
        const IndexTensor src = questions(rng);
        const int start = task().start_id, T = task().answer_len;
        CHECK(loaded.model->generate(src, start, T).data == original->generate(src, start, T).data);
        const BeamResult a = original->nbest(src, start, T, 3, Real(0.6)), b = loaded.model->nbest(src, start, T, 3, Real(0.6));
        for (size_t i = 0; i < a.nbest.size(); ++i)
            for (size_t j = 0; j < a.nbest[i].size(); ++j) {
                CHECK(a.nbest[i][j].tokens == b.nbest[i][j].tokens);
                CHECK(a.nbest[i][j].log_prob == b.nbest[i][j].log_prob);  // exactly
            }
        // load() of io/checkpoint reads a model file's parameters into a model built by hand (ch1 --eval-only).
        Rng other(99);
        const std::unique_ptr<Seq2seqModel> rebuilt = make_model(kind, other);
        load(*rebuilt, path);
        CHECK(rebuilt->generate(src, start, T).data == original->generate(src, start, T).data);
    }
}

TEST_CASE("model files: a file that is not a sound model file is refused, naming the file and the array") {
    const TempDir dir("model_file_bad");
    Rng rng(3);
    const std::unique_ptr<Seq2seqModel> attention = make_model(1, rng), transformer = make_model(2, rng);
    const std::string good = dir.file("good.npz"), good_transformer = dir.file("good_transformer.npz");
    save_model(*attention, vocab(), task(), good);
    save_model(*transformer, vocab(), task(), good_transformer);
    const std::string bad = dir.file("bad.npz");
    const auto refused = [&](const std::string& path, std::initializer_list<const char*> parts) {
        const std::string e = error_of([&] { load_model(path); });
        INFO(e);
        CHECK(contains(e, path));
        for (const char* part : parts) CHECK_MESSAGE(contains(e, part), "missing: ", part);
    };

    // A checkpoint of parameters only, and a resume file: what to do instead.
    save(*attention, bad);
    refused(bad, {"'config.kind' is missing", "train again"});
    // A truncated file.
    {
        std::ifstream in(good, std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        dir.write("cut.npz", bytes.substr(0, bytes.size() / 2));
        refused(dir.file("cut.npz"), {});
    }
    // NaN in a parameter, and in a field.
    rewrite(good, bad, [](Arrays& a) { array(a, "decoder.out.W")[4] = NAN; });
    refused(bad, {"'decoder.out.W'", "nan"});
    rewrite(good, bad, [](Arrays& a) { array(a, "config.H")[0] = NAN; });
    refused(bad, {"'config.H'", "finite"});
    // A field out of its range, not whole, of the wrong shape; a configuration that does not fit the parameters.
    rewrite(good, bad, [](Arrays& a) { array(a, "config.score")[0] = 9; });
    refused(bad, {"'config.score'", "0 to 3"});
    rewrite(good, bad, [](Arrays& a) { array(a, "config.layers")[0] = Real(1.5); });
    refused(bad, {"'config.layers'", "whole number"});
    rewrite(good, bad, [](Arrays& a) { array(a, "task.reversed") = Tensor(Shape{2}); });
    refused(bad, {"'task.reversed'", "shape (2)"});
    rewrite(good, bad, [](Arrays& a) { array(a, "config.E")[0] = 7; });
    refused(bad, {"'encoder.embed.W'", "shape"});
    // A configuration far larger than the file: refused before anything is allocated.
    rewrite(good, bad, [](Arrays& a) { array(a, "config.H")[0] = 4096; });
    refused(bad, {"config.*", "at least"});
    // A configuration that cannot be built: D not a multiple of the heads.
    rewrite(good_transformer, bad, [](Arrays& a) { array(a, "config.heads")[0] = 3; });
    refused(bad, {"no model that can be built", "heads"});
    // Questions longer than the Transformer's positional table.
    rewrite(good_transformer, bad, [](Arrays& a) { array(a, "task.source_len")[0] = 17; });
    refused(bad, {"'config.max_len'", "task.source_len 17"});
    // The vocabulary: missing, out of order, of another size than config.V.
    rewrite(good, bad, [](Arrays& a) {
        a.erase(std::remove_if(a.begin(), a.end(), [](const auto& x) { return x.first == "vocab.codepoints"; }), a.end());
    });
    refused(bad, {"'vocab.codepoints'"});
    rewrite(good, bad, [](Arrays& a) { std::swap(array(a, "vocab.codepoints")[3], array(a, "vocab.codepoints")[4]); });
    refused(bad, {"'vocab.codepoints'", "element 4", "ascending"});
    rewrite(good, bad, [](Arrays& a) {
        Tensor& v = array(a, "vocab.codepoints");
        v = Tensor::from(Shape{static_cast<int>(v.numel() - 1)}, std::vector<Real>(v.data.begin(), v.data.end() - 1));
    });
    refused(bad, {"'config.V'", "vocab.codepoints holds"});
    // An array that belongs to no part of the model.
    rewrite(good, bad, [](Arrays& a) { a.emplace_back("decoder.extra", Tensor(Shape{2})); });
    refused(bad, {"'decoder.extra'", "neither a parameter nor a field"});
}

namespace {

// What `program ARGS` prints with `input` piped to its standard input.
Run run_with_input(const std::string& program, const std::string& args, const std::string& input, const TempDir& dir) {
    const std::string in = dir.write("input.txt", input);
    return run_command(fmt::format("{}/bin/{} {} < {}", S2A_BUILD_DIR, program, args, in));
}

// Column `column` (1 = the first model) of the accuracy table's row `epoch`: "87.50".
std::string table_entry(const std::string& output, int epoch, int column) {
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::vector<std::string> w{std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
        if (w.size() > size_t(column) && w[0] == std::to_string(epoch) && w.back().back() == '%') return w[column].substr(0, w[column].size() - 1);
    }
    return "";
}

}  // namespace

TEST_CASE("ask: chapter 1's models answer piped questions, refuse bad ones and end with the input") {
    const TempDir out("ask_ch1");
    const Run trained = check_run("ch1", "--quick --out " + out.path(), 0, {"--load FILE --ask"});
    const std::string model = out.file("ch1_peeky_reversed.npz");
    const Run r = run_with_input("ch1", fmt::format("--quick --load {} --ask --beam 2 --out {}", model, out.path()),
                                 "16+75\n1x+2\n12345678\n_1+2\n\n999+999", out);
    INFO(r.output);
    CHECK(r.status == 0);
    for (const char* part : {"seq2seq model", "> 16+75", "answer: ", "top 3 characters", "beam search, k = 2",
                             "> 1x+2", "✗ character 2, 'x', is not in the model's vocabulary",
                             "✗ the question has 8 characters, but this model reads at most 7",
                             "✗ character 1 is '_'", "✗ the question is empty", "> 999+999"})
        CHECK_MESSAGE(has(r.output, part), "missing: ", part);
    // The reloaded model scores the test set exactly as the trained one did after its last epoch: the file
    // rebuilt the model, its vocabulary, and the reversed questions.
    const std::string last = table_entry(trained.output, 2, 3);
    CHECK_FALSE(last.empty());
    CHECK(has(r.output, "test examples the chapter's flags make: " + last + "%"));
    // --ask without a model; an old checkpoint of parameters only.
    check_run("ch1", "--quick --ask", 2, {"--load FILE"});
    check_run("ch1", fmt::format("--quick --load {} --ask", out.file("ch1_baseline.resume.npz")), 1, {"'config.kind' is missing"});
}

TEST_CASE("ask: chapter 3 answers with a heat map and explains an answer step by step") {
    const TempDir out("ask_ch3");
    check_run("ch3", "--quick --out " + out.path(), 0, {});
    const std::string model = out.file("ch3_attention.npz");
    const Run r = run_with_input("ch3", fmt::format("--quick --load {} --ask --out {}", model, out.path()),
                                 "sep 27, 1994\nseptember 31st, 1994, and more\n", out);
    INFO(r.output);
    CHECK(r.status == 0);
    for (const char* part : {"attention model", "> sep 27, 1994", "answer: ", "where each step looked", ", reversed",
                             "heat map: ", "reads at most 29"})
        CHECK_MESSAGE(has(r.output, part), "missing: ", part);
    CHECK(std::filesystem::exists(out.file("ch3_attention_ask.svg")));
    // --explain of test example 0, piped: every step at once, with scores, weights, context and the choice.
    const Run e = run_with_input("ch3", fmt::format("--quick --load {} --explain 0 --out {}", model, out.path()), "", out);
    INFO(e.output);
    CHECK(e.status == 0);
    for (const char* part : {"Explaining", "Encoder: hs (1, 29, 32)", "Step 1 of 10", "Step 10 of 10", "scores e − max e",
                             "weights α = softmax(e)", "context c = Σ α_s hs_s (1, 32)", "chosen: ", "Answer: "})
        CHECK_MESSAGE(has(e.output, part), "missing: ", part);
    CHECK_FALSE(has(e.output, "(Enter: next step)"));
    check_run("ch3", fmt::format("--quick --load {} --explain 99999", model), 1, {"--explain 99999", "examples 0..199"});
    check_run("ch3", fmt::format("--quick --load {} --explain 'sep 2#'", model), 1, {"character 6, '#'"});
}

TEST_CASE("ask: chapter 4's and chapter 5's models answer questions; chapter 5's is explained head by head") {
    const TempDir out("ask_ch45");
    check_run("ch4", "--quick --out " + out.path(), 0, {});
    const Run deep = run_with_input("ch4", fmt::format("--quick --load {} --ask --out {}", out.file("ch4_3_residual.npz"), out.path()),
                                    "27.09.1994\n", out);
    INFO(deep.output);
    CHECK(deep.status == 0);
    CHECK(has(deep.output, "layers 3"));
    CHECK(has(deep.output, "where each step looked"));

    check_run("ch5", "--quick --seconds 0 --out " + out.path(), 0, {"ch5_transformer.npz"});
    const std::string model = out.file("ch5_transformer.npz");
    const Run r = run_with_input("ch5", fmt::format("--quick --load {} --ask --out {}", model, out.path()), "sep 27, 1994\n", out);
    INFO(r.output);
    CHECK(r.status == 0);
    for (const char* part : {"transformer model", "answer: ", "last layer's cross-attention, mean of the heads",
                             "beam search, k = 2"})
        CHECK_MESSAGE(has(r.output, part), "missing: ", part);
    const Run e = run_with_input("ch5", fmt::format("--quick --load {} --explain 'sep 27, 1994' --out {}", model, out.path()), "", out);
    INFO(e.output);
    CHECK(e.status == 0);
    for (const char* part : {"Encoder: 2 self-attention layers", "Step 1 of", "layer 2: cross-attention over the question",
                             "layer 1: self-attention over '_'", "chosen: "})
        CHECK_MESSAGE(has(e.output, part), "missing: ", part);
}
