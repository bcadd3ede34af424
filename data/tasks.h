// data/tasks.h — the two toy tasks of the sequence-to-sequence chapters, generated from a seed.
//
//   addition:  "16+75"                        -> "91"           (chapter: seq2seq, reversed input, peeky)
//   dates:     "Tuesday, September 27, 1994"  -> "1994-09-27"   (chapter: attention)
//
// Both are small enough to train in minutes on a CPU, and both have an answer that a program can check,
// so a learner sees at once whether the model learned the task or only the shape of the answers.
//
// The generators use s2a::Rng only (never the std distributions, whose output differs between standard
// libraries), so a seed gives the same examples everywhere. Questions within one set are unique:
// after a split, no test question also appears in the training set.
//
// Examples are unpadded; textfile.h pads them to the fixed widths below and writes the textbook format.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace s2a {

struct Example {
    std::string question;  // e.g. "16+75", unpadded
    std::string answer;    // e.g. "91", unpadded
};

// The widths the chapters pad to. The answer is preceded by the start symbol '_' on the decoder side,
// so the target sequences are one longer: 5 for addition, 11 for dates.
constexpr int kAdditionQuestionWidth = 7;  // "999+999"
constexpr int kAdditionAnswerWidth = 4;    // "1998"
constexpr int kDateQuestionWidth = 29;     // "wednesday, september 27, 1994", the longest format
constexpr int kDateAnswerWidth = 10;       // "1994-09-27"

// n unique questions "a+b" with a, b uniform in 0..999; answer the sum. n may be at most 1,000,000.
std::vector<Example> make_addition(int n, uint64_t seed);

// n unique questions: a date uniform in 1970-01-01 .. 2029-12-31, written in one of kNumDateFormats
// formats chosen uniformly; answer the ISO date. Every question fits in kDateQuestionWidth characters.
std::vector<Example> make_dates(int n, uint64_t seed);

// The bottleneck experiment (chapters 2 and 3): copy a string of letters a..j whose length is uniform in
// min_len..max_len, "cabbage" → "cabbage". Long inputs must pass through the encoder's fixed-size state.
// `letters` narrows or widens the alphabet to its first letters a.. (chapter 7: with two, a letter's content
// hardly tells one position from another).
constexpr int kCopyMinLength = 4;
constexpr int kCopyMaxLength = 36;
constexpr int kCopyLetters = 10;
std::vector<Example> make_copy(int n, int min_len, int max_len, uint64_t seed, int letters = kCopyLetters);

// The length in characters of the longest question (answers = false) or answer (answers = true); 0 for none.
int max_len(const std::vector<Example>& examples, bool answers);

// ---- the calendar behind make_dates, public so the tests (and curious readers) can use it

struct Date {
    int year, month, day;  // month 1..12, day 1..31
};

bool is_leap_year(int year);
int days_in_month(int year, int month);
int days_since_1970(const Date& d);  // 1970-01-01 is day 0; d must not be earlier
Date date_from_days(int days);       // the inverse; days >= 0
int weekday(const Date& d);          // 0 = Sunday .. 6 = Saturday
std::string iso_date(const Date& d); // "1994-09-27"

// The human formats, numbered 0..kNumDateFormats-1. For 1994-09-27, a Tuesday:
//    0 september 27, 1994          8 9/27/94                 16 Tuesday, September 27, 1994
//    1 September 27, 1994          9 09/27/1994              17 TUESDAY, SEPTEMBER 27, 1994
//    2 SEPTEMBER 27, 1994         10 9/27/1994               18 Tue, Sep 27, 1994
//    3 sep 27, 1994               11 27 September 1994       19 1994.09.27
//    4 Sep 27, 1994               12 27 sep 1994             20 27.09.1994
//    5 SEP 27, 1994               13 27 Sep 1994             21 September 27th, 1994
//    6 Sep. 27, 1994              14 27 SEPTEMBER 1994
//    7 september 27 1994          15 tuesday, september 27, 1994
// No two dates of 1970..2029 share a question: two-digit years 70..99 mean 19xx, 00..29 mean 20xx,
// and day-first formats never use '/', so "5/6/94" can only be May 6.
constexpr int kNumDateFormats = 22;
std::string format_date(const Date& d, int format);

// What make_dates does, for any set of formats (data/tasks_zh.h writes the dates in Chinese with it): n
// unique questions format(date, f), the date uniform in 1970..2029 and f in 0..num_formats-1; answer the ISO
// date. n may be at most half of all (date, format) pairs.
using DateFormat = std::string (*)(const Date& d, int format);
std::vector<Example> make_date_examples(int n, uint64_t seed, int num_formats, DateFormat format);

}  // namespace s2a
