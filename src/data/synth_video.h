// Small real video files for the synthetic crawl: a coloured scene with texture and a moving bar (FFmpeg, MPEG-4).
#pragma once
#include <cstdint>
#include <string>

namespace spir {

// What a synthetic video looks like. Every frame: a background of one colour (hue, saturation, brightness), a
// fixed texture over it, and, when motion > 0, a vertical bar of the complementary hue crossing the frame.
struct SyntheticVideoLook {
  int width = 96, height = 64;  // even sizes (4:2:0 chroma)
  double fps = 10;              // frames per second
  double duration_s = 3;        // length in seconds (at least one frame)
  double hue = 0.0;             // background hue in [0, 1): 0 red, 1/3 green, 2/3 blue
  double saturation = 0.6;      // background saturation in [0, 1] (0 = grey)
  double brightness = 0.5;      // background value (HSV) in [0, 1]
  double motion = 0.0;          // bar speed in frame widths per second (0 = no bar: a still picture)
  double texture = 0.0;         // amplitude in [0, 1] of a fixed noise pattern on the value channel (0 = flat)
  uint64_t seed = 1;            // seeds the texture pattern
};

// Writes the video to path: MPEG-4 Part 2 video (always built into FFmpeg) in the container named by the
// extension (".mp4" normally; an unknown extension gets MP4). Returns false with a message naming the file in
// *error (when non-null) when the look is invalid or the file cannot be written.
bool write_synthetic_mp4(const std::string& path, const SyntheticVideoLook& look, std::string* error);

}  // namespace spir
