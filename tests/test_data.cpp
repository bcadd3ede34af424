// tests/test_data.cpp — tests of data/: the toy task generators, the vocabulary, the text format,
// the train/test split and the Batcher.
//
// The date checks do not trust the generator's own calendar: weekdays are recomputed with an independent
// formula (Sakamoto's), and ISO answers are validated by a separate little parser.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <unordered_map>

#include "data/dataset.h"
#include "data/tasks.h"
#include "data/tasks_zh.h"
#include "data/textfile.h"
#include "data/utf8.h"
#include "data/vocab.h"
#include "tests/util.h"

using namespace s2a;

namespace {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// Day of the week by Sakamoto's method, 0 = Sunday: independent of the generator's day counting.
int sakamoto_weekday(int y, int m, int d) {
    static const int t[12] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
    if (m < 3) y -= 1;
    return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

// Parses "YYYY-MM-DD" into y, m, d; false unless it is exactly that shape and a real date of 1970..2029.
bool parse_iso(const std::string& s, int& y, int& m, int& d) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    y = std::stoi(s.substr(0, 4));
    m = std::stoi(s.substr(5, 2));
    d = std::stoi(s.substr(8, 2));
    static const int kDays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || y > 2029 || m < 1 || m > 12 || d < 1) return false;
    return d <= (m == 2 && !leap ? 28 : kDays[m - 1]);
}

// The row r of a (B, T) index tensor as a string.
std::string row_text(const IndexTensor& t, int r, const Vocab& vocab) {
    const int T = t.shape[1];
    return vocab.decode(std::vector<int>(t.data.begin() + r * T, t.data.begin() + (r + 1) * T));
}

// A Chinese date question read back by a parser of its own (it shares nothing with the generator): the date
// it names, and its weekday (0 = Sunday), or -1 if it names none. False if the question cannot be read.
struct ZhDate {
    int year = 0, month = 0, day = 0, weekday = -1;
};
bool parse_zh_date(const std::string& question, ZhDate& out) {
    const std::u32string q = utf8_decode(question);
    const std::u32string digits = U"〇一二三四五六七八九";
    // A number written in Arabic digits, digit by digit in Chinese ("九四"), or as a Chinese numeral ("二十七").
    auto number = [&](const std::u32string& text, bool by_digit) {
        if (text.empty()) return -1;
        int value = 0;
        if (text[0] >= U'0' && text[0] <= U'9') {
            for (char32_t c : text) {
                if (c < U'0' || c > U'9') return -1;
                value = 10 * value + static_cast<int>(c - U'0');
            }
            return value;
        }
        const size_t ten = text.find(U'十');
        if (by_digit || ten == std::u32string::npos) {
            for (char32_t c : text) {
                if (digits.find(c) == std::u32string::npos) return -1;
                value = 10 * value + static_cast<int>(digits.find(c));
            }
            return value;
        }
        const int tens = ten == 0 ? 1 : static_cast<int>(digits.find(text[0]));  // 十七: one ten
        const int units = ten + 1 < text.size() ? static_cast<int>(digits.find(text[ten + 1])) : 0;
        return 10 * tens + units;
    };
    // The weekday after 星期, 周 or 礼拜: 日 or 天 is Sunday, 一 .. 六 Monday .. Saturday.
    for (const std::u32string& word : {std::u32string(U"星期"), std::u32string(U"周"), std::u32string(U"礼拜")}) {
        const size_t at = q.find(word);
        if (at == std::u32string::npos || at + word.size() >= q.size()) continue;
        const char32_t w = q[at + word.size()];
        out.weekday = (w == U'日' || w == U'天') ? 0 : static_cast<int>(digits.find(w));
    }
    const size_t comma = q.find(U'，');
    const size_t start = comma == std::u32string::npos ? 0 : comma + 1;  // "星期二，1994年…"
    const size_t y = q.find(U'年'), m = q.find(U'月'), d = q.find_first_of(U"日号", m);
    if (y == std::u32string::npos || m == std::u32string::npos || d == std::u32string::npos) return false;
    const std::u32string year = q.substr(start, y - start);
    out.year = number(year, true);
    if (year.size() == 2) out.year += out.year >= 70 ? 1900 : 2000;
    out.month = number(q.substr(y + 1, m - y - 1), false);
    out.day = number(q.substr(m + 1, d - m - 1), false);
    return out.year > 0 && out.month > 0 && out.day > 0;
}

bool same_examples(const std::vector<Example>& a, const std::vector<Example>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].question != b[i].question || a[i].answer != b[i].answer) return false;
    return true;
}

}  // namespace

