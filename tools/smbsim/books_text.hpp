#pragma once
// A variant's firm as its books read, in dollars: what `smbsim validate` shows so that
// an advisor can check the entry against the client's statements, whatever the input
// style (shares or USD).
#include "models/scenario/scenario.hpp"

#include <nlohmann/json.hpp>

#include <ostream>

namespace smbsim::cli {

void print_books(const scenario::Variant& variant, std::ostream& out);
nlohmann::json books_json(const scenario::Variant& variant);

}  // namespace smbsim::cli
