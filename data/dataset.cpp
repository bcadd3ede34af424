// data/dataset.cpp — the seeded train/test split and the Batcher.
#include "data/dataset.h"

#include "data/tasks.h"
#include "data/tasks_parse.h"
#include "data/tasks_zh.h"
#include "data/utf8.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace s2a {

Split split(const TextData& data, int n_test, uint64_t seed) {
    const int n = data.size();
    if (n_test < 0 || n_test > n)
        throw std::invalid_argument(
            fmt::format("split: n_test = {} is not in 0..{} (the number of examples)", n_test, n));

    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    Rng rng(seed);
    rng.shuffle(order);

    Split s;
    const std::string alphabet = make_vocab(data).chars();
    for (TextData* part : {&s.train, &s.test}) {
        part->path = data.path;
        part->alphabet = alphabet;
    }
    for (int k = 0; k < n; ++k) {
        TextData& part = k < n - n_test ? s.train : s.test;
        part.questions.push_back(data.questions[order[k]]);
        part.answers.push_back(data.answers[order[k]]);
        if (!data.lines.empty()) part.lines.push_back(data.lines[order[k]]);
    }
    return s;
}

Vocab make_vocab(const TextData& data) {
    std::vector<std::string> texts = data.questions;
    texts.insert(texts.end(), data.answers.begin(), data.answers.end());
    texts.push_back(data.alphabet + kPadding);
    return Vocab::from_texts(texts);
}

namespace {

// vocab.encode(text), where text is part of example i of data: an unknown character is reported with the
// example's file and line, since the vocabulary may come from other data than the examples.
std::vector<int> encode(const Vocab& vocab, const TextData& data, int i, const std::string& text) {
    try {
        return vocab.encode(text);
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(fmt::format("{}: {}", data.where(i), e.what()));
    }
}

}  // namespace

Batcher::Batcher(const TextData& data, const Vocab& vocab, int batch_size, bool reverse_source)
    : n_(data.size()), batch_size_(batch_size) {
    if (batch_size < 1)
        throw std::invalid_argument(fmt::format("Batcher: batch_size = {} must be at least 1", batch_size));
    if (data.answers.size() != data.questions.size())
        throw std::invalid_argument(fmt::format("Batcher: {} questions but {} answers", data.questions.size(),
                                                data.answers.size()));
    if (n_ == 0) throw std::invalid_argument("Batcher: no examples");
    // Widths in characters: a row holds one id per character, however many bytes UTF-8 gave it.
    src_len_ = static_cast<int>(utf8_length(data.questions[0]));
    tgt_len_ = static_cast<int>(utf8_length(data.answers[0]));

    src_.reserve(static_cast<size_t>(n_) * src_len_);
    tgt_.reserve(static_cast<size_t>(n_) * tgt_len_);
    for (int i = 0; i < n_; ++i) {
        // Rows of a batch must all be equally long: that is what the padding was for.
        std::vector<int> q = encode(vocab, data, i, data.questions[i]);
        const std::vector<int> a = encode(vocab, data, i, data.answers[i]);
        const int q_len = static_cast<int>(q.size()), a_len = static_cast<int>(a.size());
        if (q_len != src_len_ || a_len != tgt_len_)
            throw std::invalid_argument(fmt::format("Batcher: {} is {} -> {} characters wide, {} is {} -> {}",
                                                    data.where(i), q_len, a_len, data.where(0), src_len_, tgt_len_));
        if (reverse_source) std::reverse(q.begin(), q.end());
        src_.insert(src_.end(), q.begin(), q.end());
        tgt_.insert(tgt_.end(), a.begin(), a.end());
    }

    order_.resize(n_);
    std::iota(order_.begin(), order_.end(), 0);
}

void Batcher::shuffle(Rng& rng) { rng.shuffle(order_); }

void Batcher::set_order(std::vector<int> order) {
    std::vector<int> sorted = order, each(n_);
    std::sort(sorted.begin(), sorted.end());
    std::iota(each.begin(), each.end(), 0);
    if (sorted != each)
        throw std::invalid_argument(fmt::format("an example order must hold each of 0..{} once ({} entries given)", n_ - 1, order.size()));
    order_ = std::move(order);
}

Batch Batcher::batch(int i) const {
    if (i < 0 || i >= num_batches())
        throw std::out_of_range(fmt::format("Batcher::batch: {} is not in 0..{}", i, num_batches() - 1));
    const int first = i * batch_size_;
    const int b = std::min(batch_size_, n_ - first);  // the last batch keeps whatever is left

    std::vector<int> src, tgt;  // (b, Ts), (b, Ta + 1)
    src.reserve(static_cast<size_t>(b) * src_len_);
    tgt.reserve(static_cast<size_t>(b) * tgt_len_);
    for (int r = 0; r < b; ++r) {
        const size_t e = static_cast<size_t>(order_[first + r]);  // which example goes in row r
        const int* q = src_.data() + e * src_len_;
        const int* a = tgt_.data() + e * tgt_len_;
        src.insert(src.end(), q, q + src_len_);
        tgt.insert(tgt.end(), a, a + tgt_len_);
    }
    return Batch{IndexTensor::from(Shape{b, src_len_}, std::move(src)),
                 IndexTensor::from(Shape{b, tgt_len_}, std::move(tgt))};
}

}  // namespace s2a

namespace s2a {

const char* const kTaskNames = "addition, dates, zh-dates, copy, parse";

TextData load_or_generate(const std::string& task, const std::string& path, int n, uint64_t seed) {
    if (!path.empty()) return read_text(path);
    if (task == "addition") return pad(make_addition(n, seed), kAdditionQuestionWidth, kAdditionAnswerWidth);
    if (task == "dates") return pad(make_dates(n, seed), kDateQuestionWidth, kDateAnswerWidth);
    if (task == "zh-dates") return pad(make_zh_dates(n, seed), kZhDateQuestionWidth, kDateAnswerWidth);
    if (task == "copy") return pad(make_copy(n, kCopyMinLength, kCopyMaxLength, seed), kCopyMaxLength, kCopyMaxLength);
    if (task == "parse") return pad(make_parse(n, kParseMaxOps, seed), parse_question_width(kParseMaxOps), parse_answer_width(kParseMaxOps));
    throw std::invalid_argument(fmt::format("unknown task '{}' (known: {})", task, kTaskNames));
}

}  // namespace s2a