// ---------------------------------------------------------------- generators

TEST_CASE("data: generators are deterministic per seed") {
    CHECK(same_examples(make_addition(500, 1), make_addition(500, 1)));
    CHECK_FALSE(same_examples(make_addition(500, 1), make_addition(500, 2)));
    CHECK(same_examples(make_dates(500, 1), make_dates(500, 1)));
    CHECK_FALSE(same_examples(make_dates(500, 1), make_dates(500, 2)));
    CHECK(make_addition(0, 1).empty());
    CHECK_THROWS(make_addition(-1, 1));
    CHECK_THROWS(make_dates(1000000, 1));
}

TEST_CASE("data: copy strings are their own answers, of the lengths and letters asked for") {
    for (int letters : {2, 10, 26}) {
        INFO("letters ", letters);
        std::set<char> seen;
        for (const Example& e : make_copy(2000, 4, 60, 3, letters)) {
            CHECK(e.answer == e.question);
            CHECK(e.question.size() >= 4);
            CHECK(e.question.size() <= 60);
            seen.insert(e.question.begin(), e.question.end());
        }
        CHECK(seen.size() == size_t(letters));  // every letter a.. used, none beyond
        CHECK(*seen.rbegin() == char('a' + letters - 1));
    }
    CHECK(same_examples(make_copy(500, 4, 36, 1), make_copy(500, 4, 36, 1, kCopyLetters)));  // a..j by default
    CHECK_THROWS(make_copy(10, 4, 60, 1, 0));
    CHECK_THROWS(make_copy(10, 4, 60, 1, 27));
}

TEST_CASE("data: addition questions are unique and answers are the sums") {
    const std::vector<Example> ex = make_addition(20000, 7);
    std::set<std::string> questions;
    for (const Example& e : ex) {
        questions.insert(e.question);
        const size_t plus = e.question.find('+');
        REQUIRE(plus != std::string::npos);
        const int a = std::stoi(e.question.substr(0, plus));
        const int b = std::stoi(e.question.substr(plus + 1));
        CHECK(a >= 0);
        CHECK(a <= 999);
        CHECK(b >= 0);
        CHECK(b <= 999);
        CHECK(e.answer == std::to_string(a + b));
    }
    CHECK(questions.size() == ex.size());
    CHECK(max_len(ex, false) == kAdditionQuestionWidth);
    CHECK(max_len(ex, true) == kAdditionAnswerWidth);
}

TEST_CASE("data: the calendar agrees with an independent weekday formula") {
    const int num_days = days_since_1970(Date{2030, 1, 1});
    CHECK(num_days == 60 * 365 + 15);  // 15 leap days: 1972, 1976, ..., 2028
    for (int days = 0; days < num_days; ++days) {
        const Date d = date_from_days(days);
        REQUIRE(days_since_1970(d) == days);
        int y = 0, m = 0, day = 0;
        REQUIRE(parse_iso(iso_date(d), y, m, day));
        REQUIRE(weekday(d) == sakamoto_weekday(y, m, day));
    }
}

TEST_CASE("data: date formats of Tuesday 1994-09-27") {
    const std::vector<std::string> expected = {
        "september 27, 1994", "September 27, 1994", "SEPTEMBER 27, 1994",          "sep 27, 1994",
        "Sep 27, 1994",       "SEP 27, 1994",       "Sep. 27, 1994",               "september 27 1994",
        "9/27/94",            "09/27/1994",         "9/27/1994",                   "27 September 1994",
        "27 sep 1994",        "27 Sep 1994",        "27 SEPTEMBER 1994",           "tuesday, september 27, 1994",
        "Tuesday, September 27, 1994",              "TUESDAY, SEPTEMBER 27, 1994", "Tue, Sep 27, 1994",
        "1994.09.27",         "27.09.1994",         "September 27th, 1994"};
    REQUIRE(static_cast<int>(expected.size()) == kNumDateFormats);
    for (int f = 0; f < kNumDateFormats; ++f) CHECK(format_date(Date{1994, 9, 27}, f) == expected[f]);
    // Single-digit days and months, a 2000s two-digit year, and the ordinal suffixes.
    CHECK(format_date(Date{2005, 3, 1}, 8) == "3/1/05");
    CHECK(format_date(Date{2005, 3, 1}, 9) == "03/01/2005");
    CHECK(format_date(Date{2005, 3, 1}, 20) == "01.03.2005");
    CHECK(format_date(Date{2005, 3, 1}, 21) == "March 1st, 2005");
    CHECK(format_date(Date{2005, 3, 12}, 21) == "March 12th, 2005");
    CHECK(format_date(Date{2005, 3, 23}, 21) == "March 23rd, 2005");
    CHECK(format_date(Date{1970, 1, 1}, 15) == "thursday, january 1, 1970");
    CHECK_THROWS(format_date(Date{1994, 9, 27}, kNumDateFormats));
}

