// The text encoder interface (paper Eq. 4: text node features) and the factory that picks one from a spec.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace spir {

// Turns texts into fixed-size vectors. Implementations: hash (character n-gram hashing), fasttext (trained on the
// dataset's own text), bert:DIR (a Hugging Face BERT/RoBERTa checkpoint run in LibTorch).
class TextEncoder {
 public:
  virtual ~TextEncoder() = default;
  virtual std::string name() const = 0;  // the spec it was made from, e.g. "fasttext" or "bert:/models/roberta"
  virtual int dim() const = 0;
  // Writes one row of dim() floats per text into out (texts.size() × dim(), row-major). Empty text → zeros.
  virtual void encode(const std::vector<std::string>& texts, float* out) const = 0;
};

struct TextEncoderOptions {
  std::string spec = "fasttext";  // "hash", "fasttext" or "bert:DIR"
  int dim = 128;                  // output size for hash and fasttext (bert: the checkpoint's hidden size)
  uint64_t seed = 7;
  std::string cache_dir;          // fasttext: where the trained model is cached (keyed by corpus hash + options)
  int batch_size = 32;            // bert: texts per forward pass
  int max_tokens = 128;           // bert: truncation length
};

// Makes the encoder named by opt.spec. corpus: the dataset's texts (fasttext trains on them; others ignore it).
// Throws spir::Error on an unknown spec or an unreadable checkpoint.
std::unique_ptr<TextEncoder> make_text_encoder(const TextEncoderOptions& opt, const std::vector<std::string>& corpus);

}  // namespace spir
