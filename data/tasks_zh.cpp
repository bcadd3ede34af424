// data/tasks_zh.cpp — Chinese numerals and the Chinese date formats.
#include "data/tasks_zh.h"

#include <fmt/format.h>

#include <stdexcept>

namespace s2a {

namespace {

// 〇 一 二 … 九: the digits as a year is read out, one by one.
const char* const kZhDigits[10] = {"〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"};

// A year (or its last two digits) digit by digit: 1994 → 一九九四, 5 with two digits → 〇五.
std::string zh_digits(int number, int digits) {
    std::string out;
    for (char c : fmt::format("{:0{}}", number, digits)) out += kZhDigits[c - '0'];
    return out;
}

// The weekday after 星期 or 周: 日 一 … 六, Sunday first as in weekday(). Spoken Chinese also says 星期天.
std::string zh_weekday(const Date& d, bool spoken) {
    const int w = weekday(d);
    if (w == 0) return spoken ? "天" : "日";
    return kZhDigits[w];
}

}  // namespace

std::string zh_number(int n) {
    if (n < 1 || n > 99) throw std::invalid_argument(fmt::format("zh_number: {} is not in 1..99", n));
    // Tens, then 十, then units: 27 = 二 十 七. A lone ten is 十 rather than 一十, and a round ten has no units.
    const int tens = n / 10, units = n % 10;
    std::string out;
    if (tens > 1) out += kZhDigits[tens];
    if (tens > 0) out += "十";
    if (units > 0) out += kZhDigits[units];
    return out;
}

std::string format_zh_date(const Date& d, int format) {
    const std::string year = zh_digits(d.year, 4), yy = zh_digits(d.year % 100, 2);  // 一九九四, 九四
    const std::string month = zh_number(d.month), day = zh_number(d.day);              // 九, 二十七
    const std::string digits = fmt::format("{}年{}月{}", d.year, d.month, d.day);      // 1994年9月27
    switch (format) {
        case 0: return fmt::format("{}年{}月{}日", year, month, day);
        case 1: return fmt::format("{}年{}月{}号", year, month, day);
        case 2: return fmt::format("{}年{}月{}日", yy, month, day);
        case 3: return fmt::format("{}年{}月{}号", yy, month, day);
        case 4: return digits + "日";
        case 5: return fmt::format("{}年{:02}月{:02}日", d.year, d.month, d.day);
        case 6: return digits + "号";
        case 7: return fmt::format("{:02}年{}月{}日", d.year % 100, d.month, d.day);
        case 8: return fmt::format("{}日星期{}", digits, zh_weekday(d, false));
        case 9: return fmt::format("{}年{}月{}日星期{}", year, month, day, zh_weekday(d, false));
        case 10: return fmt::format("{}日周{}", digits, zh_weekday(d, false));
        case 11: return fmt::format("{}日（星期{}）", digits, zh_weekday(d, true));
        case 12: return fmt::format("星期{}，{}日", zh_weekday(d, false), digits);
        case 13: return fmt::format("{}年{}月{}号礼拜{}", yy, month, day, zh_weekday(d, true));
    }
    throw std::invalid_argument(fmt::format("format_zh_date: format {} not in 0..{}", format, kNumZhDateFormats - 1));
}

std::vector<Example> make_zh_dates(int n, uint64_t seed) {
    return make_date_examples(n, seed, kNumZhDateFormats, format_zh_date);
}

}  // namespace s2a