TEST_CASE("data: every possible date question fits 29 characters and names one date") {
    // All 21,915 days in all formats: a question must never stand for two different answers.
    std::unordered_map<std::string, std::string> answer_of;
    int longest = 0;
    const int num_days = days_since_1970(Date{2030, 1, 1});
    for (int days = 0; days < num_days; ++days) {
        const Date d = date_from_days(days);
        for (int f = 0; f < kNumDateFormats; ++f) {
            const std::string q = format_date(d, f);
            longest = std::max(longest, static_cast<int>(q.size()));
            const auto [it, inserted] = answer_of.emplace(q, iso_date(d));
            if (!inserted) REQUIRE_MESSAGE(it->second == iso_date(d), q);
        }
    }
    CHECK(longest == kDateQuestionWidth);
}

TEST_CASE("data: date questions are unique, answers valid, weekdays right") {
    const std::vector<Example> ex = make_dates(20000, 3);
    const char* const weekdays[7] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
    std::set<std::string> questions;
    int with_weekday = 0;
    for (const Example& e : ex) {
        questions.insert(e.question);
        CHECK(static_cast<int>(e.question.size()) <= kDateQuestionWidth);
        int y = 0, m = 0, d = 0;
        REQUIRE_MESSAGE(parse_iso(e.answer, y, m, d), e.answer);
        // The year is in the question, in four digits or (format 8) in the last two.
        CHECK((contains(e.question, std::to_string(y)) || contains(e.question, fmt::format("/{:02}", y % 100))));
        // A question that names a weekday names the real one (short "Tue" or long "tuesday").
        const std::string head = lower(e.question.substr(0, e.question.find(',')));  // "tuesday" or "tue"
        for (int w = 0; w < 7; ++w) {
            if (head != weekdays[w] && head != std::string(weekdays[w], 3)) continue;
            ++with_weekday;
            CHECK_MESSAGE(w == sakamoto_weekday(y, m, d), e.question, " -> ", e.answer);
        }
    }
    CHECK(questions.size() == ex.size());
    CHECK(with_weekday > 1000);  // 4 of 22 formats carry a weekday
    CHECK(max_len(ex, true) == kDateAnswerWidth);
}

// ---------------------------------------------------------------- the Chinese dates

TEST_CASE("data: Chinese numerals") {
    const std::vector<std::pair<int, const char*>> cases = {{1, "一"},    {9, "九"},    {10, "十"},    {11, "十一"},
                                                            {17, "十七"}, {20, "二十"}, {27, "二十七"}, {31, "三十一"}};
    for (const auto& [n, text] : cases) CHECK(zh_number(n) == text);
    CHECK_THROWS(zh_number(0));
    CHECK_THROWS(zh_number(100));
}

TEST_CASE("data: Chinese date formats of Tuesday 1994-09-27, and of a Sunday in 2005") {
    const Date d{1994, 9, 27};
    const std::vector<std::string> expected = {
        "一九九四年九月二十七日", "一九九四年九月二十七号", "九四年九月二十七日", "九四年九月二十七号", "1994年9月27日",
        "1994年09月27日", "1994年9月27号", "94年9月27日", "1994年9月27日星期二", "一九九四年九月二十七日星期二",
        "1994年9月27日周二", "1994年9月27日（星期二）", "星期二，1994年9月27日", "九四年九月二十七号礼拜二"};
    REQUIRE(expected.size() == static_cast<size_t>(kNumZhDateFormats));
    for (int f = 0; f < kNumZhDateFormats; ++f) CHECK(format_zh_date(d, f) == expected[f]);
    const Date sunday{2005, 1, 2};
    CHECK(format_zh_date(sunday, 0) == "二〇〇五年一月二日");
    CHECK(format_zh_date(sunday, 7) == "05年1月2日");
    CHECK(format_zh_date(sunday, 8) == "2005年1月2日星期日");
    CHECK(format_zh_date(sunday, 13) == "〇五年一月二号礼拜天");
    CHECK_THROWS(format_zh_date(d, kNumZhDateFormats));
}

