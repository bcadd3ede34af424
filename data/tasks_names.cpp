// data/tasks_names.cpp — the names task's generator, the word vocabulary, and batches in extended ids.
#include "data/tasks_names.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <numeric>
#include <set>
#include <stdexcept>

namespace s2a {

// ---------------------------------------------------------------- the task

namespace {

// A sentence and its answer; the words "{0}" and "{1}" stand for the first and second name.
struct Template {
    const char* question;
    const char* answer;
};
const Template kTemplates[kNameTemplates] = {
    {"my name is {0}", "hello {0}"},
    {"call me {0} please", "hello {0} nice to meet you"},
    {"this is {0} speaking", "hi {0} how can i help"},
    {"{0} and {1} are here", "welcome {0} and {1}"},
    {"tell {0} that {1} called", "message from {1} for {0}"},  // the names change places: copying must find them
    {"is {0} there", "sorry {0} is out"},
};
constexpr int kTwoNameTemplates = 2;  // how many of them hold "{1}"

// The template's text with its placeholders replaced by the names.
std::string fill(const char* text, const std::string& first, const std::string& second) {
    std::string out;
    for (const std::string& w : split_words(text))
        out += (out.empty() ? "" : " ") + (w == "{0}" ? first : w == "{1}" ? second : w);
    return out;
}

// A name of 2 or 3 syllables, each a consonant and a vowel, capitalised: "Kazumi", "Rilo". Template words are
// lower case, so no name is ever one of them.
std::string make_name(Rng& rng) {
    static const std::string kConsonants = "bdfgklmnprstvz", kVowels = "aeiou";
    std::string name;
    for (int k = 0, n = 2 + rng.randint(2); k < n; ++k) {
        name += kConsonants[rng.randint(static_cast<int>(kConsonants.size()))];
        name += kVowels[rng.randint(static_cast<int>(kVowels.size()))];
    }
    name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
    return name;
}

// Zipf's law over ranks 0..n-1: rank r is drawn with probability (1 / (r + 1)) / Σᵢ 1 / (i + 1).
class Zipf {
  public:
    explicit Zipf(int n) : cumulative_(n) {
        double total = 0;
        for (int r = 0; r < n; ++r) cumulative_[r] = total += 1.0 / (r + 1);
    }
    int operator()(Rng& rng) const {  // the first rank whose cumulative weight passes u ~ U[0, total)
        const double u = rng.uniform() * cumulative_.back();
        return static_cast<int>(std::upper_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin());
    }

