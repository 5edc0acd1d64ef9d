/**
 * Images in, model inputs out: {@link dev.fovea.vit.image.ImageDecoder} (ImageIO, PIL's convert("RGB")
 * rules) → {@link dev.fovea.vit.image.RgbImage} → {@link dev.fovea.vit.image.ImageProcessor} configured by
 * a {@link dev.fovea.vit.image.PreprocessorConfig} (CLIP, LLaVA-1.5 pad, BLIP, or {@code
 * preprocessor_config.json}), resizing with {@link dev.fovea.vit.image.Resample}, PIL's resampling
 * re-implemented bit for bit. Checked against Pillow 9.4 by {@code tools/reference/image/make_reference.py}.
 */
package dev.fovea.vit.image;
