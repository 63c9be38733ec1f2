// JSON files beside a command's outputs: every printed figure is also written here.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace spir {

void write_json(const std::string& path, const nlohmann::json& j);  // pretty-printed, atomic
nlohmann::json read_json(const std::string& path);                   // throws Error naming the file on bad JSON

}  // namespace spir
