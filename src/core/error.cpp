#include "core/error.h"

namespace spir {

std::string format_location(const std::string& file, int64_t line, const std::string& field, const std::string& message) {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  if (!out.empty()) out += ": ";
  if (!field.empty()) out += "field '" + field + "': ";
  return out + message;
}

InputError::InputError(std::string file_, int64_t line_, std::string field_, std::string reason_, const std::string& message)
    : Error(format_location(file_, line_, field_, message)),
      file(std::move(file_)), line(line_), field(std::move(field_)), reason(std::move(reason_)) {}

}  // namespace spir
