// Calendar dates and times as plain integers: days and seconds since 1970-01-01 (no time zones; crawl times are taken as written).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace spir {

// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t days_from_civil(int y, unsigned m, unsigned d);
// Inverse of days_from_civil.
void civil_from_days(int64_t days, int& y, unsigned& m, unsigned& d);

// Parses "YYYY-MM-DD" into a day number; nullopt when malformed or not a real date.
std::optional<int64_t> parse_date(std::string_view s);
// Parses "YYYY-MM-DD HH:MM:SS" (or "YYYY-MM-DDTHH:MM:SS") into seconds; nullopt when malformed.
std::optional<int64_t> parse_datetime(std::string_view s);

std::string format_date(int64_t day);           // "YYYY-MM-DD"
std::string format_datetime(int64_t seconds);   // "YYYY-MM-DD HH:MM:SS"

constexpr int64_t kSecondsPerDay = 86400;
// The day a time falls on (floor division, correct for times before 1970).
inline int64_t day_of(int64_t seconds) {
  return seconds >= 0 ? seconds / kSecondsPerDay : -((-seconds + kSecondsPerDay - 1) / kSecondsPerDay);
}

}  // namespace spir
