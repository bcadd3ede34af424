// data/tasks_names.h — chapter 7's copy task, where the answers hold words the training set never had; and the
// word-level vocabulary and batches that make a word "unseen".
//
//   "my name is Kazumi"             →  "hello Kazumi"
//   "tell Rilo that Tenaka called"  →  "message from Tenaka for Rilo"
//
// Tokens are words (split at spaces), not characters: with characters every name is spelled with letters the
// model knows, and nothing is ever unseen. A word-level vocabulary cannot hold every name. A real system keeps
// its most frequent words (See et al.: 50,000) and maps the rest to <unk>; here the vocabulary keeps the words
// that occur in at least min_count training examples, and names follow Zipf's law (the r-th most common
// of a pool is drawn with probability ∝ 1/r), so common names are in the vocabulary and rare ones are not, even
// in training. The test set's names come half from the training pool and half from a second pool, disjoint
// from it: those names never occur in any training sentence. A model that can only write vocabulary words
// writes <unk> for them; a model that can copy (models/pointer_generator.h) can write them.
//
// Dimensions: N examples, B batch, S source length (words), Ta answer length (words), V vocabulary, W extended
// vocabulary (V + the batch's source words outside the vocabulary).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "autodiff/tensor.h"
#include "data/dataset.h"  // Batch
#include "data/tasks.h"    // Example

namespace s2a {

// ---------------------------------------------------------------- the task

struct NamesTask {
    std::vector<Example> train, test;  // unpadded, words separated by one space
    std::vector<std::string> train_pool, test_pool;  // the two disjoint sets of names, most common first
};

// n_train training and n_test test examples, each a template of kNameTemplates filled with one or two names.
// Training names: Zipf-distributed over a pool of `pool` names. Test examples: half (even index) from that
// pool in the same way, half (odd index) uniform from a second pool of `pool` names no training example holds.
// Names are 2 or 3 syllables (consonant + vowel), capitalised. Questions are unique within and across the two
// sets. Throws std::invalid_argument for n_train, n_test < 0 or pool < 1, naming the value.
NamesTask make_names_task(int n_train, int n_test, int pool, uint64_t seed);
constexpr int kNameTemplates = 6;

// The words of a text, split at (runs of) spaces.
std::vector<std::string> split_words(const std::string& text);

// ---------------------------------------------------------------- the word vocabulary

class WordVocab {
  public:
    // Three symbols come first: <pad> (padding, and the end of an answer), <s> (the decoder's start symbol),
    // <unk> (every word the vocabulary does not hold). Then every word that occurs in at least min_count of
    // the texts (give one text per example: a name in both question and answer is still one occurrence), in
    // sorted order (the same texts give the same ids in every run). Throws
    // std::invalid_argument if min_count < 1 or a text holds one of the three symbols' spellings.
    static WordVocab from_texts(const std::vector<std::string>& texts, int min_count);

    static constexpr int kPad = 0, kStart = 1, kUnk = 2;
    int size() const { return static_cast<int>(words_.size()); }  // V
    bool contains(const std::string& word) const { return ids_.count(word) > 0; }
    int id(const std::string& word) const;           // kUnk for a word it does not hold
    const std::string& word(int id) const;           // throws std::out_of_range outside 0..V-1

  private:
    std::vector<std::string> words_;   // id → word
    std::map<std::string, int> ids_;   // word → id
};

// ---------------------------------------------------------------- batches in extended ids

// A batch of the word task. Ids below V are vocabulary words; a source word outside the vocabulary gets the
// extended id V + k, k its place in `oov` (the batch's source words outside the vocabulary, in order of first
// appearance), the same id in every row. An answer word outside the vocabulary gets its extended id if its own
// row's source holds it (it can be copied from there), else <unk>.
struct WordBatch {
    Batch batch;                    // src (B, S) padded with <pad>; tgt (B, Ta + 1): <s>, the answer, <pad>s
    std::vector<std::string> oov;   // extended id V + k is oov[k]
    std::vector<int> examples;      // (B) the example each row holds
};

class WordBatcher {
  public:
    // Every example split into words once, here. S is the longest question; Ta the longest answer plus one, so
    // every answer ends with a <pad>, the end symbol. Throws std::invalid_argument for batch_size < 1 or no
    // examples.
    WordBatcher(const std::vector<Example>& examples, const WordVocab& vocab, int batch_size);

    int size() const { return static_cast<int>(questions_.size()); }                    // N
    int num_batches() const { return (size() + batch_size_ - 1) / batch_size_; }
    int source_len() const { return source_len_; }                                      // S
    int target_len() const { return target_len_; }                                      // Ta + 1
    void shuffle(Rng& rng) { rng.shuffle(order_); }  // a new example order, for the next epoch
    WordBatch batch(int i) const;                    // batch i of 0..num_batches()-1, in the current order

  private:
    WordVocab vocab_;  // a copy, so the batcher does not rely on the caller keeping the vocabulary alive
    int batch_size_, source_len_ = 0, target_len_ = 0;
    std::vector<std::vector<std::string>> questions_, answers_;  // N examples, split into words
    std::vector<int> order_;                                     // (N) this epoch's example order
};

// ids with every extended id (≥ V) replaced by unk_id: what an embedding of V rows can read, and the batch a
// model without copying trains on.
IndexTensor with_unk(const IndexTensor& ids, int V, int unk_id = WordVocab::kUnk);
// The text of an answer in extended ids: words up to the first <pad>, joined by spaces (oov names ids ≥ V).
std::string answer_words(const std::vector<int>& ids, const WordVocab& vocab, const std::vector<std::string>& oov);

}  // namespace s2a