TEST_CASE("data: every Chinese date question fits its width, reads back as its date, and names one date") {
    const int num_days = days_since_1970(Date{2030, 1, 1});
    std::unordered_map<std::string, int> day_of;  // question -> the day it was written for
    int widest = 0, conflicts = 0, unreadable = 0, wrong = 0;
    for (int day = 0; day < num_days; ++day) {
        const Date date = date_from_days(day);
        for (int f = 0; f < kNumZhDateFormats; ++f) {
            const std::string q = format_zh_date(date, f);
            widest = std::max(widest, static_cast<int>(utf8_length(q)));
            const auto [it, fresh] = day_of.emplace(q, day);
            conflicts += !fresh && it->second != day;
            ZhDate read;
            if (!parse_zh_date(q, read)) {
                ++unreadable;
                continue;
            }
            const bool weekday_ok = read.weekday < 0 || read.weekday == sakamoto_weekday(date.year, date.month, date.day);
            wrong += read.year != date.year || read.month != date.month || read.day != date.day || !weekday_ok;
        }
    }
    CHECK(widest == kZhDateQuestionWidth);
    CHECK(conflicts == 0);
    CHECK(unreadable == 0);
    CHECK(wrong == 0);
}

TEST_CASE("data: Chinese date questions are unique and deterministic, answers valid") {
    const std::vector<Example> ex = make_zh_dates(20000, 3);
    CHECK(same_examples(ex, make_zh_dates(20000, 3)));
    CHECK_FALSE(same_examples(make_zh_dates(500, 1), make_zh_dates(500, 2)));
    std::set<std::string> questions;
    int with_weekday = 0;
    for (const Example& e : ex) {
        questions.insert(e.question);
        int y = 0, m = 0, d = 0;
        REQUIRE_MESSAGE(parse_iso(e.answer, y, m, d), e.answer);
        ZhDate read;
        REQUIRE_MESSAGE(parse_zh_date(e.question, read), e.question);
        CHECK_MESSAGE((read.year == y && read.month == m && read.day == d), e.question, " -> ", e.answer);
        with_weekday += read.weekday >= 0;
    }
    CHECK(questions.size() == ex.size());
    CHECK(with_weekday > 5000);  // 6 of 14 formats carry a weekday
    CHECK(max_len(ex, false) <= kZhDateQuestionWidth);
    CHECK_THROWS(make_zh_dates(-1, 1));
}

TEST_CASE("data: the Chinese dates load by name, pad in characters and batch") {
    const TextData data = load_or_generate("zh-dates", "", 300, 1);
    REQUIRE(data.size() == 300);
    for (int i = 0; i < data.size(); ++i) {
        CHECK(utf8_length(data.questions[i]) == static_cast<size_t>(kZhDateQuestionWidth));
        CHECK(utf8_length(data.answers[i]) == static_cast<size_t>(kDateAnswerWidth + 1));
    }
    const Vocab vocab = make_vocab(data);
    CHECK(vocab.contains(U'年'));
    CHECK(vocab.id(' ') == 0);  // ASCII first, in sorted order, then the Chinese characters
    CHECK(vocab.ch(vocab.size() - 1) != "_");
    const Batcher batches(data, vocab, 64, true);
    CHECK(batches.source_len() == kZhDateQuestionWidth);
    CHECK(batches.target_len() == kDateAnswerWidth + 1);
    CHECK(row_text(batches.batch(0).tgt, 0, vocab) == data.answers[0]);

    const TempDir tmp("zh");  // the textbook format holds it: written, read back unchanged
    write_text(tmp.file("zh.txt"), data);
    const TextData back = read_text(tmp.file("zh.txt"));
    CHECK(back.questions == data.questions);
    CHECK(back.answers == data.answers);
    CHECK(contains(error_of([] { load_or_generate("klingon-dates", "", 10, 1); }), "zh-dates"));
}

// ---------------------------------------------------------------- vocabulary

TEST_CASE("data: vocab ids follow sorted characters and round-trip") {
    const Vocab v = Vocab::from_texts({"16+75  ", "_91  "});
    CHECK(v.chars() == " +15679_");
    CHECK(v.size() == 8);
    CHECK(v.id(' ') == 0);
    CHECK(v.id('_') == 7);
    CHECK(v.ch(1) == "+");
    CHECK(v.contains('9'));
    CHECK_FALSE(v.contains('8'));
    CHECK_FALSE(v.contains(static_cast<char>(200)));
    CHECK(v.decode(v.encode("75+16 _")) == "75+16 _");
    CHECK_THROWS(v.ch(8));
    CHECK_THROWS(Vocab::from_texts({"tab\there"}));
    CHECK_FALSE(Vocab().contains('a'));
    CHECK(Vocab().size() == 0);
}

