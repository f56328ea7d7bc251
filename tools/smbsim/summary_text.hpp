#pragma once
// The summary of a result file for people (a terminal table with a survival curve and
// plain-language findings) and for machines (one JSON object).
#include "engine/summary.hpp"

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <string>
#include <vector>

namespace smbsim::cli {

/// A one-line survival curve from 100% to 0% in eighth-blocks, `width` characters.
std::string sparkline(const std::vector<double>& curve, int width);
/// Findings in plain words, each with its uncertainty, generated from the numbers.
std::vector<std::string> findings(const Summary& s);
void print_summary(const Summary& s, std::ostream& out);
void print_summary_json(const Summary& s, std::ostream& out);
/// The summary as JSON (what `summarize --json` prints).
nlohmann::json summary_json(const Summary& s);
/// JSON text that is valid for any input text (control characters escaped, invalid
/// UTF-8 replaced).
std::string dump_json(const nlohmann::json& j);
/// One number through a printf format ("%.1f"), shared by the text outputs.
std::string format_double(const char* format, double x);
/// "12.3%" / "$1.2M" style formatting shared by the text outputs.
std::string percent(double share, int decimals = 1);
std::string money(double usd);

}  // namespace smbsim::cli
