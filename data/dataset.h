// data/dataset.h — train/test split and the Batcher that turns padded text into batches of ids.
//
// Dimensions:
//   N   number of examples
//   B   batch size (the last batch of an epoch may be smaller)
//   Ts  source length: the padded question width       (7 for addition, 29 for dates)
//   Ta  answer width; targets carry the '_' in front    (Ta + 1 = 5 for addition, 11 for dates)
//
// A Batch hands the model the whole target row '_' + answer. The model itself slices it into the
// decoder's input tgt[:, :-1] (starting with '_') and what it must predict, tgt[:, 1:] (teacher forcing).
#pragma once

#include <cstdint>

#include "autodiff/tensor.h"
#include "data/textfile.h"
#include "data/vocab.h"

namespace s2a {

struct Split {
    TextData train, test;
};

// Shuffles the examples with Rng(seed), then keeps the last n_test as the test set and the rest for
// training (the chapters: 45,000 / 5,000 of 50,000). Both parts keep where their examples came from, and
// both get the alphabet of the whole set, so that make_vocab(train) knows a character that only the test
// part holds: any valid file works with any seed. Throws if n_test is not in 0..data.size().
Split split(const TextData& data, int n_test, uint64_t seed);

// The vocabulary of every character in the questions, the answers (each starts with '_') and the alphabet,
// and the padding ' ' always: a model pads with it even if no example of the data needs padding. Ids follow
// sorted characters, so data that holds a space gets the same ids as from its texts alone.
Vocab make_vocab(const TextData& data);

struct Batch {
    IndexTensor src;  // (B, Ts)      question ids, reversed if the Batcher was asked to
    IndexTensor tgt;  // (B, Ta + 1)  ids of '_' + answer
};

class Batcher {
  public:
    // Encodes all of `data` once, here, so batch() only copies ids. With reverse_source each question
    // is fed back to front, padding included ("16+75  " becomes "  57+61"): the first characters the
    // decoder must produce then sit close to the last ones the encoder read, which eases learning.
    // Throws if the data is empty, the widths differ, or a character is missing from the vocabulary; the
    // message names the example's file and line (TextData::where).
    Batcher(const TextData& data, const Vocab& vocab, int batch_size, bool reverse_source);

    int size() const { return n_; }                                         // N
    int num_batches() const { return (n_ + batch_size_ - 1) / batch_size_; }  // the last may be partial
    int source_len() const { return src_len_; }                               // Ts
    int target_len() const { return tgt_len_; }                               // Ta + 1

    // A new example order, for the next epoch. Batches before the first shuffle follow the data order.
    void shuffle(Rng& rng);
    // The current order (example indices), and setting it back, for a run that resumes; set_order throws
    // std::invalid_argument unless `order` holds each of 0..N-1 once.
    const std::vector<int>& order() const { return order_; }
    void set_order(std::vector<int> order);

    // Batch i of 0..num_batches()-1, in the current order.
    Batch batch(int i) const;

  private:
    int n_, batch_size_, src_len_, tgt_len_;
    std::vector<int> src_;    // (N, Ts)      every question, encoded once
    std::vector<int> tgt_;    // (N, Ta + 1)  every '_' + answer, encoded once
    std::vector<int> order_;  // (N)          example order of the current epoch
};

}  // namespace s2a

namespace s2a {

// The examples a chapter trains on: `path` if given (any file in the textbook format), otherwise `n`
// generated examples of `task` (one of kTaskNames), padded to the task's fixed widths.
TextData load_or_generate(const std::string& task, const std::string& path, int n, uint64_t seed);
extern const char* const kTaskNames;  // "addition, dates, zh-dates, copy, parse": for --help and error messages

}  // namespace s2a
