// data/tasks.cpp — the addition and date generators, and the small calendar the dates need.
#include "data/tasks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <unordered_set>

#include "autodiff/tensor.h"  // Rng
#include "data/utf8.h"

namespace s2a {

// ---------------------------------------------------------------- addition

std::vector<Example> make_addition(int n, uint64_t seed) {
    // Every (a, b) pair writes a different question (no leading zeros), so there are 1000 * 1000.
    constexpr int kPossible = 1000 * 1000;
    if (n < 0 || n > kPossible)
        throw std::invalid_argument(fmt::format("make_addition: n = {} must be in 0..{}", n, kPossible));

    Rng rng(seed);
    std::unordered_set<std::string> seen;  // questions drawn so far: a repeat is drawn again
    std::vector<Example> examples;
    examples.reserve(n);
    while (static_cast<int>(examples.size()) < n) {
        const int a = rng.randint(1000);
        const int b = rng.randint(1000);
        std::string question = fmt::format("{}+{}", a, b);
        if (!seen.insert(question).second) continue;
        examples.push_back({std::move(question), fmt::format("{}", a + b)});
    }
    return examples;
}

std::vector<Example> make_copy(int n, int min_len, int max_len, uint64_t seed, int letters) {
    if (n < 0 || min_len < 1 || max_len < min_len || letters < 1 || letters > 26)
        throw std::invalid_argument(fmt::format("make_copy: need n >= 0, 1 <= min_len <= max_len and 1..26 letters, got {}, {}, {}, {}",
                                                n, min_len, max_len, letters));
    Rng rng(seed);
    std::vector<Example> examples;
    examples.reserve(n);
    for (int i = 0; i < n; ++i) {
        std::string s(static_cast<size_t>(min_len + rng.randint(max_len - min_len + 1)), ' ');
        for (char& c : s) c = static_cast<char>('a' + rng.randint(letters));
        examples.push_back({s, s});
    }
    return examples;
}

int max_len(const std::vector<Example>& examples, bool answers) {
    int longest = 0;
    for (const Example& e : examples)
        longest = std::max(longest, static_cast<int>(utf8_length(answers ? e.answer : e.question)));  // characters
    return longest;
}

// ---------------------------------------------------------------- calendar

bool is_leap_year(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

namespace {
int days_in_year(int year) { return is_leap_year(year) ? 366 : 365; }
}  // namespace

int days_in_month(int year, int month) {
    static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

// Counting whole years, then whole months, is slower than a closed formula but obviously right,
// and the dates here span only 60 years.
int days_since_1970(const Date& d) {
    if (d.year < 1970) throw std::invalid_argument(fmt::format("days_since_1970: year {} is before 1970", d.year));
    int days = 0;
    for (int y = 1970; y < d.year; ++y) days += days_in_year(y);
    for (int m = 1; m < d.month; ++m) days += days_in_month(d.year, m);
    return days + d.day - 1;
}

Date date_from_days(int days) {
    if (days < 0) throw std::invalid_argument(fmt::format("date_from_days: {} is before 1970-01-01", days));
    Date d{1970, 1, 1};
    while (days >= days_in_year(d.year)) {
        days -= days_in_year(d.year);
        ++d.year;
    }
    while (days >= days_in_month(d.year, d.month)) {
        days -= days_in_month(d.year, d.month);
        ++d.month;
    }
    d.day = days + 1;
    return d;
}

// 1970-01-01 was a Thursday (4); every day after it moves the weekday on by one.
int weekday(const Date& d) { return (days_since_1970(d) + 4) % 7; }

std::string iso_date(const Date& d) { return fmt::format("{}-{:02}-{:02}", d.year, d.month, d.day); }

// ---------------------------------------------------------------- date formats

namespace {

const char* const kMonthNames[12] = {"january", "february", "march",     "april",   "may",      "june",
                                     "july",    "august",   "september", "october", "november", "december"};
const char* const kWeekdayNames[7] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};

std::string capitalized(std::string s) {
    s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
}

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// 1st, 2nd, 3rd, 4th ... 11th, 12th, 13th ... 21st, 22nd, 23rd ... 31st
const char* ordinal_suffix(int day) {
    if (day >= 11 && day <= 13) return "th";
    switch (day % 10) {
        case 1: return "st";
        case 2: return "nd";
        case 3: return "rd";
        default: return "th";
    }
}

}  // namespace

std::string format_date(const Date& d, int format) {
    const std::string month = kMonthNames[d.month - 1];   // "september"
    const std::string mon = month.substr(0, 3);            // "sep"
    const std::string wday = kWeekdayNames[weekday(d)];   // "tuesday"
    const int day = d.day, year = d.year, yy = d.year % 100;
    switch (format) {
        case 0: return fmt::format("{} {}, {}", month, day, year);
        case 1: return fmt::format("{} {}, {}", capitalized(month), day, year);
        case 2: return fmt::format("{} {}, {}", upper(month), day, year);
        case 3: return fmt::format("{} {}, {}", mon, day, year);
        case 4: return fmt::format("{} {}, {}", capitalized(mon), day, year);
        case 5: return fmt::format("{} {}, {}", upper(mon), day, year);
        case 6: return fmt::format("{}. {}, {}", capitalized(mon), day, year);
        case 7: return fmt::format("{} {} {}", month, day, year);
        case 8: return fmt::format("{}/{}/{:02}", d.month, day, yy);
        case 9: return fmt::format("{:02}/{:02}/{}", d.month, day, year);
        case 10: return fmt::format("{}/{}/{}", d.month, day, year);
        case 11: return fmt::format("{} {} {}", day, capitalized(month), year);
        case 12: return fmt::format("{} {} {}", day, mon, year);
        case 13: return fmt::format("{} {} {}", day, capitalized(mon), year);
        case 14: return fmt::format("{} {} {}", day, upper(month), year);
        case 15: return fmt::format("{}, {} {}, {}", wday, month, day, year);
        case 16: return fmt::format("{}, {} {}, {}", capitalized(wday), capitalized(month), day, year);
        case 17: return fmt::format("{}, {} {}, {}", upper(wday), upper(month), day, year);
        case 18: return fmt::format("{}, {} {}, {}", capitalized(wday.substr(0, 3)), capitalized(mon), day, year);
        case 19: return fmt::format("{}.{:02}.{:02}", year, d.month, day);
        case 20: return fmt::format("{:02}.{:02}.{}", day, d.month, year);
        case 21: return fmt::format("{} {}{}, {}", capitalized(month), day, ordinal_suffix(day), year);
    }
    throw std::invalid_argument(fmt::format("format_date: format {} not in 0..{}", format, kNumDateFormats - 1));
}

std::vector<Example> make_date_examples(int n, uint64_t seed, int num_formats, DateFormat format) {
    const int num_days = days_since_1970(Date{2030, 1, 1});  // 1970-01-01 .. 2029-12-31
    // A few (date, format) pairs write the same question ("May 5, 1994" is both the full and the short
    // month name), so not all of num_days * num_formats are distinct. Asking for at most half of them keeps
    // drawing-until-unique quick and sure to finish; for the English dates it is still over 200,000.
    const int max_n = num_days * num_formats / 2;
    if (n < 0 || n > max_n) throw std::invalid_argument(fmt::format("make_dates: n = {} must be in 0..{}", n, max_n));

    Rng rng(seed);
    std::unordered_set<std::string> seen;
    std::vector<Example> examples;
    examples.reserve(n);
    while (static_cast<int>(examples.size()) < n) {
        const Date date = date_from_days(rng.randint(num_days));
        std::string question = format(date, rng.randint(num_formats));
        if (!seen.insert(question).second) continue;
        examples.push_back({std::move(question), iso_date(date)});
    }
    return examples;
}

std::vector<Example> make_dates(int n, uint64_t seed) { return make_date_examples(n, seed, kNumDateFormats, format_date); }

}  // namespace s2a