// The ids of ASCII data are what they were when the vocabulary held ASCII only (measured with that code, on
// the chapters' default sets): sorted character order, so a checkpoint trained then still reads the same.
TEST_CASE("data: ASCII vocabularies keep their ids") {
    const std::vector<std::pair<const char*, const char*>> expected = {
        {"dates", " ,-./0123456789ABCDEFGHIJLMNOPRSTUVWY_abcdefghijlmnoprstuvwy"},
        {"addition", " +0123456789_"},
        {"copy", " _abcdefghij"},
    };
    for (const auto& [task, chars] : expected) {
        const Vocab v = make_vocab(split(load_or_generate(task, "", 50000, 1), 5000, 1).train);
        CAPTURE(task);
        CHECK(v.chars() == chars);
        for (int id = 0; id < v.size(); ++id) CHECK(v.id(static_cast<unsigned char>(chars[id])) == id);
    }
    CHECK(make_vocab(split(load_or_generate("dates", "", 50000, 1), 5000, 1).train).id('_') == 37);
}

TEST_CASE("data: unknown characters are reported, never mapped") {
    const Vocab v = Vocab::from_texts({"0123456789+"});
    CHECK(contains(error_of([&] { v.id('x'); }), "'x'"));
    CHECK(contains(error_of([&] { v.id('\t'); }), "code 9"));
    const std::string msg = error_of([&] { v.encode("12-3"); });
    CHECK(contains(msg, "'-'"));
    CHECK(contains(msg, "\"12-3\""));
    CHECK(contains(error_of([&] { v.encode("1\n"); }), "code 10"));
}

// ---------------------------------------------------------------- text format

TEST_CASE("data: pad to the widest, or to given widths") {
    const std::vector<Example> ex = {{"16+75", "91"}, {"999+1", "1000"}, {"1+2", "3"}};
    const TextData a = pad(ex);
    CHECK(a.questions == std::vector<std::string>{"16+75", "999+1", "1+2  "});
    CHECK(a.answers == std::vector<std::string>{"_91  ", "_1000", "_3   "});
    const TextData b = pad(ex, kAdditionQuestionWidth, kAdditionAnswerWidth);
    CHECK(b.questions[0] == "16+75  ");
    CHECK(b.answers[0] == "_91  ");
    CHECK(b.size() == 3);
    CHECK(contains(error_of([&] { pad(ex, 4, 4); }), "example 0"));
    CHECK_THROWS(pad({{"a_b", "1"}}, 7, 4));
    CHECK_THROWS(pad({{"1+1", ""}}, 7, 4));
    CHECK_THROWS(pad({{"1\t1", "2"}}, 7, 4));
}

TEST_CASE("data: write then read gives the same data") {
    const TempDir tmp("data");
    const std::string path = tmp.file("addition.txt");
    const TextData data = pad(make_addition(1000, 5), kAdditionQuestionWidth, kAdditionAnswerWidth);
    write_text(path, data);
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
    const TextData back = read_text(path);
    CHECK(back.questions == data.questions);
    CHECK(back.answers == data.answers);

    // The line format itself: question, '_', answer, one a line.
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    CHECK(first == data.questions[0] + data.answers[0]);

    const TextData dates = pad(make_dates(1000, 5), kDateQuestionWidth, kDateAnswerWidth);
    write_text(path, dates);  // replaces the old file
    CHECK(read_text(path).questions == dates.questions);
}

TEST_CASE("data: read_text accepts CRLF and a missing final newline") {
    const TempDir tmp("data");
    for (const std::string& content : {std::string("1+2  _3 \r\n10+2 _12\r\n"), std::string("1+2  _3 \n10+2 _12")}) {
        const TextData t = read_text(tmp.write("ok.txt", content));
        REQUIRE(t.size() == 2);
        CHECK(t.questions[0] == "1+2  ");
        CHECK(t.answers[0] == "_3 ");
        CHECK(t.questions[1] == "10+2 ");
        CHECK(t.answers[1] == "_12");
    }
}

