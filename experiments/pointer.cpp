// experiments/pointer.cpp — plain attention against the pointer-generator on the names task.
//
// Dimensions: B batch, S source length (words), T answer length (words, after <s>), V vocabulary, W extended
// vocabulary.
#include "experiments/pointer.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <set>
#include <vector>

#include "autodiff/tensor.h"
#include "data/tasks_names.h"
#include "io/plot.h"
#include "models/pointer_generator.h"
#include "models/train.h"

namespace s2a {

namespace {

struct Sizes {
    int train, test, pool, embed, hidden, batch, epochs;
    double lr;  // Adam's
};
constexpr Sizes kFull{6000, 1000, 1000, 32, 128, 64, 6, 2e-3};
constexpr Sizes kQuick{1000, 200, 200, 16, 32, 32, 4, 3e-3};
constexpr int kMinCount = 2;  // a word enters the vocabulary once two training examples hold it
constexpr int kBeam = 4;
constexpr Real kAlpha = Real(0.6);

// A model in the race: plain attention reads every word outside its vocabulary as <unk>, the pointer-generator
// reads the batch in extended ids.
struct Entrant {
    std::string name;
    std::unique_ptr<Seq2seqModel> model;
    std::unique_ptr<Adam> opt;
    bool copies;
    Batch view(const Batch& b, int V) const { return copies ? b : Batch{with_unk(b.src, V), with_unk(b.tgt, V)}; }
};

// The share of the answers' words that the vocabulary does not hold.
double oov_rate(const std::vector<Example>& examples, const WordVocab& vocab) {
    int64_t words = 0, outside = 0;
    for (const Example& e : examples)
        for (const std::string& w : split_words(e.answer)) {
            ++words;
            outside += !vocab.contains(w);
        }
    return words ? double(outside) / words : 0;
}

// Per test example: does the answer hold a word that no training sentence (question or answer) holds?
std::vector<bool> unseen_answers(const NamesTask& task) {
    std::set<std::string> seen;
    for (const Example& e : task.train)
        for (const std::string* text : {&e.question, &e.answer})
            for (const std::string& w : split_words(*text)) seen.insert(w);
    std::vector<bool> unseen;
    for (const Example& e : task.test) {
        const std::vector<std::string> words = split_words(e.answer);
        unseen.push_back(std::any_of(words.begin(), words.end(), [&](const std::string& w) { return !seen.count(w); }));
    }
    return unseen;
}

// Whether each test answer comes out right, word for word, decoded greedily (k = 1) or by beam search.
std::vector<bool> correct(const Entrant& m, const WordBatcher& test, const std::vector<Example>& examples,
                          const WordVocab& vocab, int k) {
    std::vector<bool> right(examples.size());
    const int T = test.target_len() - 1;
    for (int i = 0; i < test.num_batches(); ++i) {
        const WordBatch wb = test.batch(i);
        const IndexTensor src = m.view(wb.batch, vocab.size()).src;  // (B, S)
        const IndexTensor guess = k == 1 ? m.model->generate(src, WordVocab::kStart, T)
                                         : m.model->beam_search(src, WordVocab::kStart, T, k, kAlpha);  // (B, T)
        for (size_t b = 0; b < wb.examples.size(); ++b) {
            const std::vector<int> ids(guess.data.begin() + int64_t(b) * T, guess.data.begin() + int64_t(b + 1) * T);
            right[wb.examples[b]] = answer_words(ids, vocab, wb.oov) == examples[wb.examples[b]].answer;
        }
    }
    return right;
}

PointerScores scores(const std::vector<bool>& right, const std::vector<bool>& unseen) {
    int all = 0, n_unseen = 0, hit_unseen = 0;
    for (size_t i = 0; i < right.size(); ++i) {
        all += right[i];
        n_unseen += unseen[i];
        hit_unseen += right[i] && unseen[i];
    }
    return {right.empty() ? 0 : double(all) / right.size(), n_unseen ? double(hit_unseen) / n_unseen : 0};
}

// The pointer-generator on the first test batch: for its first n answers with an unseen name, each written word
// with p_gen (1: generated, 0: copied), and where it looked (a heat map per answer, rows labelled with p_gen).
void show_pointer(PointerGenerator& model, const WordBatcher& test, const NamesTask& task, const std::vector<bool>& unseen,
                  const WordVocab& vocab, int n, const std::string& path) {
    const WordBatch wb = test.batch(0);
    const int S = wb.batch.src.shape[1], T = test.target_len() - 1;
    const IndexTensor guess = model.generate(wb.batch.src, WordVocab::kStart, T);  // (B, T)
    const Tensor &a = model.attention_map(), &p_gen = model.p_gen_map();            // (B, T, S), (B, T, 1)
    std::vector<HeatMap> maps;
    fmt::print("\np_gen at each word the pointer-generator wrote (1: from the vocabulary, 0: copied from the source):\n");
    for (size_t b = 0; b < wb.examples.size() && static_cast<int>(maps.size()) < n; ++b) {
        const Example& e = task.test[wb.examples[b]];
        if (!unseen[wb.examples[b]]) continue;
        const int words = static_cast<int>(split_words(e.question).size());  // the real source positions
        HeatMap m{fmt::format("\"{}\" → \"{}\"", e.question, e.answer), {}, split_words(e.question), {}};
        std::string line;
        for (int t = 0; t < T; ++t) {
            const int id = guess[int64_t(b) * T + t];
            const std::string word = id == WordVocab::kPad ? "<end>" : answer_words({id}, vocab, wb.oov);
            const double g = p_gen[int64_t(b) * T + t];
            line += fmt::format(" {}({:.2f})", word, g);
            m.row_labels.push_back(fmt::format("{} {:.2f}", word, g));
            for (int s = 0; s < words; ++s) m.values.push_back(a[(int64_t(b) * T + t) * S + s]);
            if (id == WordVocab::kPad) break;
        }
        fmt::print("  {:<32} →{}\n", e.question, line);
        maps.push_back(std::move(m));
    }
    if (maps.empty()) return;
    fmt::print("\nWhere it looked for {} (rows: the words written, with p_gen; columns: the source)\n{}", maps[0].title,
               heat_map_text(maps[0], stdout_is_terminal()));
    write_heat_map(path, maps);
}

}  // namespace

PointerResult pointer_experiment(int seed, const std::string& out, bool quick) {
    const Sizes size = quick ? kQuick : kFull;
    const NamesTask task = make_names_task(size.train, size.test, size.pool, uint64_t(seed));
    std::vector<std::string> texts;
    for (const Example& e : task.train) texts.push_back(e.question + " " + e.answer);  // one text per example
    const WordVocab vocab = WordVocab::from_texts(texts, kMinCount);
    const std::vector<bool> unseen = unseen_answers(task);

    PointerResult r;
    r.vocab = vocab.size();
    r.oov_train = oov_rate(task.train, vocab);
    r.oov_test = oov_rate(task.test, vocab);
    r.test = static_cast<int>(task.test.size());
    r.unseen = static_cast<int>(std::count(unseen.begin(), unseen.end(), true));
    fmt::print("Names: \"{}\" → \"{}\". {} training and {} test sentences; names Zipf-distributed over {} in training, "
               "and {} of the test sentences ({:.0f}%) name someone from {} others never seen in training.\n"
               "Vocabulary: the {} words that {} or more training examples hold (with <pad>, <s>, <unk>); answer words "
               "outside it: {:.1f}% in training, {:.1f}% in the test set.\n",
               task.test[1].question, task.test[1].answer, task.train.size(), task.test.size(), size.pool, r.unseen,
               100.0 * r.unseen / r.test, size.pool, vocab.size(), kMinCount, 100 * r.oov_train, 100 * r.oov_test);

    // Two models from the same seed: chapter 3's Luong attention, and the same with the copy path.
    AttentionConfig config;  // the Luong wiring and the dot score
    config.V = vocab.size();
    config.E = size.embed;
    config.H = size.hidden;
    config.pad_id = WordVocab::kPad;  // the source's padding is masked,
    config.end_id = WordVocab::kPad;  // and the first <pad> of an answer ends it
    std::vector<Entrant> entrants;
    for (bool copies : {false, true}) {
        Rng init(static_cast<uint64_t>(seed));
        std::unique_ptr<Seq2seqModel> m;
        if (copies)
            m = std::make_unique<PointerGenerator>(config, WordVocab::kUnk, init);
        else
            m = std::make_unique<AttentionSeq2seq>(config, init);
        auto opt = std::make_unique<Adam>(m->parameters(), Real(size.lr));
        entrants.push_back({copies ? "pointer-generator" : "plain attention", std::move(m), std::move(opt), copies});
    }
    fmt::print("Models: E {} H {}, Adam lr {}, batch {}, {} epochs; {} and {} parameters.\n\n{:>5} {:>28} {:>28}\n", size.embed,
               size.hidden, size.lr, size.batch, size.epochs, entrants[0].model->num_parameters(), entrants[1].model->num_parameters(),
               "epoch", "plain: all / unseen", "pointer: all / unseen");

    // Training: both models on the same batches in the same order, side by side (one per core: each product
    // inside a share runs on its own thread, so no bit changes); then test exact match, overall and unseen.
    WordBatcher train(task.train, vocab, size.batch), test(task.test, vocab, size.batch);
    Rng shuffle(static_cast<uint64_t>(seed));
    for (int epoch = 1; epoch <= size.epochs; ++epoch) {
        train.shuffle(shuffle);
        std::vector<WordBatch> batches;  // the epoch's batches, made once for both models
        for (int i = 0; i < train.num_batches(); ++i) batches.push_back(train.batch(i));
        parallel_for(static_cast<int>(entrants.size()), [&](int k) {
            Entrant& m = entrants[size_t(k)];
            for (const WordBatch& wb : batches) train_step(*m.model, m.view(wb.batch, vocab.size()), *m.opt, Real(5));
        });
        r.plain = scores(correct(entrants[0], test, task.test, vocab, 1), unseen);
        r.pointer = scores(correct(entrants[1], test, task.test, vocab, 1), unseen);
        fmt::print("{:>5} {:>19.1f}% / {:>5.1f}% {:>19.1f}% / {:>5.1f}%\n", epoch, 100 * r.plain.all, 100 * r.plain.unseen,
                   100 * r.pointer.all, 100 * r.pointer.unseen);
    }
    r.pointer_beam = scores(correct(entrants[1], test, task.test, vocab, kBeam), unseen);
    fmt::print("The pointer-generator with beam search (k {}, α {}): {:.1f}% / {:.1f}%\n", kBeam, kAlpha,
               100 * r.pointer_beam.all, 100 * r.pointer_beam.unseen);

    show_pointer(static_cast<PointerGenerator&>(*entrants[1].model), test, task, unseen, vocab, 3, out + "/ch7_pointer.svg");
    fmt::print("\nHeat maps: {}/ch7_pointer.svg\n", out);
    return r;
}

}  // namespace s2a
