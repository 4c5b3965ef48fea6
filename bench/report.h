#pragma once
// Renders a bench run for people (a table) or for scripts (one JSON object).

#include <string>

#include "bench/load_generator.h"

namespace causeway::bench {

std::string FormatText(const BenchConfig& config, const BenchResult& result);
std::string FormatJson(const BenchConfig& config, const BenchResult& result);

// Escapes any bytes (server error messages are not necessarily UTF-8) into a
// quoted JSON string; bytes >= 0x80 become \u00XX, so the output is ASCII.
std::string JsonString(std::string_view bytes);

}  // namespace causeway::bench