TEST_CASE("data: malformed files give file:line: what") {
    struct Bad {
        std::string content;
        std::string at;  // "LINE", or "LINE:COLUMN" when one character is at fault
        std::string what;
    };
    const TempDir tmp("data");
    const std::vector<Bad> cases = {
        {"", "1", "empty file"},
        {"1+2  _3 \n10+2  12\n", "2", "no '_'"},
        {"1+2  _3 \n10+2_12\n", "2", "question is 4 characters wide, but the first line's is 5"},
        {"1+2  _3 \n10+2 _12 \n", "2", "answer is 3 characters wide, but the first line's is 2"},
        {"1+2  _3 \n\n10+2 _12\n", "2", "blank line between examples"},
        {"1+2  _3 \n  \r\n\n10+2 _12\n", "2", "blank line between examples"},  // the first blank one is named
        {"\n1+2  _3 \n", "1", "blank line between examples"},
        {"\n \n", "1", "no examples, only blank lines"},
        {"1+2  _3 \n1\t2  _3 \n", "2:2", "non-printable character (code 9)"},
        {"1+2  _3 \n1\xc3" "2  _3 \n", "2:2", "invalid UTF-8: character cut short: c3 starts 2 bytes, but only c3 came"},  // 'é' without its 2nd byte
        {"1+2  _3 \n\xc3\xa9\xc3\xa9\xe5\xb9_3 \n", "2:3", "invalid UTF-8"},              // "éé" then 2 of '年''s 3 bytes
        {"1+2  _3 \n" + std::string(5000, '1') + "_3 \n", "2", "line is longer than 4096 bytes, the limit"},
        {"1+2  _3 \n1+3  _  \n", "2", "empty answer"},
        {"1+2  _3 \n     _4 \n", "2", "empty question"},
        {"1+2  _\n", "1", "empty answer"},
    };
    for (size_t k = 0; k < cases.size(); ++k) {
        const std::string name = fmt::format("bad{}.txt", k);
        const std::string path = tmp.write(name, cases[k].content);
        const std::string msg = error_of([&] { read_text(path); });
        CAPTURE(msg);
        CHECK(contains(msg, fmt::format("{}:{}: ", path, cases[k].at)));
        CHECK(contains(msg, name));
        CHECK(contains(msg, cases[k].what));
    }
    const std::string missing = tmp.file("no_such_file.txt");
    const std::string msg = error_of([&] { read_text(missing); });
    CHECK(contains(msg, missing));
    CHECK(contains(msg, "no such file"));
}

TEST_CASE("data: any number of blank lines may end a file") {
    const TempDir tmp("data");
    for (const std::string& end : {std::string("\n\n\n"), std::string("\r\n\r\n\r\n"), std::string("\n   \n\n")}) {
        CAPTURE(end);
        const TextData t = read_text(tmp.write("ends_blank.txt", "1+2  _3 \n10+2 _12" + end));
        CHECK(t.questions == std::vector<std::string>{"1+2  ", "10+2 "});
        CHECK(t.answers == std::vector<std::string>{"_3 ", "_12"});
    }
}

TEST_CASE("data: lines and files past the limits are refused with file:line and the limit") {
    const TempDir tmp("data");
    const std::string q(kMaxLineBytes - 3, '1');  // "q_ab" is exactly kMaxLineBytes wide

    // At the limit a line loads, with \n or \r\n; one byte more is refused.
    CHECK(read_text(tmp.write("at_limit.txt", q + "_ab\n" + q + "_ab\r\n")).size() == 2);
    const std::string over = tmp.write("over.txt", q + "_ab\n" + q + "1_ab\n");
    CHECK(contains(error_of([&] { read_text(over); }), over + ":2: line is longer than 4096 bytes, the limit"));

    // Two 3 MB lines (within the file limit): refused at the first, after reading only kMaxLineBytes + 2 bytes of it.
    const std::string huge(1'500'000, '7');
    const std::string two_huge = tmp.write("huge.txt", huge + "_" + huge + "\n" + huge + "_" + huge + "\n");
    CHECK(contains(error_of([&] { read_text(two_huge); }), two_huge + ":1: line is longer than 4096 bytes"));

    // pad would make every example as wide as the widest: it refuses before allocating anything.
    const std::string msg = error_of([&] { pad({{"1+1", "2"}, {huge, "3"}}); });
    CHECK(contains(msg, "pad: question width 1500000"));
    CHECK(contains(msg, "4096"));
    CHECK_THROWS(pad({{"1+1", "2"}}, kMaxLineBytes, 4));
    CHECK(pad({{"1+1", "2"}}, kMaxLineBytes - 5, 4).questions[0].size() == kMaxLineBytes - 5);

    // A file past kMaxTextFileBytes is refused before any of it is read (a sparse file: nothing is written).
    const std::string big = tmp.file("big.txt");
    std::filesystem::resize_file(tmp.write("big.txt", "1+2  _3 \n"), kMaxTextFileBytes + 1);
    const std::string big_msg = error_of([&] { read_text(big); });
    CHECK(contains(big_msg, fmt::format("{}: {} bytes, more than the limit of a data file ({} bytes)", big,
                                        kMaxTextFileBytes + 1, kMaxTextFileBytes)));

    // What write_text writes must read back, so it refuses a file past the limit too.
    TextData many;
    const int lines = static_cast<int>(kMaxTextFileBytes / (q.size() + 4)) + 1;
    many.questions.assign(lines, q);
    many.answers.assign(lines, "_ab");
    CHECK(contains(error_of([&] { write_text(big, many); }),
                   fmt::format("more than the limit of a data file ({} bytes)", kMaxTextFileBytes)));
}

