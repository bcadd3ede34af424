// data/tasks_hard.h — the harder generated tasks of chapter 5, where the chapter-3 model struggles.
//
//   reverse:  "Kq3Zb"  → "bZ3qK"     write the string backwards
//   sort:     "Kq3Zb"  → "3KZbq"     write its characters in ASCII order (digits, then A-Z, then a-z)
//
// The strings are drawn from 62 characters (0-9, A-Z, a-z) with lengths uniform in min_len..max_len; with
// the padding ' ' and the start symbol '_' the vocabulary has 64 characters. Long strings are the point:
// a recurrent model must carry everything it read through one state vector at a time, and its decoder must
// keep track, step after step, of where in the source it is; a Transformer reads any position of the source
// directly, by content or by position, at every step.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/textfile.h"

namespace s2a {

// The 62 characters the strings are made of, in ASCII order.
const std::string& hard_task_alphabet();

// The examples with each question right-aligned in question_width columns (padded with spaces on the
// left, as numbers are in a column) and each answer left-aligned in answer_width, '_' in front, as pad() does.
// Right-aligned, the last character of every string sits in the last column, so for reversing, answer
// position t always comes from source column question_width - 1 - t: see chapters/ch5_transformer.cpp.
// Throws std::invalid_argument if an example is longer than its width.
TextData pad_left(const std::vector<Example>& examples, int question_width, int answer_width);

// n examples of `task` ("reverse" or "sort"): random strings with lengths uniform in min_len..max_len.
// Throws std::invalid_argument for an unknown task or bad sizes (need n >= 0, 1 <= min_len <= max_len).
std::vector<Example> make_hard_task(const std::string& task, int n, int min_len, int max_len, uint64_t seed);

}  // namespace s2a
