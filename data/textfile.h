// data/textfile.h — the textbook's text format for sequence-to-sequence toy data, written and read.
//
// One example a line: the question padded with spaces to a fixed width, then '_', then the answer padded
// with spaces to a fixed width. With question width 7 and answer width 4:
//
//     16+75  _91  
//     999+1  _1000
//
// The '_' does two jobs: it separates question from answer when the file is read (at the first '_'), and
// it stays in front of the answer as the decoder's start symbol. The spaces are real characters of the
// vocabulary: the model learns to produce them, so every sequence in a set has the same length and a
// batch needs no masks.
//
// Files are UTF-8, so a task may be in any script: "九四年九月二十七号_1994-09-27". Widths count characters
// (code points), not bytes: '年' is one character of the question as 'y' is, though UTF-8 writes it in three
// bytes. Any printable character is allowed; control characters and invalid UTF-8 are not.
//
// Any file in this format loads, so a teacher can bring a task of their own. A malformed file stops
// loading with "FILE:LINE: what was wrong", or "FILE:LINE:COLUMN: what" when one character is at fault
// (the column counts characters from 1).
//
// Limits, so that a wrong file fails at once instead of taking the machine's memory: a line may hold at
// most kMaxLineBytes bytes (a model unrolls one step per character, and every example of a set is as wide
// as the widest), a file at most kMaxTextFileBytes.
//
// Memory, as a function of the input: read_text holds one line of at most kMaxLineBytes + 2 bytes, and per
// example two strings and a line number (libstdc++: 68 bytes, twice that while the vectors grow) plus the
// characters of strings past 15. The shortest example line, "a_b\n", has 4 bytes, so a file of n bytes takes
// at most 34 × n + 8 KiB: 272 MiB at kMaxTextFileBytes (8 MiB). Measured (peak RSS, double build, when the
// limit was 64 MiB): 1.4 GB for 64 MiB of "a_b" lines, 170 MB for 64 MiB of 64-character lines; split,
// make_vocab and a Batcher on top take about twice as much again (4.4 GB and 580 MB in all). Memory grows
// linearly with the file, which is why the limit is 8 MiB: the worst file then costs about 550 MB in all.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "data/tasks.h"

namespace s2a {

constexpr int kMaxLineBytes = 4096;                        // question + '_' + answer, without the line end
constexpr int64_t kMaxTextFileBytes = int64_t(8) << 20;   // 8 MiB, some 4 times the chapters' largest set
constexpr char kPadding = ' ';                             // what questions and answers are padded with

struct TextData {
    std::vector<std::string> questions;  // each padded to the same width Q (in characters), no '_'   e.g. "16+75  "
    std::vector<std::string> answers;    // each '_' + the answer padded to width A                   e.g. "_91  "
    // Where the examples came from, so that an error can point there: the file and the line of each example.
    // Both are empty for generated examples. ("= {}": so TextData{questions, answers} compiles without a warning.)
    std::string path = {};
    std::vector<int> lines = {};
    // Characters the vocabulary must hold besides those of the examples. split() puts here every character
    // of the whole set, so that make_vocab of the training part also covers the test part.
    std::string alphabet = {};

    int size() const { return static_cast<int>(questions.size()); }
    // Where example i came from, for an error message: "data.txt:12", or "example 12" if it was generated.
    std::string where(int i) const;
};

// Pads every example to the longest question and the longest answer of the set (widths in characters).
TextData pad(const std::vector<Example>& examples);
// Pads to the given widths; throws if an example is longer, empty, not printable or not UTF-8, or has '_' in its question,
// or if a line would be longer than kMaxLineBytes (checked first, before anything is allocated).
TextData pad(const std::vector<Example>& examples, int question_width, int answer_width);

// Writes one line per example to path + ".tmp", then renames it to path, so a crash never leaves a
// half-written file under the real name. Throws if the data would not read back as it is (the limits
// included).
void write_text(const std::string& path, const TextData& data);

// Reads a file in the format above. Lines may end with \n or \r\n; the file may end with or without a
// final newline, and with any number of blank lines (a blank line between examples is an error). Throws
// std::runtime_error "path:line: what" on the first malformed line; a line past kMaxLineBytes is refused
// after reading kMaxLineBytes + 2 bytes of it, a file past kMaxTextFileBytes before reading any of it (a
// pipe has no size to check: only its lines are limited).
TextData read_text(const std::string& path);
// The same from a stream (a string in memory, for tests and the fuzzer); `path` names it in the messages
// and in TextData::path. A stream has no size to check: only its lines are limited.
TextData read_text(std::istream& in, const std::string& path);

}  // namespace s2a
