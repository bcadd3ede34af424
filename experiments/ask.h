// experiments/ask.h — talking to a trained model, for chapters 1, 3, 4 and 5: each chapter saves its models as
// model files (models/model_file.h) and registers these flags; the session is the same for all of them.
//
//   --load FILE      skip training: rebuild the model of FILE and score it on the chapter's test set
//   --ask            read questions from the terminal or a pipe, one a line, and answer each: the answer, the
//                    top 3 characters of every step with their probabilities and, for attention models, where
//                    each step looked (a heat map in the terminal, and OUT/NAME_ask.svg for the last question)
//   --beam K         beam search's K best answers as well, with log P and the score they were ranked by
//   --explain X      the computation behind one answer, one decoder step at a time (Enter for the next step
//                    on a terminal; all at once when piped): X is a question, or the number N of a test example
//   --ask-format F   text (the default, for people) or tsv: one line per question for a program to read,
//                    "answer<TAB>question<TAB>answer<TAB>log p of each step" (steps up to and including the end
//                    symbol, every digit a Real holds), or "refused<TAB>question<TAB>why"; tools/to_pytorch.py
//                    --compare reads it
//
// A question is checked before the model sees it: a character outside the vocabulary (named with its position)
// or a question longer than the model's width is one line of explanation, and the session goes on. It is then
// prepared exactly as in training: padded with ' ' to the width S, reversed if the model was trained reversed.
//
// Dimensions: S question width, T answer steps, V vocabulary, H hidden size, h heads.
#pragma once

#include <string>

#include "experiments/side_by_side.h"
#include "io/cli.h"

namespace s2a {

struct AskFlags {
    std::string load;     // --load FILE: a model file
    bool ask = false;     // --ask
    int beam = 0;         // --beam K: the K-best list too (0: greedy answers only)
    double alpha = 0.6;   // --alpha: beam search's length penalty (models/decoding.h)
    std::string explain;  // --explain N or QUESTION
    std::string format = "text";  // --ask-format text|tsv

    // Registers the flags; beam_flags = false leaves --beam and --alpha to a chapter that has its own (ch5),
    // which then sets `beam` and `alpha` from them. Rule: --ask, --explain and --beam need --load.
    void add_to(Cli& cli, bool beam_flags = true);
    bool wanted() const { return !load.empty(); }
    // A copy with beam search's k and α set (from a chapter's own flags).
    AskFlags with_beam(int k, double length_penalty) const;
};

// Writes contender c's model file: its model, the vocabulary, and the task facts of its batches.
void save_model(const Contender& c, const Vocab& vocab, const std::string& path);

// The --load session: loads f.load, says what it holds and scores it on the test set of generated `task` (or
// --data) that the chapter's flags make, then explains f.explain if given, then answers questions if f.ask.
// Heat maps go to the --out folder. Returns the exit status (0); a bad file or --explain question throws
// std::runtime_error.
int question_model(const AskFlags& f, const TrainingFlags& chapter, const std::string& task);

}  // namespace s2a