  private:
    std::vector<double> cumulative_;
};

}  // namespace

std::vector<std::string> split_words(const std::string& text) {
    std::vector<std::string> words;
    for (size_t at = 0; at < text.size();) {
        const size_t end = std::min(text.find(' ', at), text.size());
        if (end > at) words.push_back(text.substr(at, end - at));
        at = end + 1;
    }
    return words;
}

NamesTask make_names_task(int n_train, int n_test, int pool, uint64_t seed) {
    if (n_train < 0 || n_test < 0 || pool < 2)
        throw std::invalid_argument(fmt::format("make_names_task: need n_train, n_test >= 0 and pool >= 2, got {}, {}, {}",
                                                n_train, n_test, pool));
    // Each pool writes 4·pool one-name and 2·pool·(pool - 1) two-name questions; asking for at most half of
    // the smaller count keeps the draws for unique questions short.
    const int64_t possible = int64_t(kNameTemplates - kTwoNameTemplates) * pool + int64_t(kTwoNameTemplates) * pool * (pool - 1);
    if (n_train + int64_t(n_test) > possible / 2)
        throw std::invalid_argument(fmt::format("make_names_task: {} + {} examples are more than half of the {} questions "
                                                "a pool of {} names writes", n_train, n_test, possible, pool));
    Rng rng(seed);
    NamesTask task;
    std::set<std::string> names;  // the two pools together: a name drawn twice is drawn again
    while (static_cast<int>(names.size()) < 2 * pool) {
        std::string name = make_name(rng);
        if (!names.insert(name).second) continue;
        (static_cast<int>(task.train_pool.size()) < pool ? task.train_pool : task.test_pool).push_back(std::move(name));
    }
    const Zipf zipf(pool);
    std::set<std::string> questions;  // every question once, across both sets
    const auto draw = [&](bool unseen) {
        const Template& t = kTemplates[rng.randint(kNameTemplates)];
        const auto name = [&] { return unseen ? task.test_pool[rng.randint(pool)] : task.train_pool[zipf(rng)]; };
        const std::string first = name();
        std::string second = first;
        while (second == first) second = name();  // two different people (unused by one-name templates)
        return Example{fill(t.question, first, second), fill(t.answer, first, second)};
    };
    for (std::vector<Example>* set : {&task.train, &task.test}) {
        const int n = set == &task.train ? n_train : n_test;
        while (static_cast<int>(set->size()) < n) {
            Example e = draw(set == &task.test && set->size() % 2 == 1);  // test: every other example unseen names
            if (questions.insert(e.question).second) set->push_back(std::move(e));
        }
    }
    return task;
}

// ---------------------------------------------------------------- the word vocabulary

WordVocab WordVocab::from_texts(const std::vector<std::string>& texts, int min_count) {
    if (min_count < 1) throw std::invalid_argument(fmt::format("WordVocab: min_count must be at least 1, got {}", min_count));
    std::map<std::string, int> counts;  // word → the number of texts holding it; sorted: the order of the ids
    for (const std::string& text : texts) {
        const std::vector<std::string> words = split_words(text);
        for (const std::string& w : std::set<std::string>(words.begin(), words.end())) ++counts[w];
    }
    WordVocab v;
    for (const char* symbol : {"<pad>", "<s>", "<unk>"}) {  // ids kPad, kStart, kUnk
        if (counts.count(symbol)) throw std::invalid_argument(fmt::format("WordVocab: the texts hold the symbol {}", symbol));
        v.ids_[symbol] = v.size();
        v.words_.push_back(symbol);
    }
    for (const auto& [word, n] : counts)
        if (n >= min_count) {
            v.ids_[word] = v.size();
            v.words_.push_back(word);
        }
    return v;
}

int WordVocab::id(const std::string& word) const {
    const auto at = ids_.find(word);
    return at == ids_.end() ? kUnk : at->second;
}

const std::string& WordVocab::word(int id) const {
    if (id < 0 || id >= size()) throw std::out_of_range(fmt::format("WordVocab: id {} is outside 0..{}", id, size() - 1));
    return words_[id];
}

// ---------------------------------------------------------------- batches in extended ids

WordBatcher::WordBatcher(const std::vector<Example>& examples, const WordVocab& vocab, int batch_size)
    : vocab_(vocab), batch_size_(batch_size) {
    if (batch_size < 1) throw std::invalid_argument(fmt::format("WordBatcher: batch_size = {} must be at least 1", batch_size));
    if (examples.empty()) throw std::invalid_argument("WordBatcher: no examples");
    for (const Example& e : examples) {
        questions_.push_back(split_words(e.question));
        answers_.push_back(split_words(e.answer));
        source_len_ = std::max(source_len_, static_cast<int>(questions_.back().size()));
        target_len_ = std::max(target_len_, static_cast<int>(answers_.back().size()) + 2);  // <s>, the answer, <pad>
    }
    order_.resize(examples.size());
    std::iota(order_.begin(), order_.end(), 0);
}

WordBatch WordBatcher::batch(int i) const {
    if (i < 0 || i >= num_batches())
        throw std::out_of_range(fmt::format("WordBatcher::batch: {} is not in 0..{}", i, num_batches() - 1));
    const int first = i * batch_size_, B = std::min(batch_size_, size() - first), S = source_len_, L = target_len_;
    const int V = vocab_.size();
    WordBatch out;
    IndexTensor src(Shape{B, S}, WordVocab::kPad), tgt(Shape{B, L}, WordVocab::kPad);  // (B, S), (B, Ta + 1)
    const auto extended = [&](const std::string& w) {  // V + w's place among the batch's source-only words
        auto at = std::find(out.oov.begin(), out.oov.end(), w);
        if (at == out.oov.end()) at = out.oov.insert(out.oov.end(), w);
        return V + static_cast<int>(at - out.oov.begin());
    };
    for (int r = 0; r < B; ++r) {
        const int e = order_[first + r];
        const std::vector<std::string>&q = questions_[e], &a = answers_[e];
        out.examples.push_back(e);
        for (size_t s = 0; s < q.size(); ++s) src[int64_t(r) * S + s] = vocab_.contains(q[s]) ? vocab_.id(q[s]) : extended(q[s]);
        tgt[int64_t(r) * L] = WordVocab::kStart;
        for (size_t t = 0; t < a.size(); ++t) {
            const bool in_source = std::find(q.begin(), q.end(), a[t]) != q.end();
            tgt[int64_t(r) * L + 1 + t] = vocab_.contains(a[t]) ? vocab_.id(a[t]) : in_source ? extended(a[t]) : WordVocab::kUnk;
        }
    }
    out.batch = Batch{std::move(src), std::move(tgt)};
    return out;
}

IndexTensor with_unk(const IndexTensor& ids, int V, int unk_id) {
    IndexTensor r = ids;
    for (int& id : r.data)
        if (id >= V) id = unk_id;
    return r;
}

std::string answer_words(const std::vector<int>& ids, const WordVocab& vocab, const std::vector<std::string>& oov) {
    std::string text;
    for (int id : ids) {
        if (id == WordVocab::kPad) break;
        const int k = id - vocab.size();
        if (k >= static_cast<int>(oov.size()))
            throw std::out_of_range(fmt::format("answer_words: id {} is past the extended vocabulary's {} words", id,
                                                vocab.size() + oov.size()));
        text += (text.empty() ? "" : " ") + (k < 0 ? vocab.word(id) : oov[k]);
    }
    return text;
}

}  // namespace s2a
