// Decoding a few uniformly spaced frames of a video file (FFmpeg) into RGB24 buffers, with the file's basic facts.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace spir {

// What decode_video_frames found: the stream's facts and the sampled frames.
struct DecodedVideo {
  int width = 0, height = 0;         // coded frame size of the video stream, in pixels
  double fps = 0;                    // average frame rate (metadata, else frames / duration; 0 when unknown)
  double duration_s = 0;             // duration in seconds (metadata, else estimated from the frames)
  int64_t frame_count = 0;           // frames in the stream (metadata, else counted packets, else decoded frames)
  int frame_width = 0, frame_height = 0;  // size of the buffers in frames (smaller than width × height when capped)
  std::vector<std::vector<uint8_t>> frames;  // sampled frames in time order, RGB24 row-major, frame_width*height*3
  std::vector<double> frame_times;   // presentation time of each sampled frame, seconds from the stream start
};

struct VideoDecodeOptions {
  int frames = 8;      // frames wanted, uniformly spaced over the video (fewer come back from shorter videos)
  int max_side = 0;    // > 0: frames are scaled down so that their longer side is at most this (aspect kept)
};

// Decodes opt.frames frames at the centres of opt.frames equal stretches of the video at path: frame index
// floor((k + 0.5) · frame_count / frames), k = 0 … frames − 1. Works without duration or frame-count metadata
// (counts packets first). Returns false with a message in *error (when non-null) on a file that cannot be opened,
// has no video stream, or yields no frame; *out is then cleared. Thread-safe: no shared state between calls
// (the first call lowers FFmpeg's global log level from the default to fatal, so corrupt files stay quiet).
bool decode_video_frames(const std::string& path, const VideoDecodeOptions& opt, DecodedVideo* out,
                         std::string* error);

}  // namespace spir
