// models/model_file.h — a checkpoint that is enough on its own: the parameters of a trained model and, as more
// arrays of the same .npz archive, everything needed to build that model again and to put questions to it.
//
// Dimensions: V vocabulary, S question width (characters), T answer steps.
//
// A checkpoint of io/checkpoint.h holds parameter values only; the program that built the model has to build
// it again, with the same flags, before load() can fill it. A model file adds three groups of arrays, each a
// (1) array holding one number unless said otherwise, so it can be read from Python as it is:
//
//   config.kind              0 the plain seq2seq (chapter 1), 1 the attention seq2seq (chapters 3, 4),
//                            2 the Transformer (chapter 5)
//   config.NAME              one field of the model's configuration (see model_file.cpp for each kind's list):
//                            sizes, the score function, the wiring, layers, residual, dropout, pad_id, end_id, …
//   vocab.codepoints         (V) the characters, in id order: ascending Unicode code points (data/vocab.h)
//   task.source_len          S, the width questions are padded to with ' ' (at the end)
//   task.answer_len          T, the answer steps the decoder writes
//   task.reversed            1 if the model reads its questions back to front (chapter 1's trick)
//   task.start_id            the decoder's first input, the id of '_'
//
// Enumerations are stored as their number: score 0 dot, 1 general, 2 additive, 3 concat; wiring 0 Luong,
// 1 Bahdanau; summary 0 last, 1 mean; a yes/no field as 0 or 1. Whole numbers this small are exact in float32.
//
// load_model trusts nothing in the file. Every number must be a whole number (or a finite real) within its
// field's limits, the vocabulary sorted and printable, the configuration one that builds, and the model it
// describes no larger than the parameters the file holds (so a crafted header cannot make it allocate
// gigabytes); then the parameters are checked as load() checks them (shapes, finite values, nothing left
// over). Any failure is one std::runtime_error naming the file and the array.
#pragma once

#include <memory>
#include <string>

#include "data/vocab.h"
#include "io/checkpoint.h"
#include "models/seq2seq.h"

namespace s2a {

// What a question must look like for this model, and how the chapter fed it during training.
struct TaskFacts {
    int source_len = 0;     // S: questions are padded with ' ' to S characters; a longer one cannot be asked
    int answer_len = 0;     // T: answer steps written after the start symbol
    bool reversed = false;  // questions read back to front, padding included
    int start_id = 0;       // the id of '_'
};

// A model rebuilt from its file.
struct ModelFile {
    std::unique_ptr<Seq2seqModel> model;
    Vocab vocab;
    TaskFacts task;
    std::string kind;  // "seq2seq", "attention" or "transformer"
};

// Writes m's parameters and its description (configuration, vocabulary, task facts) to path, atomically.
// m must be a Seq2seq, an AttentionSeq2seq or a TransformerSeq2seq (std::logic_error otherwise).
void save_model(const Seq2seqModel& m, const Vocab& vocab, const TaskFacts& task, const std::string& path);

// Rebuilds the model of a file written by save_model, its parameters loaded, in evaluation mode. Throws
// std::runtime_error naming the path and the array for a file that is not such a model file (a checkpoint of
// parameters only is refused with what to do instead), corrupt, inconsistent, or holding a NaN.
ModelFile load_model(const std::string& path);

// One line about the model: "attention seq2seq: E 16, H 256, dot score, Luong wiring, 1 layer; 95,000 parameters".
std::string describe(const ModelFile& f);

}  // namespace s2a
