// The video encoder interface (paper Eq. 3: video node features) and the factory that picks one from a spec.
#pragma once
#include <memory>
#include <string>

namespace spir {

// Turns one video file into a fixed-size vector. Implementations: stats (FFmpeg-decoded frame statistics) and
// vit:DIR (a Hugging Face ViT checkpoint; patch embeddings averaged as in Eq. 3).
class VideoEncoder {
 public:
  virtual ~VideoEncoder() = default;
  virtual std::string name() const = 0;
  virtual int dim() const = 0;
  // Writes dim() floats for the video at path into out; returns false (out untouched) when the file cannot be
  // decoded — the caller then stores zeros and a mask bit.
  virtual bool encode(const std::string& path, float* out) const = 0;
};

struct VideoEncoderOptions {
  std::string spec = "stats";  // "stats" or "vit:DIR"
  int frames = 8;              // uniformly spaced frames decoded per video
};

std::unique_ptr<VideoEncoder> make_video_encoder(const VideoEncoderOptions& opt);

}  // namespace spir