TEST_CASE("data: write_text refuses data that would not read back") {
    const TempDir tmp("data");
    const std::string path = tmp.file("refused.txt");
    CHECK_THROWS(write_text(path, TextData{}));
    CHECK_THROWS(write_text(path, TextData{{"1+2"}, {"3"}}));                   // no '_' before the answer
    CHECK_THROWS(write_text(path, TextData{{"1+2", "10+2"}, {"_3 ", "_12"}}));  // widths differ
    CHECK_THROWS(write_text(path, TextData{{"1+2"}, {"_3", "_4"}}));            // counts differ
}

// ---------------------------------------------------------------- split and batches

TEST_CASE("data: split sizes and determinism") {
    const TextData data = pad(make_addition(1000, 11));
    const Split a = split(data, 100, 42);
    CHECK(a.train.size() == 900);
    CHECK(a.test.size() == 100);
    CHECK(a.test.answers.size() == 100);
    const Split b = split(data, 100, 42);
    CHECK(a.test.questions == b.test.questions);
    CHECK(a.train.answers == b.train.answers);
    CHECK(split(data, 100, 43).test.questions != a.test.questions);

    // Train and test together are exactly the original examples, still paired.
    std::set<std::string> all, parts;
    for (int i = 0; i < data.size(); ++i) all.insert(data.questions[i] + data.answers[i]);
    for (const TextData* part : {&a.train, &a.test})
        for (int i = 0; i < part->size(); ++i) parts.insert(part->questions[i] + part->answers[i]);
    CHECK(parts == all);

    CHECK(split(data, 0, 1).train.size() == 1000);
    CHECK(split(data, 1000, 1).test.size() == 1000);
    CHECK_THROWS(split(data, -1, 1));
    CHECK_THROWS(split(data, 1001, 1));
}

TEST_CASE("data: the vocabulary covers the whole file, whatever the seed") {
    // 60 lines over digits, and line 23 with the only 'x': for some seeds it lands in the test part.
    const TempDir tmp("data_vocab");
    std::string content;
    for (int i = 0; i < 60; ++i) content += fmt::format("{:03}_{}\n", i, i == 22 ? "x" : "1");
    const std::string path = tmp.write("rare.txt", content);
    const TextData data = read_text(path);

    int seeds_with_x_in_test = 0;
    for (uint64_t seed = 1; seed <= 20; ++seed) {
        CAPTURE(seed);
        const Split sets = split(data, 20, seed);
        const Vocab vocab = make_vocab(sets.train);
        CHECK(vocab.chars() == " 0123456789_x");
        CHECK_NOTHROW(Batcher(sets.test, vocab, 8, true));
        for (const std::string& a : sets.test.answers) seeds_with_x_in_test += a == "_x";
    }
    CHECK(seeds_with_x_in_test > 0);  // the case that used to fail did occur

    // The parts still know where each example came from.
    const Split sets = split(data, 20, 1);
    for (const TextData* part : {&sets.train, &sets.test})
        for (int i = 0; i < part->size(); ++i)
            CHECK(part->where(i) == fmt::format("{}:{}", path, std::stoi(part->questions[i]) + 1));
}

TEST_CASE("data: an unknown character names the file and the line") {
    const TempDir tmp("data_unknown");
    const std::string path = tmp.write("letters.txt", "000_1\n001_1\n002_x\n");
    const Vocab digits = Vocab::from_texts({"0123456789_"});
    const std::string msg = error_of([&] { Batcher(read_text(path), digits, 2, false); });
    CHECK(contains(msg, path + ":3: "));
    CHECK(contains(msg, "unknown character 'x'"));
    // After a split the line is still the file's.
    const Split sets = split(read_text(path), 1, 3);
    const std::string part_msg = error_of([&] {
        Batcher(sets.train, digits, 2, false);
        Batcher(sets.test, digits, 2, false);
    });
    CHECK(contains(part_msg, path + ":3: "));
    // Generated examples have no file: the message names the example.
    CHECK(contains(error_of([&] { Batcher(pad({{"1", "x"}}), digits, 2, false); }), "example 0: "));
}

