// fuzz/fuzz_textfile.cpp — the textbook-format reader (data/textfile.h) on arbitrary bytes, and what a
// chapter builds on an accepted file: the split, the vocabulary and the Batcher (data/dataset.h).
//
// Properties of an accepted file, read as "question_answer" lines:
//   - every question is Q characters wide (Q ≥ 1) without '_', every answer '_' + A characters (A ≥ 1);
//   - any split of it, with any seed, trains: the training part's vocabulary holds every character of the
//     file, so the Batcher of either part accepts it (issue 14, item 5);
//   - a batch decodes back to the examples it came from.
// The split's size, seed, batch size and direction come from the input's length, so each input is one run.
#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "data/dataset.h"
#include "data/utf8.h"
#include "fuzz/fuzz.h"

using namespace s2a;

namespace {

// Batches of part: shapes (B, Q) and (B, A + 1), and the first batch decodes back to its examples.
void check_batches(const TextData& part, const Vocab& vocab, int batch_size, bool reverse) {
    if (part.size() == 0) return;
    const Batcher batcher(part, vocab, batch_size, reverse);
    // Widths count characters (code points), not bytes: "é" is one column of a batch.
    const int q = static_cast<int>(utf8_length(part.questions[0])), a = static_cast<int>(utf8_length(part.answers[0]));
    fuzz::fuzz_require(batcher.source_len() == q && batcher.target_len() == a, "the Batcher's widths are the data's");
    const Batch first = batcher.batch(0);
    const int rows = std::min(batch_size, part.size());
    fuzz::fuzz_require(first.src.shape == Shape{rows, q} && first.tgt.shape == Shape{rows, a}, "batch shapes");
    for (int r = 0; r < rows; ++r) {
        std::vector<int> src(first.src.data.begin() + int64_t(r) * q, first.src.data.begin() + int64_t(r + 1) * q);
        if (reverse) std::reverse(src.begin(), src.end());
        const std::vector<int> tgt(first.tgt.data.begin() + int64_t(r) * a, first.tgt.data.begin() + int64_t(r + 1) * a);
        fuzz::fuzz_require(vocab.decode(src) == part.questions[r] && vocab.decode(tgt) == part.answers[r],
                           "a batch row decodes to its example");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    TextData text;
    try {
        text = read_text(in, "fuzz.txt");
    } catch (const std::runtime_error&) {
        return 0;
    }

    const int n = text.size();
    const size_t q = utf8_length(text.questions[0]), a = utf8_length(text.answers[0]);  // in characters
    fuzz::fuzz_require(q >= 1 && a >= 2 && text.lines.size() == static_cast<size_t>(n), "widths and line numbers");
    for (int i = 0; i < n; ++i) {
        fuzz::fuzz_require(utf8_length(text.questions[i]) == q && utf8_length(text.answers[i]) == a, "one width for all");
        fuzz::fuzz_require(text.questions[i].find('_') == std::string::npos && text.answers[i][0] == '_',
                           "'_' starts the answer and only there");
        fuzz::fuzz_require(i == 0 || text.lines[i] > text.lines[i - 1], "line numbers increase");
    }

    const int n_test = static_cast<int>(size % (static_cast<size_t>(n) + 1));  // 0..n: none to all held out
    const Split parts = split(text, n_test, size);
    fuzz::fuzz_require(parts.train.size() + parts.test.size() == n && parts.test.size() == n_test, "split sizes");
    const Vocab vocab = make_vocab(parts.train);
    fuzz::fuzz_require(vocab.contains(kPadding), "the vocabulary holds the padding");
    const int batch_size = 1 + static_cast<int>(size % 7);
    check_batches(parts.train, vocab, batch_size, size % 2 == 1);
    check_batches(parts.test, vocab, batch_size, size % 2 == 1);
    return 0;
}
