// data/tasks_hard.cpp — the reverse and sort generators.
#include "data/tasks_hard.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "autodiff/tensor.h"  // Rng

namespace s2a {

const std::string& hard_task_alphabet() {
    static const std::string alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    return alphabet;
}

TextData pad_left(const std::vector<Example>& examples, int question_width, int answer_width) {
    std::vector<Example> right_aligned;
    for (const Example& e : examples) {
        if (static_cast<int>(e.question.size()) > question_width)
            throw std::invalid_argument(fmt::format("pad_left: question \"{}\" is longer than {}", e.question, question_width));
        right_aligned.push_back({std::string(question_width - e.question.size(), kPadding) + e.question, e.answer});
    }
    return pad(right_aligned, question_width, answer_width);  // the questions are full width already
}

std::vector<Example> make_hard_task(const std::string& task, int n, int min_len, int max_len, uint64_t seed) {
    if (task != "reverse" && task != "sort")
        throw std::invalid_argument(fmt::format("unknown task '{}' (known: reverse, sort)", task));
    if (n < 0 || min_len < 1 || max_len < min_len)
        throw std::invalid_argument(fmt::format("make_hard_task: need n >= 0 and 1 <= min_len <= max_len, got {}, {}, {}", n, min_len, max_len));
    const std::string& alphabet = hard_task_alphabet();
    Rng rng(seed);
    std::vector<Example> examples;
    examples.reserve(n);
    for (int i = 0; i < n; ++i) {
        std::string s(static_cast<size_t>(min_len + rng.randint(max_len - min_len + 1)), ' ');
        for (char& c : s) c = alphabet[rng.randint(static_cast<int>(alphabet.size()))];
        std::string answer = s;
        if (task == "reverse") std::reverse(answer.begin(), answer.end());
        else std::sort(answer.begin(), answer.end());
        examples.push_back({s, answer});
    }
    return examples;
}

}  // namespace s2a