TEST_CASE("data: the vocabulary always holds the padding space") {
    // Every line of this file is full width: no space anywhere, yet ' ' gets an id to pad with.
    const TempDir tmp("data_nospace");
    const TextData data = read_text(tmp.write("nospace.txt", "abc_cba\nbca_acb\ncab_bac\n"));
    const Vocab vocab = make_vocab(data);
    CHECK(vocab.chars() == " _abc");
    CHECK(vocab.id(' ') == 0);
    CHECK(make_vocab(split(data, 1, 1).train).id(kPadding) == 0);

    // Data that holds a space keeps the ids its texts give, so the chapters' default runs are unchanged.
    for (const char* task : {"addition", "dates", "copy"}) {
        CAPTURE(task);
        const Split sets = split(load_or_generate(task, "", 5000, 1), 500, 1);
        std::vector<std::string> texts = sets.train.questions;
        texts.insert(texts.end(), sets.train.answers.begin(), sets.train.answers.end());
        CHECK(make_vocab(sets.train).chars() == Vocab::from_texts(texts).chars());
    }
}

TEST_CASE("data: Batcher shapes, reversal and the last partial batch") {
    const TextData data = pad({{"1+2", "3"}, {"16+75", "91"}, {"999+1", "1000"}, {"5+5", "10"}, {"0+0", "0"}});
    const Vocab vocab = make_vocab(data);
    const Batcher plain(data, vocab, 2, false);
    const Batcher reversed(data, vocab, 2, true);
    CHECK(plain.size() == 5);
    CHECK(plain.num_batches() == 3);
    CHECK(plain.source_len() == 5);
    CHECK(plain.target_len() == 5);

    const Batch b0 = plain.batch(0);
    CHECK(b0.src.shape.ndim == 2);
    CHECK(b0.src.shape[0] == 2);
    CHECK(b0.src.shape[1] == 5);
    CHECK(b0.tgt.shape[0] == 2);
    CHECK(b0.tgt.shape[1] == 5);
    CHECK(row_text(b0.src, 1, vocab) == "16+75");
    CHECK(row_text(b0.tgt, 1, vocab) == "_91  ");

    const Batch r0 = reversed.batch(0);
    CHECK(row_text(r0.src, 0, vocab) == "  2+1");  // padding reversed too
    CHECK(row_text(r0.tgt, 0, vocab) == "_3   ");  // targets never reversed

    const Batch last = plain.batch(2);
    CHECK(last.src.shape[0] == 1);
    CHECK(last.tgt.shape[0] == 1);
    CHECK(last.src.numel() == 5);
    CHECK(row_text(last.src, 0, vocab) == "0+0  ");
    CHECK_THROWS(plain.batch(3));
    CHECK_THROWS(plain.batch(-1));

    CHECK_THROWS(Batcher(data, vocab, 0, false));
    CHECK_THROWS(Batcher(TextData{}, vocab, 2, false));
    const Vocab digits_only = Vocab::from_texts({"0123456789"});
    CHECK(contains(error_of([&] { Batcher(data, digits_only, 2, false); }), "'+'"));
}

TEST_CASE("data: Batcher shuffles deterministically and keeps every example") {
    const TextData data = pad(make_addition(50, 9));
    const Vocab vocab = make_vocab(data);
    Batcher a(data, vocab, 8, false), b(data, vocab, 8, false), c(data, vocab, 8, false);
    Rng ra(42), rb(42), rc(43);
    a.shuffle(ra);
    b.shuffle(rb);
    c.shuffle(rc);

    bool c_differs = false;
    std::multiset<std::string> seen;
    for (int i = 0; i < a.num_batches(); ++i) {
        const Batch ba = a.batch(i), bb = b.batch(i), bc = c.batch(i);
        CHECK(ba.src.data == bb.src.data);
        CHECK(ba.tgt.data == bb.tgt.data);
        c_differs = c_differs || ba.src.data != bc.src.data;
        for (int r = 0; r < ba.src.shape[0]; ++r)
            seen.insert(row_text(ba.src, r, vocab) + row_text(ba.tgt, r, vocab));
    }
    CHECK(c_differs);
    std::multiset<std::string> all;
    for (int i = 0; i < data.size(); ++i) all.insert(data.questions[i] + data.answers[i]);
    CHECK(seen == all);  // a permutation: every example once, question still paired with its answer
}
