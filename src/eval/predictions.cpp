#include "eval/predictions.h"

#include <charconv>
#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "core/json_file.h"
#include "core/line_io.h"

namespace spir {

std::string model_dir(const std::string& ds_dir, const std::string& name) { return ds_dir + "/models/" + name; }

void save_predictions(const std::string& path, const std::vector<Prediction>& predictions) {
  AtomicWriter out(path);
  out.line("sample_id,prediction");
  char buf[64];
  for (const Prediction& p : predictions) {
    std::snprintf(buf, sizeof buf, "%lld,%.6f", static_cast<long long>(p.sample_id), p.value);
    out.line(buf);
  }
  out.commit();
}

std::vector<Prediction> load_predictions(const std::string& path) {
  LineReader in(path);
  std::string_view line;
  if (!in.next(line) || line != "sample_id,prediction")
    throw InputError(path, 1, "", "bad_header", "expected the header 'sample_id,prediction'");
  std::vector<Prediction> out;
  while (in.next(line)) {
    if (line.empty()) continue;
    const size_t comma = line.find(',');
    Prediction p;
    const std::string id(line.substr(0, comma));
    const std::string value(comma == std::string_view::npos ? "" : line.substr(comma + 1));
    char* end = nullptr;
    p.sample_id = std::strtoll(id.c_str(), &end, 10);
    if (id.empty() || *end != '\0') throw InputError(path, in.line_number(), "sample_id", "bad_value", "not an integer: '" + id + "'");
    p.value = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0') throw InputError(path, in.line_number(), "prediction", "bad_value", "not a number: '" + value + "'");
    out.push_back(p);
  }
  return out;
}

void save_model_info(const std::string& dir, const nlohmann::json& info) {
  std::filesystem::create_directories(dir);
  write_json(dir + "/model.json", info);
}

nlohmann::json load_model_info(const std::string& dir) { return read_json(dir + "/model.json"); }

}  // namespace spir
