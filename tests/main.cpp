// tests/main.cpp — the doctest runner (every tests/*.cpp file adds its TEST_CASEs to this one binary).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
