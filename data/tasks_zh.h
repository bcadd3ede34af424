// data/tasks_zh.h — the Chinese track: dates as Chinese texts write them → the ISO date, generated from a seed.
//
//     一九九四年九月二十七日            → 1994-09-27
//     1994年9月27日星期二              → 1994-09-27
//     九四年九月二十七号               → 1994-09-27
//
// The same task as the English dates (data/tasks.h: the same calendar, dates of 1970..2029, unique questions,
// a seed gives the same examples everywhere), in a script where the model must also learn to read numerals:
// 二十七 is 27, 十七 is 17, 二十 is 20, and a year is written digit by digit, 一九九四 or 二〇〇五.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/tasks.h"

namespace s2a {

constexpr int kZhDateQuestionWidth = 16;  // "1994年12月27日（星期三）", the longest format; the answer is kDateAnswerWidth

// The formats, numbered 0..kNumZhDateFormats-1. For 1994-09-27, a Tuesday:
//    0 一九九四年九月二十七日        5 1994年09月27日         10 1994年9月27日周二
//    1 一九九四年九月二十七号        6 1994年9月27号          11 1994年9月27日（星期二）
//    2 九四年九月二十七日            7 94年9月27日            12 星期二，1994年9月27日
//    3 九四年九月二十七号            8 1994年9月27日星期二     13 九四年九月二十七号礼拜二
//    4 1994年9月27日                9 一九九四年九月二十七日星期二
// Sunday is 星期日 and 周日, or 星期天 and 礼拜天 in the spoken forms 11 and 13. Two-digit years 70..99 mean
// 19xx and 00..29 mean 20xx, so no two dates of 1970..2029 share a question.
constexpr int kNumZhDateFormats = 14;
std::string format_zh_date(const Date& d, int format);

// A number 1..99 in Chinese numerals, as a month or a day is written: 9 九, 10 十, 17 十七, 20 二十, 27 二十七.
std::string zh_number(int n);

// n unique questions: a date uniform in 1970-01-01 .. 2029-12-31 in one of the formats above, chosen
// uniformly; answer the ISO date. Every question fits in kZhDateQuestionWidth characters.
std::vector<Example> make_zh_dates(int n, uint64_t seed);

}  // namespace s2a
